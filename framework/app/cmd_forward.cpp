// `sct_dist forward --checkpoint CKPT --input IN.npy --output OUT.npy`: batched inference of a
// checkpoint on pre-normalised images (N, 3, S, S); writes logits or final-norm CLS features.
#include <ATen/ATen.h>
#include <fmt/format.h>

#include <chrono>

#include "framework/app/command.h"
#include "framework/app/runtime.h"
#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/dist/world.h"
#include "framework/model/tensor_io.h"
#include "framework/model/vit_io.h"

namespace sct::app {

int forward_command(Env& env, const CommandLine& line) {
  const ForwardOptions& options = line.forward;
  const std::string &ckpt_path = options.checkpoint, &input = options.input, &output = options.output;
  const std::string& what = options.what;  // "logits" or "features" (checked by the parser)
  const int64_t batch = options.batch;
  const int threads = configure_threads(env, 0);
  if (env.world->rank() != 0) return 0;  // a single-process tool

  const at::Tensor images = model::read_npy_tensor(input);
  if (images.dim() != 4 || images.size(1) != 3 || images.size(2) != images.size(3))
    throw InputError(fmt::format("{}: expected float32 images (N, 3, S, S), found shape {}", input,
                                 model::shape_str({images.sizes().begin(), images.sizes().end()})));
  const int64_t size = images.size(2);
  model::ViT vit = nullptr;
  {  // the checkpoint's tensors are freed once copied into the model
    const model::LoadedCheckpoint ckpt = model::load_checkpoint(ckpt_path);
    if (what == "logits" && ckpt.config.num_classes == 0)
      throw InputError(fmt::format("forward: {} has no classification head, so no logits (use --what features)", ckpt_path));
    if (size % ckpt.config.patch != 0)
      throw InputError(fmt::format("{}: image size {} is not a multiple of the checkpoint's patch size {}", input, size,
                                   ckpt.config.patch));
    vit = model::build_from_checkpoint(ckpt, size);
  }
  log::info("forward", "{}: {} on {} images, batch {}, {} thread{}", ckpt_path, vit->config().describe(),
            images.size(0), batch, threads, threads == 1 ? "" : "s");
  const auto start = std::chrono::steady_clock::now();
  const at::Tensor out = model::predict(*vit, images,
                                        what == "logits" ? model::Output::kLogits : model::Output::kFeatures, batch);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  model::write_npy_tensor(output, out);
  log::info("forward", "wrote {} {} to {} ({:.2f} s, {:.1f} images/s)", what,
            model::shape_str({out.sizes().begin(), out.sizes().end()}), output, s, s > 0 ? double(images.size(0)) / s : 0.0);
  return 0;
}

}  // namespace sct::app
