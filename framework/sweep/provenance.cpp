#include "framework/sweep/provenance.h"

#include <c10/core/Device.h>
#include <fmt/format.h>

#include <filesystem>
#include <map>

#include "framework/core/blas_kernels.h"
#include "framework/core/error.h"
#include "framework/core/fs.h"
#include "framework/core/log.h"
#include "framework/core/sysinfo.h"
#include "framework/data/task_file.h"
#include "framework/data/task_format.h"
#include "framework/model/cpu/gelu.h"
#include "framework/sweep/inputs.h"
#include "framework/sweep/job.h"
#include "framework/train/precision.h"

namespace sct::sweep {
namespace {

constexpr int kSchema = 2;

// Per task file, its task name and split checksums.
nlohmann::json datasets_of(const std::vector<Unit>& units) {
  std::map<std::string, nlohmann::json> datasets;
  for (const auto& unit : units) {
    const std::string& path = unit.recipe.task.data;
    if (path.empty() || datasets.count(path)) continue;
    try {
      data::TaskFile f(path);
      nlohmann::json splits = nlohmann::json::object();
      for (const auto& name : f.split_names()) splits[name] = f.split(name).checksum;
      datasets[path] = {{"task", f.metadata().task}, {"checksum", task_file_checksum(path)}, {"checksums", splits}};
    } catch (const std::exception& e) {
      datasets[path] = {{"error", e.what()}};
    }
  }
  return datasets;
}

// Per backbone checkpoint, the CRC-32 of the file (the one inputs.json records per unit).
nlohmann::json backbones_of(const std::vector<Unit>& units) {
  nlohmann::json backbones = nlohmann::json::object();
  for (const auto& unit : units) {
    const std::string& path = unit.recipe.model.checkpoint;
    if (path.empty() || backbones.contains(path)) continue;
    try {
      backbones[path] = {{"checksum", file_checksum(path)}};
    } catch (const std::exception& e) {
      backbones[path] = {{"error", e.what()}};
    }
  }
  return backbones;
}

// The build and the machine: what decides the speed and the last bits of the numbers.
nlohmann::json build_and_machine(const nlohmann::json& versions) {
  nlohmann::json v = versions;
  v["hdf5"] = data::hdf5_version();
  v["compiler"] = compiler_version();
  const int dirty = git_dirty();
  return {{"sct_dist", {{"version", project_version()},
                        {"git", git_revision()},
                        {"git_dirty", dirty < 0 ? nlohmann::json() : nlohmann::json(dirty == 1)}}},
          {"versions", v},
          {"cpu", {{"model", cpu_model()},
                   {"features", cpu_features().describe()},
                   {"sct_kernels", model::cpu_kernel_set()},
                   {"blas_kernels", blas_kernels()}}}};
}

}  // namespace

nlohmann::json make_provenance(const Recipe& top, const std::vector<Unit>& units, const WorldLayout& layout,
                               const nlohmann::json& versions) {
  nlohmann::json p = build_and_machine(versions);
  p["started_at"] = utc_now();
  p["argv"] = process_argv();
  p["slurm"] = to_json(job_ids());
  p["recipe"] = {{"path", top.source_path}, {"hash", recipe_hash(top)}, {"resolved", recipe_to_toml(top)}};
  nlohmann::json u = nlohmann::json::array();
  for (const auto& unit : units)
    u.push_back({{"unit", unit.id}, {"task", unit.task}, {"method", unit.method}, {"seed", unit.seed},
                 {"variant", unit.variant}, {"training_hash", unit.hash}, {"data", unit.recipe.task.data},
                 {"backbone", unit.recipe.model.checkpoint}});
  p["units"] = u;
  p["datasets"] = datasets_of(units);
  p["backbones"] = backbones_of(units);
  p["world"] = {{"size", layout.world_size}, {"ranks_per_group", layout.ranks_per_group},
                {"hosts", layout.hosts}, {"backends", layout.backends}, {"threads_per_rank", layout.threads}};
  // What ran: each rank's device and GPU as chosen at start-up, the precision of each unit
  // (train.precision as it runs on its group's device; tf32 is float32 on a CPU); the reduction
  // backend of each group is world.backends.
  const bool on_gpus = !layout.devices.empty() && layout.devices.front() != "cpu";
  const c10::Device device = on_gpus ? c10::Device(c10::DeviceType::CUDA, 0) : c10::Device(c10::DeviceType::CPU);
  p["device"] = {{"requested", top.device},
                 {"per_rank", layout.devices},
                 {"gpus", layout.gpus},
                 {"precision", train::effective_precision(top.train.precision, device)}};
  for (size_t i = 0; i < units.size(); ++i)
    p["units"][i]["precision"] = train::effective_precision(units[i].recipe.train.precision, device);
  return p;
}

nlohmann::json append_provenance(const std::string& existing, nlohmann::json record) {
  nlohmann::json file = {{"schema", kSchema}, {"starts", nlohmann::json::array()}};
  if (!existing.empty()) {
    const nlohmann::json old = nlohmann::json::parse(existing);  // throws on a damaged file
    if (!old.is_object()) throw Error("provenance: not a JSON object");
    if (old.contains("starts") && old["starts"].is_array()) file["starts"] = old["starts"];
    else file["starts"].push_back(old);  // an older single-record file: its one start
  }
  record["restart"] = file["starts"].size();
  file["starts"].push_back(std::move(record));
  return file;
}

void append_provenance_file(const std::string& path, const nlohmann::json& record) {
  std::string existing;
  if (std::filesystem::exists(path)) existing = read_text_file(path);
  nlohmann::json file;
  try {
    file = append_provenance(existing, record);
  } catch (const std::exception& e) {
    const std::string kept = path + ".unreadable";
    log::warn("sweep", "{}: cannot read it ({}); kept as {}, starting a new list", path, e.what(), kept);
    std::filesystem::rename(path, kept);
    file = append_provenance("", record);
  }
  atomic_write(path, file.dump(2) + "\n");
}

}  // namespace sct::sweep
