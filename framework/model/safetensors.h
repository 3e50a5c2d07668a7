// Hugging Face .safetensors: an 8-byte header length, a JSON header of
// {name: {dtype, shape, data_offsets}} plus optional "__metadata__", then raw little-endian data.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "framework/model/npz.h"
#include "framework/model/raw_tensor.h"

namespace sct::model {

struct SafetensorsEntry {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // relative to the first data byte
};

struct SafetensorsHeader {
  std::vector<SafetensorsEntry> entries;  // in data order
  std::map<std::string, std::string> metadata;
  uint64_t data_start = 0;  // 8 + header length
};

// Parses and validates the header against the source's size: header length inside the file,
// valid JSON, dtypes F32/F16/BF16/F64, offsets inside the data and matching the shape, no two
// tensors overlapping. Errors name the file and the tensor.
SafetensorsHeader parse_safetensors_header(const ByteSource& src);

// Reads every tensor in data order; returns the header it followed.
SafetensorsHeader read_safetensors(const ByteSource& src, const RawTensorVisitor& visit);

// Writes the tensors in order with `metadata` (string values) atomically.
void write_safetensors(const std::string& path, const std::vector<RawTensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace sct::model
