#include "framework/peft/channels.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <numeric>

#include "framework/core/error.h"
#include "framework/core/fs.h"
#include "framework/core/recipe.h"

namespace sct::peft {

std::vector<std::string> mode_parts(const std::string& mode) {
  check_mode(mode);
  if (mode == "qkv") return {"q", "v"};
  return {"h"};
}

void check_mode(const std::string& mode) {
  if (mode != "attn" && mode != "mlp" && mode != "qkv")
    throw InputError(fmt::format("peft.mode must be one of attn | mlp | qkv, found \"{}\"", mode));
}

void check_strategy(const std::string& strategy) {
  if (strategy != "cais" && strategy != "task" && strategy != "random")
    throw InputError(fmt::format("peft.strategy must be one of cais | task | random, found \"{}\"", strategy));
}

int64_t resolve_k(const PeftSection& peft, int64_t dim) {
  if (peft.k > 0) {
    if (peft.k > dim)
      throw InputError(fmt::format("key 'peft.k' = {} exceeds the model width D = {}", peft.k, dim));
    return peft.k;
  }
  if (!(peft.k_fraction > 0 && peft.k_fraction <= 1))
    throw InputError(fmt::format("key 'peft.k_fraction' must be in (0, 1], found {}", peft.k_fraction));
  return std::clamp<int64_t>(std::llround(peft.k_fraction * double(dim)), 1, dim);
}

std::vector<int64_t> top_k(const std::vector<double>& scores, int64_t k) {
  const auto n = static_cast<int64_t>(scores.size());
  SCT_CHECK(k >= 1 && k <= n, fmt::format("top-{} of {} scores", k, n));
  for (int64_t j = 0; j < n; ++j)
    if (!std::isfinite(scores[size_t(j)]))
      throw Error(fmt::format("saliency score of channel {} is {} (the features are not finite)", j,
                              scores[size_t(j)]));
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  // A strict weak order with no equal elements, so the result does not depend on the algorithm.
  std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int64_t a, int64_t b) {
    const double sa = scores[size_t(a)], sb = scores[size_t(b)];
    return sa != sb ? sa > sb : a < b;
  });
  order.resize(size_t(k));
  std::sort(order.begin(), order.end());
  return order;
}

std::vector<int64_t> random_channels(uint64_t seed, int64_t layer, int64_t part, int64_t dim, int64_t k) {
  SCT_CHECK(k >= 1 && k <= dim, fmt::format("random {} of {} channels", k, dim));
  uint64_t state = seed ^ (uint64_t(2 * layer + part) * 0xD1B54A32D192ED03ull);
  auto next = [&state] {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  std::vector<int64_t> perm(static_cast<size_t>(dim));
  std::iota(perm.begin(), perm.end(), 0);
  for (int64_t i = 0; i < k; ++i) {
    const auto j = i + int64_t(next() % uint64_t(dim - i));
    std::swap(perm[size_t(i)], perm[size_t(j)]);
  }
  perm.resize(size_t(k));
  std::sort(perm.begin(), perm.end());
  return perm;
}

ChannelSelection random_selection(const std::string& mode, int64_t depth, int64_t dim, int64_t k, int64_t seed) {
  ChannelSelection s;
  s.mode = mode;
  s.strategy = "random";
  s.k = k;
  s.dim = dim;
  s.depth = depth;
  s.seed = seed;
  const auto parts = int64_t(mode_parts(mode).size());
  for (int64_t l = 0; l < depth; ++l) {
    LayerChannels lc;
    for (int64_t p = 0; p < parts; ++p) lc.indices.push_back(random_channels(uint64_t(seed), l, p, dim, k));
    s.layers.push_back(std::move(lc));
  }
  return s;
}

namespace {

template <typename T>
std::string list(const std::vector<T>& v, const char* f) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ", ";
    out += fmt::format(fmt::runtime(f), v[i]);
  }
  return out + "]";
}

std::string quoted(const std::string& s) { return nlohmann::json(s).dump(); }

}  // namespace

std::string selection_to_json(const ChannelSelection& s) {
  const auto parts = mode_parts(s.mode);
  std::string out = "{\n";
  out += fmt::format("  \"format\": \"sct-channels\",\n  \"version\": 1,\n  \"task\": {},\n", quoted(s.task));
  out += fmt::format("  \"mode\": {},\n  \"strategy\": {},\n", quoted(s.mode), quoted(s.strategy));
  out += fmt::format("  \"k\": {},\n  \"dim\": {},\n  \"depth\": {},\n  \"seed\": {},\n", s.k, s.dim, s.depth, s.seed);
  out += fmt::format("  \"images\": {},\n  \"num_classes\": {},\n  \"classes_present\": {},\n", s.images,
                     s.num_classes, s.classes_present);
  out += fmt::format("  \"parts\": {},\n  \"layers\": [\n", list(std::vector<std::string>(parts.begin(), parts.end()),
                                                              "\"{}\""));
  for (size_t l = 0; l < s.layers.size(); ++l) {
    const LayerChannels& lc = s.layers[l];
    out += fmt::format("    {{\"layer\": {}", l);
    for (size_t p = 0; p < parts.size(); ++p) {
      out += fmt::format(",\n     \"{}_indices\": {}", parts[p], list(lc.indices[p], "{}"));
      out += fmt::format(",\n     \"{}_scores\": {}", parts[p],
                         list(p < lc.scores.size() ? lc.scores[p] : std::vector<double>{}, "{:.17g}"));
    }
    out += l + 1 < s.layers.size() ? "},\n" : "}\n";
  }
  out += "  ]\n}\n";
  return out;
}

void write_selection(const std::string& path, const ChannelSelection& selection) {
  atomic_write(path, selection_to_json(selection));
}

ChannelSelection read_selection(const std::string& path) { return parse_selection(read_text_file(path), path); }

ChannelSelection parse_selection(const std::string& text, const std::string& path) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    throw InputError(fmt::format("{}: not valid JSON ({})", path, e.what()));
  }
  auto get = [&](const nlohmann::json& o, const std::string& key, auto fallback) {
    using T = decltype(fallback);
    if (!o.is_object() || !o.contains(key)) throw InputError(fmt::format("{}: missing key '{}'", path, key));
    try {
      return o.at(key).get<T>();
    } catch (const std::exception&) {
      throw InputError(fmt::format("{}: key '{}' has the wrong type ({})", path, key, o.at(key).dump()));
    }
  };
  if (get(j, "format", std::string()) != "sct-channels")
    throw InputError(fmt::format("{}: key 'format': expected \"sct-channels\"", path));
  ChannelSelection s;
  s.task = get(j, "task", std::string());
  auto checked = [&](const std::string& key, void (*check)(const std::string&)) {
    std::string v = get(j, key, std::string());
    try {
      check(v);
    } catch (const InputError& e) {
      throw InputError(fmt::format("{}: key '{}': {}", path, key, e.what()));
    }
    return v;
  };
  s.mode = checked("mode", check_mode);
  s.strategy = checked("strategy", check_strategy);
  s.k = get(j, "k", int64_t());
  s.dim = get(j, "dim", int64_t());
  s.depth = get(j, "depth", int64_t());
  s.seed = get(j, "seed", int64_t());
  s.images = get(j, "images", int64_t());
  s.num_classes = get(j, "num_classes", int64_t());
  s.classes_present = get(j, "classes_present", int64_t());
  if (s.dim < 1 || s.k < 1 || s.k > s.dim || s.depth < 1)
    throw InputError(fmt::format("{}: k = {}, dim = {}, depth = {} do not describe a selection", path, s.k, s.dim,
                                 s.depth));
  const auto layers = get(j, "layers", nlohmann::json());
  if (!layers.is_array() || int64_t(layers.size()) != s.depth)
    throw InputError(fmt::format("{}: key 'layers': expected {} entries (depth)", path, s.depth));
  const auto parts = mode_parts(s.mode);
  for (size_t l = 0; l < layers.size(); ++l) {
    LayerChannels lc;
    for (const auto& part : parts) {
      const std::string key = part + "_indices";
      auto idx = get(layers[l], key, std::vector<int64_t>());
      bool ok = int64_t(idx.size()) == s.k;
      for (size_t i = 0; ok && i < idx.size(); ++i)
        ok = idx[i] >= 0 && idx[i] < s.dim && (i == 0 || idx[i] > idx[i - 1]);
      if (!ok)
        throw InputError(fmt::format("{}: layers[{}].{}: expected {} ascending channels in [0, {})", path, l, key,
                                     s.k, s.dim));
      lc.indices.push_back(std::move(idx));
      auto scores = get(layers[l], part + "_scores", std::vector<double>());
      if (!scores.empty() && int64_t(scores.size()) != s.dim)
        throw InputError(fmt::format("{}: layers[{}].{}_scores: expected {} scores, found {}", path, l, part, s.dim,
                                     scores.size()));
      lc.scores.push_back(std::move(scores));
    }
    s.layers.push_back(std::move(lc));
  }
  return s;
}

void check_selection_fits(const ChannelSelection& s, const std::string& path, const std::string& where,
                          const PeftSection& peft, int64_t dim, int64_t depth) {
  auto refuse = [&](const std::string& problem) {
    throw InputError(fmt::format("{}: key 'peft.channels' = \"{}\": {}", where, path, problem));
  };
  if (s.mode != peft.mode) refuse(fmt::format("the channels are for mode '{}', peft.mode is '{}'", s.mode, peft.mode));
  if (s.dim != dim || s.depth != depth)
    refuse(fmt::format("the channels are for a model of width D={} and depth L={}, this model has D={} L={}", s.dim,
                       s.depth, dim, depth));
  const int64_t k = resolve_k(peft, dim);
  if (s.k != k) refuse(fmt::format("the channels have K={} per layer, the recipe asks for K={}", s.k, k));
}

}  // namespace sct::peft
