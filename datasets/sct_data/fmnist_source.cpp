#include "datasets/sct_data/fmnist_source.h"

#include <fmt/format.h>

#include <algorithm>

#include "framework/core/error.h"
#include "datasets/sct_data/idx.h"
#include "framework/data/rng.h"

namespace sct::data::fmnist {
namespace {

// Salt for the pool shuffles, apart from every per-sample stream of the tasks.
constexpr uint64_t kPoolStream = 0x504f4f4cull;  // "POOL"

void append_file_pair(Source& s, const std::string& images_path, const std::string& labels_path,
                      int64_t expected) {
  const IdxArray images = read_idx(images_path);
  const IdxArray labels = read_idx(labels_path);
  if (images.type != 0x08 || images.dims.size() != 3 || images.dims[0] != expected || images.dims[1] != kSide ||
      images.dims[2] != kSide)
    throw InputError(fmt::format("{}: expected {} ubyte images of 28x28 (Fashion-MNIST), found dims [{}]",
                                 images_path, expected, fmt::join(images.dims, ", ")));
  if (labels.dims.size() != 1 || labels.dims[0] != expected)
    throw InputError(fmt::format("{}: expected {} labels, found dims [{}]", labels_path, expected,
                                 fmt::join(labels.dims, ", ")));
  s.pixels.insert(s.pixels.end(), images.bytes.begin(), images.bytes.end());
  for (int64_t i = 0; i < expected; ++i) {
    const int64_t v = labels.type == 0x08 ? labels.bytes[size_t(i)] : labels.values[size_t(i)];
    if (v < 0 || v >= kClasses)
      throw InputError(fmt::format("{}: label {} at index {} is outside [0, 10)", labels_path, v, i));
    s.labels.push_back(int(v));
  }
}

void shuffle(std::vector<int32_t>& v, uint64_t seed) {
  Rng rng(seed);
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[size_t(rng.below(i))]);
}

}  // namespace

Source load_source(const std::string& root, uint64_t seed, int64_t upstream_per_class) {
  Source s;
  s.root = root;
  append_file_pair(s, root + "/train-images-idx3-ubyte.gz", root + "/train-labels-idx1-ubyte.gz", 60000);
  append_file_pair(s, root + "/t10k-images-idx3-ubyte.gz", root + "/t10k-labels-idx1-ubyte.gz", 10000);

  std::array<std::vector<int32_t>, kClasses> train, test;
  for (int32_t i = 0; i < 70000; ++i) (i < 60000 ? train : test)[size_t(s.labels[size_t(i)])].push_back(i);
  auto take = [](const std::vector<int32_t>& v, size_t begin, size_t end) {
    return std::vector<int32_t>(v.begin() + long(begin), v.begin() + long(end));
  };
  for (int c = 0; c < kClasses; ++c) {
    auto& tr = train[size_t(c)];
    auto& te = test[size_t(c)];
    shuffle(tr, derive_seed({seed, kPoolStream, uint64_t(c), 0}));
    shuffle(te, derive_seed({seed, kPoolStream, uint64_t(c), 1}));
    size_t first = 0;
    size_t test_first = 0;
    if (is_upstream_class(c)) {
      if (upstream_per_class < 0 || size_t(upstream_per_class) + 10 > tr.size())
        throw InputError(fmt::format("fmnist-bench: --upstream-per-class {} must leave at least 10 of the {} "
                                     "training images of class '{}' for the downstream tasks",
                                     upstream_per_class, tr.size(), kClassNames[size_t(c)]));
      first = size_t(upstream_per_class);
      s.pools[size_t(Role::kUpstream)][size_t(c)] = take(tr, 0, first);
      test_first = te.size() / 2;
      s.pools[size_t(Role::kUpstreamTest)][size_t(c)] = take(te, 0, test_first);
    }
    const size_t cut = first + (tr.size() - first) * 4 / 5;
    s.pools[size_t(Role::kTrain)][size_t(c)] = take(tr, first, cut);
    s.pools[size_t(Role::kVal)][size_t(c)] = take(tr, cut, tr.size());
    s.pools[size_t(Role::kTest)][size_t(c)] = take(te, test_first, te.size());
  }
  return s;
}

}  // namespace sct::data::fmnist
