#include "framework/dist/mpi_communicator.h"

#include <fmt/core.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "framework/core/error.h"
#include "framework/dist/check.h"
#include "framework/dist/mpi_handle.h"

namespace sct::dist {
namespace {

bool mpi_finalized() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  return finalized != 0;
}

using detail::MpiCommHandle;

MPI_Datatype mpi_type(DType t) {
  switch (t) {
    case DType::kFloat32: return MPI_FLOAT;
    case DType::kFloat64: return MPI_DOUBLE;
    case DType::kInt64: return MPI_INT64_T;
  }
  return MPI_DATATYPE_NULL;
}

template <typename T>
void divide(void* data, size_t count, int n) {
  T* p = static_cast<T*>(data);
  const T d = static_cast<T>(n);
  for (size_t i = 0; i < count; ++i) p[i] /= d;
}

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator(MPI_Comm comm, const MpiOptions& options) : comm_(comm), options_(options) {
    SCT_MPI_CHECK(MPI_Comm_rank(comm_.get(), &rank_));
    SCT_MPI_CHECK(MPI_Comm_size(comm_.get(), &size_));
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "mpi"; }

  void all_reduce(void* data, size_t count, DType dtype, ReduceOp op) override {
    SCT_CHECK(data != nullptr || count == 0, "all_reduce: null buffer");
    const MPI_Datatype type = mpi_type(dtype);
    // Average = sum, then a local division: MPI has no average operation.
    const MPI_Op mpi_op = op == ReduceOp::kMax ? MPI_MAX : MPI_SUM;
    char* bytes = static_cast<char*>(data);
    const size_t esize = dtype_size(dtype);
    for (size_t offset = 0; offset < count; offset += options_.max_chunk) {
      const int n = static_cast<int>(std::min(options_.max_chunk, count - offset));
      SCT_MPI_CHECK(
          MPI_Allreduce(MPI_IN_PLACE, bytes + offset * esize, n, type, mpi_op, comm_.get()));
    }
    if (op != ReduceOp::kAvg || size_ == 1) return;
    switch (dtype) {
      case DType::kFloat32: divide<float>(data, count, size_); break;
      case DType::kFloat64: divide<double>(data, count, size_); break;
      case DType::kInt64: divide<int64_t>(data, count, size_); break;
    }
  }

  void broadcast(void* data, size_t bytes, int root) override {
    check_root(root, "broadcast");
    SCT_CHECK(data != nullptr || bytes == 0, "broadcast: null buffer");
    char* p = static_cast<char*>(data);
    for (size_t offset = 0; offset < bytes; offset += options_.max_chunk) {
      const int n = static_cast<int>(std::min(options_.max_chunk, bytes - offset));
      SCT_MPI_CHECK(MPI_Bcast(p + offset, n, MPI_BYTE, root, comm_.get()));
    }
  }

  void all_gather(const void* data, size_t bytes, void* out) override {
    if (bytes == 0) return;
    SCT_CHECK(data != nullptr && out != nullptr, "all_gather: null buffer");
    char* dst = static_cast<char*>(out);
    if (bytes <= options_.max_chunk) {
      SCT_MPI_CHECK(MPI_Allgather(data, static_cast<int>(bytes), MPI_BYTE, dst,
                                  static_cast<int>(bytes), MPI_BYTE, comm_.get()));
      return;
    }
    // Chunk c of every rank lands contiguously in `staging`; copy each to its rank's slot.
    const char* src = static_cast<const char*>(data);
    std::vector<char> staging(std::min(options_.max_chunk, bytes) * static_cast<size_t>(size_));
    for (size_t offset = 0; offset < bytes; offset += options_.max_chunk) {
      const size_t n = std::min(options_.max_chunk, bytes - offset);
      SCT_MPI_CHECK(MPI_Allgather(src + offset, static_cast<int>(n), MPI_BYTE, staging.data(),
                                  static_cast<int>(n), MPI_BYTE, comm_.get()));
      for (int r = 0; r < size_; ++r)
        std::memcpy(dst + static_cast<size_t>(r) * bytes + offset,
                    staging.data() + static_cast<size_t>(r) * n, n);
    }
  }

  void barrier() override { SCT_MPI_CHECK(MPI_Barrier(comm_.get())); }

  std::unique_ptr<Communicator> split(int color, int key) override {
    if (color < 0) throw Error(fmt::format("split: color must be >= 0, got {}", color));
    MPI_Comm sub = MPI_COMM_NULL;
    SCT_MPI_CHECK(MPI_Comm_split(comm_.get(), color, key, &sub));
    return std::make_unique<MpiCommunicator>(sub, options_);
  }

  using Communicator::all_gather;
  using Communicator::all_reduce;
  using Communicator::broadcast;

 private:
  void check_root(int root, const char* what) const {
    if (root < 0 || root >= size_)
      throw Error(fmt::format("{}: root {} is outside the communicator of size {}", what, root,
                              size_));
  }

  MpiCommHandle comm_;
  MpiOptions options_;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace

std::unique_ptr<Communicator> make_mpi_world_communicator(const MpiOptions& options) {
  SCT_CHECK(options.max_chunk >= 1 && options.max_chunk <= static_cast<size_t>(INT_MAX),
            fmt::format("max_chunk {} is outside [1, INT_MAX]", options.max_chunk));
  int initialized = 0;
  MPI_Initialized(&initialized);
  SCT_CHECK(initialized && !mpi_finalized(), "MPI is not running (construct a World first)");
  MPI_Comm dup = MPI_COMM_NULL;
  SCT_MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &dup));
  return std::make_unique<MpiCommunicator>(dup, options);
}

}  // namespace sct::dist
