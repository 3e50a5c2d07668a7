// The trainable set as one flat buffer on the trainables' device: every trainable tensor
// becomes a view into one contiguous fp32 value buffer, and its .grad a view into one gradient buffer, so the
// gradient all-reduce is a single call and the optimizer a few vector operations.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <string>
#include <utility>
#include <vector>

namespace sct::train {

struct FlatEntry {
  std::string name;
  int64_t offset = 0;
  int64_t numel = 0;
  std::vector<int64_t> shape;
};

class FlatParams {
 public:
  // Takes the named trainable tensors (leaf tensors, requires_grad), copies their values into
  // the flat buffer and re-points each tensor's storage and grad at it. The tensors stay the
  // ones the model uses, so forward/backward need no change.
  explicit FlatParams(const std::vector<std::pair<std::string, at::Tensor>>& params);

  at::Tensor& values() { return values_; }
  at::Tensor& grads() { return grads_; }
  const std::vector<FlatEntry>& entries() const { return entries_; }
  int64_t numel() const { return values_.numel(); }

  void zero_grad();
  // 16 hex digits identifying the exact bytes of the values (for cross-rank checks).
  std::string values_hash() const;

 private:
  std::vector<FlatEntry> entries_;
  std::vector<at::Tensor> tensors_;
  at::Tensor values_;
  at::Tensor grads_;
};

// AdamW exactly as torch.optim.AdamW (single-tensor path): decoupled decay p *= 1 - lr*wd,
// then the bias-corrected Adam update, on flat buffers.
class AdamW {
 public:
  // State on `device`: the flat buffers' device.
  AdamW(int64_t numel, double beta1, double beta2, double eps, double weight_decay,
        at::Device device = at::kCPU);
  void step(at::Tensor& values, const at::Tensor& grads, double lr);

  int64_t steps() const { return step_; }
  at::Tensor& exp_avg() { return m_; }
  at::Tensor& exp_avg_sq() { return v_; }
  void set_steps(int64_t s) { step_ = s; }

 private:
  double beta1_, beta2_, eps_, wd_;
  int64_t step_ = 0;
  at::Tensor m_, v_;
};

}  // namespace sct::train
