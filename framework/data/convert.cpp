#include "framework/data/convert.h"

#include <fmt/core.h>

#include <algorithm>
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

namespace {

// Images produced ahead of the writer: a ring of `window` slots, image i in slot i % window,
// marked ready once produced and cleared once written. `ready`, `next`, `written`, `stop` and
// `error` are guarded by `mutex`; a slot's bytes belong to whoever claimed its image.
struct Ring {
  Ring(int64_t image_count, size_t image_bytes, int threads)
      : count(image_count), bytes(image_bytes), window(std::max<int64_t>(64, 32 * threads)),
        data(bytes * window), ready(window, 0) {}

  uint8_t* slot(int64_t i) { return data.data() + (i % window) * bytes; }

  // Keeps the first error and stops everyone.
  void fail(std::exception_ptr e) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!error) error = e;
    stop = true;
    cv.notify_all();
  }
  void stop_all() {
    std::lock_guard<std::mutex> lock(mutex);
    stop = true;
    cv.notify_all();
  }

  const int64_t count;
  const size_t bytes;
  const int64_t window;  // workers run ahead of the writer by up to this many images
  std::vector<uint8_t> data;
  std::vector<char> ready;
  std::mutex mutex;
  std::condition_variable cv;
  int64_t next = 0, written = 0;
  bool stop = false;
  std::exception_ptr error;
};

// A worker: claims the next image while the ring has room, produces it into its slot.
void produce_images(Ring& ring, const SplitSource& src) {
  for (;;) {
    int64_t i;
    {
      std::unique_lock<std::mutex> lock(ring.mutex);
      ring.cv.wait(lock, [&] {
        return ring.stop || ring.next >= ring.count || ring.next < ring.written + ring.window;
      });
      if (ring.stop || ring.next >= ring.count) return;
      i = ring.next++;
    }
    try {
      src.produce(i, ring.slot(i));
    } catch (...) {
      ring.fail(std::current_exception());
      return;
    }
    std::lock_guard<std::mutex> lock(ring.mutex);
    ring.ready[i % ring.window] = 1;
    ring.cv.notify_all();
  }
}

// The writer: appends images in index order as they become ready, until all are written or
// the ring is stopped.
void append_in_order(Ring& ring, TaskWriter& writer, const std::string& split, int threads, log::Progress& progress) {
  const int64_t count = ring.count;
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < count;) {
    int64_t j = i + 1;  // [i, j): ready images held contiguously in the ring
    {
      std::unique_lock<std::mutex> lock(ring.mutex);
      ring.cv.wait(lock, [&] { return ring.stop || ring.ready[i % ring.window]; });
      if (ring.stop) break;
      while (j < count && j % ring.window != 0 && ring.ready[j % ring.window]) ++j;
    }
    // One write for the run: small images are otherwise bound by per-call overhead.
    writer.append(ring.slot(i), j - i);
    {
      std::lock_guard<std::mutex> lock(ring.mutex);
      for (int64_t k = i; k < j; ++k) ring.ready[k % ring.window] = 0;
      ring.written = j;
    }
    ring.cv.notify_all();
    i = j;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double rate = i / std::max(s, 1e-9);
    progress.update(fmt::format("{}: {}/{} images, {:.0f} img/s, {} threads, ETA {:.0f} s", split,
                                i, count, rate, threads, (count - i) / std::max(rate, 1e-9)),
                    i == count);
  }
}

}  // namespace

void write_split(TaskWriter& writer, const SplitSource& src, int height, int width, int threads,
                 const std::string& tag) {
  const auto count = static_cast<int64_t>(src.labels.size());
  const size_t bytes = static_cast<size_t>(height) * width * 3;
  threads = std::max(1, threads);
  Ring ring(count, bytes, threads);

  writer.begin_split(src.name, count);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back([&] { produce_images(ring, src); });
  log::Progress progress(tag);
  try {
    append_in_order(ring, writer, src.name, threads, progress);
  } catch (...) {
    ring.fail(std::current_exception());
  }
  ring.stop_all();
  for (auto& t : pool) t.join();
  progress.finish();
  if (ring.error) std::rethrow_exception(ring.error);
  writer.end_split(src.labels, src.classes);
}

}  // namespace sct::data
