// IDX files (the MNIST family's format; gzip-compressed or raw) as converter input.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "framework/data/convert.h"

namespace sct::data {

struct IdxArray {
  std::vector<int64_t> dims;
  int type = 0;                 // IDX type code: 0x08 ubyte, 0x09 byte, 0x0B int16, 0x0C int32
  std::vector<uint8_t> bytes;   // ubyte payload (images)
  std::vector<int64_t> values;  // integer payload widened (labels)
};

// Reads an IDX file, .gz or not. InputError naming the file on a bad magic, an unsupported
// type, or a truncated payload.
IdxArray read_idx(const std::string& path);

// Images [begin, end) of an (N, rows, cols) or (N, rows, cols, 1|3) ubyte array with their
// labels, as RGB (gray replicated) resized to height x width with Pillow's bicubic when the
// size differs. InputError when the counts disagree or labels fall outside [0, classes).
SplitSource idx_split_source(const std::string& name, std::shared_ptr<const IdxArray> images,
                             const IdxArray& labels, int64_t begin, int64_t end, int height,
                             int width, int64_t num_classes, const std::string& what);

}  // namespace sct::data
