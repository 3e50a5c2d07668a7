#include "framework/data/sharding.h"

#include <fmt/core.h>

#include <numeric>

#include "framework/core/error.h"
#include "framework/data/rng.h"

namespace sct::data {

void check_train_sharding(const TrainSharding& s) {
  if (s.world < 1 || s.rank < 0 || s.rank >= s.world)
    throw InputError(fmt::format("rank {} is outside a world of size {}", s.rank, s.world));
  if (s.global_batch <= 0)
    throw InputError(fmt::format("global batch must be positive, found {}", s.global_batch));
  if (s.global_batch % s.world != 0)
    throw InputError(fmt::format(
        "global batch {} is not divisible by the world size {}: every rank must take an equal "
        "slice (choose a batch that is a multiple of {})",
        s.global_batch, s.world, s.world));
  if (train_steps_per_epoch(s.num_samples, s.global_batch, s.drop_last) == 0)
    throw InputError(fmt::format(
        "split has {} samples, fewer than one global batch of {} with drop_last: no step per "
        "epoch", s.num_samples, s.global_batch));
}

int64_t train_steps_per_epoch(int64_t n, int64_t global_batch, bool drop_last) {
  if (global_batch <= 0 || n <= 0) return 0;
  return drop_last ? n / global_batch : (n + global_batch - 1) / global_batch;
}

std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, int64_t epoch, bool shuffle) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  if (!shuffle) return order;
  Rng rng(derive_seed({seed, static_cast<uint64_t>(epoch), static_cast<uint64_t>(Stream::kShuffle)}));
  for (int64_t i = n - 1; i > 0; --i) {  // Fisher-Yates
    const auto j = static_cast<int64_t>(rng.below(static_cast<uint64_t>(i + 1)));
    std::swap(order[i], order[j]);
  }
  return order;
}

std::pair<int64_t, int64_t> balanced_range(int64_t count, int part, int parts) {
  const int64_t base = count / parts, extra = count % parts;
  const int64_t begin = part * base + std::min<int64_t>(part, extra);
  return {begin, begin + base + (part < extra ? 1 : 0)};
}

std::vector<std::vector<int64_t>> train_epoch_batches(const TrainSharding& s, int64_t epoch) {
  check_train_sharding(s);
  const std::vector<int64_t> order = epoch_order(s.num_samples, s.seed, epoch, s.shuffle);
  const int64_t steps = train_steps_per_epoch(s.num_samples, s.global_batch, s.drop_last);
  std::vector<std::vector<int64_t>> out(static_cast<size_t>(steps));
  for (int64_t b = 0; b < steps; ++b) {
    const int64_t start = b * s.global_batch;
    const int64_t size = std::min(s.global_batch, s.num_samples - start);
    const auto [lo, hi] = balanced_range(size, s.rank, s.world);
    out[b].assign(order.begin() + start + lo, order.begin() + start + hi);
  }
  return out;
}

std::vector<std::vector<int64_t>> eval_batches(int64_t n, int64_t batch, int rank, int world) {
  if (world < 1 || rank < 0 || rank >= world)
    throw InputError(fmt::format("rank {} is outside a world of size {}", rank, world));
  if (batch <= 0) throw InputError(fmt::format("evaluation batch must be positive, found {}", batch));
  const auto [lo, hi] = balanced_range(n, rank, world);
  std::vector<std::vector<int64_t>> out;
  for (int64_t i = lo; i < hi; i += batch) {
    std::vector<int64_t> b;
    for (int64_t j = i; j < std::min(hi, i + batch); ++j) b.push_back(j);
    out.push_back(std::move(b));
  }
  return out;
}

}  // namespace sct::data
