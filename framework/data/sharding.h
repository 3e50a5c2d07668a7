// Which samples each rank reads, as pure functions (no files, no tensors).
// Training: one global permutation per (seed, epoch); global batch b is positions
// [b*G, (b+1)*G) of it and rank r takes the r-th of `world` equal contiguous slices, so the
// sequence of global batches is the same for every world size. Evaluation and the saliency
// pass: every sample exactly once across ranks, no padding, no duplicates.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace sct::data {

struct TrainSharding {
  int64_t num_samples = 0;
  int64_t global_batch = 0;  // samples per optimiser step over all ranks
  int rank = 0;
  int world = 1;
  uint64_t seed = 0;
  bool shuffle = true;
  bool drop_last = true;  // drop the final partial global batch (the reference's setting)
};

// InputError unless global_batch > 0, global_batch % world == 0, 0 <= rank < world and the
// epoch has at least one step.
void check_train_sharding(const TrainSharding& s);

int64_t train_steps_per_epoch(int64_t num_samples, int64_t global_batch, bool drop_last);

// The epoch's sample order: a permutation from (seed, epoch) alone, or 0..n-1 unshuffled.
std::vector<int64_t> epoch_order(int64_t num_samples, uint64_t seed, int64_t epoch, bool shuffle);

// [begin, end) of part `part` when `count` items are split into `parts` contiguous pieces
// whose sizes differ by at most one (the first count % parts pieces are one larger).
std::pair<int64_t, int64_t> balanced_range(int64_t count, int part, int parts);

// This rank's sample indices for every step of the epoch, in global-batch order. Full global
// batches give each rank global_batch / world samples; a final partial batch (drop_last
// off) is split with balanced_range, so ranks may differ by one and some may get none;
// consumers weight by counts.
std::vector<std::vector<int64_t>> train_epoch_batches(const TrainSharding& s, int64_t epoch);

// Evaluation / saliency shard: rank's contiguous balanced_range of 0..n-1, cut into batches
// of at most `batch` samples. Ranks may hold different numbers of samples and batches.
std::vector<std::vector<int64_t>> eval_batches(int64_t num_samples, int64_t batch, int rank,
                                               int world);

}  // namespace sct::data
