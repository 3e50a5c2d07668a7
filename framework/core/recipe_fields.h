// The recipe schema: one list of fields with their checks and roles, visited by the reader
// (TOML -> structs), the writer (structs -> resolved TOML), the key lister (suggestions) and
// training_hash. Internal to framework/core; add a field here and in recipe.h, nowhere else.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <initializer_list>
#include <string>
#include <vector>

#include "framework/core/recipe.h"

namespace sct {

// Whether a key changes what a unit computes. training_hash resets kNoTraining keys, and every
// key inside a kNoTraining section, to their defaults before hashing.
enum KeyRole { kTraining, kNoTraining };

// Whether recipe_to_toml writes a key that is empty (a string, list or table). kWhenSet is for
// keys added after hashes were pinned (tests/core/test_recipe_hash.cpp): a recipe that does not
// set one keeps the text, and so the hashes, it had before the key existed.
// kUnlessDefault is the same for keys with a non-empty default: a key at its default (given as
// its TOML text) is not written.
enum KeyPresence { kAlways, kWhenSet, kUnlessDefault };

// A key as the visitors see it: `v.field("seed", ...)` or `v.field({"out", kNoTraining}, ...)`.
struct Key {
  Key(const char* key_name, KeyRole key_role = kTraining, KeyPresence key_presence = kAlways,
      const char* key_default = nullptr)  // implicit
      : name(key_name), role(key_role), presence(key_presence), default_text(key_default) {}
  const char* name;
  KeyRole role;
  KeyPresence presence;
  const char* default_text;  // kUnlessDefault: the default as recipe_to_toml writes it
};

namespace checks {

inline auto one_of(std::initializer_list<const char*> allowed) {
  std::vector<std::string> list(allowed.begin(), allowed.end());
  return [list](const std::string& v) -> std::string {
    for (const auto& a : list)
      if (v == a) return "";
    return fmt::format("must be one of {}, found \"{}\"", fmt::join(list, " | "), v);
  };
}
inline auto one_of(const std::vector<std::string>& list) {
  return [list](const std::string& v) -> std::string {
    for (const auto& a : list)
      if (v == a) return "";
    return fmt::format("must be one of {}, found \"{}\"", fmt::join(list, " | "), v);
  };
}
inline auto at_least(double lo) {
  return [lo](auto v) -> std::string {
    return v >= lo ? "" : fmt::format("must be >= {}, found {}", lo, v);
  };
}
inline auto in_range(double lo, double hi) {  // [lo, hi)
  return [lo, hi](double v) -> std::string {
    return (v >= lo && v < hi) ? "" : fmt::format("must be in [{}, {}), found {}", lo, hi, v);
  };
}
inline auto positive() {
  return [](auto v) -> std::string { return v > 0 ? "" : fmt::format("must be > 0, found {}", v); };
}
inline auto distinct() {
  return [](const std::vector<std::string>& v) -> std::string {
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i].empty()) return "entries must not be empty";
      for (size_t j = 0; j < i; ++j)
        if (v[i] == v[j]) return fmt::format("lists \"{}\" twice", v[i]);
    }
    return "";
  };
}
inline auto length(size_t n) {
  return [n](const std::vector<double>& v) -> std::string {
    return v.size() == n ? "" : fmt::format("expects {} numbers, found {}", n, v.size());
  };
}

}  // namespace checks

template <typename V>
void visit_recipe(V& v, Recipe& r) {
  using namespace checks;
  v.field({"name", kNoTraining}, r.name);
  v.field({"description", kNoTraining}, r.description);
  v.field("seed", r.seed, at_least(0));
  v.field({"threads", kNoTraining}, r.threads, at_least(0));
  v.field({"device", kNoTraining}, r.device, [](const std::string& d) -> std::string {
    return parse_device(d) ? "" : fmt::format("must be one of auto | cpu | cuda | cuda:N, found \"{}\"", d);
  });
  v.field({"out", kNoTraining}, r.out);
  v.section("model", [&] {
    auto& m = r.model;
    v.field("checkpoint", m.checkpoint);
    v.field("arch", m.arch, one_of({"custom", "vit-ti16", "vit-s16", "vit-b16", "vit-l16", "vit-h14"}));
    v.field("dim", m.dim, positive());
    v.field("depth", m.depth, positive());
    v.field("heads", m.heads, positive());
    v.field("patch", m.patch, positive());
    v.field("image_size", m.image_size, positive());
    v.field("mlp_ratio", m.mlp_ratio, positive());
    v.field("drop_path", m.drop_path, in_range(0.0, 1.0));
  });
  v.section("task", [&] {
    auto& t = r.task;
    v.field("name", t.name);
    v.field("group", t.group);
    v.field("data", t.data);
    v.field("train_split", t.train_split);
    v.field("eval_split", t.eval_split);
    v.field({"eval_splits", kTraining, kWhenSet}, t.eval_splits, distinct());
    v.field("num_classes", t.num_classes, at_least(0));
  });
  v.section("data", [&] {
    auto& d = r.data;
    v.field("mean", d.mean, length(3));
    v.field("std", d.std, length(3));
    v.field("hflip", d.hflip);
    v.field("randaugment", d.randaugment);
    v.field({"prefetch", kNoTraining}, d.prefetch, at_least(0));
  });
  v.section("peft", [&] {
    auto& p = r.peft;
    v.field("method", p.method, one_of(peft_method_names()));
    v.field("mode", p.mode, one_of({"attn", "mlp", "qkv"}));
    v.field("strategy", p.strategy, one_of({"cais", "task", "random"}));
    v.field("k", p.k, at_least(0));
    v.field("k_fraction", p.k_fraction, [](double f) -> std::string {
      return (f > 0 && f <= 1) ? "" : fmt::format("must be in (0, 1], found {}", f);
    });
    v.field("scale_form", p.scale_form, one_of({"none", "residual", "on_x"}));
    v.field("scale", p.scale);
    v.field("saliency_batch", p.saliency_batch, positive());
    v.field({"channels", kTraining, kWhenSet}, p.channels);
    v.field("rank", p.rank, positive());
    v.field("init", p.init, one_of({"reference", "standard"}));
    v.field("bottleneck", p.bottleneck, at_least(0));
    v.field("adaptformer_scale", p.adaptformer_scale);
    v.field("adaptformer_dropout", p.adaptformer_dropout, in_range(0.0, 1.0));
    v.field("prompts", p.prompts, positive());
    v.field("prompt_depth", p.prompt_depth, one_of({"deep", "shallow"}));
  });
  v.section("train", [&] {
    auto& t = r.train;
    v.field("epochs", t.epochs, positive());
    v.field("warmup_epochs", t.warmup_epochs, at_least(0));
    v.field("batch_size", t.batch_size, positive());
    v.field("lr", t.lr, positive());
    v.field("weight_decay", t.weight_decay, at_least(0));
    v.field("warmup_lr_init", t.warmup_lr_init, at_least(0));
    v.field("lr_min", t.lr_min, at_least(0));
    v.field("schedule", t.schedule, one_of({"epoch", "step"}));
    v.field("label_smoothing", t.label_smoothing, in_range(0.0, 1.0));
    v.field("betas", t.betas, [](const std::vector<double>& b) -> std::string {
      if (b.size() != 2) return fmt::format("expects 2 numbers, found {}", b.size());
      for (double x : b)
        if (x < 0 || x >= 1) return fmt::format("values must be in [0, 1), found {}", x);
      return "";
    });
    v.field("eps", t.eps, positive());
    v.field("eval_every", t.eval_every, at_least(0));
    v.field("checkpoint_every", t.checkpoint_every, at_least(0));
    v.field("drop_last", t.drop_last);
    v.field({"precision", kTraining, kUnlessDefault, "\"fp32\""}, t.precision, one_of({"fp32", "tf32", "bf16"}));
    v.field({"deterministic", kNoTraining, kUnlessDefault, "false"}, t.deterministic);
    v.field({"select_on", kTraining, kWhenSet}, t.select_on);
    v.field("export", t.export_model);
    v.field({"export_adapter", kNoTraining, kWhenSet}, t.export_adapter);
  });
  v.section({"sweep", kNoTraining}, [&] {
    auto& w = r.sweep;
    v.field("tasks", w.tasks);
    v.field("methods", w.methods, [](const std::vector<std::string>& ms) -> std::string {
      const auto& names = peft_method_names();
      for (const auto& m : ms)
        if (std::find(names.begin(), names.end(), m) == names.end())
          return fmt::format("entries must be {}, found \"{}\"", fmt::join(names, " | "), m);
      return "";
    });
    v.field("seeds", w.seeds);
    v.field("variants", w.variants);
    v.field({"method", kNoTraining, kWhenSet}, w.method, [](const auto& per_method) -> std::string {
      const auto& names = peft_method_names();
      for (const auto& kv : per_method)
        if (std::find(names.begin(), names.end(), kv.first) == names.end())
          return fmt::format("tables must be named {}, found \"{}\"", fmt::join(names, " | "), kv.first);
      return "";
    });
    v.field("set", w.set);
    v.field("ranks_per_task", w.ranks_per_task, at_least(0));
  });
  // Added after hashes were pinned: the hashed text leaves the section out at its defaults
  // (recipe.cpp, hashed_text), so it must stay the last one.
  v.section({"dist", kNoTraining}, [&] {
    v.field("stall_timeout_s", r.dist.stall_timeout_s, [](double s) -> std::string {
      return s == 0 || s >= 1 ? "" : fmt::format("must be 0 (off) or >= 1 second, found {}", s);
    });
  });
}

}  // namespace sct
