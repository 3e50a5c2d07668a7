// Fashion-MNIST as the raw material of the default benchmark: the 70,000 gray 28x28 images,
// and seeded, disjoint pools of image indices per class for each use (upstream pre-training,
// downstream train800, val200 and test), so no image is seen by two roles.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace sct::data::fmnist {

inline constexpr int kSide = 28;
inline constexpr int kClasses = 10;
inline const std::array<const char*, kClasses> kClassNames = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

// Upstream (pre-training) classes are the even labels, held-out classes the odd ones.
inline bool is_upstream_class(int c) { return c % 2 == 0; }

enum class Role { kUpstream, kTrain, kVal, kTest, kUpstreamTest };

struct Source {
  std::string root;
  std::vector<uint8_t> pixels;  // [70000, 28, 28]: the 60,000 training images, then the 10,000 test images
  std::vector<int> labels;      // [70000]
  // pools[role][class]: indices into `pixels`, in a seeded order.
  std::array<std::array<std::vector<int32_t>, kClasses>, 5> pools;

  const uint8_t* image(int32_t index) const { return pixels.data() + size_t(index) * kSide * kSide; }
  const std::vector<int32_t>& pool(Role role, int c) const { return pools[size_t(role)][size_t(c)]; }
};

// Reads the four IDX files under `root` and cuts the pools:
//   upstream classes: `upstream_per_class` training images each for pre-training; the rest of
//     their training images are the downstream pool;
//   held-out classes: all training images are the downstream pool;
//   each downstream pool is split 80/20 into the items of train800 and val200 (disjoint);
//   the test images of upstream classes are split in half: upstream evaluation and downstream
//     test; held-out classes give all their test images to the downstream test pool.
// InputError naming the file when the IDX files are missing or not Fashion-MNIST-shaped.
Source load_source(const std::string& root, uint64_t seed, int64_t upstream_per_class);

}  // namespace sct::data::fmnist
