#include "framework/sweep/plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <numeric>
#include <set>

#include "framework/core/error.h"
#include "framework/core/strings.h"
#include "framework/data/task_file.h"

namespace sct::sweep {
namespace {

// Images a unit pushes through the model: every epoch's training images (forward + backward,
// about 3x a forward) and the evaluations.
void estimate_cost(Unit& u) {
  const Recipe& r = u.recipe;
  try {
    data::TaskFile f(r.task.data);
    u.data_classes = f.num_classes();
    const double n_train = static_cast<double>(f.split(r.task.train_split).count);
    double n_eval = 0;
    for (const auto& split : evaluation_splits(r.task)) n_eval += static_cast<double>(f.split(split).count);
    const double evals = r.train.eval_every > 0 ? std::ceil(double(r.train.epochs) / double(r.train.eval_every)) : 1;
    u.cost = 3.0 * n_train * double(r.train.epochs) + n_eval * evals;
  } catch (const std::exception& e) {
    u.cost = 0;
    u.cost_note = e.what();  // the unit will fail with this when it runs
  }
}

std::string unit_id(const std::string& task, const std::string& method, int64_t seed, const std::string& variant) {
  std::string id = fmt::format("{}__{}__s{}", task, method, seed);
  if (!variant.empty()) id += "__" + variant;
  for (char& c : id)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) c = '_';
  return id;
}

// Where a unit's task name was set; a name taken from the task file's stem comes from the
// sweep.tasks entry that listed the file.
std::string name_origin(const Recipe& recipe) {
  return recipe.where(recipe.locations.count("task.name") ? "task.name" : "sweep.tasks");
}

}  // namespace

std::vector<Unit> plan_units(const std::string& path, const Recipe& top, const PlanOptions& options) {
  std::vector<std::string> fragments = top.sweep.tasks;
  if (fragments.empty()) fragments.push_back("");
  std::vector<std::string> methods = top.sweep.methods;
  if (methods.empty()) methods.push_back(top.peft.method);
  // Without sweep.seeds every unit keeps its own seed (a task file may set one).
  const bool seed_matrix = !top.sweep.seeds.empty();
  std::vector<int64_t> seeds = top.sweep.seeds;
  if (seeds.empty()) seeds.push_back(-1);
  std::vector<std::pair<std::string, std::vector<std::string>>> variants(top.sweep.variants.begin(),
                                                                         top.sweep.variants.end());
  if (variants.empty()) variants.push_back({"", {}});

  std::vector<Unit> units;
  std::set<std::string> matched;
  for (const auto& fragment : fragments) {
    for (const auto& method : methods)
      for (int64_t seed : seeds)
        for (const auto& [variant, vsets] : variants) {
          std::vector<std::string> sets = top.sweep.set;
          sets.insert(sets.end(), options.sets.begin(), options.sets.end());
          sets.insert(sets.end(), vsets.begin(), vsets.end());
          sets.push_back(fmt::format("peft.method=\"{}\"", method));
          if (seed_matrix) sets.push_back(fmt::format("seed={}", seed));
          Unit u;
          u.recipe = load_recipe(path, sets, fragment);
          if (!seed_matrix) seed = u.recipe.seed;
          u.task = u.recipe.task.name;
          if (!options.only_tasks.empty() &&
              std::find(options.only_tasks.begin(), options.only_tasks.end(), u.task) == options.only_tasks.end())
            continue;
          matched.insert(u.task);
          u.method = method;
          u.seed = seed;
          u.variant = variant;
          u.fragment = fragment;
          u.id = unit_id(u.task, method, seed, variant);
          u.hash = training_hash(u.recipe);
          units.push_back(std::move(u));
        }
  }
  for (const auto& t : options.only_tasks)
    if (!matched.count(t)) {
      std::vector<std::string> names;
      for (const auto& fragment : fragments)
        names.push_back(fragment.empty() ? top.task.name : load_recipe(path, top.sweep.set, fragment).task.name);
      throw InputError(fmt::format("--task {}: no such task in {} (tasks: {})", t, path, join(names, ", ")));
    }
  std::set<std::string> ids;
  for (const auto& u : units)
    if (!ids.insert(u.id).second)
      throw InputError(fmt::format("{}: two units are both named '{}' (task names must be unique)",
                                   name_origin(u.recipe), u.id));
  for (auto& u : units) estimate_cost(u);
  return units;
}

std::vector<int64_t> schedule_order(const std::vector<Unit>& units) {
  std::vector<int64_t> order(units.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    if (units[a].cost != units[b].cost) return units[a].cost > units[b].cost;
    return units[a].id < units[b].id;
  });
  return order;
}

}  // namespace sct::sweep
