#include "framework/model/tensor_io.h"

#include <ATen/ATen.h>

#include <cstring>

#include "framework/model/npy.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "checkpoint data is little-endian");

namespace sct::model {
namespace {

at::ScalarType scalar_type(DType d) {
  switch (d) {
    case DType::kF32: return at::kFloat;
    case DType::kF16: return at::kHalf;
    case DType::kBF16: return at::kBFloat16;
    case DType::kF64: return at::kDouble;
  }
  return at::kFloat;
}

}  // namespace

at::Tensor raw_to_tensor(const RawTensor& raw) {
  auto* data = const_cast<uint8_t*>(raw.data.data());  // only read: converted or cloned below
  at::Tensor view = at::from_blob(data, raw.shape, at::TensorOptions().dtype(scalar_type(raw.dtype)));
  return raw.dtype == DType::kF32 ? view.clone() : view.to(at::kFloat);
}

RawTensor tensor_to_raw(const std::string& name, const at::Tensor& tensor, DType dtype) {
  at::Tensor t = tensor.detach().to(at::kCPU).to(scalar_type(dtype)).contiguous();
  RawTensor raw;
  raw.name = name;
  raw.dtype = dtype;
  raw.shape.assign(t.sizes().begin(), t.sizes().end());
  raw.data.resize(size_t(t.numel()) * dtype_size(dtype));
  if (!raw.data.empty()) std::memcpy(raw.data.data(), t.data_ptr(), raw.data.size());
  return raw;
}

at::Tensor read_npy_tensor(const std::string& path) { return raw_to_tensor(read_npy(path)); }

void write_npy_tensor(const std::string& path, const at::Tensor& tensor) {
  write_npy(path, tensor_to_raw(path, tensor, DType::kF32));
}

}  // namespace sct::model
