// Test helper: writes a ViT checkpoint with random weights (every parameter random, biases
// and LayerNorms included) through the library's writers.
//   model_fixture OUT --dim D --depth L --heads H --patch P --image S --classes C --seed N
//                 [--dtype f32|f16|bf16] [--compress] [--prefix opt/target/]
#include <ATen/ATen.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "framework/model/vit_io.h"

int main(int argc, char** argv) {
  using namespace sct::model;
  if (argc < 2) {
    std::fprintf(stderr, "usage: model_fixture OUT [--dim D] ...\n");
    return 2;
  }
  ViTConfig c;
  SaveOptions save;
  int64_t seed = 0;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--dim") c.dim = std::atoll(next().c_str());
    else if (a == "--depth") c.depth = std::atoll(next().c_str());
    else if (a == "--heads") c.heads = std::atoll(next().c_str());
    else if (a == "--patch") c.patch = std::atoll(next().c_str());
    else if (a == "--image") c.image_size = std::atoll(next().c_str());
    else if (a == "--classes") c.num_classes = std::atoll(next().c_str());
    else if (a == "--mlp-ratio") c.mlp_ratio = std::atof(next().c_str());
    else if (a == "--seed") seed = std::atoll(next().c_str());
    else if (a == "--compress") save.compress = true;
    else if (a == "--prefix") save.npz_prefix = next();
    else if (a == "--dtype") {
      const std::string d = next();
      save.dtype = d == "f16" ? DType::kF16 : d == "bf16" ? DType::kBF16 : DType::kF32;
    } else {
      std::fprintf(stderr, "model_fixture: unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  at::manual_seed(uint64_t(seed));
  ViT m(c);
  {
    at::NoGradGuard ng;
    for (auto& p : m->parameters()) p.normal_(0.0, 0.3);
  }
  save_model(argv[1], *m, save);
  return 0;
}
