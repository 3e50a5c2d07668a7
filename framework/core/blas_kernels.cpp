#include "framework/core/blas_kernels.h"

#include <dlfcn.h>
#include <fmt/format.h>
#include <strings.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "framework/core/sysinfo.h"

namespace sct {
namespace {

// Set in the re-executed image to the kernel set OpenBLAS had chosen by itself; its presence
// also stops a second re-execution.
constexpr const char* kReplacedVar = "SCT_BLAS_REPLACED";

// OpenBLAS's x86 kernel sets whose products use AVX2 (with FMA) or AVX-512. Every other set of
// its DYNAMIC_ARCH builds (Prescott, Core2, Nehalem, Sandybridge, Bulldozer, ...) is what it
// falls back to on a model it does not know, or fits only CPUs without AVX2.
bool vector_kernels(const std::string& corename) {
  for (const char* name : {"Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids"})
    if (strcasecmp(corename.c_str(), name) == 0) return true;
  return false;
}

const char* env_or_null(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}

}  // namespace

std::string CpuFeatures::describe() const {
  if (avx512()) return "AVX-512";
  if (avx2 && fma) return "AVX2";
  return "no AVX2";
}

CpuFeatures cpu_features() {
  CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
  // __builtin_cpu_supports also checks that the OS saves the wider registers (XGETBV).
  __builtin_cpu_init();
  f.avx2 = __builtin_cpu_supports("avx2");
  f.fma = __builtin_cpu_supports("fma");
  f.avx512f = __builtin_cpu_supports("avx512f");
  f.avx512bw = __builtin_cpu_supports("avx512bw");
  f.avx512vl = __builtin_cpu_supports("avx512vl");
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (f.avx512f && __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx)) f.avx512_bf16 = (eax >> 5) & 1u;
#endif
  return f;
}

std::string openblas_corename() {
  using CorenameFn = char* (*)();
  auto corename = reinterpret_cast<CorenameFn>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  // Another library may provide the products while OpenBLAS is loaded too: ask only the one
  // that resolves sgemm_.
  if (!corename || blas_library().find("openblas") == std::string::npos) return "";
  const char* name = corename();
  return name ? name : "";
}

KernelChoice choose_kernels(const std::string& corename, const CpuFeatures& cpu, const char* user_coretype) {
  KernelChoice c;
  if (corename.empty()) {
    c.reason = "the BLAS is not OpenBLAS";
  } else if (user_coretype && *user_coretype) {
    c.reason = fmt::format("OPENBLAS_CORETYPE={} was set by the user", user_coretype);
  } else if (vector_kernels(corename)) {
    c.reason = fmt::format("OpenBLAS chose {}, which uses AVX2 or AVX-512", corename);
  } else if (!cpu.avx512() && !(cpu.avx2 && cpu.fma)) {
    c.reason = fmt::format("OpenBLAS chose {} on a CPU with {}", corename, cpu.describe());
  } else {
    c.change = true;
    c.coretype = cpu.avx512() ? "SkylakeX" : "Haswell";
    c.reason = fmt::format("OpenBLAS chose {} on a CPU with {}; using {} kernels", corename, cpu.describe(),
                           c.coretype);
  }
  return c;
}

void ensure_blas_kernels(char** argv) {
  if (env_or_null(kReplacedVar)) return;  // this image is the re-executed one
  const char* pretend = env_or_null("SCT_BLAS_TEST_CORENAME");
  const std::string chosen = pretend ? pretend : openblas_corename();
  const KernelChoice choice = choose_kernels(chosen, cpu_features(), env_or_null("OPENBLAS_CORETYPE"));
  if (!choice.change) return;
  // OpenBLAS reads OPENBLAS_CORETYPE once, when it is loaded: only a new image can use it.
  setenv("OPENBLAS_CORETYPE", choice.coretype.c_str(), 1);
  setenv(kReplacedVar, chosen.c_str(), 1);
  execv("/proc/self/exe", argv);
  const int err = errno;
  unsetenv("OPENBLAS_CORETYPE");
  unsetenv(kReplacedVar);
  std::fprintf(stderr, "blas: %s, but re-executing with OPENBLAS_CORETYPE=%s failed (%s); set it by hand\n",
               choice.reason.c_str(), choice.coretype.c_str(), std::strerror(err));
}

std::string blas_kernels() {
  const std::string core = openblas_corename();
  if (core.empty()) return "";
  if (const char* replaced = env_or_null(kReplacedVar))
    return fmt::format("{} (set at start-up: OpenBLAS chose {} on a CPU with {})", core, replaced,
                       cpu_features().describe());
  if (const char* user = env_or_null("OPENBLAS_CORETYPE"))
    return fmt::format("{} (OPENBLAS_CORETYPE={} in the environment)", core, user);
  return core + " (auto-detected)";
}

std::string blas_kernels_note() {
  const char* replaced = env_or_null(kReplacedVar);
  if (!replaced) return "";
  return fmt::format("OpenBLAS chose {} on a CPU with {}; using {} kernels", replaced, cpu_features().describe(),
                     openblas_corename());
}

}  // namespace sct
