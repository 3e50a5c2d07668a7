#include "framework/report/svg.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "framework/report/table.h"

namespace sct::report {
namespace {

constexpr double kCharW = 6.2;  // average glyph width of the 11px sans-serif used in charts

struct Axis {
  double lo, hi, step;
};

// Round bounds and a 1/2/5 step giving about `target` intervals.
Axis nice_axis(double lo, double hi, int target = 5) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
  if (hi <= lo) {
    const double pad = lo == 0 ? 1 : std::fabs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const double raw = (hi - lo) / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  const double step = (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
  return {std::floor(lo / step + 1e-9) * step, std::ceil(hi / step - 1e-9) * step, step};
}

// Shortest text of v to two decimals ("12", "12.5", "12.25"): heat maps hold thousands of numbers.
std::string compact(double v) {
  std::string s = fmt::format("{:.2f}", v);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

std::string tick_text(double v, double step) {
  const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
  return fmt::format("{:.{}f}", std::fabs(v) < step * 1e-6 ? 0.0 : v, decimals);
}

std::string text(double x, double y, const std::string& s, const char* anchor = "start", const char* extra = "") {
  return fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"{}\"{}>{}</text>", x, y, anchor, extra,
                     html_escape(s));
}

std::string open_svg(double w, double h, const char* kind, size_t marks, const std::string& title) {
  return fmt::format(
      "<svg class=\"chart\" data-kind=\"{}\" data-marks=\"{}\" xmlns=\"http://www.w3.org/2000/svg\" "
      "width=\"{:.0f}\" height=\"{:.0f}\" viewBox=\"0 0 {:.0f} {:.0f}\" role=\"img\" aria-label=\"{}\">\n"
      "<rect x=\"0\" y=\"0\" width=\"{:.0f}\" height=\"{:.0f}\" fill=\"#ffffff\"/>\n",
      kind, marks, w, h, w, h, html_escape(title), w, h);
}

struct LegendItem {
  std::string name, colour;
  bool dashed = false;
};

// Legend entries flowing left to right, wrapping at `width`; returns its height.
double legend(std::string& out, const std::vector<LegendItem>& items, double x0, double y0, double width) {
  double x = x0, y = y0;
  for (const auto& it : items) {
    const double w = 18 + it.name.size() * kCharW + 14;
    if (x > x0 && x + w > x0 + width) x = x0, y += 16;
    if (it.dashed)
      out += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" "
                         "stroke-width=\"2\" stroke-dasharray=\"4 3\"/>",
                         x, y - 4, x + 14, y - 4, it.colour);
    else
      out += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"12\" height=\"10\" fill=\"{}\"/>", x, y - 9,
                         it.colour);
    out += text(x + 18, y, it.name) + "\n";
    x += w;
  }
  return items.empty() ? 0 : y - y0 + 16;
}

// Horizontal grid lines and tick labels of a y axis spanning [top, top + h].
void y_axis(std::string& out, const Axis& a, double left, double top, double w, double h, const std::string& label) {
  for (double v = a.lo; v <= a.hi + a.step * 1e-6; v += a.step) {
    const double y = top + h - (v - a.lo) / (a.hi - a.lo) * h;
    out += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#e3e3e3\"/>", left, y,
                       left + w, y);
    out += text(left - 4, y + 3.5, tick_text(v, a.step), "end") + "\n";
  }
  out += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#555\"/>", left, top,
                     top + h);
  out += text(12, top + h / 2, label, "middle",
              fmt::format(" transform=\"rotate(-90 12 {:.1f})\"", top + h / 2).c_str()) + "\n";
}

}  // namespace

const std::string& series_colour(size_t i) {
  static const std::vector<std::string> c = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd",
                                             "#8c564b", "#e377c2", "#17becf", "#bcbd22"};
  return c[i % c.size()];
}

const std::string& reference_colour(size_t i) {
  static const std::vector<std::string> c = {"#c7c7c7", "#9e9e9e", "#c5b0d5", "#aec7e8", "#98df8a", "#ff9896"};
  return c[i % c.size()];
}

std::string bar_chart(const BarChart& chart) {
  const size_t nc = chart.categories.size(), ns = chart.series.size();
  const double bw = std::clamp(640.0 / std::max<size_t>(1, nc * ns), 3.0, 16.0);
  const double gap = std::max(bw, 8.0);
  const double plot_w = std::max(300.0, nc * (ns * bw + gap));
  std::vector<LegendItem> items;
  double hi = 0;
  for (const auto& s : chart.series) {
    items.push_back({s.name, s.colour});
    for (size_t i = 0; i < s.values.size(); ++i) {
      const double e = i < s.errors.size() && std::isfinite(s.errors[i]) ? s.errors[i] : 0;
      if (std::isfinite(s.values[i])) hi = std::max(hi, s.values[i] + e);
    }
  }
  std::string body;
  const double left = 52, width = left + std::max(plot_w, chart.title.size() * kCharW * 1.2) + 16;
  const double legend_h = legend(body, items, left, 40, plot_w);
  const double top = 44 + legend_h, plot_h = 240;
  size_t longest = 0;
  for (const auto& c : chart.categories) longest = std::max(longest, c.size());
  const double height = top + plot_h + 16 + longest * kCharW * 0.72;
  Axis a = nice_axis(0, chart.y_max > 0 ? std::min(hi, chart.y_max) : hi);
  if (chart.y_max > 0) a.hi = std::min(a.hi, chart.y_max);
  y_axis(body, a, left, top, plot_w, plot_h, chart.y_label);
  auto y_of = [&](double v) { return top + plot_h - (std::min(v, a.hi) - a.lo) / (a.hi - a.lo) * plot_h; };

  size_t marks = 0;
  for (size_t c = 0; c < nc; ++c) {
    const double x0 = left + c * (ns * bw + gap) + gap / 2;
    for (size_t k = 0; k < ns; ++k) {
      const auto& s = chart.series[k];
      if (c >= s.values.size() || !std::isfinite(s.values[c])) continue;
      const double v = s.values[c], x = x0 + k * bw;
      const double y = y_of(v), h = std::max(1.0, top + plot_h - y);  // a 0 % bar stays visible
      const bool has_err = c < s.errors.size() && std::isfinite(s.errors[c]);
      body += fmt::format(
          "<rect class=\"mark bar\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\">"
          "<title>{}: {}{}</title></rect>\n",
          x, top + plot_h - h, std::max(1.0, bw - 1), h, s.colour, html_escape(chart.categories[c] + " · " + s.name),
          format_value(v), has_err ? " ± " + format_value(s.errors[c]) : "");
      ++marks;
      if (has_err && s.errors[c] > 0)
        body += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#222\"/>\n",
                            x + (bw - 1) / 2, y_of(v + s.errors[c]), y_of(std::max(a.lo, v - s.errors[c])));
    }
    const double cx = x0 + ns * bw / 2, cy = top + plot_h + 12;
    body += text(cx, cy, chart.categories[c], "end",
                 fmt::format(" transform=\"rotate(-45 {:.1f} {:.1f})\"", cx, cy).c_str()) + "\n";
  }
  body += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"#555\"/>\n", left,
                      top + plot_h, left + plot_w);
  return open_svg(width, height, "bars", marks, chart.title) + text(left, 20, chart.title, "start", " class=\"t\"") +
         "\n" + body + "</svg>\n";
}

std::string line_chart(const LineChart& chart) {
  double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
  std::vector<LegendItem> items;
  for (const auto& s : chart.series) {
    for (const auto& [x, y] : s.points)
      if (std::isfinite(x) && std::isfinite(y)) {
        x_lo = std::min(x_lo, x), x_hi = std::max(x_hi, x);
        y_lo = std::min(y_lo, y), y_hi = std::max(y_hi, y);
      }
    const bool seen = std::any_of(items.begin(), items.end(), [&](const LegendItem& it) {
      return it.name == s.name && it.colour == s.colour && it.dashed == s.dashed;
    });
    if (!seen) items.push_back({s.name, s.colour, s.dashed});
  }
  if (!std::isfinite(x_lo)) return "<p class=\"none\">" + html_escape(chart.title) + ": no values recorded</p>\n";
  const double left = 50, right = 12, w = chart.width, h = chart.height;
  std::string body;
  const double legend_h = legend(body, items, left, 36, w - left - right);
  const double top = 40 + legend_h, plot_w = w - left - right, plot_h = h - 36 - 40;
  const double height = top + plot_h + 36;
  bool integer_x = true;  // epochs: no ticks between them
  for (const auto& s : chart.series)
    for (const auto& p : s.points) integer_x = integer_x && p.first == std::floor(p.first);
  Axis xa = nice_axis(x_lo, x_hi);
  if (integer_x && xa.step < 1) xa = {x_lo, std::max(x_hi, x_lo + 1), 1.0};
  const Axis ya = nice_axis(y_lo, y_hi, 4);
  y_axis(body, ya, left, top, plot_w, plot_h, chart.y_label);
  auto px = [&](double x) { return left + (x - xa.lo) / (xa.hi - xa.lo) * plot_w; };
  auto py = [&](double y) { return top + plot_h - (y - ya.lo) / (ya.hi - ya.lo) * plot_h; };
  for (double v = xa.lo; v <= xa.hi + xa.step * 1e-6; v += xa.step)
    body += text(px(v), top + plot_h + 14, tick_text(v, xa.step), "middle");
  body += text(left + plot_w / 2, top + plot_h + 30, chart.x_label, "middle") + "\n";
  body += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"#555\"/>\n", left,
                      top + plot_h, left + plot_w);
  size_t marks = 0;
  for (const auto& s : chart.series) {
    std::string pts;
    size_t n = 0;
    double last_x = 0, last_y = 0;
    for (const auto& [x, y] : s.points)
      if (std::isfinite(x) && std::isfinite(y)) {
        pts += fmt::format("{}{:.1f},{:.1f}", n ? " " : "", px(x), py(y));
        last_x = px(x), last_y = py(y);
        ++n;
      }
    const std::string dash = s.dashed ? " stroke-dasharray=\"4 3\"" : "";
    if (n >= 2)
      body += fmt::format("<polyline class=\"mark line\" points=\"{}\" fill=\"none\" stroke=\"{}\" "
                          "stroke-width=\"1.6\"{}><title>{}</title></polyline>\n",
                          pts, s.colour, dash, html_escape(s.name));
    else if (n == 1)
      body += fmt::format("<circle class=\"mark dot\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\"/>\n", last_x,
                          last_y, s.colour);
    marks += n > 0;
  }
  return open_svg(w, height, "lines", marks, chart.title) + text(left, 18, chart.title, "start", " class=\"t\"") +
         "\n" + body + "</svg>\n";
}

std::string heat_map(const HeatMap& map) {
  static const char* viridis[] = {"#440154", "#46327e", "#365c8d", "#277f8e",
                                  "#1fa187", "#4ac16d", "#a0da39", "#fde725"};
  static const char* blues[] = {"#c6dbef", "#6baed6", "#2171b5", "#08306b"};
  const int L = map.layers, D = map.channels;
  const bool scored = !map.score.empty();
  const double cw = std::clamp(720.0 / std::max(1, D), 1.0, 12.0), ch = std::clamp(180.0 / std::max(1, L), 6.0, 16.0);
  const double left = 44, plot_w = D * cw, plot_h = L * ch;
  std::string body;
  std::vector<LegendItem> items;
  if (scored) {
    items = {{"score low", viridis[0]}, {"score high (per-layer rank)", viridis[7]},
             {"selected in every seed", "#e41a1c"}, {"selected in some seeds", "#fb9a99"}};
  } else {
    items = {{"selected in every seed", blues[3]}, {"in some seeds", blues[1]}, {"not selected", "#eeeeee"}};
  }
  const double legend_h = legend(body, items, left, 36, std::max(plot_w, 420.0));
  const double top = 40 + legend_h, height = top + plot_h + 34;
  const double width = left + std::max({plot_w, 420.0, map.title.size() * kCharW * 1.2}) + 12;
  body += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"#eeeeee\"/>\n", left,
                      top, plot_w, plot_h);

  // One path per colour: runs of equal colour within a layer become one rectangle each.
  std::map<std::string, std::string> paths;  // colour -> path data
  std::vector<std::string> order;
  auto runs = [&](double y, double h, auto&& colour_of) {
    int c = 0;
    while (c < D) {
      const char* col = colour_of(c);
      int e = c + 1;
      while (e < D && col && colour_of(e) == col) ++e;
      if (col) {
        if (!paths.count(col)) order.push_back(col);
        paths[col] += "M" + compact(left + c * cw) + " " + compact(y) + "h" + compact((e - c) * cw) + "v" +
                      compact(h) + "h" + compact(-(e - c) * cw) + "z";
      }
      c = e;
    }
  };
  auto sel = [&](int l, int c) {
    return l < static_cast<int>(map.selected.size()) && c < static_cast<int>(map.selected[l].size())
               ? map.selected[l][c]
               : 0.0;
  };
  for (int l = 0; l < L; ++l) {
    const double y = top + l * ch;
    if (scored) {
      runs(y + ch / 3, ch - ch / 3 - 0.5, [&](int c) -> const char* {
        const double v = c < static_cast<int>(map.score[l].size()) ? map.score[l][c] : NAN;
        return std::isfinite(v) ? viridis[std::clamp(static_cast<int>(v * 8), 0, 7)] : nullptr;
      });
      runs(y, ch / 3, [&](int c) -> const char* {
        const double f = sel(l, c);
        return f >= 1 - 1e-9 ? "#e41a1c" : f > 0 ? "#fb9a99" : nullptr;
      });
    } else {
      runs(y, ch - 0.5, [&](int c) -> const char* {
        const double f = sel(l, c);
        return f <= 0 ? nullptr : blues[std::clamp(static_cast<int>(std::ceil(f * 4)) - 1, 0, 3)];
      });
    }
    if (ch >= 10 || l % 2 == 0) body += text(left - 4, y + ch / 2 + 3.5, fmt::format("L{}", l), "end") + "\n";
  }
  for (const auto& col : order)
    body += fmt::format("<path class=\"mark cells\" d=\"{}\" fill=\"{}\"/>\n", paths[col], col);
  for (int i = 0; i <= 4; ++i) {
    const int c = i == 4 ? D - 1 : D * i / 4;
    body += text(left + (c + 0.5) * cw, top + plot_h + 14, std::to_string(c), "middle");
  }
  body += text(left + plot_w / 2, top + plot_h + 28, "channel", "middle") + "\n";
  return open_svg(width, height, "heatmap", order.size(), map.title) +
         text(left, 18, map.title, "start", " class=\"t\"") + "\n" + body + "</svg>\n";
}

}  // namespace sct::report
