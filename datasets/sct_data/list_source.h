// Splits given as a list file of "<relative image path> <integer label>" lines plus an image
// root: the VTAB-1k folder layout, and the shape few-shot and domain-generalisation
// benchmarks come in, so a new benchmark needs no new code.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "framework/data/convert.h"

namespace sct::data {

struct ListEntry {
  std::string path;  // as written in the list file
  int64_t label = 0;
  int line = 0;
};

// Parses a list file. InputError "<file>:<line>: ..." on malformed lines or, when
// num_classes > 0, labels outside [0, num_classes). Blank lines are skipped.
std::vector<ListEntry> read_list_file(const std::string& list_path, int64_t num_classes);

// Images are read from image_root/path, converted to RGB and resized to height x width with
// Pillow's antialiased bicubic (a no-op for images already at that size).
SplitSource list_split_source(const std::string& name, const std::string& list_path,
                              const std::string& image_root, int height, int width,
                              int64_t num_classes);

}  // namespace sct::data
