#include "datasets/sct_data/list_source.h"

#include <fmt/core.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include "framework/core/error.h"
#include "framework/data/decode.h"
#include "framework/data/resize.h"

namespace sct::data {

std::vector<ListEntry> read_list_file(const std::string& list_path, int64_t num_classes) {
  std::ifstream in(list_path);
  if (!in) throw InputError(fmt::format("{}: cannot open list file", list_path));
  std::vector<ListEntry> out;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    // The label is the last field, so paths with spaces still parse.
    const size_t end = line.find_last_not_of(" \t");
    const size_t sep = line.find_last_of(" \t", end);
    if (sep == std::string::npos)
      throw InputError(fmt::format("{}:{}: expected '<image path> <label>', found '{}'", list_path, n, line));
    const std::string label_text = line.substr(sep + 1, end - sep);
    std::string path = line.substr(0, line.find_last_not_of(" \t", sep) + 1);
    path.erase(0, path.find_first_not_of(" \t"));
    char* stop = nullptr;
    const long long label = std::strtoll(label_text.c_str(), &stop, 10);
    if (path.empty() || *stop != '\0')
      throw InputError(fmt::format("{}:{}: expected '<image path> <integer label>', found '{}'", list_path, n, line));
    if (label < 0 || (num_classes > 0 && label >= num_classes))
      throw InputError(fmt::format("{}:{}: label {} outside [0, {})", list_path, n, label, num_classes));
    out.push_back({path, label, n});
  }
  if (out.empty()) throw InputError(fmt::format("{}: list file has no entries", list_path));
  return out;
}

SplitSource list_split_source(const std::string& name, const std::string& list_path,
                              const std::string& image_root, int height, int width,
                              int64_t num_classes) {
  auto entries = std::make_shared<std::vector<ListEntry>>(read_list_file(list_path, num_classes));
  SplitSource src;
  src.name = name;
  for (const auto& e : *entries) src.labels.push_back(e.label);
  const std::string root = image_root.empty() ? "." : image_root;
  src.produce = [entries, root, list_path, height, width](int64_t i, uint8_t* out) {
    const ListEntry& e = (*entries)[i];
    const std::string file = e.path.front() == '/' ? e.path : root + "/" + e.path;
    ImageU8 img;
    try {
      img = to_rgb(load_image(file));
    } catch (const InputError& err) {
      throw InputError(fmt::format("{} (listed at {}:{})", err.what(), list_path, e.line));
    }
    if (img.height != height || img.width != width) img = resize_bicubic(img, height, width);
    std::memcpy(out, img.pixels.data(), img.size());
  };
  return src;
}

}  // namespace sct::data
