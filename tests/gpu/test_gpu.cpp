// The GPU path against the CPU path (label gpu). Every test skips, saying why, when LibTorch has
// no CUDA or no GPU is visible. SCT_GPU_TESTS_ON_CPU=1 runs them with the CPU standing in for
// the GPU (a rehearsal of the tests' own code where no GPU is; NCCL and placement skip).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "framework/core/recipe.h"
#include "framework/core/torch_compat.h"
#include "framework/dist/communicator.h"
#include "framework/dist/nccl_communicator.h"
#include "framework/dist/world.h"
#include "framework/model/vit.h"
#include "framework/peft/channels.h"
#include "framework/peft/saliency.h"
#include "framework/peft/sct_module.h"
#include "framework/peft/trainable.h"
#include "framework/train/flat_params.h"
#include "framework/train/loss.h"
#include "framework/train/precision.h"

namespace sct {
namespace {

bool rehearsal() {
  const char* v = std::getenv("SCT_GPU_TESTS_ON_CPU");
  return v && std::string(v) == "1";
}

// Why the GPU tests cannot run here ("" when they can).
std::string no_gpu_reason() {
  if (torch_compat::cuda_device_count() > 0) return "";
  return torch_compat::built_with_cuda() ? "no GPU is visible"
                                         : "LibTorch " + torch_compat::torch_version() + " is CPU-only";
}

// Skips without a GPU; else turns TF32 off (LibTorch's default has it on for cuDNN), as the
// trainer does for fp32.
#define SKIP_WITHOUT_GPU()                                                                  \
  do {                                                                                      \
    if (!rehearsal() && !no_gpu_reason().empty()) GTEST_SKIP() << no_gpu_reason();          \
    torch_compat::set_tf32(false);                                                          \
  } while (0)
// Tests of the CUDA side itself (NCCL, placement): no rehearsal on a CPU.
#define SKIP_WITHOUT_REAL_GPU()                                                             \
  do {                                                                                      \
    if (!no_gpu_reason().empty()) GTEST_SKIP() << no_gpu_reason();                          \
  } while (0)

const c10::Device kCpu(c10::DeviceType::CPU);
// The device under test.
const c10::Device kCuda = rehearsal() ? kCpu : c10::Device(c10::DeviceType::CUDA, 0);

model::ViTConfig small_config() {
  model::ViTConfig c;
  c.dim = 64, c.depth = 3, c.heads = 4, c.patch = 4, c.image_size = 32, c.num_classes = 10;
  return c;
}

// The same weights on both devices: two models from the same seed, one moved.
std::pair<model::ViT, model::ViT> twin_models(const model::ViTConfig& config) {
  at::manual_seed(0);
  model::ViT cpu(config);
  at::manual_seed(0);
  model::ViT gpu(config);
  gpu->to(kCuda);
  return {cpu, gpu};
}

double max_relative(const at::Tensor& got, const at::Tensor& want) {
  const at::Tensor g = got.to(kCpu, at::kDouble), w = want.to(kCpu, at::kDouble);
  return ((g - w).abs().max() / w.abs().max()).item<double>();
}

TEST(Gpu, ForwardLogitsMatchTheCpu) {
  SKIP_WITHOUT_GPU();
  const model::ViTConfig config = small_config();
  auto [cpu, gpu] = twin_models(config);
  cpu->eval(), gpu->eval();
  at::manual_seed(1);
  const at::Tensor images = at::randn({8, 3, config.image_size, config.image_size});
  at::NoGradGuard no_grad;
  const at::Tensor want = cpu->forward(images);
  const at::Tensor fp32 = gpu->forward(images.to(kCuda));
  EXPECT_EQ(fp32.device(), kCuda);
  EXPECT_LE(max_relative(fp32, want), 1e-5);
  at::Tensor bf16;
  {
    train::ForwardPrecision precision("bf16", kCuda);
    bf16 = gpu->forward(images.to(kCuda));
  }
  EXPECT_EQ(bf16.scalar_type(), at::kBFloat16) << "autocast did not run the head in bfloat16";
  const double rel = max_relative(bf16, want);
  EXPECT_LE(rel, 3e-2);
  EXPECT_GT(rel, 0.0);
  std::printf("forward logits CUDA vs CPU: fp32 %.3g, bf16 %.3g (max relative)\n", max_relative(fp32, want), rel);
}

// 20 steps of SCT training (attn mode, AdamW over the flat buffer) on both devices.
TEST(Gpu, SctStepsMatchTheCpu) {
  SKIP_WITHOUT_GPU();
  const model::ViTConfig config = small_config();
  auto [cpu, gpu] = twin_models(config);
  PeftSection peft;
  peft.k = 8;
  const auto selection = peft::random_selection("attn", config.depth, config.dim, peft.k, 0);
  peft::install_sct(*cpu, selection, peft, 3);
  peft::install_sct(*gpu, selection, peft, 3);
  gpu->to(kCuda);
  peft::Trainable trainable_cpu(*cpu, "sct"), trainable_gpu(*gpu, "sct");
  train::FlatParams flat_cpu(trainable_cpu.named()), flat_gpu(trainable_gpu.named());
  ASSERT_EQ(flat_gpu.values().device(), kCuda);
  ASSERT_TRUE(flat_gpu.values().equal(flat_cpu.values().to(kCuda)));
  train::AdamW opt_cpu(flat_cpu.numel(), 0.9, 0.999, 1e-8, 1e-4);
  train::AdamW opt_gpu(flat_gpu.numel(), 0.9, 0.999, 1e-8, 1e-4, kCuda);
  ASSERT_EQ(opt_gpu.exp_avg().device(), kCuda);
  at::manual_seed(2);
  const at::Tensor images = at::randn({20, 16, 3, config.image_size, config.image_size});
  const at::Tensor labels = at::randint(0, config.num_classes, {20, 16}, at::kLong);
  auto step = [](model::ViT& m, train::FlatParams& flat, train::AdamW& opt, const at::Tensor& x,
                 const at::Tensor& y) {
    flat.zero_grad();
    const at::Tensor per = train::smoothed_cross_entropy(m->forward(x), y, 0.1);
    per.mean().backward();
    opt.step(flat.values(), flat.grads(), 1e-2);
    return per.mean().item<double>();
  };
  cpu->train(), gpu->train();
  double worst = 0, first = 0, last = 0;
  for (int64_t i = 0; i < 20; ++i) {
    const double a = step(cpu, flat_cpu, opt_cpu, images[i], labels[i]);
    const double b = step(gpu, flat_gpu, opt_gpu, images[i].to(kCuda), labels[i].to(kCuda));
    worst = std::max(worst, std::abs(a - b) / std::abs(a));
    if (i == 0) first = a;
    last = a;
  }
  std::printf("20 SCT steps CUDA vs CPU: largest relative loss difference %.3g (loss %.4f -> %.4f)\n", worst,
              first, last);
  EXPECT_LE(worst, 1e-4);
  EXPECT_GT(std::abs(first - last), 1e-3) << "the losses must move, or the comparison proves nothing";
}

TEST(Gpu, SaliencySelectsTheSameChannels) {
  SKIP_WITHOUT_GPU();
  const model::ViTConfig base = small_config();
  model::ViTConfig config = base;
  config.num_classes = 0;
  auto [cpu, gpu] = twin_models(config);
  cpu->eval(), gpu->eval();
  at::manual_seed(3);
  const at::Tensor images = at::randn({4, 12, 3, config.image_size, config.image_size});
  const at::Tensor labels = at::randint(0, 5, {4, 12}, at::kLong);
  auto comm = dist::make_local_communicator();
  at::NoGradGuard no_grad;
  for (const char* mode : {"attn", "mlp", "qkv"}) {
    auto run = [&](model::ViT& m, const c10::Device& device) {
      peft::SaliencyAccumulator acc(mode, config.depth, config.dim, 5);
      for (int64_t b = 0; b < images.size(0); ++b) {
        const at::Tensor y = labels[b].contiguous();
        acc.set_labels(std::vector<int64_t>(y.data_ptr<int64_t>(), y.data_ptr<int64_t>() + y.numel()));
        m->forward_tokens(images[b].to(device), &acc);
      }
      return peft::select_from_totals(acc.reduce(*comm), "cais", 8);
    };
    const peft::ChannelSelection a = run(cpu, kCpu), b = run(gpu, kCuda);
    ASSERT_EQ(a.layers.size(), b.layers.size());
    for (size_t l = 0; l < a.layers.size(); ++l) EXPECT_EQ(a.layers[l].indices, b.layers[l].indices) << mode << " layer " << l;
  }
}

TEST(Gpu, NcclCollectivesAtWorldSizeOne) {
  SKIP_WITHOUT_REAL_GPU();
#if !SCT_BUILD_HAS_NCCL
  GTEST_SKIP() << "NCCL was not compiled in";
#else
  auto comm = dist::make_nccl_communicator(dist::make_local_communicator(), 0);
  EXPECT_EQ(comm->backend(), "nccl");
  at::Tensor f = at::arange(10, at::TensorOptions().dtype(at::kFloat).device(kCuda));
  comm->all_reduce(f, dist::ReduceOp::kAvg);
  EXPECT_TRUE(f.to(kCpu).equal(at::arange(10, at::kFloat)));
  at::Tensor l = at::full({3}, 7, at::TensorOptions().dtype(at::kLong).device(kCuda));
  comm->all_reduce(l, dist::ReduceOp::kSum);
  comm->all_reduce(l, dist::ReduceOp::kMax);
  EXPECT_TRUE(l.to(kCpu).equal(at::full({3}, 7, at::kLong)));
  at::Tensor b = at::ones({5}, at::TensorOptions().dtype(at::kBFloat16).device(kCuda));
  comm->broadcast(b, 0);
  EXPECT_TRUE(b.to(kCpu).equal(at::ones({5}, at::kBFloat16)));
  std::vector<double> host{1.5, 2.5};
  comm->all_reduce(host, dist::ReduceOp::kSum);
  EXPECT_EQ(host, (std::vector<double>{1.5, 2.5}));
  comm->barrier();
#endif
}

// The training communicator picks the GPU, NCCL, and records the GPU's name.
TEST(Gpu, TrainingCommunicatorPlacesTheGroupOnTheGpu) {
  SKIP_WITHOUT_REAL_GPU();
  auto group = dist::make_local_communicator();
  std::string why;
  dist::Placement placement;
  auto comm = dist::make_training_communicator(*group, "auto", &why, -1, &placement);
  EXPECT_EQ(placement.gpu, 0) << why;
  EXPECT_EQ(placement.device(), "cuda:0");
  EXPECT_FALSE(placement.gpu_name.empty());
  EXPECT_EQ(comm->backend(), dist::nccl_compiled() ? "nccl" : "local") << why;
  std::printf("%s\n", why.c_str());
}

}  // namespace
}  // namespace sct
