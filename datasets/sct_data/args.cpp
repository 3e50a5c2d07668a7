#include "datasets/sct_data/args.h"

#include <fmt/core.h>

#include <limits>
#include <sstream>

#include "framework/core/error.h"
#include "framework/core/fs.h"
#include "framework/data/decode.h"
#include "framework/data/task_format.h"

namespace sct::tools {
namespace {

constexpr int64_t kUnbounded = std::numeric_limits<int64_t>::max();

void define_output(cli::Options& o, std::string& output) {
  o.text("--output", "FILE.h5", output, "the task file to write").required();
}

void define_threads(cli::Options& o, int& threads) {
  o.integer("--threads", threads, 1, 256, "worker threads", "all cores");
}

// The task's name, classes and output, which convert-list and convert-idx require.
void define_new_task(cli::Options& o, TaskFileOptions& file) {
  o.text("--task", "NAME", file.task, "the task's name").required();
  o.integer("--classes", file.classes, 1, 1 << 30, "number of classes").required();
  define_output(o, file.output);
}

// The options every converter shares, after its own ones.
void define_task_file(cli::Options& o, TaskFileOptions& file, const char* group_default) {
  o.text("--group", "G", file.group, "the task's VTAB group (Natural, Specialized, Structured)", group_default);
  o.text("--class-names", "a,b,...|@FILE", file.class_names, "class names, comma-separated or one per line of FILE");
  o.integer("--compress", file.compress, 0, 9, "gzip level of the images (0: none)");
  define_threads(o, file.threads);
}

void define_convert_vtab(cli::Options& o, DataCommandLine& line) {
  ConvertVtabOptions& vtab = line.convert_vtab;
  o.text("--root", "DIR", vtab.root, "the VTAB-1k folder (one subfolder per task)").required();
  o.text("--task", "NAME", vtab.file.task, "the task (a VTAB-1k name, or any folder with --classes)").required();
  define_output(o, vtab.file.output);
  o.integer("--size", vtab.file.size, 1, 8192, "resize every image to SxS");
  o.text("--splits", "a,b,...", vtab.splits, "the splits to convert", "every split with a list file");
  o.integer("--classes", vtab.file.classes, 1, 1 << 30, "number of classes", "the VTAB-1k table's");
  define_task_file(o, vtab.file, "the VTAB-1k table's");
}

void define_convert_list(cli::Options& o, DataCommandLine& line) {
  ConvertListOptions& list = line.convert_list;
  define_new_task(o, list.file);
  o.list("--split", "NAME=LISTFILE", list.splits, "a split from a list of '<image path> <label>' lines").required();
  o.text("--root", "DIR", list.root, "where image paths are relative to", "each list file's folder");
  o.integer("--size", list.file.size, 1, 8192, "resize every image to SxS");
  o.text("--source", "TEXT", list.source, "the provenance recorded in the file");
  o.list("--scored-classes", "NAME=labels|I,J,...|@FILE", list.scored_classes,
         "score split NAME over these classes only (labels: the classes its list holds; @FILE: indices or class "
         "names, one per line)");
  define_task_file(o, list.file, "none");
}

void define_convert_idx(cli::Options& o, DataCommandLine& line) {
  ConvertIdxOptions& idx = line.convert_idx;
  define_new_task(o, idx.file);
  o.list("--split", "NAME=IMAGES,LABELS[,BEGIN:END]", idx.splits, "a split from IDX files, optionally a range of them")
      .required();
  o.integer("--size", idx.file.size, 1, 8192, "resize every image to SxS", "the images' own size");
  define_task_file(o, idx.file, "none");
}

void define_fmnist_bench(cli::Options& o, DataCommandLine& line) {
  data::fmnist::BenchOptions& bench = line.fmnist_bench.bench;
  o.text("--output-dir", "DIR", bench.output_dir, "where to write the task files").required();
  o.text("--root", "DIR", bench.root, "the Fashion-MNIST IDX files (Debian's dataset-fashion-mnist)");
  o.integer("--seed", bench.seed, 0, kUnbounded, "seed of every random choice");
  o.integer("--upstream-per-class", bench.upstream_per_class, 1, 5990, "pre-training images per upstream class");
  o.integer("--upstream-test", bench.upstream_test, 5, 2500, "pre-training evaluation images");
  o.integer("--train", bench.train, 10, 4000, "downstream training images per task");
  o.integer("--val", bench.val, 10, 1000, "downstream validation images per task");
  o.integer("--test", bench.test, 10, 5000, "downstream test images per task");
  o.text("--tasks", "a,b,...", line.fmnist_bench.tasks, "only these task files", "every task");
  define_threads(o, bench.threads);
  o.flag("--force", bench.force, "rebuild files that are up to date");
}

void define_synth(cli::Options& o, DataCommandLine& line) {
  SynthOptions& synth = line.synth;
  define_output(o, synth.output);
  o.integer("--classes", synth.classes, 1, 1 << 20, "number of classes").required();
  o.integer("--size", synth.size, 2, 4096, "image size SxS").required();
  o.list("--split", "NAME=COUNT", synth.splits, "a split of COUNT images").required();
  o.list("--scored-classes", "NAME=I,J,...|@FILE", synth.scored_classes,
         "score split NAME over these classes only; its labels are drawn from them");
  o.integer("--seed", synth.seed, 0, kUnbounded, "seed of the images");
  o.text("--task", "NAME", synth.task, "the task's name");
  o.text("--group", "G", synth.group, "the task's group");
  define_threads(o, synth.threads);
}

void define_inspect(cli::Options& o, DataCommandLine& line) {
  o.positional("FILE.h5", line.inspect.file, "a task file").required();
  o.text("--split", "NAME", line.inspect.split, "only this split", "every split");
}

void define_validate(cli::Options& o, DataCommandLine& line) {
  o.positional("FILE.h5", line.validate.file, "a task file").required();
}

void define_help(cli::Options& o, DataCommandLine& line) {
  o.positional("COMMAND", line.help.command, "the command to explain (default: every command)");
}

cli::Program make_program(DataCommandLine& line) {
  cli::Program program;
  program.name = "sct_data";
  program.description = "sct_data: build and check task files (HDF5) for sct_dist";
  program.notes =
      "`sct_data COMMAND --help` shows a command's options.\n"
      "exit codes: 0 ok, 1 failure, 2 bad input (arguments, files)\n"
      "schema: datasets/README.md";
  program.define = [&line](cli::Options& o) { o.flag("--version", line.version, "the converter, HDF5 and JPEG decoder versions"); };
  program.commands = cli::bind_commands(subcommands(), line);
  return program;
}

}  // namespace

const std::vector<Subcommand>& subcommands() {
  static const std::vector<Subcommand> table = {
      {"convert-vtab", "a VTAB-1k task folder (list files + JPEG/PNG images) -> task file", "", define_convert_vtab,
       cmd_convert_vtab},
      {"convert-list", "splits given as '<image path> <label>' list files -> task file", "", define_convert_list,
       cmd_convert_list},
      {"convert-idx", "IDX image/label files (.gz or raw, e.g. Fashion-MNIST) -> task file", "", define_convert_idx,
       cmd_convert_idx},
      {"fmnist-bench", "Fashion-MNIST -> pre-training set + VTAB-style downstream tasks (the default benchmark)",
       "recipes/fmnist/README.md describes the tasks.", define_fmnist_bench, cmd_fmnist_bench},
      {"synth", "a small deterministic learnable task (for tests)", "", define_synth, cmd_synth},
      {"inspect", "attributes, splits, class histograms", "", define_inspect, cmd_inspect},
      {"validate", "structure, label range and recomputed checksums; exit 0 when valid", "", define_validate,
       cmd_validate},
      {"help", "this help, or a command's (`sct_data help synth`)", "", define_help, cmd_help},
      {"version", "the converter, HDF5 and JPEG decoder versions (same as --version)", "", nullptr, cmd_version},
  };
  return table;
}

ParsedDataCommandLine parse_command_line(const std::vector<std::string>& args) {
  return cli::parse_table(make_program, subcommands(), args);
}

std::string help_text(const Subcommand* command) { return cli::table_help(make_program, subcommands(), command); }

int cmd_help(const DataCommandLine& line) {
  DataCommandLine fresh;  // the defaults, whatever this parse has filled
  fmt::print("{}", cli::help_for(make_program(fresh), line.help.command));
  return 0;
}

int cmd_version(const DataCommandLine& line) {
  (void)line;
  fmt::print("{} (task format {})\nHDF5 {}\nJPEG decoder: {}\n", data::kConverterVersion, data::kFormatVersion,
             data::hdf5_version(), data::jpeg_decoder_name());
  return 0;
}

std::vector<std::string> parse_name_list(const std::string& text) {
  std::vector<std::string> out;
  std::string item;
  if (!text.empty() && text[0] == '@') {
    std::istringstream in(read_text_file(text.substr(1)));
    while (std::getline(in, item)) {
      if (!item.empty() && item.back() == '\r') item.pop_back();
      if (!item.empty()) out.push_back(item);
    }
    return out;
  }
  std::istringstream in(text);
  while (std::getline(in, item, ',')) out.push_back(item);
  return out;
}

}  // namespace sct::tools
