#include "framework/report/tables.h"

#include <fmt/core.h>

#include <set>

#include "framework/core/strings.h"
#include "framework/report/reference_rows.h"

namespace sct::report {
namespace {

bool any_group(const Summary& s) {
  for (const auto& t : s.tasks)
    if (!t.group.empty()) return true;
  return false;
}

const Stat& pick(const Cell& c, Accuracy which) { return which == Accuracy::kBest ? c.best : c.last; }

// A cell with fewer seeds than the run's most says so, so unequal means are not compared blindly.
std::string task_cell(const Cell& c, Accuracy which, int max_seeds) {
  std::string text = format_stat(pick(c, which));
  if (!c.empty() && max_seeds > 1 && static_cast<int>(c.units.size()) != max_seeds)
    text += c.units.size() == 1 ? " (1 seed)" : fmt::format(" ({} seeds)", c.units.size());
  return text;
}

std::string mean_cell(const MeanRow& m, size_t k, Accuracy which) {
  std::string text = format_stat(which == Accuracy::kBest ? m.best[k] : m.last[k]);
  if (m.covered[k] > 0 && m.covered[k] < static_cast<int>(m.rows.size()))
    text += fmt::format(" ({} of {})", m.covered[k], m.rows.size());
  return text;
}

}  // namespace

const std::string& accuracy_label(const Summary& s, Accuracy which) {
  return which == Accuracy::kBest ? s.best_label : s.last_label;
}

std::string protocol_note(const Summary& s) {
  std::string best;
  if (s.best_label.rfind("best (", 0) == 0 && s.best_label.find("mixed") == std::string::npos)
    best = fmt::format("\"{}\" is the best of the evaluations during training, selected on the split it is "
                       "reported on{}", s.best_label,
                       s.best_label == "best (test-selected)" ? " (the reference protocol, a test-set selection)" : "");
  else if (s.best_label.find("mixed") == std::string::npos)
    best = fmt::format("\"{}\" is the accuracy at the epoch where the selection split was best (the clean "
                       "protocol: the reported split plays no part in the choice)", s.best_label);
  else
    best = fmt::format("\"{}\": the units were selected differently, see each unit's result.json", s.best_label);
  return fmt::format("Top-1 accuracy (%) on each unit's reported split. {}; \"{}\" is after the final epoch. With "
                     "several seeds a cell is mean ± sample std (n-1); a group or overall mean is the mean of the "
                     "task means, with the std over seeds of the per-seed means when all its tasks share the seeds.",
                     best, s.last_label);
}

Table accuracy_table(const Summary& s, Accuracy which, bool with_reference, bool short_headers) {
  Table t;
  const bool groups = any_group(s);
  const bool refs = with_reference && s.any_vtab;
  t.header.push_back("task");
  if (groups) t.header.push_back("group");
  const size_t first = t.header.size();
  for (const auto& c : s.configs) t.header.push_back(short_headers ? c : c + " " + accuracy_label(s, which));
  if (refs)
    for (const auto& r : reference_rows()) t.header.push_back(r.method + " (published)");
  t.right.assign(t.header.size(), true);
  for (size_t c = 0; c < first; ++c) t.right[c] = false;

  for (const auto& task : s.tasks) {
    std::vector<std::string> row{task.task};
    if (groups) row.push_back(task.group);
    for (const auto& c : task.cells) row.push_back(task_cell(c, which, s.max_seeds));
    if (refs)
      for (const auto& r : reference_rows())
        row.push_back(task.vtab >= 0 ? format_value(r.accuracy[task.vtab], 1) : "–");
    t.rows.push_back(std::move(row));
  }
  if (!s.means.empty()) t.rules.push_back(t.rows.size());
  for (const auto& m : s.means) {
    std::vector<std::string> row{m.label};
    if (groups) row.push_back("");  // the label names the group
    for (size_t k = 0; k < s.configs.size(); ++k) row.push_back(mean_cell(m, k, which));
    if (refs)
      for (double v : m.reference) row.push_back(format_value(v, 1));
    t.rows.push_back(std::move(row));
  }
  return t;
}

Table cost_table(const Summary& s) {
  Table t;
  t.header.push_back("task");
  for (const auto& c : s.configs) {
    t.header.push_back(c + " trainable params (no head)");
    t.header.push_back(c + " time per seed");
  }
  t.right.assign(t.header.size(), true);
  t.right[0] = false;
  for (const auto& task : s.tasks) {
    std::vector<std::string> row{task.task};
    for (const auto& c : task.cells) {
      row.push_back(c.empty() ? "–" : (c.params_vary ? "~" : "") + format_params(c.params_without_head));
      row.push_back(format_seconds(c.total_s.mean));
    }
    t.rows.push_back(std::move(row));
  }
  return t;
}

std::string reference_params_line() {
  std::vector<std::string> parts;
  for (const auto& r : reference_rows()) parts.push_back(r.method + " " + r.params);
  return "Published trainable parameters (ViT-B/16, head excluded): " + join(parts, ", ") + ".";
}

std::string run_overview(const Run& run, const Summary& s) {
  std::set<int64_t> seeds;
  for (const auto& u : run.units) seeds.insert(u.seed);
  std::vector<std::string> seed_text;
  for (int64_t x : seeds) seed_text.push_back(std::to_string(x));
  std::string text = fmt::format("{} finished unit{}: {} task{} × {} configuration{} ({}) × seed{} {}",
                                 run.units.size(), run.units.size() == 1 ? "" : "s", s.tasks.size(),
                                 s.tasks.size() == 1 ? "" : "s", s.configs.size(), s.configs.size() == 1 ? "" : "s",
                                 join(s.configs, ", "), seeds.size() == 1 ? "" : "s", join(seed_text, ", "));
  if (run.units.empty()) text = "no finished units";
  if (!run.failed.empty()) text += fmt::format("; {} failed", run.failed.size());
  size_t excluded = 0, notes = 0;
  for (const auto& p : run.problems) (p.excluded ? excluded : notes) += 1;
  if (excluded) text += fmt::format("; {} unit{} missing or unreadable", excluded, excluded == 1 ? "" : "s");
  if (notes) text += fmt::format("; {} note{} on partly readable files", notes, notes == 1 ? "" : "s");
  return text + ".";
}

std::vector<std::string> problem_lines(const Run& run) {
  std::vector<std::string> lines;
  for (const auto& f : run.failed) lines.push_back(fmt::format("{}: unit failed: {}", f.file, f.error));
  for (const auto& p : run.problems)
    lines.push_back(fmt::format("{}: {}{}", p.file, p.what, p.excluded ? " (unit left out)" : ""));
  return lines;
}

}  // namespace sct::report
