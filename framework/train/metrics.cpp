#include "framework/train/metrics.h"

#include <nlohmann/json.hpp>

#include "framework/core/error.h"
#include "framework/core/fs.h"

namespace sct::train {

nlohmann::json to_json(const EpochMetrics& m) {
  nlohmann::json j;
  j["epoch"] = m.epoch;
  j["lr"] = m.lr;
  j["loss"] = m.loss;
  j["train_acc"] = m.train_acc;
  j["eval_acc"] = m.eval_acc ? nlohmann::json(*m.eval_acc) : nlohmann::json(nullptr);
  if (!m.evals.empty()) j["evals"] = m.evals;  // absent in files written before several splits
  j["images_per_s"] = m.images_per_s;
  j["seconds"] = m.seconds;
  return j;
}

EpochMetrics epoch_metrics_from_json(const nlohmann::json& j) {
  EpochMetrics m;
  m.epoch = j.at("epoch").get<int64_t>();
  m.lr = j.at("lr").get<double>();
  m.loss = j.at("loss").get<double>();
  m.train_acc = j.at("train_acc").get<double>();
  if (!j.at("eval_acc").is_null()) m.eval_acc = j.at("eval_acc").get<double>();
  if (j.contains("evals")) m.evals = j.at("evals").get<std::map<std::string, double>>();
  m.images_per_s = j.at("images_per_s").get<double>();
  m.seconds = j.at("seconds").get<double>();
  return m;
}

void append_jsonl(const std::string& path, const nlohmann::json& j) { append_line(path, j.dump()); }

}  // namespace sct::train
