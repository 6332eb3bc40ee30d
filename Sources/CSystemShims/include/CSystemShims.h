#ifndef APUS_C_SYSTEM_SHIMS_H
#define APUS_C_SYSTEM_SHIMS_H
#include <stddef.h>
#include <pthread.h>

/// Bytes currently allocated through malloc and friends (INFO used_memory), like Redis's
/// zmalloc_used_memory: every allocation adds its usable size plus the allocator's chunk
/// header to a per-thread slot; reading sums the slots (O(threads), no locks, no syscalls).
/// Falls back to apus_heap_allocated_bytes() when the counting wrappers are not in effect.
size_t apus_used_memory(void);

/// 1 when malloc/free of this process go through the counting wrappers (apus_used_memory is
/// the exact counter), 0 when apus_used_memory falls back to the allocator's statistics.
int apus_used_memory_is_counted(void);

/// Anonymous zeroed pages (mmap) counted in used_memory like a malloc'd block, for big arrays
/// that bypass malloc (KeyTable's slot arrays); NULL on failure. Free with apus_unmap.
void *apus_map_zeroed(size_t bytes);
void apus_unmap(void *pointer, size_t bytes);

/// What the used-memory counter counts for one live malloc'd block (glibc's chunk size:
/// usable bytes plus the chunk header), for MEMORY USAGE.
size_t apus_block_bytes(void *pointer);

/// This thread's own balance in the used-memory counter (bytes it allocated minus bytes it
/// freed): the difference of two readings is exactly what the thread allocated in between.
/// LLONG_MIN when the thread has no slot of its own (counter off, or more threads than slots).
long long apus_thread_heap_balance(void);

/// Bytes currently allocated by the C heap (glibc mallinfo2: in-use chunks plus mmapped blocks).
/// Walks the arenas under their locks: for INFO, not for the hot path.
size_t apus_heap_allocated_bytes(void);

/// The allocator's view of itself (INFO allocator_*, MEMORY STATS allocator.*):
/// allocated = bytes in use by the program, active = bytes of the heap the allocator holds
/// (in use + free chunks it keeps, + mmapped blocks), resident = active that is resident,
/// estimated as active minus the free bytes it has returned to the OS (glibc keeps no
/// per-page residency). All 0 when unknown.
typedef struct {
    size_t allocated;
    size_t active;
    size_t resident;
} apus_allocator_stats;
apus_allocator_stats apus_allocator_info(void);

/// The allocator's name as INFO mem_allocator prints it ("libc").
const char *apus_allocator_name(void);

/// The allocator's own statistics report (glibc malloc_info XML) in a malloc'd
/// NUL-terminated buffer the caller frees with apus_free_text, or NULL.
char *apus_allocator_stats_text(void);
void apus_free_text(char *text);

/// Resident set size of this process in bytes (from /proc/self/statm), or 0 if unknown.
size_t apus_resident_bytes(void);

/// Total physical memory of the machine in bytes.
size_t apus_total_system_memory(void);

/// Returns freed heap memory to the OS (MEMORY PURGE); 1 if anything was released.
int apus_heap_trim(void);

/// Nonzero while this thread runs an exclusive section (MULTI/EXEC, a script): shard locks
/// taken then are held until the section ends. Thread-local, so the check on every shard
/// lock is one load.
extern __thread int apus_section_depth __attribute__((tls_model("initial-exec")));
static inline int apus_in_section(void) { return apus_section_depth; }
static inline void apus_set_section(int depth) { apus_section_depth = depth; }

/// What an event-loop thread does while it is held by a busy script (its own, or one whose
/// locks it waits for): serve its other connections, as Redis's processEventsWhileBlocked.
/// Set once per event-loop thread; other threads have none.
typedef void (*apus_wait_hook_fn)(void *context);
void apus_set_wait_hook(apus_wait_hook_fn hook, void *context);
/// Runs this thread's wait hook, if it has one.
void apus_run_wait_hook(void);
/// Locks `mutex`; on a thread with a wait hook, waits in 10 ms slices and runs the hook
/// between them, so a thread waiting for a busy script's locks keeps serving.
void apus_mutex_lock_waiting(pthread_mutex_t *mutex);

/// Usable bytes of a malloc'd block (malloc_usable_size), so strings can grow in place.
size_t apus_usable_size(void *pointer);

#endif
