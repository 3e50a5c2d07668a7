// Selection rules against hand computations: top-K tie-break, K resolution, the documented
// random PRNG, channels.json round trip and errors, parameter counts of ViT-B/16.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "framework/core/error.h"
#include "framework/core/fs.h"
#include "framework/core/recipe.h"
#include "framework/model/vit_config.h"
#include "framework/peft/channels.h"
#include "framework/peft/param_count.h"

namespace sct::peft {
namespace {

using V = std::vector<int64_t>;

TEST(TopK, LargerScoreFirstThenSmallerIndexAscendingOutput) {
  EXPECT_EQ(top_k({1, 3, 3, 2, 3}, 2), (V{1, 2}));
  EXPECT_EQ(top_k({1, 3, 3, 2, 3}, 3), (V{1, 2, 4}));
  EXPECT_EQ(top_k({1, 3, 3, 2, 3}, 4), (V{1, 2, 3, 4}));
  EXPECT_EQ(top_k({5, 5, 5, 5}, 2), (V{0, 1}));  // the reference's strict '>' would return none
  EXPECT_EQ(top_k({0.5, -1, 7, 0.25}, 1), (V{2}));
  EXPECT_EQ(top_k({0.5, -1, 7, 0.25}, 4), (V{0, 1, 2, 3}));
}

TEST(TopK, RejectsNonFiniteScoresAndBadK) {
  EXPECT_THROW(top_k({1, std::nan(""), 2}, 1), Error);
  EXPECT_THROW(top_k({1, 2}, 0), Error);
  EXPECT_THROW(top_k({1, 2}, 3), Error);
}

TEST(ResolveK, CountFractionAndDefault) {
  PeftSection p;
  EXPECT_EQ(resolve_k(p, 768), 96);  // D / 8
  EXPECT_EQ(resolve_k(p, 24), 3);
  p.k_fraction = 0.3;
  EXPECT_EQ(resolve_k(p, 10), 3);
  p.k_fraction = 0.01;
  EXPECT_EQ(resolve_k(p, 10), 1);  // at least one channel
  p.k = 7;
  EXPECT_EQ(resolve_k(p, 10), 7);
  p.k = 11;
  EXPECT_THROW(resolve_k(p, 10), InputError);
}

// splitmix64 Fisher-Yates by hand for seed 0, layer 0, part 0, D = 4, K = 2: the first two
// outputs of splitmix64 from state 0 are the published test vector values.
TEST(RandomChannels, DocumentedGenerator) {
  const uint64_t z1 = 0xE220A8397B1DCDAFull, z2 = 0x6E789E6AA1B965F4ull;
  std::vector<int64_t> perm{0, 1, 2, 3};
  std::swap(perm[0], perm[size_t(z1 % 4)]);
  std::swap(perm[1], perm[size_t(1 + z2 % 3)]);
  V want{perm[0], perm[1]};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(random_channels(0, 0, 0, 4, 2), want);
}

TEST(RandomChannels, SizeOrderReproducibilityAndStreams) {
  const V a = random_channels(42, 3, 1, 768, 96);
  ASSERT_EQ(a.size(), 96u);
  for (size_t i = 1; i < a.size(); ++i) EXPECT_LT(a[i - 1], a[i]);
  EXPECT_GE(a.front(), 0);
  EXPECT_LT(a.back(), 768);
  EXPECT_EQ(a, random_channels(42, 3, 1, 768, 96));
  EXPECT_NE(a, random_channels(42, 3, 0, 768, 96));
  EXPECT_NE(a, random_channels(42, 4, 1, 768, 96));
  EXPECT_NE(a, random_channels(43, 3, 1, 768, 96));
  EXPECT_EQ(random_channels(1, 0, 0, 5, 5), (V{0, 1, 2, 3, 4}));
  const ChannelSelection s = random_selection("qkv", 2, 16, 4, 9);
  ASSERT_EQ(s.layers.size(), 2u);
  ASSERT_EQ(s.layers[1].indices.size(), 2u);
  EXPECT_EQ(s.layers[1].indices[1], random_channels(9, 1, 1, 16, 4));
}

class SelectionFile : public ::testing::Test {
 protected:
  std::string dir = (std::filesystem::temp_directory_path() / ("sct_peft_" + std::to_string(::getpid()))).string();
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::string write(const std::string& name, const std::string& text) {
    const std::string p = dir + "/" + name;
    atomic_write(p, text);
    return p;
  }
};

TEST_F(SelectionFile, RoundTripIsExactAndDeterministic) {
  ChannelSelection s;
  s.task = "dtd \"x\"";
  s.mode = "qkv";
  s.strategy = "cais";
  s.k = 2;
  s.dim = 3;
  s.depth = 1;
  s.images = 7;
  s.num_classes = 4;
  s.classes_present = 3;
  s.layers.push_back({{{0, 2}, {1, 2}}, {{0.1, 1.0 / 3.0, 2e-300}, {5, 4, 3}}});
  const std::string p = dir + "/c.json";
  write_selection(p, s);
  const ChannelSelection r = read_selection(p);
  EXPECT_EQ(r.task, s.task);
  EXPECT_EQ(r.layers[0].indices, s.layers[0].indices);
  EXPECT_EQ(r.layers[0].scores, s.layers[0].scores);  // %.17g round-trips every double
  EXPECT_EQ(selection_to_json(r), selection_to_json(s));
}

TEST_F(SelectionFile, DefectsNameFileAndKey) {
  const std::string good = selection_to_json(random_selection("attn", 2, 8, 3, 1));
  EXPECT_NO_THROW(read_selection(write("good.json", good)));
  auto expect_error = [&](const std::string& text, const std::string& needle) {
    try {
      read_selection(write("bad.json", text));
      ADD_FAILURE() << "no error for " << needle;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("bad.json"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error("{", "not valid JSON");
  auto replace = [&](std::string s, const std::string& from, const std::string& to) {
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  expect_error(replace(good, "\"mode\": \"attn\"", "\"mode\": \"mlpp\""), "peft.mode");
  expect_error(replace(good, "\"depth\": 2", "\"depth\": 3"), "layers");
  expect_error(replace(good, "\"k\": 3", "\"k\": 4"), "h_indices");
  expect_error(replace(good, "\"dim\": 8", "\"dim\": \"8\""), "'dim'");
}

TEST(ParamCount, VitB16MatchesThePaper) {
  const model::ViTConfig b = model::vit_preset("vit-b16");
  PeftSection p;  // sct, attn, K = D/8 = 96
  ParamCount n = count_params(b, p, 100);
  EXPECT_EQ(n.without_head, 111744);  // 12 * (96^2 + 96)
  EXPECT_EQ(n.head, 76900);           // (768 + 1) * 100
  EXPECT_EQ(n.trainable, 111744 + 76900);
  EXPECT_EQ(n.backbone, 85798656);
  p.mode = "qkv";
  EXPECT_EQ(count_params(b, p, 100).without_head, 223488);
  p.mode = "mlp";
  p.k = 192;
  EXPECT_EQ(count_params(b, p, 0).trainable, 12 * (192 * 192 + 192));
  p.method = "linear";
  EXPECT_EQ(count_params(b, p, 10).trainable, 7690);
  p.method = "full";
  EXPECT_EQ(count_params(b, p, 10).trainable, 85798656 + 7690);
  p.method = "bitfit";
  // Per block: norm1 768, qkv 2304, proj 768, norm2 768, fc1 3072, fc2 768; + patch and final norm.
  EXPECT_EQ(count_params(b, p, 10).without_head, 12 * 8448 + 768 + 768);
  p.method = "sct";
  p.k = 0;
  p.mode = "attn";
  const std::string line = format_param_count(count_params(b, p, 100), p, 768);
  EXPECT_NE(line.find("111,744 trainable without head"), std::string::npos) << line;
  EXPECT_NE(line.find("188,644 with head"), std::string::npos) << line;
  EXPECT_EQ(group_digits(85798656), "85,798,656");
  EXPECT_EQ(group_digits(7), "7");
  EXPECT_EQ(group_digits(-1234), "-1,234");
}

}  // namespace
}  // namespace sct::peft
