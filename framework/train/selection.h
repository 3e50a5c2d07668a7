// Choosing the reported epoch from a curve of evaluations: either every reported split at its
// own best evaluation (the reference, a test-set selection), or every reported split at the
// epoch where the selection split (train.select_on, e.g. val200) was best.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "framework/train/metrics.h"

namespace sct::train {

// One reported split's accuracies, percent; -1 when the split was never evaluated.
struct SplitAccuracy {
  std::string split;
  double best = -1;          // at best_epoch: the split's own best, or at the selected epoch
  int64_t best_epoch = -1;
  double last = -1;          // at the last evaluated epoch
};

struct Selection {
  std::string selected_on;   // the split whose best chose the epoch; "" = each split its own
  int64_t epoch = -1;        // the selected epoch when selected_on is set
  double selection_acc = -1; // accuracy of selected_on at that epoch
  std::vector<SplitAccuracy> splits;  // in reported order
};

// The first epoch with the highest accuracy wins a tie. `select_on` empty: each split of
// `reported` at its own best. Otherwise every split at select_on's best epoch. Epochs without
// an evaluation of a split are skipped for it.
Selection select_epochs(const std::vector<EpochMetrics>& curve, const std::vector<std::string>& reported,
                        const std::string& select_on);

// The accuracy of `split` after epoch `m`, when evaluated there.
const double* accuracy_on(const EpochMetrics& m, const std::string& split);

}  // namespace sct::train
