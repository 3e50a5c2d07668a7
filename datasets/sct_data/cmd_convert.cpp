// convert-vtab, convert-list and convert-idx: each gathers split sources and metadata, then
// the shared pipeline (framework/data/convert.h) writes the task file.
#include <fmt/core.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>

#include "datasets/sct_data/args.h"
#include "datasets/sct_data/commands.h"
#include "datasets/sct_data/scored_classes.h"
#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/core/strings.h"
#include "framework/data/convert.h"
#include "datasets/sct_data/idx.h"
#include "datasets/sct_data/list_source.h"
#include "framework/core/vtab1k.h"

namespace sct::tools {
namespace {

using data::SplitSource;
using data::TaskMetadata;

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

void class_names_option(const TaskFileOptions& file, TaskMetadata& meta) {
  if (file.class_names.empty()) return;
  meta.class_names = parse_name_list(file.class_names);
  if (static_cast<int64_t>(meta.class_names.size()) != meta.num_classes)
    throw InputError(fmt::format("--class-names gives {} names for {} classes", meta.class_names.size(),
                                 meta.num_classes));
}

int write_task(const TaskFileOptions& file, const TaskMetadata& meta, const std::vector<SplitSource>& sources) {
  const int threads = data::conversion_threads(file.threads);
  const auto t0 = std::chrono::steady_clock::now();
  data::TaskWriter writer(file.output, meta, file.compress);
  int64_t images = 0;
  std::vector<std::string> parts;
  for (const auto& s : sources) {
    log::info("convert", "{}: {} images -> {}x{} with {} threads", s.name, s.labels.size(), meta.height,
              meta.width, threads);
    data::write_split(writer, s, static_cast<int>(meta.height), static_cast<int>(meta.width), threads);
    images += static_cast<int64_t>(s.labels.size());
    parts.push_back(fmt::format("{} {}", s.name, s.labels.size()));
  }
  const std::string checksum = writer.commit();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  log::info("convert", "wrote {}: task {}, {} classes, splits {}, {}x{}, {}, {:.1f} s ({:.0f} img/s, {} threads)",
            file.output, meta.task, meta.num_classes, join(parts, ", "), meta.height, meta.width, checksum, secs,
            images / std::max(secs, 1e-9), threads);
  return 0;
}

// "NAME=VALUE" -> {NAME, VALUE}
std::pair<std::string, std::string> split_spec(const std::string& spec, const std::string& what) {
  const size_t eq = spec.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
    throw InputError(fmt::format("{}: expected NAME=VALUE, found '{}'", what, spec));
  return {spec.substr(0, eq), spec.substr(eq + 1)};
}

std::string dirname(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
}

}  // namespace

int cmd_convert_vtab(const DataCommandLine& line) {
  const ConvertVtabOptions& options = line.convert_vtab;
  const TaskFileOptions& file = options.file;
  const std::string &root = options.root, &task = file.task;
  const auto size = static_cast<int>(file.size);
  const VtabTask* known = find_vtab_task(task);
  TaskMetadata meta;
  meta.task = known ? known->name : task;
  meta.num_classes = file.classes ? file.classes : known ? known->num_classes : 0;
  if (meta.num_classes == 0) {
    std::vector<std::string> names;
    for (const auto& t : vtab_tasks()) names.push_back(t.name);
    throw InputError(fmt::format("convert-vtab: '{}' is not a VTAB-1k task; pass --classes N (known: {})",
                                 task, join(names, ", ")));
  }
  meta.group = !file.group.empty() ? file.group : known ? known->group : "";
  class_names_option(file, meta);

  std::string dir;
  for (const std::string& folder : {std::string(known ? known->folder : task), task, meta.task})
    if (exists(root + "/" + folder)) {
      dir = root + "/" + folder;
      break;
    }
  if (dir.empty()) throw InputError(fmt::format("{}/{}: no such task folder", root, known ? known->folder : task));
  std::vector<std::string> splits;
  if (!options.splits.empty()) {
    splits = parse_name_list(options.splits);
  } else {
    for (const auto& s : vtab_splits())
      if (exists(dir + "/" + s + ".txt")) splits.push_back(s);
    if (splits.empty())
      throw InputError(fmt::format("{}: no list files ({}.txt)", dir, join(vtab_splits(), ".txt, ")));
  }
  meta.height = meta.width = size;
  meta.source = "VTAB-1k folder " + dir;
  meta.resize_method = "pillow-bicubic-antialias";
  std::vector<SplitSource> sources;
  for (const auto& s : splits)
    sources.push_back(data::list_split_source(s, dir + "/" + s + ".txt", dir, size, size, meta.num_classes));
  return write_task(file, meta, sources);
}

int cmd_convert_list(const DataCommandLine& line) {
  const ConvertListOptions& options = line.convert_list;
  const TaskFileOptions& file = options.file;
  TaskMetadata meta;
  meta.task = file.task;
  meta.num_classes = file.classes;
  meta.group = file.group;
  class_names_option(file, meta);
  const auto size = static_cast<int>(file.size);
  const std::string& root = options.root;
  meta.source = options.source;
  meta.height = meta.width = size;
  meta.resize_method = "pillow-bicubic-antialias";
  std::vector<SplitSource> sources;
  std::vector<std::string> names;
  for (const auto& spec : options.splits) {
    const auto [name, list] = split_spec(spec, "convert-list --split");
    sources.push_back(data::list_split_source(name, list, root.empty() ? dirname(list) : root, size, size,
                                              meta.num_classes));
    names.push_back(name);
  }
  for (const auto& [name, spec] : parse_scored_classes(options.scored_classes, names))
    for (auto& s : sources)
      if (s.name == name) {
        s.classes = resolve_scored_classes(name, spec, &s.labels, meta.class_names, meta.num_classes);
        // Before any image is converted: a label the split is not scored over is a data error.
        if (const int64_t i = data::first_label_outside(s.labels, s.classes); i >= 0)
          throw InputError(fmt::format("--scored-classes {}={}: split '{}' holds label {} (entry {} of its list), "
                                       "which is not among its {} scored classes",
                                       name, spec, name, s.labels[i], i + 1, s.classes.size()));
      }
  return write_task(file, meta, sources);
}

int cmd_convert_idx(const DataCommandLine& line) {
  const ConvertIdxOptions& options = line.convert_idx;
  const TaskFileOptions& file = options.file;
  TaskMetadata meta;
  meta.task = file.task;
  meta.num_classes = file.classes;
  meta.group = file.group;
  class_names_option(file, meta);
  const int64_t size = file.size;

  std::map<std::string, std::shared_ptr<const data::IdxArray>> cache;
  auto load = [&](const std::string& path) {
    auto& slot = cache[path];
    if (!slot) slot = std::make_shared<const data::IdxArray>(data::read_idx(path));
    return slot;
  };
  std::vector<SplitSource> sources;
  std::vector<std::string> inputs;
  for (const auto& spec : options.splits) {
    const auto [name, value] = split_spec(spec, "convert-idx --split");
    std::vector<std::string> parts = parse_name_list(value);
    if (parts.size() < 2 || parts.size() > 3)
      throw InputError(fmt::format("convert-idx --split {}: expected IMAGES,LABELS[,BEGIN:END]", spec));
    auto images = load(parts[0]);
    auto labels = load(parts[1]);
    if (images->dims.size() < 3)
      throw InputError(fmt::format("{}: not an image array ({} dimensions)", parts[0], images->dims.size()));
    int64_t begin = 0, end = images->dims[0];
    if (parts.size() == 3) {
      const size_t colon = parts[2].find(':');
      if (colon == std::string::npos)
        throw InputError(fmt::format("convert-idx --split {}: range must be BEGIN:END", spec));
      begin = cli::parse_integer(parts[2].substr(0, colon), "range begin", 0, images->dims[0]);
      end = cli::parse_integer(parts[2].substr(colon + 1), "range end", 0, images->dims[0]);
    }
    const int rows = static_cast<int>(images->dims[1]), cols = static_cast<int>(images->dims[2]);
    const int h = size ? static_cast<int>(size) : rows, w = size ? static_cast<int>(size) : cols;
    if (!sources.empty() && (h != meta.height || w != meta.width))
      throw InputError(fmt::format("convert-idx: split '{}' has {}x{} images, earlier splits {}x{}; pass --size",
                                   name, h, w, meta.height, meta.width));
    meta.height = h;
    meta.width = w;
    if (h != rows || w != cols) meta.resize_method = "pillow-bicubic-antialias";
    if (std::find(inputs.begin(), inputs.end(), parts[0]) == inputs.end()) inputs.push_back(parts[0]);
    sources.push_back(data::idx_split_source(name, images, *labels, begin, end, h, w, meta.num_classes,
                                             parts[0]));
  }
  if (meta.resize_method.empty()) meta.resize_method = "none";
  meta.source = "IDX " + join(inputs, ", ");
  return write_task(file, meta, sources);
}

}  // namespace sct::tools
