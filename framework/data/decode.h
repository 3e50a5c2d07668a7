// JPEG and PNG decoding to 8-bit RGB, the way the reference pipeline's
// PIL.Image.open(path).convert("RGB") sees an image: gray replicated, alpha dropped.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "framework/data/image.h"

namespace sct::data {

// Decodes JPEG or PNG bytes; InputError "<what>: ..." when the data is not a readable image.
ImageU8 decode_image(const std::vector<uint8_t>& bytes, const std::string& what);

// Reads and decodes a file; InputError naming the path when missing or undecodable.
ImageU8 load_image(const std::string& path);

// Which JPEG decoder this build uses. libjpeg(-turbo), which Pillow also uses, gives
// Pillow's pixels exactly; the stb_image fallback differs by a few levels on some pixels.
std::string jpeg_decoder_name();

}  // namespace sct::data
