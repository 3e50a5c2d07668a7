// make_training_communicator: picks NCCL or MPI for a training group and says why.
#include <ATen/Context.h>
#include <fmt/core.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

#include "framework/core/error.h"
#include "framework/core/strings.h"
#include "framework/dist/nccl_communicator.h"
#include "framework/dist/world.h"

namespace sct::dist {
namespace {

struct DeviceRequest {
  enum Kind { kCpu, kCuda, kAuto } kind = kAuto;
  int index = -1;  // N of "cuda:N"
};

DeviceRequest parse_device(const std::string& device) {
  DeviceRequest r;
  if (device == "cpu") {
    r.kind = DeviceRequest::kCpu;
  } else if (device == "auto") {
    r.kind = DeviceRequest::kAuto;
  } else if (device == "cuda") {
    r.kind = DeviceRequest::kCuda;
  } else if (device.rfind("cuda:", 0) == 0 && device.size() > 5 &&
             device.find_first_not_of("0123456789", 5) == std::string::npos &&
             device.size() < 10) {
    r.kind = DeviceRequest::kCuda;
    r.index = std::atoi(device.c_str() + 5);
  } else {
    throw InputError(
        fmt::format("device: expected 'cpu', 'cuda', 'cuda:N' or 'auto', got '{}'", device));
  }
  return r;
}

// What keeps this rank from using NCCL; empty when it can. *gpus receives the GPU count.
std::vector<std::string> nccl_missing(int* gpus) {
  std::vector<std::string> missing;
  *gpus = 0;
  if (!nccl_compiled())
    missing.push_back("NCCL was not compiled in (nccl.h or the CUDA runtime not found at "
                      "configure time)");
#ifndef SCT_TORCH_CUDA
  missing.push_back("LibTorch is CPU-only");
#else
  if (!at::hasCUDA()) missing.push_back("LibTorch finds no usable GPU");
#endif
#if defined(SCT_HAVE_NCCL) && SCT_HAVE_NCCL
  std::string error;
  *gpus = cuda_device_count(&error);
  if (*gpus == 0) missing.push_back(fmt::format("no GPU is visible ({})", error));
#endif
  return missing;
}

#if defined(SCT_HAVE_NCCL) && SCT_HAVE_NCCL
// This rank's index among the group's ranks on the same host: the GPU it takes by default.
int host_local_index(Communicator& group) {
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  const std::vector<std::string> hosts = group.all_gather(std::string(host));
  int index = 0;
  for (int r = 0; r < group.rank(); ++r) index += hosts[static_cast<size_t>(r)] == host;
  return index;
}
#endif

}  // namespace

std::unique_ptr<Communicator> make_training_communicator(Communicator& group,
                                                         const std::string& device,
                                                         std::string* why, int local_rank) {
  const DeviceRequest request = parse_device(device);
  auto fallback = [&](const std::string& reason) {
    // A fresh communicator over the same ranks, so the caller owns it like an NCCL one.
    auto comm = group.split(0, group.rank());
    if (why) *why = fmt::format("backend={} ({})", comm->backend(), reason);
    return comm;
  };
  if (request.kind == DeviceRequest::kCpu) return fallback("device=cpu");

  int gpus = 0;
  std::vector<std::string> missing = nccl_missing(&gpus);
  // A GPU index that exists on some nodes only must fail the whole group, not just those ranks.
  if (missing.empty() && request.index >= gpus)
    missing.push_back(fmt::format("only {} GPU(s) are visible", gpus));
  // Every rank must make the same choice, or the group would mix backends and hang.
  const bool any_missing = group.all_reduce(static_cast<int64_t>(!missing.empty()),
                                            ReduceOp::kMax) != 0;
  if (any_missing) {
    const std::string reason = missing.empty()
                                   ? std::string("another rank of the group cannot use NCCL")
                                   : join(missing, "; ");
    if (request.kind == DeviceRequest::kCuda)
      throw InputError(fmt::format("device={} needs the NCCL backend, but {}; use device=cpu "
                                   "or device=auto",
                                   device, reason));
    return fallback(reason);
  }

#if defined(SCT_HAVE_NCCL) && SCT_HAVE_NCCL
  int gpu = request.index;
  if (gpu < 0) gpu = (local_rank >= 0 ? local_rank : host_local_index(group)) % gpus;
  auto comm = make_nccl_communicator(group.split(0, group.rank()), gpu);
  if (why) *why = fmt::format("backend=nccl (device={}, GPU {} of {})", device, gpu, gpus);
  return comm;
#else
  // Unreachable: without NCCL compiled in, nccl_missing() is never empty.
  return fallback("NCCL was not compiled in");
#endif
}

}  // namespace sct::dist
