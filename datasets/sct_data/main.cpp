// sct_data: builds and checks task files. Every error is one line on stderr; bad input
// (arguments, files) exits with 2, other failures with 1.
#include <fmt/core.h>

#include <cstdio>
#include <exception>

#include "datasets/sct_data/commands.h"
#include "framework/core/error.h"
#include "framework/core/strings.h"
#include "framework/data/decode.h"
#include "framework/data/task_format.h"

namespace {

using sct::tools::Subcommand;

const std::vector<Subcommand>& subcommands() {
  static const std::vector<Subcommand> list = {
      {"convert-vtab",
       "convert-vtab --root DIR --task NAME --output FILE.h5 [--size 224] [--splits a,b,...]\n"
       "             [--classes N] [--group G] [--class-names a,b,...|@FILE] [--compress 0-9] [--threads N]",
       "a VTAB-1k task folder (list files + JPEG/PNG images) -> task file", sct::tools::cmd_convert_vtab},
      {"convert-list",
       "convert-list --task NAME --classes N --output FILE.h5 --split NAME=LISTFILE... [--root DIR]\n"
       "             [--size 224] [--group G] [--class-names ...] [--source TEXT] [--compress 0-9] [--threads N]",
       "splits given as '<image path> <label>' list files -> task file", sct::tools::cmd_convert_list},
      {"convert-idx",
       "convert-idx --task NAME --classes N --output FILE.h5 --split NAME=IMAGES,LABELS[,BEGIN:END]...\n"
       "            [--size S] [--group G] [--class-names ...] [--compress 0-9] [--threads N]",
       "IDX image/label files (.gz or raw, e.g. Fashion-MNIST) -> task file", sct::tools::cmd_convert_idx},
      {"fmnist-bench",
       "fmnist-bench --output-dir DIR [--root /usr/share/datasets/fashion-mnist] [--seed N]\n"
       "             [--upstream-per-class 5500] [--upstream-test 1000] [--train 800] [--val 200] [--test 2000]\n"
       "             [--tasks a,b,...] [--threads N] [--force]",
       "Fashion-MNIST -> pre-training set + VTAB-style downstream tasks (the default benchmark)",
       sct::tools::cmd_fmnist_bench},
      {"synth",
       "synth --output FILE.h5 --classes N --size S --split NAME=COUNT... [--seed N] [--task NAME] [--threads N]",
       "a small deterministic learnable task (for tests)", sct::tools::cmd_synth},
      {"inspect", "inspect FILE.h5 [--split NAME]", "attributes, splits, class histograms", sct::tools::cmd_inspect},
      {"validate", "validate FILE.h5",
       "structure, label range and recomputed checksums; exit 0 when valid", sct::tools::cmd_validate},
  };
  return list;
}

void help() {
  fmt::print("sct_data: build and check task files (HDF5) for sct_dist\n\nusage: sct_data COMMAND [ARGS]\n\ncommands:\n");
  for (const auto& c : subcommands()) fmt::print("  {:<13} {}\n", c.name, c.summary);
  fmt::print("\n`sct_data COMMAND --help` shows a command's options; `sct_data --version` the build.\n"
             "exit codes: 0 ok, 1 failure, 2 bad input (arguments, files)\n"
             "schema: datasets/README.md\n");
}

void error_line(const std::string& message) {
  std::fflush(stdout);
  fmt::print(stderr, "sct_data: error: {}\n", message);
  std::fflush(stderr);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    help();
    return args.empty() ? sct::kExitBadInput : 0;
  }
  if (args[0] == "--version") {
    fmt::print("{} (task format {})\nHDF5 {}\nJPEG decoder: {}\n", sct::data::kConverterVersion,
               sct::data::kFormatVersion, sct::data::hdf5_version(), sct::data::jpeg_decoder_name());
    return 0;
  }
  const Subcommand* cmd = nullptr;
  std::vector<std::string> names;
  for (const auto& c : subcommands()) {
    names.push_back(c.name);
    if (args[0] == c.name) cmd = &c;
  }
  if (!cmd) {
    const std::string close = sct::closest_match(args[0], names);
    error_line(fmt::format("unknown command '{}'{}; see sct_data --help", args[0],
                           close.empty() ? "" : fmt::format(" (did you mean '{}'?)", close)));
    return sct::kExitBadInput;
  }
  std::vector<std::string> rest(args.begin() + 1, args.end());
  for (const auto& a : rest)
    if (a == "--help" || a == "-h") {
      fmt::print("usage: sct_data {}\n\n{}\n", cmd->usage, cmd->summary);
      return 0;
    }
  try {
    return cmd->fn(rest);
  } catch (const sct::Error& e) {
    error_line(e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    error_line(e.what());
    return sct::kExitFailure;
  }
}
