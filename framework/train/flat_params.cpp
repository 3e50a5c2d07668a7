#include "framework/train/flat_params.h"

#include <ATen/ATen.h>

#include <cmath>

#include <fmt/core.h>

#include "framework/core/error.h"
#include "framework/core/strings.h"

namespace sct::train {

FlatParams::FlatParams(const std::vector<std::pair<std::string, at::Tensor>>& params) {
  int64_t total = 0;
  const at::Device device = params.empty() ? at::Device(at::kCPU) : params.front().second.device();
  for (const auto& [name, t] : params) {
    SCT_CHECK(t.scalar_type() == at::kFloat, name + " is not float32");
    SCT_CHECK(t.requires_grad(), name + " does not require grad");
    SCT_CHECK(t.device() == device, fmt::format("{} is on {}, the trainable set on {}", name, t.device().str(),
                                                device.str()));
    entries_.push_back({name, total, t.numel(), t.sizes().vec()});
    total += t.numel();
  }
  // On the trainable tensors' device: the step's all-reduce and optimizer never leave it.
  values_ = at::empty({total}, at::TensorOptions().dtype(at::kFloat).device(device));
  grads_ = at::zeros({total}, at::TensorOptions().dtype(at::kFloat).device(device));
  at::NoGradGuard no_grad;
  for (size_t i = 0; i < params.size(); ++i) {
    at::Tensor t = params[i].second;
    const FlatEntry& e = entries_[i];
    at::Tensor slot = values_.narrow(0, e.offset, e.numel);
    slot.copy_(t.reshape({-1}));
    // Re-point the parameter at the flat storage: same tensor object, new storage.
    t.set_(values_.storage(), e.offset, t.sizes(), at::detail::defaultStrides(t.sizes()));
    // Autograd accumulates into an existing .grad in place, so gradients land in grads_.
    t.mutable_grad() = grads_.narrow(0, e.offset, e.numel).view(t.sizes());
    tensors_.push_back(t);
  }
}

void FlatParams::zero_grad() { grads_.zero_(); }

std::string FlatParams::values_hash() const {
  const at::Tensor c = values_.to(at::kCPU).contiguous();
  return hex64(fnv1a64(std::string_view(static_cast<const char*>(c.data_ptr()),
                                        static_cast<size_t>(c.numel()) * sizeof(float))));
}

AdamW::AdamW(int64_t numel, double beta1, double beta2, double eps, double weight_decay, at::Device device)
    : beta1_(beta1), beta2_(beta2), eps_(eps), wd_(weight_decay) {
  m_ = at::zeros({numel}, at::TensorOptions().dtype(at::kFloat).device(device));
  v_ = at::zeros({numel}, at::TensorOptions().dtype(at::kFloat).device(device));
}

void AdamW::step(at::Tensor& values, const at::Tensor& grads, double lr) {
  at::NoGradGuard no_grad;
  ++step_;
  // Same operation order as torch.optim.adamw._single_tensor_adamw, so results match it.
  values.mul_(1.0 - lr * wd_);
  m_.lerp_(grads, 1.0 - beta1_);
  v_.mul_(beta2_).addcmul_(grads, grads, 1.0 - beta2_);
  const double bias1 = 1.0 - std::pow(beta1_, static_cast<double>(step_));
  const double bias2 = 1.0 - std::pow(beta2_, static_cast<double>(step_));
  const double step_size = lr / bias1;
  const double bias2_sqrt = std::sqrt(bias2);
  at::Tensor denom = (v_.sqrt() / bias2_sqrt).add_(eps_);
  values.addcdiv_(m_, denom, -step_size);
}

}  // namespace sct::train
