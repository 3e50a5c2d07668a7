// The HTML report: one self-contained page (inline CSS and SVG, no external resources) with
// the accuracy chart against the published rows, the tables, learning curves and channel maps.
#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "framework/report/reference_rows.h"
#include "framework/report/report.h"
#include "framework/report/summary.h"
#include "framework/report/svg.h"
#include "framework/report/tables.h"

namespace sct::report {
namespace {

const char* kStyle = R"(
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd}
h3{font-size:15px;margin:16px 0 6px}p.dir{color:#666;margin:0 0 10px;font-family:monospace}
div.table{overflow-x:auto}table{border-collapse:collapse;margin:6px 0 14px;font-size:13px}
th,td{border:1px solid #d5d5d5;padding:3px 8px;white-space:nowrap}th{background:#f3f3f3}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}tr.rule td{border-top:2px solid #888}
.grid{display:flex;flex-wrap:wrap;gap:10px}.grid figure{margin:0;border:1px solid #eee;padding:4px}
svg.chart{max-width:100%;height:auto;display:block}svg.chart text{font:11px sans-serif;fill:#333}
svg.chart text.t{font-size:13px;font-weight:600}ul.problems li{font-family:monospace;font-size:12px}
p.note{color:#555;font-size:13px;max-width:60em}
)";

// Records, for tests and for readers who wonder, how many marks each chart drew with a size.
const char* kScript = R"(
(function(){var total=0;document.querySelectorAll('svg.chart').forEach(function(svg){var n=0;
svg.querySelectorAll('.mark').forEach(function(m){var b=m.getBBox();var line=m.tagName==='polyline';
if(line?(b.width>0||b.height>0):(b.width>0&&b.height>0))n++;});svg.setAttribute('data-drawn',String(n));
var r=svg.getBoundingClientRect();svg.setAttribute('data-box',[r.left,r.top+window.scrollY,r.width,r.height]
.map(Math.round).join(','));total+=n;});document.body.setAttribute('data-drawn',String(total));})();
)";

std::string bar_section(const Summary& s) {
  BarChart chart;
  chart.title = fmt::format("Top-1 accuracy per task, {}, against the published rows", s.best_label);
  chart.y_label = "top-1 %";
  chart.y_max = 100;
  for (const auto& t : s.tasks) chart.categories.push_back(t.task);
  for (const auto& m : s.means) chart.categories.push_back(m.label);
  for (size_t k = 0; k < s.configs.size(); ++k) {
    BarSeries b{s.configs[k] + " (this run)", series_colour(k), {}, {}};
    for (const auto& t : s.tasks) {
      b.values.push_back(t.cells[k].best.mean);
      b.errors.push_back(t.cells[k].best.std);
    }
    for (const auto& m : s.means) {
      b.values.push_back(m.best[k].mean);
      b.errors.push_back(m.best[k].std);
    }
    chart.series.push_back(std::move(b));
  }
  if (s.any_vtab) {
    const auto& refs = reference_rows();
    for (size_t i = 0; i < refs.size(); ++i) {
      BarSeries b{refs[i].method + " (published)", reference_colour(i), {}, {}};
      for (const auto& t : s.tasks) b.values.push_back(t.vtab >= 0 ? refs[i].accuracy[t.vtab] : kNaN);
      for (const auto& m : s.means) b.values.push_back(m.reference[i]);
      chart.series.push_back(std::move(b));
    }
  }
  return bar_chart(chart);
}

std::string curves_section(const Summary& s) {
  std::string out;
  for (const auto& t : s.tasks) {
    LineChart acc{t.task + ": accuracy", "epoch", "top-1 %", {}};
    LineChart loss{t.task + ": training loss", "epoch", "loss", {}};
    for (size_t k = 0; k < s.configs.size(); ++k)
      for (const UnitResult* u : t.cells[k].units) {
        LineSeries eval{s.configs[k] + " eval", series_colour(k), false, {}};
        LineSeries train{s.configs[k] + " train", series_colour(k), true, {}};
        LineSeries l{s.configs[k], series_colour(k), false, {}};
        for (const auto& p : u->curve) {
          eval.points.emplace_back(p.epoch, p.eval_acc);
          train.points.emplace_back(p.epoch, p.train_acc);
          l.points.emplace_back(p.epoch, p.loss);
        }
        acc.series.push_back(std::move(eval));
        acc.series.push_back(std::move(train));
        loss.series.push_back(std::move(l));
      }
    out += "<figure>" + line_chart(acc) + line_chart(loss) + "</figure>\n";
  }
  return out;
}

// Percentile rank of each finite value within its layer, in [0, 1].
std::vector<double> ranks(const std::vector<double>& v) {
  std::vector<size_t> idx;
  for (size_t i = 0; i < v.size(); ++i)
    if (std::isfinite(v[i])) idx.push_back(i);
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> r(v.size(), kNaN);
  for (size_t j = 0; j < idx.size(); ++j) r[idx[j]] = idx.size() > 1 ? double(j) / (idx.size() - 1) : 1.0;
  return r;
}

std::string channels_section(const Summary& s) {
  std::string out;
  for (const auto& t : s.tasks)
    for (size_t k = 0; k < s.configs.size(); ++k) {
      std::vector<const UnitResult*> units;
      for (const UnitResult* u : t.cells[k].units)
        if (!u->channels.empty()) units.push_back(u);
      if (units.empty()) continue;
      HeatMap map;
      const bool scored = std::all_of(units.begin(), units.end(), [](auto* u) { return !u->channel_scores.empty(); });
      for (const UnitResult* u : units) {
        map.layers = std::max(map.layers, static_cast<int>(u->channels.size()));
        for (size_t l = 0; l < u->channels.size(); ++l) {
          for (int c : u->channels[l]) map.channels = std::max(map.channels, c + 1);
          if (scored) map.channels = std::max(map.channels, static_cast<int>(u->channel_scores[l].size()));
        }
      }
      map.selected.assign(map.layers, std::vector<double>(map.channels, 0.0));
      if (scored) map.score.assign(map.layers, std::vector<double>(map.channels, 0.0));
      for (const UnitResult* u : units)
        for (size_t l = 0; l < u->channels.size(); ++l) {
          for (int c : u->channels[l]) map.selected[l][c] += 1.0 / units.size();
          if (!scored) continue;
          const auto r = ranks(u->channel_scores[l]);
          for (size_t c = 0; c < r.size(); ++c) map.score[l][c] += r[c] / units.size();
        }
      const int64_t k_sel = units[0]->k > 0 ? units[0]->k : static_cast<int64_t>(units[0]->channels[0].size());
      map.title = fmt::format("{} · {}: selected channels per layer (K = {}, {} seed{})", t.task, s.configs[k],
                              k_sel, units.size(), units.size() == 1 ? "" : "s");
      out += "<figure>" + heat_map(map) + "</figure>\n";
    }
  return out;
}

}  // namespace

std::string render_html(const Run& run) {
  const Summary s = summarize(run);
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += fmt::format("<title>Results: {}</title>\n<style>{}</style>\n</head>\n<body>\n", html_escape(run.dir), kStyle);
  out += fmt::format("<h1>Results</h1>\n<p class=\"dir\">{}</p>\n<p>{}</p>\n", html_escape(run.dir),
                     html_escape(run_overview(run, s)));
  if (!s.tasks.empty()) {
    out += "<h2>Accuracy</h2>\n" + bar_section(s);
    out += "<p class=\"note\">" + html_escape(protocol_note(s)) + " Whiskers are the sample std over seeds.";
    if (s.any_vtab)
      out += " Published rows: ViT-B/16 (ImageNet-21k) on the full VTAB-1k protocol; their means are over the "
             "same tasks as the row.";
    out += "</p>\n";
    for (Accuracy which : {Accuracy::kBest, Accuracy::kLast}) {
      out += fmt::format("<h3>{}</h3>\n", html_escape("Accuracy, " + accuracy_label(s, which)));
      out += "<div class=\"table\">" + to_html(accuracy_table(s, which, true), "acc") + "</div>\n";
    }
    out += "<h3>Trainable parameters and time</h3>\n<div class=\"table\">" + to_html(cost_table(s), "cost") + "</div>\n";
    if (s.any_vtab) out += "<p class=\"note\">" + html_escape(reference_params_line()) + "</p>\n";
    out += "<h2>Learning curves</h2>\n<div class=\"grid\">\n" + curves_section(s) + "</div>\n";
    const std::string maps = channels_section(s);
    if (!maps.empty()) out += "<h2>Selected channels</h2>\n<div class=\"grid\">\n" + maps + "</div>\n";
  }
  const auto problems = problem_lines(run);
  if (!problems.empty()) {
    out += "<h2>Failed units and problems</h2>\n<ul class=\"problems\">\n";
    for (const auto& line : problems) out += "<li>" + html_escape(line) + "</li>\n";
    out += "</ul>\n";
  }
  out += fmt::format("<script>{}</script>\n</body>\n</html>\n", kScript);
  return out;
}

}  // namespace sct::report
