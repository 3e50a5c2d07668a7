// libFuzzer target for the checkpoint parsers (.npy, .npz through libzip, .safetensors).
// Any input must either parse or raise sct::InputError; anything else (a crash, a sanitizer
// report, another exception) is a finding. The input's first bytes choose the parser.
#include <cstdint>
#include <cstring>

#include "framework/core/error.h"
#include "framework/model/npy.h"
#include "framework/model/npz.h"
#include "framework/model/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sct::model;
  try {
    if (size >= 6 && std::memcmp(data, "\x93NUMPY", 6) == 0) {
      parse_npy(data, size, "fuzz.npy");
    } else if (size >= 2 && data[0] == 'P' && data[1] == 'K') {
      read_npz_buffer(data, size, "fuzz.npz", [](RawTensor&&) {});
    } else {
      MemorySource src(data, size, "fuzz.safetensors");
      read_safetensors(src, [](RawTensor&&) {});
    }
  } catch (const sct::InputError&) {
  }
  return 0;
}
