// NumPy .npy encoding: header parsing (format versions 1.0-3.0, '<f4', '<f2', '<f8', C order)
// and writing. Errors name `where` (the file, and the tensor for archive members).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "framework/model/raw_tensor.h"

namespace sct::model {

struct NpyHeader {
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  size_t data_offset = 0;  // bytes before the array data
  uint64_t nbytes = 0;     // bytes of array data
};

// Smallest prefix that holds the magic, version and header length; the full header needs
// npy_header_size(prefix) bytes.
constexpr size_t kNpyPrefixSize = 12;
size_t npy_header_size(const uint8_t* bytes, size_t size, const std::string& where);

// Parses the header at the start of `bytes` (at least npy_header_size bytes). Rejects bad
// magic, unknown versions, malformed dictionaries, dtypes other than '<f4' '<f2' '<f8' and
// fortran_order=True.
NpyHeader parse_npy_header(const uint8_t* bytes, size_t size, const std::string& where);

// A whole .npy in memory; its size must be exactly header + data.
RawTensor parse_npy(const uint8_t* bytes, size_t size, const std::string& where);

// The encoded header for an array (version 1.0, or 2.0 when it would not fit), padded so the
// data starts on a 64-byte boundary as NumPy writes it.
std::string encode_npy_header(DType dtype, const std::vector<int64_t>& shape);

RawTensor read_npy(const std::string& path);
void write_npy(const std::string& path, const RawTensor& tensor);  // atomic

}  // namespace sct::model
