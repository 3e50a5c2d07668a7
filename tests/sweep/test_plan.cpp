// Unit tests of sweep planning on small recipes in a temp dir: unit ids, the methods x seeds x
// variants matrix, task files merged over the sweep recipe, --task filters, the cost estimate,
// the schedule order, and the errors that stop a plan.
#include <gtest/gtest.h>

#include <algorithm>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "framework/core/error.h"
#include "framework/data/convert.h"
#include "framework/data/synth.h"
#include "framework/data/task_writer.h"
#include "framework/sweep/plan.h"
#include "tests/data/temp_dir.h"

namespace fs = std::filesystem;
using sct::InputError;
using sct::Recipe;
using sct::sweep::PlanOptions;
using sct::sweep::Unit;

namespace {

// A valid recipe: `task` and `train` lines go into their sections, `rest` (e.g. a [sweep]) last.
std::string recipe_text(const std::string& task, const std::string& train, const std::string& rest = "") {
  return "seed = 3\n[model]\narch = \"custom\"\ndim = 32\ndepth = 2\nheads = 2\npatch = 4\nimage_size = 16\n"
         "[task]\ntrain_split = \"train\"\neval_split = \"test\"\n" +
         task + "[train]\nepochs = 4\nbatch_size = 8\nlr = 0.01\n" + train + rest;
}

class Plan : public ::testing::Test {
 protected:
  sct::test::TempDir dir;

  std::string write(const std::string& name, const std::string& text) {
    const fs::path path = dir.path() / name;
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
    return path.string();
  }

  std::vector<Unit> plan(const std::string& recipe, const PlanOptions& options = {}) {
    const std::string path = dir.file(recipe);
    return sct::sweep::plan_units(path, sct::load_recipe(path, options.sets), options);
  }

  // A synthetic task file of 3 classes with `train` and `test` images of 16x16.
  std::string task_file(const std::string& name, int64_t train, int64_t test) {
    sct::data::TaskMetadata meta;
    meta.task = name;
    meta.num_classes = 3;
    meta.height = meta.width = 16;
    const std::string path = dir.file(name + ".h5");
    sct::data::TaskWriter writer(path, meta);
    sct::data::write_split(writer, sct::data::synth_split_source("train", train, 3, 16, 16, 1), 16, 16, 1);
    sct::data::write_split(writer, sct::data::synth_split_source("test", test, 3, 16, 16, 2), 16, 16, 1);
    writer.commit();
    return path;
  }
};

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no InputError)";
}

}  // namespace

TEST_F(Plan, SingleTaskRecipeIsOneUnitNamedAfterTheFile) {
  write("dtd.toml", recipe_text("", "", "[peft]\nmethod = \"linear\"\n"));
  const auto units = plan("dtd.toml");
  ASSERT_EQ(units.size(), 1u);
  const Unit& u = units[0];
  EXPECT_EQ(u.id, "dtd__linear__s3");
  EXPECT_EQ(u.task, "dtd");
  EXPECT_EQ(u.method, "linear");
  EXPECT_EQ(u.seed, 3);
  EXPECT_EQ(u.variant, "");
  EXPECT_EQ(u.fragment, "");
  EXPECT_EQ(u.hash, sct::training_hash(u.recipe));
  // No data file: no estimate, and the reason the unit will fail with.
  EXPECT_EQ(u.cost, 0);
  EXPECT_EQ(u.data_classes, 0);
  EXPECT_FALSE(u.cost_note.empty());
}

TEST_F(Plan, UnitIdsReplaceCharactersThatCannotNameAFolder) {
  write("r.toml", recipe_text("name = \"my task/v2.1\"\n", ""));
  const auto units = plan("r.toml");
  ASSERT_EQ(units.size(), 1u);
  EXPECT_EQ(units[0].id, "my_task_v2.1__sct__s3");
  EXPECT_EQ(units[0].task, "my task/v2.1");  // the task keeps its name
}

TEST_F(Plan, MethodsSeedsAndVariantsMultiply) {
  write("r.toml", recipe_text("", "",
                              "[sweep]\nmethods = [\"sct\", \"linear\"]\nseeds = [0, 1]\n"
                              "[sweep.variants]\nbig = [\"train.lr=0.1\"]\n"
                              "small = [\"train.lr=0.001\", \"peft.k=4\"]\n"));
  const auto units = plan("r.toml");
  ASSERT_EQ(units.size(), 8u);
  // Tasks, then methods, then seeds, then variants (in name order).
  EXPECT_EQ(units[0].id, "r__sct__s0__big");
  EXPECT_EQ(units[1].id, "r__sct__s0__small");
  EXPECT_EQ(units[2].id, "r__sct__s1__big");
  EXPECT_EQ(units[7].id, "r__linear__s1__small");
  std::set<std::string> ids;
  for (const Unit& u : units) {
    ids.insert(u.id);
    EXPECT_EQ(u.recipe.peft.method, u.method) << u.id;
    EXPECT_EQ(u.recipe.seed, u.seed) << u.id;
    EXPECT_DOUBLE_EQ(u.recipe.train.lr, u.variant == "big" ? 0.1 : 0.001) << u.id;
    EXPECT_EQ(u.recipe.peft.k, u.variant == "small" ? 4 : Recipe().peft.k) << u.id;
    EXPECT_EQ(u.hash, sct::training_hash(u.recipe)) << u.id;
  }
  EXPECT_EQ(ids.size(), 8u);
}

TEST_F(Plan, TaskFilesMergeOverTheSweepRecipe) {
  write("tasks/a.toml", "seed = 9\n[train]\nlr = 0.05\n");
  write("tasks/b.toml", "[task]\nname = \"bee\"\n[train]\nepochs = 2\n");
  write("r.toml", recipe_text("", "",
                              "[sweep]\ntasks = [\"tasks/a.toml\", \"tasks/b.toml\"]\n"
                              "set = [\"train.batch_size=4\"]\n"));
  const auto units = plan("r.toml");
  ASSERT_EQ(units.size(), 2u);
  const Unit& a = units[0];
  const Unit& b = units[1];
  EXPECT_EQ(a.id, "a__sct__s9");  // the task name is the file's stem; without sweep.seeds, its own seed
  EXPECT_EQ(a.fragment, (dir.path() / "tasks/a.toml").lexically_normal().string());
  EXPECT_DOUBLE_EQ(a.recipe.train.lr, 0.05);
  EXPECT_EQ(a.recipe.train.epochs, 4);
  EXPECT_EQ(b.id, "bee__sct__s3");
  EXPECT_DOUBLE_EQ(b.recipe.train.lr, 0.01);
  EXPECT_EQ(b.recipe.train.epochs, 2);
  for (const Unit& u : units) EXPECT_EQ(u.recipe.train.batch_size, 4) << u.id;  // sweep.set
  EXPECT_NE(a.hash, b.hash);

  // --set comes after the task file.
  PlanOptions options;
  options.sets = {"train.lr=0.2"};
  for (const Unit& u : plan("r.toml", options)) EXPECT_DOUBLE_EQ(u.recipe.train.lr, 0.2) << u.id;
}

TEST_F(Plan, TaskFilterKeepsOnlyTheNamedTasks) {
  write("tasks/a.toml", "");
  write("tasks/b.toml", "[task]\nname = \"bee\"\n");
  const std::string recipe =
      write("r.toml", recipe_text("", "", "[sweep]\ntasks = [\"tasks/a.toml\", \"tasks/b.toml\"]\nseeds = [0, 1]\n"));
  PlanOptions options;
  options.only_tasks = {"bee"};
  const auto units = plan("r.toml", options);
  ASSERT_EQ(units.size(), 2u);
  for (const Unit& u : units) EXPECT_EQ(u.task, "bee");

  options.only_tasks = {"bee", "zzz"};
  EXPECT_EQ(message_of([&] { plan("r.toml", options); }),
            "--task zzz: no such task in " + recipe + " (tasks: a, bee)");
}

TEST_F(Plan, CostCountsTrainingAndEvaluationImages) {
  const std::string data = task_file("t", 12, 5);
  write("r.toml", recipe_text("data = \"" + data + "\"\n", "eval_every = 3\n"));
  auto units = plan("r.toml");
  ASSERT_EQ(units.size(), 1u);
  // 4 epochs of 12 training images at 3x a forward, plus ceil(4 / 3) = 2 evaluations of 5.
  EXPECT_DOUBLE_EQ(units[0].cost, 3.0 * 12 * 4 + 5 * 2);
  EXPECT_EQ(units[0].data_classes, 3);
  EXPECT_EQ(units[0].cost_note, "");

  write("r.toml", recipe_text("data = \"" + data + "\"\n", "eval_every = 0\n"));
  units = plan("r.toml");
  EXPECT_DOUBLE_EQ(units[0].cost, 3.0 * 12 * 4 + 5);  // only the final evaluation
}

TEST(PlanSchedule, LargestCostFirstThenId) {
  std::vector<Unit> units(5);
  const std::vector<std::pair<std::string, double>> spec = {{"c", 10}, {"a", 5}, {"b", 10}, {"d", 0}, {"e", 20}};
  for (size_t i = 0; i < spec.size(); ++i) units[i].id = spec[i].first, units[i].cost = spec[i].second;
  EXPECT_EQ(sct::sweep::schedule_order(units), (std::vector<int64_t>{4, 2, 0, 1, 3}));  // e, b, c, a, d
  EXPECT_TRUE(sct::sweep::schedule_order({}).empty());
}

TEST_F(Plan, TwoTasksOfOneNameStopThePlan) {
  write("tasks/a.toml", "");
  write("more/a.toml", "");
  const std::string text = recipe_text("", "", "[sweep]\ntasks = [\"tasks/a.toml\", \"more/a.toml\"]\n");
  const std::string recipe = write("r.toml", text);
  // The names come from the task files' names: the error points at the line listing them.
  const auto tasks_line = 1 + std::count(text.begin(), text.begin() + text.find("tasks = "), '\n');
  EXPECT_EQ(message_of([&] { plan("r.toml"); }), recipe + ":" + std::to_string(tasks_line) +
                                                     ": two units are both named 'a__sct__s3' (task names must be unique)");
}

TEST_F(Plan, ABadTaskFileStopsThePlan) {
  write("tasks/a.toml", "");
  write("tasks/b.toml", "[train]\nlr_warmpu = 1\n");
  write("r.toml", recipe_text("", "", "[sweep]\ntasks = [\"tasks/a.toml\", \"tasks/b.toml\"]\n"));
  const std::string message = message_of([&] { plan("r.toml"); });
  EXPECT_NE(message.find("b.toml"), std::string::npos) << message;
  EXPECT_NE(message.find("lr_warmpu"), std::string::npos) << message;
}

TEST_F(Plan, PerMethodSettingsReachOnlyThatMethodsUnits) {
  write("tasks/a.toml", "[train]\nlr = 0.05\n");
  const std::string text = recipe_text("", "",
                                       "[sweep]\ntasks = [\"tasks/a.toml\"]\nmethods = [\"sct\", \"full\", \"linear\"]\n"
                                       "seeds = [0, 1]\n"
                                       "[sweep.method.full]\ntrain.lr = 0.003\ntrain.weight_decay = 0.05\n"
                                       "[sweep.method.linear]\npeft.k = 4\n");
  write("r.toml", text);
  const auto units = plan("r.toml");
  ASSERT_EQ(units.size(), 6u);
  const Recipe defaults;
  for (const Unit& u : units) {
    // The task file's lr for the others; the method's own settings win over the task file.
    EXPECT_DOUBLE_EQ(u.recipe.train.lr, u.method == "full" ? 0.003 : 0.05) << u.id;
    EXPECT_DOUBLE_EQ(u.recipe.train.weight_decay, u.method == "full" ? 0.05 : defaults.train.weight_decay) << u.id;
    EXPECT_EQ(u.recipe.peft.k, u.method == "linear" ? 4 : defaults.peft.k) << u.id;
    EXPECT_EQ(u.hash, sct::training_hash(u.recipe)) << u.id;
  }
  // Errors about a per-method value point at its line in the sweep file.
  const auto lr_line = 1 + std::count(text.begin(), text.begin() + text.find("train.lr = 0.003"), '\n');
  EXPECT_EQ(units[2].method, "full");
  EXPECT_EQ(units[2].recipe.where("train.lr"), dir.file("r.toml") + ":" + std::to_string(lr_line));

  // --set still beats a per-method setting.
  PlanOptions options;
  options.sets = {"train.lr=0.2"};
  for (const Unit& u : plan("r.toml", options)) EXPECT_DOUBLE_EQ(u.recipe.train.lr, 0.2) << u.id;

  // Every method of the registry may have its own table, the PEFT baselines included.
  write("r.toml", recipe_text("", "", "[sweep]\nmethods = [\"sct\", \"adaptformer\"]\n"
                                      "[sweep.method.adaptformer]\ntrain.lr = 0.003\npeft.init = \"standard\"\n"));
  for (const Unit& u : plan("r.toml")) {
    EXPECT_DOUBLE_EQ(u.recipe.train.lr, u.method == "adaptformer" ? 0.003 : 0.01) << u.id;
    EXPECT_EQ(u.recipe.peft.init, u.method == "adaptformer" ? "standard" : defaults.peft.init) << u.id;
  }
}

TEST_F(Plan, PerMethodSettingsWithABadKeyStopThePlan) {
  write("r.toml", recipe_text("", "", "[sweep]\nmethods = [\"sct\"]\n[sweep.method.sct]\ntrain.lr_warmpu = 1\n"));
  std::string message = message_of([&] { plan("r.toml"); });
  EXPECT_NE(message.find("r.toml:"), std::string::npos) << message;
  EXPECT_NE(message.find("lr_warmpu"), std::string::npos) << message;
  write("r.toml", recipe_text("", "", "[sweep.method.sct]\npeft.method = \"full\"\n"));
  message = message_of([&] { plan("r.toml"); });
  EXPECT_NE(message.find("'sweep.method.sct.peft.method' cannot be set per method"), std::string::npos) << message;
  write("r.toml", recipe_text("", "", "[sweep.method.lorra]\ntrain.lr = 1\n"));
  message = message_of([&] { plan("r.toml"); });
  EXPECT_NE(message.find("'sweep.method' tables must be named sct | linear | full | bitfit | lora | adapter | "
                         "adaptformer | vpt | ssf, found \"lorra\""),
            std::string::npos)
      << message;
}

TEST_F(Plan, CostCountsEveryEvaluationSplit) {
  sct::data::TaskMetadata meta;
  meta.task = "t";
  meta.num_classes = 3;
  meta.height = meta.width = 16;
  const std::string data = dir.file("t.h5");
  sct::data::TaskWriter writer(data, meta);
  sct::data::write_split(writer, sct::data::synth_split_source("train", 12, 3, 16, 16, 1), 16, 16, 1);
  sct::data::write_split(writer, sct::data::synth_split_source("val", 4, 3, 16, 16, 3), 16, 16, 1);
  sct::data::write_split(writer, sct::data::synth_split_source("test", 5, 3, 16, 16, 2), 16, 16, 1);
  writer.commit();
  write("r.toml", recipe_text("data = \"" + data + "\"\neval_splits = [\"val\", \"test\"]\n", "eval_every = 2\n"));
  const auto units = plan("r.toml");
  ASSERT_EQ(units.size(), 1u);
  EXPECT_DOUBLE_EQ(units[0].cost, 3.0 * 12 * 4 + (4 + 5) * 2);
}
