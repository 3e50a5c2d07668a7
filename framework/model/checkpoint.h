// Pre-trained ViT checkpoints: Google .npz (Flax layout) and timm/Hugging Face .safetensors,
// read into timm-named float32 tensors with the architecture inferred from their shapes, and
// written back in either format. Every defect is an InputError naming the file and tensor.
#pragma once

#include <ATen/core/Tensor.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "framework/model/raw_tensor.h"
#include "framework/model/vit_config.h"

namespace sct::model {

enum class CheckpointFormat { kNpz, kSafetensors };
const char* format_name(CheckpointFormat format);  // "npz", "safetensors"
// By extension (.npz, .safetensors), else by the file's first bytes; InputError otherwise.
CheckpointFormat checkpoint_format(const std::string& path);

struct CheckpointTensor {
  std::string name;        // timm name, e.g. "blocks.0.attn.qkv.weight"
  at::Tensor value;        // float32, contiguous, CPU, timm layout
  std::string source;      // key(s) in the file, e.g. "Transformer/encoderblock_0/.../{query,key,value}/kernel"
  std::string file_dtype;  // "f32", "f16", "bf16", "f64"
};

struct LoadedCheckpoint {
  std::string path;
  CheckpointFormat format = CheckpointFormat::kNpz;
  uint64_t file_bytes = 0;
  ViTConfig config;          // inferred; num_classes = rows of the head, 0 without one
  std::string heads_source;  // how the number of heads was found
  // The backbone in module order, then the head, then any other tensors (e.g. adapters).
  std::vector<CheckpointTensor> tensors;
  std::map<std::string, std::string> metadata;  // safetensors __metadata__

  const CheckpointTensor* find(const std::string& name) const;
};

LoadedCheckpoint load_checkpoint(const std::string& path);

// Infers the architecture from timm-named tensors (patch_embed.proj.weight gives D and P,
// blocks.* the depth, pos_embed the grid, fc1 the MLP width, head the classes) and checks
// every backbone tensor is present with the right shape. `heads` must be known already.
// `google_layout` adds the npz key to messages about missing tensors.
ViTConfig infer_vit_config(const std::vector<CheckpointTensor>& tensors, int64_t heads,
                           const std::string& file, bool google_layout = false);

// Bicubic resize of a (1, 1 + G^2, D) position embedding to (1, 1 + grid^2, D), CLS row kept,
// as timm's resample_abs_pos_embed (align_corners=False, no antialiasing).
at::Tensor resize_pos_embed(const at::Tensor& pos_embed, int64_t grid);

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

struct SaveOptions {
  DType dtype = DType::kF32;  // npz: f32/f16/f64; safetensors: f32/f16/bf16/f64
  bool compress = false;      // npz only: deflate members
  std::string npz_prefix;     // npz only: e.g. "opt/target/"
};

// Writes timm-named tensors atomically, format by extension. npz: the standard ViT tensors in
// Google layout (checkpoints.md), other names verbatim; safetensors: timm names, with
// num_heads in __metadata__ so the head count survives a round trip.
void save_checkpoint(const std::string& path, const NamedTensors& tensors, const ViTConfig& config,
                     const SaveOptions& options = {});

}  // namespace sct::model
