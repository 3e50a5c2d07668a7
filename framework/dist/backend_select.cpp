// make_training_communicator: picks NCCL or MPI for a training group and says why.
#include <fmt/core.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

#include "framework/core/error.h"
#include "framework/core/recipe.h"
#include "framework/core/torch_compat.h"
#include "framework/core/strings.h"
#include "framework/dist/nccl_communicator.h"
#include "framework/dist/world.h"

namespace sct::dist {
namespace {

struct DeviceRequest {
  enum Kind { kCpu, kCuda, kAuto } kind = kAuto;
  int index = -1;  // N of "cuda:N"
};

DeviceRequest device_request(const std::string& device) {
  DeviceRequest r;
  if (!parse_device(device, &r.index))
    throw InputError(fmt::format("device: expected 'cpu', 'cuda', 'cuda:N' or 'auto', got '{}'", device));
  r.kind = device == "cpu" ? DeviceRequest::kCpu : device == "auto" ? DeviceRequest::kAuto : DeviceRequest::kCuda;
  return r;
}

// What keeps this rank from running on a GPU; empty when it can. *gpus receives the GPU count.
std::vector<std::string> gpu_missing(const DeviceRequest& request, int* gpus) {
  std::vector<std::string> missing;
  *gpus = torch_compat::cuda_device_count();
  if (!torch_compat::built_with_cuda()) {
    missing.push_back(fmt::format("LibTorch {} is CPU-only", torch_compat::torch_version()));
  } else if (*gpus == 0) {
    const char* visible = std::getenv("CUDA_VISIBLE_DEVICES");
    missing.push_back(visible ? fmt::format("no GPU is visible (CUDA_VISIBLE_DEVICES={})", visible)
                              : std::string("LibTorch finds no usable GPU"));
  } else if (request.index >= *gpus) {
    missing.push_back(fmt::format("only {} GPU(s) are visible", *gpus));
  }
  return missing;
}

std::string host_name() {
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  return host;
}

// This rank's index among the group's ranks on the same host: the GPU it takes by default.
int host_local_index(Communicator& group) {
  const std::string host = host_name();
  const std::vector<std::string> hosts = group.all_gather(host);
  int index = 0;
  for (int r = 0; r < group.rank(); ++r) index += hosts[static_cast<size_t>(r)] == host;
  return index;
}

// Whether two ranks of the group use the same GPU of the same host (NCCL refuses that).
bool gpus_shared(Communicator& group, int gpu) {
  const std::vector<std::string> all = group.all_gather(fmt::format("{}/{}", host_name(), gpu));
  for (size_t i = 0; i < all.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (all[i] == all[j]) return true;
  return false;
}

}  // namespace

std::unique_ptr<Communicator> make_training_communicator(Communicator& group,
                                                         const std::string& device,
                                                         std::string* why, int local_rank,
                                                         Placement* placement) {
  const DeviceRequest request = device_request(device);
  Placement chosen;
  auto host_backend = [&](const std::string& reason) {
    // A fresh communicator over the same ranks, so the caller owns it like an NCCL one.
    auto comm = group.split(0, group.rank());
    if (why) *why = fmt::format("backend={}, device={} ({})", comm->backend(), chosen.device(), reason);
    if (placement) *placement = chosen;
    return comm;
  };
  if (request.kind == DeviceRequest::kCpu) return host_backend("requested");

  int gpus = 0;
  const std::vector<std::string> missing = gpu_missing(request, &gpus);
  // Every rank must make the same choice, or the group would mix devices and backends.
  const bool any_missing = group.all_reduce(static_cast<int64_t>(!missing.empty()), ReduceOp::kMax) != 0;
  if (any_missing) {
    const std::string reason =
        missing.empty() ? std::string("another rank of the group cannot use a GPU") : join(missing, "; ");
    if (request.kind == DeviceRequest::kCuda)
      throw InputError(fmt::format("device={} needs a GPU, but {}; use device=cpu or device=auto", device, reason));
    return host_backend(reason);
  }
  chosen.gpu = request.index >= 0 ? request.index : (local_rank >= 0 ? local_rank : host_local_index(group)) % gpus;
  chosen.gpu_name = torch_compat::cuda_device_name(chosen.gpu);
  torch_compat::set_current_device(c10::Device(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(chosen.gpu)));
  torch_compat::set_tf32(false);  // float32 means float32 (train.precision = "tf32" turns it on)
  const std::string gpu_text = fmt::format("GPU {} of {}: {}", chosen.gpu, gpus, chosen.gpu_name);
  const bool shared = gpus_shared(group, chosen.gpu);
  const bool nccl = nccl_compiled() && !shared;
  if (!nccl)
    return host_backend(fmt::format("{}; {}", gpu_text,
                                    shared ? "ranks of the group share a GPU, which NCCL refuses"
                                           : "NCCL was not compiled in"));
#if defined(SCT_HAVE_NCCL) && SCT_HAVE_NCCL
  auto comm = make_nccl_communicator(group.split(0, group.rank()), chosen.gpu);
  if (why) *why = fmt::format("backend=nccl, device={} ({})", chosen.device(), gpu_text);
  if (placement) *placement = chosen;
  return comm;
#else
  return host_backend("NCCL was not compiled in");  // unreachable: nccl_compiled() is false
#endif
}

}  // namespace sct::dist
