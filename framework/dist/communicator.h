// The one communicator interface every collective in sct_dist goes through, with local
// (size 1), MPI (host memory) and NCCL (CUDA tensors) implementations chosen at run time.
//
// Contract for every collective below: all ranks of the communicator call it, in the same
// order, with the same count, dtype, op and root. Operations are in place and blocking
// (for NCCL: complete with respect to LibTorch's current stream on return). Failures throw
// sct::Error naming the failed call, file:line and rank; argument errors are detected before
// any communication, identically on every rank that passed the same arguments.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace at {
class Tensor;
}

namespace sct::dist {

// kAvg is the sum divided by size(); on int64 that division truncates toward zero.
enum class ReduceOp { kSum, kAvg, kMax };
enum class DType { kFloat32, kFloat64, kInt64 };

size_t dtype_size(DType t);
const char* reduce_op_name(ReduceOp op);
// The DType of a float32/float64/int64 tensor; throws sct::Error naming `what` otherwise.
DType tensor_dtype(const at::Tensor& t, const char* what = "all_reduce");

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // "local", "mpi" or "nccl".
  virtual std::string backend() const = 0;

  // Host-memory collectives (every backend supports them; NCCL routes them over MPI).
  virtual void all_reduce(void* data, size_t count, DType dtype, ReduceOp op) = 0;
  virtual void broadcast(void* data, size_t bytes, int root) = 0;
  // Gathers `bytes` from every rank into `out` (size() * bytes), in rank order. Small buffers.
  virtual void all_gather(const void* data, size_t bytes, void* out) = 0;
  virtual void barrier() = 0;
  // Collective: ranks with the same color (>= 0) form a new communicator of the same backend,
  // ordered by (key, rank). The result is independent of (and may outlive) this one.
  virtual std::unique_ptr<Communicator> split(int color, int key) = 0;

  // Tensor collectives: contiguous tensors; all_reduce takes float32/float64/int64, broadcast
  // any dtype. The MPI backend reduces host memory (a CUDA tensor goes through a host copy);
  // NCCL reduces CUDA tensors on its device in place (and CPU ones via its MPI side).
  virtual void all_reduce(at::Tensor& tensor, ReduceOp op);
  virtual void broadcast(at::Tensor& tensor, int root);

  // Typed conveniences over the raw calls.
  void all_reduce(std::vector<double>& v, ReduceOp op) {
    all_reduce(v.data(), v.size(), DType::kFloat64, op);
  }
  void all_reduce(std::vector<int64_t>& v, ReduceOp op) {
    all_reduce(v.data(), v.size(), DType::kInt64, op);
  }
  int64_t all_reduce(int64_t v, ReduceOp op) {
    all_reduce(&v, 1, DType::kInt64, op);
    return v;
  }
  double all_reduce(double v, ReduceOp op) {
    all_reduce(&v, 1, DType::kFloat64, op);
    return v;
  }
  // Strings of any length (ranks may differ): broadcast replaces s with root's; all_gather
  // returns every rank's string in rank order.
  void broadcast(std::string& s, int root);
  std::vector<std::string> all_gather(const std::string& s);
};

// Size-1 communicator: every collective is the identity (average of one value is itself).
std::unique_ptr<Communicator> make_local_communicator();

}  // namespace sct::dist
