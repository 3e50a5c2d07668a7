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

std::string combine_split_checksums(std::vector<std::pair<std::string, std::string>> splits) {
  std::sort(splits.begin(), splits.end());
  std::string text;
  for (const auto& [name, sum] : splits) text += name + "=" + sum + "\n";
  Crc32 crc;
  crc.update(text.data(), text.size());
  return crc.text();
}

}  // namespace sct::data
