// Reading a run directory's unit results (framework/report/RESULTS.md, schema 1). Bad, missing
// or unfinished unit files become named problems instead of errors, so a report always shows
// what could be read.
#pragma once

#include <string>
#include <vector>

#include "framework/report/unit_result.h"

namespace sct::report {

// Something wrong with a unit's files. `excluded` units are missing from every table; the
// others are shown with the faulty optional part (e.g. a malformed curve) left out.
struct Problem {
  std::string unit, file, what;
  bool excluded = true;
};

struct Run {
  std::string dir;
  int unit_dirs = 0;  // directories under units/
  std::vector<UnitResult> units;  // sorted by unit name
  std::vector<FailedUnit> failed;
  std::vector<Problem> problems;
};

// Reads every units/*/result.json (or error.json) of `run_dir`. Throws InputError only when
// `run_dir` has no units/ folder; each unreadable unit is recorded in Run::problems.
Run load_run(const std::string& run_dir);

// Parses one result.json text. Throws InputError "<file>: <what>" naming the key when a
// required field is missing or has the wrong type; faults in optional fields are appended
// to `notes` (and the field is left empty) when notes is given, else thrown too.
UnitResult parse_result(const std::string& text, const std::string& file,
                        std::vector<std::string>* notes = nullptr);

}  // namespace sct::report
