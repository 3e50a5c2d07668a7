#include "datasets/sct_data/fmnist_tasks.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "framework/core/error.h"
#include "framework/core/strings.h"
#include "framework/data/image.h"
#include "framework/data/resize.h"
#include "framework/data/rng.h"

namespace sct::data::fmnist {
namespace {

// Stream salts: label order, per-class image order of class tasks, per-sample draws.
constexpr uint64_t kLabelStream = 11, kPickStream = 12, kSampleStream = 13, kNoiseStream = 14;

const std::vector<int> kUpstreamClasses = {0, 2, 4, 6, 8};
const std::vector<int> kHeldOutClasses = {1, 3, 5, 7, 9};
const std::vector<int> kAllClasses = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};

std::vector<std::string> names_of(const std::vector<int>& classes) {
  std::vector<std::string> out;
  for (int c : classes) out.emplace_back(kClassNames[size_t(c)]);
  return out;
}

TaskSpec class_task(std::string name, std::string group, std::string description, const std::vector<int>& classes) {
  TaskSpec t;
  t.name = std::move(name);
  t.group = std::move(group);
  t.description = std::move(description);
  t.kind = Kind::kClass;
  t.source_classes = classes;
  t.class_names = names_of(classes);
  return t;
}

// A random item image of one of the task's source classes, from the role's pool.
int32_t random_item(const TaskSpec& task, const Source& source, Role role, Rng& rng) {
  const int c = task.source_classes[size_t(rng.below(task.source_classes.size()))];
  const auto& pool = source.pool(role, c);
  return pool[size_t(rng.below(pool.size()))];
}

bool overlaps(const Item& a, const Item& b, int gap) {
  return a.x < b.x + b.side + gap && b.x < a.x + a.side + gap && a.y < b.y + b.side + gap &&
         b.y < a.y + a.side + gap;
}

ImageU8 gray_item(const Source& source, const Item& item) {
  ImageU8 img(kSide, kSide, 1);
  std::copy(source.image(item.image), source.image(item.image) + kSide * kSide, img.pixels.begin());
  if (item.side != kSide) img = resize_bicubic(img, item.side, item.side);
  for (int r = 0; r < item.rot90 % 4; ++r) {  // counter-clockwise, as numpy.rot90
    ImageU8 rotated(img.width, img.height, 1);
    for (int y = 0; y < img.height; ++y)
      for (int x = 0; x < img.width; ++x) rotated.at(img.width - 1 - x, y, 0) = img.at(y, x, 0);
    img = std::move(rotated);
  }
  return img;
}

}  // namespace

TaskSpec upstream_task() {
  return class_task("fm_upstream", "Upstream",
                    "pre-training set: the five upstream classes (even Fashion-MNIST labels)", kUpstreamClasses);
}

const std::vector<TaskSpec>& downstream_tasks() {
  static const std::vector<TaskSpec> tasks = [] {
    std::vector<TaskSpec> v;
    v.push_back(class_task("fm_heldout", "Natural", "the five classes held out from pre-training", kHeldOutClasses));
    v.push_back(class_task("fm_all10", "Natural", "all ten classes, images unseen in pre-training", kAllClasses));
    TaskSpec xray = class_task("fm_xray", "Specialized",
                               "all ten classes seen through another sensor: inverted, low contrast, noisy",
                               kAllClasses);
    xray.xray = true;
    v.push_back(xray);

    TaskSpec rot = class_task("fm_rotation", "Structured",
                              "rotation of a held-out-class item by 0, 90, 180 or 270 degrees", kHeldOutClasses);
    rot.kind = Kind::kRotation;
    rot.class_names = {"0deg", "90deg", "180deg", "270deg"};
    v.push_back(rot);

    TaskSpec loc = class_task("fm_location", "Structured",
                              "3x3 cell of a held-out-class item's position on a 56x56 canvas (resized to 28)",
                              kHeldOutClasses);
    loc.kind = Kind::kLocation;
    loc.canvas = 2 * kSide;
    loc.class_names = {"top-left", "top", "top-right", "left", "centre", "right", "bottom-left", "bottom", "bottom-right"};
    v.push_back(loc);

    TaskSpec count = class_task("fm_count", "Structured",
                                "number (1-4) of 20x20 held-out-class items on a 56x56 canvas (resized to 28)",
                                kHeldOutClasses);
    count.kind = Kind::kCount;
    count.canvas = 2 * kSide;
    count.item_side = 20;
    count.class_names = {"1", "2", "3", "4"};
    v.push_back(count);
    return v;
  }();
  return tasks;
}

std::vector<Sample> plan_split(const TaskSpec& task, const Source& source, Role role, const std::string& split,
                               int64_t count, uint64_t seed) {
  const uint64_t task_key = fnv1a64(task.name), split_key = fnv1a64(split);
  const int64_t classes = task.num_classes();
  // Balanced labels in a seeded order.
  std::vector<int64_t> labels(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) labels[size_t(i)] = i % classes;
  Rng order(derive_seed({seed, task_key, split_key, kLabelStream}));
  for (size_t i = labels.size(); i > 1; --i) std::swap(labels[i - 1], labels[size_t(order.below(i))]);

  // Class tasks: the j-th sample of a class takes the j-th image of a task-specific order of
  // the class's pool, so images are distinct within a split and differ between tasks.
  std::vector<std::vector<int32_t>> picks;
  std::vector<int64_t> seen(static_cast<size_t>(classes), 0);
  if (task.kind == Kind::kClass) {
    for (int64_t l = 0; l < classes; ++l) {
      std::vector<int32_t> pool = source.pool(role, task.source_classes[size_t(l)]);
      const int64_t needed = (count + classes - 1 - l) / classes;
      if (int64_t(pool.size()) < needed)
        throw InputError(fmt::format("fmnist-bench: task {} split {} needs {} images of class '{}', the pool holds {}",
                                     task.name, split, needed, task.class_names[size_t(l)], pool.size()));
      Rng rng(derive_seed({seed, task_key, uint64_t(role), uint64_t(l), kPickStream}));
      for (size_t i = pool.size(); i > 1; --i) std::swap(pool[i - 1], pool[size_t(rng.below(i))]);
      picks.push_back(std::move(pool));
    }
  }

  std::vector<Sample> samples(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    Sample& s = samples[size_t(i)];
    s.label = labels[size_t(i)];
    s.noise_seed = derive_seed({seed, task_key, split_key, uint64_t(i), kNoiseStream});
    Rng rng(derive_seed({seed, task_key, split_key, uint64_t(i), kSampleStream}));
    Item item;
    item.side = task.item_side;
    switch (task.kind) {
      case Kind::kClass:
        item.image = picks[size_t(s.label)][size_t(seen[size_t(s.label)]++)];
        s.items.push_back(item);
        break;
      case Kind::kRotation:
        item.image = random_item(task, source, role, rng);
        item.rot90 = int(s.label);
        s.items.push_back(item);
        break;
      case Kind::kLocation: {
        // Top-left corners 0..28 per axis, cut into three bands of 10, 10 and 9 positions.
        const int span = task.canvas - item.side + 1, band = (span + 2) / 3;
        const int cy = int(s.label) / 3, cx = int(s.label) % 3;
        auto in_band = [&](int b) {
          const int lo = b * band, hi = std::min(span, (b + 1) * band);
          return lo + int(rng.below(uint64_t(hi - lo)));
        };
        item.image = random_item(task, source, role, rng);
        item.y = in_band(cy);
        item.x = in_band(cx);
        s.items.push_back(item);
        break;
      }
      case Kind::kCount: {
        // Non-overlapping items (2 pixels apart on the canvas); restart the layout when stuck.
        const int n = int(s.label) + 1, span = task.canvas - item.side + 1;
        while (int(s.items.size()) < n) {
          s.items.clear();
          for (int tries = 0; tries < 100 && int(s.items.size()) < n; ++tries) {
            Item c = item;
            c.y = int(rng.below(uint64_t(span)));
            c.x = int(rng.below(uint64_t(span)));
            if (std::none_of(s.items.begin(), s.items.end(), [&](const Item& o) { return overlaps(c, o, 2); }))
              s.items.push_back(c);
          }
        }
        for (auto& it : s.items) it.image = random_item(task, source, role, rng);
        break;
      }
    }
  }
  return samples;
}

void render(const TaskSpec& task, const Source& source, const Sample& sample, uint8_t* out) {
  ImageU8 canvas(task.canvas, task.canvas, 1, 0);
  for (const Item& item : sample.items) {
    const ImageU8 img = gray_item(source, item);
    for (int y = 0; y < img.height; ++y)
      for (int x = 0; x < img.width; ++x) {
        uint8_t& p = canvas.at(item.y + y, item.x + x, 0);
        p = std::max(p, img.at(y, x, 0));
      }
  }
  if (task.canvas != kSide) canvas = resize_bicubic(canvas, kSide, kSide);
  if (task.xray) {
    // Inverted and squeezed into [40, 190], plus Gaussian sensor noise (sigma 20).
    Rng rng(sample.noise_seed);
    for (auto& p : canvas.pixels) {
      const double v = 40.0 + (255.0 - p) * (150.0 / 255.0) + rng.normal(0.0, 20.0);
      p = uint8_t(std::clamp(std::lround(v), 0L, 255L));
    }
  }
  const ImageU8 rgb = to_rgb(canvas);
  std::copy(rgb.pixels.begin(), rgb.pixels.end(), out);
}

}  // namespace sct::data::fmnist
