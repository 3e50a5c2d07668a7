// Private to framework/data (includes hdf5.h; never include it from a public header):
// RAII HDF5 ids, the process-wide lock every HDF5 call is made under, the error stack as
// text, and attribute helpers that read what both this project and h5py write.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace sct::data::h5 {

// Owns one HDF5 id of any kind.
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) : id_(id) {}
  ~Handle() { reset(); }
  Handle(Handle&& o) noexcept : id_(o.id_) { o.id_ = -1; }
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) reset(), id_ = o.id_, o.id_ = -1;
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset();

 private:
  hid_t id_ = -1;
};

// A serial (non-threadsafe) HDF5 build must see calls from one thread at a time, so every
// HDF5 call in this process is made holding this lock. Taking it also turns off HDF5's
// automatic error printing for the calling thread (the setting is per thread in
// threadsafe builds): failures become one InputError line instead of a stack dump.
class Lock {
 public:
  Lock();

 private:
  std::unique_lock<std::recursive_mutex> lock_;
};

// The current thread's HDF5 error stack in one line (outermost and innermost messages),
// then clears it. Empty when the stack is empty.
std::string error_text();

// True when the error text says that file locking failed.
bool is_lock_error(const std::string& text);

// Attributes. Readers accept fixed- or variable-length strings and any integer type, as
// written by h5py; they return nullopt when the attribute is absent and throw
// sct::InputError naming `where` when it exists with the wrong type.
std::optional<std::string> read_string_attr(hid_t obj, const char* name, const std::string& where);
std::optional<int64_t> read_int_attr(hid_t obj, const char* name, const std::string& where);
std::optional<std::vector<int64_t>> read_int_list_attr(hid_t obj, const char* name,
                                                       const std::string& where);
std::optional<std::vector<std::string>> read_string_list_attr(hid_t obj, const char* name,
                                                              const std::string& where);

// Writers use variable-length UTF-8 strings and int64, h5py's defaults. Throw sct::Error.
void write_string_attr(hid_t obj, const char* name, const std::string& value);
void write_int_attr(hid_t obj, const char* name, int64_t value);
void write_int_list_attr(hid_t obj, const char* name, const std::vector<int64_t>& values);
void write_string_list_attr(hid_t obj, const char* name, const std::vector<std::string>& values);

}  // namespace sct::data::h5
