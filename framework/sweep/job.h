// The batch job this process runs in, from SLURM's environment: the ids the run lock and
// provenance.json record, so a requeued job can recognise what an earlier start of it left.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace sct::sweep {

struct JobIds {
  std::string job_id;         // SLURM_JOB_ID, "" outside SLURM
  std::string array_job_id;   // SLURM_ARRAY_JOB_ID
  std::string array_task_id;  // SLURM_ARRAY_TASK_ID
  int64_t restart_count = 0;  // SLURM_RESTART_COUNT: 0 at the first start, +1 per requeue
};

JobIds job_ids();  // from the environment

// {"job_id", "array_job_id", "array_task_id", "restart_count"}; empty ids are null.
nlohmann::json to_json(const JobIds& ids);
JobIds job_ids_from_json(const nlohmann::json& j);  // missing keys read as empty / 0

std::string utc_now();  // "2026-12-02T14:05:00Z"

}  // namespace sct::sweep
