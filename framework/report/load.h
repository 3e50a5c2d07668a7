// Reading a run directory's unit results (framework/sweep/RESULTS.md, schema 1) into plain
// structs. Bad, missing or unfinished unit files become named problems instead of errors, so
// a report always shows what could be read.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace sct::report {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// One epoch of a unit's curve; absent or null values are NaN.
struct CurvePoint {
  int epoch = 0;
  double lr = kNaN, loss = kNaN, train_acc = kNaN, eval_acc = kNaN;
  double images_per_s = kNaN, seconds = kNaN;
};

// One finished unit (units/<id>/result.json). Optional fields keep their defaults when absent.
struct UnitResult {
  std::string unit;  // the directory name under units/
  std::string file;  // path of the result.json it was read from
  std::string task, group, method, variant, mode;
  int seed = 0;
  int k = -1;  // sct only
  int num_classes = 0;
  double best = 0, last = 0;  // top-1 %, best over the evaluations and after the last epoch
  int best_epoch = -1;
  int64_t trainable = -1, trainable_without_head = 0, head = -1, backbone = -1;
  std::vector<std::vector<int>> channels;          // per layer, selected channel indices
  std::vector<std::vector<double>> channel_scores;  // per layer, score of every channel
  std::vector<CurvePoint> curve;
  double saliency_s = kNaN, train_s = kNaN, eval_s = kNaN, total_s = 0;

  // Column label of the configuration: the method, plus "[variant]" when there is one.
  std::string config() const;
};

// A unit that ran and failed (units/<id>/error.json).
struct FailedUnit {
  std::string unit, file, error;
};

// Something wrong with a unit's files. `excluded` units are missing from every table; the
// others are shown with the faulty optional part (e.g. a malformed curve) left out.
struct Problem {
  std::string unit, file, what;
  bool excluded = true;
};

struct Run {
  std::string dir;
  int unit_dirs = 0;  // directories under units/
  std::vector<UnitResult> units;  // sorted by unit name
  std::vector<FailedUnit> failed;
  std::vector<Problem> problems;
};

// Reads every units/*/result.json (or error.json) of `run_dir`. Throws InputError only when
// `run_dir` has no units/ folder; each unreadable unit is recorded in Run::problems.
Run load_run(const std::string& run_dir);

// Parses one result.json text. Throws InputError "<file>: <what>" naming the key when a
// required field is missing or has the wrong type; faults in optional fields are appended
// to `notes` (and the field is left empty) when notes is given, else thrown too.
UnitResult parse_result(const std::string& text, const std::string& file,
                        std::vector<std::string>* notes = nullptr);

}  // namespace sct::report
