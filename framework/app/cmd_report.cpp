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

int report_command(Env& env, const CommandLine& line) {
  (void)env;  // needs no world: a report is a single-process job
  const ReportOptions& options = line.report;
  const report::Format format = report::parse_format(options.format);
  const std::string &output = options.output, &run_dir = options.run_dir;
  const bool strict = options.strict;
  if (log::rank() != 0) return kExitOk;  // started under mpirun: rank 0 writes

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

}  // namespace sct::app
