#include "framework/core/allocator.h"

#include <malloc.h>

namespace sct {

void keep_freed_memory() {
#if defined(__GLIBC__)
  // Setting either value fixes both (no more dynamic adjustment), so both are set.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_TOP_PAD, 64 << 20);
#endif
}

}  // namespace sct
