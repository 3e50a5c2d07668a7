// synth: a small deterministic learnable task (framework/data/synth.h) for tests and demos.
#include <fmt/core.h>

#include <chrono>

#include "datasets/sct_data/args.h"
#include "datasets/sct_data/commands.h"
#include "datasets/sct_data/scored_classes.h"
#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/core/strings.h"
#include "framework/data/synth.h"

namespace sct::tools {

int cmd_synth(const DataCommandLine& line) {
  const SynthOptions& options = line.synth;
  data::TaskMetadata meta;
  const std::string& output = options.output;
  meta.num_classes = options.classes;
  const auto size = static_cast<int>(options.size);
  const uint64_t seed = options.seed;
  meta.task = options.task;
  meta.group = options.group;
  const int threads = data::conversion_threads(options.threads);
  meta.height = meta.width = size;
  meta.source = fmt::format("sct_data synth --seed {}", seed);
  meta.resize_method = "none";
  for (int64_t c = 0; c < meta.num_classes; ++c)
    meta.class_names.push_back(fmt::format("{}-{}", c % 2 ? "disc" : "square", c));
  std::vector<std::pair<std::string, int64_t>> splits;
  for (const auto& spec : options.splits) {
    const size_t eq = spec.find('=');
    if (eq == std::string::npos || eq == 0)
      throw InputError(fmt::format("synth --split: expected NAME=COUNT, found '{}'", spec));
    const std::string name = spec.substr(0, eq);
    splits.emplace_back(name, cli::parse_integer(spec.substr(eq + 1), "synth --split " + name, 1, int64_t{1} << 32));
  }
  std::vector<std::string> names;
  for (const auto& s : splits) names.push_back(s.first);
  const auto scored = parse_scored_classes(options.scored_classes, names);
  const auto t0 = std::chrono::steady_clock::now();
  data::TaskWriter writer(output, meta);
  std::vector<std::string> parts;
  for (const auto& [name, count] : splits) {
    const auto it = scored.find(name);
    const std::vector<int64_t> classes =
        it == scored.end() ? std::vector<int64_t>()
                           : resolve_scored_classes(name, it->second, nullptr, meta.class_names, meta.num_classes);
    data::write_split(writer, data::synth_split_source(name, count, meta.num_classes, size, size, seed, classes),
                      size, size, threads, "synth");
    parts.push_back(fmt::format("{} {}", name, count));
  }
  const std::string checksum = writer.commit();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  log::info("synth", "wrote {}: {} classes, splits {}, {}x{}, {}, {:.2f} s", output, meta.num_classes,
            join(parts, ", "), size, size, checksum, secs);
  return 0;
}

}  // namespace sct::tools
