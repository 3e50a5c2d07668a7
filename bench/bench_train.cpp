// bench_train: SCT training-step and forward throughput on the shapes of the reference
// comparisons (a tiny ViT at 28x28, ViT-S/16 at 224x224, ViT-B/16 at 224x224 batch 64 for
// GPUs), with the real trainer pieces (SCT modules, trainable registry, flat buffer, gradient
// all-reduce, AdamW, the trainer's precision scopes). Under mpirun the global batch is split
// over the ranks, as in training.
//   bench_train [--model tiny|vit-s16|vit-b16] [--steps N] [--threads N] [--dump DIR]
//               [--device cpu|cuda] [--precision fp32|tf32|bf16]
// --dump writes the initial weights, channels, data and the per-step losses so that
// train_step.py can run the same steps in PyTorch (launchers/bench_train.sh does all of it).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <fmt/core.h>

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "framework/core/allocator.h"
#include "framework/core/blas_kernels.h"
#include "framework/core/sysinfo.h"
#include "framework/core/torch_compat.h"
#include "framework/core/recipe.h"
#include "framework/dist/world.h"
#include "framework/model/tensor_io.h"
#include "framework/model/vit.h"
#include "framework/model/vit_io.h"
#include "framework/peft/channels.h"
#include "framework/peft/sct_module.h"
#include "framework/peft/trainable.h"
#include "framework/train/flat_params.h"
#include "framework/train/loss.h"
#include "framework/train/precision.h"

namespace {

double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

struct Shape {
  sct::model::ViTConfig config;
  int64_t batch;
};

Shape shape_of(const std::string& name) {
  Shape s;
  if (name == "tiny") {
    s.config.dim = 96, s.config.depth = 6, s.config.heads = 3, s.config.patch = 4, s.config.image_size = 28;
    s.batch = 64;
  } else if (name == "vit-s16") {
    s.config = sct::model::vit_preset("vit-s16");
    s.config.image_size = 224;
    s.batch = 16;
  } else if (name == "vit-b16") {
    s.config = sct::model::vit_preset("vit-b16");
    s.config.image_size = 224;
    s.batch = 64;
  } else {
    throw std::runtime_error("--model must be tiny, vit-s16 or vit-b16");
  }
  s.config.num_classes = 10;
  s.config.drop_path = 0.0;
  return s;
}

// One field of the key=value output: the GPU's name with '_' for spaces.
std::string gpu_field(std::string name) {
  std::replace(name.begin(), name.end(), ' ', '_');
  return name.empty() ? "-" : name;
}

}  // namespace

int main(int argc, char** argv) {
  sct::ensure_blas_kernels(argv);
  std::string model_name = "tiny", dump, device_name = "cpu", precision = "fp32";
  int steps = 20, threads = 1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--model") model_name = value();
    else if (a == "--steps") steps = std::stoi(value());
    else if (a == "--threads") threads = std::stoi(value());
    else if (a == "--dump") dump = value();
    else if (a == "--device") device_name = value();
    else if (a == "--precision") precision = value();
    else {
      fmt::print(stderr,
                 "usage: bench_train [--model tiny|vit-s16|vit-b16] [--steps N] [--threads N] [--dump DIR] "
                 "[--device cpu|cuda] [--precision fp32|tf32|bf16]\n");
      return 2;
    }
  }
  if ((device_name != "cpu" && device_name != "cuda") ||
      (precision != "fp32" && precision != "tf32" && precision != "bf16")) {
    fmt::print(stderr, "bench_train: --device must be cpu or cuda, --precision fp32, tf32 or bf16\n");
    return 2;
  }
  sct::keep_freed_memory();  // as sct_dist does
  sct::dist::World world(&argc, &argv);
  auto& comm = world.comm();
  at::set_num_threads(threads);
  const Shape shape = shape_of(model_name);
  const int64_t local = shape.batch / comm.size();
  // cuda: this rank's GPU among the node's, the trainer's choice (make_training_communicator).
  c10::Device device(c10::DeviceType::CPU);
  if (device_name == "cuda") {
    const int gpus = sct::torch_compat::cuda_device_count();
    if (gpus == 0) {
      fmt::print(stderr, "bench_train: --device cuda, but no GPU is usable (LibTorch {}{})\n",
                 sct::torch_compat::torch_version(), sct::torch_compat::built_with_cuda() ? "" : ", CPU-only");
      return 2;
    }
    device = c10::Device(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(world.info().local_rank % gpus));
    sct::torch_compat::set_current_device(device);
  }
  const sct::train::MatmulPrecision matmul_precision(precision, device);

  at::manual_seed(0);
  sct::model::ViT model(shape.config);
  sct::PeftSection peft;
  const int64_t k = shape.config.dim / 8;
  peft.k = k;
  auto selection = sct::peft::random_selection("attn", shape.config.depth, shape.config.dim, k, 0);
  sct::peft::install_sct(*model, selection, peft, 0);
  // Data: fixed random images, a pool of global batches that the steps cycle through (step i
  // uses batch i % pool); this rank takes its slice of each.
  const int64_t S = shape.config.image_size;
  const int64_t pool = std::min<int64_t>(steps + 2, 8);
  at::Tensor images = at::randn({pool, shape.batch, 3, S, S});
  at::Tensor labels = at::randint(0, 10, {pool, shape.batch}, at::kLong);
  if (!dump.empty() && comm.rank() == 0) {
    std::filesystem::create_directories(dump);
    sct::model::save_model(dump + "/model.safetensors", *model);
    sct::peft::write_selection(dump + "/channels.json", selection);
    sct::model::write_npy_tensor(dump + "/images.npy", images);
    sct::model::write_npy_tensor(dump + "/labels.npy", labels.to(at::kFloat));
  }
  model->to(device);
  sct::peft::Trainable trainable(*model, "sct");
  images = images.to(device);
  labels = labels.to(device);

  sct::train::FlatParams flat(trainable.named());
  sct::train::AdamW opt(flat.numel(), 0.9, 0.999, 1e-8, 1e-4, device);
  std::vector<double> losses;
  auto forward = [&](const at::Tensor& x) {
    at::Tensor logits;
    {
      sct::train::ForwardPrecision scope(precision, device);
      logits = model->forward(x);
    }
    return logits.to(at::kFloat);
  };
  auto train_step = [&](int64_t i) {
    at::Tensor x = images[i % pool].narrow(0, comm.rank() * local, local);
    at::Tensor y = labels[i % pool].narrow(0, comm.rank() * local, local);
    flat.zero_grad();
    at::Tensor per = sct::train::smoothed_cross_entropy(forward(x), y, 0.1);
    (per.sum() / double(shape.batch) * double(comm.size())).backward();
    comm.all_reduce(flat.grads(), sct::dist::ReduceOp::kAvg);
    opt.step(flat.values(), flat.grads(), 1e-3);
    double loss = per.sum().item<double>();
    loss = comm.all_reduce(loss, sct::dist::ReduceOp::kSum) / double(shape.batch);
    return loss;
  };
  // Each step is timed on its own; the medians resist the odd slow step of a shared machine.
  // Under launchers/bench_train.sh the sgemm_clock library is preloaded and also gives the
  // time spent inside matrix products during each step.
  using ClockFn = double (*)();
  const auto gemm_clock = reinterpret_cast<ClockFn>(dlsym(RTLD_DEFAULT, "sgemm_clock_seconds"));
  auto gemm_seconds = [&] { return gemm_clock ? gemm_clock() : 0.0; };
  struct Timing {
    std::vector<double> step, gemm;
    void add(double s, double g) { step.push_back(s), gemm.push_back(g); }
    static double median(std::vector<double> v) {
      std::sort(v.begin(), v.end());
      return v.empty() ? 0.0 : v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
    }
  };
  auto timed = [&](Timing& t, const auto& work) {
    sct::torch_compat::synchronize(device);
    comm.barrier();
    const double t0 = now_s(), g0 = gemm_seconds();
    work();
    sct::torch_compat::synchronize(device);
    comm.barrier();
    t.add(now_s() - t0, gemm_seconds() - g0);
  };
  model->train();
  train_step(steps);  // warm-up on batches outside the timed ones
  train_step(steps + 1);
  Timing train, fwd;
  for (int i = 0; i < steps; ++i) timed(train, [&] { losses.push_back(train_step(i)); });

  model->eval();
  {
    at::NoGradGuard ng;
    forward(images[0].narrow(0, comm.rank() * local, local));
    for (int i = 0; i < steps; ++i)
      timed(fwd, [&] { forward(images[i % pool].narrow(0, comm.rank() * local, local)); });
  }
  const double train_step_s = Timing::median(train.step), fwd_step_s = Timing::median(fwd.step);
  const double train_ips = shape.batch / train_step_s, fwd_ips = shape.batch / fwd_step_s;
  if (comm.rank() == 0) {
    fmt::print("model={} ranks={} threads={} batch={} steps={} trainable={}\n", model_name, comm.size(), threads,
               shape.batch, steps, trainable.numel());
    fmt::print("device={} gpu={} precision={}\n", device.str(),
               device.is_cuda() ? gpu_field(sct::torch_compat::cuda_device_name(device.index())) : "-",
               sct::train::effective_precision(precision, device));
    const std::string core = sct::openblas_corename();
    fmt::print("blas_core={} blas_kernels: {}\n", core.empty() ? "-" : core, sct::blas_info().kernels);
    fmt::print("train_images_per_s={:.2f} forward_images_per_s={:.2f} train_over_forward_time={:.3f}\n", train_ips,
               fwd_ips, fwd_ips / train_ips);
    if (gemm_clock)
      fmt::print("train_step_s={:.6f} train_gemm_s={:.6f} forward_step_s={:.6f} forward_gemm_s={:.6f}\n",
                 train_step_s, Timing::median(train.gemm), fwd_step_s, Timing::median(fwd.gemm));
    std::string l;
    for (double v : losses) l += fmt::format("{}{:.9g}", l.empty() ? "" : ",", v);
    fmt::print("losses={}\n", l);
  }
  return 0;
}
