#include "framework/peft/saliency.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <cmath>
#include <cstring>

#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/dist/communicator.h"

namespace sct::peft {
namespace {

__extension__ typedef __int128 Int128;
__extension__ typedef unsigned __int128 UInt128;

// Fixed point: a per-image sum v is stored as round(v * 2^56). Bounding v below 2^39 and the
// images below 2^31 keeps every total below 2^126, inside a signed 128-bit integer.
constexpr int kFracBits = 56;
const double kMaxImageSum = std::ldexp(1.0, 39);
constexpr int64_t kMaxImages = int64_t(1) << 31;
// The all-reduce moves each 128-bit value as three 42-bit limbs in int64, which leaves 21 bits
// of headroom per limb for the sum over ranks.
constexpr int kLimbBits = 42;
constexpr uint64_t kLimbMask = (uint64_t(1) << kLimbBits) - 1;

double to_double(Int128 q) { return std::ldexp(static_cast<double>(q), -kFracBits); }

// out[b][j] = sum over tokens t >= 1 of x[b][t][offset + j]^2, accumulated in double in token
// order, so each image's value depends on nothing but that image's features.
template <typename T>
void image_sums(const T* x, int64_t B, int64_t tokens, int64_t width, int64_t offset, int64_t dim, double* out) {
  at::parallel_for(0, B, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      double* o = out + b * dim;
      std::fill(o, o + dim, 0.0);
      for (int64_t t = 1; t < tokens; ++t) {
        const T* row = x + (b * tokens + t) * width + offset;
        for (int64_t j = 0; j < dim; ++j) {
          const double v = static_cast<double>(row[j]);
          o[j] += v * v;
        }
      }
    }
  });
}

}  // namespace

struct SaliencyAccumulator::Sums {
  std::vector<Int128> q;  // [layer][part][class][channel]
};

model::Tap mode_tap(const std::string& mode) {
  check_mode(mode);
  return mode == "attn" ? model::Tap::kAttnOut : mode == "mlp" ? model::Tap::kBlockOut : model::Tap::kQkv;
}

int64_t SaliencyTotals::classes_present() const {
  int64_t n = 0;
  for (int64_t c : class_counts) n += c > 0;
  return n;
}

SaliencyAccumulator::SaliencyAccumulator(const std::string& mode, int64_t depth, int64_t dim, int64_t num_classes)
    : mode_(mode),
      tap_(mode_tap(mode)),
      depth_(depth),
      dim_(dim),
      parts_(int64_t(mode_parts(mode).size())),
      num_classes_(num_classes),
      counts_(size_t(num_classes), 0),
      seen_(size_t(depth), true),
      sums_(std::make_unique<Sums>()) {
  SCT_CHECK(depth > 0 && dim > 0 && num_classes > 0, "saliency accumulator shape");
  sums_->q.assign(size_t(depth * parts_ * num_classes * dim), 0);
}

SaliencyAccumulator::~SaliencyAccumulator() = default;

void SaliencyAccumulator::set_labels(std::vector<int64_t> labels) {
  for (int64_t c : labels) SCT_CHECK(c >= 0 && c < num_classes_, fmt::format("label {} of {}", c, num_classes_));
  for (bool s : seen_) SCT_CHECK(s, "set_labels before every block of the previous batch was observed");
  labels_ = std::move(labels);
  seen_.assign(size_t(depth_), false);
  for (int64_t c : labels_) ++counts_[size_t(c)];
  images_ += int64_t(labels_.size());
  SCT_CHECK(images_ < kMaxImages, "too many images for the saliency accumulator");
}

void SaliencyAccumulator::observe(int64_t block, model::Tap tap, const at::Tensor& x) {
  if (tap != tap_) return;
  SCT_CHECK(block >= 0 && block < depth_ && !seen_[size_t(block)], fmt::format("observation of block {}", block));
  seen_[size_t(block)] = true;
  const int64_t B = x.size(0), tokens = x.size(1), width = x.size(2);
  SCT_CHECK(B == int64_t(labels_.size()) && width == dim_ * (parts_ == 2 ? 3 : 1),
            fmt::format("features {} for {} labels, D={}", fmt::join(x.sizes(), "x"), labels_.size(), dim_));
  std::vector<double> sums(size_t(B * dim_));
  for (int64_t p = 0; p < parts_; ++p) {
    const int64_t offset = p * 2 * dim_;  // qkv: q at 0, v at 2D
    if (x.is_cpu()) {
      at::Tensor c = x.detach().contiguous();
      if (c.scalar_type() == at::kDouble)
        image_sums(c.data_ptr<double>(), B, tokens, width, offset, dim_, sums.data());
      else
        image_sums(c.to(at::kFloat).data_ptr<float>(), B, tokens, width, offset, dim_, sums.data());
    } else {
      at::Tensor s = x.detach().narrow(2, offset, dim_).narrow(1, 1, tokens - 1).to(at::kDouble).square().sum(1);
      std::memcpy(sums.data(), s.cpu().contiguous().data_ptr<double>(), sums.size() * sizeof(double));
    }
    for (int64_t b = 0; b < B; ++b) {
      Int128* dst = sums_->q.data() + ((block * parts_ + p) * num_classes_ + labels_[size_t(b)]) * dim_;
      const double* v = sums.data() + b * dim_;
      for (int64_t j = 0; j < dim_; ++j) {
        if (!(v[j] < kMaxImageSum))  // also catches NaN
          throw Error(fmt::format("saliency: block {} channel {}: an image's sum of squares over the patch tokens "
                                  "is {}, outside the accumulator's range [0, 2^39): the features are not finite "
                                  "or implausibly large",
                                  block, j + offset, v[j]));
        dst[j] += static_cast<Int128>(std::nearbyint(std::ldexp(v[j], kFracBits)));
      }
    }
  }
}

SaliencyTotals SaliencyAccumulator::reduce(dist::Communicator& comm) const {
  for (bool s : seen_) SCT_CHECK(s, "reduce before every block of the last batch was observed");
  const size_t n = sums_->q.size();
  std::vector<int64_t> buf(3 * n + size_t(num_classes_));
  for (size_t i = 0; i < n; ++i) {
    const auto u = static_cast<UInt128>(sums_->q[i]);
    for (int k = 0; k < 3; ++k) buf[3 * i + size_t(k)] = int64_t(uint64_t(u >> (k * kLimbBits)) & kLimbMask);
  }
  std::copy(counts_.begin(), counts_.end(), buf.begin() + std::ptrdiff_t(3 * n));
  comm.all_reduce(buf, dist::ReduceOp::kSum);

  SaliencyTotals t;
  t.mode = mode_;
  t.depth = depth_;
  t.dim = dim_;
  t.parts = parts_;
  t.num_classes = num_classes_;
  t.class_counts.assign(buf.begin() + std::ptrdiff_t(3 * n), buf.end());
  for (int64_t c : t.class_counts) t.images += c;
  t.class_sums.resize(n);
  t.total_sums.assign(size_t(depth_ * parts_ * dim_), 0.0);
  std::vector<Int128> total(static_cast<size_t>(dim_));
  for (int64_t lp = 0; lp < depth_ * parts_; ++lp) {
    std::fill(total.begin(), total.end(), 0);
    for (int64_t c = 0; c < num_classes_; ++c)
      for (int64_t j = 0; j < dim_; ++j) {
        const size_t i = size_t((lp * num_classes_ + c) * dim_ + j);
        const Int128 q = Int128(buf[3 * i]) + (Int128(buf[3 * i + 1]) << kLimbBits) +
                         (Int128(buf[3 * i + 2]) << (2 * kLimbBits));
        t.class_sums[i] = to_double(q);
        total[size_t(j)] += q;
      }
    for (int64_t j = 0; j < dim_; ++j) t.total_sums[size_t(lp * dim_ + j)] = to_double(total[size_t(j)]);
  }
  return t;
}

std::vector<std::vector<std::vector<double>>> saliency_scores(const SaliencyTotals& t, const std::string& strategy) {
  check_strategy(strategy);
  SCT_CHECK(strategy != "random", "random selections have no scores");
  const int64_t present = t.classes_present();
  if (present == 0) throw InputError("saliency: the split has no images");
  std::vector<std::vector<std::vector<double>>> out(size_t(t.depth));
  for (int64_t l = 0; l < t.depth; ++l)
    for (int64_t p = 0; p < t.parts; ++p) {
      std::vector<double> s(size_t(t.dim), 0.0);
      for (int64_t j = 0; j < t.dim; ++j) {
        if (strategy == "task") {
          s[size_t(j)] = std::sqrt(t.total_sum(l, p, j));
          continue;
        }
        double acc = 0.0;  // classes in ascending order: the same sum on every rank
        for (int64_t c = 0; c < t.num_classes; ++c)
          if (t.class_counts[size_t(c)] > 0) acc += std::sqrt(t.class_sum(l, p, c, j));
        s[size_t(j)] = acc / double(present);
      }
      out[size_t(l)].push_back(std::move(s));
    }
  return out;
}

ChannelSelection select_from_totals(const SaliencyTotals& t, const std::string& strategy, int64_t k) {
  ChannelSelection sel;
  sel.mode = t.mode;
  sel.strategy = strategy;
  sel.k = k;
  sel.dim = t.dim;
  sel.depth = t.depth;
  sel.images = t.images;
  sel.num_classes = t.num_classes;
  sel.classes_present = t.classes_present();
  auto scores = saliency_scores(t, strategy);
  for (auto& layer : scores) {
    LayerChannels lc;
    for (auto& s : layer) {
      lc.indices.push_back(top_k(s, k));
      lc.scores.push_back(std::move(s));
    }
    sel.layers.push_back(std::move(lc));
  }
  return sel;
}

}  // namespace sct::peft
