/* sgemm_clock: an LD_PRELOAD library that times every sgemm_ call of a process.
 *
 * LibTorch (C++ or Python) calls the Fortran BLAS symbol sgemm_ for float matrix products,
 * and the preloaded definition wins symbol resolution, so this one forwards each call to the
 * real BLAS and adds its wall time to a counter. The benchmark reads the counter through
 * sgemm_clock_seconds() / sgemm_clock_calls() (dlsym, or ctypes in Python) to split a
 * training step into matrix-product time and everything else. Overhead: two clock reads
 * per call. Single-threaded callers only (the benchmark runs one thread per process). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef void (*sgemm_fn)(const char*, const char*, const int*, const int*, const int*, const float*, const float*,
                         const int*, const float*, const int*, const float*, float*, const int*);

static sgemm_fn real_sgemm;
static double total_seconds;
static uint64_t total_calls;

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void sgemm_(const char* ta, const char* tb, const int* m, const int* n, const int* k, const float* alpha,
            const float* a, const int* lda, const float* b, const int* ldb, const float* beta, float* c,
            const int* ldc) {
  if (!real_sgemm) {
    real_sgemm = (sgemm_fn)dlsym(RTLD_NEXT, "sgemm_");
    if (!real_sgemm) {  // Python loads LibTorch with RTLD_LOCAL: ask its BLAS directly
      void* blas = dlopen("libblas.so.3", RTLD_LAZY | RTLD_LOCAL);
      if (blas) real_sgemm = (sgemm_fn)dlsym(blas, "sgemm_");
    }
    if (!real_sgemm) {
      fprintf(stderr, "sgemm_clock: no sgemm_ behind the preloaded one\n");
      abort();
    }
  }
  const double t0 = now_seconds();
  real_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  total_seconds += now_seconds() - t0;
  ++total_calls;
}

double sgemm_clock_seconds(void) { return total_seconds; }
uint64_t sgemm_clock_calls(void) { return total_calls; }
