// The method registry: its names and order, one clear error for an unknown method, and for
// every registered method the count from the architecture alone against the tensors its
// Trainable registry holds once installed on a small model.
#include <gtest/gtest.h>

#include <functional>

#include "framework/core/error.h"
#include "framework/core/recipe.h"
#include "framework/peft/backbone.h"
#include "framework/peft/channels.h"
#include "framework/peft/method.h"
#include "framework/peft/param_count.h"
#include "framework/peft/trainable.h"
#include "tests/peft/tiny_recipe.h"

namespace sct::peft {
namespace {

// tiny_recipe (D = 16, L = 2, K = 3) for one method and mode.
Recipe small_recipe(const std::string& method, const std::string& mode) {
  Recipe recipe = tiny_recipe();
  recipe.peft.method = method;
  recipe.peft.mode = mode;
  return recipe;
}

TEST(Method, RegistryNamesInOrder) {
  const std::vector<std::string> names = method_names();
  EXPECT_EQ(names, (std::vector<std::string>{"sct", "linear", "full", "bitfit", "lora", "adapter", "adaptformer",
                                              "vpt", "ssf"}));
  EXPECT_EQ(names, peft_method_names());  // the list the recipe checks peft.method against
  for (const std::string& name : names) {
    EXPECT_EQ(method(name).name(), name);
    EXPECT_EQ(&method(name), &method(name)) << name;  // one instance per method
    EXPECT_EQ(needs_selection(name), name == "sct") << name;
    EXPECT_EQ(method(name).needs_head(), name != "full") << name;
    EXPECT_NO_THROW(check_method(name));
  }
  PeftSection peft;
  EXPECT_EQ(method("sct").describe(peft, 768), "sct attn K=96");
  EXPECT_EQ(method("bitfit").describe(peft, 768), "bitfit");
}

TEST(Method, UnknownMethodIsOneClearError) {
  const std::string want =
      "peft.method must be one of sct | linear | full | bitfit | lora | adapter | adaptformer | vpt | ssf, found "
      "\"dora\"";
  auto message_of = [](const std::function<void()>& call) -> std::string {
    try {
      call();
    } catch (const InputError& e) {
      return e.what();
    }
    return "(no InputError)";
  };
  const Recipe recipe = small_recipe("dora", "attn");
  model::ViT vit = build_backbone(recipe, 3);
  EXPECT_EQ(message_of([] { method("dora"); }), want);
  EXPECT_EQ(message_of([] { check_method("dora"); }), want);
  EXPECT_EQ(message_of([] { needs_selection("dora"); }), want);
  EXPECT_EQ(message_of([&] { count_params(vit->config(), recipe.peft, 3); }), want);
  EXPECT_EQ(message_of([&] { Trainable(*vit, "dora"); }), want);
  EXPECT_EQ(message_of([&] { prepare_method(*vit, recipe, nullptr); }), want);
}

TEST(Method, RecipeChecksNameTheKey) {
  PeftSection peft;
  peft.scale_form = "twice";
  try {
    method("sct").check(peft);
    ADD_FAILURE() << "bad scale_form accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("peft.scale_form"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(method("linear").check(peft));  // linear reads no SCT key
  peft.scale_form = "none";
  peft.k = 17;  // > D = 16: needs the architecture, so the count refuses it
  const model::ViTConfig config = build_backbone(small_recipe("sct", "attn"), 0)->config();
  try {
    count_params(config, peft, 3);
    ADD_FAILURE() << "K > D accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("peft.k"), std::string::npos) << e.what();
  }
}

// The count a dry run prints is the count a run trains, for every method and mode (the mode
// standing in for the baselines' own settings: vpt shallow, lora standard init, other sizes).
TEST(Method, EveryMethodsCountFromTheArchitectureEqualsItsTrainable) {
  for (const std::string& name : method_names())
    for (const std::string mode : {"attn", "mlp", "qkv"}) {
      const Method& chosen = method(name);
      Recipe recipe = small_recipe(name, mode);
      if (mode == "mlp") {
        recipe.peft.prompt_depth = "shallow";
        recipe.peft.init = "standard";
        recipe.peft.bottleneck = 5;
        recipe.peft.rank = 3;
        recipe.peft.prompts = 1;
      }
      model::ViT vit = build_backbone(recipe, 3);
      const ChannelSelection selection = random_selection(mode, 2, 16, 3, 2);
      const Trainable trainable = prepare_method(*vit, recipe, chosen.needs_selection() ? &selection : nullptr);

      const ParamCount count = count_params(vit->config(), recipe.peft, 3);
      EXPECT_EQ(trainable.numel(), count.trainable) << name << " " << mode;
      EXPECT_EQ(trainable.numel_without_head(), count.without_head) << name << " " << mode;
      EXPECT_EQ(trainable.head_numel(), count.head) << name << " " << mode;
      EXPECT_EQ(count.head, 17 * 3);
      EXPECT_EQ(count.backbone, model::vit_num_params(vit->config(), /*with_head=*/false));
      model::ViTConfig headless = vit->config();
      headless.num_classes = 0;
      EXPECT_EQ(chosen.count_without_head(headless, recipe.peft), count.without_head) << name << " " << mode;

      size_t trained = 0;
      for (const auto& parameter : vit->named_parameters()) {
        EXPECT_EQ(parameter.value().requires_grad(), chosen.trains(parameter.key())) << name << " " << parameter.key();
        trained += chosen.trains(parameter.key()) ? 1 : 0;
      }
      EXPECT_EQ(trainable.named().size(), trained) << name << " " << mode;
    }
}

// A method that trains no head also counts on a model without one.
TEST(Method, HeadlessModelsCountWithoutAHead) {
  for (const std::string& name : method_names()) {
    const Method& chosen = method(name);
    if (chosen.needs_head()) continue;
    const Recipe recipe = small_recipe(name, "attn");
    model::ViT vit = build_backbone(recipe, 0);
    const ChannelSelection selection = random_selection("attn", 2, 16, 3, 2);
    const Trainable trainable = prepare_method(*vit, recipe, chosen.needs_selection() ? &selection : nullptr);
    const ParamCount count = count_params(vit->config(), recipe.peft, 0);
    EXPECT_EQ(trainable.numel(), count.trainable) << name;
    EXPECT_EQ(trainable.head_numel(), 0) << name;
  }
}

}  // namespace
}  // namespace sct::peft
