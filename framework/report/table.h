// A plain table of strings and its renderings as aligned text, Markdown and HTML, plus the
// number formats the reports share.
#pragma once

#include <string>
#include <vector>

namespace sct::report {

struct Stat;

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<bool> right;   // per column: right-aligned (numbers); missing entries mean left
  std::vector<size_t> rules;  // row indices before which a separator line is drawn
};

// Columns padded to equal width, separated by two spaces, header underlined.
std::string to_text(const Table& t);
// A GitHub-style pipe table, padded so it also reads well in a terminal.
std::string to_markdown(const Table& t);
// <table> with <thead>/<tbody>; rows after a rule get class "rule". Cells are escaped.
std::string to_html(const Table& t, const std::string& css_class = "");

std::string html_escape(const std::string& s);
// Display width of UTF-8 text (code points; "±" counts one).
size_t display_width(const std::string& s);

// "72.13 ± 0.25" (std when present), "72.13", or "–" when there is no value.
std::string format_stat(const Stat& s, int decimals = 2);
std::string format_value(double v, int decimals = 2);  // "–" for NaN
// Parameter counts as "950", "111.7K", "85.80M".
std::string format_params(double count);
// Durations as "12.3s", "4m05s", "2h03m".
std::string format_seconds(double seconds);

}  // namespace sct::report
