#include "framework/peft/module_init.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

namespace sct::peft {

uint64_t block_seed(int64_t seed, int64_t block) {
  uint64_t z = uint64_t(seed) ^ (uint64_t(block + 1) * 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

at::Generator block_generator(int64_t seed, int64_t block) {
  return at::make_generator<at::CPUGeneratorImpl>(block_seed(seed, block));
}

void kaiming_uniform_linear_(const at::Tensor& weight, at::Generator& gen) {
  at::NoGradGuard no_grad;
  const double bound = 1.0 / std::sqrt(double(weight.size(1)));
  // uniform_ on a float tensor draws from the generator's float stream; a double tensor (tests)
  // draws doubles. Either way the values depend on the generator only.
  at::Tensor w = weight;
  w.uniform_(-bound, bound, gen);
}

}  // namespace sct::peft
