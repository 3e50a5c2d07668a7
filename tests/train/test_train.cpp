// Trainer building blocks against hand computations: the lr schedule formula of the
// reference recipe, label-smoothed cross-entropy, AdamW, and the flat trainable buffer.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

#include "framework/train/flat_params.h"
#include "framework/train/loss.h"
#include "framework/train/schedule.h"

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
