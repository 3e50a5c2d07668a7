#include "framework/dist/communicator.h"

#include <ATen/ATen.h>
#include <fmt/core.h>

#include <algorithm>
#include <cstring>

#include "framework/core/error.h"

namespace sct::dist {

size_t dtype_size(DType t) {
  switch (t) {
    case DType::kFloat32: return 4;
    case DType::kFloat64: return 8;
    case DType::kInt64: return 8;
  }
  return 0;
}

const char* reduce_op_name(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum: return "sum";
    case ReduceOp::kAvg: return "avg";
    case ReduceOp::kMax: return "max";
  }
  return "?";
}

DType tensor_dtype(const at::Tensor& t, const char* what) {
  switch (t.scalar_type()) {
    case at::kFloat: return DType::kFloat32;
    case at::kDouble: return DType::kFloat64;
    case at::kLong: return DType::kInt64;
    default:
      throw Error(fmt::format("{}: tensor dtype {} is not supported (float32, float64, int64)",
                              what, c10::toString(t.scalar_type())));
  }
}

namespace {

void check_tensor(const at::Tensor& t, const char* what) {
  if (!t.defined()) throw Error(fmt::format("{}: undefined tensor", what));
  if (!t.is_contiguous())
    throw Error(fmt::format("{}: tensor must be contiguous (make a contiguous copy first)", what));
}

}  // namespace

// The base forms reduce host memory. A tensor on a device (the MPI backend with ranks sharing
// a GPU, say) goes through a host copy: correct, though one copy each way per call.
void Communicator::all_reduce(at::Tensor& tensor, ReduceOp op) {
  check_tensor(tensor, "all_reduce");
  DType dtype = tensor_dtype(tensor, "all_reduce");
  if (tensor.device().is_cpu())
    return all_reduce(tensor.data_ptr(), static_cast<size_t>(tensor.numel()), dtype, op);
  at::Tensor host = tensor.to(at::kCPU);
  all_reduce(host.data_ptr(), static_cast<size_t>(host.numel()), dtype, op);
  tensor.copy_(host);
}

void Communicator::broadcast(at::Tensor& tensor, int root) {
  check_tensor(tensor, "broadcast");
  if (tensor.device().is_cpu()) return broadcast(tensor.data_ptr(), tensor.nbytes(), root);
  at::Tensor host = tensor.to(at::kCPU);
  broadcast(host.data_ptr(), host.nbytes(), root);
  tensor.copy_(host);
}

void Communicator::broadcast(std::string& s, int root) {
  // Length first so receivers can size their buffer; then the bytes.
  int64_t n = static_cast<int64_t>(s.size());
  broadcast(&n, sizeof(n), root);
  s.resize(static_cast<size_t>(n));
  if (n > 0) broadcast(s.data(), s.size(), root);
}

std::vector<std::string> Communicator::all_gather(const std::string& s) {
  // Lengths differ per rank: gather lengths, pad every string to the longest, gather again.
  const int n = size();
  int64_t len = static_cast<int64_t>(s.size());
  std::vector<int64_t> lens(static_cast<size_t>(n));
  all_gather(&len, sizeof(len), lens.data());
  const size_t width = static_cast<size_t>(*std::max_element(lens.begin(), lens.end()));
  std::vector<std::string> out(static_cast<size_t>(n));
  if (width == 0) return out;
  std::string padded = s;
  padded.resize(width, '\0');
  std::string all(width * static_cast<size_t>(n), '\0');
  all_gather(padded.data(), width, all.data());
  for (int r = 0; r < n; ++r)
    out[static_cast<size_t>(r)] = all.substr(static_cast<size_t>(r) * width,
                                             static_cast<size_t>(lens[static_cast<size_t>(r)]));
  return out;
}

}  // namespace sct::dist
