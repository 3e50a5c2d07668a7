#include "framework/core/torch_compat.h"

#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include <cmath>
#include <cstdlib>

#ifdef SCT_TORCH_CUDA
#include <ATen/cuda/CUDAEvent.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#endif

// LibTorch 2.4 made autocast per device type (set_autocast_enabled(device, on)); 1.13 has one
// call per device kind (set_enabled for CUDA, set_cpu_enabled).
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define SCT_AUTOCAST_PER_DEVICE 1
#endif

namespace sct::torch_compat {

std::string torch_version() { return TORCH_VERSION; }

bool built_with_cuda() {
#ifdef SCT_TORCH_CUDA
  return true;
#else
  return false;
#endif
}

int cuda_device_count() {
#ifdef SCT_TORCH_CUDA
  // 0 (with a warning from LibTorch) when the driver is missing or finds no GPU.
  return static_cast<int>(c10::cuda::device_count());
#else
  return 0;
#endif
}

std::string cuda_device_name(int index) {
#ifdef SCT_TORCH_CUDA
  if (index < 0 || index >= cuda_device_count()) return "";
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, index) != cudaSuccess) {
    cudaGetLastError();
    return "";
  }
  return prop.name;
#else
  (void)index;
  return "";
#endif
}

void set_current_device(const c10::Device& device) {
#ifdef SCT_TORCH_CUDA
  if (!device.is_cuda()) return;
  // Deterministic cuBLAS (train.deterministic) needs it before the first product on the GPU;
  // it only fixes the workspace size.
  setenv("CUBLAS_WORKSPACE_CONFIG", ":4096:8", /*overwrite=*/0);
  c10::cuda::set_device(device.index());
#else
  (void)device;
#endif
}

void synchronize(const c10::Device& device) {
#ifdef SCT_TORCH_CUDA
  if (device.is_cuda()) {
    c10::cuda::CUDAGuard guard(device.index());
    c10::cuda::device_synchronize();
  }
#else
  (void)device;
#endif
}

at::Tensor scaled_dot_product_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
#if TORCH_VERSION_MAJOR >= 2
  return at::scaled_dot_product_attention(q, k, v);
#else
  // timm's order: q scaled first, softmax(q k^T) v.
  const at::Tensor scores = at::matmul(q * (1.0 / std::sqrt(static_cast<double>(q.size(-1)))), k.transpose(-2, -1));
  return at::matmul(scores.softmax(-1), v);
#endif
}

void set_tf32(bool enabled) {
  // LibTorch's defaults differ (cuBLAS off, cuDNN on): both are set, so fp32 means float32.
  at::globalContext().setAllowTF32CuBLAS(enabled);
  at::globalContext().setAllowTF32CuDNN(enabled);
}

void set_deterministic(bool enabled) {
  at::globalContext().setDeterministicAlgorithms(enabled, /*warn_only=*/false);
}

namespace {

bool autocast_enabled(c10::DeviceType type) {
#ifdef SCT_AUTOCAST_PER_DEVICE
  return at::autocast::is_autocast_enabled(type);
#else
  return type == c10::DeviceType::CUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
#endif
}

c10::ScalarType autocast_dtype(c10::DeviceType type) {
#ifdef SCT_AUTOCAST_PER_DEVICE
  return at::autocast::get_autocast_dtype(type);
#else
  return type == c10::DeviceType::CUDA ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
#endif
}

void set_autocast(c10::DeviceType type, bool enabled, c10::ScalarType dtype) {
#ifdef SCT_AUTOCAST_PER_DEVICE
  at::autocast::set_autocast_dtype(type, dtype);
  at::autocast::set_autocast_enabled(type, enabled);
#else
  if (type == c10::DeviceType::CUDA) {
    at::autocast::set_autocast_gpu_dtype(dtype);
    at::autocast::set_enabled(enabled);
  } else {
    at::autocast::set_autocast_cpu_dtype(dtype);
    at::autocast::set_cpu_enabled(enabled);
  }
#endif
}

}  // namespace

AutocastScope::AutocastScope(c10::DeviceType device_type, c10::ScalarType dtype, bool enabled)
    : device_type_(device_type), enabled_(enabled) {
  if (!enabled_) return;
  previous_enabled_ = autocast_enabled(device_type_);
  previous_dtype_ = autocast_dtype(device_type_);
  set_autocast(device_type_, true, dtype);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!enabled_) return;
  // As torch.autocast.__exit__: the cast weights are dropped when the outermost scope ends.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  set_autocast(device_type_, previous_enabled_, previous_dtype_);
}

struct DeviceCopy::State {
#ifdef SCT_TORCH_CUDA
  explicit State(c10::DeviceIndex index) : stream(c10::cuda::getStreamFromPool(/*isHighPriority=*/false, index)) {}
  c10::cuda::CUDAStream stream;
  at::cuda::CUDAEvent copied;
#endif
};

DeviceCopy::DeviceCopy(const c10::Device& device) : device_(device) {
#ifdef SCT_TORCH_CUDA
  if (device_.is_cuda()) state_ = new State(device_.index());
#endif
}

DeviceCopy::~DeviceCopy() { delete state_; }

at::Tensor DeviceCopy::start(const at::Tensor& host) {
  if (!device_.is_cuda()) return host.to(device_);
#ifdef SCT_TORCH_CUDA
  // Memory the copy writes is fresh memory of the side stream (the caching allocator keeps
  // blocks per stream), so it cannot overlap what the current stream still reads; the pinned
  // host block stays reserved until the copy has run (LibTorch's host allocator records it).
  c10::cuda::CUDAStreamGuard guard(state_->stream);
  return host.to(device_, /*non_blocking=*/true);
#else
  return host.to(device_);
#endif
}

void DeviceCopy::finish(std::initializer_list<at::Tensor*> tensors) {
#ifdef SCT_TORCH_CUDA
  if (!state_) return;
  const c10::cuda::CUDAStream current = c10::cuda::getCurrentCUDAStream(device_.index());
  state_->copied.record(state_->stream);
  state_->copied.block(current);
  // Memory allocated on the side stream and used on the current one: the allocator must not
  // reuse it before the current stream is done with it.
  for (at::Tensor* t : tensors)
    if (t->defined() && t->is_cuda()) t->record_stream(current);
#else
  (void)tensors;
#endif
}

}  // namespace sct::torch_compat
