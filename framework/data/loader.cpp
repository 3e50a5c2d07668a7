#include "framework/data/loader.h"

#include <ATen/ops/empty.h>
#include <fmt/core.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include "framework/data/sharding.h"
#include "framework/data/task_file.h"

namespace sct::data {

struct Loader::State {
  std::vector<std::vector<int64_t>> plan;
  std::thread thread;
  std::mutex m;
  std::condition_variable cv;
  std::deque<Batch> queue;
  size_t consumed = 0;
  bool stop = false;
  bool done = false;
  bool started = false;
  std::exception_ptr error;
  double waited = 0.0;
};

namespace {

std::vector<std::vector<int64_t>> epoch_plan(const LoaderOptions& o, int64_t n, int64_t epoch) {
  if (o.mode == LoaderMode::kEval) return eval_batches(n, o.batch_size, o.rank, o.world);
  TrainSharding s{n, o.batch_size, o.rank, o.world, o.seed, o.shuffle, o.drop_last};
  return train_epoch_batches(s, epoch);
}

}  // namespace

Loader::Loader(std::shared_ptr<const TaskFile> file, LoaderOptions options)
    : file_(std::move(file)),
      options_(std::move(options)),
      augmenter_(options_.augment, options_.normalization),
      state_(std::make_unique<State>()) {
  const SplitInfo& s = file_->split(options_.split);  // InputError when missing
  if (options_.mode == LoaderMode::kTrain)
    check_train_sharding({s.count, options_.batch_size, options_.rank, options_.world,
                          options_.seed, options_.shuffle, options_.drop_last});
  else
    eval_batches(s.count, options_.batch_size, options_.rank, options_.world);  // validates
  if (options_.prefetch < 1) options_.prefetch = 1;
}

Loader::~Loader() { stop(); }

int64_t Loader::image_height() const { return file_->split(options_.split).height; }
int64_t Loader::image_width() const { return file_->split(options_.split).width; }

int64_t Loader::steps_per_epoch() const {
  return static_cast<int64_t>(epoch_plan(options_, file_->split(options_.split).count, 0).size());
}

int64_t Loader::samples_per_epoch() const {
  int64_t n = 0;
  for (const auto& b : epoch_plan(options_, file_->split(options_.split).count, 0)) n += b.size();
  return n;
}

std::string Loader::describe() const {
  const SplitInfo& s = file_->split(options_.split);
  return fmt::format("{}:{} ({} images {}x{}), {} batch {}, rank {}/{}, {} steps/epoch, augment: {}",
                     file_->path(), s.name, s.count, s.height, s.width,
                     options_.mode == LoaderMode::kTrain ? "global" : "eval", options_.batch_size,
                     options_.rank, options_.world, steps_per_epoch(), augmenter_.describe());
}

void Loader::stop() {
  State& st = *state_;
  {
    std::lock_guard<std::mutex> lock(st.m);
    st.stop = true;
  }
  st.cv.notify_all();
  if (st.thread.joinable()) st.thread.join();
}

void Loader::start_epoch(int64_t epoch) {
  stop();
  State& st = *state_;
  const SplitInfo info = file_->split(options_.split);
  st.plan = epoch_plan(options_, info.count, epoch);
  st.queue.clear();
  st.consumed = 0;
  st.stop = false;
  st.done = false;
  st.error = nullptr;
  st.started = true;
  st.thread = std::thread([this, epoch, info] {
    State& s = *state_;
    const auto& labels = file_->labels(options_.split);
    const int h = static_cast<int>(info.height), w = static_cast<int>(info.width);
    const size_t image_bytes = static_cast<size_t>(h) * w * 3;
    try {
      for (const auto& indices : s.plan) {
        {
          std::unique_lock<std::mutex> lock(s.m);
          s.cv.wait(lock, [&] { return s.stop || s.queue.size() < static_cast<size_t>(options_.prefetch); });
          if (s.stop) return;
        }
        const auto n = static_cast<int64_t>(indices.size());
        ImageU8 image(h, w, 3);
        std::vector<uint8_t> raw(image_bytes * n);
        file_->read_images(options_.split, indices, raw.data());
        Batch b;
        b.indices = indices;
        // Page-locked for a GPU run, so its copies to the device run asynchronously.
        b.images = at::empty({n, 3, h, w}, at::TensorOptions().dtype(at::kFloat).pinned_memory(options_.pin_memory));
        b.labels = at::empty({n}, at::TensorOptions().dtype(at::kLong).pinned_memory(options_.pin_memory));
        float* out = b.images.data_ptr<float>();
        int64_t* lab = b.labels.data_ptr<int64_t>();
        for (int64_t i = 0; i < n; ++i) {
          const uint8_t* src = raw.data() + i * image_bytes;
          if (augmenter_.active()) {
            std::memcpy(image.pixels.data(), src, image_bytes);
            augmenter_.apply(image, options_.seed, epoch, indices[i]);
            src = image.pixels.data();
          }
          normalize_to_chw(src, h, w, options_.normalization, out + i * 3 * h * w);
          lab[i] = labels[indices[i]];
        }
        std::lock_guard<std::mutex> lock(s.m);
        s.queue.push_back(std::move(b));
        s.cv.notify_all();
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(s.m);
      s.error = std::current_exception();
    }
    std::lock_guard<std::mutex> lock(s.m);
    s.done = true;
    s.cv.notify_all();
  });
}

bool Loader::next(Batch& batch) {
  State& st = *state_;
  if (!st.started) start_epoch(0);
  const auto t0 = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(st.m);
  st.cv.wait(lock, [&] { return !st.queue.empty() || st.done || st.error; });
  st.waited += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (st.queue.empty()) {
    if (st.error) {
      auto e = st.error;
      st.error = nullptr;
      std::rethrow_exception(e);
    }
    return false;
  }
  batch = std::move(st.queue.front());
  st.queue.pop_front();
  ++st.consumed;
  st.cv.notify_all();
  return true;
}

double Loader::wait_seconds() const {
  std::lock_guard<std::mutex> lock(state_->m);
  return state_->waited;
}

}  // namespace sct::data
