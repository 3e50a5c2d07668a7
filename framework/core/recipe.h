// Recipes: TOML files mapped onto typed structs. `extends` chains with deep merge,
// `--set key=value` overrides parsed as TOML values, strict keys and types with
// file:line in every error. The same field lists drive reading, printing and hashing.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace sct {

struct ModelSection {
  std::string checkpoint;       // .npz or .safetensors; empty = random init (from scratch)
  std::string arch = "custom";  // vit-ti16 | vit-s16 | vit-b16 | vit-l16 | vit-h14 | custom
  int64_t dim = 192;            // used when arch = custom and no checkpoint
  int64_t depth = 12;
  int64_t heads = 3;
  int64_t patch = 16;
  int64_t image_size = 224;
  int64_t mlp_ratio = 4;
  double drop_path = 0.1;       // max DropPath rate (linspace over blocks)
};

struct TaskSection {
  std::string name;             // defaults to the recipe file's stem
  std::string group;            // VTAB group (Natural, Specialized, Structured) or empty
  std::string data;             // HDF5 task file
  std::string train_split = "train800val200";
  std::string eval_split = "test";
  // Every split evaluated after an evaluation epoch; empty = [eval_split]. When given,
  // eval_split must be left at its default or be one of them. See evaluation_splits().
  std::vector<std::string> eval_splits;
  int64_t num_classes = 0;      // 0 = read from the data file
};

struct DataSection {
  std::vector<double> mean = {0.485, 0.456, 0.406};
  std::vector<double> std = {0.229, 0.224, 0.225};
  bool hflip = false;
  std::string randaugment;      // e.g. "rand-m9-mstd0.5-inc1"; empty = off
  int64_t prefetch = 2;         // batches prepared ahead per rank
};

// The valid peft.method (and sweep.methods) values, in the PEFT method registry's order:
// peft::method_names() returns the same list (tests/peft/test_method.cpp checks it).
inline const std::vector<std::string>& peft_method_names() {
  static const std::vector<std::string> names = {"sct",     "linear",      "full", "bitfit", "lora",
                                                 "adapter", "adaptformer", "vpt",  "ssf"};
  return names;
}

struct PeftSection {
  std::string method = "sct";   // one of peft_method_names()
  std::string mode = "attn";    // attn | mlp | qkv
  std::string strategy = "cais";  // cais | task | random
  int64_t k = 0;                // channels per layer; 0 = k_fraction * D
  double k_fraction = 0.125;
  std::string scale_form = "none";  // none | residual | on_x
  double scale = 1.0;
  int64_t saliency_batch = 64;
  // sct: a channels.json (of `sct_dist saliency` or a unit) used instead of a saliency pass;
  // it must fit the model's D and L, peft.mode and K. Empty: select the channels.
  std::string channels;
  int64_t rank = 8;             // lora: rank of the q and v updates
  std::string init = "reference";  // lora, adapter: reference | standard (see their files)
  int64_t bottleneck = 0;       // adapter, adaptformer: bottleneck width; 0 = D/8 (96 for ViT-B)
  double adaptformer_scale = 1.0;    // adaptformer: s on its branch (the AdaptFormer paper: 0.1)
  double adaptformer_dropout = 0.1;  // adaptformer: dropout on the bottleneck, training only
  int64_t prompts = 10;         // vpt: prompt tokens
  std::string prompt_depth = "deep";  // vpt: deep (new prompts in every block) | shallow (block 0)
};

struct TrainSection {
  int64_t epochs = 100;
  int64_t warmup_epochs = 10;
  int64_t batch_size = 64;      // global batch, split evenly over the ranks of a group
  double lr = 1e-3;
  double weight_decay = 1e-4;
  double warmup_lr_init = 1e-6;
  double lr_min = 1e-5;
  std::string schedule = "epoch";  // epoch (reference) | step
  double label_smoothing = 0.1;
  std::vector<double> betas = {0.9, 0.999};
  double eps = 1e-8;
  int64_t eval_every = 10;      // epochs
  int64_t checkpoint_every = 10;  // epochs; 0 = only at the end
  bool drop_last = true;
  // fp32 (the reference) | tf32 (CUDA float32 products in TF32) | bf16 (autocast of the
  // products to bfloat16; trainable values, gradients, optimizer and loss stay float32).
  std::string precision = "fp32";
  // Deterministic algorithms only (CUDA: bit-exact repeats and resumes, somewhat slower).
  bool deterministic = false;
  // The evaluation split whose best evaluation selects the epoch; the other splits are reported
  // at that epoch. Empty: every split reports its own best (the reference's test selection).
  std::string select_on;
  std::string export_model;     // key 'export': after training, write the whole model here (.safetensors/.npz)
  // After training, the adapter file (peft/adapter_file.h): the trained tensors and what is
  // needed to use them again. Relative to the unit directory, so each unit of a sweep has its own.
  std::string export_adapter;
};

// A sweep: the recipe's own sections are the defaults, each task file is a fragment merged over
// them (task name, data, per-task lr/wd/augmentation), and every (task, method, seed, variant)
// combination is one unit of work.
struct SweepSection {
  std::vector<std::string> tasks;      // task fragment files, relative to the file listing them
  std::vector<std::string> methods;    // empty: [peft.method]
  std::vector<int64_t> seeds;          // empty: [seed]
  std::map<std::string, std::vector<std::string>> variants;  // name -> ["key=value", ...]
  // [sweep.method.<name>] tables: settings merged over the recipe of that method's units, before
  // sweep.set and --set; method -> dotted key -> value as TOML text ("train.lr" -> "0.003").
  std::map<std::string, std::map<std::string, std::string>> method;
  std::vector<std::string> set;        // "key=value" overrides applied to every unit
  int64_t ranks_per_task = 0;          // ranks training one unit together; 0 = all ranks
};

// Process-level settings of a run; they never change what a unit computes.
struct DistSection {
  // A rank silent (no heartbeat) for this long ends the job naming it; 0 turns the watchdog off.
  double stall_timeout_s = 600;
};

struct Recipe {
  std::string name;             // run name; defaults to the recipe file's stem
  std::string description;
  int64_t seed = 0;
  int64_t threads = 0;          // intra-op threads per rank; 0 = cores / local ranks
  std::string device = "auto";  // auto | cpu | cuda | cuda:N (README "GPUs")
  std::string out = "runs";     // run directories go to <out>/<name>
  ModelSection model;
  TaskSection task;
  DataSection data;
  PeftSection peft;
  TrainSection train;
  SweepSection sweep;
  DistSection dist;

  std::string source_path;      // the recipe file given on the command line (not a key)
  // Where each key that was set came from, dotted key -> "file:line" (or "--set key=value" for
  // an override), through extends chains and task fragments. Not a key: never hashed or written.
  std::map<std::string, std::string> locations;

  // The location of `key` for error messages: locations[key]; when the key was not set (its
  // value is the default), source_path, or "recipe" for a recipe made in code.
  std::string where(const std::string& key) const;
};

// Loads `path`, follows `extends`, merges the task `fragment` file over it when given (a
// fragment may not use `extends`), applies `overrides` ("a.b=value"), validates.
// Throws InputError with "file:line: ..." on any problem.
Recipe load_recipe(const std::string& path, const std::vector<std::string>& overrides = {},
                   const std::string& fragment = "");

// Parses recipe text directly (tests); `name` is used as the file name in errors and as
// source_path, and `extends` is resolved relative to the directory part of `name` (the current
// directory when it has none), like a file at that path.
Recipe parse_recipe(const std::string& text, const std::string& name,
                    const std::vector<std::string>& overrides = {});

// The fully resolved recipe as TOML (every key, defaults included), stable order.
std::string recipe_to_toml(const Recipe& recipe);

// 16 hex digits of FNV-1a over recipe_to_toml: identifies a resolved recipe.
std::string recipe_hash(const Recipe& recipe);

// Identifies what a unit computes: the hash of the resolved recipe with the keys that do not
// change results (kNoTraining in recipe_fields.h: name, description, threads, device, out,
// data.prefetch, the sweep section) at their defaults. A finished unit whose training hash
// changed is an error unless forced.
std::string training_hash(const Recipe& recipe);

// The splits a unit evaluates: task.eval_splits, or [task.eval_split] when that is empty.
std::vector<std::string> evaluation_splits(const TaskSection& task);

// The splits a unit reports: the evaluation splits without train.select_on (all of them when
// nothing selects, or when the selection split is the only one). The first is the headline.
std::vector<std::string> reported_splits(const Recipe& recipe);

// The key 'device': "auto", "cpu", "cuda" or "cuda:N". False for anything else; *cuda_index
// (may be null) receives N, or -1 without one.
bool parse_device(const std::string& device, int* cuda_index = nullptr);

// Every valid dotted key ("train.lr", "seed", ...), for suggestions and docs.
std::vector<std::string> recipe_keys();

}  // namespace sct
