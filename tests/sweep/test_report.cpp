// Unit tests of the report library against hand computations: statistics, result parsing and
// its error messages, run loading with broken units, labels, published means and the charts.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>

#include "framework/core/error.h"
#include "framework/report/reference_rows.h"
#include "framework/report/report.h"
#include "framework/report/summary.h"
#include "framework/report/svg.h"
#include "framework/report/table.h"

namespace fs = std::filesystem;
using namespace sct::report;
using sct::kVtabTasks;
using sct::vtab_group_size;
using sct::vtab_tasks;

namespace {

std::string result_json(const std::string& task, const std::string& group, const std::string& method, int seed,
                        double best, double last, const std::string& extra = "") {
  return "{\"schema\": 1, \"unit\": \"" + task + "__" + method + "__s" + std::to_string(seed) + "\", \"task\": \"" +
         task + "\", \"group\": \"" + group + "\", \"method\": \"" + method + "\", \"seed\": " + std::to_string(seed) +
         ", \"variant\": \"\", \"accuracy\": {\"best\": " + std::to_string(best) + ", \"best_epoch\": 3, \"last\": " +
         std::to_string(last) + "}, \"params\": {\"trainable_without_head\": 1000}, \"timings\": {\"total_s\": 10.0}" +
         extra + "}";
}

// accuracy.splits of a unit evaluated on two targets, v2 and a (the headline), shifted by `shift`.
std::string fmt_splits(double shift) {
  const auto n = [&](double v) { return std::to_string(v + shift); };
  return ", \"eval_split\": \"v2\", \"accuracy\": {\"best\": " + n(40) + ", \"best_epoch\": 2, \"last\": " + n(39) +
         ", \"splits\": [{\"split\": \"v2\", \"best\": " + n(40) + ", \"best_epoch\": 2, \"last\": " + n(39) +
         "}, {\"split\": \"a\", \"best\": " + n(21) + ", \"best_epoch\": 1, \"last\": " + n(20) + "}]}";
}

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("sct_report_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                                        "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path);
    fs::create_directories(path / "units");
  }
  ~TempDir() { fs::remove_all(path); }
  void unit(const std::string& name, const std::string& text) { write(path / "units" / name / "result.json", text); }
};

std::string error_of(const std::string& text) {
  try {
    parse_result(text, "x/result.json");
  } catch (const sct::InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(ReportStat, MeanAndSampleStd) {
  const Stat s = stat_of({70, 72, 77});
  EXPECT_DOUBLE_EQ(s.mean, 73.0);
  EXPECT_NEAR(s.std, std::sqrt(13.0), 1e-12);  // ((-3)^2 + (-1)^2 + 4^2) / (3 - 1) = 13
  EXPECT_EQ(s.n, 3);
  EXPECT_TRUE(std::isnan(stat_of({5}).std));
  EXPECT_TRUE(std::isnan(stat_of({}).mean));
}

TEST(ReportParse, ReadsFieldsAndCurve) {
  const auto u = parse_result(result_json("dtd", "Natural", "sct", 1, 72.5, 71.25,
                                          ", \"k\": 8, \"curve\": [{\"epoch\": 0, \"loss\": 2.0, \"eval_acc\": null}, "
                                          "{\"epoch\": 1, \"loss\": 1.5, \"eval_acc\": 40.0}], "
                                          "\"channels\": [[1, 3], [0, 2]], \"channel_scores\": [[0, 1, 0, 2], [3, 0, 4, 0]]"),
                              "f.json");
  EXPECT_EQ(u.task, "dtd");
  EXPECT_EQ(u.seed, 1);
  EXPECT_EQ(u.k, 8);
  EXPECT_DOUBLE_EQ(u.best, 72.5);
  EXPECT_DOUBLE_EQ(u.last, 71.25);
  EXPECT_EQ(u.trainable_without_head, 1000);
  ASSERT_EQ(u.curve.size(), 2u);
  EXPECT_TRUE(std::isnan(u.curve[0].eval_acc));
  EXPECT_DOUBLE_EQ(u.curve[1].eval_acc, 40.0);
  EXPECT_EQ(u.channels[1], (std::vector<int>{0, 2}));
  EXPECT_DOUBLE_EQ(u.channel_scores[1][2], 4.0);
  EXPECT_EQ(u.config(), "sct");
}

TEST(ReportParse, RequiredFieldErrorsNameFileAndKey) {
  const std::string good = result_json("dtd", "Natural", "sct", 0, 70, 69);
  std::string no_best = good;
  no_best.replace(no_best.find("\"best\": "), 8, "\"bets\": ");
  EXPECT_NE(error_of(no_best).find("x/result.json: key 'accuracy.best': expected a number, found nothing"),
            std::string::npos)
      << error_of(no_best);
  std::string bad_seed = good;
  bad_seed.replace(bad_seed.find("\"seed\": 0"), 9, "\"seed\": \"zero\"");
  EXPECT_NE(error_of(bad_seed).find("key 'seed': expected an integer, found string \"zero\""), std::string::npos);
  EXPECT_NE(error_of(result_json("dtd", "", "sct", 0, 150, 69)).find("percent (0-100)"), std::string::npos);
  EXPECT_NE(error_of("{\"schema\": 2}").find("key 'schema': expected 1, found 2"), std::string::npos);
  EXPECT_NE(error_of("{\"schema\": 1, \"task\"").find("not valid JSON"), std::string::npos);
  EXPECT_NE(error_of("  \n").find("empty file"), std::string::npos);
}

TEST(ReportParse, OptionalFaultsAreNotesNotFailures) {
  std::vector<std::string> notes;
  const auto u = parse_result(
      result_json("dtd", "", "sct", 0, 70, 69,
                  ", \"curve\": [{\"epoch\": 0, \"loss\": 1}, {\"epoch\": 1, \"loss\": \"nan\"}], "
                  "\"channels\": [[5]], \"channel_scores\": [[1, 2]]"),
      "f.json", &notes);
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_NE(notes[0].find("key 'curve[1].loss': expected a number"), std::string::npos) << notes[0];
  EXPECT_NE(notes[1].find("channel_scores[0]': has 2 scores but 'channels' selects channel 5"), std::string::npos)
      << notes[1];
  EXPECT_TRUE(u.curve.empty());
  EXPECT_EQ(u.channels.size(), 1u);
  EXPECT_TRUE(u.channel_scores.empty());
  EXPECT_DOUBLE_EQ(u.best, 70);
}

TEST(ReportLoad, BrokenUnitsAreNamedAndTheRestLoads) {
  TempDir d;
  d.unit("dtd__sct__s0", result_json("dtd", "Natural", "sct", 0, 70, 69));
  d.unit("dtd__sct__s1", result_json("dtd", "Natural", "sct", 1, 74, 72));
  d.unit("svhn__sct__s0", "{\"schema\": 1, \"task\": ");  // truncated
  write(d.path / "units/svhn__sct__s1/metrics.jsonl", "{\"epoch\": 0}\n{\"epoch\": 1}\n");
  write(d.path / "units/eurosat__sct__s0/error.json", "{\"schema\": 1, \"error\": \"diverged\"}");
  d.unit("copy_of_dtd", result_json("dtd", "Natural", "sct", 1, 10, 10));
  const sct::report::Run run = load_run(d.path.string());
  EXPECT_EQ(run.unit_dirs, 6);
  ASSERT_EQ(run.units.size(), 2u);
  ASSERT_EQ(run.failed.size(), 1u);
  EXPECT_EQ(run.failed[0].error, "diverged");
  ASSERT_EQ(run.problems.size(), 4u);
  std::map<std::string, std::string> what;
  for (const auto& p : run.problems) what[p.unit] += p.file + ": " + p.what + "\n";
  EXPECT_NE(what["svhn__sct__s0"].find("svhn__sct__s0/result.json: not valid JSON"), std::string::npos);
  EXPECT_NE(what["svhn__sct__s1"].find("svhn__sct__s1/result.json: missing: the unit is unfinished"), std::string::npos);
  EXPECT_NE(what["svhn__sct__s1"].find("has 2 epochs"), std::string::npos);
  EXPECT_NE(what["copy_of_dtd"].find("same task, method, variant and seed as unit 'dtd__sct__s1'"), std::string::npos);
  EXPECT_NE(what["copy_of_dtd"].find("key 'unit' is 'dtd__sct__s1' but the folder is 'copy_of_dtd'"),
            std::string::npos);
  EXPECT_DOUBLE_EQ(run.units[1].best, 74);  // the folder named like its unit id wins
  // The rest still prints, with the hand-computed mean and std of 70 and 74.
  const std::string md = render_markdown(run);
  EXPECT_NE(md.find("72.00 ± 2.83"), std::string::npos) << md;
  EXPECT_NE(md.find("not valid JSON"), std::string::npos);
  EXPECT_NE(md.find("unit failed: diverged"), std::string::npos);
  EXPECT_THROW(load_run((d.path / "nothing").string()), sct::InputError);
  EXPECT_THROW(load_run((d.path / "units").string()), sct::InputError);  // no units/ inside
}

TEST(ReportSummary, LabelsAndPublishedMeansOverTheSameTasks) {
  sct::report::Run run;
  auto add = [&](const std::string& task, const std::string& group, int seed, double best) {
    UnitResult u;
    u.task = task, u.group = group, u.method = "sct", u.seed = seed, u.best = best, u.last = best - 1;
    run.units.push_back(u);
  };
  add("svhn", "Natural", 0, 80), add("svhn", "Natural", 1, 84);
  add("dtd", "Natural", 0, 60), add("dtd", "Natural", 1, 70);
  add("kitti", "Structured", 0, 50), add("kitti", "Structured", 1, 52);
  const Summary s = summarize(run);
  ASSERT_EQ(s.tasks.size(), 3u);
  EXPECT_EQ(s.tasks[0].task, "dtd");  // VTAB order: dtd before svhn
  ASSERT_EQ(s.means.size(), 3u);
  EXPECT_EQ(s.means[0].label, "Natural mean (2 of 7 tasks)");
  EXPECT_EQ(s.means[1].label, "Structured mean (1 of 8 tasks)");
  EXPECT_EQ(s.means[2].label, "Mean (3 of 19 VTAB tasks)");
  // Natural: task means 65 and 82 -> 73.5; per-seed means (70, 77) -> std sqrt(24.5).
  EXPECT_DOUBLE_EQ(s.means[0].best[0].mean, 73.5);
  EXPECT_NEAR(s.means[0].best[0].std, std::sqrt(24.5), 1e-12);
  // SCT (K=96) published: dtd 72.2, svhn 91.2, kitti 80.2.
  EXPECT_NEAR(s.means[0].reference[5], (72.2 + 91.2) / 2, 1e-12);
  EXPECT_NEAR(s.means[2].reference[5], (72.2 + 91.2 + 80.2) / 3, 1e-12);
}

TEST(ReportSummary, AllNineteenTasksGiveThePublishedMeanLabels) {
  sct::report::Run run;
  for (const auto& t : vtab_tasks()) {
    UnitResult u;
    u.task = t.name, u.group = t.group, u.method = "linear", u.best = 50, u.last = 40;
    run.units.push_back(u);
  }
  run.units[0].task = "cifar";  // the alias counts as cifar100
  const Summary s = summarize(run);
  ASSERT_EQ(s.means.size(), 4u);
  EXPECT_EQ(s.means[0].label, "Natural mean (7 tasks)");
  EXPECT_EQ(s.means[1].label, "Specialized mean (4 tasks)");
  EXPECT_EQ(s.means[2].label, "Structured mean (8 tasks)");
  EXPECT_EQ(s.means[3].label, "Mean (19 tasks)");
  EXPECT_DOUBLE_EQ(s.means[3].reference[5], 73.6);  // the published SCT mean
  EXPECT_EQ(s.tasks[0].vtab, 0);
}

TEST(ReportReference, PublishedMeansMatchTheirRows) {
  for (const auto& r : reference_rows()) {
    double sum = 0;
    for (double v : r.accuracy) sum += v;
    // Published to one decimal from unrounded values: NOAH's row averages 73.247 but prints 73.3.
    EXPECT_NEAR(sum / kVtabTasks, r.mean, 0.06) << r.method;
  }
  EXPECT_EQ(vtab_group_size("Natural") + vtab_group_size("Specialized") + vtab_group_size("Structured"), 19);
}

TEST(ReportTable, MarkdownAlignsAndEscapes) {
  Table t;
  t.header = {"task", "acc"};
  t.right = {false, true};
  t.rows = {{"a|b", "1.0 ± 0.5"}, {"c", "10.25"}};
  EXPECT_EQ(to_markdown(t),
            "| task |       acc |\n"
            "| ---- | --------: |\n"
            "| a\\|b | 1.0 ± 0.5 |\n"
            "| c    |     10.25 |\n");
  EXPECT_EQ(html_escape("<a href='x'>&</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;");
  EXPECT_EQ(format_params(111744), "111.7K");
  EXPECT_EQ(format_seconds(245), "4m05s");
}

TEST(ReportSvg, BarChartDrawsOneMarkPerValue) {
  BarChart c{"t", "y", {"a", "b", "c"}, {}};
  c.series.push_back({"s1", "#111111", {10, kNaN, 30}, {}});
  c.series.push_back({"s2", "#222222", {0, 20, 100}, {1, 2, 3}});
  const std::string svg = bar_chart(c);
  const std::regex bar("<rect class=\"mark bar\"[^>]*height=\"([0-9.]+)\"");
  int n = 0;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), bar); it != std::sregex_iterator(); ++it, ++n)
    EXPECT_GT(std::stod((*it)[1]), 0.0);
  EXPECT_EQ(n, 5);
  EXPECT_NE(svg.find("data-marks=\"5\""), std::string::npos);
}

TEST(ReportSvg, HeatMapMergesRunsOfOneColour) {
  HeatMap m;
  m.title = "h";
  m.layers = 2, m.channels = 4;
  m.selected = {{1, 1, 0, 0.5}, {0, 0, 0, 1}};
  const std::string svg = heat_map(m);
  // Colours: full selection (3 cells in two runs) and partial (1 cell): two paths.
  EXPECT_NE(svg.find("data-marks=\"2\""), std::string::npos) << svg;
  const std::regex run("M[0-9.]+ [0-9.]+h([0-9.]+)");
  std::vector<double> widths;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), run); it != std::sregex_iterator(); ++it)
    widths.push_back(std::stod((*it)[1]));
  ASSERT_EQ(widths.size(), 3u);  // layer 0: channels 0-1 merged; channel 3 partial; layer 1: channel 3
  EXPECT_DOUBLE_EQ(widths[0], 2 * widths[1]);
}

TEST(ReportText, SummaryTableHasBestAndLastPerConfiguration) {
  TempDir d;
  d.unit("dtd__sct__s0", result_json("dtd", "Natural", "sct", 0, 70, 69, ", \"eval_split\": \"test\""));
  d.unit("dtd__linear__s0", result_json("dtd", "Natural", "linear", 0, 60.5, 58.25, ", \"eval_split\": \"test\""));
  const std::string text = summary_table(d.path.string());
  EXPECT_NE(text.find("sct best*"), std::string::npos) << text;
  EXPECT_NE(text.find("linear last"), std::string::npos);
  EXPECT_NE(text.find("58.25"), std::string::npos);
  EXPECT_NE(text.find("Natural mean (1 of 7 tasks)"), std::string::npos);
  EXPECT_NE(text.find("best (test-selected)"), std::string::npos);
}

// The labels say what was done: the split reported and the split that chose the epoch.
TEST(ReportLabels, FollowTheSplitsOfTheUnits) {
  auto parsed = [](const std::string& extra) { return parse_result(result_json("dtd", "", "sct", 0, 70, 69, extra), "r"); };
  // Files written before selection was recorded: selected on their own eval split.
  EXPECT_EQ(parsed(", \"eval_split\": \"test\"").best_label(), "best (test-selected)");
  EXPECT_EQ(parsed(", \"eval_split\": \"test\"").last_label(), "last");
  EXPECT_EQ(parsed(", \"eval_split\": \"val200\"").best_label(), "best (val200-selected)");
  EXPECT_EQ(parsed(", \"eval_split\": \"val200\"").last_label(), "last (val200)");
  EXPECT_EQ(parsed("").best_label(), "best");  // the file does not say
  const std::string clean = ", \"eval_split\": \"test\", \"eval_splits\": [\"val200\", \"test\"]";
  const UnitResult u = parse_result(
      "{\"schema\": 1, \"task\": \"dtd\", \"method\": \"sct\", \"seed\": 0, \"eval_split\": \"test\", "
      "\"eval_splits\": [\"val200\", \"test\"], \"accuracy\": {\"best\": 71, \"best_epoch\": 4, \"last\": 72, "
      "\"selected_on\": \"val200\", \"splits\": [{\"split\": \"test\", \"best\": 71, \"best_epoch\": 4, \"last\": 72}]}, "
      "\"params\": {\"trainable_without_head\": 10}, \"timings\": {\"total_s\": 1}}",
      "r");
  EXPECT_EQ(u.selected_on, "val200");
  EXPECT_EQ(u.eval_splits, (std::vector<std::string>{"val200", "test"}));
  ASSERT_EQ(u.splits.size(), 1u);
  EXPECT_EQ(u.splits[0].best_epoch, 4);
  EXPECT_EQ(u.best_label(), "test (val200-selected)");
  // Written and read back, the new keys survive.
  const UnitResult back = parse_result(nlohmann::json(u).dump(), "r");
  EXPECT_EQ(back.selected_on, "val200");
  EXPECT_EQ(back.eval_splits, u.eval_splits);
  ASSERT_EQ(back.splits.size(), 1u);
  EXPECT_DOUBLE_EQ(back.splits[0].last, 72);
}

TEST(ReportLabels, TablesAndNotesUseTheUnitsLabels) {
  TempDir d;
  const std::string clean = ", \"eval_split\": \"test\", \"accuracy\": {\"best\": 70, \"best_epoch\": 3, "
                            "\"last\": 69, \"selected_on\": \"val200\"}";
  // result_json's own accuracy object comes first; the later key wins in nlohmann's parser.
  d.unit("dtd__sct__s0", result_json("dtd", "Natural", "sct", 0, 70, 69, clean));
  d.unit("dtd__linear__s0", result_json("dtd", "Natural", "linear", 0, 60, 58, clean));
  std::string md = render_markdown(load_run(d.path.string()));
  EXPECT_NE(md.find("## Accuracy, test (val200-selected)"), std::string::npos) << md;
  EXPECT_NE(md.find("sct test (val200-selected)"), std::string::npos) << md;
  EXPECT_EQ(md.find("test-selected"), std::string::npos) << md;  // only the published rows would be, and dtd is VTAB
  EXPECT_NE(md.find("the clean protocol"), std::string::npos) << md;
  const std::string csv = render_csv(load_run(d.path.string()));
  EXPECT_NE(csv.find(",test (val200-selected),"), std::string::npos) << csv;

  // One unit of the reference protocol among them: the label says the selections differ.
  d.unit("dtd__full__s0", result_json("dtd", "Natural", "full", 0, 80, 79, ", \"eval_split\": \"test\""));
  md = render_markdown(load_run(d.path.string()));
  EXPECT_NE(md.find("best (mixed: best (test-selected); test (val200-selected))"), std::string::npos) << md;
}

// One training evaluated on several targets: one row per target, with that target's values.
TEST(ReportSummary, AUnitWithSeveralReportedSplitsGivesOneRowPerSplit) {
  TempDir d;
  for (int seed : {0, 1}) {
    const double shift = seed;
    const std::string splits = fmt_splits(shift);
    d.unit("imagenet_seed0__sct__s" + std::to_string(seed),
           result_json("imagenet_seed0", "DG", "sct", seed, 50 + shift, 49 + shift, splits));
  }
  const Summary s = summarize(load_run(d.path.string()));
  ASSERT_EQ(s.tasks.size(), 2u);
  std::map<std::string, const TaskRow*> rows;
  for (const auto& t : s.tasks) rows[t.task] = &t;
  ASSERT_TRUE(rows.count("imagenet_seed0 · v2") && rows.count("imagenet_seed0 · a"));
  EXPECT_EQ(rows["imagenet_seed0 · a"]->group, "DG · a");
  // Mean over the two seeds of each split's own values.
  EXPECT_DOUBLE_EQ(rows["imagenet_seed0 · v2"]->cells[0].best.mean, 40.5);
  EXPECT_DOUBLE_EQ(rows["imagenet_seed0 · a"]->cells[0].last.mean, 20.5);
  EXPECT_EQ(rows["imagenet_seed0 · a"]->cells[0].units[0]->best_label(), "best (a-selected)");
  EXPECT_EQ(s.best_label, "best (each split selected on itself)");
}

TEST(ReportSummary, ASplitScoredOverSomeClassesSaysSoInItsRow) {
  TempDir d;
  std::string splits = fmt_splits(0);
  splits.replace(splits.find("\"last\": 20"), 0, "\"scored_classes\": 200, ");
  d.unit("imagenet_seed0__sct__s0", result_json("imagenet_seed0", "DG", "sct", 0, 50, 49, splits));
  // One reported split scored over some classes: its single row is labelled too.
  const std::string one = ", \"eval_split\": \"r\", \"accuracy\": {\"best\": 30, \"best_epoch\": 1, \"last\": 29, "
                          "\"splits\": [{\"split\": \"r\", \"best\": 30, \"best_epoch\": 1, \"last\": 29, "
                          "\"scored_classes\": 200}]}";
  d.unit("imagenet_r__sct__s0", result_json("imagenet_r", "", "sct", 0, 30, 29, one));
  const auto run = load_run(d.path.string());
  std::map<std::string, const UnitResult*> by_unit;
  for (const auto& u : run.units) by_unit[u.unit] = &u;
  ASSERT_EQ(by_unit.count("imagenet_seed0__sct__s0"), 1u);
  const UnitResult& u = *by_unit["imagenet_seed0__sct__s0"];
  ASSERT_EQ(u.splits.size(), 2u);
  EXPECT_EQ(u.splits[0].scored_classes, 0);  // absent: every class
  EXPECT_EQ(u.splits[1].scored_classes, 200);
  const Summary s = summarize(run);
  std::map<std::string, const TaskRow*> rows;
  for (const auto& t : s.tasks) rows[t.task] = &t;
  ASSERT_TRUE(rows.count("imagenet_seed0 · v2") && rows.count("imagenet_seed0 · a (200 classes)")) << s.tasks[0].task;
  EXPECT_EQ(rows["imagenet_seed0 · a (200 classes)"]->group, "DG · a (200 classes)");
  EXPECT_DOUBLE_EQ(rows["imagenet_seed0 · a (200 classes)"]->cells[0].last.mean, 20);
  ASSERT_TRUE(rows.count("imagenet_r · r (200 classes)"));
  EXPECT_DOUBLE_EQ(rows["imagenet_r · r (200 classes)"]->cells[0].best.mean, 30);
  // Written back: only the scored split carries the key.
  const nlohmann::json j = u;
  EXPECT_FALSE(j["accuracy"]["splits"][0].contains("scored_classes"));
  EXPECT_EQ(j["accuracy"]["splits"][1]["scored_classes"], 200);
}

TEST(ReportParse, ExportedAdapterRoundTripsAndIsOptional) {
  const std::string base = result_json("dtd", "Natural", "sct", 0, 70, 69);
  UnitResult old = parse_result(base, "x/result.json");  // written before the key existed
  EXPECT_EQ(old.exported_adapter, "");
  EXPECT_FALSE(nlohmann::json(old).contains("exported_adapter"));
  nlohmann::json j = nlohmann::json::parse(base);
  j["exported_adapter"] = "adapter.safetensors";
  const UnitResult u = parse_result(j.dump(), "x/result.json");
  EXPECT_EQ(u.exported_adapter, "adapter.safetensors");
  EXPECT_EQ(nlohmann::json(u)["exported_adapter"], "adapter.safetensors");
  j["exported_adapter"] = 3;  // a wrong type is a note, the unit still loads
  std::vector<std::string> notes;
  const UnitResult bad = read_unit_result(j, &notes);
  EXPECT_EQ(bad.exported_adapter, "");
  ASSERT_FALSE(notes.empty());
  EXPECT_NE(notes[0].find("exported_adapter"), std::string::npos) << notes[0];
}
