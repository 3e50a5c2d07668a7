#include "framework/peft/adapter_file.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "framework/core/error.h"
#include "framework/core/strings.h"
#include "framework/model/raw_tensor.h"
#include "framework/model/safetensors.h"
#include "framework/model/tensor_io.h"
#include "framework/peft/backbone.h"
#include "framework/peft/method.h"
#include "framework/peft/trainable.h"

namespace sct::peft {
namespace {

constexpr const char* kFormat = "sct-adapter";
constexpr int kVersion = 1;

std::vector<int64_t> sizes(const at::Tensor& t) { return {t.sizes().begin(), t.sizes().end()}; }

nlohmann::json config_json(const model::ViTConfig& c) {
  return {{"dim", c.dim},        {"depth", c.depth},         {"heads", c.heads},
          {"patch", c.patch},    {"image_size", c.image_size}, {"mlp_hidden", c.mlp_hidden()},
          {"num_classes", c.num_classes}};
}

std::string backbone_name(const Recipe& r) {
  return r.model.checkpoint.empty() ? fmt::format("random {} seed {}", r.model.arch, r.seed) : r.model.checkpoint;
}

// The metadata value `key` of `path`; InputError when it is missing.
const std::string& meta(const std::map<std::string, std::string>& m, const std::string& key, const std::string& path) {
  const auto it = m.find(key);
  if (it == m.end()) throw InputError(fmt::format("{}: not an adapter file: metadata '{}' is missing", path, key));
  return it->second;
}

nlohmann::json meta_json(const std::map<std::string, std::string>& m, const std::string& key, const std::string& path) {
  try {
    return nlohmann::json::parse(meta(m, key, path));
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("{}: metadata '{}' is not valid JSON ({})", path, key, e.what()));
  }
}

model::ViTConfig config_from_json(const nlohmann::json& j, const std::string& path) {
  model::ViTConfig c;
  try {
    c.dim = j.at("dim").get<int64_t>();
    c.depth = j.at("depth").get<int64_t>();
    c.heads = j.at("heads").get<int64_t>();
    c.patch = j.at("patch").get<int64_t>();
    c.image_size = j.at("image_size").get<int64_t>();
    c.num_classes = j.at("num_classes").get<int64_t>();
    c.mlp_ratio = double(j.at("mlp_hidden").get<int64_t>()) / double(c.dim);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("{}: metadata 'config': {}", path, e.what()));
  }
  c.validate(fmt::format("{}: metadata 'config'", path));
  return c;
}

// The architecture the adapter's tensors were trained in, field by field.
void check_architecture(const model::ViTConfig& m, const AdapterFile& a) {
  const model::ViTConfig& c = a.config;
  if (m.dim != c.dim || m.depth != c.depth || m.heads != c.heads || m.patch != c.patch ||
      m.mlp_hidden() != c.mlp_hidden())
    throw InputError(fmt::format("{}: the adapter was trained on a backbone with {}, this one has {}", a.path,
                                 c.describe(), m.describe()));
  if (m.image_size != c.image_size)
    throw InputError(fmt::format("{}: the adapter was trained at image size {}, the model is built for {}", a.path,
                                 c.image_size, m.image_size));
  if (m.num_classes != c.num_classes)
    throw InputError(fmt::format("{}: the adapter's head has {} classes, the model's {}", a.path, c.num_classes,
                                 m.num_classes));
}

}  // namespace

std::string frozen_checksum(model::ViTImpl& model, const std::vector<std::string>& trained) {
  const std::set<std::string> skip(trained.begin(), trained.end());
  uint64_t h = fnv1a64("");
  for (const auto& item : model.named_parameters(/*recurse=*/true)) {
    if (skip.count(item.key())) continue;
    const at::Tensor t = item.value().detach().to(at::kCPU, at::kFloat).contiguous();
    h = fnv1a64(item.key(), h);
    h = fnv1a64(model::shape_str(sizes(t)), h);
    h = fnv1a64(std::string_view(static_cast<const char*>(t.data_ptr()), size_t(t.numel()) * sizeof(float)), h);
  }
  return "fnv1a64:" + hex64(h);
}

void write_adapter(const std::string& path, model::ViTImpl& model, const Trainable& trainable, const Recipe& recipe,
                   const ChannelSelection* selection, const std::string& recipe_hash, const std::string& results_json) {
  const Method& m = method(trainable.method());
  SCT_CHECK(!m.needs_selection() || selection, "adapter of '" + m.name() + "' without its channel selection");
  std::vector<model::RawTensor> raws;
  std::vector<std::string> names;
  for (const auto& [name, t] : trainable.named()) {
    raws.push_back(model::tensor_to_raw(name, t.detach().to(at::kCPU, at::kFloat).contiguous()));
    names.push_back(name);
  }
  std::map<std::string, std::string> metadata = {
      {"format", kFormat},
      {"version", std::to_string(kVersion)},
      {"method", m.name()},
      {"recipe", recipe_to_toml(recipe)},
      {"recipe_hash", recipe_hash},
      {"config", config_json(model.config()).dump()},
      {"backbone", backbone_name(recipe)},
      {"backbone_checksum", frozen_checksum(model, names)},
      {"results", results_json.empty() ? "{}" : results_json},
      {"num_heads", std::to_string(model.config().heads)},
  };
  if (m.needs_selection()) {
    metadata["channels"] = selection_to_json(*selection);
    metadata["mode"] = selection->mode;
    metadata["k"] = std::to_string(selection->k);
  }
  model::write_safetensors(path, raws, metadata);
}

AdapterFile read_adapter(const std::string& path) {
  AdapterFile a;
  a.path = path;
  model::FileSource src(path);
  std::vector<model::RawTensor> raws;
  const auto header = model::read_safetensors(src, [&](model::RawTensor&& r) { raws.push_back(std::move(r)); });
  const auto& md = header.metadata;
  if (!md.count("format") || md.at("format") != kFormat)
    throw InputError(fmt::format("{}: not an adapter file (metadata 'format' is not \"{}\"; a whole-model checkpoint "
                                 "is used with `sct_dist forward`)", path, kFormat));
  if (meta(md, "version", path) != std::to_string(kVersion))
    throw InputError(fmt::format("{}: adapter file version {}, this build reads version {}", path,
                                 meta(md, "version", path), kVersion));
  a.method = meta(md, "method", path);
  a.recipe = parse_recipe(meta(md, "recipe", path), path + " (metadata 'recipe')");
  a.recipe_hash = meta(md, "recipe_hash", path);
  a.config = config_from_json(meta_json(md, "config", path), path);
  a.backbone = meta(md, "backbone", path);
  a.backbone_checksum = meta(md, "backbone_checksum", path);
  a.results = meta(md, "results", path);
  if (md.count("channels")) {
    a.selection = parse_selection(md.at("channels"), path + " (metadata 'channels')");
    a.has_selection = true;
  }
  // read_safetensors visits in data order, which write_adapter made the model order.
  for (const auto& r : raws) a.tensors.emplace_back(r.name, model::raw_to_tensor(r));
  return a;
}

model::ViT build_adapter_backbone(const AdapterFile& adapter, const std::string& checkpoint) {
  Recipe r = adapter.recipe;
  if (!checkpoint.empty()) r.model.checkpoint = checkpoint;
  r.model.image_size = adapter.config.image_size;
  model::ViT vit = build_backbone(r, adapter.config.num_classes);
  check_architecture(vit->config(), adapter);
  return vit;
}

void apply_adapter(model::ViTImpl& model, const AdapterFile& adapter) {
  check_architecture(model.config(), adapter);
  const Method& m = method(adapter.method);
  if (m.needs_selection() && !adapter.has_selection)
    throw InputError(fmt::format("{}: method '{}' needs its channels, and metadata 'channels' is missing", adapter.path,
                                 m.name()));
  m.check(adapter.recipe.peft);
  m.install(model, adapter.recipe, adapter.has_selection ? &adapter.selection : nullptr);
  const Trainable trainable(model, m.name());

  std::map<std::string, at::Tensor> stored;
  for (const auto& [name, t] : adapter.tensors) stored.emplace(name, t);
  std::vector<std::string> names;
  for (const auto& [name, t] : trainable.named()) {
    const auto it = stored.find(name);
    if (it == stored.end())
      throw InputError(fmt::format("{}: missing tensor '{}' (method '{}' trains it)", adapter.path, name, m.name()));
    if (sizes(it->second) != sizes(t))
      throw InputError(fmt::format("{}: tensor '{}': shape mismatch: the model expects {}, the file has {}",
                                   adapter.path, name, model::shape_str(sizes(t)), model::shape_str(sizes(it->second))));
    names.push_back(name);
  }
  if (stored.size() != names.size())
    for (const auto& [name, t] : stored)
      if (std::find(names.begin(), names.end(), name) == names.end())
        throw InputError(fmt::format("{}: tensor '{}' is not trained by method '{}'", adapter.path, name, m.name()));

  const std::string checksum = frozen_checksum(model, names);
  if (checksum != adapter.backbone_checksum)
    throw InputError(fmt::format("{}: the backbone differs from the one the adapter was trained on ({}): its frozen "
                                 "parameters have checksum {}, the adapter records {}",
                                 adapter.path, adapter.backbone, checksum, adapter.backbone_checksum));
  at::NoGradGuard no_grad;
  for (const auto& [name, t] : trainable.named()) {
    at::Tensor target = t;
    target.copy_(stored.at(name));
  }
}

model::ViT load_adapted_model(const AdapterFile& adapter, const std::string& checkpoint) {
  model::ViT vit = build_adapter_backbone(adapter, checkpoint);
  apply_adapter(*vit, adapter);
  vit->eval();
  return vit;
}

}  // namespace sct::peft
