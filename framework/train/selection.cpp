#include "framework/train/selection.h"

#include <tuple>
#include <utility>

namespace sct::train {
namespace {

// The first evaluated epoch with the highest accuracy of `split`; {-1, -1} when none.
std::pair<int64_t, double> best_of(const std::vector<EpochMetrics>& curve, const std::string& split) {
  std::pair<int64_t, double> best{-1, -1};
  for (const auto& m : curve)
    if (const double* acc = accuracy_on(m, split); acc && *acc > best.second) best = {m.epoch, *acc};
  return best;
}

}  // namespace

const double* accuracy_on(const EpochMetrics& m, const std::string& split) {
  auto it = m.evals.find(split);
  return it == m.evals.end() ? nullptr : &it->second;
}

Selection select_epochs(const std::vector<EpochMetrics>& curve, const std::vector<std::string>& reported,
                        const std::string& select_on) {
  Selection out;
  out.selected_on = select_on;
  if (!select_on.empty()) std::tie(out.epoch, out.selection_acc) = best_of(curve, select_on);
  for (const auto& split : reported) {
    SplitAccuracy s;
    s.split = split;
    for (const auto& m : curve)
      if (const double* acc = accuracy_on(m, split)) s.last = *acc;
    if (select_on.empty()) {
      std::tie(s.best_epoch, s.best) = best_of(curve, split);
    } else {
      s.best_epoch = out.epoch;
      for (const auto& m : curve)
        if (const double* acc = accuracy_on(m, split); acc && m.epoch == out.epoch) s.best = *acc;
    }
    out.splits.push_back(s);
  }
  return out;
}

}  // namespace sct::train
