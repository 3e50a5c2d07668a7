// Per-epoch training metrics: one JSON object per epoch in metrics.jsonl and in result.json.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sct::train {

struct EpochMetrics {
  int64_t epoch = 0;
  double lr = 0;
  double loss = 0;                  // mean over the epoch's training samples (all ranks)
  double train_acc = 0;             // percent
  std::optional<double> eval_acc;   // percent, when evaluated after this epoch: the headline split
  std::map<std::string, double> evals;  // percent per evaluation split, when evaluated
  double images_per_s = 0;          // training images (all ranks) per second
  double seconds = 0;               // wall time of the epoch, evaluation included
};

nlohmann::json to_json(const EpochMetrics& m);
EpochMetrics epoch_metrics_from_json(const nlohmann::json& j);

// Appends one line to a JSON-lines file (rank 0 only calls it).
void append_jsonl(const std::string& path, const nlohmann::json& j);

}  // namespace sct::train
