// The methods of the registry, one per file in this folder; method.cpp lists them in order.
// Internal to framework/peft: callers use peft::method(name).
#pragma once

#include "framework/peft/method.h"

namespace sct::peft::methods {

const Method& sct();     // SCT modules on K salient channels per block + head (sct.cpp)
const Method& linear();  // the head only (linear.cpp)
const Method& full();    // every parameter (full.cpp)
const Method& bitfit();  // every backbone bias, LayerNorm biases included, + head (bitfit.cpp)

}  // namespace sct::peft::methods
