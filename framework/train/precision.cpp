#include "framework/train/precision.h"

#include "framework/core/torch_compat.h"

namespace sct::train {

std::string effective_precision(const std::string& requested, const c10::Device& device) {
  if (requested == "tf32" && !device.is_cuda()) return "fp32";
  return requested;
}

ForwardPrecision::ForwardPrecision(const std::string& precision, const c10::Device& device) {
  if (effective_precision(precision, device) == "bf16")
    autocast_ = std::make_unique<torch_compat::AutocastScope>(device.type(), c10::ScalarType::BFloat16, true);
}

ForwardPrecision::~ForwardPrecision() = default;

MatmulPrecision::MatmulPrecision(const std::string& precision, const c10::Device& device)
    : cuda_(device.is_cuda()) {
  if (cuda_) torch_compat::set_tf32(effective_precision(precision, device) == "tf32");
}

MatmulPrecision::~MatmulPrecision() {
  if (cuda_) torch_compat::set_tf32(false);
}

}  // namespace sct::train
