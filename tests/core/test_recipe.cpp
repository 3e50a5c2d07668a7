// Recipe loading: inheritance, merge, overrides, and every error case with file:line and key.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "framework/core/error.h"
#include "framework/core/recipe.h"

using namespace sct;
namespace fs = std::filesystem;

namespace {

class RecipeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sct_recipe_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    fs::path p = dir_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }

  // The InputError message of loading `path`, or "" if it loaded.
  std::string error_of(const std::string& path, const std::vector<std::string>& sets = {}) {
    try {
      load_recipe(path, sets);
    } catch (const InputError& e) {
      EXPECT_EQ(e.exit_code(), 2);
      return e.what();
    }
    return "";
  }

  fs::path dir_;
};

}  // namespace

TEST_F(RecipeTest, DefaultsAndNameFromFileStem) {
  Recipe r = load_recipe(write("dtd.toml", "seed = 3\n"));
  EXPECT_EQ(r.name, "dtd");
  EXPECT_EQ(r.task.name, "dtd");
  EXPECT_EQ(r.seed, 3);
  EXPECT_EQ(r.train.epochs, 100);
  EXPECT_EQ(r.train.batch_size, 64);
  EXPECT_DOUBLE_EQ(r.train.warmup_lr_init, 1e-6);
  EXPECT_EQ(r.peft.mode, "attn");
}

TEST_F(RecipeTest, ExtendsChainDeepMergesTablesAndReplacesArrays) {
  write("base/root.toml",
        "[train]\nlr = 0.1\nepochs = 50\nbetas = [0.8, 0.9]\n[model]\ndim = 64\ndepth = 4\n");
  write("base/mid.toml",
        "extends = \"root.toml\"\n[train]\nepochs = 20\n[data]\nmean = [0.5, 0.5, 0.5]\n");
  std::string leaf = write("tasks/leaf.toml",
                           "extends = \"../base/mid.toml\"\n[train]\nbetas = [0.5, 0.6]\n"
                           "[data]\nhflip = true\n");
  Recipe r = load_recipe(leaf);
  EXPECT_DOUBLE_EQ(r.train.lr, 0.1);  // from root, untouched by mid and leaf
  EXPECT_EQ(r.train.epochs, 20);      // mid overrides root
  ASSERT_EQ(r.train.betas.size(), 2u);
  EXPECT_DOUBLE_EQ(r.train.betas[0], 0.5);  // arrays replace
  EXPECT_EQ(r.model.dim, 64);
  EXPECT_EQ(r.model.depth, 4);
  EXPECT_DOUBLE_EQ(r.data.mean[0], 0.5);
  EXPECT_TRUE(r.data.hflip);  // data table merged from mid and leaf
}

TEST_F(RecipeTest, OverridesAreTomlValues) {
  std::string p = write("r.toml", "[train]\nlr = 0.1\n");
  Recipe r = load_recipe(p, {"train.lr=0.25", "train.epochs=7", "name=\"demo\"",
                             "data.mean=[0.1, 0.2, 0.3]", "peft={method=\"linear\", k=8}"});
  EXPECT_DOUBLE_EQ(r.train.lr, 0.25);
  EXPECT_EQ(r.train.epochs, 7);
  EXPECT_EQ(r.name, "demo");
  EXPECT_DOUBLE_EQ(r.data.mean[2], 0.3);
  EXPECT_EQ(r.peft.method, "linear");
  EXPECT_EQ(r.peft.k, 8);
  EXPECT_EQ(r.peft.mode, "attn");  // inline table merged, not replaced
}

TEST_F(RecipeTest, ResolvedTomlRoundTripsAndHashIsStable) {
  std::string p = write("r.toml", "seed = 5\n[train]\nlr = 0.013\nweight_decay = 1.0\n");
  Recipe a = load_recipe(p);
  std::string text = recipe_to_toml(a);
  Recipe b = parse_recipe(text, (dir_ / "r.toml").string());
  EXPECT_EQ(recipe_to_toml(b), text);
  EXPECT_EQ(recipe_hash(a), recipe_hash(b));
  Recipe c = load_recipe(p, {"train.lr=0.014"});
  EXPECT_NE(recipe_hash(a), recipe_hash(c));
  EXPECT_NE(text.find("lr = 0.013"), std::string::npos) << text;
}

TEST_F(RecipeTest, UnknownKeyNamesFileLineAndSuggests) {
  std::string p = write("dtd.toml", "seed = 1\n\n[train]\nlr = 0.1\nweight_decy = 0.1\n");
  EXPECT_EQ(error_of(p), p + ":5: unknown key 'train.weight_decy' (did you mean 'train.weight_decay'?)");
}

TEST_F(RecipeTest, UnknownKeyInWrongSectionSuggestsTheRightOne) {
  std::string p = write("r.toml", "[train]\ndrop_path = 0.2\n");
  EXPECT_EQ(error_of(p), p + ":2: unknown key 'train.drop_path' (did you mean 'model.drop_path'?)");
}

TEST_F(RecipeTest, UnknownSectionSuggests) {
  std::string p = write("r.toml", "[trian]\nlr = 0.1\n");
  EXPECT_EQ(error_of(p), p + ":1: unknown key 'trian' (did you mean 'train'?)");
}

TEST_F(RecipeTest, UnknownKeyWithoutCloseMatch) {
  std::string p = write("r.toml", "zzzzzzzzzz = 1\n");
  EXPECT_EQ(error_of(p), p + ":1: unknown key 'zzzzzzzzzz'");
}

TEST_F(RecipeTest, UnknownKeyInBaseFileNamesTheBaseFile) {
  std::string base = write("base.toml", "[model]\n\ndimm = 3\n");
  std::string leaf = write("leaf.toml", "extends = \"base.toml\"\n");
  EXPECT_EQ(error_of(leaf), base + ":3: unknown key 'model.dimm' (did you mean 'model.dim'?)");
}

TEST_F(RecipeTest, WrongTypes) {
  std::string p = write("r.toml", "[train]\nepochs = \"ten\"\n");
  EXPECT_EQ(error_of(p), p + ":2: key 'train.epochs' expects an integer, found a string");
  p = write("r2.toml", "[train]\nepochs = 1.5\n");
  EXPECT_EQ(error_of(p), p + ":2: key 'train.epochs' expects an integer, found a float");
  p = write("r3.toml", "[data]\nhflip = 1\n");
  EXPECT_EQ(error_of(p), p + ":2: key 'data.hflip' expects true or false, found an integer");
  p = write("r4.toml", "train = 5\n");
  EXPECT_EQ(error_of(p), p + ":1: key 'train' expects a table, found an integer");
  p = write("r5.toml", "[data]\nmean = [0.1, \"x\", 0.3]\n");
  EXPECT_EQ(error_of(p), p + ":2: key 'data.mean' expects an array of numbers, found an element that is a string");
  // An integer where a float is expected is fine.
  EXPECT_EQ(load_recipe(write("r6.toml", "[train]\nlr = 1\n")).train.lr, 1.0);
}

TEST_F(RecipeTest, DeviceAndPrecision) {
  EXPECT_EQ(load_recipe(write("d1.toml", "device = \"cuda:1\"\n")).device, "cuda:1");
  std::string p = write("d2.toml", "device = \"gpu\"\n");
  EXPECT_EQ(error_of(p), p + ":1: key 'device' must be one of auto | cpu | cuda | cuda:N, found \"gpu\"");
  p = write("d3.toml", "device = \"cuda:x\"\n");
  EXPECT_EQ(error_of(p), p + ":1: key 'device' must be one of auto | cpu | cuda | cuda:N, found \"cuda:x\"");
  p = write("d4.toml", "[train]\nprecision = \"fp16\"\n");
  EXPECT_EQ(error_of(p), p + ":2: key 'train.precision' must be one of fp32 | tf32 | bf16, found \"fp16\"");
  // At their defaults the new keys stay out of the resolved recipe (and its hash); set, they are in.
  const Recipe plain = load_recipe(write("d5.toml", "seed = 1\n"));
  EXPECT_EQ(recipe_to_toml(plain).find("precision"), std::string::npos);
  EXPECT_EQ(recipe_to_toml(plain).find("deterministic"), std::string::npos);
  const Recipe bf16 = load_recipe(write("d6.toml", "seed = 1\n[train]\nprecision = \"bf16\"\ndeterministic = true\n"));
  EXPECT_NE(recipe_to_toml(bf16).find("precision = \"bf16\""), std::string::npos);
  EXPECT_NE(recipe_to_toml(bf16).find("deterministic = true"), std::string::npos);
  EXPECT_NE(training_hash(bf16), training_hash(plain));  // precision changes what a unit computes
  Recipe det = plain;
  det.train.deterministic = true;
  EXPECT_EQ(training_hash(det), training_hash(plain));  // determinism does not
}

TEST_F(RecipeTest, ValueChecks) {
  std::string p = write("r.toml", "[peft]\nmethod = \"dora\"\n");
  EXPECT_EQ(error_of(p), p + ":2: key 'peft.method' must be one of sct | linear | full | bitfit | lora | adapter | "
                             "adaptformer | vpt | ssf, found \"dora\"");
  p = write("r2.toml", "[train]\nlabel_smoothing = 1.5\n");
  EXPECT_EQ(error_of(p), p + ":2: key 'train.label_smoothing' must be in [0, 1), found 1.5");
  p = write("r3.toml", "[data]\nstd = [0.2, 0.2]\n");
  EXPECT_EQ(error_of(p), p + ":2: key 'data.std' expects 3 numbers, found 2");
  p = write("r4.toml", "[train]\nbatch_size = 0\n");
  EXPECT_EQ(error_of(p), p + ":2: key 'train.batch_size' must be > 0, found 0");
}

TEST_F(RecipeTest, MalformedToml) {
  std::string p = write("r.toml", "seed = 1\n[train\nlr = 0.1\n");
  std::string e = error_of(p);
  EXPECT_EQ(e.rfind(p + ":2: malformed TOML: ", 0), 0u) << e;
}

TEST_F(RecipeTest, MissingExtends) {
  std::string p = write("r.toml", "\nextends = \"nope.toml\"\n");
  EXPECT_EQ(error_of(p), p + ":2: key 'extends': file '" + (dir_ / "nope.toml").string() + "' not found");
}

TEST_F(RecipeTest, CyclicExtends) {
  std::string a = write("a.toml", "extends = \"b.toml\"\n");
  write("b.toml", "extends = \"c.toml\"\n");
  write("c.toml", "extends = \"a.toml\"\n");
  std::string e = error_of(a);
  EXPECT_NE(e.find("c.toml:1: key 'extends': cycle: "), std::string::npos) << e;
  EXPECT_NE(e.find("a.toml -> "), std::string::npos) << e;
  std::string self = write("self.toml", "extends = \"self.toml\"\n");
  EXPECT_NE(error_of(self).find("self.toml:1: key 'extends': cycle"), std::string::npos);
}

TEST_F(RecipeTest, MissingRecipeFile) {
  std::string p = (dir_ / "absent.toml").string();
  EXPECT_EQ(error_of(p), p + ": recipe file not found");
}

TEST_F(RecipeTest, BadOverrides) {
  std::string p = write("r.toml", "");
  EXPECT_EQ(error_of(p, {"train.lr"}), "--set train.lr: expected key=value (e.g. --set train.lr=0.01)");
  EXPECT_EQ(error_of(p, {"=3"}), "--set =3: expected key=value (e.g. --set train.lr=0.01)");
  std::string e = error_of(p, {"name=demo"});
  EXPECT_EQ(e.rfind("--set name=demo: key 'name': value is not a TOML value", 0), 0u) << e;
  EXPECT_EQ(error_of(p, {"train.lrr=0.1"}),
            "--set train.lrr=0.1: unknown key 'train.lrr' (did you mean 'train.lr'?)");
  EXPECT_EQ(error_of(p, {"train.epochs=\"x\""}),
            "--set train.epochs=\"x\": key 'train.epochs' expects an integer, found a string");
}

TEST_F(RecipeTest, EnvironmentVariablesInPaths) {
  ::setenv("SCT_TEST_ROOT", "/data/vtab", 1);
  ::unsetenv("SCT_TEST_UNSET");
  std::string p = write("r.toml",
                        "[task]\ndata = \"${SCT_TEST_ROOT}/dtd.h5\"\n"
                        "[model]\ncheckpoint = \"${SCT_TEST_UNSET:-ckpt}/vit.npz\"\n");
  Recipe r = load_recipe(p);
  EXPECT_EQ(r.task.data, "/data/vtab/dtd.h5");
  EXPECT_EQ(r.model.checkpoint, "ckpt/vit.npz");
}

TEST_F(RecipeTest, EveryKeyIsListedOnce) {
  auto keys = recipe_keys();
  std::set<std::string> unique(keys.begin(), keys.end());
  EXPECT_EQ(unique.size(), keys.size());
  EXPECT_TRUE(unique.count("train.lr"));
  EXPECT_TRUE(unique.count("model.drop_path"));
}

TEST_F(RecipeTest, SweepTaskFragmentsMergeOverTheSweepRecipe) {
  std::string sweep = write("bench/sweep.toml",
                            "[train]\nlr = 0.1\nepochs = 5\n[sweep]\ntasks = [\"tasks/dtd.toml\"]\n"
                            "methods = [\"sct\", \"linear\"]\nseeds = [0, 1]\n"
                            "set = [\"train.eval_every = 1\"]\n[sweep.variants]\nk8 = [\"peft.k=8\"]\n");
  std::string frag = write("bench/tasks/dtd.toml", "[task]\ngroup = \"Natural\"\n[train]\nlr = 0.0032\n");
  Recipe s = load_recipe(sweep);
  ASSERT_EQ(s.sweep.tasks.size(), 1u);
  EXPECT_EQ(s.sweep.tasks[0], frag);  // relative to the sweep file
  EXPECT_EQ(s.sweep.methods, (std::vector<std::string>{"sct", "linear"}));
  EXPECT_EQ(s.sweep.seeds, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(s.sweep.variants.at("k8"), (std::vector<std::string>{"peft.k=8"}));
  Recipe u = load_recipe(sweep, {"seed=1"}, frag);
  EXPECT_EQ(u.task.name, "dtd");
  EXPECT_EQ(u.task.group, "Natural");
  EXPECT_DOUBLE_EQ(u.train.lr, 0.0032);  // the fragment wins over the sweep recipe
  EXPECT_EQ(u.train.epochs, 5);         // the sweep recipe's value stays
  EXPECT_EQ(u.seed, 1);
  // Round trip of the new value types.
  Recipe back = parse_recipe(recipe_to_toml(s), sweep);
  EXPECT_EQ(recipe_to_toml(back), recipe_to_toml(s));
}

TEST_F(RecipeTest, FragmentsCannotExtendOrSweep) {
  std::string sweep = write("s.toml", "");
  std::string frag = write("f.toml", "extends = \"s.toml\"\n");
  try {
    load_recipe(sweep, {}, frag);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(frag + ":1: key 'extends': a task file"), std::string::npos) << e.what();
  }
  std::string frag2 = write("g.toml", "[task]\nname = \"x\"\n[sweep]\nseeds = [1]\n");
  try {
    load_recipe(sweep, {}, frag2);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(frag2 + ":3: key 'sweep'"), std::string::npos) << e.what();
  }
}

TEST_F(RecipeTest, TrainingHashIgnoresKeysThatDoNotChangeResults) {
  std::string p = write("r.toml", "[train]\nlr = 0.1\n");
  Recipe a = load_recipe(p);
  Recipe b = load_recipe(p, {"threads=2", "out=\"elsewhere\"", "sweep.seeds=[3]", "data.prefetch=5"});
  Recipe c = load_recipe(p, {"train.lr=0.2"});
  EXPECT_EQ(training_hash(a), training_hash(b));
  EXPECT_NE(recipe_hash(a), recipe_hash(b));
  EXPECT_NE(training_hash(a), training_hash(c));
}

TEST_F(RecipeTest, WhereNamesTheFileAndLineThatSetAKey) {
  std::string base = write("base/root.toml", "seed = 1\n[train]\nepochs = 50\n\nlr = 0.1\n");
  std::string sweep = write("bench/sweep.toml",
                            "extends = \"../base/root.toml\"\n[train]\nepochs = 5\n"
                            "[sweep]\ntasks = [\"tasks/dtd.toml\"]\n");
  std::string frag = write("bench/tasks/dtd.toml", "[task]\ngroup = \"Natural\"\n\n[train]\nlr = 0.0032\n");
  Recipe u = load_recipe(sweep, {"train.batch_size=32"}, frag);
  EXPECT_EQ(u.where("seed"), base + ":1");                  // from the base, through extends
  EXPECT_EQ(u.where("train.epochs"), sweep + ":3");         // the sweep recipe over its base
  EXPECT_EQ(u.where("train.lr"), frag + ":5");              // the fragment over both
  EXPECT_EQ(u.where("task.group"), frag + ":2");
  EXPECT_EQ(u.where("sweep.tasks"), sweep + ":5");
  EXPECT_EQ(u.where("train.batch_size"), "--set train.batch_size=32");
  EXPECT_EQ(u.where("train.weight_decay"), sweep);          // defaulted: the recipe itself
  EXPECT_EQ(u.where("task.name"), sweep);                   // defaulted from the fragment's stem
  // A location never changes a hash: the same values read from elsewhere hash the same.
  Recipe moved = parse_recipe(recipe_to_toml(u), sweep);
  EXPECT_NE(moved.where("train.lr"), u.where("train.lr"));
  EXPECT_EQ(recipe_hash(moved), recipe_hash(u));
  EXPECT_EQ(training_hash(moved), training_hash(u));
  EXPECT_EQ(recipe_to_toml(moved), recipe_to_toml(u));
}

TEST_F(RecipeTest, WhereWithoutAFileIsTheParsedName) {
  Recipe r = parse_recipe("[train]\nlr = 0.5\n", "inline.toml", {"seed=4"});
  EXPECT_EQ(r.where("train.lr"), "inline.toml:2");
  EXPECT_EQ(r.where("seed"), "--set seed=4");
  EXPECT_EQ(r.where("train.epochs"), "inline.toml");
  EXPECT_EQ(Recipe().where("train.lr"), "recipe");  // made in code: no file at all
}

TEST_F(RecipeTest, EvaluationSplitsAndSelectOn) {
  const std::string base = "[task]\neval_split = \"test\"\n";
  Recipe r = load_recipe(write("a.toml", base + "eval_splits = [\"val200\", \"test\"]\n[train]\nselect_on = \"val200\"\n"));
  EXPECT_EQ(evaluation_splits(r.task), (std::vector<std::string>{"val200", "test"}));
  EXPECT_EQ(reported_splits(r), (std::vector<std::string>{"test"}));
  r = load_recipe(write("b.toml", base));
  EXPECT_EQ(evaluation_splits(r.task), (std::vector<std::string>{"test"}));
  EXPECT_EQ(reported_splits(r), (std::vector<std::string>{"test"}));
  r = load_recipe(write("c.toml", "[task]\neval_splits = [\"v2\", \"a\"]\n"));
  EXPECT_EQ(reported_splits(r), (std::vector<std::string>{"v2", "a"}));  // nothing selects: all reported
  r = load_recipe(write("d.toml", "[task]\neval_splits = [\"val200\"]\n[train]\nselect_on = \"val200\"\n"));
  EXPECT_EQ(reported_splits(r), (std::vector<std::string>{"val200"}));

  // eval_split set to a split that eval_splits leaves out, a split twice, an unevaluated selector.
  const std::string e = write("e.toml", "[task]\neval_split = \"val\"\neval_splits = [\"a\", \"b\"]\n");
  EXPECT_EQ(error_of(e), e + ":2: key 'task.eval_split' = \"val\" is not one of task.eval_splits (a, b); "
                             "leave it out when giving task.eval_splits");
  const std::string f = write("f.toml", "[task]\neval_splits = [\"a\", \"a\"]\n");
  EXPECT_EQ(error_of(f), f + ":2: key 'task.eval_splits' lists \"a\" twice");
  const std::string g = write("g.toml", base + "[train]\nselect_on = \"val200\"\n");
  EXPECT_EQ(error_of(g), g + ":4: key 'train.select_on' = \"val200\" is not an evaluation split (evaluated: test)");
}

// Keys added after the hashes were pinned are written only when set: recipes that leave them
// out keep their hashes (test_recipe_hash.cpp), and setting one changes what is hashed.
TEST_F(RecipeTest, NewKeysChangeHashesOnlyWhenSet) {
  const Recipe plain = parse_recipe("", "/x/r.toml");
  const std::string text = recipe_to_toml(plain);
  for (const char* key : {"eval_splits", "select_on", "method = {"}) EXPECT_EQ(text.find(key), std::string::npos) << key;
  const Recipe clean =
      parse_recipe("", "/x/r.toml", {"task.eval_splits=[\"val200\", \"test\"]", "train.select_on=\"val200\""});
  EXPECT_NE(training_hash(clean), training_hash(plain));
  // Per-method settings are sweep keys: the recipe hash changes, the training hash does not
  // (the unit's own method here is sct, and only full's lr is set).
  const Recipe per_method = parse_recipe("[sweep.method.full]\ntrain.lr = 0.003\n", "/x/r.toml");
  EXPECT_NE(recipe_hash(per_method), recipe_hash(plain));
  EXPECT_EQ(training_hash(per_method), training_hash(plain));
}

TEST_F(RecipeTest, PerMethodSettingsApplyToTheirMethodAndRoundTrip) {
  const std::string path = write("s.toml",
                                 "[train]\nlr = 0.1\n[sweep.method.full]\ntrain.lr = 0.003\n"
                                 "data.randaugment = \"rand-m9\"\n[sweep.method.linear]\npeft.k = 4\n");
  const Recipe sct = load_recipe(path);
  EXPECT_DOUBLE_EQ(sct.train.lr, 0.1);
  // Kept as TOML text (toml++ writes doubles exactly and strings as literals).
  EXPECT_DOUBLE_EQ(std::stod(sct.sweep.method.at("full").at("train.lr")), 0.003);
  EXPECT_EQ(sct.sweep.method.at("full").at("data.randaugment"), "'rand-m9'");
  const Recipe full = load_recipe(path, {"peft.method=\"full\""});
  EXPECT_DOUBLE_EQ(full.train.lr, 0.003);
  EXPECT_EQ(full.data.randaugment, "rand-m9");
  EXPECT_EQ(full.peft.k, Recipe().peft.k);
  EXPECT_EQ(full.where("train.lr"), path + ":4");
  EXPECT_DOUBLE_EQ(load_recipe(path, {"peft.method=\"full\"", "train.lr=0.5"}).train.lr, 0.5);  // --set wins
  // The resolved text reads back to the same recipe.
  const Recipe again = parse_recipe(recipe_to_toml(full), "/x/resolved.toml");
  EXPECT_EQ(recipe_to_toml(again), recipe_to_toml(full));
  EXPECT_EQ(again.sweep.method, full.sweep.method);
}

// dist.stall_timeout_s: 0 (off) or at least a second; a tiny value would abort healthy jobs.
TEST_F(RecipeTest, StallTimeoutIsOffOrAtLeastOneSecond) {
  const std::string p = write("w.toml", "[dist]\nstall_timeout_s = 0.5\n");
  const std::string error = error_of(p);
  EXPECT_NE(error.find("w.toml:2"), std::string::npos) << error;
  EXPECT_NE(error.find("dist.stall_timeout_s"), std::string::npos) << error;
  EXPECT_NE(error.find("must be 0 (off) or >= 1 second, found 0.5"), std::string::npos) << error;
  EXPECT_EQ(load_recipe(p, {"dist.stall_timeout_s=0"}).dist.stall_timeout_s, 0);
  EXPECT_EQ(load_recipe(write("d.toml", "")).dist.stall_timeout_s, 600);
}
