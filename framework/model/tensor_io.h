// Conversions between parsed RawTensors and float32 LibTorch tensors, and .npy files as tensors.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>

#include "framework/model/raw_tensor.h"

namespace sct::model {

// A contiguous float32 CPU tensor with the raw tensor's shape (f16, bf16 and f64 converted).
at::Tensor raw_to_tensor(const RawTensor& raw);
// The tensor's values in `dtype` (rounded to nearest even for f16/bf16).
RawTensor tensor_to_raw(const std::string& name, const at::Tensor& tensor, DType dtype = DType::kF32);

// A .npy file (f4/f2/f8, C order) as float32.
at::Tensor read_npy_tensor(const std::string& path);
// Writes float32 .npy atomically.
void write_npy_tensor(const std::string& path, const at::Tensor& tensor);

}  // namespace sct::model
