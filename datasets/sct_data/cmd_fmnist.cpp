// fmnist-bench: the default benchmark (pre-training set + VTAB-style downstream tasks) built
// from Debian's Fashion-MNIST; see datasets/sct_data/fmnist_bench.h and recipes/fmnist/README.md.
#include <fmt/core.h>

#include "datasets/sct_data/args.h"
#include "datasets/sct_data/commands.h"
#include "datasets/sct_data/fmnist_bench.h"
#include "framework/core/error.h"
#include "framework/core/log.h"

namespace sct::tools {

int cmd_fmnist_bench(const Argv& argv) {
  Args a("fmnist-bench", argv);
  data::fmnist::BenchOptions o;
  o.output_dir = a.required("output-dir");
  o.root = a.option("root", o.root);
  o.seed = uint64_t(a.integer("seed", 0, 0, INT64_MAX));
  o.upstream_per_class = a.integer("upstream-per-class", o.upstream_per_class, 1, 5990);
  o.upstream_test = a.integer("upstream-test", o.upstream_test, 5, 2500);
  o.train = a.integer("train", o.train, 10, 4000);
  o.val = a.integer("val", o.val, 10, 1000);
  o.test = a.integer("test", o.test, 10, 5000);
  if (auto tasks = a.get("tasks")) o.tasks = parse_name_list(*tasks);
  o.threads = int(a.integer("threads", 0, 1, 256));
  o.force = a.flag("force");
  a.positional(0, 0);
  const auto built = data::fmnist::build_bench(o);
  int written = 0;
  for (const auto& f : built) written += f.kept ? 0 : 1;
  log::info("fmnist", "{} task files in {} ({} written, {} up to date)", built.size(), o.output_dir, written,
            built.size() - size_t(written));
  return 0;
}

}  // namespace sct::tools
