// Reusing what was trained: the adapter file round trip (any method) reproduces the trained
// model's logits bit for bit and refuses another backbone; SCT maps of mlp and qkv mode folded
// into the backbone give the adapter model's logits; attn mode and bad channel files are refused.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "framework/core/error.h"
#include "framework/core/recipe.h"
#include "framework/model/vit_io.h"
#include "framework/peft/adapter_file.h"
#include "framework/peft/backbone.h"
#include "framework/peft/channels.h"
#include "framework/peft/merge.h"
#include "framework/peft/sct_module.h"
#include "framework/peft/trainable.h"
#include "tests/peft/tiny_recipe.h"

namespace sct::peft {
namespace {
namespace fs = std::filesystem;

constexpr int64_t kClasses = 5;

std::string temp_path(const std::string& name) {
  return (fs::temp_directory_path() / ("sct_test_reuse_" + std::to_string(::getpid()) + "_" + name)).string();
}

// A tiny model with `recipe`'s method set up and every trainable tensor moved away from its
// initial value (biases non-zero), as training would leave it.
struct Trained {
  model::ViT vit{nullptr};
  std::unique_ptr<Trainable> trainable;
  ChannelSelection selection;
};

Trained train_like(Recipe r) {
  r.name = r.task.name = "tiny";  // as a loaded recipe has them
  Trained t;
  t.vit = build_backbone(r, kClasses);
  t.selection = random_selection(r.peft.mode, 2, 16, resolve_k(r.peft, 16), 11);
  t.trainable = std::make_unique<Trainable>(prepare_method(*t.vit, r, &t.selection));
  at::manual_seed(9);
  at::NoGradGuard no_grad;
  for (const auto& [name, p] : t.trainable->named()) {
    at::Tensor v = p;
    v.uniform_(-0.3, 0.3);
  }
  t.vit->eval();
  return t;
}

at::Tensor images(int64_t n = 3) {
  at::manual_seed(21);
  return at::randn({n, 3, 8, 8});
}

TEST(AdapterFile, RoundTripReproducesTheLogitsOfEveryMethod) {
  for (const char* method : {"sct", "bitfit", "linear", "full"}) {
    Recipe r = tiny_recipe();
    r.name = r.task.name = "tiny";
    r.peft.method = method;
    r.peft.mode = "qkv";
    Trained t = train_like(r);
    at::NoGradGuard no_grad;
    const at::Tensor want = t.vit->forward(images());
    const std::string path = temp_path(std::string(method) + ".safetensors");
    write_adapter(path, *t.vit, *t.trainable, r, &t.selection, "abc", "{\"last\": 1.5}");
    const AdapterFile a = read_adapter(path);
    EXPECT_EQ(a.method, method);
    EXPECT_EQ(a.recipe_hash, "abc");
    EXPECT_EQ(a.results, "{\"last\": 1.5}");
    EXPECT_EQ(recipe_hash(a.recipe), recipe_hash(r)) << method;
    EXPECT_EQ(a.tensors.size(), t.trainable->named().size());
    EXPECT_EQ(a.has_selection, std::string(method) == "sct");
    if (a.has_selection) {
      EXPECT_EQ(a.selection.layers[1].indices, t.selection.layers[1].indices);
    }
    // A fresh backbone (the random one rebuilt from the recipe's seed) with the adapter applied.
    model::ViT loaded = load_adapted_model(a);
    EXPECT_TRUE(at::equal(loaded->forward(images()), want)) << method;
    fs::remove(path);
  }
}

TEST(AdapterFile, RefusesAnotherBackboneAndAWholeModelFile) {
  Recipe r = tiny_recipe();
  Trained t = train_like(r);
  const std::string path = temp_path("other.safetensors");
  write_adapter(path, *t.vit, *t.trainable, r, &t.selection, "h", "{}");
  const AdapterFile a = read_adapter(path);
  Recipe other = r;
  other.seed = 5;  // another random backbone of the same shape
  model::ViT vit = build_backbone(other, kClasses);
  try {
    apply_adapter(*vit, a);
    FAIL() << "applied to another backbone";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("the backbone differs"), std::string::npos) << e.what();
  }
  Recipe wider = r;
  wider.model.dim = 24;
  model::ViT wide = build_backbone(wider, kClasses);
  EXPECT_THROW(apply_adapter(*wide, a), InputError);

  const std::string whole = temp_path("whole.safetensors");
  model::save_model(whole, *t.vit);
  try {
    read_adapter(whole);
    FAIL() << "read a whole-model checkpoint as an adapter";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("not an adapter file"), std::string::npos) << e.what();
  }
  fs::remove(path);
  fs::remove(whole);
}

double relative_difference(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).abs().max().item<double>() / b.abs().max().item<double>();
}

TEST(Merge, FoldedMlpAndQkvMapsGiveTheAdapterModelsLogits) {
  for (const char* mode : {"mlp", "qkv"})
    for (auto [form, scale] : std::vector<std::pair<const char*, double>>{
             {"none", 1.0}, {"residual", 0.4}, {"on_x", 1.6}}) {
      Recipe r = tiny_recipe();
      r.peft.mode = mode;
      r.peft.scale_form = form;
      r.peft.scale = scale;
      Trained t = train_like(r);
      at::NoGradGuard no_grad;
      const at::Tensor x = images(4);
      const at::Tensor adapted = t.vit->forward(x);
      // The maps change the logits: the test would notice a fold that dropped them.
      model::ViT plain = build_backbone(r, kClasses);
      ASSERT_GT(relative_difference(plain->forward(x), adapted), 1e-3);
      fold_into_backbone(*t.vit);
      for (int64_t l = 0; l < 2; ++l) EXPECT_FALSE(t.vit->adapter(l, mode_site(mode)));
      EXPECT_EQ(t.vit->named_parameters().size(), model::vit_parameter_shapes(t.vit->config()).size());
      EXPECT_LE(relative_difference(t.vit->forward(x), adapted), 1e-5) << mode << " " << form;
    }
}

TEST(Merge, RefusesAttnMode) {
  Recipe r = tiny_recipe();
  r.peft.mode = "attn";
  Trained t = train_like(r);
  try {
    fold_into_backbone(*t.vit);
    FAIL() << "folded attn mode";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("residual stream"), std::string::npos) << e.what();
  }
}

TEST(Channels, ASelectionThatDoesNotFitIsOneErrorNamingTheKey) {
  Recipe r = tiny_recipe();  // D = 16, L = 2, K = 3, attn
  const ChannelSelection good = random_selection("attn", 2, 16, 3, 1);
  EXPECT_NO_THROW(check_selection_fits(good, "c.json", "r.toml:3", r.peft, 16, 2));
  auto message = [&](const ChannelSelection& s) -> std::string {
    try {
      check_selection_fits(s, "c.json", "r.toml:3", r.peft, 16, 2);
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  };
  const std::string width = message(random_selection("attn", 2, 24, 3, 1));
  EXPECT_NE(width.find("r.toml:3: key 'peft.channels' = \"c.json\""), std::string::npos) << width;
  EXPECT_NE(width.find("D=24"), std::string::npos) << width;
  const std::string k = message(random_selection("attn", 2, 16, 4, 1));
  EXPECT_NE(k.find("K=4"), std::string::npos) << k;
  EXPECT_NE(message(random_selection("mlp", 2, 16, 3, 1)).find("mode 'mlp'"), std::string::npos);
  EXPECT_NE(message(random_selection("attn", 3, 16, 3, 1)).find("L=3"), std::string::npos);

  ChannelSelection unsorted = good;
  std::swap(unsorted.layers[1].indices[0][0], unsorted.layers[1].indices[0][2]);
  try {
    parse_selection(selection_to_json(unsorted), "c.json");
    FAIL() << "accepted unsorted channels";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("c.json: layers[1].h_indices: expected 3 ascending"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace sct::peft
