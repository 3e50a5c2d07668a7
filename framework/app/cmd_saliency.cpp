// `sct_dist saliency RECIPE --output channels.json`: the channels SCT would tune for the recipe's
// task (method.md §2), from one distributed pass over its training split. Every world size
// writes the same file, byte for byte.
#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>

#include "framework/app/command.h"
#include "framework/app/guard.h"
#include "framework/app/runtime.h"
#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/core/recipe.h"
#include "framework/dist/world.h"
#include "framework/peft/backbone.h"
#include "framework/peft/channels.h"
#include "framework/peft/saliency.h"

namespace sct::app {

int saliency_command(Env& env, const CommandLine& line) {
  const SaliencyOptions& opts = line.saliency;
  auto& comm = env.world->comm();
  auto agreed = [&comm](const std::function<void()>& phase) { run_agreed(comm, phase); };
  Recipe recipe;
  agreed([&] {
    recipe = load_recipe(opts.recipe, opts.sets);
    if (!opts.task.empty() && opts.task != recipe.task.name)
      throw InputError(fmt::format("saliency --task {}: {} defines the task '{}' only", opts.task, opts.recipe,
                                   recipe.task.name));
  });
  configure_threads(env, recipe.threads);

  peft::ChannelSelection sel;
  if (recipe.peft.strategy == "random") {
    agreed([&] {
      const model::ViTConfig c = peft::backbone_config(recipe, 0);
      sel = peft::random_selection(recipe.peft.mode, c.depth, c.dim, peft::resolve_k(recipe.peft, c.dim), recipe.seed);
      sel.task = recipe.task.name;
    });
  } else {
    model::ViT vit{nullptr};
    agreed([&] {
      vit = peft::build_backbone(recipe, 0);
      if (opts.float64) vit->to(at::kDouble);
    });
    sel = peft::select_channels(*vit, recipe, comm, agreed);
  }
  agreed([&] {
    if (comm.rank() == 0) peft::write_selection(opts.output, sel);
  });
  const auto& first = sel.layers.front().indices.front();
  log::info("saliency", "wrote {}: {} mode, {} strategy, K={} of D={} in each of {} layers (layer 0: {}, ...)",
            opts.output, sel.mode, sel.strategy, sel.k, sel.dim, sel.depth,
            fmt::join(first.begin(), first.begin() + std::ptrdiff_t(std::min<size_t>(3, first.size())), ", "));
  return kExitOk;
}

}  // namespace sct::app
