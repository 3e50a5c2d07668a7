// Compiled only when nccl.h and the CUDA runtime are found (SCT_HAVE_NCCL). Uses no CUDA
// LibTorch header unless SCT_NCCL_TORCH_STREAM is defined (LibTorch built with CUDA), so the
// file also compiles, and is checked, against a CPU-only LibTorch.
#include "framework/dist/nccl_communicator.h"

#include <ATen/core/Tensor.h>
#include <cuda_runtime_api.h>
#include <fmt/core.h>
#include <nccl.h>

#include <optional>

#ifdef SCT_NCCL_TORCH_STREAM
#include <c10/cuda/CUDAStream.h>
#endif

#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/dist/check.h"
#include "framework/dist/watchdog.h"

#define SCT_CUDA_CHECK(call)                                                          \
  do {                                                                                \
    cudaError_t sct_cuda_rc_ = (call);                                                \
    if (sct_cuda_rc_ != cudaSuccess)                                                  \
      ::sct::dist::detail::throw_call_failure("CUDA", #call, __FILE__, __LINE__,      \
                                              cudaGetErrorString(sct_cuda_rc_));      \
  } while (0)

#define SCT_NCCL_CHECK(call, comm)                                                    \
  do {                                                                                \
    ncclResult_t sct_nccl_rc_ = (call);                                               \
    if (sct_nccl_rc_ != ncclSuccess)                                                  \
      ::sct::dist::detail::throw_call_failure("NCCL", #call, __FILE__, __LINE__,      \
                                              nccl_reason(sct_nccl_rc_, comm));       \
  } while (0)

namespace sct::dist {
namespace {

std::string nccl_reason(ncclResult_t rc, ncclComm_t comm) {
  std::string reason = ncclGetErrorString(rc);
#if NCCL_VERSION_CODE >= NCCL_VERSION(2, 13, 0)
  if (const char* last = ncclGetLastError(comm); last && *last) reason += std::string(": ") + last;
#endif
  return reason;
}

// Makes `device` current for the scope (streams, events and NCCL calls belong to it) and
// restores the caller's device afterwards.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device) {
    SCT_CUDA_CHECK(cudaGetDevice(&previous_));
    if (previous_ != device) SCT_CUDA_CHECK(cudaSetDevice(device));
  }
  ~DeviceGuard() { cudaSetDevice(previous_); }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = 0;
};

// The RAII owners below are created empty and filled once the right device is current.
class CudaStream {
 public:
  CudaStream() = default;
  ~CudaStream() { if (stream_) cudaStreamDestroy(stream_); }
  CudaStream(const CudaStream&) = delete;
  CudaStream& operator=(const CudaStream&) = delete;
  // Non-blocking: no implicit ordering with the legacy default stream; ordering is explicit.
  void create() { SCT_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking)); }
  cudaStream_t get() const { return stream_; }

 private:
  cudaStream_t stream_ = nullptr;
};

class CudaEvent {
 public:
  CudaEvent() = default;
  ~CudaEvent() { if (event_) cudaEventDestroy(event_); }
  CudaEvent(const CudaEvent&) = delete;
  CudaEvent& operator=(const CudaEvent&) = delete;
  void create() { SCT_CUDA_CHECK(cudaEventCreateWithFlags(&event_, cudaEventDisableTiming)); }
  cudaEvent_t get() const { return event_; }

 private:
  cudaEvent_t event_ = nullptr;
};

class NcclComm {
 public:
  NcclComm() = default;
  ~NcclComm() {
    if (!comm_) return;
    ncclResult_t rc = ncclCommDestroy(comm_);
    if (rc != ncclSuccess) log::warn("dist", "ncclCommDestroy: {}", ncclGetErrorString(rc));
  }
  NcclComm(const NcclComm&) = delete;
  NcclComm& operator=(const NcclComm&) = delete;
  ncclComm_t* out() { return &comm_; }
  ncclComm_t get() const { return comm_; }

 private:
  ncclComm_t comm_ = nullptr;
};

ncclDataType_t nccl_type(DType t) {
  switch (t) {
    case DType::kFloat32: return ncclFloat32;
    case DType::kFloat64: return ncclFloat64;
    case DType::kInt64: return ncclInt64;
  }
  return ncclFloat32;
}

ncclRedOp_t nccl_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum: return ncclSum;
    case ReduceOp::kMax: return ncclMax;
    case ReduceOp::kAvg:
#if NCCL_VERSION_CODE >= NCCL_VERSION(2, 10, 0)
      return ncclAvg;
#else
      throw Error("all_reduce avg needs NCCL >= 2.10");
#endif
  }
  return ncclSum;
}

// The stream LibTorch queues this device's work on. Without CUDA LibTorch headers (a CPU-only
// LibTorch, which cannot make CUDA tensors anyway) the legacy default stream stands in.
cudaStream_t torch_stream(int device) {
#ifdef SCT_NCCL_TORCH_STREAM
  return c10::cuda::getCurrentCUDAStream(static_cast<c10::DeviceIndex>(device)).stream();
#else
  (void)device;
  return cudaStreamLegacy;
#endif
}

class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(std::unique_ptr<Communicator> host, int device)
      : host_(std::move(host)), device_(device) {
    // Local set-up first; the ranks then agree on success before any rank enters
    // ncclCommInitRank, so one failing rank fails the group instead of hanging it.
    std::optional<DeviceGuard> guard;
    ncclUniqueId id{};
    std::string failure;
    try {
      guard.emplace(device_);
      stream_.create();
      before_.create();
      after_.create();
      if (host_->rank() == 0) SCT_NCCL_CHECK(ncclGetUniqueId(&id), nullptr);
    } catch (const std::exception& e) {
      failure = e.what();
    }
    if (host_->all_reduce(static_cast<int64_t>(!failure.empty()), ReduceOp::kMax) != 0)
      throw Error(failure.empty() ? "NCCL set-up failed on another rank of the group" : failure);
    host_->broadcast(&id, sizeof(id), 0);
    SCT_NCCL_CHECK(ncclCommInitRank(comm_.out(), host_->size(), id, host_->rank()), comm_.get());
    // A failed collective (a peer's network, an NCCL fault) leaves this rank's main thread
    // waiting on the GPU; the watchdog thread asks NCCL and ends the job naming the rank.
    const ncclComm_t comm = comm_.get();
    const int rank = host_->rank(), gpu = device_;
    health_check_ = add_health_check([comm, rank, gpu]() -> std::string {
      ncclResult_t async = ncclSuccess;
      if (ncclCommGetAsyncError(comm, &async) != ncclSuccess || async == ncclSuccess) return "";
#if NCCL_VERSION_CODE >= NCCL_VERSION(2, 14, 0)
      if (async == ncclInProgress) return "";
#endif
      return fmt::format("the NCCL communicator of rank {} (cuda:{}) failed: {}", rank, gpu,
                         nccl_reason(async, comm));
    });
  }

  ~NcclCommunicator() override { remove_health_check(health_check_); }

  int rank() const override { return host_->rank(); }
  int size() const override { return host_->size(); }
  std::string backend() const override { return "nccl"; }

  // Host memory goes over MPI: NCCL only reads device memory.
  void all_reduce(void* data, size_t count, DType dtype, ReduceOp op) override {
    host_->all_reduce(data, count, dtype, op);
  }
  void broadcast(void* data, size_t bytes, int root) override {
    host_->broadcast(data, bytes, root);
  }
  void all_gather(const void* data, size_t bytes, void* out) override {
    host_->all_gather(data, bytes, out);
  }
  void barrier() override {
    // Our queued collectives count as work done before the barrier.
    SCT_CUDA_CHECK(cudaStreamSynchronize(stream_.get()));
    host_->barrier();
  }
  std::unique_ptr<Communicator> split(int color, int key) override {
    return make_nccl_communicator(host_->split(color, key), device_);
  }

  void all_reduce(at::Tensor& tensor, ReduceOp op) override {
    if (!tensor.defined() || !tensor.is_cuda()) return Communicator::all_reduce(tensor, op);
    check_device_tensor(tensor, "all_reduce");
    const DType dtype = tensor_dtype(tensor, "all_reduce");
    if (tensor.numel() == 0) return;
    DeviceGuard guard(device_);
    void* p = tensor.data_ptr();
    const cudaStream_t torch = torch_stream(device_);
    enter(torch);
    SCT_NCCL_CHECK(ncclAllReduce(p, p, static_cast<size_t>(tensor.numel()), nccl_type(dtype),
                                 nccl_op(op), comm_.get(), stream_.get()),
                   comm_.get());
    leave(torch);
  }

  void broadcast(at::Tensor& tensor, int root) override {
    if (!tensor.defined() || !tensor.is_cuda()) return Communicator::broadcast(tensor, root);
    check_device_tensor(tensor, "broadcast");
    if (root < 0 || root >= size())
      throw Error(fmt::format("broadcast: root {} is outside the communicator of size {}", root,
                              size()));
    if (tensor.nbytes() == 0) return;
    DeviceGuard guard(device_);
    void* p = tensor.data_ptr();
    const cudaStream_t torch = torch_stream(device_);
    enter(torch);
    // As bytes: any dtype broadcasts the same way.
    SCT_NCCL_CHECK(ncclBroadcast(p, p, tensor.nbytes(), ncclUint8, root, comm_.get(),
                                 stream_.get()),
                   comm_.get());
    leave(torch);
  }

  using Communicator::all_gather;
  using Communicator::all_reduce;
  using Communicator::broadcast;

 private:
  void check_device_tensor(const at::Tensor& t, const char* what) const {
    if (!t.is_contiguous())
      throw Error(fmt::format("{}: tensor must be contiguous (make a contiguous copy first)",
                              what));
    if (t.device().index() != device_)
      throw Error(fmt::format("{}: tensor is on {} but this NCCL communicator uses cuda:{}", what,
                              t.device().str(), device_));
  }

  // Our stream starts the collective only after everything LibTorch queued before it (the
  // producer of the tensor); LibTorch's stream continues only after the collective, so the
  // caller sees the result in stream order and the allocator cannot reuse the memory early.
  void enter(cudaStream_t torch) {
    SCT_CUDA_CHECK(cudaEventRecord(before_.get(), torch));
    SCT_CUDA_CHECK(cudaStreamWaitEvent(stream_.get(), before_.get(), 0));
  }
  void leave(cudaStream_t torch) {
    SCT_CUDA_CHECK(cudaEventRecord(after_.get(), stream_.get()));
    SCT_CUDA_CHECK(cudaStreamWaitEvent(torch, after_.get(), 0));
  }

  std::unique_ptr<Communicator> host_;
  int device_;
  int health_check_ = -1;
  // Declared last so the NCCL communicator is destroyed before the stream it runs on.
  CudaStream stream_;
  CudaEvent before_;
  CudaEvent after_;
  NcclComm comm_;
};

}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(std::unique_ptr<Communicator> host,
                                                     int device) {
  SCT_CHECK(host != nullptr, "make_nccl_communicator: no host communicator");
  return std::make_unique<NcclCommunicator>(std::move(host), device);
}

int cuda_device_count(std::string* error) {
  int n = 0;
  cudaError_t rc = cudaGetDeviceCount(&n);
  if (rc != cudaSuccess) {
    if (error) *error = fmt::format("cudaGetDeviceCount: {}", cudaGetErrorString(rc));
    cudaGetLastError();  // clear the sticky-free error so later CUDA calls start clean
    return 0;
  }
  if (n == 0 && error) *error = "cudaGetDeviceCount found no device";
  return n;
}

}  // namespace sct::dist
