#include "framework/data/randaugment.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <regex>

#include "framework/core/error.h"

namespace sct::data {
namespace {

constexpr double kLevelDenom = 10.0;  // timm's _LEVEL_DENOM

// timm's _randomly_negate: "-v if random.random() > 0.5 else v".
double randomly_negate(double v, Rng& rng) { return rng.uniform() > 0.5 ? -v : v; }

double enhance_factor(double level, bool increasing, Rng& rng) {
  if (!increasing) return level / kLevelDenom * 1.8 + 0.1;
  return std::max(0.1, 1.0 + randomly_negate(level / kLevelDenom * 0.9, rng));
}

}  // namespace

RandAugmentConfig RandAugmentConfig::parse(const std::string& spec) {
  RandAugmentConfig c;
  auto bad = [&](const std::string& why) {
    return InputError(fmt::format(
        "RandAugment config '{}': {} (expected timm's form, e.g. 'rand-m9-mstd0.5-inc1')", spec, why));
  };
  if (spec.rfind("rand", 0) != 0) throw bad("must start with 'rand'");
  size_t pos = 4;
  const std::regex part("([a-z]+)([0-9][0-9.]*)");
  while (pos < spec.size()) {
    if (spec[pos] != '-') throw bad("sections are separated by '-'");
    size_t end = spec.find('-', pos + 1);
    if (end == std::string::npos) end = spec.size();
    const std::string section = spec.substr(pos + 1, end - pos - 1);
    pos = end;
    std::smatch m;
    if (!std::regex_match(section, m, part)) throw bad(fmt::format("cannot read section '{}'", section));
    const std::string key = m[1];
    const double val = std::stod(m[2]);
    if (key == "m") c.magnitude = std::floor(val);
    else if (key == "n") c.num_ops = static_cast<int>(val);
    else if (key == "mstd") c.magnitude_std = val > 100 ? std::numeric_limits<double>::infinity() : val;
    else if (key == "mmax") c.magnitude_max = std::floor(val);
    else if (key == "inc") c.increasing = val != 0;
    else if (key == "w") throw bad("op weights ('w') are not supported");
    else throw bad(fmt::format("unknown section '{}'", section));
  }
  if (c.num_ops < 0 || c.num_ops > 16) throw bad("n must be in [0, 16]");
  return c;
}

std::string RandAugmentConfig::describe() const {
  return fmt::format("RandAugment(n={}, m={}, mstd={}, mmax={}, p={}, increasing={})", num_ops,
                     magnitude, magnitude_std, magnitude_max, prob, increasing);
}

std::string ra_op_name(RaOp op, bool inc) {
  static const char* names[kNumRaOps] = {
      "AutoContrast", "Equalize", "Invert", "Rotate", "Posterize", "Solarize", "SolarizeAdd",
      "Color", "Contrast", "Brightness", "Sharpness", "ShearX", "ShearY", "TranslateXRel",
      "TranslateYRel"};
  std::string name = names[static_cast<int>(op)];
  switch (op) {
    case RaOp::kPosterize: case RaOp::kSolarize: case RaOp::kColor: case RaOp::kContrast:
    case RaOp::kBrightness: case RaOp::kSharpness:
      if (inc) name += "Increasing";
      break;
    default: break;
  }
  return name;
}

void apply_ra_op(ImageU8& image, RaOp op, double level, const RandAugmentConfig& c, Rng& rng,
                 const Rgb& fill) {
  const double f = level / kLevelDenom;
  switch (op) {
    case RaOp::kAutoContrast: autocontrast(image); break;
    case RaOp::kEqualize: equalize(image); break;
    case RaOp::kInvert: invert(image); break;
    case RaOp::kRotate: image = rotate_bicubic(image, randomly_negate(f * 30.0, rng), fill); break;
    case RaOp::kPosterize: {
      const int bits = static_cast<int>(f * 4);  // keep 0..4 high bits
      posterize(image, c.increasing ? 4 - bits : bits);
      break;
    }
    case RaOp::kSolarize: {
      const int t = std::min(256, static_cast<int>(f * 256));
      solarize(image, c.increasing ? 256 - t : t);
      break;
    }
    case RaOp::kSolarizeAdd: solarize_add(image, std::min(128, static_cast<int>(f * 110)), 128); break;
    case RaOp::kColor: enhance_color(image, enhance_factor(level, c.increasing, rng)); break;
    case RaOp::kContrast: enhance_contrast(image, enhance_factor(level, c.increasing, rng)); break;
    case RaOp::kBrightness: enhance_brightness(image, enhance_factor(level, c.increasing, rng)); break;
    case RaOp::kSharpness: enhance_sharpness(image, enhance_factor(level, c.increasing, rng)); break;
    case RaOp::kShearX:
      image = affine_bicubic(image, {1, randomly_negate(f * 0.3, rng), 0, 0, 1, 0}, fill);
      break;
    case RaOp::kShearY:
      image = affine_bicubic(image, {1, 0, 0, randomly_negate(f * 0.3, rng), 1, 0}, fill);
      break;
    case RaOp::kTranslateXRel: {
      const double px = randomly_negate(f * c.translate_pct, rng) * image.width;
      image = affine_bicubic(image, {1, 0, px, 0, 1, 0}, fill);
      break;
    }
    case RaOp::kTranslateYRel: {
      const double px = randomly_negate(f * c.translate_pct, rng) * image.height;
      image = affine_bicubic(image, {1, 0, 0, 0, 1, px}, fill);
      break;
    }
  }
}

void rand_augment(ImageU8& image, const RandAugmentConfig& c, Rng& rng, const Rgb& fill) {
  // np.random.choice(ops, n, replace=True): all picks first, then the ops in order.
  RaOp picks[16];
  for (int i = 0; i < c.num_ops; ++i) picks[i] = static_cast<RaOp>(rng.below(kNumRaOps));
  for (int i = 0; i < c.num_ops; ++i) {
    if (c.prob < 1.0 && rng.uniform() > c.prob) continue;
    double m = c.magnitude;
    if (std::isinf(c.magnitude_std)) m = rng.uniform() * c.magnitude;
    else if (c.magnitude_std > 0) m = rng.normal(c.magnitude, c.magnitude_std);
    m = std::max(0.0, std::min(m, c.magnitude_max));
    apply_ra_op(image, picks[i], m, c, rng, fill);
  }
}

}  // namespace sct::data
