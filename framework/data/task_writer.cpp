#include "framework/data/task_writer.h"

#include <fmt/core.h>

#include <cstdio>
#include <filesystem>
#include <utility>

#include "framework/core/error.h"
#include "framework/core/fs.h"
#include "framework/data/h5_util.h"

namespace sct::data {

struct TaskWriter::Impl {
  std::string path, temp;
  TaskMetadata meta;
  int compression = 0;
  h5::Handle file;
  // The open split.
  std::string split;
  int64_t count = 0, written = 0;
  h5::Handle group, images;
  Crc32 crc;
  std::vector<std::pair<std::string, std::string>> checksums;
  bool committed = false;

  [[noreturn]] void fail(const std::string& what) {
    throw Error(fmt::format("{}: {} ({})", path, what, h5::error_text()));
  }
};

namespace {

void check_classes(const std::string& path, const std::string& split, const std::vector<int64_t>& labels,
                   const std::vector<int64_t>& classes, int64_t num_classes) {
  if (classes.empty()) return;
  const std::string problem = split_classes_problem(classes, num_classes);
  if (!problem.empty())
    throw InputError(fmt::format("{}: split '{}': the scored-class list {}", path, split, problem));
  const int64_t i = first_label_outside(labels, classes);
  if (i >= 0)
    throw InputError(fmt::format("{}: split '{}' label {} at index {} is not one of its {} scored classes", path,
                                 split, labels[i], i, classes.size()));
}

}  // namespace

TaskWriter::TaskWriter(std::string path, TaskMetadata meta, int compression)
    : impl_(std::make_unique<Impl>()) {
  Impl& w = *impl_;
  w.path = std::move(path);
  w.meta = std::move(meta);
  w.compression = compression;
  if (compression < 0 || compression > 9)
    throw InputError(fmt::format("compression level must be 0-9, found {}", compression));
  if (w.meta.num_classes < 1 || w.meta.height < 1 || w.meta.width < 1)
    throw Error(fmt::format("{}: task metadata needs num_classes, height and width", w.path));
  const std::filesystem::path parent = std::filesystem::path(w.path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  w.temp = temp_path_for(w.path);
  h5::Lock lock;
  w.file = h5::Handle(H5Fcreate(w.temp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
  if (!w.file.valid())
    throw InputError(fmt::format("{}: cannot create output file ({})", w.temp, h5::error_text()));
}

TaskWriter::~TaskWriter() {
  if (!impl_) return;
  h5::Lock lock;
  impl_->images.reset();
  impl_->group.reset();
  impl_->file.reset();
  if (!impl_->committed) std::remove(impl_->temp.c_str());
}

void TaskWriter::begin_split(const std::string& name, int64_t count) {
  Impl& w = *impl_;
  if (!w.split.empty()) throw Error(fmt::format("{}: split '{}' is still open", w.path, w.split));
  if (count < 1) throw InputError(fmt::format("{}: split '{}' would be empty", w.path, name));
  for (const auto& [done, sum] : w.checksums)
    if (done == name) throw InputError(fmt::format("{}: split '{}' given twice", w.path, name));
  h5::Lock lock;
  w.group = h5::Handle(H5Gcreate2(w.file.get(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  if (!w.group.valid()) w.fail(fmt::format("cannot create group '/{}'", name));
  const hsize_t dims[4] = {static_cast<hsize_t>(count), static_cast<hsize_t>(w.meta.height),
                           static_cast<hsize_t>(w.meta.width), 3};
  const hsize_t chunk[4] = {1, dims[1], dims[2], 3};
  h5::Handle space(H5Screate_simple(4, dims, nullptr));
  h5::Handle dcpl(H5Pcreate(H5P_DATASET_CREATE));
  H5Pset_chunk(dcpl.get(), 4, chunk);
  if (w.compression > 0) H5Pset_deflate(dcpl.get(), static_cast<unsigned>(w.compression));
  w.images = h5::Handle(H5Dcreate2(w.group.get(), "images", H5T_STD_U8LE, space.get(), H5P_DEFAULT,
                                   dcpl.get(), H5P_DEFAULT));
  if (!w.images.valid()) w.fail(fmt::format("cannot create dataset '/{}/images'", name));
  w.split = name;
  w.count = count;
  w.written = 0;
  w.crc = Crc32();
}

void TaskWriter::append(const uint8_t* data, int64_t n) {
  Impl& w = *impl_;
  if (w.split.empty()) throw Error(fmt::format("{}: append without begin_split", w.path));
  if (w.written + n > w.count)
    throw Error(fmt::format("{}: split '{}' takes {} images, {} appended", w.path, w.split, w.count, w.written + n));
  if (n == 0) return;
  h5::Lock lock;
  h5::Handle fspace(H5Dget_space(w.images.get()));
  const hsize_t offset[4] = {static_cast<hsize_t>(w.written), 0, 0, 0};
  const hsize_t size[4] = {static_cast<hsize_t>(n), static_cast<hsize_t>(w.meta.height),
                           static_cast<hsize_t>(w.meta.width), 3};
  H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, offset, nullptr, size, nullptr);
  h5::Handle mspace(H5Screate_simple(4, size, nullptr));
  if (H5Dwrite(w.images.get(), H5T_NATIVE_UINT8, mspace.get(), fspace.get(), H5P_DEFAULT, data) < 0)
    w.fail(fmt::format("cannot write images of '/{}/images'", w.split));
  w.crc.update(data, static_cast<size_t>(n * w.meta.height * w.meta.width * 3));
  w.written += n;
}

void TaskWriter::end_split(const std::vector<int64_t>& labels, const std::vector<int64_t>& classes) {
  Impl& w = *impl_;
  if (w.split.empty()) throw Error(fmt::format("{}: end_split without begin_split", w.path));
  if (w.written != w.count || static_cast<int64_t>(labels.size()) != w.count)
    throw Error(fmt::format("{}: split '{}' expects {} images and labels, got {} and {}", w.path,
                            w.split, w.count, w.written, labels.size()));
  for (size_t i = 0; i < labels.size(); ++i)
    if (labels[i] < 0 || labels[i] >= w.meta.num_classes)
      throw InputError(fmt::format("{}: split '{}' label {} at index {} is outside [0, {})", w.path,
                                   w.split, labels[i], i, w.meta.num_classes));
  check_classes(w.path, w.split, labels, classes, w.meta.num_classes);
  h5::Lock lock;
  const hsize_t dim = labels.size();
  h5::Handle space(H5Screate_simple(1, &dim, nullptr));
  h5::Handle ds(H5Dcreate2(w.group.get(), "labels", H5T_STD_I64LE, space.get(), H5P_DEFAULT,
                           H5P_DEFAULT, H5P_DEFAULT));
  if (!ds.valid() || H5Dwrite(ds.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, labels.data()) < 0)
    w.fail(fmt::format("cannot write '/{}/labels'", w.split));
  update_labels_crc(w.crc, labels);
  if (!classes.empty()) {
    h5::write_int_list_attr(w.group.get(), "classes", classes);
    update_labels_crc(w.crc, classes);
  }
  h5::write_string_attr(w.group.get(), "checksum", w.crc.text());
  w.checksums.emplace_back(w.split, w.crc.text());
  w.images.reset();
  w.group.reset();
  w.split.clear();
}

std::string TaskWriter::commit() {
  Impl& w = *impl_;
  if (!w.split.empty()) throw Error(fmt::format("{}: split '{}' not ended", w.path, w.split));
  if (w.checksums.empty()) throw InputError(fmt::format("{}: no split to write", w.path));
  const std::string checksum = combine_split_checksums(w.checksums);
  {
    h5::Lock lock;
    const hid_t f = w.file.get();
    h5::write_string_attr(f, "format", kFormatName);
    h5::write_int_attr(f, "format_version", kFormatVersion);
    h5::write_string_attr(f, "task", w.meta.task);
    h5::write_string_attr(f, "group", w.meta.group);
    h5::write_int_attr(f, "num_classes", w.meta.num_classes);
    if (!w.meta.class_names.empty()) {
      if (static_cast<int64_t>(w.meta.class_names.size()) != w.meta.num_classes)
        throw InputError(fmt::format("{}: {} class names for {} classes", w.path,
                                     w.meta.class_names.size(), w.meta.num_classes));
      h5::write_string_list_attr(f, "class_names", w.meta.class_names);
    }
    h5::write_string_attr(f, "source", w.meta.source);
    h5::write_string_attr(f, "resize_method", w.meta.resize_method);
    h5::write_int_list_attr(f, "image_size", {w.meta.height, w.meta.width});
    h5::write_string_attr(f, "checksum", checksum);
    h5::write_string_attr(f, "converter_version",
                          w.meta.converter_version.empty() ? kConverterVersion : w.meta.converter_version);
    if (H5Fflush(f, H5F_SCOPE_GLOBAL) < 0) w.fail("cannot flush");
    w.file.reset();
  }
  if (std::rename(w.temp.c_str(), w.path.c_str()) != 0)
    throw InputError(fmt::format("{}: cannot move the finished file into place from {}", w.path, w.temp));
  w.committed = true;
  return checksum;
}

}  // namespace sct::data
