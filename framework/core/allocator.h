// Keeps the C allocator from handing tensor-sized blocks back to the kernel after each use.
// glibc serves blocks above its mmap threshold (128 KiB until it adapts) with fresh mappings
// and trims the heap top eagerly; a training step frees and re-allocates the same
// activation-sized buffers every step, so each one would fault in and zero its pages anew.
#pragma once

namespace sct {

// Blocks up to 32 MiB (glibc's largest mmap threshold) come from the heap, and freed heap
// memory is kept for reuse instead of being trimmed. Call once at start-up.
void keep_freed_memory();

}  // namespace sct
