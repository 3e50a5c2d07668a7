// The saliency accumulator against hand computations (patch tokens only, q and v parts, classes
// present), its exactness under any order and batching of images, and the pass over a task file
// (exactly-once shards, eval mode, refusals).
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "framework/core/error.h"
#include "framework/data/convert.h"
#include "framework/data/synth.h"
#include "framework/data/task_file.h"
#include "framework/dist/communicator.h"
#include "framework/peft/saliency.h"
#include "framework/peft/sct_module.h"

namespace sct::peft {
namespace {

using model::Tap;

// Features with exactly representable squares: x[b, t, j] = (b + 1) * (t + 1) / 4 + j / 8, and a
// huge CLS token that must not count.
at::Tensor features(int64_t B, int64_t tokens, int64_t width) {
  at::Tensor x = at::empty({B, tokens, width}, at::kDouble);
  auto a = x.accessor<double, 3>();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < tokens; ++t)
      for (int64_t j = 0; j < width; ++j) a[b][t][j] = t == 0 ? 1e6 : (b + 1) * (t + 1) / 4.0 + j / 8.0;
  return x;
}

double hand_sum(const at::Tensor& x, int64_t b, int64_t j) {
  double s = 0;
  for (int64_t t = 1; t < x.size(1); ++t) s += x[b][t][j].item<double>() * x[b][t][j].item<double>();
  return s;
}

TEST(SaliencyAccumulator, PatchTokenSumsPerClassAndScores) {
  auto comm = dist::make_local_communicator();
  const int64_t D = 3;
  SaliencyAccumulator acc("attn", 2, D, 3);
  const at::Tensor x = features(2, 4, D);
  acc.set_labels({2, 0});
  acc.observe(0, Tap::kQkv, at::full({2, 4, 3 * D}, 1e9, at::kDouble));  // not attn's tap: ignored
  acc.observe(0, Tap::kAttnOut, x);
  acc.observe(1, Tap::kAttnOut, x * 2);
  acc.observe(1, Tap::kBlockOut, at::full({2, 4, D}, 1e9, at::kDouble));
  acc.set_labels({2});
  acc.observe(0, Tap::kAttnOut, x.narrow(0, 1, 1));
  acc.observe(1, Tap::kAttnOut, x.narrow(0, 1, 1));
  const SaliencyTotals t = acc.reduce(*comm);
  EXPECT_EQ(t.images, 3);
  EXPECT_EQ(t.class_counts, (std::vector<int64_t>{1, 0, 2}));
  EXPECT_EQ(t.classes_present(), 2);
  for (int64_t j = 0; j < D; ++j) {
    EXPECT_EQ(t.class_sum(0, 0, 0, j), hand_sum(x, 1, j));
    EXPECT_EQ(t.class_sum(0, 0, 1, j), 0.0);
    EXPECT_EQ(t.class_sum(0, 0, 2, j), hand_sum(x, 0, j) + hand_sum(x, 1, j));
    EXPECT_EQ(t.class_sum(1, 0, 2, j), 4 * hand_sum(x, 0, j) + hand_sum(x, 1, j));
    EXPECT_EQ(t.total_sum(0, 0, j), hand_sum(x, 0, j) + 2 * hand_sum(x, 1, j));
  }
  const auto cais = saliency_scores(t, "cais");
  const auto task = saliency_scores(t, "task");
  for (int64_t j = 0; j < D; ++j) {
    EXPECT_DOUBLE_EQ(cais[0][0][size_t(j)], (std::sqrt(t.class_sum(0, 0, 0, j)) + std::sqrt(t.class_sum(0, 0, 2, j))) / 2);
    EXPECT_DOUBLE_EQ(task[1][0][size_t(j)], std::sqrt(t.total_sum(1, 0, j)));
  }
  // The features grow with j, so the top 2 are channels 1 and 2.
  const ChannelSelection sel = select_from_totals(t, "cais", 2);
  EXPECT_EQ(sel.layers[1].indices[0], (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(sel.classes_present, 2);
  EXPECT_EQ(sel.images, 3);
}

TEST(SaliencyAccumulator, QkvUsesTheQAndVThirds) {
  auto comm = dist::make_local_communicator();
  const int64_t D = 2;
  SaliencyAccumulator acc("qkv", 1, D, 1);
  const at::Tensor x = features(1, 3, 3 * D);
  acc.set_labels({0});
  acc.observe(0, Tap::kQkv, x);
  const SaliencyTotals t = acc.reduce(*comm);
  ASSERT_EQ(t.parts, 2);
  for (int64_t j = 0; j < D; ++j) {
    EXPECT_EQ(t.class_sum(0, 0, 0, j), hand_sum(x, 0, j));
    EXPECT_EQ(t.class_sum(0, 1, 0, j), hand_sum(x, 0, 2 * D + j));
  }
}

TEST(SaliencyAccumulator, TotalsDoNotDependOnOrderOrBatching) {
  auto comm = dist::make_local_communicator();
  at::manual_seed(1);
  const at::Tensor x = at::randn({6, 5, 4}) * 3;  // float32, as in a real pass
  const std::vector<int64_t> labels{0, 1, 0, 2, 1, 0};
  auto run = [&](const std::vector<std::vector<int64_t>>& batches) {
    SaliencyAccumulator acc("mlp", 1, 4, 3);
    for (const auto& b : batches) {
      std::vector<int64_t> l;
      for (int64_t i : b) l.push_back(labels[size_t(i)]);
      acc.set_labels(l);
      acc.observe(0, Tap::kBlockOut, x.index_select(0, at::tensor(b, at::kLong)));
    }
    return acc.reduce(*comm);
  };
  const SaliencyTotals a = run({{0, 1, 2, 3, 4, 5}});
  const SaliencyTotals b = run({{4, 1}, {5, 3, 0, 2}});
  const SaliencyTotals c = run({{5}, {4}, {3}, {2}, {1}, {0}});
  EXPECT_EQ(a.class_sums, b.class_sums);
  EXPECT_EQ(a.class_sums, c.class_sums);
  EXPECT_EQ(a.total_sums, c.total_sums);
  // And they are the float64 sums to within rounding.
  const at::Tensor s = x.to(at::kDouble).narrow(1, 1, 4).square().sum(1);  // [6, 4]
  EXPECT_NEAR(a.class_sum(0, 0, 0, 2), (s[0][2] + s[2][2] + s[5][2]).item<double>(), 1e-12);
}

TEST(SaliencyAccumulator, RejectsBadLabelsAndFeatures) {
  SaliencyAccumulator acc("attn", 1, 2, 2);
  EXPECT_THROW(acc.set_labels({2}), Error);
  acc.set_labels({1});
  at::Tensor x = at::ones({1, 3, 2});
  x[0][1][1] = std::numeric_limits<float>::infinity();
  EXPECT_THROW(acc.observe(0, Tap::kAttnOut, x), Error);
  EXPECT_THROW(SaliencyAccumulator("ffn", 1, 2, 2), InputError);
}

class SaliencyPass : public ::testing::Test {
 protected:
  std::filesystem::path dir = std::filesystem::temp_directory_path() / ("sct_peft_sal_" + std::to_string(::getpid()));
  std::shared_ptr<const data::TaskFile> file;
  model::ViTConfig config;
  void SetUp() override {
    std::filesystem::create_directories(dir);
    const std::string path = (dir / "t.h5").string();
    data::TaskMetadata meta;
    meta.task = "t";
    meta.num_classes = 4;
    meta.height = meta.width = 16;
    data::TaskWriter w(path, meta);
    data::write_split(w, data::synth_split_source("train", 9, 4, 16, 16, 2), 16, 16, 1, "test");
    w.commit();
    file = std::make_shared<const data::TaskFile>(path);
    config.dim = 8;
    config.depth = 2;
    config.heads = 2;
    config.patch = 4;
    config.image_size = 16;
    config.drop_path = 0.5;
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  SaliencyTotals local(model::ViTImpl& m, int rank, int world, int64_t batch = 2) {
    auto comm = dist::make_local_communicator();
    SaliencyAccumulator acc("attn", config.depth, config.dim, 4);
    SaliencyPassOptions o;
    o.split = "train";
    o.batch = batch;
    accumulate_split(m, file, o, rank, world, acc);
    return acc.reduce(*comm);
  }
};

TEST_F(SaliencyPass, ShardsCoverEveryImageOnceInEvalMode) {
  at::manual_seed(0);
  model::ViT vit(config);
  vit->train();  // the pass must switch DropPath off and restore the mode
  const SaliencyTotals one = local(*vit, 0, 1);
  EXPECT_TRUE(vit->is_training());
  EXPECT_EQ(one.images, 9);
  std::vector<int64_t> hist(4, 0);
  for (int64_t c : file->labels("train")) ++hist[size_t(c)];
  EXPECT_EQ(one.class_counts, hist);
  EXPECT_EQ(local(*vit, 0, 1).class_sums, one.class_sums);  // no DropPath randomness
  for (int world : {2, 3, 7}) {
    std::vector<int64_t> counts(4, 0);
    std::vector<double> sums(one.class_sums.size(), 0.0);
    for (int r = 0; r < world; ++r) {
      const SaliencyTotals part = local(*vit, r, world);
      for (size_t c = 0; c < 4; ++c) counts[c] += part.class_counts[c];
      for (size_t i = 0; i < sums.size(); ++i) sums[i] += part.class_sums[i];
    }
    EXPECT_EQ(counts, hist) << world;
    for (size_t i = 0; i < sums.size(); ++i) EXPECT_NEAR(sums[i], one.class_sums[i], 1e-9 * one.class_sums[i]);
  }
}

TEST_F(SaliencyPass, RefusesAdaptersAndWrongImageSize) {
  at::manual_seed(0);
  model::ViT vit(config);
  vit->set_adapter(1, model::Site::kMlpOut,
                   std::make_shared<SctAdapterImpl>(8, std::vector<SctAdapterImpl::Group>{{"", {1}}},
                                                    ScaleForm::kNone, 1.0, 0));
  EXPECT_THROW(local(*vit, 0, 1), Error);
  config.image_size = 32;
  model::ViT big(config);
  EXPECT_THROW(local(*big, 0, 1), InputError);
}

}  // namespace
}  // namespace sct::peft
