#include "framework/model/vit_config.h"

#include <fmt/core.h>

#include <cmath>

#include "framework/core/error.h"

namespace sct::model {
namespace {

struct Preset {
  const char* name;
  int64_t dim, depth, heads, patch;
};
constexpr Preset kPresets[] = {
    {"vit-ti16", 192, 12, 3, 16},  {"vit-s16", 384, 12, 6, 16},   {"vit-b16", 768, 12, 12, 16},
    {"vit-l16", 1024, 24, 16, 16}, {"vit-h14", 1280, 32, 16, 14},
};

}  // namespace

int64_t ViTConfig::mlp_hidden() const { return std::llround(double(dim) * mlp_ratio); }

void ViTConfig::validate(const std::string& what) const {
  auto bad = [&](const std::string& msg) { throw InputError(what + ": " + msg); };
  if (dim <= 0 || depth <= 0 || heads <= 0 || patch <= 0 || image_size <= 0)
    bad("dim, depth, heads, patch and image size must be positive (" + describe() + ")");
  if (dim % heads != 0) bad(fmt::format("{} heads do not divide the width D={}", heads, dim));
  if (image_size % patch != 0)
    bad(fmt::format("image size {} is not a multiple of the patch size {}", image_size, patch));
  if (mlp_hidden() <= 0) bad("MLP width must be positive");
  if (num_classes < 0) bad("number of classes must be >= 0");
  if (!(drop_path >= 0.0 && drop_path < 1.0)) bad(fmt::format("drop_path {} is outside [0, 1)", drop_path));
}

std::string ViTConfig::describe() const {
  return fmt::format("D={} L={} H={} P={} image {} ({}x{}) MLP {} classes {}", dim, depth, heads, patch,
                     image_size, patch ? image_size / patch : 0, patch ? image_size / patch : 0,
                     mlp_hidden(), num_classes);
}

ViTConfig vit_preset(const std::string& name) {
  for (const Preset& p : kPresets)
    if (name == p.name) {
      ViTConfig c;
      c.dim = p.dim;
      c.depth = p.depth;
      c.heads = p.heads;
      c.patch = p.patch;
      return c;
    }
  throw InputError(fmt::format("unknown ViT preset '{}' (known: vit-ti16, vit-s16, vit-b16, vit-l16, vit-h14)", name));
}

std::vector<std::string> vit_preset_names() {
  std::vector<std::string> out;
  for (const Preset& p : kPresets) out.push_back(p.name);
  return out;
}

std::string preset_name_of(const ViTConfig& c) {
  for (const Preset& p : kPresets)
    if (c.dim == p.dim && c.depth == p.depth && c.heads == p.heads && c.patch == p.patch &&
        c.mlp_hidden() == 4 * c.dim)
      return p.name;
  return "";
}

int64_t preset_heads_for_dim(int64_t dim) {
  for (const Preset& p : kPresets)
    if (p.dim == dim) return p.heads;
  return 0;
}

std::vector<ParamShape> vit_parameter_shapes(const ViTConfig& c) {
  const int64_t D = c.dim, M = c.mlp_hidden();
  std::vector<ParamShape> s = {
      {"cls_token", {1, 1, D}},
      {"pos_embed", {1, c.tokens(), D}},
      {"patch_embed.proj.weight", {D, 3, c.patch, c.patch}},
      {"patch_embed.proj.bias", {D}},
  };
  for (int64_t i = 0; i < c.depth; ++i) {
    const std::string b = "blocks." + std::to_string(i) + ".";
    s.push_back({b + "norm1.weight", {D}});
    s.push_back({b + "norm1.bias", {D}});
    s.push_back({b + "attn.qkv.weight", {3 * D, D}});
    s.push_back({b + "attn.qkv.bias", {3 * D}});
    s.push_back({b + "attn.proj.weight", {D, D}});
    s.push_back({b + "attn.proj.bias", {D}});
    s.push_back({b + "norm2.weight", {D}});
    s.push_back({b + "norm2.bias", {D}});
    s.push_back({b + "mlp.fc1.weight", {M, D}});
    s.push_back({b + "mlp.fc1.bias", {M}});
    s.push_back({b + "mlp.fc2.weight", {D, M}});
    s.push_back({b + "mlp.fc2.bias", {D}});
  }
  s.push_back({"norm.weight", {D}});
  s.push_back({"norm.bias", {D}});
  if (c.num_classes > 0) {
    s.push_back({"head.weight", {c.num_classes, D}});
    s.push_back({"head.bias", {c.num_classes}});
  }
  return s;
}

int64_t vit_num_params(const ViTConfig& config, bool with_head) {
  int64_t n = 0;
  for (const auto& [name, shape] : vit_parameter_shapes(config)) {
    if (!with_head && name.rfind("head.", 0) == 0) continue;
    int64_t k = 1;
    for (int64_t d : shape) k *= d;
    n += k;
  }
  return n;
}

double vit_forward_flops(const ViTConfig& c) {
  const double D = double(c.dim), N = double(c.tokens()), M = double(c.mlp_hidden());
  const double G2 = double(c.grid() * c.grid());
  double f = 2.0 * G2 * D * 3.0 * double(c.patch * c.patch);  // patch embedding
  const double block = 2.0 * N * D * 3.0 * D   // qkv
                       + 2.0 * 2.0 * N * N * D  // scores and weighted values
                       + 2.0 * N * D * D        // proj
                       + 2.0 * 2.0 * N * D * M; // fc1, fc2
  f += double(c.depth) * block;
  f += 2.0 * D * double(c.num_classes);
  return f;
}

}  // namespace sct::model
