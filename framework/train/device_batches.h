// The training loader's batches on the run's device. On a GPU the copy of batch i+1 (from
// page-locked memory, on a stream of its own) is started when batch i is handed out, so it
// overlaps step i; on the CPU the batches are the loader's own and nothing is read ahead.
#pragma once

#include <c10/core/Device.h>

#include <cstdint>

#include "framework/core/torch_compat.h"
#include "framework/data/loader.h"

namespace sct::train {

class DeviceBatches {
 public:
  DeviceBatches(data::Loader& loader, const c10::Device& device) : loader_(loader), copy_(device) {}

  // The loader at the start of `epoch`, `skip` batches in (a resumed epoch).
  void start_epoch(int64_t epoch, int64_t skip);
  // The next batch, its images and labels on the device; false at the end of the epoch.
  bool next(data::Batch& out);

 private:
  void read_ahead();

  data::Loader& loader_;
  torch_compat::DeviceCopy copy_;
  data::Batch next_;
  bool primed_ = false, has_next_ = false;
};

}  // namespace sct::train
