#include "framework/sweep/inputs.h"

#include <sys/stat.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <vector>

#include "framework/core/error.h"
#include "framework/core/fs.h"
#include "framework/data/task_file.h"
#include "framework/data/task_format.h"

namespace sct::sweep {
namespace {

// (path, device, inode, size, mtime): a file replaced or rewritten gets another key.
std::string identity(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) throw InputError(fmt::format("{}: cannot read ({})", path, std::strerror(errno)));
  return fmt::format("{}|{}|{}|{}|{}.{}", path, st.st_dev, st.st_ino, st.st_size, st.st_mtim.tv_sec,
                     st.st_mtim.tv_nsec);
}

// Memoises `compute(path)` by the file's identity, for the whole process.
std::string cached(const char* kind, const std::string& path, std::string (*compute)(const std::string&)) {
  static std::mutex mutex;
  static std::map<std::string, std::string> values;
  const std::string key = std::string(kind) + "|" + identity(path);
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (auto it = values.find(key); it != values.end()) return it->second;
  }
  const std::string value = compute(path);
  std::lock_guard<std::mutex> lock(mutex);
  return values[key] = value;
}

std::string compute_file_checksum(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw InputError(fmt::format("{}: cannot read ({})", path, std::strerror(errno)));
  data::Crc32 crc;
  std::vector<char> buf(1 << 20);
  size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) crc.update(buf.data(), n);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) throw InputError(fmt::format("{}: cannot read (read error)", path));
  return crc.text();
}

std::string compute_task_checksum(const std::string& path) {
  data::TaskFile file(path);
  if (!file.metadata().checksum.empty()) return file.metadata().checksum;
  std::vector<std::pair<std::string, std::string>> splits;
  for (const auto& name : file.split_names()) {
    const std::string& stored = file.split(name).checksum;
    splits.emplace_back(name, stored.empty() ? file.compute_split_checksum(name) : stored);
  }
  return data::combine_split_checksums(splits);
}

// One input's comparison: "" when equal or not recorded.
std::string compare(const nlohmann::json& stored, const char* key, const char* what, const std::string& path,
                    const std::string& now) {
  if (!stored.contains(key) || !stored[key].is_object()) return "";
  const nlohmann::json& then = stored[key];
  const std::string then_path = then.value("path", ""), then_sum = then.value("checksum", "");
  if (then_path != path)
    return fmt::format("its {} was {} when the unit started, and is {} now", what,
                       then_path.empty() ? "none" : then_path, path.empty() ? "none" : path);
  if (then_sum != now)
    return fmt::format("the {} {} changed since the unit started ({} then, {} now)", what, path, then_sum, now);
  return "";
}

}  // namespace

std::string file_checksum(const std::string& path) { return cached("file", path, compute_file_checksum); }
std::string task_file_checksum(const std::string& path) { return cached("task", path, compute_task_checksum); }

UnitInputs unit_inputs(const Recipe& recipe) {
  UnitInputs in;
  in.data = recipe.task.data;
  if (!in.data.empty()) in.data_checksum = task_file_checksum(in.data);
  in.backbone = recipe.model.checkpoint;
  if (!in.backbone.empty()) in.backbone_checksum = file_checksum(in.backbone);
  return in;
}

std::string inputs_path(const std::string& unit_dir) { return (std::filesystem::path(unit_dir) / "inputs.json").string(); }

nlohmann::json to_json(const UnitInputs& in) {
  return {{"data", {{"path", in.data}, {"checksum", in.data_checksum}}},
          {"backbone", {{"path", in.backbone}, {"checksum", in.backbone_checksum}}}};
}

std::string inputs_changed(const nlohmann::json& stored, const UnitInputs& now) {
  std::string why = compare(stored, "data", "task file", now.data, now.data_checksum);
  if (why.empty()) why = compare(stored, "backbone", "backbone checkpoint", now.backbone, now.backbone_checksum);
  return why;
}

std::string recorded_inputs_changed(const std::string& unit_dir, const Recipe& recipe) {
  const std::string path = inputs_path(unit_dir);
  if (!std::filesystem::exists(path)) return "";
  try {
    return inputs_changed(nlohmann::json::parse(read_text_file(path)), unit_inputs(recipe));
  } catch (const std::exception&) {
    return "";  // unreadable now: the unit's run names the file that is missing or bad
  }
}

}  // namespace sct::sweep
