#include "framework/app/command.h"

#include <fmt/core.h>

#include <limits>

#include "framework/core/error.h"

namespace sct::app {
namespace {

constexpr int64_t kUnbounded = std::numeric_limits<int64_t>::max();

void define_global(cli::Options& o, GlobalOptions& global) {
  o.flag("-v,--verbose", global.verbose, "log lines from every rank, not only rank 0");
  o.integer("--threads", global.threads, 1, 4096, "intra-op threads per rank",
            "the recipe's `threads`, else node cores / local ranks");
  o.flag("--version", global.version, "version, git revision, LibTorch, BLAS, MPI and NCCL facts");
}

void define_run(cli::Options& o, CommandLine& line) {
  RunOptions& run = line.run;
  o.positional("RECIPE", run.recipe, "a recipe (TOML) of one task or of a sweep").required();
  o.list("--set", "KEY=VALUE", run.sets, "override a recipe key with a TOML value");
  o.list("--task", "NAME", run.tasks, "only this task of a sweep");
  o.flag("--dry-run", run.dry_run, "validate everything and print the resolved recipe and the plan");
  o.text("--out", "DIR", run.out, "run directory", "<out>/<name> from the recipe");
  o.flag("--force", run.force, "run again the finished units whose recipe changed");
  o.integer("--stop-after-steps", run.stop_after_steps, 1, kUnbounded,
            "stop as if preempted after N training steps (testing resume)", "never");
}

void define_saliency(cli::Options& o, CommandLine& line) {
  SaliencyOptions& saliency = line.saliency;
  o.positional("RECIPE", saliency.recipe, "a recipe (TOML) of one task").required();
  o.text("--output", "FILE", saliency.output, "where to write the channels (JSON)").required();
  o.text("--task", "NAME", saliency.task, "check that the recipe's task is NAME", "the recipe's task");
  o.list("--set", "KEY=VALUE", saliency.sets, "override a recipe key with a TOML value");
  o.flag("--float64", saliency.float64, "compute the saliency in double precision");
}

void define_forward(cli::Options& o, CommandLine& line) {
  ForwardOptions& forward = line.forward;
  o.text("--checkpoint", "CKPT", forward.checkpoint, "a checkpoint (.npz or .safetensors)").required();
  o.text("--input", "IN.npy", forward.input, "pre-normalised float32 images (N, 3, S, S)").required();
  o.text("--output", "OUT.npy", forward.output, "where to write the result").required();
  o.choice("--what", forward.what, {"logits", "features"}, "classifier logits or final-norm CLS features");
  o.integer("--batch", forward.batch, 1, kUnbounded, "images per forward pass");
}

void define_eval(cli::Options& o, CommandLine& line) {
  EvalOptions& eval = line.eval;
  o.positional("RECIPE_OR_UNIT", eval.target,
               "a recipe (its task data and backbone), or a unit directory of a run (the adapter's own recipe)")
      .required();
  o.text("--adapter", "FILE", eval.adapter, "the adapter file (train.export_adapter)",
         "UNIT/adapter.safetensors");
  o.list("--split", "NAME", eval.splits, "a split of the task file to evaluate; none given: task.eval_split");
  o.list("--set", "KEY=VALUE", eval.sets, "override a recipe key with a TOML value");
  o.text("--backbone", "CKPT", eval.backbone, "the backbone checkpoint", "the recipe's model.checkpoint");
  o.integer("--batch", eval.batch, 1, kUnbounded, "images per forward pass and rank",
            "train.batch_size / ranks, as training evaluates");
  o.text("--output", "FILE", eval.output, "also write the counts as JSON", "none");
}

void define_predict(cli::Options& o, CommandLine& line) {
  PredictOptions& predict = line.predict;
  o.text("--adapter", "FILE", predict.adapter, "the adapter file (train.export_adapter)").required();
  o.text("--backbone", "CKPT", predict.backbone, "the backbone checkpoint", "the one the adapter's recipe names");
  o.text("--input", "FILE.h5|DIR", predict.input, "a task file, or a directory of JPEG/PNG images").required();
  o.text("--output", "FILE.csv", predict.output, "where to write the predictions").required();
  o.list("--split", "NAME", predict.splits, "a split of a task file; none given: every split");
  o.integer("--top-k", predict.top_k, 1, kUnbounded, "classes per image, most probable first");
  o.integer("--batch", predict.batch, 1, kUnbounded, "images per forward pass");
  o.flag("--all-classes", predict.all_classes,
         "rank every class even on a split scored over some of them (ImageNet-A, -R)");
}

void define_merge(cli::Options& o, CommandLine& line) {
  MergeOptions& merge = line.merge;
  o.text("--adapter", "FILE", merge.adapter, "the adapter file (train.export_adapter)").required();
  o.text("--backbone", "CKPT", merge.backbone, "the backbone checkpoint", "the one the adapter's recipe names");
  o.text("--output", "OUT", merge.output, "the merged checkpoint (.safetensors or .npz)").required();
}

void define_inspect(cli::Options& o, CommandLine& line) {
  o.positional("CHECKPOINT", line.inspect.checkpoint, "a checkpoint (.npz or .safetensors)").required();
}

void define_report(cli::Options& o, CommandLine& line) {
  ReportOptions& report = line.report;
  o.positional("RUN_DIR", report.run_dir, "the run directory of `sct_dist run`").required();
  o.text("--format", "md|csv|html", report.format,
         "md (also the terminal table), csv (one row per value) or html (a self-contained page with charts)");
  o.text("--output", "FILE", report.output, "write to FILE (atomically) instead of stdout", "stdout");
  o.flag("--strict", report.strict, "exit 2 when a unit's result file is missing or unreadable (the report still prints)");
}

void define_help(cli::Options& o, CommandLine& line) {
  o.positional("COMMAND", line.help.command, "the command to explain (default: every command)");
}

constexpr const char* kRunNotes =
    "Re-running the same command resumes: finished units are skipped, interrupted ones continue\n"
    "from their last checkpoint. Exit codes: 0 ok, 1 a unit failed, 2 bad input, 3 preempted.";

constexpr const char* kEvalNotes =
    "Counts are exact at any world size: every image of a split is seen once across the ranks.\n"
    "The adapter's backbone checksum must match the backbone it is applied to.";

constexpr const char* kPredictNotes =
    "CSV columns: source (split or file), index, label (-1 when unknown), then class_i and prob_i\n"
    "(softmax) for i = 1..top-k. Images of a directory are resized to the adapter's image size\n"
    "(bicubic, antialiased) and normalised with its recipe's data.mean and data.std.";

constexpr const char* kMergeNotes =
    "Folds SCT maps of mlp and qkv mode into the Linear layer whose output they transform\n"
    "(blocks.l.mlp.fc2, blocks.l.attn.qkv); methods without modules (linear, bitfit, full) just\n"
    "write their tensors into the backbone. SCT in attn mode does not fold and is refused.";

constexpr const char* kProgramNotes =
    "Start N ranks with `mpirun -n N sct_dist ...` or srun; help, version, inspect and report\n"
    "start no MPI. `sct_dist COMMAND --help` shows a command's options.\n"
    "exit codes: 0 ok, 1 failure, 2 bad input (recipe, arguments, files), 3 preempted";

// The CLI description of the table, bound to `line`.
cli::Program make_program(CommandLine& line) {
  cli::Program program;
  program.name = "sct_dist";
  program.description = "sct_dist: distributed Salient Channel Tuning of Vision Transformers";
  program.notes = kProgramNotes;
  program.define = [&line](cli::Options& o) { define_global(o, line.global); };
  program.commands = cli::bind_commands(commands(), line);
  return program;
}

int help_command(Env& env, const CommandLine& line) {
  (void)env;
  CommandLine fresh;  // the defaults, whatever this parse has filled
  fmt::print("{}", cli::help_for(make_program(fresh), line.help.command));
  return kExitOk;
}

}  // namespace

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"run", "train every task of a recipe or sweep (--dry-run: validate and print the plan)", kRunNotes, true,
       define_run, run_command},
      {"saliency", "select the salient channels of a task (CAIS) and write them as JSON", "", true, define_saliency,
       saliency_command},
      {"forward", "run a checkpoint on pre-normalised float32 images (N, 3, S, S); writes logits or CLS features",
       "", true, define_forward, forward_command},
      {"eval", "accuracy of a trained adapter on any split of a task, as exact counts", kEvalNotes, true, define_eval,
       eval_command},
      {"predict", "top-k predictions of a trained adapter for a task file or a directory of images (CSV)",
       kPredictNotes, true, define_predict, predict_command},
      {"merge", "fold a trained adapter into its backbone and write a plain ViT checkpoint", kMergeNotes, true,
       define_merge, merge_command},
      {"inspect", "print a checkpoint's inferred ViT architecture, parameter count and tensors", "", false,
       define_inspect, inspect_command},
      {"report", "tables (md, csv) or a self-contained HTML page with charts of a run's results", "", false,
       define_report, report_command},
      {"help", "this help, or a command's (`sct_dist help run`)", "", false, define_help, help_command},
      {"version", "version, git revision, LibTorch, BLAS, MPI and NCCL facts (same as --version)", "", false,
       nullptr, version_command},
  };
  return table;
}

ParsedCommandLine parse_command_line(const std::vector<std::string>& args) {
  return cli::parse_table(make_program, commands(), args);
}

std::string help_text(const Command* command) { return cli::table_help(make_program, commands(), command); }

}  // namespace sct::app
