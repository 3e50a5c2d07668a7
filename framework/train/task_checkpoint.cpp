#include "framework/train/task_checkpoint.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <cstring>
#include <filesystem>

#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/data/task_format.h"
#include "framework/model/raw_tensor.h"
#include "framework/model/safetensors.h"

namespace sct::train {
namespace {

constexpr const char* kFormat = "sct_dist task checkpoint";
constexpr const char* kChecksumKey = "checksum";
constexpr const char* kDeleteAdvice =
    "delete it to restart the unit from the beginning, or pass --force to let the run do that";
constexpr const char* kTensorNames[] = {"values", "adamw.exp_avg", "adamw.exp_avg_sq"};

// Checkpoints hold host copies, whatever device trained: a GPU run resumes on a CPU and back.
model::RawTensor raw(const std::string& name, const at::Tensor& t) {
  at::Tensor c = t.detach().to(at::kCPU, at::kFloat).contiguous();
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

// CRC-32 over every metadata entry but the checksum itself (key, value, in key order) and then
// the tensors' bytes in file order: any flipped byte of the header's values or of the data
// changes it.
std::string content_checksum(const std::map<std::string, std::string>& meta,
                             const std::vector<const std::vector<uint8_t>*>& data) {
  data::Crc32 crc;
  for (const auto& [key, value] : meta) {
    if (key == kChecksumKey) continue;
    crc.update(key.data(), key.size());
    crc.update("=", 1);
    crc.update(value.data(), value.size());
    crc.update("\n", 1);
  }
  for (const auto* bytes : data) crc.update(bytes->data(), bytes->size());
  return crc.text();
}

// A checkpoint written before checksums existed is trusted as before; any other mismatch is a
// corrupt file (a flipped byte, a truncated copy) that must not be resumed from.
void verify_checksum(const std::string& path, const std::map<std::string, std::string>& meta,
                     const std::map<std::string, model::RawTensor>& raws) {
  const auto stored = meta.find(kChecksumKey);
  if (stored == meta.end()) {
    log::warn("train", "{}: written without a checksum (an older version); its content cannot be verified", path);
    return;
  }
  std::vector<const std::vector<uint8_t>*> data;
  for (const char* name : kTensorNames) {
    const auto it = raws.find(name);
    if (it == raws.end()) throw InputError(fmt::format("{}: tensor '{}' missing; {}", path, name, kDeleteAdvice));
    data.push_back(&it->second.data);
  }
  const std::string actual = content_checksum(meta, data);
  if (actual != stored->second)
    throw InputError(fmt::format("{}: corrupt checkpoint (checksum {} stored, {} computed); {}", path,
                                 stored->second, actual, kDeleteAdvice));
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
  const std::vector<model::RawTensor> tensors{raw(kTensorNames[0], c.values), raw(kTensorNames[1], c.exp_avg),
                                              raw(kTensorNames[2], c.exp_avg_sq)};
  meta[kChecksumKey] = content_checksum(meta, {&tensors[0].data, &tensors[1].data, &tensors[2].data});
  model::write_safetensors(path, tensors, meta);
}

TaskCheckpoint load_task_checkpoint(const std::string& path) {
  TaskCheckpoint c;
  model::FileSource src(path);
  std::map<std::string, model::RawTensor> raws;
  model::SafetensorsHeader header;
  try {
    header = model::read_safetensors(src, [&](model::RawTensor&& r) { raws[r.name] = std::move(r); });
  } catch (const Error& e) {
    throw InputError(fmt::format("{}; {}", e.what(), kDeleteAdvice));
  }
  verify_checksum(path, header.metadata, raws);
  std::map<std::string, at::Tensor> tensors;
  for (const auto& [name, r] : raws) {
    if (r.dtype != model::DType::kF32) throw InputError(fmt::format("{}: tensor '{}' is not f32", path, name));
    tensors[name] = tensor(r);
  }
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
  for (const char* name : kTensorNames)
    if (!tensors.count(name)) throw InputError(fmt::format("{}: tensor '{}' missing", path, name));
  c.values = tensors["values"];
  c.exp_avg = tensors["adamw.exp_avg"];
  c.exp_avg_sq = tensors["adamw.exp_avg_sq"];
  return c;
}

std::string checkpoint_recipe_hash(const std::string& path) {
  try {
    const model::SafetensorsHeader header = model::parse_safetensors_header(model::FileSource(path));
    const auto it = header.metadata.find("recipe_hash");
    return it == header.metadata.end() ? std::string() : it->second;
  } catch (const std::exception&) {
    return std::string();
  }
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
