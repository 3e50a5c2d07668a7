// `sct_dist merge --adapter FILE --output OUT`: a trained adapter folded into its backbone and
// written as a plain ViT checkpoint (with the task's head) that `forward`, `inspect` and
// model.checkpoint read like any other. See peft/merge.h for which SCT modes fold.
#include <fmt/format.h>

#include "framework/app/command.h"
#include "framework/app/runtime.h"
#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/dist/world.h"
#include "framework/model/vit_io.h"
#include "framework/peft/adapter_file.h"
#include "framework/peft/merge.h"

namespace sct::app {

int merge_command(Env& env, const CommandLine& line) {
  const MergeOptions& o = line.merge;
  configure_threads(env, 0);
  if (env.world->rank() != 0) return kExitOk;  // a single-process tool
  const peft::AdapterFile adapter = peft::read_adapter(o.adapter);
  if (adapter.has_selection && adapter.selection.mode == "attn")  // refused before the backbone is read
    throw InputError(fmt::format("merge {}: SCT in attn mode acts on the residual stream h = x + Attn(LN1(x)) "
                                 "after the attention add; h feeds LN2 (not linear) and the MLP's residual add, and "
                                 "no Linear layer of a plain ViT computes it, so the map cannot be folded (use the "
                                 "adapter with `sct_dist eval` or `predict`; mlp and qkv modes fold exactly)",
                                 o.adapter));
  model::ViT vit = peft::load_adapted_model(adapter, o.backbone);
  peft::fold_into_backbone(*vit);
  model::save_model(o.output, *vit);
  log::info("merge", "wrote {}: {} {} folded into {} ({})", o.output, adapter.method,
            adapter.has_selection ? adapter.selection.mode : std::string(), adapter.backbone,
            vit->config().describe());
  return kExitOk;
}

}  // namespace sct::app
