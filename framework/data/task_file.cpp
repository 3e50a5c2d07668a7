#include "framework/data/task_file.h"

#include <fmt/core.h>
#include <sys/stat.h>

#include <algorithm>
#include <mutex>
#include <optional>
#include <set>

#include "framework/core/error.h"
#include "framework/core/strings.h"
#include "framework/data/h5_util.h"

namespace sct::data {

struct TaskFile::Impl {
  h5::Handle file;
  std::map<std::string, h5::Handle> images;
};

namespace {

std::string stem(const std::string& path) {
  std::string base = path.substr(path.find_last_of('/') + 1);
  const size_t dot = base.rfind('.');
  return dot == std::string::npos || dot == 0 ? base : base.substr(0, dot);
}

std::string dtype_text(hid_t type) {
  const H5T_class_t cls = H5Tget_class(type);
  const size_t size = H5Tget_size(type);
  if (cls == H5T_INTEGER)
    return fmt::format("{}int{}", H5Tget_sign(type) == H5T_SGN_NONE ? "u" : "", size * 8);
  if (cls == H5T_FLOAT) return fmt::format("float{}", size * 8);
  if (cls == H5T_STRING) return "string";
  return "a compound/other type";
}

std::string shape_text(const std::vector<hsize_t>& dims) {
  std::vector<std::string> parts;
  for (auto d : dims) parts.push_back(std::to_string(d));
  return "(" + join(parts, ", ") + ")";
}

std::vector<hsize_t> dataset_dims(hid_t ds) {
  h5::Handle space(H5Dget_space(ds));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> dims(std::max(rank, 0));
  if (rank > 0) H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return dims;
}

std::string compression_text(hid_t ds) {
  h5::Handle plist(H5Dget_create_plist(ds));
  const int n = H5Pget_nfilters(plist.get());
  std::vector<std::string> parts;
  for (int i = 0; i < n; ++i) {
    unsigned flags = 0, cd[8] = {0};
    size_t ncd = 8;
    char name[64] = {0};
    unsigned config = 0;
    H5Z_filter_t f = H5Pget_filter2(plist.get(), static_cast<unsigned>(i), &flags, &ncd, cd,
                                    sizeof name, name, &config);
    if (f == H5Z_FILTER_DEFLATE) parts.push_back(fmt::format("gzip-{}", ncd ? cd[0] : 0));
    else if (f == H5Z_FILTER_SHUFFLE) parts.push_back("shuffle");
    else parts.push_back(name[0] ? name : fmt::format("filter-{}", f));
  }
  return parts.empty() ? "none" : join(parts, "+");
}

herr_t collect_link(hid_t, const char* name, const H5L_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->push_back(name);
  return 0;
}

// The error for an HDF5 call on `path` that failed, with HDF5's own text; a file-locking
// failure says how to turn locking off.
InputError open_failure(const std::string& path, const std::string& what) {
  const std::string e = h5::error_text();
  if (h5::is_lock_error(e))
    return InputError(fmt::format(
        "{}: cannot open: {} (file locking failed; for read-only use on network file systems "
        "set HDF5_USE_FILE_LOCKING=FALSE)", path, e));
  return InputError(fmt::format("{}: {}{}", path, what, e.empty() ? "" : " (" + e + ")"));
}

void check_is_file(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) throw InputError(fmt::format("{}: no such task file", path));
  if (S_ISDIR(st.st_mode)) throw InputError(fmt::format("{}: is a directory, expected a task file (.h5)", path));
}

// The steps below run under h5::Lock.
h5::Handle open_hdf5(const std::string& path) {
  const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
  if (is_hdf5 <= 0) throw open_failure(path, "not an HDF5 file (wrong signature, or corrupt)");
  h5::Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  if (!file.valid()) throw open_failure(path, "cannot open HDF5 file, truncated or corrupt");
  return file;
}

// Fills `meta` from the root attributes (all but height and width) and returns the
// 'image_size' attribute when present, checked to hold two values.
std::optional<std::vector<int64_t>> read_root_attributes(hid_t f, const std::string& path, TaskMetadata& meta) {
  if (auto fmt_name = h5::read_string_attr(f, "format", path); fmt_name && *fmt_name != kFormatName)
    throw InputError(fmt::format("{}: attribute 'format' is '{}', expected '{}'", path, *fmt_name, kFormatName));
  meta.format_version = h5::read_int_attr(f, "format_version", path).value_or(kFormatVersion);
  if (meta.format_version > kFormatVersion)
    throw InputError(fmt::format("{}: format_version {} is newer than this reader ({})", path,
                                 meta.format_version, kFormatVersion));
  const auto classes = h5::read_int_attr(f, "num_classes", path);
  if (!classes)
    throw InputError(fmt::format("{}: root attribute 'num_classes' is missing (schema: datasets/README.md)", path));
  if (*classes < 1) throw InputError(fmt::format("{}: num_classes is {}, expected >= 1", path, *classes));
  meta.num_classes = *classes;
  meta.task = h5::read_string_attr(f, "task", path).value_or(stem(path));
  meta.group = h5::read_string_attr(f, "group", path).value_or("");
  meta.source = h5::read_string_attr(f, "source", path).value_or("");
  meta.resize_method = h5::read_string_attr(f, "resize_method", path).value_or("");
  meta.checksum = h5::read_string_attr(f, "checksum", path).value_or("");
  meta.converter_version = h5::read_string_attr(f, "converter_version", path).value_or("");
  meta.class_names = h5::read_string_list_attr(f, "class_names", path).value_or(std::vector<std::string>{});
  if (!meta.class_names.empty() && static_cast<int64_t>(meta.class_names.size()) != meta.num_classes)
    throw InputError(fmt::format("{}: attribute 'class_names' has {} names, num_classes is {}", path,
                                 meta.class_names.size(), meta.num_classes));
  auto image_size = h5::read_int_list_attr(f, "image_size", path);
  if (image_size && image_size->size() != 2)
    throw InputError(fmt::format("{}: attribute 'image_size' should be [height, width], found {} values",
                                 path, image_size->size()));
  return image_size;
}

std::vector<std::string> root_links(hid_t f, const std::string& path) {
  std::vector<std::string> links;
  if (H5Literate(f, H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_link, &links) < 0)
    throw open_failure(path, "cannot list the root group, corrupt file");
  return links;
}

// Opens `group`/images and checks it is uint8 (N, H, W, 3) with N > 0; returns it and its dims.
h5::Handle open_images(hid_t group, const std::string& path, const std::string& split, std::vector<hsize_t>& dims) {
  const std::string ds_images = "/" + split + "/images";
  h5::Handle images(H5Dopen2(group, "images", H5P_DEFAULT));
  if (!images.valid()) throw open_failure(path, fmt::format("cannot open dataset '{}'", ds_images));
  h5::Handle itype(H5Dget_type(images.get()));
  if (H5Tget_class(itype.get()) != H5T_INTEGER || H5Tget_size(itype.get()) != 1 ||
      H5Tget_sign(itype.get()) != H5T_SGN_NONE)
    throw InputError(fmt::format("{}: dataset '{}' has dtype {}, expected uint8", path, ds_images,
                                 dtype_text(itype.get())));
  dims = dataset_dims(images.get());
  if (dims.size() != 4 || dims[3] != 3 || dims[1] == 0 || dims[2] == 0)
    throw InputError(fmt::format("{}: dataset '{}' has shape {}, expected (N, H, W, 3)", path,
                                 ds_images, shape_text(dims)));
  if (dims[0] == 0) throw InputError(fmt::format("{}: split '{}' is empty ('{}' has 0 images)", path, split, ds_images));
  return images;
}

// Reads `group`/labels: integers, one per image, each in [0, num_classes).
std::vector<int64_t> read_labels(hid_t group, const std::string& path, const std::string& split, hsize_t count,
                                 int64_t num_classes) {
  const std::string ds_images = "/" + split + "/images", ds_labels = "/" + split + "/labels";
  h5::Handle labels(H5Dopen2(group, "labels", H5P_DEFAULT));
  if (!labels.valid()) throw open_failure(path, fmt::format("cannot open dataset '{}'", ds_labels));
  h5::Handle ltype(H5Dget_type(labels.get()));
  if (H5Tget_class(ltype.get()) != H5T_INTEGER)
    throw InputError(fmt::format("{}: dataset '{}' has dtype {}, expected an integer type", path,
                                 ds_labels, dtype_text(ltype.get())));
  const auto ldims = dataset_dims(labels.get());
  if (ldims.size() != 1 || ldims[0] != count)
    throw InputError(fmt::format("{}: dataset '{}' has shape {}, expected ({},) to match '{}'", path,
                                 ds_labels, shape_text(ldims), count, ds_images));
  std::vector<int64_t> values(count);
  if (H5Dread(labels.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0)
    throw open_failure(path, fmt::format("cannot read dataset '{}', corrupt", ds_labels));
  for (size_t i = 0; i < values.size(); ++i)
    if (values[i] < 0 || values[i] >= num_classes)
      throw InputError(fmt::format("{}: dataset '{}' holds label {} at index {}, outside [0, {}) (num_classes)",
                                   path, ds_labels, values[i], i, num_classes));
  return values;
}

// The split's optional 'classes' attribute, checked: valid indices, ascending, every label
// among them. Empty when absent.
std::vector<int64_t> read_classes(hid_t group, const std::string& path, const std::string& split,
                                  const std::vector<int64_t>& labels, int64_t num_classes) {
  auto classes = h5::read_int_list_attr(group, "classes", path + ": split '" + split + "'");
  if (!classes) return {};
  const std::string problem = split_classes_problem(*classes, num_classes);
  if (!problem.empty())
    throw InputError(fmt::format("{}: split '{}': attribute 'classes' (the classes it is scored over) {}", path,
                                 split, problem));
  const int64_t i = first_label_outside(labels, *classes);
  if (i >= 0)
    throw InputError(fmt::format("{}: dataset '/{}/labels' holds label {} at index {}, which is not one of the "
                                 "split's {} scored classes (attribute 'classes')",
                                 path, split, labels[i], i, classes->size()));
  return *classes;
}

struct SplitData {
  SplitInfo info;
  std::vector<int64_t> labels;
  h5::Handle images;
};

// The split in root link `name`, checked; nullopt when `name` is not a group holding
// 'images' or 'labels' (other objects are allowed at the root).
std::optional<SplitData> read_split(hid_t f, const std::string& path, const std::string& name, int64_t num_classes,
                                    const std::optional<std::vector<int64_t>>& image_size) {
  h5::Handle obj(H5Oopen(f, name.c_str(), H5P_DEFAULT));
  if (!obj.valid()) throw open_failure(path, fmt::format("cannot open '/{}'", name));
  if (H5Iget_type(obj.get()) != H5I_GROUP) return std::nullopt;
  const bool has_images = H5Lexists(obj.get(), "images", H5P_DEFAULT) > 0;
  const bool has_labels = H5Lexists(obj.get(), "labels", H5P_DEFAULT) > 0;
  if (!has_images && !has_labels) return std::nullopt;
  if (!has_images || !has_labels)
    throw InputError(fmt::format("{}: group '/{}' has no '{}' dataset (a split needs 'images' and 'labels')",
                                 path, name, has_images ? "labels" : "images"));
  SplitData data;
  std::vector<hsize_t> dims;
  data.images = open_images(obj.get(), path, name, dims);
  data.labels = read_labels(obj.get(), path, name, dims[0], num_classes);
  if (image_size && ((*image_size)[0] != static_cast<int64_t>(dims[1]) ||
                     (*image_size)[1] != static_cast<int64_t>(dims[2])))
    throw InputError(fmt::format("{}: dataset '{}' holds {}x{} images, attribute image_size says {}x{}",
                                 path, "/" + name + "/images", dims[1], dims[2], (*image_size)[0], (*image_size)[1]));
  data.info.name = name;
  data.info.count = static_cast<int64_t>(dims[0]);
  data.info.height = static_cast<int64_t>(dims[1]);
  data.info.width = static_cast<int64_t>(dims[2]);
  data.info.checksum = h5::read_string_attr(obj.get(), "checksum", path + ":/" + name).value_or("");
  data.info.compression = compression_text(data.images.get());
  data.info.classes = read_classes(obj.get(), path, name, data.labels, num_classes);
  return data;
}

}  // namespace

TaskFile::TaskFile(const std::string& path) : path_(path), impl_(std::make_unique<Impl>()) {
  try {
    open();
  } catch (...) {
    h5::Lock lock;  // ids opened so far are closed under the lock too
    impl_.reset();
    throw;
  }
}

void TaskFile::open() {
  const std::string& path = path_;
  check_is_file(path);
  h5::Lock lock;
  impl_->file = open_hdf5(path);
  const hid_t f = impl_->file.get();
  const auto image_size = read_root_attributes(f, path, meta_);
  for (const auto& name : root_links(f, path)) {
    std::optional<SplitData> data = read_split(f, path, name, meta_.num_classes, image_size);
    if (!data) continue;
    splits_[name] = data->info;
    labels_[name] = std::move(data->labels);
    impl_->images[name] = std::move(data->images);
  }
  if (splits_.empty())
    throw InputError(fmt::format("{}: no splits (root groups holding 'images' and 'labels')", path));
  if (image_size) {
    meta_.height = (*image_size)[0];
    meta_.width = (*image_size)[1];
  } else {
    meta_.height = splits_.begin()->second.height;
    meta_.width = splits_.begin()->second.width;
  }
}

TaskFile::~TaskFile() {
  h5::Lock lock;
  impl_.reset();
}

std::vector<std::string> TaskFile::split_names() const {
  std::vector<std::string> names;
  for (const auto& kv : splits_) names.push_back(kv.first);
  return names;
}

bool TaskFile::has_split(const std::string& name) const { return splits_.count(name) > 0; }

const SplitInfo& TaskFile::split(const std::string& name) const {
  auto it = splits_.find(name);
  if (it == splits_.end()) {
    const std::string close = closest_match(name, split_names());
    throw InputError(fmt::format("{}: no split '{}' (splits: {}){}", path_, name, join(split_names(), ", "),
                                 close.empty() ? "" : fmt::format("; did you mean '{}'?", close)));
  }
  return it->second;
}

const std::vector<int64_t>& TaskFile::labels(const std::string& name) const {
  split(name);
  return labels_.at(name);
}

void TaskFile::read_range(const std::string& name, int64_t start, int64_t count, uint8_t* out) const {
  const SplitInfo& s = split(name);
  if (start < 0 || count < 0 || start + count > s.count)
    throw Error(fmt::format("{}: read of images [{}, {}) outside split '{}' of {} images", path_, start,
                            start + count, name, s.count));
  if (count == 0) return;
  h5::Lock lock;
  const hid_t ds = impl_->images.at(name).get();
  h5::Handle fspace(H5Dget_space(ds));
  const hsize_t offset[4] = {static_cast<hsize_t>(start), 0, 0, 0};
  const hsize_t size[4] = {static_cast<hsize_t>(count), static_cast<hsize_t>(s.height),
                           static_cast<hsize_t>(s.width), 3};
  H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, offset, nullptr, size, nullptr);
  h5::Handle mspace(H5Screate_simple(4, size, nullptr));
  if (H5Dread(ds, H5T_NATIVE_UINT8, mspace.get(), fspace.get(), H5P_DEFAULT, out) < 0)
    throw InputError(fmt::format("{}: cannot read images [{}, {}) of dataset '/{}/images' ({}), corrupt file",
                                 path_, start, start + count, name, h5::error_text()));
}

void TaskFile::read_images(const std::string& name, const std::vector<int64_t>& indices, uint8_t* out) const {
  const SplitInfo& s = split(name);
  const size_t image_bytes = static_cast<size_t>(s.height * s.width * 3);
  // Consecutive indices are read in one call; each image is its own chunk either way.
  for (size_t i = 0; i < indices.size();) {
    size_t j = i + 1;
    while (j < indices.size() && indices[j] == indices[j - 1] + 1) ++j;
    read_range(name, indices[i], static_cast<int64_t>(j - i), out + i * image_bytes);
    i = j;
  }
}

std::string TaskFile::compute_split_checksum(const std::string& name) const {
  const SplitInfo& s = split(name);
  const int64_t block = 64;
  const size_t image_bytes = static_cast<size_t>(s.height * s.width * 3);
  std::vector<uint8_t> buf(image_bytes * block);
  Crc32 crc;
  for (int64_t i = 0; i < s.count; i += block) {
    const int64_t n = std::min(block, s.count - i);
    read_range(name, i, n, buf.data());
    crc.update(buf.data(), image_bytes * n);
  }
  update_labels_crc(crc, labels_.at(name));
  if (!s.classes.empty()) update_labels_crc(crc, s.classes);
  return crc.text();
}

void TaskFile::verify_split(const std::string& name) const {
  const SplitInfo& s = split(name);
  if (s.checksum.empty()) return;  // nothing stored to compare with
  // The file's identity: the same path rewritten in place is another file.
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) throw InputError(fmt::format("{}: cannot stat the task file", path_));
  const std::string identity = fmt::format("{}|{}|{}|{}|{}.{}|{}", path_, st.st_dev, st.st_ino, st.st_size,
                                           st.st_mtim.tv_sec, st.st_mtim.tv_nsec, name);
  static std::mutex mutex;
  static std::set<std::string> verified;
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (verified.count(identity)) return;
  }
  const std::string actual = compute_split_checksum(name);
  if (actual != s.checksum)
    throw InputError(fmt::format(
        "{}: split '{}' does not match its stored checksum ({} stored, {} computed): the file is corrupt or was "
        "changed after it was written; convert it again (`sct_data validate {}` checks every split)",
        path_, name, s.checksum, actual, path_));
  std::lock_guard<std::mutex> lock(mutex);
  verified.insert(identity);
}

}  // namespace sct::data
