#include "datasets/sct_data/fmnist_bench.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>

#include "datasets/sct_data/fmnist_source.h"
#include "datasets/sct_data/fmnist_tasks.h"
#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/core/strings.h"
#include "framework/data/convert.h"
#include "framework/data/task_file.h"

namespace sct::data::fmnist {
namespace {

struct SplitPlan {
  std::string name;
  std::vector<Sample> samples;
};

// Everything a file's content depends on, so an unchanged file can be recognised and kept.
std::string provenance(const BenchOptions& o, const TaskSpec& t) {
  return fmt::format("Fashion-MNIST (Xiao, Rasul, Vollgraf 2017; IDX files in {}); {} --seed {} "
                     "--upstream-per-class {} --upstream-test {} --train {} --val {} --test {}; {}: {}",
                     o.root, kBuilderVersion, o.seed, o.upstream_per_class, o.upstream_test, o.train, o.val, o.test,
                     t.name, t.description);
}

std::vector<SplitPlan> plan_task(const BenchOptions& o, const TaskSpec& t, const Source& s) {
  std::vector<SplitPlan> splits;
  if (t.group == "Upstream") {
    const int64_t n = int64_t(t.source_classes.size());
    splits.push_back({"train", plan_split(t, s, Role::kUpstream, "train", n * o.upstream_per_class, o.seed)});
    splits.push_back({"test", plan_split(t, s, Role::kUpstreamTest, "test", o.upstream_test, o.seed)});
    return splits;
  }
  const std::string train = fmt::format("train{}", o.train), val = fmt::format("val{}", o.val);
  SplitPlan a{train, plan_split(t, s, Role::kTrain, train, o.train, o.seed)};
  SplitPlan b{val, plan_split(t, s, Role::kVal, val, o.val, o.seed)};
  // As in VTAB-1k, the 1000-image training split is train800 followed by val200, image for image.
  SplitPlan both{train + val, a.samples};
  both.samples.insert(both.samples.end(), b.samples.begin(), b.samples.end());
  splits.push_back(std::move(a));
  splits.push_back(std::move(b));
  splits.push_back(std::move(both));
  splits.push_back({"test", plan_split(t, s, Role::kTest, "test", o.test, o.seed)});
  return splits;
}

bool up_to_date(const std::string& path, const std::string& source, const std::vector<SplitPlan>& splits) {
  if (!std::filesystem::exists(path)) return false;
  try {
    TaskFile f(path);
    if (f.metadata().source != source || f.split_names().size() != splits.size()) return false;
    for (const auto& p : splits)
      if (!f.has_split(p.name) || f.split(p.name).count != int64_t(p.samples.size())) return false;
    return true;
  } catch (const Error&) {
    return false;  // unreadable or damaged: rebuild
  }
}

void write_task(const BenchOptions& o, const TaskSpec& t, const Source& s, const std::vector<SplitPlan>& splits,
                const std::string& path, const std::string& source) {
  TaskMetadata meta;
  meta.task = t.name;
  meta.group = t.group;
  meta.num_classes = t.num_classes();
  meta.class_names = t.class_names;
  meta.source = source;
  meta.resize_method = t.canvas != kSide || t.item_side != kSide ? "pillow-bicubic-antialias" : "none";
  meta.height = meta.width = kSide;
  meta.converter_version = fmt::format("{}; {}", kConverterVersion, kBuilderVersion);
  TaskWriter writer(path, meta);
  const int threads = conversion_threads(o.threads);
  for (const auto& p : splits) {
    SplitSource src;
    src.name = p.name;
    for (const auto& sample : p.samples) src.labels.push_back(sample.label);
    const auto* samples = &p.samples;
    src.produce = [&t, &s, samples](int64_t i, uint8_t* out) { render(t, s, (*samples)[size_t(i)], out); };
    write_split(writer, src, kSide, kSide, threads, "fmnist");
  }
  writer.commit();
}

std::vector<TaskSpec> all_tasks() {
  std::vector<TaskSpec> v{upstream_task()};
  const auto& d = downstream_tasks();
  v.insert(v.end(), d.begin(), d.end());
  return v;
}

}  // namespace

std::vector<std::string> bench_task_names() {
  std::vector<std::string> names;
  for (const auto& t : all_tasks()) names.push_back(t.name);
  return names;
}

std::vector<BuiltFile> build_bench(const BenchOptions& o) {
  if (o.output_dir.empty()) throw InputError("fmnist-bench: --output-dir is required");
  if (o.train < 10 || o.val < 10 || o.test < 10 || o.upstream_test < 5)
    throw InputError(fmt::format("fmnist-bench: --train, --val, --test need at least 10 images and "
                                 "--upstream-test 5, found {}, {}, {}, {}",
                                 o.train, o.val, o.test, o.upstream_test));
  const auto known = bench_task_names();
  for (const auto& name : o.tasks)
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      const std::string close = closest_match(name, known);
      throw InputError(fmt::format("fmnist-bench: unknown task '{}'{} (tasks: {})", name,
                                   close.empty() ? "" : fmt::format(" (did you mean '{}'?)", close), join(known, ", ")));
    }
  std::filesystem::create_directories(o.output_dir);

  std::unique_ptr<Source> source;  // loaded only when a file has to be written
  std::vector<BuiltFile> built;
  for (const auto& t : all_tasks()) {
    if (!o.tasks.empty() && std::find(o.tasks.begin(), o.tasks.end(), t.name) == o.tasks.end()) continue;
    if (!source) source = std::make_unique<Source>(load_source(o.root, o.seed, o.upstream_per_class));
    const auto t0 = std::chrono::steady_clock::now();
    const std::string path = (std::filesystem::path(o.output_dir) / (t.name + ".h5")).string();
    const std::string prov = provenance(o, t);
    const auto splits = plan_task(o, t, *source);
    std::vector<std::string> parts;
    for (const auto& p : splits) parts.push_back(fmt::format("{} {}", p.name, p.samples.size()));
    BuiltFile f{t.name, path, !o.force && up_to_date(path, prov, splits)};
    if (!f.kept) write_task(o, t, *source, splits, path, prov);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    log::info("fmnist", "{} {} ({}, {} classes: {}), {:.1f} s", f.kept ? "kept" : "wrote", path, t.group,
              t.num_classes(), join(parts, ", "), secs);
    built.push_back(f);
  }
  return built;
}

}  // namespace sct::data::fmnist
