// Moving weights between checkpoints and a ViT module, and batched inference.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>

#include "framework/model/checkpoint.h"
#include "framework/model/vit.h"

namespace sct::model {

// The model config for a checkpoint's architecture at a task's image size (0: the
// checkpoint's) and class count (-1: the checkpoint's head, 0: no head).
ViTConfig config_for(const LoadedCheckpoint& checkpoint, int64_t image_size = 0, int64_t num_classes = -1,
                     double drop_path = 0.0);

struct LoadOptions {
  // Parameters outside the backbone (adapters) that the checkpoint lacks keep their values
  // instead of being an error.
  bool allow_missing_adapters = false;
};

// Copies every checkpoint tensor into the model. The position embedding is resized when the
// model's grid differs; a head whose class count differs from the model's is dropped with a
// log line (the model keeps its fresh head). Anything else that does not fit (a missing
// parameter, an unknown tensor, a shape mismatch) is an InputError naming file and tensor.
void load_into(ViTImpl& model, const LoadedCheckpoint& checkpoint, const LoadOptions& options = {});

// A fresh model of config_for(...) with the checkpoint loaded.
ViT build_from_checkpoint(const LoadedCheckpoint& checkpoint, int64_t image_size = 0, int64_t num_classes = -1,
                          double drop_path = 0.0);

// The model's parameters (adapters included), detached, for save_checkpoint.
NamedTensors model_tensors(ViTImpl& model);
void save_model(const std::string& path, ViTImpl& model, const SaveOptions& options = {});

enum class Output { kLogits, kFeatures };

// Forward pass over `images` (N, 3, S, S) in batches of `batch`, in eval mode and without
// gradients (the model's mode is restored). Logits need a head.
at::Tensor predict(ViTImpl& model, const at::Tensor& images, Output what, int64_t batch);

}  // namespace sct::model
