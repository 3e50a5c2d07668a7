// The result files of one sweep unit (framework/report/RESULTS.md, schema 1) as plain structs
// with their JSON form: the sweep writes them (to_json), the reports read them back (from_json).
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace sct::report {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// What is wrong inside one result or error file, without the file name (the caller adds it):
// "key 'accuracy.best': expected a number, found nothing (missing)".
struct SchemaError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// One epoch of a unit's curve (a line of metrics.jsonl); null values are NaN.
struct CurvePoint {
  int epoch = 0;
  double lr = kNaN, loss = kNaN, train_acc = kNaN, eval_acc = kNaN;
  double images_per_s = kNaN, seconds = kNaN;
  std::map<std::string, double> evals;  // every evaluation split, when evaluated; absent in older files
};

// One reported split of a unit (accuracy.splits): the same quantities as accuracy.best/last.
struct SplitResult {
  std::string split;
  double best = kNaN, last = kNaN;
  int64_t best_epoch = -1;
  // Classes the split is scored over when the task file restricts it (ImageNet-A, -R: 200);
  // 0: every class (also what older files mean). Written only when > 0.
  int64_t scored_classes = 0;
};

// One finished unit (units/<id>/result.json). Optional fields keep their defaults when absent.
struct UnitResult {
  std::string unit;  // the unit id; the run loader replaces it with the directory name under units/
  std::string file;  // not in the JSON: path of the result.json it was read from
  std::string task, group, method, variant;
  std::string mode;  // sct only; "" is written as null
  int64_t seed = 0;
  int64_t k = -1;  // sct only; -1 is written as null
  int64_t num_classes = 0;
  int64_t dim = 0;  // channels per layer (D)
  std::string train_split;
  std::string eval_split;  // the headline split: the one `best` and `last` are on
  std::vector<std::string> eval_splits;  // every evaluated split; older files: [eval_split]
  // top-1 % on eval_split: at the selected epoch (best_epoch) and after the last epoch.
  double best = 0, last = 0;
  int64_t best_epoch = -1;
  // The split whose best evaluation chose best_epoch: eval_split itself in the reference protocol
  // (a test-set selection when it is test), val200 in the clean one. Older files: eval_split.
  std::string selected_on;
  std::vector<SplitResult> splits;  // every reported split, eval_split first; older files: empty
  int64_t trainable = -1, trainable_without_head = 0, head = -1, backbone = -1;
  // Per layer; empty (no selection) is written as null.
  std::vector<std::vector<int>> channels;           // selected channel indices
  std::vector<std::vector<double>> channel_scores;  // score of every channel
  std::vector<CurvePoint> curve;
  double saliency_s = kNaN, train_s = kNaN, eval_s = kNaN, total_s = 0;
  std::string recipe_hash;
  int64_t world_ranks = 0;  // the group that trained the unit
  std::string world_backend;
  int64_t world_group = 0;
  // What ran (older files: empty): "cpu" or "cuda:N", the GPU's name ("" on a CPU), and the
  // precision of the products (fp32 | tf32 | bf16).
  std::string world_device, world_gpu, world_precision;
  bool resumed = false;
  std::string finished_at;  // UTC, ISO 8601
  std::string exported;     // where the trained model was written; "" leaves the key out
  // The adapter file train.export_adapter wrote, as that key gives it: relative to the unit
  // directory (absolute when the key is). "" (and older files): none; the key is left out.
  std::string exported_adapter;

  // Column label of the configuration: the method, plus "[variant]" when there is one.
  std::string config() const;
  // "best (test-selected)", "test (val200-selected)", "best (val200-selected)"; "best" when the
  // file does not say.
  std::string best_label() const;
  // "last" on test (or when the file does not say), else "last (val200)".
  std::string last_label() const;
};

// A unit that ran and failed (units/<id>/error.json).
struct FailedUnit {
  std::string unit;  // the run loader replaces it with the directory name under units/
  std::string file;  // not in the JSON: path of the error.json it was read from
  std::string task, method, variant;
  int64_t seed = 0;
  std::string error;      // one line
  std::string failed_at;  // UTC, ISO 8601
};

void to_json(nlohmann::json& j, const CurvePoint& point);
void to_json(nlohmann::json& j, const SplitResult& split);
void to_json(nlohmann::json& j, const UnitResult& result);
void to_json(nlohmann::json& j, const FailedUnit& failed);

// Reads a result.json object. Throws SchemaError naming the key when a required field is
// missing or has the wrong type; a fault in an optional part is appended to `notes` (and that
// part left at its default) when notes is given, else thrown too.
UnitResult read_unit_result(const nlohmann::json& j, std::vector<std::string>* notes);
// Strict: read_unit_result(j, nullptr).
void from_json(const nlohmann::json& j, UnitResult& result);
// Only "error" is required (SchemaError otherwise); the other fields are informational and
// taken when they have their written type.
void from_json(const nlohmann::json& j, FailedUnit& failed);

}  // namespace sct::report
