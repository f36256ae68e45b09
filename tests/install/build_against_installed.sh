#!/usr/bin/env bash
# Installs raftor from a build tree into a temporary prefix, then builds and runs the
# custom state machine example as an outside project: find_package(raftor), link
# raftor::raftor and raftor::testing. Proves the installed CMake package is complete.
# usage: build_against_installed.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 source=$2
work=$(mktemp -d /tmp/raftor-install-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$source/examples/custom_state_machine" -B "$work/consumer" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/consumer" -j "$(nproc)" >/dev/null
"$work/consumer/document_store_test" --gtest_brief=1 --gtest_filter='-StateMachinePerf*'
