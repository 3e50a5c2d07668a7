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

// Insertion points inside a block, each holding at most one Adapter. The first three keep
// the shape of what they act on:
//   kQkv        applied to the qkv output before it is split into q, k, v
//   kAttnOut    applied to h before LN2; the residual stream continues with the adapted h
//   kMlpOut     applied to MLP(LN2(h)) (the fc2 output) before DropPath and its residual add
// and so do these (the PEFT baselines' points):
//   kBlockIn    applied to the block's input tokens; may change their number (prompt tokens)
//   kNorm1      applied to LN1's output, the qkv Linear's input
//   kProj       applied to the attention projection's output, before DropPath
//   kNorm2      applied to LN2's output, fc1's input
//   kFc1        applied to fc1's output (width = MLP hidden), before GELU
// Two are branches beside a part of the block: their output is added, their input is read:
//   kQkvBranch  reads the qkv Linear's input (LN1 output, B x T x D), returns B x T x 3D added
//               to the qkv output (before kQkv)
//   kMlpBranch  reads h (the MLP residual's input, B x T x D), returns B x T x D added to the
//               block output beside the MLP branch, outside its DropPath
enum class Site { kQkv, kAttnOut, kMlpOut, kBlockIn, kNorm1, kProj, kNorm2, kFc1, kQkvBranch, kMlpBranch };
constexpr int kSiteCount = 10;

// Insertion points outside the blocks, each keeping the shape:
//   kPatchEmbed  applied to the patch tokens (B, G^2, D) before the CLS token and position
//                embeddings are added
//   kNorm        applied to the final LayerNorm's output
enum class ModelSite { kPatchEmbed, kNorm };
constexpr int kModelSiteCount = 2;

const char* tap_name(Tap tap);  // "qkv", "attn", "block"

// Receives features while the forward pass runs. The model keeps no reference to them, so an
// observer that reduces them (e.g. sums of squares) lets the pass run in constant memory.
class FeatureObserver {
 public:
  virtual ~FeatureObserver() = default;
  virtual void observe(int64_t block, Tap tap, const at::Tensor& x) = 0;
};

// A module inserted at a Site or ModelSite (Tensor -> Tensor, shapes as the site says).
// Registered as a submodule, so its parameters appear in named_parameters() under
// blocks.{i}.{name} (or {name} for a ModelSite), the name given to set_adapter.
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
  // Final-norm tokens (B, 1 + G^2, D); with prompt tokens inserted at kBlockIn (VPT), those
  // of the last block too (B, 1 + P + G^2, D).
  at::Tensor forward_tokens(const at::Tensor& images, FeatureObserver* observer = nullptr);

  // Replaces the head by a fresh Linear(D, num_classes) with PyTorch's default initialisation
  // (kaiming-uniform weight, uniform bias); 0 removes the head.
  void reset_head(int64_t num_classes);
  bool has_head() const { return head_ != nullptr; }

  // Installs `adapter` at `site` of block `block` (replacing any there) as the submodule
  // `name` (nullptr: adapter_name(site)); a null adapter removes the site's module.
  void set_adapter(int64_t block, Site site, std::shared_ptr<Adapter> adapter, const char* name = nullptr);
  std::shared_ptr<Adapter> adapter(int64_t block, Site site) const;
  // The same for the sites outside the blocks; `name` is required.
  void set_adapter(ModelSite site, std::shared_ptr<Adapter> adapter, const char* name);
  std::shared_ptr<Adapter> adapter(ModelSite site) const;
  // Default submodule name of a site's adapter: "sct_qkv", "sct_attn", "sct_mlp" (the SCT
  // modules' names in checkpoints), "sct_<site>" for the others.
  static const char* adapter_name(Site site);

  // DropPath keys, one per sample of the next training batches (the trainer derives them from
  // the seed, the epoch and each sample's index in the split). With keys, a sample's mask at
  // each DropPath site is a pure function of its key and the site, so a run draws the same
  // masks at any world size and after any resume; without (empty), masks come from LibTorch's
  // default generator.
  void set_drop_path_keys(std::vector<uint64_t> keys) { *drop_keys_ = std::move(keys); }
  // The same keys for modules with randomness of their own (AdaptFormer's dropout), which
  // draw from them as DropPath does; always the model's current keys.
  std::shared_ptr<const std::vector<uint64_t>> sample_keys() const { return drop_keys_; }

 private:
  // Patch embedding, CLS token and position embeddings: the tokens (B, 1 + G^2, D) fed to block 0.
  at::Tensor embed(const at::Tensor& images);
  at::Tensor final_norm(const at::Tensor& x);  // the final LayerNorm, then the kNorm module
  ViTConfig config_;
  at::Tensor cls_token_, pos_embed_;
  std::shared_ptr<torch::nn::Conv2dImpl> patch_proj_;
  std::vector<std::shared_ptr<BlockImpl>> blocks_;
  std::shared_ptr<torch::nn::LayerNormImpl> norm_;
  std::shared_ptr<torch::nn::LinearImpl> head_;
  std::shared_ptr<Adapter> model_adapters_[kModelSiteCount];
  std::string model_adapter_names_[kModelSiteCount];
  std::shared_ptr<std::vector<uint64_t>> drop_keys_ = std::make_shared<std::vector<uint64_t>>();  // shared with the blocks
};

TORCH_MODULE(ViT);

}  // namespace sct::model
