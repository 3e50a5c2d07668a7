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
namespace {

int64_t positive(const std::string& option, const std::string& value) {
  char* end = nullptr;
  const long long v = std::strtoll(value.c_str(), &end, 10);
  if (value.empty() || *end || v <= 0) throw InputError(fmt::format("forward: {} expects a positive integer, found '{}'", option, value));
  return v;
}

int forward_command(Env& env, const std::vector<std::string>& args) {
  Args a("forward", args);
  const std::string ckpt_path = a.option("--checkpoint"), input = a.option("--input"), output = a.option("--output");
  const std::string what = a.option("--what", "logits");
  const int64_t batch = positive("--batch", a.option("--batch", "32"));
  a.positional(0, 0);
  const std::pair<const char*, std::string> required[] = {
      {"--checkpoint", ckpt_path}, {"--input", input}, {"--output", output}};
  for (const auto& [name, v] : required)
    if (v.empty()) throw InputError(fmt::format("forward: {} is required (see sct_dist forward --help)", name));
  if (what != "logits" && what != "features")
    throw InputError(fmt::format("forward: --what expects 'logits' or 'features', found '{}'", what));
  const int threads = configure_threads(env, 0);
  if (env.world.rank() != 0) return 0;  // a single-process tool

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

SCT_REGISTER_COMMAND(Command{
    "forward", "forward --checkpoint CKPT --input IN.npy --output OUT.npy [--what logits|features] [--batch N]",
    "run a checkpoint on pre-normalised float32 images (N, 3, S, S); writes logits or CLS features as .npy",
    forward_command, true});

}  // namespace
}  // namespace sct::app
