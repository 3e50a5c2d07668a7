#include "framework/data/decode.h"

#include <fmt/core.h>

#include <csetjmp>
#include <cstdio>
#include <fstream>
#include <iterator>

#include "framework/core/error.h"

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#ifndef SCT_HAVE_LIBJPEG
#define STBI_ONLY_JPEG
#endif
#define STBI_NO_STDIO
#define STBI_FAILURE_USERMSG
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#endif
#include <stb_image.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#ifdef SCT_HAVE_LIBJPEG
#include <jpeglib.h>
#endif

namespace sct::data {
namespace {

bool is_jpeg(const std::vector<uint8_t>& b) {
  return b.size() >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF;
}
bool is_png(const std::vector<uint8_t>& b) {
  return b.size() >= 8 && b[0] == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G';
}

ImageU8 decode_stb(const std::vector<uint8_t>& bytes, const std::string& what) {
  int w = 0, h = 0, n = 0;
  stbi_uc* data = stbi_load_from_memory(bytes.data(), static_cast<int>(bytes.size()), &w, &h, &n, 0);
  if (!data)
    throw InputError(fmt::format("{}: cannot decode image ({})", what, stbi_failure_reason()));
  ImageU8 img(h, w, n);
  std::copy(data, data + img.size(), img.pixels.begin());
  stbi_image_free(data);
  return to_rgb(img);
}

#ifdef SCT_HAVE_LIBJPEG
struct JpegError {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void on_jpeg_error(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegError*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}
void on_jpeg_message(j_common_ptr, int) {}  // warnings (e.g. extraneous bytes) stay quiet

// libjpeg's defaults (islow IDCT, fancy upsampling) are also Pillow's, so pixels match it.
// The body holds no C++ objects with destructors between setjmp and longjmp.
bool decode_libjpeg(const std::vector<uint8_t>& bytes, ImageU8& out, std::string& error) {
  jpeg_decompress_struct cinfo;
  JpegError err;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = on_jpeg_error;
  err.mgr.emit_message = on_jpeg_message;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    error = err.message;
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&cinfo, TRUE);
  const bool gray = cinfo.jpeg_color_space == JCS_GRAYSCALE;
  cinfo.out_color_space = gray ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(&cinfo);
  out.height = static_cast<int>(cinfo.output_height);
  out.width = static_cast<int>(cinfo.output_width);
  out.channels = static_cast<int>(cinfo.output_components);
  out.pixels.resize(static_cast<size_t>(out.height) * out.width * out.channels);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = out.row(static_cast<int>(cinfo.output_scanline));
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return true;
}
#endif

}  // namespace

ImageU8 decode_image(const std::vector<uint8_t>& bytes, const std::string& what) {
  if (is_jpeg(bytes)) {
#ifdef SCT_HAVE_LIBJPEG
    ImageU8 img;
    std::string error;
    if (!decode_libjpeg(bytes, img, error))
      throw InputError(fmt::format("{}: cannot decode JPEG ({})", what, error));
    return to_rgb(img);
#else
    return decode_stb(bytes, what);
#endif
  }
  if (is_png(bytes)) return decode_stb(bytes, what);
  throw InputError(fmt::format("{}: not a JPEG or PNG image ({} bytes)", what, bytes.size()));
}

ImageU8 load_image(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open image file", path));
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return decode_image(bytes, path);
}

std::string jpeg_decoder_name() {
#ifdef SCT_HAVE_LIBJPEG
#ifdef LIBJPEG_TURBO_VERSION
#define SCT_STR2(x) #x
#define SCT_STR(x) SCT_STR2(x)
  return "libjpeg-turbo " SCT_STR(LIBJPEG_TURBO_VERSION) " (same decoder as Pillow)";
#else
  return fmt::format("libjpeg {} (same decoder as Pillow)", JPEG_LIB_VERSION);
#endif
#else
  return "stb_image (libjpeg not found at configure time; may differ from Pillow by a few levels)";
#endif
}

}  // namespace sct::data
