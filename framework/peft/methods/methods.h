// The methods of the registry, one per file in this folder; method.cpp lists them in order.
// Internal to framework/peft: callers use peft::method(name).
#pragma once

#include "framework/peft/method.h"

namespace sct::peft::methods {

// Shared recipe rules. InputError naming the key:
void check_init(const PeftSection& peft);  // peft.init is reference | standard (lora.cpp)
// peft.bottleneck, 0 meaning D/8 (at least 1); InputError when negative (adapter.cpp).
int64_t resolve_bottleneck(const PeftSection& peft, int64_t dim);

const Method& sct();     // SCT modules on K salient channels per block + head (sct.cpp)
const Method& linear();  // the head only (linear.cpp)
const Method& full();    // every parameter (full.cpp)
const Method& bitfit();  // every backbone bias, LayerNorm biases included, + head (bitfit.cpp)
const Method& lora();         // low-rank q and v updates on the qkv Linear + head (lora.cpp)
const Method& adapter();      // sequential bottleneck on the MLP output + head (adapter.cpp)
const Method& adaptformer();  // parallel bottleneck beside the MLP + head (adaptformer.cpp)
const Method& vpt();          // learned prompt tokens, shallow or deep + head (vpt.cpp)
const Method& ssf();          // per-channel scale and shift after linears and norms + head (ssf.cpp)

}  // namespace sct::peft::methods
