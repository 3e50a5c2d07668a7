// NumPy .npz archives through libzip: stored and deflated members, ZIP64 both ways.
// Each member "<key>.npy" becomes a RawTensor named <key>.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "framework/model/raw_tensor.h"

namespace sct::model {

using RawTensorVisitor = std::function<void(RawTensor&& tensor)>;

// Calls `visit` for every member in archive order, so callers can convert and drop each one
// before the next is read. Errors name the file and the member's key.
void read_npz(const std::string& path, const RawTensorVisitor& visit);
void read_npz_buffer(const void* data, size_t size, const std::string& name,
                     const RawTensorVisitor& visit);

// Writes the tensors (f32/f16/f64) atomically, deflated when `compress`.
void write_npz(const std::string& path, const std::vector<RawTensor>& tensors, bool compress = false);

}  // namespace sct::model
