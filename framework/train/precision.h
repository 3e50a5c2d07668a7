// train.precision on a device: what runs, and the scope that makes the forward passes run so.
#pragma once

#include <c10/core/Device.h>

#include <memory>
#include <string>

namespace sct::torch_compat {
class AutocastScope;
}

namespace sct::train {

// The precision that runs for train.precision on `device`: tf32 is a CUDA mode, so on a CPU
// the products stay float32 and this says "fp32". bf16 autocasts on either.
std::string effective_precision(const std::string& requested, const c10::Device& device);

// For the scope of a forward pass (training or evaluation) at bf16: autocast of the products
// to bfloat16 (LibTorch's autocast lists: matrix products in bfloat16, reductions in float32).
// The backward follows the dtypes the forward recorded. Trainable values, gradients, the loss
// and the optimizer stay float32. Nothing for fp32 and tf32.
class ForwardPrecision {
 public:
  ForwardPrecision(const std::string& precision, const c10::Device& device);
  ~ForwardPrecision();
  ForwardPrecision(const ForwardPrecision&) = delete;
  ForwardPrecision& operator=(const ForwardPrecision&) = delete;

 private:
  std::unique_ptr<torch_compat::AutocastScope> autocast_;
};

// For the scope of a unit's training (forward, backward, evaluation) on CUDA: float32 products
// in TF32 at tf32, in full float32 otherwise (cuDNN's TF32 default included). TF32 is off again
// at the end, so the next unit's saliency pass (always full float32) is not affected.
class MatmulPrecision {
 public:
  MatmulPrecision(const std::string& precision, const c10::Device& device);
  ~MatmulPrecision();
  MatmulPrecision(const MatmulPrecision&) = delete;
  MatmulPrecision& operator=(const MatmulPrecision&) = delete;

 private:
  bool cuda_ = false;
};

}  // namespace sct::train
