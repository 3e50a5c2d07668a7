#include "framework/model/npy.h"

#include <cstring>

#include "framework/core/error.h"

namespace sct::model {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMaxHeader = 1 << 20;  // NumPy itself refuses headers over 10 kB by default

// Minimal reader of the Python dict literal NumPy writes, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
class DictParser {
 public:
  DictParser(const std::string& text, const std::string& where) : s_(text), where_(where) {}

  void parse(std::string* descr, bool* fortran, std::vector<int64_t>* shape) {
    bool have_descr = false, have_order = false, have_shape = false;
    expect('{');
    while (true) {
      skip_ws();
      if (peek() == '}') break;
      std::string key = string_literal();
      expect(':');
      skip_ws();
      if (key == "descr") {
        *descr = string_literal();
        have_descr = true;
      } else if (key == "fortran_order") {
        *fortran = boolean();
        have_order = true;
      } else if (key == "shape") {
        *shape = tuple();
        have_shape = true;
      } else {
        fail("unexpected key '" + key + "' in the header");
      }
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() != '}') fail("expected ',' or '}' in the header");
    }
    if (!have_descr || !have_order || !have_shape)
      fail("header lacks one of 'descr', 'fortran_order', 'shape'");
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(where_ + ": malformed .npy header: " + what + " at character " +
                     std::to_string(pos_));
  }
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n')) ++pos_;
  }
  void expect(char c) {
    skip_ws();
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++pos_;
  }
  std::string string_literal() {
    skip_ws();
    char q = peek();
    if (q != '\'' && q != '"') fail("expected a string");
    size_t end = s_.find(q, pos_ + 1);
    if (end == std::string::npos) fail("unterminated string");
    std::string out = s_.substr(pos_ + 1, end - pos_ - 1);
    pos_ = end + 1;
    return out;
  }
  bool boolean() {
    if (s_.compare(pos_, 4, "True") == 0) return pos_ += 4, true;
    if (s_.compare(pos_, 5, "False") == 0) return pos_ += 5, false;
    fail("expected True or False");
  }
  std::vector<int64_t> tuple() {
    std::vector<int64_t> out;
    expect('(');
    while (true) {
      skip_ws();
      if (peek() == ')') break;
      if (peek() < '0' || peek() > '9') fail("expected a non-negative integer in 'shape'");
      int64_t v = 0;
      while (peek() >= '0' && peek() <= '9') {
        if (v > (int64_t(1) << 50)) fail("dimension too large in 'shape'");
        v = v * 10 + (s_[pos_++] - '0');
      }
      if (peek() == 'L') ++pos_;  // written by Python 2
      out.push_back(v);
      skip_ws();
      if (peek() == ',') {
        ++pos_;
      } else if (peek() != ')') {
        fail("expected ',' or ')' in 'shape'");
      }
      if (out.size() > 32) fail("more than 32 dimensions in 'shape'");
    }
    ++pos_;
    return out;
  }

  const std::string& s_;
  const std::string& where_;
  size_t pos_ = 0;
};

uint32_t read_le(const uint8_t* p, int n) {
  uint32_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

size_t npy_header_size(const uint8_t* bytes, size_t size, const std::string& where) {
  if (size < 10) throw InputError(where + ": truncated .npy (" + std::to_string(size) + " bytes)");
  if (std::memcmp(bytes, kMagic, 6) != 0)
    throw InputError(where + ": bad magic: not a .npy array (expected \\x93NUMPY)");
  const int major = bytes[6];
  if (major == 1) return 10 + read_le(bytes + 8, 2);
  if (major != 2 && major != 3)
    throw InputError(where + ": unsupported .npy format version " + std::to_string(major) + "." +
                     std::to_string(bytes[7]) + " (expected 1.x, 2.x or 3.x)");
  if (size < 12) throw InputError(where + ": truncated .npy header");
  const uint32_t len = read_le(bytes + 8, 4);
  if (len > kMaxHeader)
    throw InputError(where + ": .npy header length " + std::to_string(len) + " is implausible");
  return 12 + size_t(len);
}

NpyHeader parse_npy_header(const uint8_t* bytes, size_t size, const std::string& where) {
  const size_t total = npy_header_size(bytes, size, where);
  if (total > size)
    throw InputError(where + ": truncated .npy header (needs " + std::to_string(total) +
                     " bytes, has " + std::to_string(size) + ")");
  const size_t start = bytes[6] == 1 ? 10 : 12;
  const std::string text(reinterpret_cast<const char*>(bytes) + start, total - start);
  std::string descr;
  bool fortran = false;
  NpyHeader h;
  DictParser(text, where).parse(&descr, &fortran, &h.shape);
  if (descr == "<f4") {
    h.dtype = DType::kF32;
  } else if (descr == "<f2") {
    h.dtype = DType::kF16;
  } else if (descr == "<f8") {
    h.dtype = DType::kF64;
  } else {
    throw InputError(where + ": unsupported dtype '" + descr +
                     "' (expected little-endian float: '<f4', '<f2' or '<f8')");
  }
  if (fortran)
    throw InputError(where + ": fortran_order=True is not supported (expected C order)");
  h.data_offset = total;
  h.nbytes = checked_nbytes(h.shape, h.dtype, where);
  return h;
}

RawTensor parse_npy(const uint8_t* bytes, size_t size, const std::string& where) {
  const NpyHeader h = parse_npy_header(bytes, size, where);
  if (size - h.data_offset != h.nbytes)
    throw InputError(where + ": " + (size - h.data_offset < h.nbytes ? "truncated" : "oversized") +
                     " .npy data: shape " + shape_str(h.shape) + " of " + dtype_name(h.dtype) +
                     " needs " + std::to_string(h.nbytes) + " bytes, found " +
                     std::to_string(size - h.data_offset));
  RawTensor t;
  t.dtype = h.dtype;
  t.shape = h.shape;
  t.data.assign(bytes + h.data_offset, bytes + size);
  return t;
}

std::string encode_npy_header(DType dtype, const std::vector<int64_t>& shape) {
  const char* descr = dtype == DType::kF32 ? "<f4" : dtype == DType::kF16 ? "<f2" : "<f8";
  SCT_CHECK(dtype != DType::kBF16, ".npy has no bfloat16");
  std::string dict = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < shape.size(); ++i) dict += (i ? ", " : "") + std::to_string(shape[i]);
  dict += shape.size() == 1 ? ",), }" : "), }";
  const bool v1 = dict.size() + 11 < 65535;
  const size_t prefix = v1 ? 10 : 12;
  const size_t padded = (prefix + dict.size() + 1 + 63) / 64 * 64;
  dict.append(padded - prefix - dict.size() - 1, ' ');
  dict += '\n';
  std::string out(kMagic, 6);
  out += char(v1 ? 1 : 2);
  out += char(0);
  const uint32_t len = static_cast<uint32_t>(dict.size());
  for (size_t i = 0; i < (v1 ? 2u : 4u); ++i) out += char((len >> (8 * i)) & 0xff);
  return out + dict;
}

RawTensor read_npy(const std::string& path) {
  FileSource src(path);
  if (src.size() < 10) throw InputError(path + ": truncated .npy (" + std::to_string(src.size()) + " bytes)");
  std::vector<uint8_t> prefix(std::min<uint64_t>(src.size(), kNpyPrefixSize));
  src.read(0, prefix.size(), prefix.data());
  const size_t hsize = npy_header_size(prefix.data(), prefix.size(), path);
  if (hsize > src.size()) throw InputError(path + ": truncated .npy header");
  std::vector<uint8_t> head(hsize);
  src.read(0, hsize, head.data());
  const NpyHeader h = parse_npy_header(head.data(), head.size(), path);
  if (src.size() - h.data_offset != h.nbytes)
    throw InputError(path + ": .npy data has " + std::to_string(src.size() - h.data_offset) +
                     " bytes but shape " + shape_str(h.shape) + " of " + dtype_name(h.dtype) +
                     " needs " + std::to_string(h.nbytes));
  RawTensor t;
  t.name = path;
  t.dtype = h.dtype;
  t.shape = h.shape;
  t.data.resize(h.nbytes);
  src.read(h.data_offset, h.nbytes, t.data.data());
  return t;
}

void write_npy(const std::string& path, const RawTensor& tensor) {
  const std::string header = encode_npy_header(tensor.dtype, tensor.shape);
  AtomicFile f(path);
  f.open();
  f.write(header.data(), header.size());
  f.write(tensor.data.data(), tensor.data.size());
  f.commit();
}

}  // namespace sct::model
