#include "framework/data/convert.h"

#include <fmt/core.h>

#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>

#include "framework/core/log.h"

namespace sct::data {

int conversion_threads(int requested) {
  if (requested > 0) return requested;
  const unsigned n = std::thread::hardware_concurrency();
  return n ? static_cast<int>(n) : 1;
}

void write_split(TaskWriter& writer, const SplitSource& src, int height, int width, int threads,
                 const std::string& tag) {
  const auto count = static_cast<int64_t>(src.labels.size());
  const size_t bytes = static_cast<size_t>(height) * width * 3;
  threads = std::max(1, threads);
  // A ring of slots lets workers run ahead of the writer by up to `window` images.
  const int64_t window = std::max<int64_t>(64, 32 * threads);
  std::vector<uint8_t> ring(bytes * window);
  std::vector<char> ready(window, 0);
  std::mutex m;
  std::condition_variable cv;
  int64_t next = 0, written = 0;
  bool stop = false;
  std::exception_ptr error;

  auto worker = [&] {
    for (;;) {
      int64_t i;
      {
        std::unique_lock<std::mutex> lock(m);
        cv.wait(lock, [&] { return stop || next >= count || next < written + window; });
        if (stop || next >= count) return;
        i = next++;
      }
      try {
        src.produce(i, ring.data() + (i % window) * bytes);
      } catch (...) {
        std::lock_guard<std::mutex> lock(m);
        if (!error) error = std::current_exception();
        stop = true;
        cv.notify_all();
        return;
      }
      std::lock_guard<std::mutex> lock(m);
      ready[i % window] = 1;
      cv.notify_all();
    }
  };

  writer.begin_split(src.name, count);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker);
  log::Progress progress(tag);
  const auto t0 = std::chrono::steady_clock::now();
  try {
    for (int64_t i = 0; i < count;) {
      int64_t j = i + 1;  // [i, j): ready images held contiguously in the ring
      {
        std::unique_lock<std::mutex> lock(m);
        cv.wait(lock, [&] { return stop || ready[i % window]; });
        if (stop) break;
        while (j < count && j % window != 0 && ready[j % window]) ++j;
      }
      // One write for the run: small images are otherwise bound by per-call overhead.
      writer.append(ring.data() + (i % window) * bytes, j - i);
      {
        std::lock_guard<std::mutex> lock(m);
        for (int64_t k = i; k < j; ++k) ready[k % window] = 0;
        written = j;
      }
      cv.notify_all();
      i = j;
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const double rate = i / std::max(s, 1e-9);
      progress.update(fmt::format("{}: {}/{} images, {:.0f} img/s, {} threads, ETA {:.0f} s", src.name,
                                  i, count, rate, threads, (count - i) / std::max(rate, 1e-9)),
                      i == count);
    }
  } catch (...) {
    std::lock_guard<std::mutex> lock(m);
    if (!error) error = std::current_exception();
    stop = true;
    cv.notify_all();
  }
  {
    std::lock_guard<std::mutex> lock(m);
    stop = true;
    cv.notify_all();
  }
  for (auto& t : pool) t.join();
  progress.finish();
  if (error) std::rethrow_exception(error);
  writer.end_split(src.labels);
}

}  // namespace sct::data
