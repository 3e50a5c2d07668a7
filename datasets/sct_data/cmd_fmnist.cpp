// fmnist-bench: the default benchmark (pre-training set + VTAB-style downstream tasks) built
// from Debian's Fashion-MNIST; see datasets/sct_data/fmnist_bench.h and recipes/fmnist/README.md.
#include <fmt/core.h>

#include "datasets/sct_data/args.h"
#include "datasets/sct_data/commands.h"
#include "datasets/sct_data/fmnist_bench.h"
#include "framework/core/error.h"
#include "framework/core/log.h"

namespace sct::tools {

int cmd_fmnist_bench(const DataCommandLine& line) {
  data::fmnist::BenchOptions o = line.fmnist_bench.bench;
  if (!line.fmnist_bench.tasks.empty()) o.tasks = parse_name_list(line.fmnist_bench.tasks);
  const auto built = data::fmnist::build_bench(o);
  int written = 0;
  for (const auto& f : built) written += f.kept ? 0 : 1;
  log::info("fmnist", "{} task files in {} ({} written, {} up to date)", built.size(), o.output_dir, written,
            built.size() - size_t(written));
  return 0;
}

}  // namespace sct::tools
