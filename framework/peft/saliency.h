// The saliency pass of SCT (method.md §2): streaming per-(layer, class, channel) sums of squares
// of the patch-token features over a task's training split, combined over ranks with one SUM
// all-reduce, turned into CAIS (or task-level) scores and an exact top-K selection per layer.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "framework/data/augment.h"
#include "framework/model/vit.h"
#include "framework/peft/channels.h"

namespace sct {
struct Recipe;
}
namespace sct::data {
class TaskFile;
}
namespace sct::dist {
class Communicator;
}

namespace sct::peft {

// The observation point of a mode: attn -> Tap::kAttnOut, mlp -> kBlockOut, qkv -> kQkv.
model::Tap mode_tap(const std::string& mode);

// Sums over all ranks: identical on every rank, and for every world size (see accumulate_split).
struct SaliencyTotals {
  std::string mode;
  int64_t depth = 0, dim = 0, parts = 0, num_classes = 0;
  int64_t images = 0;
  std::vector<int64_t> class_counts;  // images per class
  std::vector<double> class_sums;     // [layer][part][class][channel]: sum over images and patch tokens of x^2
  std::vector<double> total_sums;     // [layer][part][channel]: the same over all classes

  double class_sum(int64_t l, int64_t p, int64_t c, int64_t j) const {
    return class_sums[size_t(((l * parts + p) * num_classes + c) * dim + j)];
  }
  double total_sum(int64_t l, int64_t p, int64_t j) const { return total_sums[size_t((l * parts + p) * dim + j)]; }
  int64_t classes_present() const;
};

// A FeatureObserver that reduces each image's features at the mode's tap to per-channel sums of
// squares over the patch tokens (CLS excluded) in float64, and adds them to its image's class.
// Each per-image sum is rounded once to a multiple of 2^-56 and accumulated as a 128-bit
// integer, so totals are exact and independent of the order in which images are added (the
// order differs between world sizes); memory is depth x parts x classes x D x 16 bytes.
class SaliencyAccumulator : public model::FeatureObserver {
 public:
  SaliencyAccumulator(const std::string& mode, int64_t depth, int64_t dim, int64_t num_classes);
  ~SaliencyAccumulator() override;

  // Labels of the images of the next forward pass, in batch order; must be in [0, num_classes).
  void set_labels(std::vector<int64_t> labels);
  void observe(int64_t block, model::Tap tap, const at::Tensor& x) override;
  int64_t images() const { return images_; }  // this rank's

  // Collective over `comm`: one SUM all-reduce (int64) of the sums and class counts.
  SaliencyTotals reduce(dist::Communicator& comm) const;

 private:
  struct Sums;
  std::string mode_;
  model::Tap tap_;
  int64_t depth_, dim_, parts_, num_classes_;
  std::vector<int64_t> labels_, counts_;
  std::vector<bool> seen_;  // blocks observed for the current labels
  int64_t images_ = 0;
  std::unique_ptr<Sums> sums_;
};

// Per layer and part, D scores: "cais" = mean over present classes of sqrt(class sum),
// "task" = sqrt(total sum). [layer][part][channel].
std::vector<std::vector<std::vector<double>>> saliency_scores(const SaliencyTotals& totals,
                                                              const std::string& strategy);

// Top-K per layer and part of saliency_scores (strategy cais or task), scores included.
ChannelSelection select_from_totals(const SaliencyTotals& totals, const std::string& strategy, int64_t k);

struct SaliencyPassOptions {
  std::string split;          // the task's training split
  int64_t batch = 64;         // at most this many images per forward pass
  int prefetch = 2;
  data::Normalization normalization;
  // When set, a stop is polled and agreed over `poll_comm` before every global batch (see
  // dist::StopPoll): a stop throws dist::AgreedStop on every rank within one batch.
  dist::Communicator* poll_comm = nullptr;
  std::function<bool()> stop_requested;
};

// The local part of the pass: runs `model` (no adapters installed; eval mode and no gradients
// for the duration; its dtype and device) over this rank's share of the split (no
// augmentation) and adds into `acc`. The split is cut into G = ceil(n / batch) global batches
// (the loader's exactly-once kEval shards of G parts) and each rank takes a contiguous run of
// them, so every image is computed in the same batch on any world size: with the exact
// accumulation, the totals are bitwise identical for every world size at a given number of
// threads per rank. Without options.poll_comm no communication, so it may run inside an
// agreed-failure phase; with it, collective over poll_comm (after a phase that opened the file on
// every rank), and a local failure is thrown on its rank only once the polls are over.
// InputError when the file's images do not have the model's size.
void accumulate_split(model::ViTImpl& model, std::shared_ptr<const data::TaskFile> file,
                      const SaliencyPassOptions& options, int rank, int world, SaliencyAccumulator& acc);

// Runs a phase that may fail on some ranks only (e.g. app::run_agreed); nullptr runs it directly.
using PhaseRunner = std::function<void(const std::function<void()>&)>;

// The selection a recipe asks for (peft.mode, strategy, k / k_fraction, saliency_batch, seed,
// task.data and train_split, data.mean/std). Collective over `comm` for cais and task; random
// needs no pass. The local work and its input checks run inside `local_phase`; with one, the pass
// polls `stop_requested` (may be empty) before every batch and a stop throws dist::AgreedStop.
ChannelSelection select_channels(model::ViTImpl& model, const Recipe& recipe, dist::Communicator& comm,
                                 const PhaseRunner& local_phase = nullptr,
                                 const std::function<bool()>& stop_requested = {});

}  // namespace sct::peft
