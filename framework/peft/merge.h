// Folding trained SCT maps into the plain ViT they act in, for `sct_dist merge`: in mlp mode the
// map acts on the output of blocks.l.mlp.fc2, in qkv mode on the output of blocks.l.attn.qkv, so
// y = x + P^T(A x_Ω + c) with x = W a + b is the Linear W' = (I + P^T A P) W, b' = (I + P^T A P) b
// + P^T c, exactly. attn mode acts on the residual stream after the attention add and does not fold.
#pragma once

#include "framework/model/vit.h"

namespace sct::peft {

// Folds every SCT module of `model` into the Linear whose output it transforms and removes the
// module, leaving a model with the parameters of a plain ViT (and its head). InputError for SCT
// in attn mode and for any module or parameter a plain ViT has no place for (left unchanged).
void fold_into_backbone(model::ViTImpl& model);

}  // namespace sct::peft
