#include "framework/model/raw_tensor.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "framework/core/error.h"
#include "framework/core/fs.h"

namespace sct::model {

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::kF32: return 4;
    case DType::kF16: return 2;
    case DType::kBF16: return 2;
    case DType::kF64: return 8;
  }
  return 0;
}

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::kF32: return "f32";
    case DType::kF16: return "f16";
    case DType::kBF16: return "bf16";
    case DType::kF64: return "f64";
  }
  return "?";
}

uint64_t checked_nbytes(const std::vector<int64_t>& shape, DType dtype, const std::string& where) {
  constexpr uint64_t kLimit = uint64_t(1) << 62;
  uint64_t n = dtype_size(dtype);
  for (int64_t d : shape) {
    if (d < 0) throw InputError(where + ": negative dimension in shape " + shape_str(shape));
    if (d != 0 && n > kLimit / uint64_t(d))
      throw InputError(where + ": shape " + shape_str(shape) + " is too large");
    n *= uint64_t(d);
  }
  return n;
}

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + ")";
}

FileSource::FileSource(const std::string& path) {
  name_ = path;
  file_ = std::fopen(path.c_str(), "rb");
  if (!file_) throw InputError(path + ": cannot open (" + std::strerror(errno) + ")");
  if (fseeko(file_, 0, SEEK_END) != 0) {
    std::fclose(file_);
    throw InputError(path + ": cannot seek (" + std::strerror(errno) + ")");
  }
  size_ = static_cast<uint64_t>(ftello(file_));
}

FileSource::~FileSource() {
  if (file_) std::fclose(file_);
}

void FileSource::read(uint64_t offset, size_t n, void* dst) const {
  if (offset > size_ || n > size_ - offset)
    throw InputError(name_ + ": truncated file: needs bytes up to " + std::to_string(offset + n) +
                     " but has " + std::to_string(size_));
  if (n == 0) return;
  if (fseeko(file_, static_cast<off_t>(offset), SEEK_SET) != 0 || std::fread(dst, 1, n, file_) != n)
    throw InputError(name_ + ": read error at offset " + std::to_string(offset));
}

MemorySource::MemorySource(const void* data, size_t size, std::string name)
    : data_(static_cast<const uint8_t*>(data)), size_(size) {
  name_ = std::move(name);
}

void MemorySource::read(uint64_t offset, size_t n, void* dst) const {
  if (offset > size_ || n > size_ - offset)
    throw InputError(name_ + ": truncated: needs bytes up to " + std::to_string(offset + n) +
                     " but has " + std::to_string(size_));
  if (n) std::memcpy(dst, data_ + offset, n);
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  static std::atomic<int> counter{0};
  std::filesystem::path p(path_);
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
  temp_ = path_ + ".tmp." + std::to_string(getpid()) + "." + std::to_string(counter++);
}

AtomicFile::~AtomicFile() {
  if (file_) std::fclose(file_);
  if (!committed_) std::remove(temp_.c_str());
}

void AtomicFile::open() {
  check_write_fault(path_);
  file_ = std::fopen(temp_.c_str(), "wb");
  if (!file_) throw Error(path_ + ": cannot write (" + std::strerror(errno) + ")");
}

void AtomicFile::write(const void* data, size_t n) {
  SCT_CHECK(file_ != nullptr, path_);
  if (n && std::fwrite(data, 1, n, file_) != n)
    throw Error(path_ + ": cannot write (" + std::strerror(errno) + ")");
}

void AtomicFile::commit() {
  bool ok = true;
  if (file_) {
    ok = std::fflush(file_) == 0;
    ok = (fsync(fileno(file_)) == 0) && ok;  // publish only bytes that reached the disk
    ok = (std::fclose(file_) == 0) && ok;
    file_ = nullptr;
  } else {
    int fd = ::open(temp_.c_str(), O_RDONLY);
    ok = fd >= 0 && fsync(fd) == 0;
    if (fd >= 0) ::close(fd);
  }
  if (!ok || std::rename(temp_.c_str(), path_.c_str()) != 0)
    throw Error(path_ + ": cannot write (" + std::strerror(errno) + ")");
  committed_ = true;
}

}  // namespace sct::model
