#include "framework/train/device_batches.h"

#include <ATen/ATen.h>

#include <utility>

namespace sct::train {

void DeviceBatches::start_epoch(int64_t epoch, int64_t skip) {
  loader_.start_epoch(epoch);
  data::Batch skipped;
  for (int64_t i = 0; i < skip; ++i) loader_.next(skipped);
  primed_ = false;
  has_next_ = false;
}

bool DeviceBatches::next(data::Batch& out) {
  if (!copy_.device().is_cuda()) return loader_.next(out);
  if (!primed_) read_ahead(), primed_ = true;
  if (!has_next_) return false;
  out = std::move(next_);
  copy_.finish({&out.images, &out.labels});
  read_ahead();
  return true;
}

void DeviceBatches::read_ahead() {
  data::Batch host;
  has_next_ = loader_.next(host);
  if (!has_next_) return;
  next_.indices = std::move(host.indices);
  next_.images = copy_.start(host.images);
  next_.labels = copy_.start(host.labels);
}

}  // namespace sct::train
