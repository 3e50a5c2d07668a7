// The adapter file: what a run trained, as one .safetensors usable without the run directory.
// Tensors: the trainable registry (any method: SCT maps, biases, the head, ...) under their
// model parameter names. __metadata__: the method, the unit's resolved recipe (peft settings,
// normalisation, backbone), the channel selection, the architecture, the backbone's name and
// the checksum of its frozen parameters, the recipe hash and the unit's results.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "framework/core/recipe.h"
#include "framework/model/checkpoint.h"
#include "framework/model/vit.h"
#include "framework/peft/channels.h"

namespace sct::peft {

class Trainable;

struct AdapterFile {
  std::string path;
  std::string method;
  Recipe recipe;                 // the resolved recipe the unit trained with
  std::string recipe_hash;       // the unit's training hash
  bool has_selection = false;    // methods that need a channel selection
  ChannelSelection selection;
  model::ViTConfig config;       // architecture, training image size, head classes
  std::string backbone;          // the recipe's model.checkpoint, or "random <arch> seed <seed>"
  std::string backbone_checksum;  // frozen_checksum of the backbone it was trained on
  std::string results;           // the unit's result as JSON text ("{}" when unknown)
  model::NamedTensors tensors;   // the trained tensors in model order
};

// "fnv1a64:<16 hex>" over the name, shape and float32 bytes of every parameter of `model` whose
// name is not in `trained`, in model order: identifies the frozen backbone the trained tensors
// belong with (a random backbone included), whatever file it came from.
std::string frozen_checksum(model::ViTImpl& model, const std::vector<std::string>& trained);

// Writes the adapter file of `model` (after training) atomically. `selection` is required when
// the method needs one; `results_json` is the unit's result ("{}" when none).
void write_adapter(const std::string& path, model::ViTImpl& model, const Trainable& trainable, const Recipe& recipe,
                   const ChannelSelection* selection, const std::string& recipe_hash, const std::string& results_json);

// Reads and checks an adapter file: InputError naming the file and the metadata key or tensor.
AdapterFile read_adapter(const std::string& path);

// A backbone for `adapter`: `checkpoint`, else the one its recipe names (a random backbone is
// rebuilt from its seed), at the adapter's image size with a head of its classes.
model::ViT build_adapter_backbone(const AdapterFile& adapter, const std::string& checkpoint = "");

// Installs the adapter's method on `model` (a backbone of the adapter's architecture), checks
// the frozen parameters against backbone_checksum and copies the trained tensors in. InputError
// for another architecture, an unknown method, a different backbone, a missing or extra tensor.
void apply_adapter(model::ViTImpl& model, const AdapterFile& adapter);

// build_adapter_backbone then apply_adapter: the trained model, in eval mode.
model::ViT load_adapted_model(const AdapterFile& adapter, const std::string& checkpoint = "");

}  // namespace sct::peft
