#include "framework/data/task_format.h"

#include <fmt/core.h>
#include <zlib.h>

#include <algorithm>

namespace sct::data {

void Crc32::update(const void* data, size_t size) {
  const auto* p = static_cast<const Bytef*>(data);
  while (size > 0) {  // zlib takes uInt lengths
    const auto chunk = static_cast<uInt>(std::min<size_t>(size, 1u << 30));
    crc_ = static_cast<uint32_t>(crc32(crc_, p, chunk));
    p += chunk;
    size -= chunk;
  }
}

std::string Crc32::text() const { return fmt::format("crc32:{:08x}", crc_); }

void update_labels_crc(Crc32& crc, const std::vector<int64_t>& labels) {
  std::vector<uint8_t> bytes(labels.size() * 8);
  for (size_t i = 0; i < labels.size(); ++i) {
    const auto v = static_cast<uint64_t>(labels[i]);
    for (int b = 0; b < 8; ++b) bytes[i * 8 + b] = static_cast<uint8_t>(v >> (8 * b));
  }
  crc.update(bytes.data(), bytes.size());
}

std::string split_classes_problem(const std::vector<int64_t>& classes, int64_t num_classes) {
  if (classes.empty()) return "is empty (it lists the classes the split is scored over)";
  for (size_t i = 0; i < classes.size(); ++i) {
    if (classes[i] < 0 || classes[i] >= num_classes)
      return fmt::format("holds {} at position {}, outside [0, {}) (num_classes)", classes[i], i, num_classes);
    if (i > 0 && classes[i] == classes[i - 1])
      return fmt::format("holds {} twice (positions {} and {})", classes[i], i - 1, i);
    if (i > 0 && classes[i] < classes[i - 1])
      return fmt::format("is not in ascending order ({} at position {} after {})", classes[i], i, classes[i - 1]);
  }
  return "";
}

int64_t first_label_outside(const std::vector<int64_t>& labels, const std::vector<int64_t>& classes) {
  for (size_t i = 0; i < labels.size(); ++i)
    if (!std::binary_search(classes.begin(), classes.end(), labels[i])) return static_cast<int64_t>(i);
  return -1;
}

std::string combine_split_checksums(std::vector<std::pair<std::string, std::string>> splits) {
  std::sort(splits.begin(), splits.end());
  std::string text;
  for (const auto& [name, sum] : splits) text += name + "=" + sum + "\n";
  Crc32 crc;
  crc.update(text.data(), text.size());
  return crc.text();
}

}  // namespace sct::data
