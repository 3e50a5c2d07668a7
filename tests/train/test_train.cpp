// Trainer building blocks against hand computations: the lr schedule formula of the
// reference recipe, label-smoothed cross-entropy, AdamW, the flat trainable buffer, and the
// checkpointer's resume and save.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "framework/core/error.h"
#include "framework/dist/communicator.h"
#include "framework/train/checkpointer.h"
#include "framework/train/flat_params.h"
#include "framework/train/loss.h"
#include "framework/train/metrics.h"
#include "framework/train/schedule.h"
#include "framework/train/selection.h"

using namespace sct::train;

namespace {

// method.md §4 written out independently of the implementation.
double reference_lr(int e, double base) {
  auto f = [base](double t) {
    if (t < 10) return 1e-6 + t * (base - 1e-6) / 10.0;
    return 1e-5 + 0.5 * (base - 1e-5) * (1.0 + std::cos(M_PI * t / 100.0));
  };
  return e == 0 ? 1e-6 : f(e - 1);
}

}  // namespace

TEST(Schedule, PerEpochMatchesTheReferenceFormula) {
  for (double base : {0.013, 0.0007, 0.075, 1.0}) {
    ScheduleParams p;
    p.base_lr = base;
    for (int e = 0; e < 100; ++e) {
      EXPECT_NEAR(learning_rate(p, e), reference_lr(e, base), 1e-12) << "epoch " << e << " base " << base;
      // Constant within the epoch.
      EXPECT_EQ(learning_rate(p, e, 7), learning_rate(p, e, 0));
    }
    EXPECT_NEAR(learning_rate(p, 11) / base, 0.9755, 1e-3);  // the peak, in epoch 11
    EXPECT_EQ(learning_rate(p, 0), 1e-6);
    EXPECT_EQ(learning_rate(p, 1), 1e-6);  // f(0)
  }
}

TEST(Schedule, PerStepVariantWarmsUpLinearlyInSteps) {
  ScheduleParams p;
  p.base_lr = 0.01;
  p.per_step = true;
  p.steps_per_epoch = 15;
  EXPECT_NEAR(learning_rate(p, 0, 0), 1e-6, 1e-15);
  EXPECT_NEAR(learning_rate(p, 0, 75), 1e-6 + 75 * (0.01 - 1e-6) / 150.0, 1e-15);
  EXPECT_NEAR(learning_rate(p, 10, 0), 1e-5 + 0.5 * (0.01 - 1e-5) * (1 + std::cos(M_PI * 150 / 1500.0)), 1e-15);
}

TEST(Loss, LabelSmoothingMatchesHandComputation) {
  at::manual_seed(0);
  at::Tensor logits = at::randn({5, 7}, at::kDouble);
  at::Tensor labels = at::tensor({0, 3, 6, 2, 2}, at::kLong);
  for (double s : {0.0, 0.1, 0.5}) {
    at::Tensor got = smoothed_cross_entropy(logits, labels, s);
    auto L = logits.accessor<double, 2>();
    for (int i = 0; i < 5; ++i) {
      double m = -1e300;
      for (int k = 0; k < 7; ++k) m = std::max(m, L[i][k]);
      double z = 0;
      for (int k = 0; k < 7; ++k) z += std::exp(L[i][k] - m);
      auto logp = [&](int k) { return L[i][k] - m - std::log(z); };
      double uniform = 0;
      for (int k = 0; k < 7; ++k) uniform += -logp(k) / 7.0;
      double want = (1 - s) * -logp(labels[i].item<int64_t>()) + s * uniform;
      EXPECT_NEAR(got[i].item<double>(), want, 1e-12) << "sample " << i << " s " << s;
    }
  }
}

TEST(AdamW, MatchesScalarHandImplementation) {
  const double lr = 0.01, wd = 0.3, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  at::manual_seed(1);
  at::Tensor values = at::randn({6}, at::kFloat);
  std::vector<double> p(6), m(6, 0), v(6, 0);
  for (int i = 0; i < 6; ++i) p[i] = values[i].item<float>();
  AdamW opt(6, b1, b2, eps, wd);
  for (int t = 1; t <= 5; ++t) {
    at::Tensor g = at::randn({6}, at::kFloat);
    opt.step(values, g, lr);
    for (int i = 0; i < 6; ++i) {
      double gi = g[i].item<float>();
      p[i] *= 1 - lr * wd;
      m[i] = b1 * m[i] + (1 - b1) * gi;
      v[i] = b2 * v[i] + (1 - b2) * gi * gi;
      double mhat = m[i] / (1 - std::pow(b1, t)), vhat = v[i] / (1 - std::pow(b2, t));
      p[i] -= lr * mhat / (std::sqrt(vhat) + eps);
    }
  }
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(values[i].item<float>(), p[i], 2e-6) << i;
  EXPECT_EQ(opt.steps(), 5);
}

TEST(FlatParams, ParametersAreViewsAndGradientsLandInTheBuffer) {
  at::Tensor w = at::randn({3, 4}).set_requires_grad(true);
  at::Tensor b = at::randn({4}).set_requires_grad(true);
  at::Tensor w0 = w.detach().clone(), b0 = b.detach().clone();
  FlatParams flat({{"w", w}, {"b", b}});
  ASSERT_EQ(flat.numel(), 16);
  EXPECT_TRUE(at::equal(flat.values().narrow(0, 0, 12).view({3, 4}), w0));
  EXPECT_TRUE(at::equal(flat.values().narrow(0, 12, 4), b0));
  // Writing the flat buffer changes the parameters the model uses.
  {
    at::NoGradGuard ng;
    flat.values().add_(1.0);
  }
  EXPECT_TRUE(at::allclose(w, w0 + 1));
  // Backward accumulates into the flat gradient buffer; zero_grad clears it.
  at::Tensor x = at::randn({2, 3});
  at::Tensor y = (x.matmul(w) + b).pow(2).sum();
  y.backward();
  at::Tensor gw = 2 * x.t().matmul(x.matmul(w.detach()) + b.detach());
  EXPECT_TRUE(at::allclose(flat.grads().narrow(0, 0, 12).view({3, 4}), gw, 1e-4, 1e-5));
  EXPECT_TRUE(at::allclose(flat.grads().narrow(0, 12, 4), 2 * (x.matmul(w.detach()) + b.detach()).sum(0), 1e-4, 1e-5));
  flat.zero_grad();
  EXPECT_EQ(flat.grads().abs().sum().item<float>(), 0.0f);
  (x.matmul(w) + b).sum().backward();
  EXPECT_TRUE(at::allclose(flat.grads().narrow(0, 12, 4), at::full({4}, 2.0f)));
}

namespace {

// A fresh directory under the system temp dir, removed with the object.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& name)
      : path(std::filesystem::temp_directory_path() / (name + "_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

// Two named trainable tensors of random values.
std::vector<std::pair<std::string, at::Tensor>> trainable_set() {
  return {{"w", at::randn({3, 4}).set_requires_grad(true)}, {"b", at::randn({4}).set_requires_grad(true)}};
}

}  // namespace

TEST(Checkpointer, SaveThenResumeRestoresValuesMomentsAndState) {
  at::manual_seed(3);
  TempDir dir("sct_test_checkpointer");
  auto comm = sct::dist::make_local_communicator();
  const nlohmann::json meta = {{"channels", {1, 2, 3}}};
  FlatParams flat(trainable_set());
  AdamW optimizer(flat.numel(), 0.9, 0.999, 1e-8, 1e-4);
  for (int i = 0; i < 3; ++i) optimizer.step(flat.values(), at::randn({flat.numel()}), 0.01);
  Checkpointer saver(*comm, dir.path.string(), "hash", meta, flat, optimizer);
  TrainState none;
  EXPECT_FALSE(saver.resume(none));  // nothing saved yet: nothing changes
  EXPECT_EQ(none.epoch, 0);
  TrainState state;
  state.epoch = 2, state.step = 1, state.best_acc = 40.0, state.best_epoch = 1;
  state.loss_sum = 3.5, state.correct = 7, state.count = 16;
  saver.save(state);
  EXPECT_EQ(saver.path(), checkpoint_path(dir.path.string()));

  FlatParams other(trainable_set());
  AdamW other_optimizer(other.numel(), 0.9, 0.999, 1e-8, 1e-4);
  Checkpointer loader(*comm, dir.path.string(), "hash", meta, other, other_optimizer);
  TrainState resumed;
  ASSERT_TRUE(loader.resume(resumed));
  EXPECT_TRUE(at::equal(other.values(), flat.values()));
  EXPECT_TRUE(at::equal(other_optimizer.exp_avg(), optimizer.exp_avg()));
  EXPECT_TRUE(at::equal(other_optimizer.exp_avg_sq(), optimizer.exp_avg_sq()));
  EXPECT_EQ(other_optimizer.steps(), 3);
  EXPECT_EQ(resumed.epoch, 2);
  EXPECT_EQ(resumed.step, 1);
  EXPECT_EQ(resumed.adam_steps, 3);
  EXPECT_EQ(resumed.best_acc, 40.0);
  EXPECT_EQ(resumed.best_epoch, 1);
  // One rank: rank 0 keeps the partial sums.
  EXPECT_EQ(resumed.loss_sum, 3.5);
  EXPECT_EQ(resumed.correct, 7);
  EXPECT_EQ(resumed.count, 16);
}

TEST(Checkpointer, ResumeRefusesAnotherRunsCheckpoint) {
  TempDir dir("sct_test_checkpointer_refuse");
  auto comm = sct::dist::make_local_communicator();
  FlatParams flat(trainable_set());
  AdamW optimizer(flat.numel(), 0.9, 0.999, 1e-8, 1e-4);
  Checkpointer(*comm, dir.path.string(), "hash", {{"channels", {1}}}, flat, optimizer).save(TrainState());
  TrainState state;
  Checkpointer other_meta(*comm, dir.path.string(), "hash", {{"channels", {2}}}, flat, optimizer);
  try {
    other_meta.resume(state);
    FAIL() << "a checkpoint of other extra state was accepted";
  } catch (const sct::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("its saved state"), std::string::npos) << e.what();
  }
  Checkpointer other_recipe(*comm, dir.path.string(), "other", {{"channels", {1}}}, flat, optimizer);
  EXPECT_THROW(other_recipe.resume(state), sct::InputError);
}

TEST(Checkpointer, FailedWriteIsAnError) {
  TempDir dir("sct_test_checkpointer_write");
  const std::string not_a_dir = (dir.path / "file").string();
  std::ofstream(not_a_dir) << "x";
  auto comm = sct::dist::make_local_communicator();
  FlatParams flat(trainable_set());
  AdamW optimizer(flat.numel(), 0.9, 0.999, 1e-8, 1e-4);
  Checkpointer checkpointer(*comm, not_a_dir, "hash", nlohmann::json::object(), flat, optimizer);
  try {
    checkpointer.save(TrainState());
    FAIL() << "writing under a regular file succeeded";
  } catch (const sct::Error& e) {
    EXPECT_EQ(e.exit_code(), sct::kExitFailure);
    EXPECT_NE(std::string(e.what()).find(not_a_dir), std::string::npos) << e.what();
  }
}

namespace {

// A curve of 10 epochs evaluated after epochs 1, 3, ..., 9 on val and test: val peaks at
// epoch 5 (and ties it at 9, which must not win), test peaks at epoch 7.
std::vector<EpochMetrics> synthetic_curve() {
  const double val[] = {50, 60, 70, 65, 70};
  const double test[] = {40, 55, 58, 63, 61};
  std::vector<EpochMetrics> curve;
  for (int e = 0; e < 10; ++e) {
    EpochMetrics m;
    m.epoch = e;
    if (e % 2 == 1) {
      m.evals["val"] = val[e / 2];
      m.evals["test"] = test[e / 2];
      m.eval_acc = m.evals["test"];
    }
    curve.push_back(m);
  }
  return curve;
}

}  // namespace

TEST(Selection, SelectOnValReportsTestAtTheFirstBestValEpoch) {
  const Selection s = select_epochs(synthetic_curve(), {"test"}, "val");
  EXPECT_EQ(s.selected_on, "val");
  EXPECT_EQ(s.epoch, 5);
  EXPECT_DOUBLE_EQ(s.selection_acc, 70);
  ASSERT_EQ(s.splits.size(), 1u);
  EXPECT_EQ(s.splits[0].split, "test");
  EXPECT_EQ(s.splits[0].best_epoch, 5);
  EXPECT_DOUBLE_EQ(s.splits[0].best, 58);  // not test's own best, 63
  EXPECT_DOUBLE_EQ(s.splits[0].last, 61);
}

TEST(Selection, WithoutSelectOnEverySplitAtItsOwnBest) {
  const Selection s = select_epochs(synthetic_curve(), {"val", "test"}, "");
  EXPECT_EQ(s.selected_on, "");
  ASSERT_EQ(s.splits.size(), 2u);
  EXPECT_EQ(s.splits[0].best_epoch, 5);  // the first of val's two 70s
  EXPECT_DOUBLE_EQ(s.splits[0].best, 70);
  EXPECT_DOUBLE_EQ(s.splits[0].last, 70);
  EXPECT_EQ(s.splits[1].best_epoch, 7);
  EXPECT_DOUBLE_EQ(s.splits[1].best, 63);
  EXPECT_DOUBLE_EQ(s.splits[1].last, 61);
}

TEST(Selection, ASplitNeverEvaluatedStaysUnset) {
  const Selection s = select_epochs(synthetic_curve(), {"sketch"}, "val");
  ASSERT_EQ(s.splits.size(), 1u);
  EXPECT_DOUBLE_EQ(s.splits[0].best, -1);
  EXPECT_DOUBLE_EQ(s.splits[0].last, -1);
}

TEST(Metrics, PerSplitEvaluationsRoundTripAndOldLinesStillRead) {
  EpochMetrics m = synthetic_curve()[3];
  const EpochMetrics back = epoch_metrics_from_json(to_json(m));
  EXPECT_EQ(back.evals, m.evals);
  // A line written before several splits: no "evals".
  nlohmann::json old = to_json(m);
  old.erase("evals");
  EXPECT_TRUE(epoch_metrics_from_json(old).evals.empty());
  EXPECT_DOUBLE_EQ(*epoch_metrics_from_json(old).eval_acc, 55);
}
