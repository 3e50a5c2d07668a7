// Sweep planning: the units of a recipe (tasks x methods x seeds x variants), each with its
// fully resolved recipe, a stable id, and a cost estimate for largest-first scheduling.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "framework/core/recipe.h"

namespace sct::sweep {

struct Unit {
  std::string id;        // "<task>__<method>__s<seed>[__<variant>]"; also its directory name
  std::string task;
  std::string method;
  int64_t seed = 0;
  std::string variant;   // "" when the sweep has no variants
  std::string fragment;  // the task file, "" for a single-task recipe
  Recipe recipe;         // resolved for this unit
  std::string hash;      // training_hash(recipe)
  double cost = 0;       // relative work estimate (training + evaluation images)
  int64_t data_classes = 0;  // classes of the task file, 0 when it could not be read
  std::string cost_note; // why the estimate is rough (e.g. data file missing), else ""
};

struct PlanOptions {
  std::vector<std::string> sets;  // --set from the command line
  std::vector<std::string> only_tasks;  // --task filters (empty = all)
};

// All units of the recipe at `path`. A recipe without sweep.tasks is one task. Every unit's
// recipe is loaded and validated here, so a bad fragment fails the whole plan up front.
std::vector<Unit> plan_units(const std::string& path, const Recipe& top, const PlanOptions& options);

// The order rank 0 hands units out in: largest cost first, ties by id.
std::vector<int64_t> schedule_order(const std::vector<Unit>& units);

}  // namespace sct::sweep
