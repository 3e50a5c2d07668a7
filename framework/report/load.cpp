#include "framework/report/load.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <tuple>

#include "framework/core/error.h"
#include "framework/core/fs.h"

namespace sct::report {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// What is wrong inside one file, without the file name (the caller knows it).
struct FieldError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string describe(const json& j) {
  std::string text = j.dump();
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return fmt::format("{} {}", j.type_name(), text);
}

[[noreturn]] void bad(const std::string& key, const std::string& expected, const json* found) {
  throw FieldError(fmt::format("key '{}': expected {}, found {}", key, expected,
                               found ? describe(*found) : "nothing (missing)"));
}

// Follows a dotted key ("accuracy.best"); null when any part is absent.
const json* find(const json& obj, const std::string& dotted) {
  const json* cur = &obj;
  size_t start = 0;
  while (true) {
    const size_t dot = dotted.find('.', start);
    const std::string part = dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(part);
    if (it == cur->end()) return nullptr;
    cur = &*it;
    if (dot == std::string::npos) return cur;
    start = dot + 1;
  }
}

bool is_integral(const json& j) {
  if (j.is_number_integer()) return true;
  return j.is_number_float() && std::isfinite(j.get<double>()) && std::floor(j.get<double>()) == j.get<double>();
}

double number(const json& obj, const std::string& key) {
  const json* j = find(obj, key);
  if (!j || !j->is_number()) bad(key, "a number", j);
  return j->get<double>();
}

int64_t integer(const json& obj, const std::string& key) {
  const json* j = find(obj, key);
  if (!j || !is_integral(*j)) bad(key, "an integer", j);
  return j->is_number_integer() ? j->get<int64_t>() : static_cast<int64_t>(j->get<double>());
}

std::string string(const json& obj, const std::string& key) {
  const json* j = find(obj, key);
  if (!j || !j->is_string()) bad(key, "a string", j);
  return j->get<std::string>();
}

// Optional values: absent or null give the fallback; any other wrong type is an error.
double opt_number(const json& obj, const std::string& key, double fallback = kNaN) {
  const json* j = find(obj, key);
  return !j || j->is_null() ? fallback : number(obj, key);
}
int64_t opt_integer(const json& obj, const std::string& key, int64_t fallback) {
  const json* j = find(obj, key);
  return !j || j->is_null() ? fallback : integer(obj, key);
}
std::string opt_string(const json& obj, const std::string& key) {
  const json* j = find(obj, key);
  return !j || j->is_null() ? std::string() : string(obj, key);
}

double percent(const json& obj, const std::string& key) {
  const double v = number(obj, key);
  if (!(v >= 0 && v <= 100)) bad(key, "a top-1 accuracy in percent (0-100)", find(obj, key));
  return v;
}

std::vector<CurvePoint> parse_curve(const json& obj) {
  std::vector<CurvePoint> curve;
  const json* c = find(obj, "curve");
  if (!c || c->is_null()) return curve;
  if (!c->is_array()) bad("curve", "an array of per-epoch objects", c);
  for (size_t i = 0; i < c->size(); ++i) {
    const json& e = (*c)[i];
    const std::string at = fmt::format("curve[{}]", i);
    if (!e.is_object()) bad(at, "an object", &e);
    try {
      CurvePoint p;
      p.epoch = static_cast<int>(integer(e, "epoch"));
      p.lr = opt_number(e, "lr");
      p.loss = opt_number(e, "loss");
      p.train_acc = opt_number(e, "train_acc");
      p.eval_acc = opt_number(e, "eval_acc");
      p.images_per_s = opt_number(e, "images_per_s");
      p.seconds = opt_number(e, "seconds");
      curve.push_back(p);
    } catch (const FieldError& err) {
      std::string what = err.what();  // "key 'loss': ..." -> "key 'curve[3].loss': ..."
      what.insert(5, at + ".");
      throw FieldError(what);
    }
  }
  return curve;
}

template <typename T>
std::vector<std::vector<T>> parse_matrix(const json& obj, const std::string& key, bool indices) {
  std::vector<std::vector<T>> out;
  const json* m = find(obj, key);
  if (!m || m->is_null()) return out;
  const char* expected = indices ? "per-layer arrays of channel indices" : "per-layer arrays of numbers";
  if (!m->is_array()) bad(key, expected, m);
  for (size_t l = 0; l < m->size(); ++l) {
    const json& row = (*m)[l];
    if (!row.is_array()) bad(fmt::format("{}[{}]", key, l), expected, &row);
    std::vector<T> values;
    for (size_t i = 0; i < row.size(); ++i) {
      const json& v = row[i];
      const bool ok = indices ? is_integral(v) && v.get<double>() >= 0 : v.is_number() || v.is_null();
      if (!ok) bad(fmt::format("{}[{}][{}]", key, l, i), indices ? "a channel index >= 0" : "a number", &v);
      values.push_back(v.is_null() ? static_cast<T>(kNaN) : static_cast<T>(v.get<double>()));
    }
    out.push_back(std::move(values));
  }
  return out;
}

// Runs an optional part; on failure records a note (or rethrows when notes are not wanted).
template <typename F>
void optional_part(std::vector<std::string>* notes, F&& f) {
  try {
    f();
  } catch (const FieldError& e) {
    if (!notes) throw;
    notes->push_back(std::string(e.what()) + "; left out");
  }
}

UnitResult parse_fields(const json& j, std::vector<std::string>* notes) {
  if (!j.is_object()) throw FieldError(fmt::format("expected a JSON object, found {}", describe(j)));
  const int64_t schema = integer(j, "schema");
  if (schema != 1) throw FieldError(fmt::format("key 'schema': expected 1, found {}", schema));
  UnitResult u;
  u.unit = opt_string(j, "unit");
  u.task = string(j, "task");
  if (u.task.empty()) bad("task", "a task name", find(j, "task"));
  u.method = string(j, "method");
  u.seed = static_cast<int>(integer(j, "seed"));
  u.best = percent(j, "accuracy.best");
  u.last = percent(j, "accuracy.last");
  u.trainable_without_head = integer(j, "params.trainable_without_head");
  u.total_s = number(j, "timings.total_s");
  optional_part(notes, [&] {
    u.group = opt_string(j, "group");
    u.variant = opt_string(j, "variant");
    u.mode = opt_string(j, "mode");
  });
  optional_part(notes, [&] {
    u.k = static_cast<int>(opt_integer(j, "k", -1));
    u.num_classes = static_cast<int>(opt_integer(j, "num_classes", 0));
    u.best_epoch = static_cast<int>(opt_integer(j, "accuracy.best_epoch", -1));
  });
  optional_part(notes, [&] {
    u.trainable = opt_integer(j, "params.trainable", -1);
    u.head = opt_integer(j, "params.head", -1);
    u.backbone = opt_integer(j, "params.backbone", -1);
  });
  optional_part(notes, [&] {
    u.saliency_s = opt_number(j, "timings.saliency_s");
    u.train_s = opt_number(j, "timings.train_s");
    u.eval_s = opt_number(j, "timings.eval_s");
  });
  optional_part(notes, [&] { u.curve = parse_curve(j); });
  optional_part(notes, [&] { u.channels = parse_matrix<int>(j, "channels", true); });
  optional_part(notes, [&] {
    auto scores = parse_matrix<double>(j, "channel_scores", false);
    if (!scores.empty() && !u.channels.empty()) {
      if (scores.size() != u.channels.size())
        throw FieldError(fmt::format("key 'channel_scores': expected {} layers like 'channels', found {}",
                                     u.channels.size(), scores.size()));
      for (size_t l = 0; l < u.channels.size(); ++l)
        for (int c : u.channels[l])
          if (c >= static_cast<int>(scores[l].size()))
            throw FieldError(fmt::format("key 'channel_scores[{}]': has {} scores but 'channels' selects channel {}",
                                         l, scores[l].size(), c));
    }
    u.channel_scores = std::move(scores);
  });
  return u;
}

json parse_json(const std::string& text) {
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) throw FieldError("empty file");
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    std::string what = e.what();
    const size_t close = what.find("] ");
    if (close != std::string::npos) what = what.substr(close + 2);
    throw FieldError("not valid JSON (" + what + ")");
  }
}

int count_lines(const fs::path& path) {
  std::ifstream in(path);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) n += line.find_first_not_of(" \t\r") != std::string::npos;
  return n;
}

}  // namespace

std::string UnitResult::config() const { return variant.empty() ? method : method + "[" + variant + "]"; }

UnitResult parse_result(const std::string& text, const std::string& file, std::vector<std::string>* notes) {
  try {
    UnitResult u = parse_fields(parse_json(text), notes);
    u.file = file;
    return u;
  } catch (const FieldError& e) {
    throw InputError(file + ": " + e.what());
  }
}

Run load_run(const std::string& run_dir) {
  Run run;
  run.dir = run_dir;
  const fs::path units = fs::path(run_dir) / "units";
  if (!fs::is_directory(run_dir)) throw InputError(fmt::format("{}: no such run directory", run_dir));
  if (!fs::is_directory(units))
    throw InputError(fmt::format("{}: no units/ folder; expected a run directory written by `sct_dist run` "
                                 "(layout in framework/sweep/RESULTS.md)",
                                 run_dir));
  std::vector<fs::path> dirs;
  for (const auto& entry : fs::directory_iterator(units))
    if (entry.is_directory()) dirs.push_back(entry.path());
  std::sort(dirs.begin(), dirs.end());
  run.unit_dirs = static_cast<int>(dirs.size());

  // (task, config, seed) -> candidates; a duplicate is resolved after all are read, preferring the
  // unit whose own id matches its folder (a copied folder is the likelier stray).
  std::map<std::tuple<std::string, std::string, int>, std::vector<std::pair<UnitResult, bool>>> found;
  for (const fs::path& dir : dirs) {
    const std::string name = dir.filename().string();
    const fs::path result = dir / "result.json", error = dir / "error.json";
    if (fs::exists(result)) {
      std::vector<std::string> notes;
      try {
        UnitResult u = parse_fields(parse_json(read_text_file(result.string())), &notes);
        u.file = result.string();
        const bool matches = u.unit.empty() || u.unit == name;
        if (!matches)
          notes.push_back(fmt::format("key 'unit' is '{}' but the folder is '{}'; shown under '{}'", u.unit, name, name));
        u.unit = name;
        for (const auto& n : notes) run.problems.push_back({name, result.string(), n, false});
        found[std::make_tuple(u.task, u.config(), u.seed)].emplace_back(std::move(u), matches);
      } catch (const FieldError& e) {
        run.problems.push_back({name, result.string(), e.what()});
      } catch (const InputError& e) {  // unreadable file
        run.problems.push_back({name, result.string(), e.what()});
      }
    } else if (fs::exists(error)) {
      try {
        const json j = parse_json(read_text_file(error.string()));
        run.failed.push_back({name, error.string(), string(j, "error")});
      } catch (const FieldError& e) {
        run.problems.push_back({name, error.string(), e.what()});
      } catch (const InputError& e) {
        run.problems.push_back({name, error.string(), e.what()});
      }
    } else if (fs::exists(dir / "metrics.jsonl")) {
      const int epochs = count_lines(dir / "metrics.jsonl");
      run.problems.push_back({name, result.string(),
                              fmt::format("missing: the unit is unfinished or its result was lost "
                                          "(metrics.jsonl has {} epoch{})",
                                          epochs, epochs == 1 ? "" : "s")});
    } else {
      run.problems.push_back({name, result.string(), "missing, and no error.json or metrics.jsonl either"});
    }
  }
  for (auto& [key, candidates] : found) {
    size_t keep = 0;
    while (keep < candidates.size() && !candidates[keep].second) ++keep;
    if (keep == candidates.size()) keep = 0;
    for (size_t i = 0; i < candidates.size(); ++i)
      if (i != keep)
        run.problems.push_back({candidates[i].first.unit, candidates[i].first.file,
                                fmt::format("same task, method, variant and seed as unit '{}'",
                                            candidates[keep].first.unit)});
    run.units.push_back(std::move(candidates[keep].first));
  }
  std::sort(run.units.begin(), run.units.end(),
            [](const UnitResult& a, const UnitResult& b) { return a.unit < b.unit; });
  return run;
}

}  // namespace sct::report
