// The BLAS kernel decision on table-driven cases, and CPUID's features against /proc/cpuinfo.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "framework/core/blas_kernels.h"

namespace {

sct::CpuFeatures avx512_bf16() {
  sct::CpuFeatures f;
  f.avx2 = f.fma = f.avx512f = f.avx512bw = f.avx512vl = f.avx512_bf16 = true;
  return f;
}
sct::CpuFeatures avx2_only() {
  sct::CpuFeatures f;
  f.avx2 = f.fma = true;
  return f;
}

struct Case {
  const char* what;
  std::string corename;
  sct::CpuFeatures cpu;
  const char* user;
  bool change;
  std::string coretype;
};

TEST(BlasKernels, DecisionTable) {
  sct::CpuFeatures knights = avx512_bf16();  // AVX-512F without BW/VL: not SkylakeX's set
  knights.avx512bw = knights.avx512vl = knights.avx512_bf16 = false;
  const Case cases[] = {
      {"generic fallback on an AVX-512 CPU", "Prescott", avx512_bf16(), nullptr, true, "SkylakeX"},
      {"generic fallback, name in another case", "prescott", avx512_bf16(), nullptr, true, "SkylakeX"},
      {"pre-AVX2 set on an AVX-512 CPU", "Sandybridge", avx512_bf16(), nullptr, true, "SkylakeX"},
      {"Nehalem on an AVX2 CPU", "Nehalem", avx2_only(), nullptr, true, "Haswell"},
      {"AVX-512F without BW/VL takes Haswell", "Core2", knights, nullptr, true, "Haswell"},
      {"the user set it", "Prescott", avx512_bf16(), "Prescott", false, ""},
      {"the user set another", "Prescott", avx512_bf16(), "Haswell", false, ""},
      {"already a good kernel (AVX-512)", "SkylakeX", avx512_bf16(), nullptr, false, ""},
      {"already a good kernel (Cooperlake)", "Cooperlake", avx512_bf16(), nullptr, false, ""},
      {"already an AVX2 kernel", "Haswell", avx512_bf16(), nullptr, false, ""},
      {"Zen kernels", "Zen", avx2_only(), nullptr, false, ""},
      {"a CPU without AVX2 keeps its choice", "Prescott", sct::CpuFeatures{}, nullptr, false, ""},
      {"not OpenBLAS", "", avx512_bf16(), nullptr, false, ""},
  };
  for (const Case& c : cases) {
    const sct::KernelChoice k = sct::choose_kernels(c.corename, c.cpu, c.user);
    EXPECT_EQ(k.change, c.change) << c.what << ": " << k.reason;
    EXPECT_EQ(k.coretype, c.coretype) << c.what;
    EXPECT_FALSE(k.reason.empty()) << c.what;
  }
  EXPECT_EQ(sct::choose_kernels("Prescott", avx512_bf16(), "").change, true) << "an empty value is not set";
  EXPECT_EQ(sct::choose_kernels("Prescott", avx512_bf16(), nullptr).reason,
            "OpenBLAS chose Prescott on a CPU with AVX-512; using SkylakeX kernels");
}

TEST(BlasKernels, CpuFeaturesMatchProcCpuinfo) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  std::set<std::string> flags;
  while (std::getline(in, line))
    if (line.rfind("flags", 0) == 0) {
      std::istringstream words(line.substr(line.find(':') + 1));
      for (std::string w; words >> w;) flags.insert(w);
      break;
    }
  if (flags.empty()) GTEST_SKIP() << "no flags line in /proc/cpuinfo";
  const sct::CpuFeatures f = sct::cpu_features();
  EXPECT_EQ(f.avx2, flags.count("avx2") == 1);
  EXPECT_EQ(f.fma, flags.count("fma") == 1);
  EXPECT_EQ(f.avx512f, flags.count("avx512f") == 1);
  EXPECT_EQ(f.avx512bw, flags.count("avx512bw") == 1);
  EXPECT_EQ(f.avx512vl, flags.count("avx512vl") == 1);
  EXPECT_EQ(f.avx512_bf16, flags.count("avx512_bf16") == 1);
}

}  // namespace
