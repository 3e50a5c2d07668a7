// The World that mpi_main.cpp starts, for the MPI tests, and the per-rank values they reduce.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "framework/dist/communicator.h"

namespace sct::dist {
class World;
}

namespace sct::dist::test {

World& world();

// What rank r contributes at element i. Floats are multiples of 1/8 and small, so sums are exact
// in any order; int64 values exceed 2^53, so a reduction done in double would show.
template <typename T>
T contribution(int r, size_t i) {
  const long long base = static_cast<long long>((i * 7 + static_cast<size_t>(r) * 5) % 11) - 5;
  if constexpr (std::is_integral_v<T>)
    return static_cast<T>(base * (1LL << 55) + r * 3 + static_cast<long long>(i % 5));
  else
    return static_cast<T>(base) + static_cast<T>(r) * T(0.25) + static_cast<T>(i % 4) * T(0.125);
}

// The reduction of every rank's contribution at element i, computed serially.
template <typename T>
T reference(size_t i, ReduceOp op, int size) {
  T acc = contribution<T>(0, i);
  for (int r = 1; r < size; ++r) {
    const T v = contribution<T>(r, i);
    acc = op == ReduceOp::kMax ? (v > acc ? v : acc) : acc + v;
  }
  if (op == ReduceOp::kAvg) acc = acc / static_cast<T>(size);
  return acc;
}

}  // namespace sct::dist::test
