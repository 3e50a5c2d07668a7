// Results reports of a run directory: Markdown (also the terminal table), CSV and a
// self-contained HTML page with charts; and the plain-text summary a sweep prints at its end.
#pragma once

#include <string>

#include "framework/report/load.h"

namespace sct::report {

enum class Format { kMarkdown, kCsv, kHtml };

// "md" (or "markdown"), "csv", "html"; InputError naming the option otherwise.
Format parse_format(const std::string& name);

std::string render(const Run& run, Format format);
std::string render_markdown(const Run& run);
// Long format, one row per value: kind (unit | task | group_mean | mean | reference |
// reference_mean | failed | problem), task, group, config, method, variant, seed, n_seeds,
// best, best_label, best_std, last, last_std, trainable_without_head, total_s, tasks, note.
std::string render_csv(const Run& run);
std::string render_html(const Run& run);

// Plain-text table: per-task best and last per configuration (mean ± std over seeds), the
// group means and the overall mean, then the failed units and problems. No published rows.
std::string summary_table(const Run& run);
// Same, loading the run first (load_run). Throws InputError only when there is no units/.
std::string summary_table(const std::string& run_dir);

}  // namespace sct::report
