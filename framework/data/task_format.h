// The task file schema (one HDF5 file per task; documented for h5py users in
// datasets/README.md) and the content checksum both the writer and `validate` compute.
//
//   /                 attributes: format="sct-task", format_version, task, group, num_classes,
//                     class_names (optional), source, resize_method, image_size=[H, W],
//                     checksum, converter_version
//   /<split>/images   uint8 [N, H, W, 3], chunked one image per chunk (optional gzip)
//   /<split>/labels   integer [N] (int64 when written here), values in [0, num_classes)
//   /<split>          attribute checksum = "crc32:xxxxxxxx" of the split's content
//   /<split>          attribute classes = int64 [M] (optional): the class indices the split is
//                     scored over, strictly ascending, in [0, num_classes), every label among
//                     them (ImageNet-A and -R: their 200 of ImageNet's 1000 classes)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sct::data {

inline constexpr const char* kFormatName = "sct-task";
inline constexpr int64_t kFormatVersion = 1;
inline constexpr const char* kConverterVersion = "sct_data 1";

struct TaskMetadata {
  std::string task;
  std::string group;                     // "Natural", "Specialized", "Structured" or ""
  int64_t num_classes = 0;
  std::vector<std::string> class_names;  // empty when unknown
  std::string source;                    // where the images came from
  std::string resize_method;             // e.g. "pillow-bicubic-antialias" or "none"
  int64_t height = 0;                    // image_size
  int64_t width = 0;
  std::string converter_version;
  // Read back from a file; the writer computes these.
  std::string checksum;
  int64_t format_version = 0;
};

// The HDF5 library's version, e.g. "1.10.8".
std::string hdf5_version();

// CRC-32 (zlib's polynomial; Python's zlib.crc32) over a byte stream.
class Crc32 {
 public:
  void update(const void* data, size_t size);
  uint32_t value() const { return crc_; }
  std::string text() const;  // "crc32:xxxxxxxx"

 private:
  uint32_t crc_ = 0;
};

// Split checksum: CRC-32 of the images' bytes in C order (N x H x W x 3), continued over the
// labels as little-endian int64, then over the split's classes (when it has them) the same way.
void update_labels_crc(Crc32& crc, const std::vector<int64_t>& labels);

// What is wrong with a split's scored classes, "" when nothing: they must be non-empty,
// strictly ascending (so no duplicates) and within [0, num_classes). E.g. "holds 7 twice
// (positions 3 and 4)".
std::string split_classes_problem(const std::vector<int64_t>& classes, int64_t num_classes);
// The index of the first label that is not among `classes` (ascending), -1 when none.
int64_t first_label_outside(const std::vector<int64_t>& labels, const std::vector<int64_t>& classes);

// File checksum: CRC-32 of the text "<split>=<split checksum>\n" for splits in byte-wise
// sorted name order.
std::string combine_split_checksums(std::vector<std::pair<std::string, std::string>> splits);

}  // namespace sct::data
