// `sct_dist report RUN_DIR`: tables (Markdown, CSV) or a self-contained HTML page of a run's
// results. Reads files only, so it needs no world; under mpirun only rank 0 writes.
#include <fmt/core.h>

#include <cstdio>

#include "framework/app/command.h"
#include "framework/core/error.h"
#include "framework/core/fs.h"
#include "framework/core/log.h"
#include "framework/report/report.h"

namespace sct::app {
namespace {

int report_command(Env& env, const std::vector<std::string>& args) {
  (void)env;  // the world is not used: a report is a single-process job
  Args a("report", args);
  const report::Format format = report::parse_format(a.option("--format", "md"));
  const std::string output = a.option("--output");
  const bool strict = a.flag("--strict");
  const std::string run_dir = a.positional(1, 1)[0];
  if (log::rank() != 0) return kExitOk;

  const report::Run run = report::load_run(run_dir);
  const std::string text = report::render(run, format);
  if (output.empty()) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
  } else {
    atomic_write(output, text);
    log::info("report", "wrote {} ({} bytes)", output, text.size());
  }
  // The report names every problem itself; stderr repeats them so they are not lost in a pipe.
  for (const auto& f : run.failed) log::warn("report", "{}: unit failed: {}", f.file, f.error);
  for (const auto& p : run.problems) log::warn("report", "{}: {}", p.file, p.what);
  if (run.units.empty()) log::warn("report", "{}: no finished units", run_dir);
  return strict && !run.problems.empty() ? kExitBadInput : kExitOk;
}

}  // namespace

SCT_REGISTER_COMMAND(Command{
    "report",
    "report RUN_DIR [--format md|csv|html] [--output FILE] [--strict]\n\n"
    "  --format   md (default; also the terminal table), csv (one row per value) or html\n"
    "  --output   write to FILE (atomically) instead of stdout\n"
    "  --strict   exit 2 when a unit's result file is missing or unreadable (the report still prints)",
    "tables (md, csv) or a self-contained HTML page with charts of a run's results",
    report_command, false});

}  // namespace sct::app
