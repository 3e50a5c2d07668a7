#include "framework/model/google_layout.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>

#include "framework/core/error.h"
#include "framework/core/log.h"

namespace sct::model {
namespace {

const std::string kPrefix = "opt/target/";
const std::string kBlock = "Transformer/encoderblock_";
const std::string kAttn = "MultiHeadDotProductAttention_1/";

enum class Layout { kSame, kTranspose, kPatchKernel, kOutKernel };

struct Rule {
  const char* google;  // key, or the part after "Transformer/encoderblock_{i}/" for blocks
  const char* timm;    // name, or the part after "blocks.{i}."
  Layout layout;
};

constexpr Rule kGlobalRules[] = {
    {"embedding/kernel", "patch_embed.proj.weight", Layout::kPatchKernel},
    {"embedding/bias", "patch_embed.proj.bias", Layout::kSame},
    {"cls", "cls_token", Layout::kSame},
    {"Transformer/posembed_input/pos_embedding", "pos_embed", Layout::kSame},
    {"Transformer/encoder_norm/scale", "norm.weight", Layout::kSame},
    {"Transformer/encoder_norm/bias", "norm.bias", Layout::kSame},
    {"head/kernel", "head.weight", Layout::kTranspose},
    {"head/bias", "head.bias", Layout::kSame},
};

constexpr Rule kBlockRules[] = {
    {"LayerNorm_0/scale", "norm1.weight", Layout::kSame},
    {"LayerNorm_0/bias", "norm1.bias", Layout::kSame},
    {"MultiHeadDotProductAttention_1/out/kernel", "attn.proj.weight", Layout::kOutKernel},
    {"MultiHeadDotProductAttention_1/out/bias", "attn.proj.bias", Layout::kSame},
    {"LayerNorm_2/scale", "norm2.weight", Layout::kSame},
    {"LayerNorm_2/bias", "norm2.bias", Layout::kSame},
    {"MlpBlock_3/Dense_0/kernel", "mlp.fc1.weight", Layout::kTranspose},
    {"MlpBlock_3/Dense_0/bias", "mlp.fc1.bias", Layout::kSame},
    {"MlpBlock_3/Dense_1/kernel", "mlp.fc2.weight", Layout::kTranspose},
    {"MlpBlock_3/Dense_1/bias", "mlp.fc2.bias", Layout::kSame},
};

const char* const kQkvParts[] = {"query", "key", "value"};

std::vector<int64_t> sizes(const at::Tensor& t) { return {t.sizes().begin(), t.sizes().end()}; }

[[noreturn]] void bad_shape(const std::string& file, const std::string& key, const std::string& expected,
                            const at::Tensor& t) {
  throw InputError(fmt::format("{}: tensor '{}': expected shape {}, found {}", file, key, expected,
                               shape_str(sizes(t))));
}

// Splits "Transformer/encoderblock_7/LayerNorm_0/scale" into 7 and "LayerNorm_0/scale".
bool split_block_key(const std::string& key, int64_t* index, std::string* rest) {
  if (key.rfind(kBlock, 0) != 0) return false;
  size_t pos = kBlock.size(), slash = key.find('/', pos);
  if (slash == std::string::npos || slash == pos || slash - pos > 6) return false;
  int64_t v = 0;
  for (size_t i = pos; i < slash; ++i) {
    if (key[i] < '0' || key[i] > '9') return false;
    v = v * 10 + (key[i] - '0');
  }
  *index = v;
  *rest = key.substr(slash + 1);
  return true;
}

at::Tensor to_timm(const at::Tensor& t, Layout layout, int64_t heads, const std::string& file,
                   const std::string& key) {
  switch (layout) {
    case Layout::kSame: return t;
    case Layout::kTranspose:
      if (t.dim() != 2) bad_shape(file, key, "(in, out)", t);
      return t.t().contiguous();
    case Layout::kPatchKernel:
      if (t.dim() != 4) bad_shape(file, key, "(P, P, 3, D)", t);
      return t.permute({3, 2, 0, 1}).contiguous();
    case Layout::kOutKernel: {
      if (t.dim() != 3 || t.size(0) != heads)
        bad_shape(file, key, fmt::format("({}, D/{}, D)", heads, heads), t);
      const int64_t D = t.size(2);
      if (t.size(0) * t.size(1) != D) bad_shape(file, key, fmt::format("({}, {}, {})", heads, D / heads, D), t);
      return t.permute({2, 0, 1}).reshape({D, D}).contiguous();
    }
  }
  return t;
}

at::Tensor to_google(const at::Tensor& t, Layout layout, int64_t heads) {
  switch (layout) {
    case Layout::kSame: return t;
    case Layout::kTranspose: return t.t().contiguous();
    case Layout::kPatchKernel: return t.permute({2, 3, 1, 0}).contiguous();
    case Layout::kOutKernel: {
      const int64_t D = t.size(0);
      return t.reshape({D, heads, D / heads}).permute({1, 2, 0}).contiguous();
    }
  }
  return t;
}

std::string key_of(const CheckpointTensor& t) {
  return t.source.rfind(kPrefix, 0) == 0 ? t.source.substr(kPrefix.size()) : t.source;
}

// An archive whose embedding kernel carries the "opt/target/" prefix must carry it everywhere.
void check_prefix(const std::vector<CheckpointTensor>& tensors, const std::string& file) {
  const bool prefixed = std::any_of(tensors.begin(), tensors.end(), [](const CheckpointTensor& t) {
    return t.source == kPrefix + "embedding/kernel";
  });
  if (!prefixed) return;
  for (const auto& t : tensors) {
    if (t.source.rfind(kPrefix, 0) != 0)
      throw InputError(fmt::format("{}: tensor '{}': lacks the '{}' prefix the archive's other keys have",
                                   file, t.source, kPrefix));
  }
}

// The head count only shows in the attention kernels' middle axis; 0 without block 0's query.
int64_t head_count(const std::vector<CheckpointTensor>& tensors, const std::string& file) {
  const std::string q0 = kBlock + "0/" + kAttn + "query/kernel";
  for (const auto& t : tensors) {
    if (key_of(t) != q0) continue;
    if (t.value.dim() != 3 || t.value.size(0) != t.value.size(1) * t.value.size(2))
      bad_shape(file, t.source, "(D, heads, D/heads)", t.value);
    return t.value.size(1);
  }
  return 0;
}

// Per block: q, k, v kernels then biases, stacked once all tensors are seen.
using QkvParts = std::map<int64_t, std::array<CheckpointTensor*, 6>>;

// Appends the timm form of `t` to `out`, or files it under its block in `qkv` when it is a
// query/key/value part. Throws on a key that is not part of the Google layout.
void convert_tensor(CheckpointTensor& t, int64_t heads, const std::string& file, std::vector<CheckpointTensor>& out,
                    QkvParts& qkv) {
  const std::string key = key_of(t);
  bool done = false;
  for (const Rule& r : kGlobalRules)
    if (key == r.google) {
      out.push_back({r.timm, to_timm(t.value, r.layout, heads, file, t.source), t.source, t.file_dtype});
      done = true;
    }
  int64_t block = 0;
  std::string rest;
  if (!done && split_block_key(key, &block, &rest)) {
    const std::string prefix = "blocks." + std::to_string(block) + ".";
    for (const Rule& r : kBlockRules)
      if (rest == r.google) {
        out.push_back({prefix + r.timm, to_timm(t.value, r.layout, heads, file, t.source), t.source, t.file_dtype});
        done = true;
      }
    for (int p = 0; p < 3 && !done; ++p) {
      if (rest == kAttn + kQkvParts[p] + "/kernel") qkv[block][size_t(p)] = &t, done = true;
      if (rest == kAttn + kQkvParts[p] + "/bias") qkv[block][size_t(3 + p)] = &t, done = true;
    }
  }
  if (!done && key.rfind("pre_logits/", 0) == 0) {
    log::info("model", "{}: ignoring '{}' (pre-logits layer, not part of the backbone)", file, t.source);
    done = true;
  }
  if (!done && key.find('/') == std::string::npos) {  // already a timm name (e.g. an adapter)
    out.push_back(t);
    done = true;
  }
  if (!done) throw InputError(fmt::format("{}: unknown tensor '{}' (not a Google ViT key)", file, t.source));
  // Transposed copies replace their sources: drop the source so peak memory stays near one model.
  if (!out.empty() && out.back().source == t.source && !out.back().value.is_same(t.value)) t.value = at::Tensor();
}

// Checks block `block`'s query, key and value parts and appends them as timm's fused qkv
// weight and bias; the parts are released.
void stack_qkv(int64_t block, std::array<CheckpointTensor*, 6>& parts, int64_t heads, const std::string& file,
               std::vector<CheckpointTensor>& out) {
  const std::string base = kBlock + std::to_string(block) + "/" + kAttn;
  std::vector<at::Tensor> w, b;
  std::string dtype;
  for (int p = 0; p < 3; ++p) {
    const CheckpointTensor* k = parts[size_t(p)];
    const CheckpointTensor* bias = parts[size_t(3 + p)];
    const std::string kname = base + kQkvParts[p] + "/kernel", bname = base + kQkvParts[p] + "/bias";
    if (!k) throw InputError(fmt::format("{}: missing tensor '{}'", file, kname));
    if (!bias) throw InputError(fmt::format("{}: missing tensor '{}'", file, bname));
    const at::Tensor& kv = k->value;
    if (kv.dim() != 3 || kv.size(1) != heads || kv.size(0) != kv.size(1) * kv.size(2))
      bad_shape(file, k->source, fmt::format("(D, {}, D/{})", heads, heads), kv);
    const int64_t D = kv.size(0);
    if (bias->value.dim() != 2 || bias->value.size(0) != heads || bias->value.size(1) != D / heads)
      bad_shape(file, bias->source, fmt::format("({}, {})", heads, D / heads), bias->value);
    if (!w.empty() && w[0].size(0) != D)
      bad_shape(file, k->source, shape_str({w[0].size(0), heads, w[0].size(0) / heads}), kv);
    w.push_back(kv.reshape({D, D}).t());
    b.push_back(bias->value.reshape({D}));
    dtype = k->file_dtype;
  }
  const std::string prefix = "blocks." + std::to_string(block) + ".attn.qkv.";
  const std::string& q_src = parts[0]->source;  // keeps an "opt/target/" prefix
  const std::string src = q_src.substr(0, q_src.size() - std::string("query/kernel").size()) + "{query,key,value}/";
  out.push_back({prefix + "weight", at::cat(w, 0).contiguous(), src + "kernel", dtype});
  out.push_back({prefix + "bias", at::cat(b, 0).contiguous(), src + "bias", dtype});
  w.clear();
  for (CheckpointTensor* part : parts) part->value = at::Tensor();
}

}  // namespace

int64_t google_to_timm(std::vector<CheckpointTensor>* tensors, const std::string& file) {
  check_prefix(*tensors, file);
  const int64_t heads = head_count(*tensors, file);
  std::vector<CheckpointTensor> out;
  QkvParts qkv;
  for (CheckpointTensor& t : *tensors) convert_tensor(t, heads, file, out, qkv);
  for (auto& [block, parts] : qkv) stack_qkv(block, parts, heads, file, out);
  *tensors = std::move(out);
  return heads;
}

std::string google_key_of(const std::string& timm_name) {
  for (const Rule& r : kGlobalRules)
    if (timm_name == r.timm) return r.google;
  if (timm_name.rfind("blocks.", 0) != 0) return "";
  const size_t dot = timm_name.find('.', 7);
  if (dot == std::string::npos) return "";
  const std::string block = timm_name.substr(7, dot - 7), rest = timm_name.substr(dot + 1);
  const std::string base = kBlock + block + "/";
  for (const Rule& r : kBlockRules)
    if (rest == r.timm) return base + r.google;
  if (rest == "attn.qkv.weight") return base + kAttn + "{query,key,value}/kernel";
  if (rest == "attn.qkv.bias") return base + kAttn + "{query,key,value}/bias";
  return "";
}

NamedTensors timm_to_google(const NamedTensors& tensors, const ViTConfig& config) {
  const int64_t H = config.heads, D = config.dim;
  NamedTensors out;
  for (const auto& [name, value] : tensors) {
    bool done = false;
    for (const Rule& r : kGlobalRules)
      if (name == r.timm) out.emplace_back(r.google, to_google(value, r.layout, H)), done = true;
    const std::string key = google_key_of(name);
    if (!done && name.rfind("blocks.", 0) == 0 && !key.empty()) {
      const std::string rest = name.substr(name.find('.', 7) + 1);
      const std::string base = key.substr(0, key.find(kAttn) == std::string::npos ? key.size() : key.find(kAttn));
      for (const Rule& r : kBlockRules)
        if (rest == r.timm) out.emplace_back(key, to_google(value, r.layout, H)), done = true;
      if (rest == "attn.qkv.weight" || rest == "attn.qkv.bias") {
        const bool kernel = rest == "attn.qkv.weight";
        std::vector<at::Tensor> parts = value.chunk(3, 0);
        for (int p = 0; p < 3; ++p) {
          at::Tensor g = kernel ? parts[size_t(p)].t().reshape({D, H, D / H}) : parts[size_t(p)].reshape({H, D / H});
          out.emplace_back(base + kAttn + kQkvParts[p] + (kernel ? "/kernel" : "/bias"), g.contiguous());
        }
        done = true;
      }
    }
    if (!done) out.emplace_back(name, value);  // not part of the Google layout: kept verbatim
  }
  return out;
}

}  // namespace sct::model
