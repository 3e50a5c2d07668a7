// RandAugment: timm's config parsing and level rules (hand-computed arguments), the 0.5
// per-op probability, and augmentation that depends only on (seed, epoch, index).
#include <gtest/gtest.h>

#include <cmath>

#include "framework/core/error.h"
#include "framework/data/augment.h"

using namespace sct::data;

namespace {

ImageU8 test_image(uint64_t seed = 3) {
  ImageU8 img(20, 24, 3);
  Rng rng(seed);
  // Colourful, mid-range values so that every op visibly changes the image.
  for (auto& v : img.pixels) v = static_cast<uint8_t>(40 + rng.below(170));
  return img;
}

RandAugmentConfig reference_config() { return RandAugmentConfig::parse("rand-m9-mstd0.5-inc1"); }

}  // namespace

TEST(RandAugment, ParsesTimmConfigStrings) {
  const auto c = reference_config();
  EXPECT_EQ(c.num_ops, 2);
  EXPECT_EQ(c.magnitude, 9);
  EXPECT_EQ(c.magnitude_std, 0.5);
  EXPECT_EQ(c.magnitude_max, 10);
  EXPECT_TRUE(c.increasing);
  EXPECT_EQ(c.prob, 0.5);
  const auto d = RandAugmentConfig::parse("rand-n3-m7-mstd101-mmax12");
  EXPECT_EQ(d.num_ops, 3);
  EXPECT_EQ(d.magnitude, 7);
  EXPECT_TRUE(std::isinf(d.magnitude_std));
  EXPECT_EQ(d.magnitude_max, 12);
  EXPECT_FALSE(d.increasing);
  for (const char* bad : {"", "rand-", "rand-m", "rand-x9", "auto-m9", "rand-m9-w0", "randm9"})
    EXPECT_THROW(RandAugmentConfig::parse(bad), sct::InputError) << bad;
}

TEST(RandAugment, LevelRulesMatchTimm) {
  const auto c = reference_config();
  const Rgb fill = {124, 116, 104};
  const ImageU8 base = test_image();
  auto run = [&](RaOp op, double level, double* sign) {
    Rng rng(99);
    Rng peek = rng;  // the sign is the op's first draw: "-v if random() > 0.5 else v"
    *sign = peek.uniform() > 0.5 ? -1.0 : 1.0;
    ImageU8 img = base;
    apply_ra_op(img, op, level, c, rng, fill);
    return img;
  };
  double s = 0;
  {  // PosterizeIncreasing at level 9: 4 - int(0.9 * 4) = 1 bit kept.
    ImageU8 want = base;
    posterize(want, 1);
    EXPECT_EQ(run(RaOp::kPosterize, 9.0, &s).pixels, want.pixels);
  }
  {  // SolarizeIncreasing at level 9: threshold 256 - int(0.9 * 256) = 26.
    ImageU8 want = base;
    solarize(want, 26);
    EXPECT_EQ(run(RaOp::kSolarize, 9.0, &s).pixels, want.pixels);
  }
  {  // SolarizeAdd at level 9.5: add int(0.95 * 110) = 104 below 128.
    ImageU8 want = base;
    solarize_add(want, 104, 128);
    EXPECT_EQ(run(RaOp::kSolarizeAdd, 9.5, &s).pixels, want.pixels);
  }
  {  // BrightnessIncreasing at level 9: 1 +- 0.81.
    ImageU8 got = run(RaOp::kBrightness, 9.0, &s), want = base;
    enhance_brightness(want, 1.0 + s * 0.81);
    EXPECT_EQ(got.pixels, want.pixels);
  }
  {  // Rotate at level 8: +-24 degrees.
    ImageU8 got = run(RaOp::kRotate, 8.0, &s);
    EXPECT_EQ(got.pixels, rotate_bicubic(base, s * 24.0, fill).pixels);
  }
  {  // ShearX at level 10: +-0.3.
    ImageU8 got = run(RaOp::kShearX, 10.0, &s);
    EXPECT_EQ(got.pixels, affine_bicubic(base, {1, s * 0.3, 0, 0, 1, 0}, fill).pixels);
  }
  {  // TranslateYRel at level 9: +-0.405 of the height.
    ImageU8 got = run(RaOp::kTranslateYRel, 9.0, &s);
    EXPECT_EQ(got.pixels, affine_bicubic(base, {1, 0, 0, 0, 1, s * 0.405 * 20}, fill).pixels);
  }
  EXPECT_EQ(ra_op_name(RaOp::kSolarize, true), "SolarizeIncreasing");
  EXPECT_EQ(ra_op_name(RaOp::kShearX, true), "ShearX");
}

TEST(RandAugment, EachOpRunsWithProbabilityOneHalf) {
  // Every op changes this image, so it stays unchanged only when both ops are skipped.
  const auto c = reference_config();
  const ImageU8 base = test_image();
  const int trials = 4000;
  int unchanged = 0;
  for (int i = 0; i < trials; ++i) {
    Rng rng(derive_seed({7, static_cast<uint64_t>(i)}));
    ImageU8 img = base;
    rand_augment(img, c, rng, {124, 116, 104});
    unchanged += img.pixels == base.pixels;
  }
  EXPECT_NEAR(unchanged / double(trials), 0.25, 0.03);  // 4.4 standard deviations
}

TEST(Augmenter, DependsOnlyOnSeedEpochAndIndex) {
  AugmentOptions opt;
  opt.hflip = true;
  opt.randaugment = "rand-m9-mstd0.5-inc1";
  const Augmenter a(opt, Normalization{}), b(opt, Normalization{});
  EXPECT_EQ(a.fill(), (Rgb{124, 116, 104}));  // timm's img_mean for the ImageNet mean
  const ImageU8 base = test_image(5);
  auto view = [&](const Augmenter& aug, uint64_t seed, int64_t epoch, int64_t index) {
    ImageU8 img = base;
    aug.apply(img, seed, epoch, index);
    return img.pixels;
  };
  EXPECT_EQ(view(a, 1, 2, 3), view(b, 1, 2, 3));
  int differ_index = 0, differ_epoch = 0;
  for (int64_t i = 0; i < 20; ++i) {
    differ_index += view(a, 1, 2, i) != view(a, 1, 2, i + 100);
    differ_epoch += view(a, 1, 2, i) != view(a, 1, 3, i);
  }
  EXPECT_GE(differ_index, 15);
  EXPECT_GE(differ_epoch, 15);
}

TEST(Augmenter, FlipOnlyMirrorsHalfTheSamples) {
  AugmentOptions opt;
  opt.hflip = true;
  const Augmenter aug(opt, Normalization{});
  const ImageU8 base = test_image(8);
  ImageU8 mirrored = base;
  for (int y = 0; y < base.height; ++y)
    for (int x = 0; x < base.width; ++x)
      for (int c = 0; c < 3; ++c) mirrored.at(y, x, c) = base.at(y, base.width - 1 - x, c);
  int flipped = 0;
  for (int64_t i = 0; i < 2000; ++i) {
    ImageU8 img = base;
    aug.apply(img, 4, 0, i);
    ASSERT_TRUE(img.pixels == base.pixels || img.pixels == mirrored.pixels);
    flipped += img.pixels == mirrored.pixels;
  }
  EXPECT_NEAR(flipped / 2000.0, 0.5, 0.05);
}
