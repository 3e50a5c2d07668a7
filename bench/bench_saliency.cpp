// The saliency pass against a plain forward pass over the same images (same loader, same
// model), and its peak memory against keeping every feature map as the reference code does.
//   bench_saliency [--images 32] [--batch 16] [--threads 1] [--mode attn] [--classes 10]
//                  [--dim 768 --depth 12 --heads 12 --patch 16 --image 224] [--dir /tmp]
// Defaults: ViT-B/16 layer sizes with random weights on synthetic 224x224 images.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include "framework/core/blas_kernels.h"
#include "framework/core/sysinfo.h"
#include "framework/data/convert.h"
#include "framework/data/loader.h"
#include "framework/data/synth.h"
#include "framework/data/task_file.h"
#include "framework/dist/communicator.h"
#include "framework/model/vit.h"
#include "framework/peft/saliency.h"

namespace {

using Clock = std::chrono::steady_clock;

// kB from /proc/self/status ("VmHWM", "VmRSS"); -1 when unavailable.
int64_t status_kb(const std::string& key) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(key + ":", 0) == 0) return std::atoll(line.c_str() + key.size() + 1);
  return -1;
}

// Resets VmHWM to the current RSS (Linux >= 4.0); false when not permitted.
bool reset_peak() {
  std::ofstream f("/proc/self/clear_refs");
  f << "5";
  f.flush();
  return bool(f);
}

struct Phase {
  double seconds = 0;
  int64_t peak_extra_kb = -1;  // VmHWM during the phase minus VmRSS before it
  int64_t peak_kb = -1;        // VmHWM at the end of the phase
};

template <typename F>
Phase measure(F&& f) {
  const bool reset = reset_peak();
  const int64_t rss0 = status_kb("VmRSS");
  const auto t0 = Clock::now();
  f();
  Phase p;
  p.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  p.peak_kb = status_kb("VmHWM");
  if (reset) p.peak_extra_kb = p.peak_kb - rss0;
  return p;
}

double mib(double bytes) { return bytes / (1024.0 * 1024.0); }

}  // namespace

int main(int argc, char** argv) {
  using namespace sct;
  ensure_blas_kernels(argv);
  int64_t images = 32, batch = 16, classes = 10;
  int threads = 1;
  std::string mode = "attn", dir = std::filesystem::temp_directory_path().string();
  model::ViTConfig cfg;  // ViT-B/16 sizes
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    if (!v) {
      std::fprintf(stderr, "bench_saliency: %s needs a value\n", a.c_str());
      return 2;
    }
    ++i;
    if (a == "--images") images = std::atoll(v);
    else if (a == "--batch") batch = std::atoll(v);
    else if (a == "--threads") threads = std::atoi(v);
    else if (a == "--classes") classes = std::atoll(v);
    else if (a == "--mode") mode = v;
    else if (a == "--dim") cfg.dim = std::atoll(v);
    else if (a == "--depth") cfg.depth = std::atoll(v);
    else if (a == "--heads") cfg.heads = std::atoll(v);
    else if (a == "--patch") cfg.patch = std::atoll(v);
    else if (a == "--image") cfg.image_size = std::atoll(v);
    else if (a == "--dir") dir = v;
    else {
      std::fprintf(stderr, "bench_saliency: unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  try {
    at::set_num_threads(threads);
    const int S = int(cfg.image_size);
    const std::string path = (std::filesystem::path(dir) / fmt::format("bench_saliency_{}.h5", ::getpid())).string();
    {
      data::TaskMetadata meta;
      meta.task = "bench";
      meta.num_classes = classes;
      meta.height = meta.width = S;
      meta.resize_method = "none";
      data::TaskWriter writer(path, meta);
      data::write_split(writer, data::synth_split_source("train", images, classes, S, S, 0), S, S, 2, "bench");
      writer.commit();
    }
    auto file = std::make_shared<const data::TaskFile>(path);
    at::manual_seed(0);
    model::ViT vit(cfg);
    vit->eval();
    const int64_t rss_model = status_kb("VmRSS");
    fmt::print("model {} (random weights), {} images {}x{}, batch {}, {} thread(s), mode {}\n", cfg.describe(),
               images, S, S, batch, threads, mode);
    const BlasInfo blas = blas_info();
    fmt::print("blas {}; kernels {}\n", blas.name, blas.kernels.empty() ? "-" : blas.kernels);

    peft::SaliencyPassOptions o;
    o.split = "train";
    o.batch = batch;
    data::LoaderOptions lo;
    lo.split = "train";
    lo.mode = data::LoaderMode::kEval;
    lo.batch_size = batch;
    auto plain = [&] {
      at::NoGradGuard ng;
      data::Loader loader(file, lo);
      data::Batch b;
      while (loader.next(b)) vit->forward_tokens(b.images);
    };
    // Warm-up with one batch of the real shape: allocator and BLAS buffers. Its peak above the
    // model is the forward pass's working set; the passes below should add nothing to it.
    const Phase warm = measure([&] {
      at::NoGradGuard ng;
      vit->forward_tokens(at::zeros({std::min<int64_t>(batch, images), 3, S, S}));
    });
    auto comm = dist::make_local_communicator();
    peft::ChannelSelection sel;
    const Phase p1 = measure(plain);
    const Phase sal = measure([&] {
      peft::SaliencyAccumulator acc(mode, cfg.depth, cfg.dim, classes);
      peft::accumulate_split(*vit, file, o, 0, 1, acc);
      sel = peft::select_from_totals(acc.reduce(*comm), "cais", cfg.dim / 8);
    });
    const Phase p2 = measure(plain);
    std::filesystem::remove(path);

    const double plain_s = 0.5 * (p1.seconds + p2.seconds);
    fmt::print("plain forward   : {:8.2f} s, {:8.2f} s  ({:.2f} images/s)\n", p1.seconds, p2.seconds,
               images / plain_s);
    fmt::print("saliency pass   : {:8.2f} s            ({:.2f} images/s), {:+.1f}% vs plain forward\n", sal.seconds,
               images / sal.seconds, 100.0 * (sal.seconds / plain_s - 1.0));
    const int64_t parts = mode == "qkv" ? 2 : 1;
    const double features = double(images) * cfg.depth * (cfg.tokens() - 1) * cfg.dim * parts * 4.0;
    const double features_1k = features / double(images) * 1000.0;
    const double acc_bytes = double(cfg.depth) * parts * classes * cfg.dim * 16.0;
    fmt::print("model resident  : {:8.1f} MiB\n", rss_model / 1024.0);
    if (warm.peak_extra_kb >= 0) {
      fmt::print("forward working set (one batch, above the model): {:.1f} MiB\n", warm.peak_extra_kb / 1024.0);
      fmt::print("peak added on top of that: plain forward {:.1f} / {:.1f} MiB, saliency pass {:.1f} MiB\n",
                 p1.peak_extra_kb / 1024.0, p2.peak_extra_kb / 1024.0, sal.peak_extra_kb / 1024.0);
    }
    fmt::print("process peak    : {:.1f} MiB (VmHWM)\n",
               std::max({warm.peak_kb, p1.peak_kb, sal.peak_kb, p2.peak_kb}) / 1024.0);
    fmt::print("accumulator     : {:8.3f} MiB (L x parts x classes x D x 16 bytes)\n", mib(acc_bytes));
    fmt::print("all feature maps: {:8.1f} MiB for these {} images; {:.1f} MiB for 1000 images (N x L x {} x {} x 4 "
               "bytes)\n",
               mib(features), images, mib(features_1k), cfg.tokens() - 1, cfg.dim * parts);
    fmt::print("selection       : layer 0 first channels {}, {}, {} ...\n", sel.layers[0].indices[0][0],
               sel.layers[0].indices[0][1], sel.layers[0].indices[0][2]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_saliency: %s\n", e.what());
    return 1;
  }
  return 0;
}
