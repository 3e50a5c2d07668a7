// The prefetching loader: a background thread reads a split's images (all HDF5 calls are
// serialised process-wide), augments them and builds normalised float batches into a
// bounded queue while the caller computes. Sample selection follows sharding.h, so the
// global batches of an epoch are identical for every world size, and augmentation is
// seeded per (seed, epoch, sample index).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "framework/data/augment.h"

namespace sct::data {

class TaskFile;

struct Batch {
  at::Tensor images;             // float32 [n, 3, H, W], normalised
  at::Tensor labels;             // int64 [n]
  std::vector<int64_t> indices;  // the samples' indices in the split
};

enum class LoaderMode {
  kTrain,  // global batches from a (seed, epoch) permutation, each rank its slice
  kEval,   // every sample exactly once across ranks, in order, no padding
};

struct LoaderOptions {
  std::string split;
  LoaderMode mode = LoaderMode::kTrain;
  int64_t batch_size = 64;  // kTrain: the GLOBAL batch (all ranks); kEval: per-rank batch
  int rank = 0;
  int world = 1;
  uint64_t seed = 0;
  bool shuffle = true;    // kTrain
  bool drop_last = true;  // kTrain
  AugmentOptions augment;  // applied when set, in either mode
  Normalization normalization;
  int prefetch = 2;  // batches prepared ahead of the consumer
  bool pin_memory = false;  // batches in page-locked memory (needs a CUDA LibTorch and a GPU)
};

class Loader {
 public:
  // InputError for a missing split or a global batch that the world size does not divide.
  Loader(std::shared_ptr<const TaskFile> file, LoaderOptions options);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  int64_t steps_per_epoch() const;         // this rank's batches per epoch
  int64_t samples_per_epoch() const;       // this rank's samples per epoch
  int64_t image_height() const;
  int64_t image_width() const;
  const LoaderOptions& options() const { return options_; }
  std::string describe() const;

  // Starts producing `epoch` (stopping any epoch in progress).
  void start_epoch(int64_t epoch);
  // Fills `batch` with the next batch of the epoch; false once the epoch is exhausted.
  // Rethrows a producer error (e.g. a corrupt chunk) here, on the caller's thread.
  bool next(Batch& batch);
  // Total seconds next() has waited for the producer: near zero when I/O keeps up.
  double wait_seconds() const;

 private:
  struct State;
  std::shared_ptr<const TaskFile> file_;
  LoaderOptions options_;
  Augmenter augmenter_;
  std::unique_ptr<State> state_;
  void stop();
};

}  // namespace sct::data
