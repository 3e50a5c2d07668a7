// Inline SVG charts for the HTML report, drawn here so the page needs no script or network:
// grouped bars, line charts and a layers × channels heat map.
// Every chart is <svg class="chart" data-marks="N">, and each of its N data marks (bar, line,
// heat-map run) carries class "mark", so a browser can check that all of them were drawn.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace sct::report {

struct BarSeries {
  std::string name, colour;
  std::vector<double> values;  // one per category; NaN draws no bar
  std::vector<double> errors;  // optional ± whisker per category (NaN or empty: none)
};

struct BarChart {
  std::string title, y_label;
  std::vector<std::string> categories;
  std::vector<BarSeries> series;
  double y_max = 0;  // upper end of the axis when > 0 (100 for percentages); whiskers are clipped
};

struct LineSeries {
  std::string name, colour;
  bool dashed = false;
  std::vector<std::pair<double, double>> points;  // (x, y), NaN y values skipped
};

struct LineChart {
  std::string title, x_label, y_label;
  std::vector<LineSeries> series;  // series with equal name, colour and dash share a legend entry
  int width = 420, height = 240;
};

struct HeatMap {
  std::string title;
  int layers = 0, channels = 0;
  // layers × channels in [0, 1] (colour scale), or empty when there are no scores; NaN cells
  // are left blank.
  std::vector<std::vector<double>> score;
  // layers × channels: fraction of seeds that selected the channel (0 = never).
  std::vector<std::vector<double>> selected;
};

std::string bar_chart(const BarChart& chart);
std::string line_chart(const LineChart& chart);
std::string heat_map(const HeatMap& map);

// Categorical colours for configurations, and lighter ones for the published rows.
const std::string& series_colour(size_t i);
const std::string& reference_colour(size_t i);

}  // namespace sct::report
