#include "framework/model/vit_io.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <chrono>
#include <set>

#include "framework/core/error.h"
#include "framework/core/log.h"

namespace sct::model {
namespace {

std::vector<int64_t> sizes(const at::Tensor& t) { return {t.sizes().begin(), t.sizes().end()}; }

std::string label(const CheckpointTensor& t) {
  return t.source == t.name ? fmt::format("'{}'", t.name) : fmt::format("'{}' (key '{}')", t.name, t.source);
}

}  // namespace

ViTConfig config_for(const LoadedCheckpoint& checkpoint, int64_t image_size, int64_t num_classes, double drop_path) {
  ViTConfig c = checkpoint.config;
  if (image_size > 0) c.image_size = image_size;
  if (num_classes >= 0) c.num_classes = num_classes;
  c.drop_path = drop_path;
  c.validate(checkpoint.path);
  return c;
}

void load_into(ViTImpl& model, const LoadedCheckpoint& ckpt, const LoadOptions& options) {
  const ViTConfig& mc = model.config();
  std::set<std::string> backbone;
  for (const auto& [name, shape] : vit_parameter_shapes(mc))
    if (name.rfind("head.", 0) != 0) backbone.insert(name);

  at::NoGradGuard no_grad;
  auto params = model.named_parameters(/*recurse=*/true);
  std::set<std::string> loaded;
  const CheckpointTensor* head_w = ckpt.find("head.weight");
  const bool head_fits = head_w && model.has_head() && head_w->value.size(0) == mc.num_classes &&
                         head_w->value.size(1) == mc.dim;
  if (head_w && !head_fits) {
    if (model.has_head())
      log::info("model", "{}: dropping the checkpoint's head ({} classes): the task has {}; using a fresh head",
                ckpt.path, head_w->value.size(0), mc.num_classes);
    else
      log::info("model", "{}: not using the checkpoint's head ({} classes): the model has no head", ckpt.path,
                head_w->value.size(0));
  } else if (!head_w && model.has_head()) {
    log::info("model", "{}: no head in the checkpoint; using a fresh head with {} classes", ckpt.path, mc.num_classes);
  }

  for (const CheckpointTensor& t : ckpt.tensors) {
    const bool is_head = t.name == "head.weight" || t.name == "head.bias";
    if (is_head && !head_fits) continue;
    at::Tensor* p = params.find(t.name);
    if (!p)
      throw InputError(fmt::format("{}: unknown tensor {}: the model has no such parameter{}", ckpt.path, label(t),
                                   t.name.find(".sct_") != std::string::npos ? " (install its adapters first)" : ""));
    at::Tensor value = t.value;
    if (t.name == "pos_embed" && value.dim() == 3 && value.size(1) != mc.tokens() && value.size(2) == mc.dim) {
      const int64_t old = ckpt.config.grid();
      log::info("model", "{}: resizing the position embedding from {}x{} to {}x{} (bicubic)", ckpt.path, old, old,
                mc.grid(), mc.grid());
      value = resize_pos_embed(value, mc.grid());
    }
    if (sizes(value) != sizes(*p))
      throw InputError(fmt::format("{}: tensor {}: shape mismatch: the model expects {}, the file has {}", ckpt.path,
                                   label(t), shape_str(sizes(*p)), shape_str(sizes(value))));
    p->copy_(value);
    loaded.insert(t.name);
  }
  for (const auto& item : params) {
    const std::string& name = item.key();
    if (loaded.count(name) || name.rfind("head.", 0) == 0) continue;
    if (!backbone.count(name) && options.allow_missing_adapters) continue;
    throw InputError(fmt::format("{}: missing tensor '{}' (the model has it, the file does not)", ckpt.path, name));
  }
}

ViT build_from_checkpoint(const LoadedCheckpoint& checkpoint, int64_t image_size, int64_t num_classes,
                          double drop_path) {
  ViT model(config_for(checkpoint, image_size, num_classes, drop_path));
  load_into(*model, checkpoint);
  return model;
}

NamedTensors model_tensors(ViTImpl& model) {
  NamedTensors out;
  for (const auto& item : model.named_parameters(true)) out.emplace_back(item.key(), item.value().detach());
  return out;
}

void save_model(const std::string& path, ViTImpl& model, const SaveOptions& options) {
  save_checkpoint(path, model_tensors(model), model.config(), options);
}

at::Tensor predict(ViTImpl& model, const at::Tensor& images, Output what, int64_t batch) {
  if (what == Output::kLogits && !model.has_head())
    throw InputError("logits need a classification head, and the model has none (use features)");
  SCT_CHECK(batch > 0, "batch size");
  at::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  const int64_t n = images.size(0);
  std::vector<at::Tensor> outs;
  log::Progress progress("forward");
  const auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < n; i += batch) {
    at::Tensor x = images.narrow(0, i, std::min(batch, n - i));
    outs.push_back(what == Output::kLogits ? model.forward(x) : model.forward_features(x));
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const int64_t done = i + x.size(0);
    progress.update(fmt::format("{}/{} images, {:.1f} images/s", done, n, s > 0 ? double(done) / s : 0.0));
  }
  progress.finish();
  model.train(was_training);
  if (outs.empty()) return at::empty({0, what == Output::kLogits ? model.config().num_classes : model.config().dim});
  return at::cat(outs, 0);
}

}  // namespace sct::model
