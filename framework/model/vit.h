// The Vision Transformer backbone as a LibTorch module, with timm's semantics and parameter
// names ("blocks.0.attn.qkv.weight"), plus the two hooks later stages build on: observing
// per-block features during a forward pass, and inserting small modules inside each block.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <memory>
#include <string>
#include <vector>

#include "framework/model/vit_config.h"

namespace torch::nn {
class Conv2dImpl;
class LayerNormImpl;
class LinearImpl;
}  // namespace torch::nn

namespace sct::model {

// Observation points inside block l, all (B, tokens, width) with token 0 the CLS token:
//   kQkv      output of the fused qkv Linear (width 3D: q, k, v)
//   kAttnOut  h = x + Attn(LN1(x)), the input of LN2
//   kBlockOut the block output h + MLP(LN2(h))
// Each is observed before any adapter installed at the same point is applied.
enum class Tap { kQkv, kAttnOut, kBlockOut };

// Insertion points inside a block:
//   kQkv      applied to the qkv output before it is split into q, k, v
//   kAttnOut  applied to h before LN2; the residual stream continues with the adapted h
//   kMlpOut   applied to MLP(LN2(h)) before its residual add
enum class Site { kQkv, kAttnOut, kMlpOut };

const char* tap_name(Tap tap);  // "qkv", "attn", "block"

// Receives features while the forward pass runs. The model keeps no reference to them, so an
// observer that reduces them (e.g. sums of squares) lets the pass run in constant memory.
class FeatureObserver {
 public:
  virtual ~FeatureObserver() = default;
  virtual void observe(int64_t block, Tap tap, const at::Tensor& x) = 0;
};

// A module inserted into a block (Tensor -> Tensor of the same shape). Registered as a
// submodule, so its parameters appear in named_parameters() under blocks.{i}.{adapter_name}.
class Adapter : public torch::nn::Module {
 public:
  virtual at::Tensor forward(const at::Tensor& x) = 0;
};

class BlockImpl;

class ViTImpl : public torch::nn::Module {
 public:
  // Builds the model with timm's initialisation (checkpoint loading then overwrites it).
  explicit ViTImpl(const ViTConfig& config);

  const ViTConfig& config() const { return config_; }

  // images: float (B, 3, S, S) with S = config().image_size.
  // Logits (B, classes), or the features when the model has no head.
  at::Tensor forward(const at::Tensor& images, FeatureObserver* observer = nullptr);
  // Final-norm CLS vector (B, D). Without an observer the last block runs for the CLS token
  // alone; forward_tokens(images).select(1, 0) is the same vector computed over all tokens.
  at::Tensor forward_features(const at::Tensor& images, FeatureObserver* observer = nullptr);
  // Final-norm tokens (B, 1 + G^2, D).
  at::Tensor forward_tokens(const at::Tensor& images, FeatureObserver* observer = nullptr);

  // Replaces the head by a fresh Linear(D, num_classes) with PyTorch's default initialisation
  // (kaiming-uniform weight, uniform bias); 0 removes the head.
  void reset_head(int64_t num_classes);
  bool has_head() const { return head_ != nullptr; }

  // Installs `adapter` at `site` of block `block` (replacing any there); nullptr removes it.
  void set_adapter(int64_t block, Site site, std::shared_ptr<Adapter> adapter);
  std::shared_ptr<Adapter> adapter(int64_t block, Site site) const;
  // Submodule name of a site's adapter: "sct_qkv", "sct_attn", "sct_mlp".
  static const char* adapter_name(Site site);

 private:
  // Patch embedding, CLS token and position embeddings: the tokens (B, 1 + G^2, D) fed to block 0.
  at::Tensor embed(const at::Tensor& images);
  ViTConfig config_;
  at::Tensor cls_token_, pos_embed_;
  std::shared_ptr<torch::nn::Conv2dImpl> patch_proj_;
  std::vector<std::shared_ptr<BlockImpl>> blocks_;
  std::shared_ptr<torch::nn::LayerNormImpl> norm_;
  std::shared_ptr<torch::nn::LinearImpl> head_;
};

TORCH_MODULE(ViT);

}  // namespace sct::model
