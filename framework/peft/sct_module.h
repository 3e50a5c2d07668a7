// The SCT module (method.md §3): per block, a K x K linear map with bias acting on K selected
// channels of one feature, installed as a ViT adapter; every other channel passes unchanged.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "framework/model/vit.h"

namespace sct {
struct PeftSection;
}

namespace sct::peft {

struct ChannelSelection;

// How the map's output combines with the selected channels x_Ω:
//   kNone     x_Ω + Lin(x_Ω)        (the reference ViT)
//   kResidual x_Ω + s * Lin(x_Ω)
//   kOnX      s * x_Ω + Lin(x_Ω)
enum class ScaleForm { kNone, kResidual, kOnX };
ScaleForm parse_scale_form(const std::string& name);  // none | residual | on_x, else InputError

// Where a mode's module acts: attn -> Site::kAttnOut, mlp -> kMlpOut, qkv -> kQkv.
model::Site mode_site(const std::string& mode);

class SctAdapterImpl : public model::Adapter {
 public:
  // One K x K map per group. A group named "" owns parameters "weight" (K, K) and "bias" (K);
  // a group named "q" owns "q_weight" and "q_bias". `channels` index the last dimension of the
  // adapter's input (width `width`); groups must not overlap.
  struct Group {
    std::string name;
    std::vector<int64_t> channels;
  };
  // W ~ N(0, 0.02^2) truncated to [-2, 2] from a generator seeded with `seed` (groups drawn in
  // order), b = 0.
  SctAdapterImpl(int64_t width, std::vector<Group> groups, ScaleForm form, double scale, uint64_t seed);

  at::Tensor forward(const at::Tensor& x) override;

  int64_t width() const { return width_; }
  const std::vector<Group>& groups() const { return groups_; }
  at::Tensor weight(size_t group) const { return weights_.at(group); }
  at::Tensor bias(size_t group) const { return biases_.at(group); }
  ScaleForm form() const { return form_; }
  double scale() const { return scale_; }

 private:
  int64_t width_;
  std::vector<Group> groups_;
  ScaleForm form_;
  double scale_;
  at::Tensor index_;  // every group's channels, concatenated (int64)
  std::vector<at::Tensor> weights_, biases_;
};

// Installs one SctAdapterImpl per block at the mode's site (replacing any there). In qkv mode
// the groups are "q" (channels Ω_q) and "v" (channels 2D + Ω_v). Block l's module is seeded from
// (seed, l). InputError when the selection does not fit the model or the recipe (mode, D,
// depth, K).
void install_sct(model::ViTImpl& model, const ChannelSelection& selection, const PeftSection& peft, int64_t seed);

}  // namespace sct::peft
