#ifndef APUS_C_SYSTEM_SHIMS_H
#define APUS_C_SYSTEM_SHIMS_H
#include <stddef.h>

/// Bytes currently allocated by the C heap (glibc mallinfo2: in-use chunks plus mmapped blocks).
size_t apus_heap_allocated_bytes(void);

/// Resident set size of this process in bytes (from /proc/self/statm), or 0 if unknown.
size_t apus_resident_bytes(void);

/// Total physical memory of the machine in bytes.
size_t apus_total_system_memory(void);

/// Returns freed heap memory to the OS (MEMORY PURGE); 1 if anything was released.
int apus_heap_trim(void);

/// Usable bytes of a malloc'd block (malloc_usable_size), so strings can grow in place.
size_t apus_usable_size(void *pointer);

#endif
