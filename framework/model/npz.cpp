#include "framework/model/npz.h"

#include <zip.h>

#include <cstring>
#include <memory>
#include <set>

#include "framework/core/error.h"
#include "framework/model/npy.h"

namespace sct::model {
namespace {

// Deflate cannot expand data by more than about 1032:1; a larger claim is a corrupt directory,
// and checking it first keeps a crafted archive from forcing a huge allocation.
constexpr uint64_t kMaxDeflateRatio = 1032;

std::string zip_code_message(int code) {
  zip_error_t e;
  zip_error_init_with_code(&e, code);
  std::string msg = zip_error_strerror(&e);
  zip_error_fini(&e);
  return msg;
}

[[noreturn]] void open_failed(const std::string& name, int code) {
  const std::string why = zip_code_message(code);
  if (code == ZIP_ER_NOZIP)
    throw InputError(name + ": not a ZIP archive (bad magic or truncated file: no end-of-directory record)");
  if (code == ZIP_ER_INCONS)
    throw InputError(name + ": inconsistent ZIP archive (truncated or corrupt): " + why);
  throw InputError(name + ": cannot open as ZIP archive: " + why);
}

struct ZipFile {
  zip_file_t* f = nullptr;
  ~ZipFile() {
    if (f) zip_fclose(f);
  }
};

// Reads exactly n bytes; false on a short read (the member ended early).
bool read_exact(zip_file_t* f, uint8_t* dst, uint64_t n, const std::string& where) {
  while (n > 0) {
    zip_int64_t got = zip_fread(f, dst, n);
    if (got < 0) throw InputError(where + ": corrupt ZIP member: " + zip_file_strerror(f));
    if (got == 0) return false;
    dst += got;
    n -= uint64_t(got);
  }
  return true;
}

void read_member(zip_t* za, zip_uint64_t index, const std::string& name, uint64_t archive_size,
                 std::set<std::string>* seen, const RawTensorVisitor& visit) {
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(za, index, 0, &st) != 0)
    throw InputError(name + ": member " + std::to_string(index) + ": " + zip_strerror(za));
  const std::string member = (st.valid & ZIP_STAT_NAME) && st.name ? st.name : "";
  if (member.size() < 5 || member.compare(member.size() - 4, 4, ".npy") != 0)
    throw InputError(name + ": member '" + member + "' is not a .npy array");
  const std::string key = member.substr(0, member.size() - 4);
  const std::string where = name + ": tensor '" + key + "'";
  if (!seen->insert(key).second) throw InputError(where + ": appears twice in the archive");
  if (!(st.valid & ZIP_STAT_SIZE) || !(st.valid & ZIP_STAT_COMP_SIZE) || !(st.valid & ZIP_STAT_COMP_METHOD))
    throw InputError(where + ": ZIP directory entry lacks sizes");
  if (st.comp_size > archive_size)
    throw InputError(where + ": compressed size " + std::to_string(st.comp_size) +
                     " exceeds the archive's " + std::to_string(archive_size) + " bytes (truncated?)");
  if (st.comp_method == ZIP_CM_STORE) {
    if (st.size != st.comp_size) throw InputError(where + ": stored member sizes disagree (corrupt directory)");
  } else if (st.comp_method == ZIP_CM_DEFLATE) {
    if (st.size / kMaxDeflateRatio > st.comp_size + 1024)
      throw InputError(where + ": deflated size " + std::to_string(st.size) + " is implausible for " +
                       std::to_string(st.comp_size) + " compressed bytes (corrupt directory)");
  } else {
    throw InputError(where + ": unsupported ZIP compression method " + std::to_string(st.comp_method) +
                     " (expected stored or deflated)");
  }

  ZipFile zf;
  zf.f = zip_fopen_index(za, index, 0);
  if (!zf.f) throw InputError(where + ": cannot open ZIP member: " + zip_strerror(za));
  std::vector<uint8_t> head(std::min<uint64_t>(st.size, kNpyPrefixSize));
  if (!read_exact(zf.f, head.data(), head.size(), where)) throw InputError(where + ": truncated ZIP member");
  const size_t hsize = npy_header_size(head.data(), head.size(), where);
  if (hsize > st.size) throw InputError(where + ": truncated .npy header");
  const size_t have = head.size();
  head.resize(hsize);
  if (hsize > have && !read_exact(zf.f, head.data() + have, hsize - have, where))
    throw InputError(where + ": truncated ZIP member");
  const NpyHeader h = parse_npy_header(head.data(), head.size(), where);
  if (st.size - hsize != h.nbytes)
    throw InputError(where + ": member holds " + std::to_string(st.size - hsize) + " data bytes but shape " +
                     shape_str(h.shape) + " of " + dtype_name(h.dtype) + " needs " + std::to_string(h.nbytes));
  RawTensor t;
  t.name = key;
  t.dtype = h.dtype;
  t.shape = h.shape;
  t.data.resize(h.nbytes);
  if (!read_exact(zf.f, t.data.data(), h.nbytes, where))
    throw InputError(where + ": truncated ZIP member (data ends early)");
  uint8_t extra;
  // Reading to the end makes libzip verify the CRC.
  if (zip_fread(zf.f, &extra, 1) != 0)
    throw InputError(where + ": corrupt ZIP member: " + zip_file_strerror(zf.f));
  visit(std::move(t));
}

void read_archive(zip_t* za, const std::string& name, uint64_t archive_size, const RawTensorVisitor& visit) {
  std::unique_ptr<zip_t, void (*)(zip_t*)> guard(za, [](zip_t* z) { zip_discard(z); });
  const zip_int64_t n = zip_get_num_entries(za, 0);
  if (n < 0) throw InputError(name + ": cannot list ZIP members");
  std::set<std::string> seen;
  for (zip_int64_t i = 0; i < n; ++i) read_member(za, zip_uint64_t(i), name, archive_size, &seen, visit);
}

// Serves ".npy header + data" of one RawTensor to libzip without copying the data.
struct MemberSource {
  std::string header;
  const RawTensor* tensor;
  uint64_t pos = 0;
  zip_error_t error;
  uint64_t size() const { return header.size() + tensor->data.size(); }
};

zip_int64_t member_callback(void* state, void* data, zip_uint64_t len, zip_source_cmd_t cmd) {
  auto* s = static_cast<MemberSource*>(state);
  switch (cmd) {
    case ZIP_SOURCE_OPEN: s->pos = 0; return 0;
    case ZIP_SOURCE_READ: {
      uint64_t n = std::min<uint64_t>(len, s->size() - s->pos);
      auto* out = static_cast<uint8_t*>(data);
      for (uint64_t done = 0; done < n;) {
        const uint64_t p = s->pos + done;
        const bool in_header = p < s->header.size();
        const uint8_t* src = in_header ? reinterpret_cast<const uint8_t*>(s->header.data()) + p
                                       : s->tensor->data.data() + (p - s->header.size());
        const uint64_t avail = in_header ? s->header.size() - p : s->size() - p;
        const uint64_t k = std::min(avail, n - done);
        std::memcpy(out + done, src, k);
        done += k;
      }
      s->pos += n;
      return zip_int64_t(n);
    }
    case ZIP_SOURCE_CLOSE: return 0;
    case ZIP_SOURCE_STAT: {
      auto* st = static_cast<zip_stat_t*>(data);
      zip_stat_init(st);
      st->size = s->size();
      st->mtime = 315532800;  // 1980-01-01: identical tensors give identical archives
      st->valid |= ZIP_STAT_SIZE | ZIP_STAT_MTIME;
      return sizeof(zip_stat_t);
    }
    case ZIP_SOURCE_ERROR: return zip_error_to_data(&s->error, data, len);
    case ZIP_SOURCE_FREE: zip_error_fini(&s->error); delete s; return 0;
    case ZIP_SOURCE_SUPPORTS:
      return zip_source_make_command_bitmap(ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE,
                                            ZIP_SOURCE_STAT, ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE, -1);
    default: zip_error_set(&s->error, ZIP_ER_OPNOTSUPP, 0); return -1;
  }
}

}  // namespace

void read_npz(const std::string& path, const RawTensorVisitor& visit) {
  const uint64_t size = FileSource(path).size();  // also a clear error when missing
  int code = 0;
  zip_t* za = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code);
  if (!za) open_failed(path, code);
  read_archive(za, path, size, visit);
}

void read_npz_buffer(const void* data, size_t size, const std::string& name, const RawTensorVisitor& visit) {
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* src = zip_source_buffer_create(size ? data : "", size, 0, &err);
  if (!src) throw Error(name + ": " + zip_error_strerror(&err));
  zip_t* za = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &err);
  if (!za) {
    zip_source_free(src);
    const int code = zip_error_code_zip(&err);
    zip_error_fini(&err);
    open_failed(name, code);
  }
  zip_error_fini(&err);
  read_archive(za, name, size, visit);
}

void write_npz(const std::string& path, const std::vector<RawTensor>& tensors, bool compress) {
  AtomicFile file(path);
  int code = 0;
  zip_t* za = zip_open(file.temp_path().c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
  if (!za) throw Error(path + ": cannot create ZIP archive: " + zip_code_message(code));
  try {
    for (const RawTensor& t : tensors) {
      auto* s = new MemberSource{encode_npy_header(t.dtype, t.shape), &t, 0, {}};
      zip_error_init(&s->error);
      zip_source_t* src = zip_source_function(za, member_callback, s);
      if (!src) {
        zip_error_fini(&s->error);
        delete s;
        throw Error(path + ": " + zip_strerror(za));
      }
      const std::string member = t.name + ".npy";
      const zip_int64_t idx = zip_file_add(za, member.c_str(), src, ZIP_FL_ENC_UTF_8);
      if (idx < 0) {
        zip_source_free(src);
        throw Error(path + ": cannot add tensor '" + t.name + "': " + zip_strerror(za));
      }
      if (zip_set_file_compression(za, zip_uint64_t(idx), compress ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0) != 0)
        throw Error(path + ": " + zip_strerror(za));
    }
    if (zip_close(za) != 0) throw Error(path + ": cannot write ZIP archive: " + zip_strerror(za));
  } catch (...) {
    zip_discard(za);
    throw;
  }
  file.commit();
}

}  // namespace sct::model
