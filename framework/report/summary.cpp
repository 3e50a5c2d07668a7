#include "framework/report/summary.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include "framework/core/strings.h"

#include "framework/report/reference_rows.h"

namespace sct::report {
namespace {

int method_rank(const std::string& method) {
  static const char* order[] = {"sct", "full", "linear", "bitfit", "lora", "adapter", "adaptformer", "vpt", "ssf"};
  constexpr int n = int(sizeof(order) / sizeof(order[0]));
  for (int i = 0; i < n; ++i)
    if (method == order[i]) return i;
  return n;
}

std::vector<std::string> ordered_configs(const std::vector<const UnitResult*>& units) {
  std::map<std::tuple<int, std::string, std::string>, std::string> keyed;
  for (const auto* u : units) keyed[{method_rank(u->method), u->method, u->variant}] = u->config();
  std::vector<std::string> configs;
  for (const auto& kv : keyed) configs.push_back(kv.second);
  return configs;
}

int group_rank(const std::string& group) {
  const auto& groups = vtab_groups();
  auto it = std::find(groups.begin(), groups.end(), group);
  return it == groups.end() ? static_cast<int>(groups.size()) + (group.empty() ? 1 : 0)
                            : static_cast<int>(it - groups.begin());
}

Cell make_cell(std::vector<const UnitResult*> units) {
  Cell c;
  std::sort(units.begin(), units.end(), [](auto* a, auto* b) { return a->seed < b->seed; });
  c.units = std::move(units);
  std::vector<double> best, last, time, params;
  for (auto* u : c.units) {
    best.push_back(u->best);
    last.push_back(u->last);
    time.push_back(u->total_s);
    params.push_back(static_cast<double>(u->trainable_without_head));
  }
  c.best = stat_of(best);
  c.last = stat_of(last);
  c.total_s = stat_of(time);
  c.params_without_head = stat_of(params).mean;
  c.params_vary = !params.empty() && *std::min_element(params.begin(), params.end()) !=
                                         *std::max_element(params.begin(), params.end());
  return c;
}

std::vector<int64_t> seeds_of(const Cell& c) {
  std::vector<int64_t> s;
  for (auto* u : c.units) s.push_back(u->seed);
  return s;
}

// Mean over the row's tasks for configuration `k`; std over seeds when the seeds line up.
void mean_over(const Summary& s, MeanRow& m, size_t k) {
  std::vector<double> best, last;
  std::vector<const Cell*> cells;
  for (int r : m.rows) {
    const Cell& c = s.tasks[r].cells[k];
    if (c.empty()) continue;
    best.push_back(c.best.mean);
    last.push_back(c.last.mean);
    cells.push_back(&c);
  }
  Stat b = stat_of(best), l = stat_of(last);
  b.std = l.std = kNaN;
  const bool complete = cells.size() == m.rows.size();
  const std::vector<int64_t> seeds = cells.empty() ? std::vector<int64_t>() : seeds_of(*cells[0]);
  bool aligned = complete && seeds.size() >= 2;
  for (const Cell* c : cells) aligned = aligned && seeds_of(*c) == seeds;
  if (aligned) {
    std::vector<double> per_seed_best, per_seed_last;
    for (size_t i = 0; i < seeds.size(); ++i) {
      double sb = 0, sl = 0;
      for (const Cell* c : cells) {
        sb += c->units[i]->best;
        sl += c->units[i]->last;
      }
      per_seed_best.push_back(sb / cells.size());
      per_seed_last.push_back(sl / cells.size());
    }
    b.std = stat_of(per_seed_best).std;
    l.std = stat_of(per_seed_last).std;
  }
  m.best.push_back(b);
  m.last.push_back(l);
  m.covered.push_back(static_cast<int>(cells.size()));
}

void reference_means(const Summary& s, MeanRow& m) {
  bool all_vtab = !m.rows.empty();
  for (int r : m.rows) all_vtab = all_vtab && s.tasks[r].vtab >= 0;
  for (const auto& ref : reference_rows()) {
    if (!all_vtab) {
      m.reference.push_back(kNaN);
    } else if (m.group.empty() && m.rows.size() == static_cast<size_t>(kVtabTasks)) {
      m.reference.push_back(ref.mean);
    } else {
      double sum = 0;
      for (int r : m.rows) sum += ref.accuracy[s.tasks[r].vtab];
      m.reference.push_back(sum / m.rows.size());
    }
  }
}

// One label for all units, or the list of those that differ.
std::string common_label(const std::set<std::string>& labels, const char* fallback) {
  if (labels.empty()) return fallback;
  if (labels.size() == 1) return *labels.begin();
  return fmt::format("{} (mixed: {})", fallback, join(std::vector<std::string>(labels.begin(), labels.end()), "; "));
}

std::string tasks_word(size_t n) { return n == 1 ? "1 task" : fmt::format("{} tasks", n); }

}  // namespace

Stat stat_of(const std::vector<double>& values) {
  Stat s;
  s.n = static_cast<int>(values.size());
  if (values.empty()) return s;
  double sum = 0;
  for (double v : values) sum += v;
  s.mean = sum / values.size();
  if (values.size() >= 2) {
    double sq = 0;
    for (double v : values) sq += (v - s.mean) * (v - s.mean);
    s.std = std::sqrt(sq / (values.size() - 1));
  }
  return s;
}

std::string split_label(const SplitResult& split) {
  return split.scored_classes > 0 ? fmt::format("{} ({} classes)", split.split, split.scored_classes) : split.split;
}

std::vector<const UnitResult*> row_units(const Run& run, std::deque<UnitResult>& storage) {
  std::vector<const UnitResult*> rows;
  for (const auto& u : run.units) {
    if (u.splits.size() == 1 && u.splits[0].scored_classes > 0) {
      // One split scored over some classes: the row says so.
      UnitResult view = u;
      view.task = u.task + " · " + split_label(u.splits[0]);
      storage.push_back(std::move(view));
      rows.push_back(&storage.back());
      continue;
    }
    if (u.splits.size() < 2) {
      rows.push_back(&u);
      continue;
    }
    for (const auto& split : u.splits) {
      UnitResult view = u;
      view.task = u.task + " · " + split_label(split);
      view.group = u.group.empty() ? split_label(split) : u.group + " · " + split_label(split);
      if (u.selected_on == u.eval_split) view.selected_on = split.split;  // each split its own best
      view.eval_split = split.split;
      view.best = split.best;
      view.last = split.last;
      view.best_epoch = split.best_epoch;
      view.splits = {split};
      storage.push_back(std::move(view));
      rows.push_back(&storage.back());
    }
  }
  return rows;
}

Summary summarize(const Run& run) {
  Summary s;
  const std::vector<const UnitResult*> units = row_units(run, *s.split_rows);
  s.configs = ordered_configs(units);
  std::map<std::string, std::map<std::string, std::vector<const UnitResult*>>> by_task;  // task -> config -> units
  std::map<std::string, std::string> group_of;
  std::set<std::string> best_labels, last_labels;
  bool self_selected = true;  // every unit at the best evaluation of the split it reports
  for (const UnitResult* u : units) {
    by_task[u->task][u->config()].push_back(u);
    if (!u->group.empty()) group_of[u->task] = u->group;
    best_labels.insert(u->best_label());
    last_labels.insert(u->last_label());
    self_selected = self_selected && !u->eval_split.empty() && u->selected_on == u->eval_split;
  }
  // Targets of one training (domain generalisation), each at its own best: one label says it.
  if (self_selected && best_labels.size() > 1) best_labels = {"best (each split selected on itself)"};
  if (self_selected && last_labels.size() > 1) last_labels = {"last"};
  s.best_label = common_label(best_labels, "best");
  s.last_label = common_label(last_labels, "last");
  for (const auto& [task, per_config] : by_task) {
    TaskRow row;
    row.task = task;
    row.group = group_of.count(task) ? group_of[task] : "";
    row.vtab = vtab_index(task);
    s.any_vtab = s.any_vtab || row.vtab >= 0;
    for (const auto& config : s.configs) {
      auto it = per_config.find(config);
      row.cells.push_back(it == per_config.end() ? Cell() : make_cell(it->second));
      s.max_seeds = std::max(s.max_seeds, static_cast<int>(row.cells.back().units.size()));
    }
    s.tasks.push_back(std::move(row));
  }
  std::sort(s.tasks.begin(), s.tasks.end(), [](const TaskRow& a, const TaskRow& b) {
    const int va = a.vtab < 0 ? kVtabTasks : a.vtab, vb = b.vtab < 0 ? kVtabTasks : b.vtab;
    return std::make_tuple(va, group_rank(a.group), a.group, a.task) <
           std::make_tuple(vb, group_rank(b.group), b.group, b.task);
  });

  // Group means, in VTAB order, then any other named groups.
  std::vector<std::string> groups;
  for (const auto& t : s.tasks)
    if (!t.group.empty() && std::find(groups.begin(), groups.end(), t.group) == groups.end())
      groups.push_back(t.group);
  std::stable_sort(groups.begin(), groups.end(),
                   [](const std::string& a, const std::string& b) { return group_rank(a) < group_rank(b); });
  for (const auto& g : groups) {
    MeanRow m;
    m.group = g;
    bool all_vtab = true;
    for (size_t r = 0; r < s.tasks.size(); ++r)
      if (s.tasks[r].group == g) {
        m.rows.push_back(static_cast<int>(r));
        all_vtab = all_vtab && s.tasks[r].vtab >= 0 && vtab_tasks()[s.tasks[r].vtab].group == g;
      }
    const int full = vtab_group_size(g);
    if (all_vtab && full > 0 && static_cast<int>(m.rows.size()) < full)
      m.label = fmt::format("{} mean ({} of {} tasks)", g, m.rows.size(), full);
    else
      m.label = fmt::format("{} mean ({})", g, tasks_word(m.rows.size()));
    s.means.push_back(std::move(m));
  }
  if (!s.tasks.empty()) {
    MeanRow m;
    int vtab = 0;
    for (size_t r = 0; r < s.tasks.size(); ++r) {
      m.rows.push_back(static_cast<int>(r));
      vtab += s.tasks[r].vtab >= 0;
    }
    const size_t n = s.tasks.size();
    if (vtab == static_cast<int>(n) && vtab < kVtabTasks)
      m.label = fmt::format("Mean ({} of {} VTAB tasks)", n, kVtabTasks);
    else if (vtab > 0 && vtab < static_cast<int>(n))
      m.label = fmt::format("Mean ({}, {} of them VTAB)", tasks_word(n), vtab);
    else
      m.label = fmt::format("Mean ({})", tasks_word(n));
    s.means.push_back(std::move(m));
  }
  for (auto& m : s.means) {
    for (size_t k = 0; k < s.configs.size(); ++k) mean_over(s, m, k);
    reference_means(s, m);
  }
  return s;
}

}  // namespace sct::report
