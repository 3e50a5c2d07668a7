// The mapping between Google ViT .npz keys (Flax layout) and timm names, both directions
// (checkpoints.md §1). Internal to the checkpoint reader and writer.
#pragma once

#include <string>
#include <vector>

#include "framework/model/checkpoint.h"

namespace sct::model {

// Converts npz tensors (named by their keys) to timm names and layouts, in place. Strips the
// "opt/target/" prefix, drops pre_logits (logged), keeps keys without '/' as timm names, and
// returns the number of heads read from the query kernel. InputError on unknown keys or shapes
// that do not fit the layout.
int64_t google_to_timm(std::vector<CheckpointTensor>* tensors, const std::string& file);

// The npz key(s) a timm name comes from, for messages ("" when not a Google-layout tensor).
std::string google_key_of(const std::string& timm_name);

// timm-named tensors to Google npz keys and layouts (inverse of google_to_timm).
NamedTensors timm_to_google(const NamedTensors& tensors, const ViTConfig& config);

}  // namespace sct::model
