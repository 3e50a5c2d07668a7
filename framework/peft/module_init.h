// Initialisation shared by the PEFT modules: one seeded generator per (run seed, block), so a
// module's initial values depend on the recipe's seed and its block only, and PyTorch's
// nn.Linear default weight init.
#pragma once

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace sct::peft {

// A well-mixed 64-bit seed (splitmix64 finaliser) for block `block`'s module from the run's
// seed; block -1 and depth serve the modules outside the blocks.
uint64_t block_seed(int64_t seed, int64_t block);
// A CPU generator seeded with block_seed(seed, block).
at::Generator block_generator(int64_t seed, int64_t block);

// In place, nn.init.kaiming_uniform_(w, a=sqrt(5)) of a (out, in) weight, nn.Linear's default:
// gain sqrt(2 / (1 + 5)), bound gain * sqrt(3 / in) = 1 / sqrt(in), U(-bound, bound).
void kaiming_uniform_linear_(const at::Tensor& weight, at::Generator& gen);

}  // namespace sct::peft
