// Forward-pass throughput of ViT-B/16 and a tiny ViT (D=96, L=6, 28x28, patch 4), reported as
// images/s and GFLOP/s, and as a fraction of the matrix-multiply rate measured in the same run.
//   bench_model [--threads N] [--iters N] [--tiny-only]
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <fmt/core.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include "framework/model/vit.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Best-of-iterations rate of a square fp32 matrix product, the ceiling the ViT's Linear
// layers can reach on this machine and thread count.
double matmul_gflops(int64_t n, int iters) {
  at::Tensor a = at::randn({n, n}), b = at::randn({n, n}), c = at::empty({n, n});
  at::mm_out(c, a, b);
  double best = 1e30;
  for (int i = 0; i < iters; ++i) {
    const auto t = Clock::now();
    at::mm_out(c, a, b);
    best = std::min(best, seconds_since(t));
  }
  return 2.0 * double(n) * double(n) * double(n) / best / 1e9;
}

struct Result {
  double images_per_s, gflops;
};

Result bench_vit(const sct::model::ViTConfig& cfg, int64_t batch, int iters) {
  sct::model::ViT model(cfg);
  model->eval();
  at::NoGradGuard no_grad;
  at::Tensor x = at::randn({batch, 3, cfg.image_size, cfg.image_size});
  model->forward(x);  // warm-up: allocator and BLAS buffers
  double best = 1e30;
  for (int i = 0; i < iters; ++i) {
    const auto t = Clock::now();
    model->forward(x);
    best = std::min(best, seconds_since(t));
  }
  const double ips = double(batch) / best;
  return {ips, ips * sct::model::vit_forward_flops(cfg) / 1e9};
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1, iters = 3;
  bool tiny_only = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (a == "--iters" && i + 1 < argc) iters = std::atoi(argv[++i]);
    else if (a == "--tiny-only") tiny_only = true;
    else {
      fmt::print(stderr, "usage: bench_model [--threads N] [--iters N] [--tiny-only]\n");
      return 2;
    }
  }
  if (threads < 1 || iters < 1) return 2;
  at::set_num_threads(threads);
  at::manual_seed(0);

  const double mm = matmul_gflops(1024, std::max(iters, 3));
  fmt::print("threads {}  matmul 1024x1024 fp32: {:.1f} GFLOP/s\n", threads, mm);
  fmt::print("{:<26} {:>6} {:>11} {:>10} {:>11}\n", "model", "batch", "images/s", "GFLOP/s", "of matmul");

  sct::model::ViTConfig tiny;
  tiny.dim = 96;
  tiny.depth = 6;
  tiny.heads = 3;
  tiny.patch = 4;
  tiny.image_size = 28;
  tiny.num_classes = 10;
  struct Case {
    const char* name;
    sct::model::ViTConfig cfg;
    int64_t batch;
  };
  std::vector<Case> cases = {{"tiny D=96 L=6 28x28 P=4", tiny, 64}};
  if (!tiny_only) {
    sct::model::ViTConfig b = sct::model::vit_preset("vit-b16");
    b.num_classes = 10;
    cases.push_back({"vit-b16 224x224", b, 8});
  }
  for (const Case& c : cases) {
    const Result r = bench_vit(c.cfg, c.batch, iters);
    fmt::print("{:<26} {:>6} {:>11.1f} {:>10.1f} {:>10.0f}%\n", c.name, c.batch, r.images_per_s, r.gflops,
               100.0 * r.gflops / mm);
  }
  return 0;
}
