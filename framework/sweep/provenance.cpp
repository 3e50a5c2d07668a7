#include "framework/sweep/provenance.h"

#include <ctime>
#include <map>

#include "framework/core/sysinfo.h"
#include "framework/data/task_file.h"

namespace sct::sweep {

nlohmann::json make_provenance(const Recipe& top, const std::vector<Unit>& units, const WorldLayout& layout,
                               const nlohmann::json& versions) {
  nlohmann::json p;
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  p["started_at"] = buf;
  p["sct_dist"] = {{"version", project_version()}, {"git", git_revision()}};
  p["versions"] = versions;
  p["recipe"] = {{"path", top.source_path}, {"hash", recipe_hash(top)}, {"resolved", recipe_to_toml(top)}};
  nlohmann::json u = nlohmann::json::array();
  std::map<std::string, nlohmann::json> datasets;
  for (const auto& unit : units) {
    u.push_back({{"unit", unit.id}, {"task", unit.task}, {"method", unit.method}, {"seed", unit.seed},
                 {"variant", unit.variant}, {"training_hash", unit.hash}, {"data", unit.recipe.task.data}});
    const std::string& path = unit.recipe.task.data;
    if (path.empty() || datasets.count(path)) continue;
    try {
      data::TaskFile f(path);
      nlohmann::json splits = nlohmann::json::object();
      for (const auto& name : f.split_names()) splits[name] = f.split(name).checksum;
      datasets[path] = {{"task", f.metadata().task}, {"checksums", splits}};
    } catch (const std::exception& e) {
      datasets[path] = {{"error", e.what()}};
    }
  }
  p["units"] = u;
  p["datasets"] = datasets;
  p["world"] = {{"size", layout.world_size}, {"ranks_per_group", layout.ranks_per_group},
                {"hosts", layout.hosts}, {"backends", layout.backends}, {"threads_per_rank", layout.threads}};
  return p;
}

}  // namespace sct::sweep
