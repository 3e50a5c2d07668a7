// CSV rendering: one row per value in long format, so scripts can filter by kind without
// parsing a wide layout. Numbers are written in shortest round-trip form.
#include <fmt/core.h>

#include <cmath>
#include <deque>

#include "framework/report/reference_rows.h"
#include "framework/report/report.h"
#include "framework/report/summary.h"

namespace sct::report {
namespace {

const char* kColumns[] = {"kind", "unit", "task", "group", "config", "method", "variant", "seed", "n_seeds",
                          "best", "best_label", "best_std", "last", "last_std", "trainable_without_head",
                          "total_s", "tasks", "note"};
constexpr size_t kNumColumns = sizeof(kColumns) / sizeof(kColumns[0]);

struct Row {
  std::string kind, unit, task, group, config, method, variant, seed, n_seeds;
  std::string best, best_label, best_std, last, last_std, params, total_s, tasks, note;
};

std::string quote(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos && (s.empty() || (s.front() != ' ' && s.back() != ' ')))
    return s;
  std::string out = "\"";
  for (char ch : s) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return out + "\"";
}

Row make_row(std::string kind, std::string unit = "", std::string task = "", std::string group = "") {
  Row r;
  r.kind = std::move(kind);
  r.unit = std::move(unit);
  r.task = std::move(task);
  r.group = std::move(group);
  return r;
}

std::string num(double v) { return std::isnan(v) ? "" : fmt::format("{}", v); }

std::string line(const Row& r) {
  const std::string* fields[] = {&r.kind, &r.unit,   &r.task, &r.group,    &r.config, &r.method,
                                 &r.variant, &r.seed, &r.n_seeds, &r.best, &r.best_label, &r.best_std, &r.last,
                                 &r.last_std, &r.params, &r.total_s, &r.tasks, &r.note};
  static_assert(sizeof(fields) / sizeof(fields[0]) == kNumColumns, "one field per column");
  std::string out;
  for (size_t i = 0; i < kNumColumns; ++i) out += (i ? "," : "") + quote(*fields[i]);
  return out + "\n";
}

void split_config(const std::string& config, Row& r) {
  const size_t open = config.find('[');
  r.config = config;
  r.method = config.substr(0, open);
  r.variant = open == std::string::npos ? "" : config.substr(open + 1, config.size() - open - 2);
}

std::string header() {
  std::string out;
  for (size_t i = 0; i < kNumColumns; ++i) out += (i ? "," : "") + std::string(kColumns[i]);
  return out + "\n";
}

// One row per unit and reported split (a unit with several splits, or one scored over some
// classes, gives rows "<task> · <split>", as in the tables).
std::string unit_rows(const Run& run) {
  std::string out;
  std::deque<UnitResult> storage;
  for (const UnitResult* p : row_units(run, storage)) {
    const UnitResult& u = *p;
    Row r = make_row("unit", u.unit, u.task, u.group);
    split_config(u.config(), r);
    r.seed = std::to_string(u.seed);
    r.n_seeds = "1";
    r.best = num(u.best);
    r.best_label = u.best_label();
    r.last = num(u.last);
    r.params = std::to_string(u.trainable_without_head);
    r.total_s = num(u.total_s);
    out += line(r);
  }
  return out;
}

// Per task and configuration: mean and std over its seeds.
std::string task_rows(const Summary& s) {
  std::string out;
  for (const auto& t : s.tasks)
    for (size_t k = 0; k < s.configs.size(); ++k) {
      const Cell& c = t.cells[k];
      if (c.empty()) continue;
      Row r = make_row("task", "", t.task, t.group);
      split_config(s.configs[k], r);
      r.n_seeds = std::to_string(c.units.size());
      r.best = num(c.best.mean);
      r.best_label = c.units.front()->best_label();
      r.best_std = num(c.best.std);
      r.last = num(c.last.mean);
      r.last_std = num(c.last.std);
      r.params = num(c.params_without_head);
      r.total_s = num(c.total_s.mean);
      if (c.params_vary) r.note = "trainable parameters differ between seeds; mean given";
      out += line(r);
    }
  return out;
}

std::string mean_rows(const Summary& s) {
  std::string out;
  for (const auto& m : s.means)
    for (size_t k = 0; k < s.configs.size(); ++k) {
      if (m.covered[k] == 0) continue;
      Row r = make_row(m.group.empty() ? "mean" : "group_mean", "", "", m.group);
      split_config(s.configs[k], r);
      r.best = num(m.best[k].mean);
      r.best_label = s.best_label;
      r.best_std = num(m.best[k].std);
      r.last = num(m.last[k].mean);
      r.last_std = num(m.last[k].std);
      r.tasks = std::to_string(m.covered[k]);
      r.note = m.label;
      if (m.covered[k] < static_cast<int>(m.rows.size()))
        r.note += fmt::format("; over {} of its {} tasks", m.covered[k], m.rows.size());
      out += line(r);
    }
  return out;
}

// The published rows of the VTAB tasks in the run, and their means over the same tasks.
std::string published_rows(const Summary& s) {
  if (!s.any_vtab) return "";
  std::string out;
  const auto& refs = reference_rows();
  for (const auto& t : s.tasks) {
    if (t.vtab < 0) continue;
    for (const auto& ref : refs) {
      Row r = make_row("reference", "", t.task, vtab_tasks()[t.vtab].group);
      r.config = ref.method;
      r.best = num(ref.accuracy[t.vtab]);
      r.best_label = "best (test-selected)";
      r.params = num(std::round(ref.params_millions * 1e6));
      r.note = "published, ViT-B/16";
      out += line(r);
    }
  }
  for (const auto& m : s.means)
    for (size_t i = 0; i < refs.size(); ++i) {
      if (std::isnan(m.reference[i])) continue;
      Row r = make_row("reference_mean", "", "", m.group);
      r.config = refs[i].method;
      r.best = num(m.reference[i]);
      r.best_label = "best (test-selected)";
      r.tasks = std::to_string(m.rows.size());
      r.note = m.label;
      out += line(r);
    }
  return out;
}

std::string failure_rows(const Run& run) {
  std::string out;
  for (const auto& f : run.failed) {
    Row r = make_row("failed", f.unit);
    r.note = f.file + ": " + f.error;
    out += line(r);
  }
  for (const auto& p : run.problems) {
    Row r = make_row("problem", p.unit);
    r.note = p.file + ": " + p.what + (p.excluded ? " (unit left out)" : "");
    out += line(r);
  }
  return out;
}

}  // namespace

std::string render_csv(const Run& run) {
  const Summary s = summarize(run);
  return header() + unit_rows(run) + task_rows(s) + mean_rows(s) + published_rows(s) + failure_rows(run);
}

}  // namespace sct::report
