#include "framework/peft/backbone.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/core/recipe.h"
#include "framework/model/vit_io.h"

namespace sct::peft {
namespace {

model::ViTConfig config_without_checkpoint(const Recipe& r, int64_t num_classes) {
  const ModelSection& m = r.model;
  model::ViTConfig c;
  if (m.arch != "custom") {
    c = model::vit_preset(m.arch);
  } else {
    c.dim = m.dim;
    c.depth = m.depth;
    c.heads = m.heads;
    c.patch = m.patch;
    c.mlp_ratio = double(m.mlp_ratio);
  }
  c.image_size = m.image_size;
  c.num_classes = num_classes;
  c.drop_path = m.drop_path;
  c.validate(fmt::format("{}: [model] {}", r.where("model.arch"), m.arch));
  return c;
}

// A preset named in the recipe must be the checkpoint's architecture; "custom" defers to the file.
void check_arch(const Recipe& r, const model::ViTConfig& file_config, const std::string& path) {
  if (r.model.arch == "custom") return;
  const model::ViTConfig p = model::vit_preset(r.model.arch);
  if (p.dim != file_config.dim || p.depth != file_config.depth || p.patch != file_config.patch)
    throw InputError(fmt::format("{}: key 'model.arch' = \"{}\" (D={} L={} P={}), but {} holds D={} L={} P={}",
                                 r.where("model.arch"), r.model.arch, p.dim, p.depth, p.patch, path, file_config.dim,
                                 file_config.depth, file_config.patch));
}

}  // namespace

const model::LoadedCheckpoint& CheckpointCache::get(const std::string& path) {
  if (!checkpoint_ || path_ != path) {
    checkpoint_.reset();  // free the previous file before reading the next
    checkpoint_ = std::make_shared<model::LoadedCheckpoint>(model::load_checkpoint(path));
    path_ = path;
    log::info("model", "read {} ({:.1f} MB), kept for the units that use it", path,
              double(checkpoint_->file_bytes) / 1e6);
  }
  return *checkpoint_;
}

model::ViTConfig backbone_config(const Recipe& r, int64_t num_classes, CheckpointCache* cache) {
  if (r.model.checkpoint.empty()) return config_without_checkpoint(r, num_classes);
  CheckpointCache local;
  const model::LoadedCheckpoint& ckpt = (cache ? *cache : local).get(r.model.checkpoint);
  check_arch(r, ckpt.config, r.model.checkpoint);
  return model::config_for(ckpt, r.model.image_size, num_classes, r.model.drop_path);
}

model::ViT build_backbone(const Recipe& r, int64_t num_classes, CheckpointCache* cache) {
  if (num_classes < 0) throw InputError(fmt::format("backbone: {} classes", num_classes));
  at::manual_seed(uint64_t(r.seed));
  if (r.model.checkpoint.empty()) {
    model::ViT m(config_without_checkpoint(r, num_classes));
    log::info("model", "random {} backbone ({}), seed {}", r.model.arch, m->config().describe(), r.seed);
    return m;
  }
  CheckpointCache local;
  const model::LoadedCheckpoint& ckpt = (cache ? *cache : local).get(r.model.checkpoint);
  check_arch(r, ckpt.config, r.model.checkpoint);
  model::ViT m = model::build_from_checkpoint(ckpt, r.model.image_size, num_classes, r.model.drop_path);
  log::info("model", "backbone {} ({})", r.model.checkpoint, m->config().describe());
  return m;
}

}  // namespace sct::peft
