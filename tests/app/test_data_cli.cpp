// sct_data's command table parsed in-process, and the shared integer syntax: options reach
// their fields, defaults come from the option structs, misuse is one line naming the option.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "datasets/sct_data/args.h"
#include "framework/core/error.h"
#include "tests/app/cli_checks.h"

namespace sct::tools {
namespace {

using Kind = cli::Parsed::Kind;

TEST(DataCommandLine, SynthOptionsReachTheirFields) {
  const auto p = parse_command_line({"synth", "--output", "s.h5", "--classes", "3", "--size", "16", "--split",
                                     "train=20", "--split=test=5", "--seed", "2", "--threads", "1"});
  ASSERT_EQ(p.kind, Kind::kRun) << p.text;
  ASSERT_NE(p.command, nullptr);
  EXPECT_STREQ(p.command->name, "synth");
  const SynthOptions& synth = p.line.synth;
  EXPECT_EQ(synth.output, "s.h5");
  EXPECT_EQ(synth.classes, 3);
  EXPECT_EQ(synth.size, 16);
  EXPECT_EQ(synth.splits, (std::vector<std::string>{"train=20", "test=5"}));
  EXPECT_EQ(synth.seed, 2u);
  EXPECT_EQ(synth.threads, 1);
  EXPECT_EQ(synth.task, "synth");
  EXPECT_EQ(synth.group, "Synthetic");
}

TEST(DataCommandLine, DefaultsComeFromTheOptionStructs) {
  auto p = parse_command_line({"convert-idx", "--task", "t", "--classes", "2", "--output", "o.h5", "--split", "a=x,y"});
  ASSERT_EQ(p.kind, Kind::kRun) << p.text;
  EXPECT_EQ(p.line.convert_idx.file.size, 0);  // the images' own size
  EXPECT_EQ(p.line.convert_idx.file.compress, 0);
  p = parse_command_line({"convert-vtab", "--root", "r", "--task", "dtd", "--output", "o.h5"});
  ASSERT_EQ(p.kind, Kind::kRun) << p.text;
  EXPECT_EQ(p.line.convert_vtab.file.size, 224);
  EXPECT_EQ(p.line.convert_vtab.file.classes, 0);  // the VTAB-1k table's
  p = parse_command_line({"fmnist-bench", "--output-dir", "d", "--train", "100", "--force"});
  ASSERT_EQ(p.kind, Kind::kRun) << p.text;
  const data::fmnist::BenchOptions defaults;
  EXPECT_EQ(p.line.fmnist_bench.bench.train, 100);
  EXPECT_EQ(p.line.fmnist_bench.bench.upstream_per_class, defaults.upstream_per_class);
  EXPECT_EQ(p.line.fmnist_bench.bench.root, defaults.root);
  EXPECT_TRUE(p.line.fmnist_bench.bench.force);
  p = parse_command_line({"inspect", "f.h5", "--split", "train"});
  ASSERT_EQ(p.kind, Kind::kRun) << p.text;
  EXPECT_EQ(p.line.inspect.file, "f.h5");
  EXPECT_EQ(p.line.inspect.split, "train");
}

TEST(DataCommandLine, MisuseIsOneLineNamingTheOption) {
  const sct::testing::Misuse cases = {
      {{"synth", "--output", "x.h5", "--classes", "3", "--split", "a=1"},
       "synth: --size is required (see sct_data synth --help)"},
      {{"inspekt", "x"}, "unknown command 'inspekt' (did you mean 'inspect'?); see sct_data --help"},
      {{"validate"}, "validate: FILE.h5 is required (see sct_data validate --help)"},
      {{"validate", "a.h5", "--splt", "x"}, "validate: unknown option '--splt' (see sct_data validate --help)"},
      {{"convert-idx", "--task", "t", "--classes", "2", "--output", "o.h5", "--split", "a=x,y", "--compress", "10"},
       "convert-idx: --compress: expected an integer in [0, 9], found '10' (see sct_data convert-idx --help)"},
      {{"convert-list", "--task", "t", "--classes", "2", "--output", "o.h5"},
       "convert-list: --split is required (see sct_data convert-list --help)"},
      {{"fmnist-bench", "--output-dir", "d", "--seed", "-1"},
       "fmnist-bench: --seed: expected a non-negative integer, found '-1' (see sct_data fmnist-bench --help)"},
  };
  sct::testing::expect_errors(cases, [](const std::vector<std::string>& args) { return parse_command_line(args); });
}

TEST(DataCommandLine, HelpListsEveryOptionWithItsDefault) {
  sct::testing::expect_table_help(subcommands(), [](const Subcommand* c) { return help_text(c); });
  const std::string fmnist = help_text(&subcommands()[3]);
  EXPECT_NE(fmnist.find("(default: 5500)"), std::string::npos) << fmnist;
  EXPECT_NE(fmnist.find("(default: /usr/share/datasets/fashion-mnist)"), std::string::npos) << fmnist;
  EXPECT_EQ(parse_command_line({"help"}).kind, Kind::kRun);
}

TEST(ParseInteger, IsDecimalAndChecksTheRange) {
  EXPECT_EQ(cli::parse_integer("010", "x", 0, 100), 10);  // not octal
  EXPECT_EQ(cli::parse_integer("-3", "x", -5, 5), -3);
  try {
    cli::parse_integer("7", "range end", 0, 6);
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "range end: expected an integer in [0, 6], found '7'");
  }
  EXPECT_THROW(cli::parse_integer("", "x", 0, 6), InputError);
  EXPECT_THROW(cli::parse_integer("3k", "x", 0, 6), InputError);
  EXPECT_THROW(cli::parse_integer("99999999999999999999", "x", 0, INT64_MAX), InputError);
}

}  // namespace
}  // namespace sct::tools
