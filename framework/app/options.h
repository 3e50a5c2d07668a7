// The typed options of sct_dist and of each of its commands, as the command line fills them
// (framework/app/command.cpp declares them; the initial values are the defaults --help shows).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sct::app {

// Valid before or after the command.
struct GlobalOptions {
  bool verbose = false;  // --verbose, -v: log lines from every rank
  int threads = 0;       // --threads; 0 = not given
  bool version = false;  // --version
};

struct RunOptions {
  std::string recipe;
  std::vector<std::string> sets;   // --set key=value overrides, in order
  std::vector<std::string> tasks;  // --task filters
  bool dry_run = false;
  std::string out;  // empty: <out>/<name> from the recipe
  bool force = false;
  int64_t stop_after_steps = -1;  // -1: never
};

struct SaliencyOptions {
  std::string recipe, task, output;
  std::vector<std::string> sets;
  bool float64 = false;
};

struct ForwardOptions {
  std::string checkpoint, input, output;
  std::string what = "logits";  // or "features"
  int64_t batch = 32;
};

struct EvalOptions {
  std::string target;   // a recipe, or a unit directory (its adapter file's recipe is used)
  std::string adapter;  // empty: <unit directory>/adapter.safetensors
  std::vector<std::string> splits;  // empty: the recipe's task.eval_split
  std::vector<std::string> sets;
  std::string backbone;  // empty: the recipe's model.checkpoint
  int64_t batch = 0;     // per rank; 0: train.batch_size / ranks, as training evaluates
  std::string output;    // JSON of the counts; empty: none
};

struct PredictOptions {
  std::string adapter, backbone, input, output;
  std::vector<std::string> splits;  // task file input: empty = every split
  int64_t top_k = 5;
  int64_t batch = 32;
  bool all_classes = false;  // ignore a split's scored classes (rank over every class)
};

struct MergeOptions {
  std::string adapter, backbone, output;
};

struct InspectOptions {
  std::string checkpoint;
};

struct ReportOptions {
  std::string run_dir;
  std::string format = "md";
  std::string output;  // empty: stdout
  bool strict = false;
};

struct HelpOptions {
  std::string command;  // empty: the program's help
};

// Everything one command line can set; a command reads its own part.
struct CommandLine {
  GlobalOptions global;
  RunOptions run;
  SaliencyOptions saliency;
  ForwardOptions forward;
  EvalOptions eval;
  PredictOptions predict;
  MergeOptions merge;
  InspectOptions inspect;
  ReportOptions report;
  HelpOptions help;
};

}  // namespace sct::app
