#include "framework/report/report.h"

#include <fmt/core.h>

#include "framework/core/error.h"
#include "framework/report/summary.h"
#include "framework/report/tables.h"

namespace sct::report {
Format parse_format(const std::string& name) {
  if (name == "md" || name == "markdown") return Format::kMarkdown;
  if (name == "csv") return Format::kCsv;
  if (name == "html") return Format::kHtml;
  throw InputError(fmt::format("report: option '--format' expects md, csv or html, found '{}'", name));
}

std::string render(const Run& run, Format format) {
  switch (format) {
    case Format::kMarkdown: return render_markdown(run);
    case Format::kCsv: return render_csv(run);
    case Format::kHtml: return render_html(run);
  }
  return {};
}

std::string render_markdown(const Run& run) {
  const Summary s = summarize(run);
  std::string out = fmt::format("# Results: {}\n\n{}\n\n{}\n", run.dir, run_overview(run, s), protocol_note(s));
  if (!s.tasks.empty()) {
    for (Accuracy which : {Accuracy::kBest, Accuracy::kLast}) {
      out += fmt::format("\n## Accuracy, {}\n\n", accuracy_label(s, which));
      out += to_markdown(accuracy_table(s, which, true));
    }
    if (s.any_vtab)
      out += "\nPublished rows: ViT-B/16 (ImageNet-21k) on the full VTAB-1k protocol; means over the "
             "same tasks as the row.\n";
    out += "\n## Trainable parameters and time\n\n" + to_markdown(cost_table(s));
    if (s.any_vtab) out += "\n" + reference_params_line() + "\n";
  }
  const auto problems = problem_lines(run);
  if (!problems.empty()) {
    out += "\n## Failed units and problems\n\n";
    for (const auto& line : problems) out += "- " + line + "\n";
  }
  return out;
}

std::string summary_table(const Run& run) {
  const Summary s = summarize(run);
  std::string out = fmt::format("results of {}: {}\n", run.dir, run_overview(run, s));
  if (!s.tasks.empty()) {
    Table t = accuracy_table(s, Accuracy::kBest, false, true);
    const Table last = accuracy_table(s, Accuracy::kLast, false, true);
    // Interleave: best and last side by side per configuration.
    const size_t first = t.header.size() - s.configs.size();
    Table both;
    both.header.assign(t.header.begin(), t.header.begin() + first);
    for (const auto& c : s.configs) {
      both.header.push_back(c + " best*");
      both.header.push_back(c + " last");
    }
    both.right.assign(both.header.size(), true);
    for (size_t c = 0; c < first; ++c) both.right[c] = false;
    both.rules = t.rules;
    for (size_t r = 0; r < t.rows.size(); ++r) {
      std::vector<std::string> row(t.rows[r].begin(), t.rows[r].begin() + first);
      for (size_t k = 0; k < s.configs.size(); ++k) {
        row.push_back(t.rows[r][first + k]);
        row.push_back(last.rows[r][first + k]);
      }
      both.rows.push_back(std::move(row));
    }
    out += "\n" + to_text(both);
    out += fmt::format("* best = {}; last = {}, after the final epoch.\n", s.best_label, s.last_label);
    if (s.max_seeds > 1) out += "  Cells are mean ± std over seeds.\n";
  }
  const auto problems = problem_lines(run);
  if (!problems.empty()) {
    out += "\nfailed units and problems:\n";
    for (const auto& line : problems) out += "  " + line + "\n";
  }
  return out;
}

std::string summary_table(const std::string& run_dir) { return summary_table(load_run(run_dir)); }

}  // namespace sct::report
