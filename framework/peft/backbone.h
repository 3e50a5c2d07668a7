// The backbone of a run as the recipe describes it: a pre-trained checkpoint at the recipe's
// image size with a fresh head for the task, or an architecture (preset or custom dims) with a
// deterministic random initialisation.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "framework/model/checkpoint.h"
#include "framework/model/vit.h"

namespace sct {
struct Recipe;
}

namespace sct::peft {

// Checkpoints read once per process and shared by every unit that names the same file (a
// sweep over 19 tasks reads ViT-B/16 once, not 19 times). Holds the most recent file only.
class CheckpointCache {
 public:
  const model::LoadedCheckpoint& get(const std::string& path);

 private:
  std::string path_;
  std::shared_ptr<model::LoadedCheckpoint> checkpoint_;
};

// The architecture without building the model: for a checkpoint this reads the file (its
// shapes fix D, L, P); model.image_size, model.drop_path and `num_classes` are the recipe's.
// InputError naming the key when model.arch contradicts the checkpoint or the dims are invalid.
model::ViTConfig backbone_config(const Recipe& recipe, int64_t num_classes, CheckpointCache* cache = nullptr);

// The model: checkpoint weights (position embedding resized to the recipe's image size, the
// checkpoint's head dropped unless it has exactly `num_classes` rows) or timm's random init.
// Seeds LibTorch's global generator with recipe.seed first, so the fresh head and a random
// backbone are identical on every rank and every run. num_classes = 0 builds no head.
model::ViT build_backbone(const Recipe& recipe, int64_t num_classes, CheckpointCache* cache = nullptr);

}  // namespace sct::peft
