// Checkpoint I/O: round trips through both formats, layout conversions, and one clear
// InputError naming the file and the tensor for every kind of defect.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <zip.h>

#include <filesystem>
#include <fstream>

#include "framework/core/error.h"
#include "framework/model/checkpoint.h"
#include "framework/model/npy.h"
#include "framework/model/npz.h"
#include "framework/model/safetensors.h"
#include "framework/model/tensor_io.h"
#include "framework/model/vit_io.h"

namespace sct::model {
namespace {

namespace fs = std::filesystem;

class Checkpoints : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sct_model_test_" + std::to_string(getpid()));
    fs::create_directories(dir_);
    at::manual_seed(1);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  static ViTConfig tiny(int64_t classes = 4) {
    ViTConfig c;
    c.dim = 12;
    c.depth = 2;
    c.heads = 3;
    c.patch = 4;
    c.image_size = 8;
    c.num_classes = classes;
    return c;
  }
  // A model whose every parameter is random (biases and LayerNorms too).
  static ViT random_model(const ViTConfig& c) {
    ViT m(c);
    at::NoGradGuard ng;
    for (auto& p : m->parameters()) p.normal_(0.0, 0.5);
    return m;
  }
  // Writes a ZIP archive of raw members.
  static void write_zip(const std::string& file, const std::vector<std::pair<std::string, std::string>>& members) {
    int err = 0;
    zip_t* za = zip_open(file.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
    ASSERT_NE(za, nullptr);
    for (const auto& [name, bytes] : members) {
      zip_source_t* s = zip_source_buffer(za, bytes.data(), bytes.size(), 0);
      ASSERT_GE(zip_file_add(za, name.c_str(), s, 0), 0);
    }
    ASSERT_EQ(zip_close(za), 0);
  }
  static void write_bytes(const std::string& file, const std::string& bytes) {
    std::ofstream(file, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
  }
  static std::string read_bytes(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  static std::string safetensors_bytes(const std::string& json, size_t data_bytes) {
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i) out[size_t(i)] = char((json.size() >> (8 * i)) & 0xff);
    return out + json + std::string(data_bytes, '\0');
  }

  fs::path dir_;
};

// The message of the InputError `fn` throws; fails the test when none is thrown.
template <typename F>
std::string input_error(F&& fn) {
  try {
    fn();
  } catch (const InputError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not an InputError: " << e.what();
    return "";
  }
  ADD_FAILURE() << "no error thrown";
  return "";
}

#define EXPECT_MENTIONS(msg, part) EXPECT_NE((msg).find(part), std::string::npos) << (msg)

TEST_F(Checkpoints, RoundTripBothFormatsGiveTheSameModel) {
  ViT m = random_model(tiny());
  m->eval();
  at::Tensor x = at::randn({2, 3, 8, 8});
  at::Tensor ref = m->forward(x);
  for (const std::string name : {"m.npz", "m.safetensors"}) {
    save_model(path(name), *m);
    LoadedCheckpoint c = load_checkpoint(path(name));
    EXPECT_EQ(c.config.describe(), tiny().describe());
    EXPECT_EQ(c.tensors.size(), vit_parameter_shapes(tiny()).size());
    ViT loaded = build_from_checkpoint(c);
    loaded->eval();
    EXPECT_TRUE(at::equal(loaded->forward(x), ref)) << name;
  }
  // The npz holds Google keys, shapes and the head count in the query kernel.
  std::map<std::string, std::vector<int64_t>> keys;
  read_npz(path("m.npz"), [&](RawTensor&& t) { keys[t.name] = t.shape; });
  EXPECT_EQ(keys.at("embedding/kernel"), (std::vector<int64_t>{4, 4, 3, 12}));
  EXPECT_EQ(keys.at("Transformer/encoderblock_1/MultiHeadDotProductAttention_1/query/kernel"),
            (std::vector<int64_t>{12, 3, 4}));
  EXPECT_EQ(keys.at("Transformer/encoderblock_0/MultiHeadDotProductAttention_1/out/kernel"),
            (std::vector<int64_t>{3, 4, 12}));
  EXPECT_EQ(keys.at("head/kernel"), (std::vector<int64_t>{12, 4}));
  EXPECT_EQ(keys.size(), 4u + 2 + 2 + 2 * (2 + 6 + 2 + 2 + 4));
}

TEST_F(Checkpoints, GoogleLayoutMatchesHandTransposes) {
  ViT m = random_model(tiny());
  save_model(path("g.npz"), *m, {DType::kF32, /*compress=*/true, "opt/target/"});
  std::map<std::string, at::Tensor> g;
  read_npz(path("g.npz"), [&](RawTensor&& t) { g[t.name] = raw_to_tensor(t); });
  auto p = m->named_parameters();
  const std::string a = "opt/target/Transformer/encoderblock_1/MultiHeadDotProductAttention_1/";
  // qkv rows are [q; k; v], each the transposed (D, H*hd) kernel.
  at::Tensor qkv = p["blocks.1.attn.qkv.weight"];
  EXPECT_TRUE(at::equal(qkv.narrow(0, 12, 12), g[a + "key/kernel"].reshape({12, 12}).t()));
  EXPECT_TRUE(at::equal(p["blocks.1.attn.qkv.bias"].narrow(0, 24, 12), g[a + "value/bias"].reshape({12})));
  // proj.weight[j, h*hd + d] = out_kernel[h, d, j].
  at::Tensor out = g[a + "out/kernel"];
  EXPECT_FLOAT_EQ(p["blocks.1.attn.proj.weight"][5][2 * 4 + 1].item<float>(), out[2][1][5].item<float>());
  // conv weight[o, c, y, x] = kernel[y, x, c, o].
  EXPECT_FLOAT_EQ(p["patch_embed.proj.weight"][7][2][1][3].item<float>(),
                  g["opt/target/embedding/kernel"][1][3][2][7].item<float>());
  LoadedCheckpoint c = load_checkpoint(path("g.npz"));
  EXPECT_EQ(c.heads_source, "query kernel");
  EXPECT_TRUE(at::equal(c.find("blocks.1.attn.qkv.weight")->value, qkv));
}

TEST_F(Checkpoints, HalfPrecisionAndHeadsFromMetadata) {
  ViTConfig cfg = tiny(0);
  ViT m = random_model(cfg);
  for (DType d : {DType::kF16, DType::kBF16}) {
    SaveOptions opt;
    opt.dtype = d;
    save_model(path("h.safetensors"), *m, opt);
    LoadedCheckpoint c = load_checkpoint(path("h.safetensors"));
    EXPECT_EQ(c.heads_source, "__metadata__ num_heads");
    EXPECT_EQ(c.config.heads, 3);
    EXPECT_EQ(c.tensors[0].file_dtype, dtype_name(d));
    const double tol = d == DType::kF16 ? 1e-3 : 1e-2;
    at::Tensor w = m->named_parameters()["blocks.0.mlp.fc1.weight"];
    EXPECT_TRUE(at::allclose(c.find("blocks.0.mlp.fc1.weight")->value, w, tol, tol));
  }
  // Without metadata, a standard width decides the heads.
  ViTConfig s = vit_preset("vit-ti16");
  s.depth = 1;
  s.image_size = 32;
  ViT small = random_model(s);
  std::vector<RawTensor> raws;
  for (const auto& [n, t] : model_tensors(*small)) raws.push_back(tensor_to_raw(n, t));
  write_safetensors(path("nometa.safetensors"), raws);
  LoadedCheckpoint c = load_checkpoint(path("nometa.safetensors"));
  EXPECT_EQ(c.config.heads, 3);
  EXPECT_EQ(c.config.image_size, 32);
}

TEST_F(Checkpoints, PositionEmbeddingResizedAndHeadDropped) {
  ViT m = random_model(tiny(4));
  save_model(path("r.safetensors"), *m);
  LoadedCheckpoint c = load_checkpoint(path("r.safetensors"));
  ViT big = build_from_checkpoint(c, /*image_size=*/16, /*num_classes=*/6);
  auto p = big->named_parameters();
  EXPECT_EQ(p["pos_embed"].size(1), 17);
  EXPECT_TRUE(at::equal(p["pos_embed"].narrow(1, 0, 1), c.find("pos_embed")->value.narrow(1, 0, 1)));
  EXPECT_TRUE(at::equal(p["pos_embed"], resize_pos_embed(c.find("pos_embed")->value, 4)));
  EXPECT_EQ(p["head.weight"].size(0), 6);  // fresh head: the checkpoint's had 4 classes
  EXPECT_TRUE(at::equal(p["blocks.1.mlp.fc2.weight"], c.find("blocks.1.mlp.fc2.weight")->value));
}

TEST_F(Checkpoints, AdaptersTravelWithTheModel) {
  struct Lin : Adapter {
    Lin() { weight = register_parameter("weight", at::randn({12, 12})); }
    at::Tensor forward(const at::Tensor& x) override { return x + at::matmul(x, weight.t()); }
    at::Tensor weight;
  };
  ViT m = random_model(tiny());
  m->set_adapter(1, Site::kAttnOut, std::make_shared<Lin>());
  for (const std::string name : {"a.npz", "a.safetensors"}) {
    save_model(path(name), *m);
    LoadedCheckpoint c = load_checkpoint(path(name));
    ASSERT_NE(c.find("blocks.1.sct_attn.weight"), nullptr) << name;
    ViT plain(config_for(c));
    EXPECT_MENTIONS(input_error([&] { load_into(*plain, c); }), "blocks.1.sct_attn.weight");
    ViT with(config_for(c));
    with->set_adapter(1, Site::kAttnOut, std::make_shared<Lin>());
    load_into(*with, c);
    EXPECT_TRUE(at::equal(with->named_parameters()["blocks.1.sct_attn.weight"],
                          m->named_parameters()["blocks.1.sct_attn.weight"]));
  }
  // A backbone-only checkpoint into a model with adapters: allowed only when asked.
  ViT bare = random_model(tiny());
  save_model(path("bare.safetensors"), *bare);
  LoadedCheckpoint b = load_checkpoint(path("bare.safetensors"));
  EXPECT_MENTIONS(input_error([&] { load_into(*m, b); }), "missing tensor 'blocks.1.sct_attn.weight'");
  load_into(*m, b, {/*allow_missing_adapters=*/true});
}

TEST_F(Checkpoints, NpyReadWriteAndVersions) {
  at::Tensor t = at::randn({2, 3, 4});
  write_npy_tensor(path("t.npy"), t);
  EXPECT_TRUE(at::equal(read_npy_tensor(path("t.npy")), t));
  // Version 3.0 header, f8 data.
  std::string dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }";
  dict += std::string(64 - (12 + dict.size() + 1) % 64, ' ') + "\n";
  std::string bytes = std::string("\x93NUMPY\x03\x00", 8);
  for (int i = 0; i < 4; ++i) bytes += char((dict.size() >> (8 * i)) & 0xff);
  const double vals[2] = {1.5, -2.25};
  bytes += dict + std::string(reinterpret_cast<const char*>(vals), 16);
  write_bytes(path("v3.npy"), bytes);
  at::Tensor v = read_npy_tensor(path("v3.npy"));
  EXPECT_EQ(v[1].item<float>(), -2.25f);
  EXPECT_EQ(encode_npy_header(DType::kF32, {5}).find("(5,)") != std::string::npos, true);
  EXPECT_EQ(encode_npy_header(DType::kF32, {}).size() % 64, 0u);
}

TEST_F(Checkpoints, NpzDefectsNameFileAndTensor) {
  ViT m = random_model(tiny());
  save_model(path("ok.npz"), *m);
  const std::string ok = read_bytes(path("ok.npz"));

  // Truncated archive: the end-of-directory record is gone.
  write_bytes(path("trunc.npz"), ok.substr(0, ok.size() / 2));
  EXPECT_MENTIONS(input_error([&] { load_checkpoint(path("trunc.npz")); }), path("trunc.npz"));
  // Not a ZIP at all.
  write_bytes(path("junk.npz"), std::string(100, 'x'));
  EXPECT_MENTIONS(input_error([&] { load_checkpoint(path("junk.npz")); }), "not a ZIP archive");

  const std::string key = "Transformer/encoderblock_0/LayerNorm_0/scale";
  auto npy = [](const std::string& descr, bool fortran, const std::string& shape, size_t data) {
    std::string d = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") +
                    ", 'shape': " + shape + ", }";
    d += std::string(64 - (10 + d.size() + 1) % 64, ' ') + "\n";
    std::string b = std::string("\x93NUMPY\x01\x00", 8) + char(d.size() & 0xff) + char(d.size() >> 8);
    return b + d + std::string(data, '\0');
  };
  struct Case {
    std::string member, bytes, expect;
  };
  const std::vector<Case> cases = {
      {key + ".npy", "\x93NUMPX" + npy("<f4", false, "(12,)", 48).substr(6), "bad magic"},
      {key + ".npy", npy("<f4", true, "(12,)", 48), "fortran_order"},
      {key + ".npy", npy(">f4", false, "(12,)", 48), "unsupported dtype '>f4'"},
      {key + ".npy", npy("<i8", false, "(12,)", 96), "unsupported dtype '<i8'"},
      {key + ".npy", npy("<f4", false, "(12,)", 20), "needs 48"},
      {key + ".npy", npy("<f4", false, "(12,", 48), "malformed"},
      {key + ".npy", npy("<f4", false, "(12,)", 48).substr(0, 30), "truncated"},
  };
  for (const Case& c : cases) {
    write_zip(path("bad.npz"), {{c.member, c.bytes}});
    const std::string msg = input_error([&] { load_checkpoint(path("bad.npz")); });
    EXPECT_MENTIONS(msg, path("bad.npz"));
    EXPECT_MENTIONS(msg, key);
    EXPECT_MENTIONS(msg, c.expect);
  }
}

TEST_F(Checkpoints, MissingUnknownAndMismatchedTensors) {
  ViT m = random_model(tiny());
  NamedTensors all = model_tensors(*m);
  auto without = [&](const std::string& drop) {
    NamedTensors out;
    for (const auto& [n, t] : all)
      if (n != drop) out.emplace_back(n, t);
    return out;
  };
  save_checkpoint(path("miss.npz"), without("blocks.1.mlp.fc1.bias"), tiny());
  std::string msg = input_error([&] { load_checkpoint(path("miss.npz")); });
  EXPECT_MENTIONS(msg, "missing tensor 'blocks.1.mlp.fc1.bias'");
  EXPECT_MENTIONS(msg, "Transformer/encoderblock_1/MlpBlock_3/Dense_0/bias");
  save_checkpoint(path("miss.safetensors"), without("norm.weight"), tiny());
  EXPECT_MENTIONS(input_error([&] { load_checkpoint(path("miss.safetensors")); }), "missing tensor 'norm.weight'");

  NamedTensors bad = without("blocks.0.norm2.bias");
  bad.emplace_back("blocks.0.norm2.bias", at::zeros({13}));
  save_checkpoint(path("shape.npz"), bad, tiny());
  msg = input_error([&] { load_checkpoint(path("shape.npz")); });
  EXPECT_MENTIONS(msg, "blocks.0.norm2.bias");
  EXPECT_MENTIONS(msg, "Transformer/encoderblock_0/LayerNorm_2/bias");
  EXPECT_MENTIONS(msg, "shape mismatch");

  // A query kernel that does not fit the heads of block 0.
  std::vector<RawTensor> raws;
  read_npz(path("miss.npz"), [&](RawTensor&& t) {
    if (t.name == "Transformer/encoderblock_1/MultiHeadDotProductAttention_1/key/kernel") t.shape = {12, 4, 3};
    raws.push_back(std::move(t));
  });
  write_npz(path("heads.npz"), raws);
  EXPECT_MENTIONS(input_error([&] { load_checkpoint(path("heads.npz")); }), "key/kernel");

  NamedTensors extra = all;
  extra.emplace_back("blocks.0.mystery", at::zeros({3}));
  save_checkpoint(path("extra.safetensors"), extra, tiny());
  LoadedCheckpoint c = load_checkpoint(path("extra.safetensors"));
  ViT target(config_for(c));
  EXPECT_MENTIONS(input_error([&] { load_into(*target, c); }), "unknown tensor 'blocks.0.mystery'");
  raws.clear();
  raws.push_back(tensor_to_raw("Transformer/unexpected/kernel", at::zeros({2})));
  write_npz(path("unknown.npz"), raws);
  EXPECT_MENTIONS(input_error([&] { load_checkpoint(path("unknown.npz")); }), "unknown tensor 'Transformer/unexpected/kernel'");
}

TEST_F(Checkpoints, SafetensorsDefectsNameFileAndTensor) {
  const std::string f = path("bad.safetensors");
  struct Case {
    std::string bytes, expect;
  };
  const std::string entry = R"({"cls_token":{"dtype":"F32","shape":[1,1,4],"data_offsets":[0,16]}})";
  const std::vector<Case> cases = {
      {"abc", "truncated"},
      {std::string("\xff\xff\xff\x00\x00\x00\x00\x00", 8) + "{}", "header length 16777215 exceeds"},
      {safetensors_bytes("[1,2]   ", 0), "bad magic"},
      {safetensors_bytes("{\"a\": ", 0), "not a valid JSON object"},
      {safetensors_bytes(R"({"cls_token":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}})", 16),
       "tensor 'cls_token': unsupported dtype 'I64'"},
      {safetensors_bytes(entry, 8), "tensor 'cls_token': data_offsets [0, 16] lie outside"},
      {safetensors_bytes(R"({"cls_token":{"dtype":"F32","shape":[1,1,4],"data_offsets":[0,12]}})", 16),
       "tensor 'cls_token': data_offsets span 12 bytes"},
      {safetensors_bytes(R"({"cls_token":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4),
       "tensor 'cls_token'"},
      {safetensors_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                         R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12),
       "tensor 'b': data overlaps tensor 'a'"},
      {safetensors_bytes(entry, 16), "missing tensor 'patch_embed.proj.weight'"},
  };
  for (const Case& c : cases) {
    write_bytes(f, c.bytes);
    const std::string msg = input_error([&] { load_checkpoint(f); });
    EXPECT_MENTIONS(msg, f);
    EXPECT_MENTIONS(msg, c.expect);
  }
  // A file cut inside the data: the offsets now point past its end.
  ViT m = random_model(tiny());
  save_model(path("ok.safetensors"), *m);
  const std::string ok = read_bytes(path("ok.safetensors"));
  write_bytes(f, ok.substr(0, ok.size() - 10));
  EXPECT_MENTIONS(input_error([&] { load_checkpoint(f); }), "lie outside");
}

}  // namespace
}  // namespace sct::model
