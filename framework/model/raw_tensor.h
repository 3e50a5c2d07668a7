// Tensors as parsed from checkpoint files (little-endian bytes, dtype, shape), and the byte
// sources the parsers read from. Free of LibTorch so the parsers also build into a fuzz target.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace sct::model {

enum class DType : uint8_t { kF32, kF16, kBF16, kF64 };

size_t dtype_size(DType dtype);
const char* dtype_name(DType dtype);  // "f32", "f16", "bf16", "f64"

struct RawTensor {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;  // numel * dtype_size bytes, little-endian, C order
};

// Number of elements and bytes of `shape` in `dtype`; InputError "<where>: ..." when a
// dimension is negative or the size overflows 2^62 bytes.
uint64_t checked_nbytes(const std::vector<int64_t>& shape, DType dtype, const std::string& where);

std::string shape_str(const std::vector<int64_t>& shape);  // "(768, 3, 16, 16)"

// Random-access bytes with bounds-checked reads: a file, or a buffer in memory.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual uint64_t size() const = 0;
  // Reads exactly n bytes at offset; InputError "<name>: truncated ..." past the end.
  virtual void read(uint64_t offset, size_t n, void* dst) const = 0;
  const std::string& name() const { return name_; }

 protected:
  std::string name_;
};

class FileSource : public ByteSource {
 public:
  explicit FileSource(const std::string& path);  // InputError when it cannot be opened
  ~FileSource() override;
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;
  uint64_t size() const override { return size_; }
  void read(uint64_t offset, size_t n, void* dst) const override;

 private:
  std::FILE* file_ = nullptr;
  uint64_t size_ = 0;
};

class MemorySource : public ByteSource {
 public:
  MemorySource(const void* data, size_t size, std::string name);
  uint64_t size() const override { return size_; }
  void read(uint64_t offset, size_t n, void* dst) const override;

 private:
  const uint8_t* data_;
  size_t size_;
};

// Writes a file atomically: bytes go to a temporary file beside `path`, which replaces `path`
// on commit(); destroyed uncommitted, the temporary file is removed.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  const std::string& temp_path() const { return temp_; }
  void write(const void* data, size_t n);  // only when opened for writing (open())
  void open();                             // opens temp_path() for writing
  void commit();                           // flush, sync, rename onto path

 private:
  std::string path_, temp_;
  std::FILE* file_ = nullptr;
  bool committed_ = false;
};

}  // namespace sct::model
