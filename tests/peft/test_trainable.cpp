// The trainable registry of every method on a tiny ViT (flags, order, counts against
// count_params, gradients reaching only what is trained), and the backbone builder.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "framework/core/error.h"
#include "framework/core/recipe.h"
#include "framework/model/vit_io.h"
#include "framework/peft/backbone.h"
#include "framework/peft/channels.h"
#include "framework/peft/param_count.h"
#include "framework/peft/sct_module.h"
#include "framework/peft/trainable.h"
#include "tests/peft/tiny_recipe.h"

namespace sct::peft {
namespace {

TEST(Trainable, EveryMethodTrainsExactlyItsTensorsAndCountsAgree) {
  const Recipe base = tiny_recipe();
  for (const std::string& method : method_names())
    for (const std::string mode : {"attn", "qkv"}) {
      Recipe r = base;
      r.peft.method = method;
      r.peft.mode = mode;
      model::ViT vit = build_backbone(r, 3);
      const ChannelSelection sel = random_selection(mode, 2, 16, 3, 1);
      Trainable t = prepare_method(*vit, r, &sel);
      std::vector<std::string> want;
      for (const auto& p : vit->named_parameters()) {
        const std::string& n = p.key();
        const bool head = n.rfind("head.", 0) == 0, sct = n.find(".sct_") != std::string::npos;
        const bool bias = n.size() >= 4 && n.compare(n.size() - 4, 4, "bias") == 0;
        const bool baseline = method != "full" && method != "linear" && method != "bitfit" && method != "sct";
        const bool trained = method == "full" || head || (method == "sct" && sct) ||
                             (method == "bitfit" && bias) || (baseline && is_adapter_parameter(n));
        EXPECT_EQ(p.value().requires_grad(), trained) << method << " " << n;
        if (trained) want.push_back(n);
      }
      std::vector<std::string> got;
      for (const auto& [n, tensor] : t.named()) got.push_back(n);
      EXPECT_EQ(got, want) << method;  // model order
      const ParamCount c = count_params(vit->config(), r.peft, 3);
      EXPECT_EQ(t.numel(), c.trainable) << method << " " << mode;
      EXPECT_EQ(t.head_numel(), c.head);
      EXPECT_EQ(t.head_numel(), 17 * 3);
      EXPECT_EQ(t.numel_without_head(), c.without_head);
      if (method == "sct") {
        EXPECT_EQ(c.without_head, 2 * (mode == "qkv" ? 2 : 1) * (9 + 3));
      }
      if (method == "full") {
        EXPECT_EQ(c.without_head, c.backbone);
        EXPECT_EQ(c.backbone, model::vit_num_params(vit->config(), false));
      }

      // A backward pass reaches the trained tensors only.
      vit->train();
      vit->forward(at::randn({2, 3, 8, 8})).square().sum().backward();
      for (const auto& p : vit->named_parameters())
        EXPECT_EQ(p.value().grad().defined(), p.value().requires_grad()) << method << " " << p.key();
    }
}

TEST(Trainable, RefusesWhatCannotBeTrained) {
  Recipe r = tiny_recipe();
  model::ViT vit = build_backbone(r, 3);
  EXPECT_THROW(Trainable(*vit, "sct"), InputError);  // no modules installed
  EXPECT_THROW(Trainable(*vit, "lora"), InputError);
  EXPECT_THROW(prepare_method(*vit, r, nullptr), Error);
  model::ViT headless = build_backbone(r, 0);
  EXPECT_THROW(Trainable(*headless, "linear"), InputError);
}

TEST(Backbone, RandomInitIsSeededAndFollowsTheRecipe) {
  Recipe r = tiny_recipe();
  model::ViT a = build_backbone(r, 5), b = build_backbone(r, 5);
  r.seed = 5;
  model::ViT c = build_backbone(r, 5);
  auto pa = a->named_parameters(), pb = b->named_parameters(), pc = c->named_parameters();
  for (const auto& p : pa) EXPECT_TRUE(at::equal(p.value(), pb[p.key()])) << p.key();
  EXPECT_FALSE(at::equal(pa["head.weight"], pc["head.weight"]));
  EXPECT_EQ(a->config().dim, 16);
  EXPECT_EQ(a->config().num_classes, 5);
  EXPECT_DOUBLE_EQ(a->config().drop_path, 0.1);
  r.model.arch = "vit-ti16";
  r.model.image_size = 32;
  EXPECT_EQ(backbone_config(r, 0).dim, 192);
  r.model.arch = "custom";
  r.model.heads = 3;  // does not divide 16
  EXPECT_THROW(build_backbone(r, 2), InputError);
}

TEST(Backbone, CheckpointAtTheRecipesImageSizeWithAFreshHead) {
  const auto dir = std::filesystem::temp_directory_path() / ("sct_peft_bb_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "tiny.safetensors").string();
  model::ViTConfig c;
  c.dim = 16;
  c.depth = 2;
  c.heads = 2;
  c.patch = 4;
  c.image_size = 8;
  c.num_classes = 5;
  at::manual_seed(9);
  model::ViT src(c);
  model::save_model(path, *src);

  Recipe r = tiny_recipe();
  r.model.checkpoint = path;
  r.model.image_size = 16;  // 2x2 -> 4x4 patches
  model::ViT m = build_backbone(r, 3);
  EXPECT_EQ(m->config().image_size, 16);
  EXPECT_EQ(m->config().num_classes, 3);
  auto ps = src->named_parameters(), pm = m->named_parameters();
  EXPECT_TRUE(at::equal(ps["blocks.1.attn.qkv.weight"], pm["blocks.1.attn.qkv.weight"]));
  EXPECT_EQ(pm["pos_embed"].size(1), 17);
  EXPECT_TRUE(at::equal(ps["pos_embed"].select(1, 0), pm["pos_embed"].select(1, 0)));  // CLS row kept
  EXPECT_EQ(pm["head.weight"].size(0), 3);
  EXPECT_EQ(backbone_config(r, 3).grid(), 4);

  r.model.arch = "vit-b16";
  try {
    build_backbone(r, 3);
    ADD_FAILURE() << "arch mismatch accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("model.arch"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sct::peft
