// `sct_dist eval RECIPE_OR_UNIT --adapter FILE --split NAME`: the accuracy of a trained adapter
// on any split of a task file, as exact counts, at any world size (each image is seen once
// across the ranks, the counts are summed), through the evaluation the trainer itself runs (so a
// split with scored classes is scored over those only).
#include <ATen/ATen.h>
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "framework/app/command.h"
#include "framework/app/guard.h"
#include "framework/app/runtime.h"
#include "framework/core/error.h"
#include "framework/core/fs.h"
#include "framework/core/log.h"
#include "framework/core/recipe.h"
#include "framework/data/task_file.h"
#include "framework/dist/world.h"
#include "framework/peft/adapter_file.h"
#include "framework/train/trainer.h"

namespace sct::app {
namespace fs = std::filesystem;
namespace {

// The recipe whose task data is evaluated: the given one, or for a unit directory the adapter's
// own (the unit's resolved recipe); --set applies to either.
Recipe eval_recipe(const EvalOptions& o, const peft::AdapterFile& adapter, bool unit_dir) {
  if (!unit_dir) return load_recipe(o.target, o.sets);
  return parse_recipe(recipe_to_toml(adapter.recipe), adapter.path + " (metadata 'recipe')", o.sets);
}

// Images must be prepared as they were in training: same size and normalisation.
void check_preprocessing(const Recipe& r, const peft::AdapterFile& a) {
  if (r.data.mean != a.recipe.data.mean || r.data.std != a.recipe.data.std)
    throw InputError(fmt::format("{}: keys 'data.mean' and 'data.std' = [{}], [{}] differ from the [{}], [{}] the "
                                 "adapter {} was trained with",
                                 r.where("data.mean"), fmt::join(r.data.mean, ", "), fmt::join(r.data.std, ", "),
                                 fmt::join(a.recipe.data.mean, ", "), fmt::join(a.recipe.data.std, ", "), a.path));
  if (r.model.image_size != a.config.image_size)
    throw InputError(fmt::format("{}: key 'model.image_size' = {}, the adapter {} was trained at {}",
                                 r.where("model.image_size"), r.model.image_size, a.path, a.config.image_size));
}

void check_split(const data::TaskFile& file, const std::string& split, const peft::AdapterFile& a) {
  const data::SplitInfo& info = file.split(split);  // InputError listing the splits
  if (info.height != a.config.image_size || info.width != a.config.image_size)
    throw InputError(fmt::format("{}: split '{}' holds {}x{} images, the adapter {} takes {}x{}", file.path(), split,
                                 info.height, info.width, a.path, a.config.image_size, a.config.image_size));
}

}  // namespace

int eval_command(Env& env, const CommandLine& line) {
  const EvalOptions& o = line.eval;
  auto& comm = env.world->comm();
  auto agreed = [&comm](const std::function<void()>& phase) { run_agreed(comm, phase); };
  peft::AdapterFile adapter;
  Recipe recipe;
  std::shared_ptr<data::TaskFile> file;
  std::vector<std::string> splits = o.splits;
  agreed([&] {
    const bool unit_dir = fs::is_directory(o.target);
    std::string path = o.adapter;
    if (path.empty()) {
      if (!unit_dir)
        throw InputError(fmt::format("eval {}: --adapter FILE is needed with a recipe (a unit directory defaults to "
                                     "its adapter.safetensors)", o.target));
      path = (fs::path(o.target) / "adapter.safetensors").string();
    }
    adapter = peft::read_adapter(path);
    recipe = eval_recipe(o, adapter, unit_dir);
    if (!o.backbone.empty()) recipe.model.checkpoint = o.backbone;
    check_preprocessing(recipe, adapter);
    if (recipe.task.data.empty())
      throw InputError(fmt::format("{}: key 'task.data': no task file to evaluate on", recipe.where("task.data")));
    file = std::make_shared<data::TaskFile>(recipe.task.data);
    if (file->num_classes() != adapter.config.num_classes)
      throw InputError(fmt::format("{} has {} classes, the adapter {} predicts {}", file->path(), file->num_classes(),
                                   adapter.path, adapter.config.num_classes));
    if (splits.empty()) splits = {recipe.task.eval_split};
    for (const auto& split : splits) check_split(*file, split, adapter);
  });
  configure_threads(env, recipe.threads);
  model::ViT vit{nullptr};
  agreed([&] { vit = peft::load_adapted_model(adapter, recipe.model.checkpoint); });
  log::info("eval", "{}: {} on {} ({})", adapter.path, adapter.method, adapter.backbone, vit->config().describe());

  const int64_t batch = o.batch > 0 ? o.batch : std::max<int64_t>(1, recipe.train.batch_size / comm.size());
  nlohmann::ordered_json out = {{"adapter", adapter.path},   {"method", adapter.method},
                                {"data", file->path()},      {"backbone", recipe.model.checkpoint.empty()
                                                                             ? adapter.backbone
                                                                             : recipe.model.checkpoint},
                                {"world_ranks", comm.size()}, {"splits", nlohmann::ordered_json::object()}};
  for (const auto& split : splits) {
    const double accuracy = train::evaluate(*vit, *file, split, recipe, comm, batch);
    // evaluate returns 100 * correct / total; total < 2^52, so the count comes back exactly.
    const int64_t total = file->split(split).count;
    const int64_t correct = std::llround(accuracy * double(total) / 100.0);
    const size_t scored = file->split(split).classes.size();  // 0: every class
    log::info("eval", "{}: {} / {} correct ({:.2f}%){}", split, correct, total, accuracy,
              scored ? fmt::format(", scored over its {} classes", scored) : std::string());
    if (comm.rank() == 0) fmt::print("{}\t{}\t{}\t{:.4f}\n", split, correct, total, accuracy);
    out["splits"][split] = {{"correct", correct}, {"total", total}, {"accuracy", accuracy}};
    if (scored) out["splits"][split]["scored_classes"] = scored;
  }
  agreed([&] {
    if (comm.rank() == 0 && !o.output.empty()) atomic_write(o.output, out.dump(1) + "\n");
  });
  return kExitOk;
}

}  // namespace sct::app
