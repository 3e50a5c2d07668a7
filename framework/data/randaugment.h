// RandAugment as timm's rand_augment_transform builds it (timm 0.6, the reference's version):
// for each image pick `n` ops uniformly with replacement from the 15-op list; each op runs
// with probability 0.5 at a magnitude drawn from N(m, mstd) clipped to [0, mmax]; the
// magnitude maps to the op's argument by timm's level rules, with a random sign for
// rotate/shear/translate and, in the "increasing" variants, for the enhance factors.
#pragma once

#include <string>

#include "framework/data/image_ops.h"
#include "framework/data/rng.h"

namespace sct::data {

enum class RaOp {
  kAutoContrast, kEqualize, kInvert, kRotate, kPosterize, kSolarize, kSolarizeAdd, kColor,
  kContrast, kBrightness, kSharpness, kShearX, kShearY, kTranslateXRel, kTranslateYRel
};
constexpr int kNumRaOps = 15;

struct RandAugmentConfig {
  int num_ops = 2;               // n
  double magnitude = 10;         // m
  double magnitude_std = 0;      // mstd; infinity = uniform in [0, m] (timm: mstd > 100)
  double magnitude_max = 10;     // mmax
  bool increasing = false;       // inc1: the *Increasing variants of posterize/solarize/enhance
  double prob = 0.5;             // per-op application probability (timm's rand_augment_ops)
  double translate_pct = 0.45;   // TranslateXRel/YRel range (timm hparams default)

  // Parses timm's config string, e.g. "rand-m9-mstd0.5-inc1"; InputError on anything else.
  static RandAugmentConfig parse(const std::string& spec);
  std::string describe() const;
};

// timm's op name, e.g. "SolarizeIncreasing".
std::string ra_op_name(RaOp op, bool increasing);

// Applies one op at `level` (an already sampled magnitude); draws the sign from `rng`.
void apply_ra_op(ImageU8& image, RaOp op, double level, const RandAugmentConfig& config,
                 Rng& rng, const Rgb& fill);

// The whole RandAugment step on one RGB image.
void rand_augment(ImageU8& image, const RandAugmentConfig& config, Rng& rng, const Rgb& fill);

}  // namespace sct::data
