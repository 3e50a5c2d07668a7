// Channel selections: which K channels of each block an SCT module acts on, how they are picked
// from saliency scores (exact top-K with a deterministic tie-break) or at random (a documented
// PRNG anyone can reproduce), and the channels.json file that stores them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sct {
struct PeftSection;
}

namespace sct::peft {

// Parts of a layer that channels are selected in: one ("h") for attn and mlp modes, two for
// qkv mode ("q" = qkv channels [0, D), "v" = [2D, 3D)). Indices are always in [0, D).
std::vector<std::string> mode_parts(const std::string& mode);
void check_mode(const std::string& mode);          // InputError unless attn | mlp | qkv
void check_strategy(const std::string& strategy);  // InputError unless cais | task | random

// K per layer (per part in qkv mode): peft.k when > 0, else round(k_fraction * D), at least 1.
// InputError naming the key when K exceeds D.
int64_t resolve_k(const PeftSection& peft, int64_t dim);

struct LayerChannels {
  std::vector<std::vector<int64_t>> indices;  // [part][K], ascending
  std::vector<std::vector<double>> scores;    // [part][D]; empty for the random strategy
};

struct ChannelSelection {
  std::string task;
  std::string mode = "attn";
  std::string strategy = "cais";
  int64_t k = 0;
  int64_t dim = 0;
  int64_t depth = 0;
  int64_t seed = 0;             // random strategy only
  int64_t images = 0;           // images in the saliency pass (0 for random)
  int64_t num_classes = 0;      // classes of the task file
  int64_t classes_present = 0;  // classes with at least one image in the pass
  std::vector<LayerChannels> layers;
};

// The K channels with the largest scores (ties: smaller index first), in ascending order.
// Error when a score is not finite or K is outside [1, scores.size()].
std::vector<int64_t> top_k(const std::vector<double>& scores, int64_t k);

// Random channels for (seed, layer, part): splitmix64 with state
//   seed XOR ((2*layer + part) * 0xD1B54A32D192ED03)  (mod 2^64),
// a partial Fisher-Yates shuffle of 0..D-1 (for i < K: swap i with i + next() % (D - i)),
// the first K entries sorted ascending.
std::vector<int64_t> random_channels(uint64_t seed, int64_t layer, int64_t part, int64_t dim, int64_t k);

// A random-strategy selection for a model of `depth` blocks of width `dim`.
ChannelSelection random_selection(const std::string& mode, int64_t depth, int64_t dim, int64_t k, int64_t seed);

// channels.json: keys in a fixed order, doubles with 17 significant digits, so equal selections
// give byte-identical files.
std::string selection_to_json(const ChannelSelection& selection);
// Writes selection_to_json atomically.
void write_selection(const std::string& path, const ChannelSelection& selection);
// Reads and checks a channels.json (InputError naming the file and key on any defect).
ChannelSelection read_selection(const std::string& path);
// The same checks on channels.json text; `path` names it in errors (e.g. "adapter.safetensors
// (metadata 'channels')").
ChannelSelection parse_selection(const std::string& text, const std::string& path);

// InputError naming `where` (the recipe location of peft.channels) and `path` when `selection`
// does not fit a model of width `dim` and depth `depth` under `peft` (mode and K).
void check_selection_fits(const ChannelSelection& selection, const std::string& path, const std::string& where,
                          const PeftSection& peft, int64_t dim, int64_t depth);

}  // namespace sct::peft
