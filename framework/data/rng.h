// Small deterministic random numbers for data order and augmentation: a stream is a pure
// function of its key (seed, epoch, sample, purpose), so results never depend on threads,
// ranks or the order in which samples are visited.
#pragma once

#include <cmath>
#include <cstdint>
#include <initializer_list>

namespace sct::data {

inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Hashes a key of several words into one seed; different keys give unrelated streams.
inline uint64_t derive_seed(std::initializer_list<uint64_t> key) {
  uint64_t state = 0x5c7d1f2a3b4e6f70ull;
  uint64_t h = 0;
  for (uint64_t k : key) {
    state ^= k + 0x632be59bd9b4e019ull + (h << 6) + (h >> 2);
    h = splitmix64(state);
  }
  return h;
}

// Purposes keep the shuffle and augmentation streams of one (seed, epoch) apart.
enum class Stream : uint64_t { kShuffle = 1, kAugment = 2, kSynth = 3 };

// xoshiro256** seeded through splitmix64.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    uint64_t s = seed;
    for (auto& w : s_) w = splitmix64(s);
  }
  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // Uniform integer in [0, n), unbiased (rejection).
  uint64_t below(uint64_t n) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t v;
    do v = next(); while (v >= limit);
    return v % n;
  }
  // Normal(mean, std) by Box-Muller; one draw per call keeps streams easy to reason about.
  double normal(double mean, double std) {
    double u1 = uniform();
    while (u1 <= 0.0) u1 = uniform();
    const double u2 = uniform();
    return mean + std * std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace sct::data
