#include "framework/model/checkpoint.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <set>

#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/model/google_layout.h"
#include "framework/model/npz.h"
#include "framework/model/safetensors.h"
#include "framework/model/tensor_io.h"

namespace sct::model {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::vector<int64_t> sizes(const at::Tensor& t) { return {t.sizes().begin(), t.sizes().end()}; }

std::string describe_tensor(const CheckpointTensor& t) {
  return t.source == t.name ? fmt::format("'{}'", t.name) : fmt::format("'{}' (key '{}')", t.name, t.source);
}

// Heads are not visible in timm shapes: the file's metadata, else the standard preset of this
// width, else the usual head width of 64.
int64_t heads_without_kernel(const LoadedCheckpoint& c, int64_t dim, std::string* why) {
  auto it = c.metadata.find("num_heads");
  if (it != c.metadata.end()) {
    char* end = nullptr;
    const long v = std::strtol(it->second.c_str(), &end, 10);
    if (it->second.empty() || *end || v <= 0 || v > dim)
      throw InputError(fmt::format("{}: __metadata__ num_heads '{}' is not a valid head count", c.path, it->second));
    *why = "__metadata__ num_heads";
    return v;
  }
  if (int64_t h = preset_heads_for_dim(dim)) {
    *why = fmt::format("standard ViT of width {}", dim);
    return h;
  }
  if (dim % 64 == 0) {
    *why = "assumed head width 64";
    return dim / 64;
  }
  throw InputError(fmt::format("{}: cannot infer the number of attention heads for width D={} (no num_heads in "
                               "__metadata__, not a standard width, not a multiple of 64)", c.path, dim));
}

}  // namespace

const char* format_name(CheckpointFormat format) {
  return format == CheckpointFormat::kNpz ? "npz" : "safetensors";
}

CheckpointFormat checkpoint_format(const std::string& path) {
  if (ends_with(path, ".npz")) return CheckpointFormat::kNpz;
  if (ends_with(path, ".safetensors")) return CheckpointFormat::kSafetensors;
  FileSource src(path);
  uint8_t head[9] = {0};
  src.read(0, std::min<uint64_t>(src.size(), 9), head);
  if (src.size() >= 4 && head[0] == 'P' && head[1] == 'K') return CheckpointFormat::kNpz;
  if (src.size() >= 9 && head[8] == '{') return CheckpointFormat::kSafetensors;
  throw InputError(path + ": not a checkpoint: expected a .npz (ZIP) or .safetensors file");
}

const CheckpointTensor* LoadedCheckpoint::find(const std::string& name) const {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

ViTConfig infer_vit_config(const std::vector<CheckpointTensor>& tensors, int64_t heads, const std::string& file,
                           bool google_layout) {
  auto get = [&](const std::string& name) -> const CheckpointTensor* {
    for (const auto& t : tensors)
      if (t.name == name) return &t;
    return nullptr;
  };
  auto missing = [&](const std::string& name) {
    const std::string key = google_layout ? google_key_of(name) : "";
    return InputError(key.empty() ? fmt::format("{}: missing tensor '{}'", file, name)
                                  : fmt::format("{}: missing tensor '{}' (npz key '{}')", file, name, key));
  };
  const CheckpointTensor* pe = get("patch_embed.proj.weight");
  if (!pe) throw missing("patch_embed.proj.weight");
  const at::Tensor& w = pe->value;
  if (w.dim() != 4 || w.size(1) != 3 || w.size(2) != w.size(3) || w.size(0) == 0 || w.size(2) == 0)
    throw InputError(fmt::format("{}: tensor {}: expected shape (D, 3, P, P), found {}", file, describe_tensor(*pe),
                                 shape_str(sizes(w))));
  ViTConfig c;
  c.dim = w.size(0);
  c.patch = w.size(2);
  c.depth = 0;
  for (const auto& t : tensors) {
    if (t.name.rfind("blocks.", 0) != 0) continue;
    const int64_t i = std::atoll(t.name.c_str() + 7);
    if (i >= 100000) throw InputError(fmt::format("{}: tensor '{}': implausible block index", file, t.name));
    c.depth = std::max(c.depth, i + 1);
  }
  if (c.depth == 0) throw missing("blocks.0.norm1.weight");
  const CheckpointTensor* pos = get("pos_embed");
  if (!pos) throw missing("pos_embed");
  const at::Tensor& p = pos->value;
  const int64_t g = p.dim() == 3 && p.size(1) > 1 ? std::llround(std::sqrt(double(p.size(1) - 1))) : 0;
  if (p.dim() != 3 || p.size(0) != 1 || p.size(2) != c.dim || g * g != p.size(1) - 1)
    throw InputError(fmt::format("{}: tensor {}: expected shape (1, 1 + G*G, {}) (CLS and a square grid), found {}",
                                 file, describe_tensor(*pos), c.dim, shape_str(sizes(p))));
  c.image_size = g * c.patch;
  const CheckpointTensor* fc1 = get("blocks.0.mlp.fc1.weight");
  if (!fc1) throw missing("blocks.0.mlp.fc1.weight");
  if (fc1->value.dim() != 2 || fc1->value.size(1) != c.dim || fc1->value.size(0) == 0)
    throw InputError(fmt::format("{}: tensor {}: expected shape (M, {}), found {}", file, describe_tensor(*fc1),
                                 c.dim, shape_str(sizes(fc1->value))));
  c.mlp_ratio = double(fc1->value.size(0)) / double(c.dim);
  const CheckpointTensor* head = get("head.weight");
  if (head) {
    if (head->value.dim() != 2 || head->value.size(0) == 0)
      throw InputError(fmt::format("{}: tensor {}: expected shape (classes, {}), found {}", file,
                                   describe_tensor(*head), c.dim, shape_str(sizes(head->value))));
    c.num_classes = head->value.size(0);
  } else if (get("head.bias")) {
    throw missing("head.weight");
  }
  c.heads = heads;
  if (heads <= 0 || c.dim % heads != 0)
    throw InputError(fmt::format("{}: {} attention heads do not divide the width D={}", file, heads, c.dim));

  for (const auto& [name, shape] : vit_parameter_shapes(c)) {
    const CheckpointTensor* t = get(name);
    if (!t) throw missing(name);
    if (sizes(t->value) != shape)
      throw InputError(fmt::format("{}: tensor {}: shape mismatch: expected {} for {}, found {}", file,
                                   describe_tensor(*t), shape_str(shape), c.describe(), shape_str(sizes(t->value))));
  }
  return c;
}

LoadedCheckpoint load_checkpoint(const std::string& path) {
  LoadedCheckpoint c;
  c.path = path;
  c.format = checkpoint_format(path);
  FileSource src(path);
  c.file_bytes = src.size();
  std::vector<CheckpointTensor> ts;
  auto add = [&](RawTensor&& r) {
    CheckpointTensor t{r.name, raw_to_tensor(r), r.name, dtype_name(r.dtype)};
    r.data = {};  // convert one tensor at a time: peak memory is the model plus one raw tensor
    ts.push_back(std::move(t));
  };
  int64_t heads = 0;
  if (c.format == CheckpointFormat::kNpz) {
    read_npz(path, add);
    heads = google_to_timm(&ts, path);
    if (heads > 0) c.heads_source = "query kernel";
  } else {
    c.metadata = read_safetensors(src, add).metadata;
  }
  std::set<std::string> names;
  for (const auto& t : ts)
    if (!names.insert(t.name).second)
      throw InputError(fmt::format("{}: tensor '{}' appears twice (also as '{}')", path, t.name, t.source));
  if (heads == 0) {
    const CheckpointTensor* pe = nullptr;
    for (const auto& t : ts)
      if (t.name == "patch_embed.proj.weight") pe = &t;
    if (!pe) {
      bool transformers = false;
      for (const auto& t : ts) transformers = transformers || t.name.rfind("vit.embeddings.", 0) == 0;
      throw InputError(fmt::format("{}: missing tensor 'patch_embed.proj.weight'{}", path,
                                   transformers ? " (this file uses Hugging Face transformers names such as "
                                                  "'vit.embeddings.*'; timm names are expected)" : ""));
    }
    heads = heads_without_kernel(c, pe->value.dim() > 0 ? pe->value.size(0) : 0, &c.heads_source);
  }
  c.config = infer_vit_config(ts, heads, path, c.format == CheckpointFormat::kNpz);

  // Module order first (inspect tables and writers follow the model), then anything else.
  for (const auto& [name, shape] : vit_parameter_shapes(c.config))
    for (auto& t : ts)
      if (t.name == name && t.value.defined()) c.tensors.push_back(std::move(t));
  for (auto& t : ts)
    if (t.value.defined()) c.tensors.push_back(std::move(t));
  return c;
}

at::Tensor resize_pos_embed(const at::Tensor& pos_embed, int64_t grid) {
  SCT_CHECK(pos_embed.dim() == 3 && pos_embed.size(1) > 1 && grid > 0, "pos_embed is (1, 1 + G*G, D)");
  const int64_t D = pos_embed.size(2);
  const int64_t old = std::llround(std::sqrt(double(pos_embed.size(1) - 1)));
  SCT_CHECK(old * old == pos_embed.size(1) - 1, "pos_embed is (1, 1 + G*G, D)");
  if (old == grid) return pos_embed;
  at::Tensor cls = pos_embed.narrow(1, 0, 1);
  at::Tensor g = pos_embed.narrow(1, 1, old * old).reshape({1, old, old, D}).permute({0, 3, 1, 2});
  at::Tensor r = at::upsample_bicubic2d(g.to(at::kFloat), {grid, grid}, /*align_corners=*/false);
  r = r.permute({0, 2, 3, 1}).reshape({1, grid * grid, D}).to(pos_embed.scalar_type());
  return at::cat({cls, r}, 1).contiguous();
}

void save_checkpoint(const std::string& path, const NamedTensors& tensors, const ViTConfig& config,
                     const SaveOptions& options) {
  std::vector<RawTensor> raws;
  if (ends_with(path, ".npz")) {
    if (options.dtype == DType::kBF16) throw InputError(path + ": .npz cannot hold bfloat16; use f32 or f16");
    for (const auto& [name, value] : timm_to_google(tensors, config))
      raws.push_back(tensor_to_raw(options.npz_prefix + name, value, options.dtype));
    write_npz(path, raws, options.compress);
  } else if (ends_with(path, ".safetensors")) {
    for (const auto& [name, value] : tensors) raws.push_back(tensor_to_raw(name, value, options.dtype));
    write_safetensors(path, raws, {{"format", "pt"}, {"num_heads", std::to_string(config.heads)}});
  } else {
    throw InputError(path + ": unknown checkpoint extension (expected .npz or .safetensors)");
  }
  log::debug("model", "wrote {} tensors to {}", raws.size(), path);
}

}  // namespace sct::model
