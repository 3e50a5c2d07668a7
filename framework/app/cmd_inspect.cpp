// `sct_dist inspect CHECKPOINT`: the inferred architecture, parameter counts and a tensor table.
#include <fmt/format.h>

#include "framework/app/command.h"
#include "framework/core/log.h"
#include "framework/model/checkpoint.h"

namespace sct::app {
namespace {

std::string grouped(int64_t n) {
  std::string s = std::to_string(n), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return out;
}

}  // namespace

int inspect_command(Env& env, const CommandLine& line) {
  (void)env;  // needs no world: a single-process tool
  const std::string& path = line.inspect.checkpoint;
  if (log::rank() != 0) return 0;  // started under mpirun: rank 0 prints
  const model::LoadedCheckpoint c = model::load_checkpoint(path);
  const model::ViTConfig& cfg = c.config;
  const std::string preset = model::preset_name_of(cfg);
  fmt::print("checkpoint    {} ({}, {:.1f} MB)\n", path, model::format_name(c.format), double(c.file_bytes) / 1e6);
  fmt::print("architecture  {}: {}\n", preset.empty() ? "custom ViT" : preset, cfg.describe());
  fmt::print("heads from    {}\n", c.heads_source);
  const int64_t backbone = model::vit_num_params(cfg, false), total = model::vit_num_params(cfg, true);
  int64_t extra = 0;
  for (const auto& t : c.tensors) extra += t.value.numel();
  extra -= total;
  fmt::print("parameters    backbone {}, head {}, other {}, total {}\n", grouped(backbone), grouped(total - backbone),
             grouped(extra), grouped(total + extra));
  for (const auto& [k, v] : c.metadata) fmt::print("metadata      {} = {}\n", k, v);
  size_t w = 4;
  for (const auto& t : c.tensors) w = std::max(w, t.name.size());
  fmt::print("\n{:<{}}  {:<20} {:<5} {}\n", "name", w, "shape", "dtype", "file key");
  for (const auto& t : c.tensors) {
    const std::vector<int64_t> shape(t.value.sizes().begin(), t.value.sizes().end());
    fmt::print("{:<{}}  {:<20} {:<5} {}\n", t.name, w, model::shape_str(shape), t.file_dtype,
               t.source == t.name ? "" : t.source);
  }
  return 0;
}

}  // namespace sct::app
