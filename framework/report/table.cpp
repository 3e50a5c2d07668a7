#include "framework/report/table.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

#include "framework/report/summary.h"

namespace sct::report {
namespace {

std::vector<size_t> widths(const Table& t) {
  std::vector<size_t> w(t.header.size(), 0);
  for (size_t c = 0; c < t.header.size(); ++c) w[c] = display_width(t.header[c]);
  for (const auto& row : t.rows)
    for (size_t c = 0; c < row.size() && c < w.size(); ++c) w[c] = std::max(w[c], display_width(row[c]));
  return w;
}

bool right(const Table& t, size_t c) { return c < t.right.size() && t.right[c]; }

std::string pad(const std::string& s, size_t width, bool to_right) {
  const size_t n = display_width(s);
  const std::string fill(width > n ? width - n : 0, ' ');
  return to_right ? fill + s : s + fill;
}

const std::string& cell(const std::vector<std::string>& row, size_t c) {
  static const std::string empty;
  return c < row.size() ? row[c] : empty;
}

std::string md_escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch == '|') out += '\\';
    out += ch;
  }
  return out;
}

}  // namespace

size_t display_width(const std::string& s) {
  size_t n = 0;
  for (unsigned char ch : s) n += (ch & 0xC0) != 0x80;
  return n;
}

std::string html_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += ch;
    }
  }
  return out;
}

std::string to_text(const Table& t) {
  const auto w = widths(t);
  size_t total = 0;
  for (size_t x : w) total += x + 2;
  const std::string line(total > 2 ? total - 2 : 0, '-');
  auto render = [&](const std::vector<std::string>& row) {
    std::string out;
    for (size_t c = 0; c < w.size(); ++c) out += (c ? "  " : "") + pad(cell(row, c), w[c], right(t, c));
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::string out = render(t.header) + line + "\n";
  for (size_t r = 0; r < t.rows.size(); ++r) {
    if (std::count(t.rules.begin(), t.rules.end(), r)) out += line + "\n";
    out += render(t.rows[r]);
  }
  return out;
}

std::string to_markdown(const Table& t) {
  Table escaped = t;
  for (auto& h : escaped.header) h = md_escape(h);
  for (auto& row : escaped.rows)
    for (auto& c : row) c = md_escape(c);
  auto w = widths(escaped);
  for (auto& x : w) x = std::max<size_t>(x, 3);
  auto render = [&](const std::vector<std::string>& row) {
    std::string out = "|";
    for (size_t c = 0; c < w.size(); ++c) out += " " + pad(cell(row, c), w[c], right(t, c)) + " |";
    return out + "\n";
  };
  std::string out = render(escaped.header) + "|";
  for (size_t c = 0; c < w.size(); ++c)
    out += right(t, c) ? " " + std::string(w[c] - 1, '-') + ": |" : " " + std::string(w[c], '-') + " |";
  out += "\n";
  for (const auto& row : escaped.rows) out += render(row);
  return out;
}

std::string to_html(const Table& t, const std::string& css_class) {
  std::string out = css_class.empty() ? "<table>\n" : "<table class=\"" + html_escape(css_class) + "\">\n";
  out += "<thead><tr>";
  for (size_t c = 0; c < t.header.size(); ++c)
    out += fmt::format("<th{}>{}</th>", right(t, c) ? " class=\"num\"" : "", html_escape(t.header[c]));
  out += "</tr></thead>\n<tbody>\n";
  for (size_t r = 0; r < t.rows.size(); ++r) {
    out += std::count(t.rules.begin(), t.rules.end(), r) ? "<tr class=\"rule\">" : "<tr>";
    for (size_t c = 0; c < t.header.size(); ++c)
      out += fmt::format("<td{}>{}</td>", right(t, c) ? " class=\"num\"" : "", html_escape(cell(t.rows[r], c)));
    out += "</tr>\n";
  }
  return out + "</tbody>\n</table>\n";
}

std::string format_value(double v, int decimals) {
  return std::isnan(v) ? "–" : fmt::format("{:.{}f}", v, decimals);
}

std::string format_stat(const Stat& s, int decimals) {
  if (s.n == 0 || std::isnan(s.mean)) return "–";
  if (std::isnan(s.std)) return format_value(s.mean, decimals);
  return fmt::format("{:.{}f} ± {:.{}f}", s.mean, decimals, s.std, decimals);
}

std::string format_params(double count) {
  if (std::isnan(count)) return "–";
  if (count < 1e3) return fmt::format("{:.0f}", count);
  if (count < 1e6) return fmt::format("{:.1f}K", count / 1e3);
  return fmt::format("{:.2f}M", count / 1e6);
}

std::string format_seconds(double seconds) {
  if (std::isnan(seconds)) return "–";
  if (seconds < 60) return fmt::format("{:.1f}s", seconds);
  const long s = std::lround(seconds);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

}  // namespace sct::report
