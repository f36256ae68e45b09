// The one source of randomness of a simulation run. Integer arithmetic on the raw
// mt19937_64 output (not std::uniform_*_distribution, whose algorithms differ between
// standard libraries) so that a seed replays identically anywhere.
#pragma once

#include <cstdint>
#include <random>

namespace raftor::sim {

class SimRandom {
 public:
  explicit SimRandom(std::uint64_t seed) : engine_(seed) {}

  std::uint64_t next() { return engine_(); }
  // Uniform in [0, n); n > 0. The modulo bias is irrelevant at these sizes.
  std::uint64_t below(std::uint64_t n) { return engine_() % n; }
  // Uniform in [lo, hi].
  std::uint64_t between(std::uint64_t lo, std::uint64_t hi) { return lo + below(hi - lo + 1); }
  // True with probability per_million / 1e6.
  bool chance(std::uint64_t per_million) { return below(1'000'000) < per_million; }

 private:
  std::mt19937_64 engine_;
};

// SplitMix64 finalizer: derives independent seeds (per node, per restart) from one seed.
inline std::uint64_t mix_seed(std::uint64_t a, std::uint64_t b) {
  std::uint64_t z = a + 0x9e3779b97f4a7c15ULL * (b + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// FNV-1a: a stable hash of payloads and of the event trace (std::hash is not specified).
inline std::uint64_t fnv1a(const void* data, std::size_t size,
                           std::uint64_t h = 0xcbf29ce484222325ULL) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < size; ++i) h = (h ^ p[i]) * 0x100000001b3ULL;
  return h;
}

inline std::uint64_t fnv1a_u64(std::uint64_t value, std::uint64_t h) {
  return fnv1a(&value, sizeof value, h);
}

}  // namespace raftor::sim
