// The recipe of the peft unit tests' model: a random ViT of two blocks of width 16 (image 8,
// patch 4) with K = 3 SCT channels, seed 4.
#pragma once

#include "framework/core/recipe.h"

namespace sct::peft {

inline Recipe tiny_recipe() {
  Recipe r;
  r.seed = 4;
  r.model.dim = 16;
  r.model.depth = 2;
  r.model.heads = 2;
  r.model.patch = 4;
  r.model.image_size = 8;
  r.peft.k = 3;
  return r;
}

}  // namespace sct::peft
