// Recipe hashes pinned to the values earlier versions wrote: a run directory made by an older
// build must still be recognised as the same recipe and the same training.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "framework/core/recipe.h"

using namespace sct;

namespace {

// Every kind of value: integers, shortest-form floats, strings with escapes, arrays, the
// variants table, and all the keys training_hash leaves out.
const char* kFull =
    "name = \"full\"\n"
    "description = \"a \\\"quoted\\\" description\\twith a tab\"\n"
    "seed = 7\n"
    "threads = 3\n"
    "device = \"cpu\"\n"
    "out = \"runs/pinned\"\n"
    "[model]\narch = \"vit-b16\"\ndim = 768\ndepth = 12\nheads = 12\ndrop_path = 0.2\n"
    "[task]\nname = \"dtd\"\ngroup = \"Natural\"\ndata = \"/data/dtd.h5\"\nnum_classes = 47\n"
    "[data]\nmean = [0.5, 0.5, 0.5]\nstd = [0.5, 0.5, 0.5]\nhflip = true\n"
    "randaugment = \"rand-m9-mstd0.5-inc1\"\nprefetch = 4\n"
    "[peft]\nmethod = \"sct\"\nmode = \"mlp\"\nk = 96\nscale_form = \"residual\"\nscale = 0.7\n"
    "[train]\nepochs = 30\nwarmup_epochs = 3\nbatch_size = 32\nlr = 0.0032\nweight_decay = 0.0001\n"
    "betas = [0.85, 0.995]\neps = 1e-9\nschedule = \"step\"\ndrop_last = false\n"
    "export = \"model.safetensors\"\n"
    "[sweep]\ntasks = [\"tasks/dtd.toml\", \"/abs/cifar.toml\"]\nmethods = [\"sct\", \"linear\"]\n"
    "seeds = [0, 1, 2]\nset = [\"train.eval_every=1\"]\nranks_per_task = 2\n"
    "[sweep.variants]\nk8 = [\"peft.k=8\"]\nk16 = [\"peft.k=16\", \"peft.mode=\\\"attn\\\"\"]\n";

struct Pinned {
  const char* what;
  std::vector<std::string> sets;
  const char* recipe_hash;
  const char* training_hash;
};

}  // namespace

TEST(RecipeHash, PinnedToEarlierVersions) {
  const Recipe defaults = parse_recipe("", "/pinned/defaults.toml");
  EXPECT_EQ(recipe_hash(defaults), "2ab7b539a09c44df");
  EXPECT_EQ(training_hash(defaults), "63c52d89e99ebddd");

  const std::vector<Pinned> cases = {
      {"as written", {}, "0e17b6b811b6ea67", "a2bb36bda060be88"},
      {"keys that do not change results",
       {"name=\"other\"", "description=\"\"", "threads=0", "device=\"auto\"", "out=\"elsewhere\"",
        "data.prefetch=1", "sweep.tasks=[]", "sweep.seeds=[5]", "sweep.methods=[\"full\"]", "sweep.ranks_per_task=0"},
       "09bc9b5f3dbbfae5", "a2bb36bda060be88"},
      {"a result key", {"train.lr=0.004"}, "2e9e4feb879e9b52", "0e01ebb8f6b452b1"},
  };
  for (const auto& c : cases) {
    const Recipe recipe = parse_recipe(kFull, "/pinned/full.toml", c.sets);
    EXPECT_EQ(recipe_hash(recipe), c.recipe_hash) << c.what;
    EXPECT_EQ(training_hash(recipe), c.training_hash) << c.what;
  }
}

// Keys added after the pins are written only when set: recipes without them keep the hashes
// above. train.export_adapter names an output and never changes the training hash;
// peft.channels chooses the channels and does.
TEST(RecipeHash, KeysAddedLaterLeaveOlderRecipesAlone) {
  const Recipe plain = parse_recipe(kFull, "/pinned/full.toml");
  EXPECT_EQ(recipe_to_toml(plain).find("export_adapter"), std::string::npos);
  EXPECT_EQ(recipe_to_toml(plain).find("channels"), std::string::npos);
  const Recipe exporting = parse_recipe(kFull, "/pinned/full.toml", {"train.export_adapter=\"a.safetensors\""});
  EXPECT_NE(recipe_hash(exporting), recipe_hash(plain));
  EXPECT_EQ(training_hash(exporting), training_hash(plain));
  const Recipe reusing = parse_recipe(kFull, "/pinned/full.toml", {"peft.channels=\"channels.json\""});
  EXPECT_NE(training_hash(reusing), training_hash(plain));
  // The written text reads back to the same recipe (the adapter file stores it).
  EXPECT_EQ(recipe_hash(parse_recipe(recipe_to_toml(reusing), "/elsewhere/x.toml")), recipe_hash(reusing));
}

// The keys added after the hashes were pinned change them only off their defaults.
TEST(RecipeHash, KeysAddedLaterCountOnlyOffTheirDefaults) {
  const Recipe plain = parse_recipe("", "/pinned/a.toml");
  const Recipe same = parse_recipe("[peft]\nrank = 8\nprompt_depth = \"deep\"\n", "/pinned/a.toml");
  EXPECT_EQ(training_hash(plain), training_hash(same));
  EXPECT_EQ(recipe_hash(plain), recipe_hash(same));
  for (const char* text : {"[peft]\nrank = 4\n", "[peft]\ninit = \"standard\"\n", "[peft]\nbottleneck = 64\n",
                           "[peft]\nadaptformer_scale = 0.1\n", "[peft]\nadaptformer_dropout = 0.0\n",
                           "[peft]\nprompts = 50\n", "[peft]\nprompt_depth = \"shallow\"\n"})
    EXPECT_NE(training_hash(parse_recipe(text, "/pinned/a.toml")), training_hash(plain)) << text;
}

// [dist] (the stall watchdog) came after the pins: at its default it is not in the hashed text;
// set, it changes the recipe hash but never the training hash, and it reads back as written.
TEST(RecipeHash, DistSectionCountsOnlyInTheRecipeHashOffItsDefault) {
  const Recipe plain = parse_recipe(kFull, "/pinned/full.toml");
  EXPECT_NE(recipe_to_toml(plain).find("\n[dist]\nstall_timeout_s = 600.0\n"), std::string::npos);
  const Recipe same = parse_recipe(kFull, "/pinned/full.toml", {"dist.stall_timeout_s=600"});
  EXPECT_EQ(recipe_hash(same), recipe_hash(plain));
  for (const char* set : {"dist.stall_timeout_s=30", "dist.stall_timeout_s=0"}) {
    const Recipe other = parse_recipe(kFull, "/pinned/full.toml", {set});
    EXPECT_NE(recipe_hash(other), recipe_hash(plain)) << set;
    EXPECT_EQ(training_hash(other), training_hash(plain)) << set;
    const Recipe back = parse_recipe(recipe_to_toml(other), "/elsewhere/x.toml");
    EXPECT_EQ(back.dist.stall_timeout_s, other.dist.stall_timeout_s) << set;
  }
}
