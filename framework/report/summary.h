// Aggregation of a run's units into report rows: per (task, configuration) mean ± std over
// seeds, VTAB group means and the overall mean, with the published rows over the same tasks.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "framework/report/load.h"

namespace sct::report {

// Mean and sample standard deviation (n - 1); std is NaN when n < 2, mean NaN when n == 0.
struct Stat {
  double mean = kNaN;
  double std = kNaN;
  int n = 0;
};
Stat stat_of(const std::vector<double>& values);

// One task under one configuration: its seeds.
struct Cell {
  std::vector<const UnitResult*> units;  // ascending seed
  Stat best, last, total_s;
  double params_without_head = kNaN;  // mean over seeds (they normally agree)
  bool params_vary = false;
  bool empty() const { return units.empty(); }
};

struct TaskRow {
  std::string task, group;
  int vtab = -1;            // index into vtab_tasks(), -1 for other tasks
  std::vector<Cell> cells;  // one per Summary::configs entry
};

// A mean over several tasks (a group or all of them), per configuration.
struct MeanRow {
  std::string label;  // "Natural mean (7 tasks)", "Mean (19 tasks)", "Mean (5 of 19 VTAB tasks)"
  std::string group;  // "" for the overall mean
  std::vector<int> rows;  // indices into Summary::tasks
  // Per configuration: mean of its task means. The std is over seeds of the per-seed means,
  // given only when every task of the row has the same two or more seeds.
  std::vector<Stat> best, last;
  std::vector<int> covered;  // tasks of the row the configuration has
  // Per reference row: mean of the published values over the same tasks; NaN unless every
  // task of the row is a VTAB task. The overall mean of all 19 is the published mean.
  std::vector<double> reference;
};

struct Summary {
  std::vector<std::string> configs;  // columns: sct, full, linear, bitfit, lora, adapter, adaptformer, vpt, ssf, others; variants after
  std::vector<TaskRow> tasks;        // VTAB order first, then the other tasks by group and name
  std::vector<MeanRow> means;        // group means (when tasks carry groups), then the overall mean
  bool any_vtab = false;             // some task matches a published one
  int max_seeds = 0;                 // most seeds of any cell
  // What the units' best and last are, as the tables label them (UnitResult::best_label and
  // last_label); units that differ give "best (mixed: ...)".
  std::string best_label = "best", last_label = "last";
  // A unit reporting several splits (domain generalisation: one training, several targets)
  // becomes one row per split, "<task> · <split>" in group "<group> · <split>" (or "<split>"),
  // made from its accuracy.splits; a split scored over some classes reads "<split> (200 classes)".
  // The cells point into this.
  std::shared_ptr<std::deque<UnitResult>> split_rows = std::make_shared<std::deque<UnitResult>>();
};

Summary summarize(const Run& run);

// A split as rows name it: "a (200 classes)" when scored over some classes, else its name.
std::string split_label(const SplitResult& split);

// The units as table rows: a unit with one reported split as it is (as "<task> · <split label>"
// when that split is scored over some classes), one with several as one copy per split
// (appended to `storage`).
std::vector<const UnitResult*> row_units(const Run& run, std::deque<UnitResult>& storage);

}  // namespace sct::report
