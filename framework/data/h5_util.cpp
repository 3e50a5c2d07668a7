#include "framework/data/h5_util.h"

#include <fmt/core.h>

#include "framework/core/error.h"
#include "framework/data/task_format.h"

namespace sct::data::h5 {
namespace {

std::recursive_mutex& global_mutex() {
  static std::recursive_mutex m;
  return m;
}

herr_t collect(unsigned n, const H5E_error2_t* err, void* data) {
  auto* out = static_cast<std::vector<std::string>*>(data);
  if (err->desc && *err->desc) out->push_back(err->desc);
  (void)n;
  return 0;
}

std::string type_text(hid_t type) {
  switch (H5Tget_class(type)) {
    case H5T_INTEGER: return fmt::format("{}-byte integer", H5Tget_size(type));
    case H5T_FLOAT: return fmt::format("{}-byte float", H5Tget_size(type));
    case H5T_STRING: return "string";
    default: return "non-numeric type";
  }
}

struct AttrInfo {
  Handle attr, type, space;
  int64_t elements = 0;
  int rank = 0;
};

std::optional<AttrInfo> open_attr(hid_t obj, const char* name) {
  if (H5Aexists(obj, name) <= 0) return std::nullopt;
  AttrInfo a;
  a.attr = Handle(H5Aopen(obj, name, H5P_DEFAULT));
  if (!a.attr.valid()) return std::nullopt;
  a.type = Handle(H5Aget_type(a.attr.get()));
  a.space = Handle(H5Aget_space(a.attr.get()));
  a.elements = H5Sget_simple_extent_npoints(a.space.get());
  a.rank = H5Sget_simple_extent_ndims(a.space.get());
  return a;
}

std::vector<std::string> read_strings(const AttrInfo& a, const char* name, const std::string& where) {
  if (H5Tget_class(a.type.get()) != H5T_STRING)
    throw InputError(fmt::format("{}: attribute '{}' should be a string, found a {}", where, name,
                                 type_text(a.type.get())));
  std::vector<std::string> out;
  const auto n = static_cast<size_t>(a.elements);
  if (H5Tis_variable_str(a.type.get()) > 0) {
    Handle mem(H5Tcopy(H5T_C_S1));
    H5Tset_size(mem.get(), H5T_VARIABLE);
    H5Tset_cset(mem.get(), H5Tget_cset(a.type.get()));
    std::vector<char*> ptrs(n, nullptr);
    if (H5Aread(a.attr.get(), mem.get(), ptrs.data()) < 0)
      throw InputError(fmt::format("{}: cannot read attribute '{}': {}", where, name, error_text()));
    for (char* p : ptrs) out.emplace_back(p ? p : "");
    H5Dvlen_reclaim(mem.get(), a.space.get(), H5P_DEFAULT, ptrs.data());
  } else {
    const size_t len = H5Tget_size(a.type.get());
    std::vector<char> buf(len * n + 1, '\0');
    if (H5Aread(a.attr.get(), a.type.get(), buf.data()) < 0)
      throw InputError(fmt::format("{}: cannot read attribute '{}': {}", where, name, error_text()));
    for (size_t i = 0; i < n; ++i) {
      std::string s(buf.data() + i * len, len);
      s.erase(s.find_last_not_of(std::string("\0 ", 2)) + 1);  // null- or space-padded
      out.push_back(s);
    }
  }
  return out;
}

std::vector<int64_t> read_ints(const AttrInfo& a, const char* name, const std::string& where) {
  if (H5Tget_class(a.type.get()) != H5T_INTEGER)
    throw InputError(fmt::format("{}: attribute '{}' should be an integer, found a {}", where, name,
                                 type_text(a.type.get())));
  std::vector<int64_t> out(static_cast<size_t>(a.elements));
  if (out.empty()) return out;  // an empty array: HDF5 refuses a read into no buffer
  if (H5Aread(a.attr.get(), H5T_NATIVE_INT64, out.data()) < 0)
    throw InputError(fmt::format("{}: cannot read attribute '{}': {}", where, name, error_text()));
  return out;
}

Handle scalar_or_vector_space(size_t n, bool scalar) {
  if (scalar) return Handle(H5Screate(H5S_SCALAR));
  hsize_t dim = n;
  return Handle(H5Screate_simple(1, &dim, nullptr));
}

void replace_attr(hid_t obj, const char* name) {
  if (H5Aexists(obj, name) > 0) H5Adelete(obj, name);
}

void check_write(herr_t status, const char* name) {
  if (status < 0) throw Error(fmt::format("cannot write HDF5 attribute '{}': {}", name, error_text()));
}

}  // namespace

void Handle::reset() {
  if (id_ >= 0) H5Idec_ref(id_);
  id_ = -1;
}

Lock::Lock() : lock_(global_mutex()) { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

std::string error_text() {
  std::vector<std::string> messages;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, collect, &messages);
  H5Eclear2(H5E_DEFAULT);
  if (messages.empty()) return "";
  if (messages.size() == 1 || messages.front() == messages.back()) return messages.front();
  return messages.front() + ": " + messages.back();
}

bool is_lock_error(const std::string& text) {
  for (const char* needle : {"unable to lock", "file locking", "lock file"})
    if (text.find(needle) != std::string::npos) return true;
  return false;
}

std::optional<std::string> read_string_attr(hid_t obj, const char* name, const std::string& where) {
  auto a = open_attr(obj, name);
  if (!a) return std::nullopt;
  auto v = read_strings(*a, name, where);
  if (v.size() != 1)
    throw InputError(fmt::format("{}: attribute '{}' should hold one string, found {}", where, name, v.size()));
  return v[0];
}

std::optional<int64_t> read_int_attr(hid_t obj, const char* name, const std::string& where) {
  auto a = open_attr(obj, name);
  if (!a) return std::nullopt;
  auto v = read_ints(*a, name, where);
  if (v.size() != 1)
    throw InputError(fmt::format("{}: attribute '{}' should hold one integer, found {}", where, name, v.size()));
  return v[0];
}

std::optional<std::vector<int64_t>> read_int_list_attr(hid_t obj, const char* name,
                                                       const std::string& where) {
  auto a = open_attr(obj, name);
  if (!a) return std::nullopt;
  return read_ints(*a, name, where);
}

std::optional<std::vector<std::string>> read_string_list_attr(hid_t obj, const char* name,
                                                              const std::string& where) {
  auto a = open_attr(obj, name);
  if (!a) return std::nullopt;
  return read_strings(*a, name, where);
}

void write_string_attr(hid_t obj, const char* name, const std::string& value) {
  write_string_list_attr(obj, name, {value});
  // A one-element list is written as a scalar, like h5py's attrs[name] = "text".
}

void write_string_list_attr(hid_t obj, const char* name, const std::vector<std::string>& values) {
  replace_attr(obj, name);
  Handle type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  Handle space = scalar_or_vector_space(values.size(), values.size() == 1);
  Handle attr(H5Acreate2(obj, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT));
  if (!attr.valid()) check_write(-1, name);
  std::vector<const char*> ptrs;
  for (const auto& v : values) ptrs.push_back(v.c_str());
  check_write(H5Awrite(attr.get(), type.get(), ptrs.data()), name);
}

void write_int_attr(hid_t obj, const char* name, int64_t value) {
  replace_attr(obj, name);
  Handle space(H5Screate(H5S_SCALAR));
  Handle attr(H5Acreate2(obj, name, H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT));
  if (!attr.valid()) check_write(-1, name);
  check_write(H5Awrite(attr.get(), H5T_NATIVE_INT64, &value), name);
}

void write_int_list_attr(hid_t obj, const char* name, const std::vector<int64_t>& values) {
  replace_attr(obj, name);
  Handle space = scalar_or_vector_space(values.size(), false);
  Handle attr(H5Acreate2(obj, name, H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT));
  if (!attr.valid()) check_write(-1, name);
  check_write(H5Awrite(attr.get(), H5T_NATIVE_INT64, values.data()), name);
}

}  // namespace sct::data::h5

namespace sct::data {
std::string hdf5_version() {
  unsigned maj = 0, min = 0, rel = 0;
  H5get_libversion(&maj, &min, &rel);
  return fmt::format("{}.{}.{}", maj, min, rel);
}
}  // namespace sct::data
