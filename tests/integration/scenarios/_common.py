"""Puts tests/integration on sys.path so scenarios can `from harness import ...`."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
