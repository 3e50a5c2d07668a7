#include "framework/report/load.h"

#include <fmt/core.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <tuple>

#include "framework/core/error.h"
#include "framework/core/fs.h"

namespace sct::report {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// nlohmann's message opens with "[json.exception.parse_error.101] "; what follows says where.
json parse_json(const std::string& text) {
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) throw SchemaError("empty file");
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    std::string what = e.what();
    const size_t close = what.find("] ");
    if (close != std::string::npos) what = what.substr(close + 2);
    throw SchemaError("not valid JSON (" + what + ")");
  }
}

// Epochs in metrics.jsonl: its non-blank lines.
int count_lines(const fs::path& path) {
  std::ifstream in(path);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) n += line.find_first_not_of(" \t\r") != std::string::npos;
  return n;
}

// (task, config, seed) -> the units found for it, each with whether its id matches its folder.
using Candidates = std::map<std::tuple<std::string, std::string, int64_t>, std::vector<std::pair<UnitResult, bool>>>;

void read_result(const fs::path& dir, Run& run, Candidates& found) {
  const std::string name = dir.filename().string();
  const fs::path result = dir / "result.json";
  std::vector<std::string> notes;
  try {
    UnitResult u = read_unit_result(parse_json(read_text_file(result.string())), &notes);
    u.file = result.string();
    const bool matches = u.unit.empty() || u.unit == name;
    if (!matches)
      notes.push_back(fmt::format("key 'unit' is '{}' but the folder is '{}'; shown under '{}'", u.unit, name, name));
    u.unit = name;
    for (const auto& n : notes) run.problems.push_back({name, result.string(), n, false});
    found[std::make_tuple(u.task, u.config(), u.seed)].emplace_back(std::move(u), matches);
  } catch (const SchemaError& e) {
    run.problems.push_back({name, result.string(), e.what()});
  } catch (const InputError& e) {  // unreadable file
    run.problems.push_back({name, result.string(), e.what()});
  }
}

void read_error(const fs::path& dir, Run& run) {
  const std::string name = dir.filename().string();
  const fs::path error = dir / "error.json";
  try {
    FailedUnit failed = parse_json(read_text_file(error.string())).get<FailedUnit>();
    failed.unit = name;
    failed.file = error.string();
    run.failed.push_back(std::move(failed));
  } catch (const SchemaError& e) {
    run.problems.push_back({name, error.string(), e.what()});
  } catch (const InputError& e) {
    run.problems.push_back({name, error.string(), e.what()});
  }
}

// A folder with neither result nor error: say whether training had started.
void note_missing(const fs::path& dir, Run& run) {
  const std::string name = dir.filename().string();
  const std::string result = (dir / "result.json").string();
  if (fs::exists(dir / "metrics.jsonl")) {
    const int epochs = count_lines(dir / "metrics.jsonl");
    run.problems.push_back({name, result,
                            fmt::format("missing: the unit is unfinished or its result was lost "
                                        "(metrics.jsonl has {} epoch{})",
                                        epochs, epochs == 1 ? "" : "s")});
  } else {
    run.problems.push_back({name, result, "missing, and no error.json or metrics.jsonl either"});
  }
}

// One unit per (task, config, seed), preferring the one whose own id matches its folder (a
// copied folder is the likelier stray); the others become problems.
void keep_one_of_each(Candidates& found, Run& run) {
  for (auto& [key, candidates] : found) {
    size_t keep = 0;
    while (keep < candidates.size() && !candidates[keep].second) ++keep;
    if (keep == candidates.size()) keep = 0;
    for (size_t i = 0; i < candidates.size(); ++i)
      if (i != keep)
        run.problems.push_back({candidates[i].first.unit, candidates[i].first.file,
                                fmt::format("same task, method, variant and seed as unit '{}'",
                                            candidates[keep].first.unit)});
    run.units.push_back(std::move(candidates[keep].first));
  }
  std::sort(run.units.begin(), run.units.end(),
            [](const UnitResult& a, const UnitResult& b) { return a.unit < b.unit; });
}

}  // namespace

UnitResult parse_result(const std::string& text, const std::string& file, std::vector<std::string>* notes) {
  try {
    UnitResult u = read_unit_result(parse_json(text), notes);
    u.file = file;
    return u;
  } catch (const SchemaError& e) {
    throw InputError(file + ": " + e.what());
  }
}

Run load_run(const std::string& run_dir) {
  Run run;
  run.dir = run_dir;
  const fs::path units = fs::path(run_dir) / "units";
  if (!fs::is_directory(run_dir)) throw InputError(fmt::format("{}: no such run directory", run_dir));
  if (!fs::is_directory(units))
    throw InputError(fmt::format("{}: no units/ folder; expected a run directory written by `sct_dist run` "
                                 "(layout in framework/report/RESULTS.md)",
                                 run_dir));
  std::vector<fs::path> dirs;
  for (const auto& entry : fs::directory_iterator(units))
    if (entry.is_directory()) dirs.push_back(entry.path());
  std::sort(dirs.begin(), dirs.end());
  run.unit_dirs = static_cast<int>(dirs.size());
  // Duplicates are resolved after all are read.
  Candidates found;
  for (const fs::path& dir : dirs) {
    if (fs::exists(dir / "result.json"))
      read_result(dir, run, found);
    else if (fs::exists(dir / "error.json"))
      read_error(dir, run);
    else
      note_missing(dir, run);
  }
  keep_one_of_each(found, run);
  return run;
}

}  // namespace sct::report
