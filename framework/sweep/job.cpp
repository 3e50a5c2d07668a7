#include "framework/sweep/job.h"

#include <cstdlib>
#include <ctime>

namespace sct::sweep {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

nlohmann::json id_or_null(const std::string& id) { return id.empty() ? nlohmann::json() : nlohmann::json(id); }

std::string string_at(const nlohmann::json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

}  // namespace

JobIds job_ids() {
  JobIds ids;
  ids.job_id = env("SLURM_JOB_ID");
  ids.array_job_id = env("SLURM_ARRAY_JOB_ID");
  ids.array_task_id = env("SLURM_ARRAY_TASK_ID");
  ids.restart_count = std::atoll(env("SLURM_RESTART_COUNT").c_str());
  return ids;
}

nlohmann::json to_json(const JobIds& ids) {
  return {{"job_id", id_or_null(ids.job_id)},
          {"array_job_id", id_or_null(ids.array_job_id)},
          {"array_task_id", id_or_null(ids.array_task_id)},
          {"restart_count", ids.restart_count}};
}

JobIds job_ids_from_json(const nlohmann::json& j) {
  JobIds ids;
  if (!j.is_object()) return ids;
  ids.job_id = string_at(j, "job_id");
  ids.array_job_id = string_at(j, "array_job_id");
  ids.array_task_id = string_at(j, "array_task_id");
  if (j.contains("restart_count") && j["restart_count"].is_number_integer())
    ids.restart_count = j["restart_count"].get<int64_t>();
  return ids;
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

}  // namespace sct::sweep
