// The one place where LibTorch versions (Debian's CPU 1.13, CUDA 2.x) and CUDA builds differ.
// Everything else uses device-generic ATen calls and these functions; no other file tests
// TORCH_VERSION_* or includes a c10/cuda or ATen/cuda header.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <string>

namespace sct::torch_compat {

// "1.13.0", from the headers the build used.
std::string torch_version();
// Whether this LibTorch was built with CUDA (then libtorch_cuda is linked).
bool built_with_cuda();
// GPUs LibTorch can use now: 0 with a CPU-only LibTorch, without a driver or with none visible.
int cuda_device_count();
// "NVIDIA H200" ("" when `index` is not a usable GPU).
std::string cuda_device_name(int index);
// Makes `device` LibTorch's (and the CUDA runtime's) current device, with the cuBLAS workspace
// setting deterministic algorithms need (CUBLAS_WORKSPACE_CONFIG, unless set); nothing on CPU.
void set_current_device(const c10::Device& device);
// Waits for the work queued on `device` (nothing on CPU).
void synchronize(const c10::Device& device);
// softmax(q k^T / sqrt(hd)) v for q (B, H, Nq, hd), k and v (B, H, N, hd): LibTorch's fused
// kernels (flash / memory-efficient on CUDA) where it has them, else timm's formulation.
at::Tensor scaled_dot_product_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v);

// TF32 for CUDA float32 products (cuBLAS and cuDNN; LibTorch's default turns it on for
// cuDNN's convolutions); no effect on CPU.
void set_tf32(bool enabled);
// Deterministic algorithms only (an op without one is an error).
void set_deterministic(bool enabled);

// Autocast to `dtype` for the products of `device_type` inside the scope (LibTorch's
// torch.autocast). Nested scopes keep the cast cache until the outermost one ends.
class AutocastScope {
 public:
  AutocastScope(c10::DeviceType device_type, c10::ScalarType dtype, bool enabled);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  c10::DeviceType device_type_;
  bool enabled_;
  bool previous_enabled_ = false;
  c10::ScalarType previous_dtype_ = c10::ScalarType::Undefined;
};

// Host-to-device copies of batch i+1 issued while step i runs, on a stream of their own.
// CPU: `start` hands back the host tensors (no copy). CUDA: `start` queues non-blocking copies
// on a side stream; `finish` makes the current stream wait for them and tells the caching
// allocator that the current stream uses the memory.
class DeviceCopy {
 public:
  explicit DeviceCopy(const c10::Device& device);
  ~DeviceCopy();
  DeviceCopy(const DeviceCopy&) = delete;
  DeviceCopy& operator=(const DeviceCopy&) = delete;

  at::Tensor start(const at::Tensor& host);
  // After the last start of a batch: the tensors it returned may be used on the current stream.
  void finish(std::initializer_list<at::Tensor*> tensors);
  const c10::Device& device() const { return device_; }

 private:
  c10::Device device_;
  struct State;
  State* state_ = nullptr;  // CUDA only: the side stream and its event
};

}  // namespace sct::torch_compat
