#include "framework/model/safetensors.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "framework/core/error.h"

namespace sct::model {
namespace {

// The reference implementation refuses headers over 100 MB; so do we.
constexpr uint64_t kMaxHeader = 100u << 20;

bool parse_dtype(const std::string& s, DType* out) {
  if (s == "F32") return *out = DType::kF32, true;
  if (s == "F16") return *out = DType::kF16, true;
  if (s == "BF16") return *out = DType::kBF16, true;
  if (s == "F64") return *out = DType::kF64, true;
  return false;
}

const char* dtype_tag(DType d) {
  switch (d) {
    case DType::kF32: return "F32";
    case DType::kF16: return "F16";
    case DType::kBF16: return "BF16";
    case DType::kF64: return "F64";
  }
  return "?";
}

SafetensorsEntry parse_entry(const std::string& name, const nlohmann::json& v, uint64_t data_size,
                             const std::string& file) {
  const std::string where = file + ": tensor '" + name + "'";
  if (!v.is_object()) throw InputError(where + ": header entry is not an object");
  SafetensorsEntry e;
  e.name = name;
  auto dt = v.find("dtype");
  if (dt == v.end() || !dt->is_string()) throw InputError(where + ": header entry lacks a string 'dtype'");
  if (!parse_dtype(dt->get<std::string>(), &e.dtype))
    throw InputError(where + ": unsupported dtype '" + dt->get<std::string>() + "' (expected F32, F16 or BF16)");
  auto sh = v.find("shape");
  if (sh == v.end() || !sh->is_array() || sh->size() > 32)
    throw InputError(where + ": header entry lacks a 'shape' list");
  for (const auto& d : *sh) {
    if (!d.is_number_unsigned()) throw InputError(where + ": 'shape' holds a non-integer or negative value");
    const uint64_t dim = d.get<uint64_t>();
    if (dim > (uint64_t(1) << 50)) throw InputError(where + ": dimension too large in 'shape'");
    e.shape.push_back(int64_t(dim));
  }
  auto off = v.find("data_offsets");
  if (off == v.end() || !off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() ||
      !(*off)[1].is_number_unsigned())
    throw InputError(where + ": header entry lacks 'data_offsets' [begin, end]");
  e.begin = (*off)[0].get<uint64_t>();
  e.end = (*off)[1].get<uint64_t>();
  if (e.begin > e.end || e.end > data_size)
    throw InputError(where + ": data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                     "] lie outside the file's " + std::to_string(data_size) + " data bytes");
  const uint64_t need = checked_nbytes(e.shape, e.dtype, where);
  if (e.end - e.begin != need)
    throw InputError(where + ": data_offsets span " + std::to_string(e.end - e.begin) + " bytes but shape " +
                     shape_str(e.shape) + " of " + dtype_tag(e.dtype) + " needs " + std::to_string(need));
  return e;
}

}  // namespace

SafetensorsHeader parse_safetensors_header(const ByteSource& src) {
  const std::string& file = src.name();
  if (src.size() < 8)
    throw InputError(file + ": truncated .safetensors (" + std::to_string(src.size()) +
                     " bytes, less than the 8-byte header length)");
  uint8_t len_bytes[8];
  src.read(0, 8, len_bytes);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | len_bytes[i];
  if (n > src.size() - 8)
    throw InputError(file + ": header length " + std::to_string(n) + " exceeds the file's " +
                     std::to_string(src.size() - 8) + " remaining bytes (truncated or not a .safetensors file)");
  if (n > kMaxHeader) throw InputError(file + ": header length " + std::to_string(n) + " exceeds 100 MB");
  std::string text(n, '\0');
  src.read(8, n, text.data());
  if (n == 0 || text[0] != '{')
    throw InputError(file + ": bad magic: the header does not start with '{' (not a .safetensors file)");
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) throw InputError(file + ": header is not a valid JSON object");

  SafetensorsHeader h;
  h.data_start = 8 + n;
  const uint64_t data_size = src.size() - h.data_start;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it->is_object()) throw InputError(file + ": '__metadata__' is not an object");
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string()) throw InputError(file + ": '__metadata__' value '" + m.key() + "' is not a string");
        h.metadata[m.key()] = m->get<std::string>();
      }
      continue;
    }
    h.entries.push_back(parse_entry(it.key(), *it, data_size, file));
  }
  std::sort(h.entries.begin(), h.entries.end(), [](const SafetensorsEntry& a, const SafetensorsEntry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  for (size_t i = 1; i < h.entries.size(); ++i)
    if (h.entries[i].begin < h.entries[i - 1].end)
      throw InputError(file + ": tensor '" + h.entries[i].name + "': data overlaps tensor '" +
                       h.entries[i - 1].name + "'");
  return h;
}

SafetensorsHeader read_safetensors(const ByteSource& src, const RawTensorVisitor& visit) {
  SafetensorsHeader h = parse_safetensors_header(src);
  for (const SafetensorsEntry& e : h.entries) {
    RawTensor t;
    t.name = e.name;
    t.dtype = e.dtype;
    t.shape = e.shape;
    t.data.resize(e.end - e.begin);
    src.read(h.data_start + e.begin, t.data.size(), t.data.data());
    visit(std::move(t));
  }
  return h;
}

void write_safetensors(const std::string& path, const std::vector<RawTensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  if (!metadata.empty()) j["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const RawTensor& t : tensors) {
    SCT_CHECK(!j.contains(t.name), path + ": tensor '" + t.name + "' given twice");
    j[t.name] = {{"dtype", dtype_tag(t.dtype)}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.data.size()}}};
    offset += t.data.size();
  }
  std::string header = j.dump();
  header.append((8 - header.size() % 8) % 8, ' ');  // data starts 8-byte aligned
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = uint8_t((uint64_t(header.size()) >> (8 * i)) & 0xff);
  AtomicFile f(path);
  f.open();
  f.write(len, 8);
  f.write(header.data(), header.size());
  for (const RawTensor& t : tensors) f.write(t.data.data(), t.data.size());
  f.commit();
}

}  // namespace sct::model
