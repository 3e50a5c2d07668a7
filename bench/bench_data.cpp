// bench_data: loader throughput per core (reading, augmenting and normalising into float
// batches, with the consumer doing nothing), beside the rate training consumes images.
#include <fmt/core.h>

#include <chrono>
#include <ctime>
#include <memory>

#include "framework/app/cli.h"
#include "framework/core/error.h"
#include "framework/data/loader.h"
#include "framework/data/task_file.h"

namespace sct::tools {
namespace {

struct BenchOptions {
  std::string file;
  std::string split;  // empty: train800val200 when the file has it, else its first split
  int64_t batch = 64, batches = 20;
  int prefetch = 2;
  std::string randaugment = "rand-m9-mstd0.5-inc1";
};

cli::Program make_program(BenchOptions& options) {
  cli::Program program;
  program.name = "bench_data";
  program.description =
      "bench_data: loader images/s per core without and with augmentation, beside the training consumption rate";
  program.define = [&options](cli::Options& o) {
    o.positional("FILE.h5", options.file, "a task file").required();
    o.text("--split", "NAME", options.split, "the split to read", "train800val200 if present, else the first");
    o.integer("--batch", options.batch, 1, 1 << 20, "images per batch");
    o.integer("--batches", options.batches, 1, 1 << 20, "batches per measurement");
    o.integer("--prefetch", options.prefetch, 1, 64, "batches the loader prepares ahead");
    o.text("--randaugment", "SPEC", options.randaugment, "the RandAugment of the augmented run (timm syntax)");
  };
  return program;
}

double cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}
double wall_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Rate {
  int64_t images = 0;
  double wall = 0, cpu = 0;
};

Rate run(std::shared_ptr<const data::TaskFile> file, data::LoaderOptions o, int64_t batches) {
  data::Loader loader(file, o);
  Rate r;
  const double w0 = wall_seconds(), c0 = cpu_seconds();
  int64_t epoch = 0;
  loader.start_epoch(epoch);
  data::Batch b;
  for (int64_t i = 0; i < batches; ++i) {
    if (!loader.next(b)) {
      loader.start_epoch(++epoch);
      if (!loader.next(b)) break;
    }
    r.images += b.images.size(0);
  }
  r.wall = wall_seconds() - w0;
  r.cpu = cpu_seconds() - c0;
  return r;
}

Rate run_read_only(const data::TaskFile& file, const std::string& split, int64_t batch, int64_t batches) {
  const auto& s = file.split(split);
  std::vector<uint8_t> buf(static_cast<size_t>(batch * s.height * s.width * 3));
  Rate r;
  const double w0 = wall_seconds(), c0 = cpu_seconds();
  for (int64_t i = 0; i < batches; ++i) {
    std::vector<int64_t> idx;
    for (int64_t j = 0; j < batch; ++j) idx.push_back((i * batch + j * 7919) % s.count);  // scattered reads
    file.read_images(split, idx, buf.data());
    r.images += batch;
  }
  r.wall = wall_seconds() - w0;
  r.cpu = cpu_seconds() - c0;
  return r;
}

void print_rate(const char* what, const Rate& r) {
  fmt::print("  {:<38} {:>6} images  {:>6.2f} s wall  {:>6.2f} s CPU  {:>8.1f} img/s per core\n", what, r.images,
             r.wall, r.cpu, r.images / std::max(r.cpu, 1e-9));
}

int bench(const BenchOptions& options) {
  const std::string &path = options.file, &ra = options.randaugment;
  const int64_t batch = options.batch, batches = options.batches;
  const int prefetch = options.prefetch;
  auto file = std::make_shared<const data::TaskFile>(path);
  std::string split = options.split;
  if (split.empty()) split = file->has_split("train800val200") ? "train800val200" : file->split_names().front();
  const auto& s = file->split(split);
  const int64_t b = std::min(batch, s.count);
  fmt::print("loader benchmark: {}:{} ({} images, {}x{}), batch {}, {} batches, prefetch {}, one producer thread\n",
             path, split, s.count, s.height, s.width, b, batches, prefetch);
  data::LoaderOptions o;
  o.split = split;
  o.batch_size = b;
  o.prefetch = prefetch;
  o.seed = 1;
  print_rate("HDF5 read only (uint8)", run_read_only(*file, split, b, batches));
  print_rate("loader, no augmentation", run(file, o, batches));
  o.augment.hflip = true;
  o.augment.randaugment = ra;
  print_rate(("loader, hflip + " + ra).c_str(), run(file, o, batches));
  fmt::print(
      "training consumption to sustain (LibTorch CPU, fp32, 1 thread per core, measured on the 2-core development machine):\n"
      "  ViT-B/16 at 224x224, forward + backward: ~0.57 img/s per core (forward 1.7 img/s; backward ~2x forward)\n"
      "  tiny ViT (D=96, L=6, 28x28 input), forward + backward: ~125 img/s per core\n");
  return 0;
}

}  // namespace
}  // namespace sct::tools

int main(int argc, char** argv) {
  sct::tools::BenchOptions options;
  const sct::cli::Parsed parsed = sct::cli::parse(sct::tools::make_program(options), {argv + 1, argv + argc});
  if (parsed.kind == sct::cli::Parsed::Kind::kHelp) {
    fmt::print("{}", parsed.text);
    return 0;
  }
  if (parsed.kind == sct::cli::Parsed::Kind::kError) {
    fmt::print(stderr, "bench_data: error: {}\n", parsed.text);
    return sct::kExitBadInput;
  }
  try {
    return sct::tools::bench(options);
  } catch (const sct::Error& e) {
    fmt::print(stderr, "bench_data: error: {}\n", e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    fmt::print(stderr, "bench_data: error: {}\n", e.what());
    return sct::kExitFailure;
  }
}
