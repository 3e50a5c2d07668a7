// inspect: what a task file holds. validate: the same checks a reader makes on open (shapes,
// dtypes, label range, non-empty splits), plus every checksum recomputed from the content.
#include <fmt/core.h>

#include <algorithm>

#include "datasets/sct_data/commands.h"
#include "framework/core/error.h"
#include "framework/core/strings.h"
#include "framework/data/task_file.h"

namespace sct::tools {

int cmd_inspect(const DataCommandLine& line) {
  const std::string &path = line.inspect.file, &only = line.inspect.split;  // only: empty = all
  data::TaskFile f(path);
  if (!only.empty()) f.split(only);  // InputError naming the file and the splits it has
  const auto& m = f.metadata();
  fmt::print("file:              {}\n", path);
  fmt::print("task:              {}\n", m.task);
  fmt::print("group:             {}\n", m.group.empty() ? "-" : m.group);
  fmt::print("classes:           {}\n", m.num_classes);
  fmt::print("image size:        {}x{}\n", m.height, m.width);
  fmt::print("source:            {}\n", m.source.empty() ? "-" : m.source);
  fmt::print("resize method:     {}\n", m.resize_method.empty() ? "-" : m.resize_method);
  fmt::print("converter:         {} (format version {})\n", m.converter_version.empty() ? "-" : m.converter_version,
             m.format_version);
  fmt::print("checksum:          {}\n", m.checksum.empty() ? "- (none stored)" : m.checksum);
  if (!m.class_names.empty()) {
    std::vector<std::string> shown(m.class_names.begin(),
                                   m.class_names.begin() + std::min<size_t>(m.class_names.size(), 12));
    fmt::print("class names:       {}{}\n", join(shown, ", "), m.class_names.size() > 12 ? ", ..." : "");
  }
  fmt::print("splits:\n");
  for (const auto& name : f.split_names()) {
    if (!only.empty() && name != only) continue;
    const auto& s = f.split(name);
    fmt::print("  {:<16} {:>7} images  {}x{}x3 uint8  chunks 1x{}x{}x3  compression {}  {}\n", name, s.count,
               s.height, s.width, s.height, s.width, s.compression, s.checksum.empty() ? "-" : s.checksum);
    std::vector<int64_t> hist(static_cast<size_t>(m.num_classes), 0);
    for (int64_t l : f.labels(name)) ++hist[static_cast<size_t>(l)];
    const auto [mn, mx] = std::minmax_element(hist.begin(), hist.end());
    const int64_t present = std::count_if(hist.begin(), hist.end(), [](int64_t v) { return v > 0; });
    fmt::print("    classes present {}/{}, per class min {} max {}\n", present, m.num_classes, *mn, *mx);
    if (!s.classes.empty()) {
      std::vector<std::string> shown;
      for (size_t i = 0; i < std::min<size_t>(s.classes.size(), 16); ++i) shown.push_back(std::to_string(s.classes[i]));
      fmt::print("    scored over {} of {} classes: {}{}\n", s.classes.size(), m.num_classes, join(shown, ", "),
                 s.classes.size() > 16 ? ", ..." : "");
    }
    std::string line = "    histogram:";
    for (size_t c = 0; c < hist.size(); ++c) {
      std::string item = fmt::format(" {}:{}", c, hist[c]);
      if (line.size() + item.size() > 100) {
        fmt::print("{}\n", line);
        line = "              ";
      }
      line += item;
    }
    fmt::print("{}\n", line);
  }
  return 0;
}

int cmd_validate(const DataCommandLine& line) {
  const std::string& path = line.validate.file;
  data::TaskFile f(path);  // structure, dtypes, shapes, label range, empty splits
  std::vector<std::pair<std::string, std::string>> computed;
  std::vector<std::string> problems;
  bool any_stored = !f.metadata().checksum.empty();
  for (const auto& name : f.split_names()) {
    const auto& s = f.split(name);
    const std::string sum = f.compute_split_checksum(name);
    computed.emplace_back(name, sum);
    if (!s.checksum.empty()) {
      any_stored = true;
      if (s.checksum != sum)
        problems.push_back(fmt::format("split '{}': checksum mismatch (stored {}, computed {})", name,
                                       s.checksum, sum));
    }
    fmt::print("  {:<16} {:>7} images  {}x{}  labels in [0, {}){}  {}{}\n", name, s.count, s.height, s.width,
               f.num_classes(), s.classes.empty() ? "" : fmt::format(", scored over {} classes", s.classes.size()), sum, s.checksum.empty() ? " (none stored)" : s.checksum == sum ? " ok" : " MISMATCH");
  }
  const std::string total = data::combine_split_checksums(computed);
  if (!f.metadata().checksum.empty() && f.metadata().checksum != total && problems.empty())
    problems.push_back(fmt::format("file checksum mismatch (stored {}, computed {}): splits added, removed or renamed",
                                   f.metadata().checksum, total));
  if (!problems.empty()) throw InputError(fmt::format("{}: {}", path, join(problems, "; ")));
  if (!any_stored)
    fmt::print("{}: valid structure and labels; no checksum stored, content not verified (computed {})\n", path, total);
  else
    fmt::print("{}: valid ({} splits, checksum {})\n", path, computed.size(), total);
  return 0;
}

}  // namespace sct::tools
