// Branch-free float helpers for the model's hand-written loops, and the CPU-feature dispatch
// those loops use. GCC vectorises loops built from them when the including file is compiled
// with -fno-trapping-math (framework/model/CMakeLists.txt sets it per file). Sums keep a fixed
// order whatever the vector width; the AVX2/AVX-512 copies may fuse multiply-adds, so their
// last bits can differ from the baseline copy's (one machine always runs the same copy).
#pragma once

#include <cstdint>
#include <cstring>

// The hand-written kernels are built for x86 (framework/model/CMakeLists.txt passes
// SCT_CPU_KERNELS from the option of that name); without them every function of
// framework/model/cpu/ takes its ATen formulation, so any architecture builds and runs.
#ifndef SCT_CPU_KERNELS
#if defined(__x86_64__) || defined(__i386__)
#define SCT_CPU_KERNELS 1
#else
#define SCT_CPU_KERNELS 0
#endif
#endif
#if SCT_CPU_KERNELS && !(defined(__x86_64__) || defined(__i386__))
#error "SCT_CPU_KERNELS needs an x86 target"
#endif

// One copy of a loop per instruction set: wrap an always_inline body in functions with these.
#if SCT_CPU_KERNELS
#define SCT_TARGET_AVX512 __attribute__((target("avx512f,avx512dq,avx2,fma")))
#define SCT_TARGET_AVX2 __attribute__((target("avx2,fma")))
#else
#define SCT_TARGET_AVX512
#define SCT_TARGET_AVX2
#endif
#define SCT_ALWAYS_INLINE __attribute__((always_inline)) inline

namespace sct::model::vmath {

enum class Isa { kBaseline, kAvx2, kAvx512 };

// From the CPU's features (not its model name), once per process.
inline Isa cpu_isa() {
  static const Isa isa = [] {
#if !SCT_CPU_KERNELS
    return Isa::kBaseline;
#else
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq")) return Isa::kAvx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::kAvx2;
    return Isa::kBaseline;
#endif
  }();
  return isa;
}

// The copy of a kernel for this CPU, from its AVX-512, AVX2 and baseline copies.
template <typename Fn>
Fn pick(Fn avx512, Fn avx2, Fn baseline) {
  switch (cpu_isa()) {
    case Isa::kAvx512: return avx512;
    case Isa::kAvx2: return avx2;
    default: return baseline;
  }
}

// e^x for x <= 0, Cephes expf: relative error about 1e-7. Arguments below -87 are clamped
// (e^-87 is still a normal float; callers only add or multiply it into larger terms).
SCT_ALWAYS_INLINE float exp_nonpositive(float x) {
  x = x < -87.f ? -87.f : x;
  // n = round(x / ln 2): adding and subtracting 1.5 * 2^23 rounds to the nearest integer.
  const float n = (x * 1.44269504088896341f + 12582912.f) - 12582912.f;
  x = x - n * 0.693359375f;
  x = x - n * -2.12194440e-4f;
  const float p =
      ((((1.9875691500e-4f * x + 1.3981999507e-3f) * x + 8.3334519073e-3f) * x + 4.1665795894e-2f) * x +
       1.6666665459e-1f) * x + 5.0000001201e-1f;
  const float y = p * (x * x) + x + 1.f;
  const int32_t bits = (int32_t(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return y * scale;
}

// Float <-> an int32 key with the same order, so maxima reduce as integers, which vectorise
// without relaxing floating-point semantics. NaNs sort beyond the infinities on their sign's
// side; in a softmax a NaN anywhere in the row still makes the whole row NaN.
SCT_ALWAYS_INLINE int32_t order_key(float x) {
  int32_t b;
  std::memcpy(&b, &x, sizeof b);
  return b ^ ((b >> 31) & 0x7fffffff);
}
SCT_ALWAYS_INLINE float from_order_key(int32_t k) {
  const int32_t b = k ^ ((k >> 31) & 0x7fffffff);
  float x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}

SCT_ALWAYS_INLINE float max_of(const float* x, int64_t n) {
  int32_t m = order_key(x[0]);
  for (int64_t j = 1; j < n; ++j) {
    const int32_t k = order_key(x[j]);
    m = k > m ? k : m;
  }
  return from_order_key(m);
}

// 16 floats as one GCC vector: one AVX-512 register, two AVX2 ones, four SSE ones in the
// baseline copy. Lane k of an accumulator sums elements k, k + 16, k + 32, ...: a fixed order
// whatever the vector width.
typedef float Float16 __attribute__((vector_size(64)));

SCT_ALWAYS_INLINE Float16 load16(const float* p) {
  Float16 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

SCT_ALWAYS_INLINE float lane_sum(Float16 v) {
  float s = 0.f;
  for (int k = 0; k < 16; ++k) s += v[k];
  return s;
}

SCT_ALWAYS_INLINE float sum_of(const float* x, int64_t n) {
  Float16 acc = {};
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) acc += load16(x + j);
  float s = lane_sum(acc);
  for (; j < n; ++j) s += x[j];
  return s;
}

SCT_ALWAYS_INLINE float dot_of(const float* x, const float* y, int64_t n) {
  Float16 acc = {};
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) acc += load16(x + j) * load16(y + j);
  float s = lane_sum(acc);
  for (; j < n; ++j) s += x[j] * y[j];
  return s;
}

// Sums of (x - m) and (x - m)^2: with m a first estimate of the mean, the mean is m + s1/n and
// the variance s2/n - (s1/n)^2 (shifted data, accurate when the values share a large offset).
SCT_ALWAYS_INLINE void centered_sums(const float* x, float m, int64_t n, float* s1, float* s2) {
  Float16 a1 = {}, a2 = {};
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) {
    const Float16 d = load16(x + j) - m;
    a1 += d;
    a2 += d * d;
  }
  float t1 = lane_sum(a1), t2 = lane_sum(a2);
  for (; j < n; ++j) {
    const float d = x[j] - m;
    t1 += d;
    t2 += d * d;
  }
  *s1 = t1;
  *s2 = t2;
}

}  // namespace sct::model::vmath
