// ViT architecture description: presets, the timm parameter table (names and shapes), and
// parameter and FLOP counts computed from the config alone (nothing allocated).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace sct::model {

struct ViTConfig {
  int64_t dim = 768;
  int64_t depth = 12;
  int64_t heads = 12;
  int64_t patch = 16;
  int64_t image_size = 224;
  double mlp_ratio = 4.0;
  int64_t num_classes = 0;  // 0: no head; forward() returns the features
  double drop_path = 0.0;   // stochastic depth of the last block; block l gets linspace(0, p, L)[l]
  double ln_eps = 1e-6;

  int64_t grid() const { return image_size / patch; }
  int64_t tokens() const { return 1 + grid() * grid(); }
  int64_t head_dim() const { return dim / heads; }
  int64_t mlp_hidden() const;  // round(dim * mlp_ratio), as written in checkpoints
  // InputError "<what>: ..." when the numbers do not describe a ViT (heads not dividing dim,
  // image size not a multiple of patch, ...).
  void validate(const std::string& what) const;
  std::string describe() const;  // "D=768 L=12 H=12 P=16 image 224 (14x14) MLP 3072 classes 0"
};

// vit-ti16, vit-s16, vit-b16, vit-l16, vit-h14 (image 224, no head). InputError when unknown.
ViTConfig vit_preset(const std::string& name);
std::vector<std::string> vit_preset_names();
// The preset whose dim and depth and patch match, or "" (for display: "custom").
std::string preset_name_of(const ViTConfig& config);
// Heads of the preset with this width (192:3, 384:6, 768:12, 1024:16, 1280:16), or 0.
int64_t preset_heads_for_dim(int64_t dim);

using ParamShape = std::pair<std::string, std::vector<int64_t>>;
// Every parameter of the backbone in timm names and module order; then head.weight and
// head.bias when num_classes > 0.
std::vector<ParamShape> vit_parameter_shapes(const ViTConfig& config);
int64_t vit_num_params(const ViTConfig& config, bool with_head = true);
// Multiply-adds x 2 of one image's forward pass (matrix products, convolution, attention).
double vit_forward_flops(const ViTConfig& config);

}  // namespace sct::model
