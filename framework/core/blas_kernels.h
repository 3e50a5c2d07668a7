// OpenBLAS picks its kernels from the CPU's model number, so on a CPU newer than the library it
// falls back to generic ones (3-4x slower products). This finds the kernel set it chose and the
// CPU's features, decides whether a better set fits, and re-executes the process with
// OPENBLAS_CORETYPE set when it does (before MPI starts; the pid stays the same).
#pragma once

#include <string>

namespace sct {

// From CPUID (and the OS's saving of the vector registers). All false off x86.
struct CpuFeatures {
  bool avx2 = false, fma = false;
  bool avx512f = false, avx512bw = false, avx512vl = false;
  bool avx512_bf16 = false;
  bool avx512() const { return avx512f && avx512bw && avx512vl; }
  std::string describe() const;  // "AVX-512", "AVX2", "no AVX2" (the widest set it has)
};
CpuFeatures cpu_features();

// openblas_get_corename() of the loaded BLAS, resolved at run time; "" when the library that
// provides the products is not OpenBLAS.
std::string openblas_corename();

struct KernelChoice {
  bool change = false;   // re-execute with OPENBLAS_CORETYPE = coretype
  std::string coretype;  // the kernel set to use when `change`
  std::string reason;    // why, in words, either way
};

// The decision, from what OpenBLAS chose (`corename`, "" = not OpenBLAS), the CPU's features and
// the user's OPENBLAS_CORETYPE (nullptr or "" = not set). A value the user set is always kept; a
// generic or pre-AVX2 kernel set on a CPU with AVX-512 (F, BW, VL) becomes SkylakeX, on one with
// AVX2 and FMA Haswell; a kernel set that already uses AVX2 or wider is kept.
KernelChoice choose_kernels(const std::string& corename, const CpuFeatures& cpu, const char* user_coretype);

// First thing in main, before MPI or threads start: when choose_kernels() says so, re-executes
// this program (/proc/self/exe, same argv, same pid) with OPENBLAS_CORETYPE set, and marks the
// environment so the new image can tell. Returns when nothing needs changing or exec failed.
// SCT_BLAS_TEST_CORENAME, when set, stands in for OpenBLAS's choice (tests of this path only).
void ensure_blas_kernels(char** argv);

// The kernel set in use and where it came from, e.g. "SkylakeX (set at start-up: OpenBLAS chose
// Prescott on a CPU with AVX-512)", "Haswell (OPENBLAS_CORETYPE in the environment)",
// "Cooperlake (auto-detected)"; "" when the BLAS is not OpenBLAS.
std::string blas_kernels();

// The start-up line for rank 0 after ensure_blas_kernels() changed the kernels, else "":
// "OpenBLAS chose Prescott on a CPU with AVX-512; using SkylakeX kernels".
std::string blas_kernels_note();

}  // namespace sct
