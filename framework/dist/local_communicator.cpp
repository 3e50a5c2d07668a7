// The size-1 communicator: lets single-process code and unit tests use the same calls as a
// distributed run. Every collective is the identity.
#include <ATen/core/Tensor.h>

#include <cstring>

#include "framework/core/error.h"
#include "framework/dist/communicator.h"

namespace sct::dist {
namespace {

class LocalCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string backend() const override { return "local"; }

  // Sum, average and max over a single contribution all leave it unchanged.
  void all_reduce(void* data, size_t count, DType, ReduceOp) override {
    SCT_CHECK(data != nullptr || count == 0, "all_reduce: null buffer");
  }
  void broadcast(void* data, size_t bytes, int root) override {
    SCT_CHECK(root == 0, "broadcast: root must be 0 on a size-1 communicator");
    SCT_CHECK(data != nullptr || bytes == 0, "broadcast: null buffer");
  }
  void all_gather(const void* data, size_t bytes, void* out) override {
    if (bytes > 0 && out != data) std::memmove(out, data, bytes);
  }
  void barrier() override {}
  std::unique_ptr<Communicator> split(int color, int) override {
    SCT_CHECK(color >= 0, "split: color must be >= 0");
    return std::make_unique<LocalCommunicator>();
  }

  // Identity on any device, so a one-rank GPU run can use it too.
  void all_reduce(at::Tensor& tensor, ReduceOp) override {
    SCT_CHECK(tensor.defined(), "all_reduce: undefined tensor");
    tensor_dtype(tensor, "all_reduce");  // same dtype rule as the other backends
  }
  void broadcast(at::Tensor& tensor, int root) override {
    SCT_CHECK(tensor.defined(), "broadcast: undefined tensor");
    SCT_CHECK(root == 0, "broadcast: root must be 0 on a size-1 communicator");
  }

  // Keep the base class's tensor and typed overloads visible next to the overrides.
  using Communicator::all_gather;
  using Communicator::all_reduce;
  using Communicator::broadcast;
};

}  // namespace

std::unique_ptr<Communicator> make_local_communicator() {
  return std::make_unique<LocalCommunicator>();
}

}  // namespace sct::dist
