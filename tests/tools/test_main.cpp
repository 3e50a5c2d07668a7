// gtest main of the unit tests: like gtest_main, but first replaces OpenBLAS's generic-kernel
// fallback the way sct_dist does (framework/core/blas_kernels.h), so the parity tests against
// NumPy, Pillow and float64 references run on the kernels a real run uses.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "framework/core/blas_kernels.h"

int main(int argc, char** argv) {
  sct::ensure_blas_kernels(argv);  // may re-execute this process, so before anything else
  const std::string note = sct::blas_kernels_note();
  if (!note.empty()) std::printf("blas: %s\n", note.c_str());
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
