// Forward-pass throughput of ViT-B/16 and a tiny ViT (D=96, L=6, 28x28, patch 4), reported as
// images/s and GFLOP/s, and as a fraction of the matrix-multiply rate measured in the same run;
// and the rate of the model's Linear layers alone against a 2048^3 product. The first line names
// the BLAS kernel set the figures were measured on.
//   bench_model [--threads N] [--iters N] [--tiny-only]
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <fmt/core.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include "framework/core/blas_kernels.h"
#include "framework/core/sysinfo.h"
#include "framework/model/vit.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Seconds of the fastest of `iters` calls of fn, after one warm-up call.
template <typename Fn>
double best_seconds(int iters, const Fn& fn) {
  fn();
  double best = 1e30;
  for (int i = 0; i < iters; ++i) {
    const auto t = Clock::now();
    fn();
    best = std::min(best, seconds_since(t));
  }
  return best;
}

// Best-of-iterations rate of a square fp32 matrix product, the ceiling the ViT's Linear
// layers can reach on this machine and thread count.
double matmul_gflops(int64_t n, int iters) {
  at::Tensor a = at::randn({n, n}), b = at::randn({n, n}), c = at::empty({n, n});
  return 2.0 * double(n) * double(n) * double(n) / best_seconds(iters, [&] { at::mm_out(c, a, b); }) / 1e9;
}

struct Result {
  double images_per_s, gflops;
};

Result bench_vit(const sct::model::ViTConfig& cfg, int64_t batch, int iters) {
  sct::model::ViT model(cfg);
  model->eval();
  at::NoGradGuard no_grad;
  at::Tensor x = at::randn({batch, 3, cfg.image_size, cfg.image_size});
  // The warm-up call of best_seconds sets up the allocator and BLAS buffers.
  const double ips = double(batch) / best_seconds(iters, [&] { model->forward(x); });
  return {ips, ips * sct::model::vit_forward_flops(cfg) / 1e9};
}

// The Linear layers of one forward pass (qkv, projection, fc1, fc2 on every token of `batch`
// images), timed as products of their own shapes: GFLOP/s over all four.
double linear_layers_gflops(const sct::model::ViTConfig& cfg, int64_t batch, int iters) {
  const int64_t rows = batch * cfg.tokens(), d = cfg.dim, h = cfg.mlp_hidden();
  const int64_t shapes[4][2] = {{d, 3 * d}, {d, d}, {d, h}, {h, d}};  // in, out
  double flops = 0, seconds = 0;
  for (const auto& s : shapes) {
    at::Tensor x = at::randn({rows, s[0]}), w = at::randn({s[1], s[0]}), b = at::randn({s[1]});
    flops += 2.0 * double(rows) * double(s[0]) * double(s[1]);
    seconds += best_seconds(iters, [&] { at::linear(x, w, b); });
  }
  return flops / seconds / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  sct::ensure_blas_kernels(argv);
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

  const sct::BlasInfo blas = sct::blas_info();
  fmt::print("blas {}; kernels {}\n", blas.name, blas.kernels.empty() ? "-" : blas.kernels);
  const double mm = matmul_gflops(1024, std::max(iters, 3));
  const double mm2048 = matmul_gflops(2048, std::max(iters, 3));
  fmt::print("threads {}  matmul fp32 1024^3: {:.1f} GFLOP/s, 2048^3: {:.1f} GFLOP/s\n", threads, mm, mm2048);
  fmt::print("{:<26} {:>6} {:>11} {:>10} {:>11} {:>14} {:>14}\n", "model", "batch", "images/s", "GFLOP/s",
             "of matmul", "linear GFLOP/s", "of 2048^3");

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
    const double linear = linear_layers_gflops(c.cfg, c.batch, iters);
    fmt::print("{:<26} {:>6} {:>11.1f} {:>10.1f} {:>10.0f}% {:>14.1f} {:>13.0f}%\n", c.name, c.batch, r.images_per_s,
               r.gflops, 100.0 * r.gflops / mm, linear, 100.0 * linear / mm2048);
  }
  return 0;
}
