// sct_dist's command table parsed in-process: options and their defaults, global options on
// either side of the command, --help, and the one-line wording of each kind of misuse. None of
// this starts MPI; run_agreed is checked on the size-1 communicator.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "framework/app/command.h"
#include "framework/app/guard.h"
#include "framework/core/error.h"
#include "framework/dist/communicator.h"
#include "tests/app/cli_checks.h"

namespace sct::app {
namespace {

using Kind = cli::Parsed::Kind;

ParsedCommandLine parse(const std::vector<std::string>& args) { return parse_command_line(args); }

const Command& command(const std::string& name) {
  for (const auto& c : commands())
    if (name == c.name) return c;
  throw std::runtime_error("no command " + name);
}

TEST(CommandTable, ListsEveryCommandOnceWithItsWorldNeeds) {
  std::set<std::string> names;
  for (const auto& c : commands()) {
    EXPECT_TRUE(names.insert(c.name).second) << c.name;
    EXPECT_NE(c.run, nullptr) << c.name;
  }
  EXPECT_EQ(names, (std::set<std::string>{"run", "saliency", "forward", "eval", "predict", "merge", "inspect", "report",
                                          "help", "version"}));
  for (const char* alone : {"help", "version", "inspect", "report"}) EXPECT_FALSE(command(alone).needs_world) << alone;
  for (const char* world : {"run", "saliency", "forward", "eval", "predict", "merge"}) EXPECT_TRUE(command(world).needs_world) << world;
}

TEST(ReuseOptions, EvalPredictMergeReachTheirFields) {
  const auto e = parse({"eval", "runs/x/units/u", "--split", "test", "--split=train", "--batch", "8"});
  ASSERT_EQ(e.kind, Kind::kRun) << e.text;
  EXPECT_EQ(e.line.eval.target, "runs/x/units/u");
  EXPECT_EQ(e.line.eval.splits, (std::vector<std::string>{"test", "train"}));
  EXPECT_EQ(e.line.eval.batch, 8);
  EXPECT_TRUE(e.line.eval.adapter.empty());
  const auto p = parse({"predict", "--adapter", "a.safetensors", "--input", "imgs", "--output", "p.csv", "--top-k", "3"});
  ASSERT_EQ(p.kind, Kind::kRun) << p.text;
  EXPECT_EQ(p.line.predict.top_k, 3);
  EXPECT_EQ(p.line.predict.input, "imgs");
  EXPECT_FALSE(p.line.predict.all_classes);
  EXPECT_TRUE(parse({"predict", "--adapter", "a", "--input", "t.h5", "--output", "p.csv", "--all-classes"})
                  .line.predict.all_classes);
  EXPECT_EQ(parse({"predict", "--adapter", "a.safetensors", "--output", "p.csv"}).kind, Kind::kError);
  EXPECT_EQ(parse({"merge", "--adapter", "a.safetensors"}).kind, Kind::kError);  // --output is required
}

TEST(RunOptions, EveryOptionReachesItsField) {
  const auto p = parse({"run", "r.toml", "--set", "train.lr=0.5", "--set=seed=2", "--task", "dtd", "--task=eurosat",
                        "--dry-run", "--out", "runs/x", "--force", "--stop-after-steps", "4"});
  ASSERT_EQ(p.kind, Kind::kRun) << p.text;
  ASSERT_EQ(p.command, &command("run"));
  const RunOptions& run = p.line.run;
  EXPECT_EQ(run.recipe, "r.toml");
  EXPECT_EQ(run.sets, (std::vector<std::string>{"train.lr=0.5", "seed=2"}));
  EXPECT_EQ(run.tasks, (std::vector<std::string>{"dtd", "eurosat"}));
  EXPECT_TRUE(run.dry_run);
  EXPECT_TRUE(run.force);
  EXPECT_EQ(run.out, "runs/x");
  EXPECT_EQ(run.stop_after_steps, 4);
}

TEST(RunOptions, AbsentOptionsKeepTheirDefaults) {
  const auto p = parse({"run", "r.toml"});
  ASSERT_EQ(p.kind, Kind::kRun) << p.text;
  const RunOptions& run = p.line.run;
  EXPECT_TRUE(run.sets.empty() && run.tasks.empty() && run.out.empty());
  EXPECT_FALSE(run.dry_run || run.force);
  EXPECT_EQ(run.stop_after_steps, -1);
  EXPECT_FALSE(p.line.global.verbose);
  EXPECT_EQ(p.line.global.threads, 0);
}

TEST(RunOptions, ARepeatedOptionTakesOneValueEachTime) {
  // "--set a=1 RECIPE": the recipe is not a second value of --set.
  const auto p = parse({"run", "--set", "a=1", "r.toml"});
  ASSERT_EQ(p.kind, Kind::kRun) << p.text;
  EXPECT_EQ(p.line.run.recipe, "r.toml");
  EXPECT_EQ(p.line.run.sets, std::vector<std::string>{"a=1"});
}

TEST(GlobalOptions, GoBeforeOrAfterTheCommand) {
  for (const auto& args : std::vector<std::vector<std::string>>{{"--threads", "3", "-v", "run", "r.toml"},
                                                                {"run", "r.toml", "--threads=3", "--verbose"},
                                                                {"--verbose", "run", "--threads", "3", "r.toml"}}) {
    const auto p = parse(args);
    ASSERT_EQ(p.kind, Kind::kRun) << p.text;
    EXPECT_EQ(p.line.global.threads, 3);
    EXPECT_TRUE(p.line.global.verbose);
    EXPECT_EQ(p.line.run.recipe, "r.toml");
  }
}

TEST(OtherCommands, OptionsAndDefaults) {
  auto p = parse({"forward", "--checkpoint", "c.npz", "--input", "in.npy", "--output", "out.npy"});
  ASSERT_EQ(p.kind, Kind::kRun) << p.text;
  EXPECT_EQ(p.line.forward.checkpoint, "c.npz");
  EXPECT_EQ(p.line.forward.what, "logits");
  EXPECT_EQ(p.line.forward.batch, 32);
  p = parse({"forward", "--checkpoint=c.npz", "--input", "i", "--output", "o", "--what", "features", "--batch", "5"});
  ASSERT_EQ(p.kind, Kind::kRun) << p.text;
  EXPECT_EQ(p.line.forward.what, "features");
  EXPECT_EQ(p.line.forward.batch, 5);

  p = parse({"saliency", "r.toml", "--output", "ch.json", "--task", "dtd", "--set", "a=1", "--float64"});
  ASSERT_EQ(p.kind, Kind::kRun) << p.text;
  EXPECT_EQ(p.line.saliency.recipe, "r.toml");
  EXPECT_EQ(p.line.saliency.output, "ch.json");
  EXPECT_EQ(p.line.saliency.task, "dtd");
  EXPECT_TRUE(p.line.saliency.float64);

  p = parse({"report", "runs/x", "--format=html", "--strict"});
  ASSERT_EQ(p.kind, Kind::kRun) << p.text;
  EXPECT_EQ(p.line.report.run_dir, "runs/x");
  EXPECT_EQ(p.line.report.format, "html");
  EXPECT_TRUE(p.line.report.strict);
  EXPECT_EQ(parse({"report", "runs/x"}).line.report.format, "md");

  p = parse({"inspect", "c.safetensors"});
  ASSERT_EQ(p.kind, Kind::kRun) << p.text;
  EXPECT_EQ(p.line.inspect.checkpoint, "c.safetensors");
  EXPECT_EQ(parse({"help", "run"}).line.help.command, "run");
}

TEST(NoCommand, IsNotAnErrorSoMainCanShowHelpOrVersion) {
  auto p = parse({});
  EXPECT_EQ(p.kind, Kind::kRun);
  EXPECT_EQ(p.command, nullptr);
  p = parse({"--version"});
  EXPECT_EQ(p.kind, Kind::kRun);
  EXPECT_TRUE(p.line.global.version);
}

// Each kind of misuse: one line, naming the command and the option.
TEST(Misuse, IsOneLineNamingTheCommandAndTheOption) {
  const sct::testing::Misuse cases = {
      {{"rnu"}, "unknown command 'rnu' (did you mean 'run'?); see sct_dist --help"},
      {{"frobnicate"}, "unknown command 'frobnicate'; see sct_dist --help"},
      {{"run", "r.toml", "--dryrun"}, "run: unknown option '--dryrun' (see sct_dist run --help)"},
      {{"--dryrun", "run", "r.toml"}, "run: unknown option '--dryrun' (see sct_dist run --help)"},
      {{"--bogus"}, "unknown option '--bogus' (see sct_dist --help)"},
      {{"run"}, "run: RECIPE is required (see sct_dist run --help)"},
      {{"run", "a.toml", "b.toml"}, "run: unexpected argument 'b.toml' (see sct_dist run --help)"},
      {{"run", "r.toml", "--out"}, "run: option --out needs a value (see sct_dist run --help)"},
      {{"run", "r.toml", "--out", "a", "--out", "b"}, "run: option --out given 2 times (see sct_dist run --help)"},
      {{"run", "r.toml", "--stop-after-steps", "x"},
       "run: --stop-after-steps: expected a positive integer, found 'x' (see sct_dist run --help)"},
      {{"run", "r.toml", "--stop-after-steps", "0"},
       "run: --stop-after-steps: expected a positive integer, found '0' (see sct_dist run --help)"},
      {{"run", "r.toml", "--threads", "0"}, "--threads: expected an integer in [1, 4096], found '0' (see sct_dist --help)"},
      {{"--threads", "2x", "run", "r.toml"},
       "--threads: expected an integer in [1, 4096], found '2x' (see sct_dist --help)"},
      {{"forward", "--input", "i", "--output", "o"}, "forward: --checkpoint is required (see sct_dist forward --help)"},
      {{"forward", "--checkpoint", "c", "--input", "i", "--output", "o", "--what", "logit"},
       "forward: --what: expected logits or features, found 'logit' (see sct_dist forward --help)"},
      {{"forward", "--checkpoint", "c", "--input", "i", "--output", "o", "--batch", "-1"},
       "forward: --batch: expected a positive integer, found '-1' (see sct_dist forward --help)"},
      {{"saliency", "r.toml"}, "saliency: --output is required (see sct_dist saliency --help)"},
      {{"report", "runs/x", "--strict", "extra"}, "report: unexpected argument 'extra' (see sct_dist report --help)"},
  };
  sct::testing::expect_errors(cases, parse);
}

TEST(Help, AnywhereOnTheLineShowsTheCommandsHelp) {
  for (const auto& args : std::vector<std::vector<std::string>>{{"run", "--help"}, {"run", "r.toml", "-h"}}) {
    const auto p = parse(args);
    ASSERT_EQ(p.kind, Kind::kHelp);
    EXPECT_NE(p.text.find("usage: sct_dist run [OPTIONS] RECIPE"), std::string::npos) << p.text;
    EXPECT_NE(p.text.find("Re-running the same command resumes"), std::string::npos) << p.text;
  }
  const auto p = parse({"--help"});
  ASSERT_EQ(p.kind, Kind::kHelp);
  EXPECT_EQ(p.text, help_text());
  // A required option missing does not stop --help.
  EXPECT_EQ(parse({"forward", "--help"}).kind, Kind::kHelp);
}

TEST(Help, ListsEveryCommandAndEveryOptionWithItsDefault) {
  sct::testing::expect_table_help(commands(), [](const Command* c) { return help_text(c); });
  const std::string top = help_text();
  EXPECT_EQ(sct::testing::option_entries(top).size(), 3u) << top;  // -v, --threads, --version
  EXPECT_EQ(sct::testing::option_entries(help_text(&command("run"))).size(), 6u);
  const std::string forward = help_text(&command("forward"));
  EXPECT_NE(forward.find("images per forward pass (default: 32)"), std::string::npos) << forward;
  EXPECT_NE(forward.find("(default: logits)"), std::string::npos) << forward;
  EXPECT_NE(help_text(&command("run")).find("run directory (default: <out>/<name> from the recipe)"),
            std::string::npos);
  EXPECT_NE(top.find("intra-op threads per rank (default: the recipe's `threads`"), std::string::npos) << top;
}

TEST(Help, ShowsDefaultsNotValuesAParseFilledIn) {
  const auto p = parse({"forward", "--checkpoint", "c", "--input", "i", "--output", "o", "--batch", "7"});
  ASSERT_EQ(p.line.forward.batch, 7);
  EXPECT_NE(help_text(&command("forward")).find("(default: 32)"), std::string::npos);
}

TEST(RunAgreed, ReportsOnceAndThrowsTheAgreedExitCode) {
  auto comm = dist::make_local_communicator();
  EXPECT_NO_THROW(run_agreed(*comm, [] {}));
  ::testing::internal::CaptureStderr();
  try {
    run_agreed(*comm, [] { throw InputError("r.toml:3: unknown key 'x'"); });
    ADD_FAILURE() << "no ReportedError";
  } catch (const ReportedError& e) {
    EXPECT_EQ(e.exit_code(), kExitBadInput);
  }
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "sct_dist: error: r.toml:3: unknown key 'x'\n");
  EXPECT_THROW(run_agreed(*comm, [] { throw std::runtime_error("boom"); }), ReportedError);
}

}  // namespace
}  // namespace sct::app
