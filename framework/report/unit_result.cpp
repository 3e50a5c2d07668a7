#include "framework/report/unit_result.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <cmath>

namespace sct::report {
namespace {

using json = nlohmann::json;

std::string describe(const json& j) {
  std::string text = j.dump();
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return fmt::format("{} {}", j.type_name(), text);
}

[[noreturn]] void bad(const std::string& key, const std::string& expected, const json* found) {
  throw SchemaError(fmt::format("key '{}': expected {}, found {}", key, expected,
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

// Other writers (Python, NumPy) may store an integer as 3.0; a fraction is still an error.
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
bool opt_bool(const json& obj, const std::string& key) {
  const json* j = find(obj, key);
  if (!j || j->is_null()) return false;
  if (!j->is_boolean()) bad(key, "true or false", j);
  return j->get<bool>();
}

double percent(const json& obj, const std::string& key) {
  const double v = number(obj, key);
  if (!(v >= 0 && v <= 100)) bad(key, "a top-1 accuracy in percent (0-100)", find(obj, key));
  return v;
}

CurvePoint read_curve_point(const json& e) {
  CurvePoint p;
  p.epoch = static_cast<int>(integer(e, "epoch"));
  p.lr = opt_number(e, "lr");
  p.loss = opt_number(e, "loss");
  p.train_acc = opt_number(e, "train_acc");
  p.eval_acc = opt_number(e, "eval_acc");
  p.images_per_s = opt_number(e, "images_per_s");
  p.seconds = opt_number(e, "seconds");
  if (const json* evals = find(e, "evals"); evals && !evals->is_null()) {
    if (!evals->is_object()) bad("evals", "an object of split -> accuracy", evals);
    for (const auto& [split, acc] : evals->items()) p.evals[split] = opt_number(*evals, split);
  }
  return p;
}

std::vector<CurvePoint> read_curve(const json& obj) {
  std::vector<CurvePoint> curve;
  const json* c = find(obj, "curve");
  if (!c || c->is_null()) return curve;
  if (!c->is_array()) bad("curve", "an array of per-epoch objects", c);
  for (size_t i = 0; i < c->size(); ++i) {
    const json& e = (*c)[i];
    const std::string at = fmt::format("curve[{}]", i);
    if (!e.is_object()) bad(at, "an object", &e);
    try {
      curve.push_back(read_curve_point(e));
    } catch (const SchemaError& err) {
      std::string what = err.what();  // "key 'loss': ..." -> "key 'curve[3].loss': ..."
      what.insert(5, at + ".");
      throw SchemaError(what);
    }
  }
  return curve;
}

// Index rows must hold integers >= 0; score rows may hold null, which is how a NaN score is written.
template <typename T>
std::vector<std::vector<T>> read_matrix(const json& obj, const std::string& key, bool indices) {
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

// The scores must cover every selected channel of their layer.
std::vector<std::vector<double>> read_scores(const json& j, const std::vector<std::vector<int>>& channels) {
  auto scores = read_matrix<double>(j, "channel_scores", false);
  if (scores.empty() || channels.empty()) return scores;
  if (scores.size() != channels.size())
    throw SchemaError(fmt::format("key 'channel_scores': expected {} layers like 'channels', found {}",
                                  channels.size(), scores.size()));
  for (size_t l = 0; l < channels.size(); ++l)
    for (int c : channels[l])
      if (c >= static_cast<int>(scores[l].size()))
        throw SchemaError(fmt::format("key 'channel_scores[{}]': has {} scores but 'channels' selects channel {}", l,
                                      scores[l].size(), c));
  return scores;
}

// Runs an optional part; on failure records a note (or rethrows when notes are not wanted).
template <typename F>
void optional_part(std::vector<std::string>* notes, F&& f) {
  try {
    f();
  } catch (const SchemaError& e) {
    if (!notes) throw;
    notes->push_back(std::string(e.what()) + "; left out");
  }
}

// What every report needs: a unit without these is left out.
UnitResult read_required(const json& j) {
  if (!j.is_object()) throw SchemaError(fmt::format("expected a JSON object, found {}", describe(j)));
  const int64_t schema = integer(j, "schema");
  if (schema != 1) throw SchemaError(fmt::format("key 'schema': expected 1, found {}", schema));
  UnitResult u;
  u.unit = opt_string(j, "unit");
  u.task = string(j, "task");
  if (u.task.empty()) bad("task", "a task name", find(j, "task"));
  u.method = string(j, "method");
  u.seed = integer(j, "seed");
  u.best = percent(j, "accuracy.best");
  u.last = percent(j, "accuracy.last");
  u.trainable_without_head = integer(j, "params.trainable_without_head");
  u.total_s = number(j, "timings.total_s");
  return u;
}

// accuracy.selected_on and accuracy.splits, with what older files (one split, selected on
// itself) meant when they are absent.
void read_selection(const json& j, UnitResult& u, std::vector<std::string>* notes) {
  optional_part(notes, [&] {
    u.selected_on = opt_string(j, "accuracy.selected_on");
    if (u.selected_on.empty()) u.selected_on = u.eval_split;
  });
  optional_part(notes, [&] {
    if (const json* list = find(j, "eval_splits"); list && !list->is_null()) {
      if (!list->is_array()) bad("eval_splits", "an array of split names", list);
      for (size_t i = 0; i < list->size(); ++i) {
        if (!(*list)[i].is_string()) bad(fmt::format("eval_splits[{}]", i), "a split name", &(*list)[i]);
        u.eval_splits.push_back((*list)[i].get<std::string>());
      }
    }
    if (u.eval_splits.empty() && !u.eval_split.empty()) u.eval_splits.push_back(u.eval_split);
  });
  optional_part(notes, [&] {
    const json* list = find(j, "accuracy.splits");
    if (!list || list->is_null()) return;
    if (!list->is_array()) bad("accuracy.splits", "an array of per-split objects", list);
    for (size_t i = 0; i < list->size(); ++i) {
      const json& e = (*list)[i];
      const std::string at = fmt::format("accuracy.splits[{}]", i);
      if (!e.is_object()) bad(at, "an object", &e);
      try {
        SplitResult r;
        r.split = string(e, "split");
        r.best = percent(e, "best");
        r.last = percent(e, "last");
        r.best_epoch = opt_integer(e, "best_epoch", -1);
        r.scored_classes = opt_integer(e, "scored_classes", 0);
        u.splits.push_back(r);
      } catch (const SchemaError& err) {
        std::string what = err.what();
        what.insert(5, at + ".");
        throw SchemaError(what);
      }
    }
  });
}

// Provenance of the run: shown by no table, kept so the struct holds the whole file.
void read_provenance(const json& j, UnitResult& u, std::vector<std::string>* notes) {
  optional_part(notes, [&] {
    u.train_split = opt_string(j, "train_split");
    u.eval_split = opt_string(j, "eval_split");
    u.dim = opt_integer(j, "dim", 0);
  });
  optional_part(notes, [&] {
    u.recipe_hash = opt_string(j, "recipe_hash");
    u.world_ranks = opt_integer(j, "world.ranks", 0);
    u.world_backend = opt_string(j, "world.backend");
    u.world_group = opt_integer(j, "world.group", 0);
    u.world_device = opt_string(j, "world.device");
    u.world_gpu = opt_string(j, "world.gpu");
    u.world_precision = opt_string(j, "world.precision");
  });
  optional_part(notes, [&] {
    u.resumed = opt_bool(j, "resumed");
    u.finished_at = opt_string(j, "finished_at");
    u.exported = opt_string(j, "exported");
    u.exported_adapter = opt_string(j, "exported_adapter");
  });
}

json or_null(const std::string& text) { return text.empty() ? json(nullptr) : json(text); }

template <typename T>
json rows_or_null(const std::vector<std::vector<T>>& rows) {
  return rows.empty() ? json(nullptr) : json(rows);
}

}  // namespace

std::string UnitResult::config() const { return variant.empty() ? method : method + "[" + variant + "]"; }

std::string UnitResult::best_label() const {
  if (selected_on.empty()) return "best";
  if (selected_on == eval_split || eval_split.empty()) return fmt::format("best ({}-selected)", selected_on);
  return fmt::format("{} ({}-selected)", eval_split, selected_on);
}

std::string UnitResult::last_label() const {
  return eval_split.empty() || eval_split == "test" ? "last" : fmt::format("last ({})", eval_split);
}

UnitResult read_unit_result(const json& j, std::vector<std::string>* notes) {
  UnitResult u = read_required(j);
  // Each optional part fails alone: a malformed curve still leaves the unit in the tables.
  optional_part(notes, [&] {
    u.group = opt_string(j, "group");
    u.variant = opt_string(j, "variant");
    u.mode = opt_string(j, "mode");
  });
  optional_part(notes, [&] {
    u.k = opt_integer(j, "k", -1);
    u.num_classes = opt_integer(j, "num_classes", 0);
    u.best_epoch = opt_integer(j, "accuracy.best_epoch", -1);
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
  optional_part(notes, [&] { u.curve = read_curve(j); });
  optional_part(notes, [&] { u.channels = read_matrix<int>(j, "channels", true); });
  optional_part(notes, [&] { u.channel_scores = read_scores(j, u.channels); });
  read_provenance(j, u, notes);
  read_selection(j, u, notes);
  return u;
}

void from_json(const json& j, UnitResult& result) { result = read_unit_result(j, nullptr); }

void from_json(const json& j, FailedUnit& failed) {
  failed.error = string(j, "error");
  auto text = [&](const char* key, std::string& out) {
    if (j.contains(key) && j[key].is_string()) out = j[key].get<std::string>();
  };
  text("unit", failed.unit);
  text("task", failed.task);
  text("method", failed.method);
  text("variant", failed.variant);
  text("failed_at", failed.failed_at);
  if (j.contains("seed") && j["seed"].is_number_integer()) failed.seed = j["seed"].get<int64_t>();
}

void to_json(json& j, const CurvePoint& point) {
  // NaN is written as null (nlohmann's dump does so), which is how an epoch without evaluation reads.
  j = json{{"epoch", point.epoch},       {"lr", point.lr},
           {"loss", point.loss},         {"train_acc", point.train_acc},
           {"eval_acc", point.eval_acc}, {"images_per_s", point.images_per_s},
           {"seconds", point.seconds}};
  if (!point.evals.empty()) j["evals"] = point.evals;
}

void to_json(json& j, const SplitResult& s) {
  j = json{{"split", s.split}, {"best", s.best}, {"best_epoch", s.best_epoch}, {"last", s.last}};
  if (s.scored_classes > 0) j["scored_classes"] = s.scored_classes;
}

// The keys of RESULTS.md; nlohmann writes an object's keys in sorted order, whatever the order here.
void to_json(json& j, const UnitResult& u) {
  j = json{
      {"schema", 1},
      {"unit", u.unit},
      {"task", u.task},
      {"group", u.group},
      {"method", u.method},
      {"seed", u.seed},
      {"variant", u.variant},
      {"mode", or_null(u.mode)},
      {"k", u.k < 0 ? json(nullptr) : json(u.k)},
      {"num_classes", u.num_classes},
      {"dim", u.dim},
      {"train_split", u.train_split},
      {"eval_split", u.eval_split},
      {"eval_splits", u.eval_splits},
      {"accuracy",
       {{"best", u.best},
        {"best_epoch", u.best_epoch},
        {"last", u.last},
        {"selected_on", or_null(u.selected_on)},
        {"splits", u.splits}}},
      {"params",
       {{"trainable", u.trainable},
        {"trainable_without_head", u.trainable_without_head},
        {"head", u.head},
        {"backbone", u.backbone}}},
      {"channels", rows_or_null(u.channels)},
      {"channel_scores", rows_or_null(u.channel_scores)},
      {"curve", u.curve},
      {"timings", {{"saliency_s", u.saliency_s}, {"train_s", u.train_s}, {"eval_s", u.eval_s}, {"total_s", u.total_s}}},
      {"recipe_hash", u.recipe_hash},
      {"world",
       {{"ranks", u.world_ranks},
        {"backend", u.world_backend},
        {"group", u.world_group},
        {"device", u.world_device},
        {"gpu", u.world_gpu},
        {"precision", u.world_precision}}},
      {"resumed", u.resumed},
      {"finished_at", u.finished_at},
  };
  if (!u.exported.empty()) j["exported"] = u.exported;
  if (!u.exported_adapter.empty()) j["exported_adapter"] = u.exported_adapter;
}

void to_json(json& j, const FailedUnit& failed) {
  j = json{{"schema", 1},           {"unit", failed.unit},         {"task", failed.task},
           {"method", failed.method}, {"seed", failed.seed},       {"variant", failed.variant},
           {"error", failed.error},   {"failed_at", failed.failed_at}};
}

}  // namespace sct::report
