#include "framework/train/task_checkpoint.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <cstring>
#include <filesystem>

#include "framework/core/error.h"
#include "framework/model/raw_tensor.h"
#include "framework/model/safetensors.h"

namespace sct::train {
namespace {

constexpr const char* kFormat = "sct_dist task checkpoint";

model::RawTensor raw(const std::string& name, const at::Tensor& t) {
  at::Tensor c = t.contiguous().to(at::kFloat);
  model::RawTensor r;
  r.name = name;
  r.dtype = model::DType::kF32;
  r.shape = {c.numel()};
  r.data.resize(static_cast<size_t>(c.numel()) * 4);
  std::memcpy(r.data.data(), c.data_ptr(), r.data.size());
  return r;
}

at::Tensor tensor(const model::RawTensor& r) {
  at::Tensor t = at::empty({static_cast<int64_t>(r.data.size() / 4)}, at::kFloat);
  std::memcpy(t.data_ptr(), r.data.data(), r.data.size());
  return t;
}

nlohmann::json state_json(const TrainState& s) {
  nlohmann::json curve = nlohmann::json::array();
  for (const auto& m : s.curve) curve.push_back(to_json(m));
  return {{"epoch", s.epoch},       {"step", s.step},         {"adam_steps", s.adam_steps},
          {"curve", curve},         {"best_acc", s.best_acc}, {"best_epoch", s.best_epoch},
          {"loss_sum", s.loss_sum}, {"correct", s.correct},   {"count", s.count}};
}

}  // namespace

std::string checkpoint_path(const std::string& unit_dir) {
  return (std::filesystem::path(unit_dir) / "checkpoint.safetensors").string();
}

void save_task_checkpoint(const std::string& path, const TaskCheckpoint& c) {
  nlohmann::json entries = nlohmann::json::array();
  for (const auto& e : c.entries) entries.push_back({{"name", e.name}, {"offset", e.offset}, {"shape", e.shape}});
  std::map<std::string, std::string> meta{
      {"format", kFormat},
      {"version", "1"},
      {"recipe_hash", c.recipe_hash},
      {"world_size", std::to_string(c.world_size)},
      {"entries", entries.dump()},
      {"meta", c.meta.dump()},
      // Doubles survive the round trip exactly: nlohmann prints the shortest exact form.
      {"state", state_json(c.state).dump()},
  };
  model::write_safetensors(path, {raw("values", c.values), raw("adamw.exp_avg", c.exp_avg),
                                  raw("adamw.exp_avg_sq", c.exp_avg_sq)},
                           meta);
}

TaskCheckpoint load_task_checkpoint(const std::string& path) {
  TaskCheckpoint c;
  model::FileSource src(path);
  std::map<std::string, at::Tensor> tensors;
  auto header = model::read_safetensors(src, [&](model::RawTensor&& r) {
    if (r.dtype != model::DType::kF32) throw InputError(fmt::format("{}: tensor '{}' is not f32", path, r.name));
    tensors[r.name] = tensor(r);
  });
  auto get = [&](const char* key) -> const std::string& {
    auto it = header.metadata.find(key);
    if (it == header.metadata.end())
      throw InputError(fmt::format("{}: not a task checkpoint (metadata '{}' missing)", path, key));
    return it->second;
  };
  if (get("format") != kFormat) throw InputError(fmt::format("{}: not a task checkpoint", path));
  try {
    c.recipe_hash = get("recipe_hash");
    c.world_size = std::stoi(get("world_size"));
    for (const auto& e : nlohmann::json::parse(get("entries"))) {
      FlatEntry fe;
      fe.name = e.at("name").get<std::string>();
      fe.offset = e.at("offset").get<int64_t>();
      fe.shape = e.at("shape").get<std::vector<int64_t>>();
      fe.numel = 1;
      for (auto d : fe.shape) fe.numel *= d;
      c.entries.push_back(fe);
    }
    c.meta = nlohmann::json::parse(get("meta"));
    auto s = nlohmann::json::parse(get("state"));
    c.state.epoch = s.at("epoch").get<int64_t>();
    c.state.step = s.at("step").get<int64_t>();
    c.state.adam_steps = s.at("adam_steps").get<int64_t>();
    for (const auto& m : s.at("curve")) c.state.curve.push_back(epoch_metrics_from_json(m));
    c.state.best_acc = s.at("best_acc").get<double>();
    c.state.best_epoch = s.at("best_epoch").get<int64_t>();
    c.state.loss_sum = s.at("loss_sum").get<double>();
    c.state.correct = s.at("correct").get<double>();
    c.state.count = s.at("count").get<double>();
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("{}: corrupt task checkpoint metadata ({})", path, e.what()));
  }
  for (const char* name : {"values", "adamw.exp_avg", "adamw.exp_avg_sq"})
    if (!tensors.count(name)) throw InputError(fmt::format("{}: tensor '{}' missing", path, name));
  c.values = tensors["values"];
  c.exp_avg = tensors["adamw.exp_avg"];
  c.exp_avg_sq = tensors["adamw.exp_avg_sq"];
  return c;
}

void check_compatible(const std::string& path, const TaskCheckpoint& c, const std::string& recipe_hash,
                      const std::vector<FlatEntry>& entries) {
  if (c.recipe_hash != recipe_hash)
    throw InputError(fmt::format(
        "{}: written by another recipe (hash {}, this run {}); delete the unit's directory or pass --force "
        "to start it again",
        path, c.recipe_hash, recipe_hash));
  if (c.entries.size() != entries.size())
    throw InputError(fmt::format("{}: holds {} trainable tensors, this model has {}", path, c.entries.size(),
                                 entries.size()));
  for (size_t i = 0; i < entries.size(); ++i) {
    if (c.entries[i].name != entries[i].name || c.entries[i].shape != entries[i].shape)
      throw InputError(fmt::format("{}: trainable tensor {} is '{}' {} in the checkpoint but '{}' {} in this model",
                                   path, i, c.entries[i].name, fmt::join(c.entries[i].shape, "x"),
                                   entries[i].name, fmt::join(entries[i].shape, "x")));
  }
  int64_t total = entries.empty() ? 0 : entries.back().offset + entries.back().numel;
  if (c.values.numel() != total || c.exp_avg.numel() != total || c.exp_avg_sq.numel() != total)
    throw InputError(fmt::format("{}: buffers hold {} values, expected {}", path, c.values.numel(), total));
}

}  // namespace sct::train
