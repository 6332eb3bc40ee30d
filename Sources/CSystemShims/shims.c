// Thin wrappers over glibc calls Swift's Glibc module does not import (mallinfo2, malloc_trim,
// malloc_info), and the used-memory counter: Apus's equivalent of Redis's zmalloc.
#define _GNU_SOURCE
#include "CSystemShims.h"
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

__thread int apus_section_depth __attribute__((tls_model("initial-exec"))) = 0;

static __thread apus_wait_hook_fn wait_hook = NULL;
static __thread void *wait_hook_context = NULL;

void apus_set_wait_hook(apus_wait_hook_fn hook, void *context) {
    wait_hook = hook;
    wait_hook_context = context;
}

void apus_run_wait_hook(void) {
    if (wait_hook != NULL) wait_hook(wait_hook_context);
}

void apus_mutex_lock_waiting(pthread_mutex_t *mutex) {
    if (wait_hook == NULL) {
        pthread_mutex_lock(mutex);
        return;
    }
    // The holder is nearly always microseconds from done: spin a little before the timed
    // waits (which sleep in the kernel and need a clock read each).
    for (int i = 0; i < 200; i++) {
        if (pthread_mutex_trylock(mutex) == 0) return;
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#elif defined(__aarch64__)
        __asm__ volatile("yield");
#endif
    }
    for (;;) {
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_nsec += 10 * 1000 * 1000;
        if (deadline.tv_nsec >= 1000 * 1000 * 1000) {
            deadline.tv_sec += 1;
            deadline.tv_nsec -= 1000 * 1000 * 1000;
        }
        int status = pthread_mutex_timedlock(mutex, &deadline);
        if (status == 0) return;
        if (status != ETIMEDOUT) {
            pthread_mutex_lock(mutex);
            return;
        }
        wait_hook(wait_hook_context);
    }
}

// MARK: - used_memory: counting malloc wrappers
//
// The executable defines malloc & co., so the dynamic linker binds every caller in the process
// (Swift runtime, Foundation, NIO, libc itself, which supports replacing malloc) to these
// wrappers; they forward to glibc's __libc_* entry points and add the size of each block to a
// per-thread slot. Redis does the same in zmalloc (used_memory = what its allocations hold).
//
// The size counted is glibc's chunk size: the usable bytes plus the 8-byte header glibc keeps in
// front of every block (the word malloc_usable_size reads), so used_memory matches the heap the
// data takes, not just the bytes requested. Redis counts malloc_usable_size; the header is real
// memory and is 10-15% of the small blocks a key costs, which the honesty test (used_memory
// within 10% of RSS growth) would otherwise miss.
//
// Slots: each thread takes its own cache line on its first allocation and updates it with a plain
// load + store (no lock prefix); a thread that exits hands its slot back (its balance moves to the
// shared slot 0, which also takes threads beyond the table, with atomic adds). A reader sums the
// slots taken so far: O(threads), no locks, no syscalls.

extern void *__libc_malloc(size_t);
extern void __libc_free(void *);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void *__libc_valloc(size_t);
extern void *__libc_pvalloc(size_t);

enum { APUS_SLOTS = 256 };

typedef struct {
    _Alignas(64) int64_t bytes;
} apus_slot;

static apus_slot slots[APUS_SLOTS];
static unsigned slots_high;                 // slots[1 ..< slots_high] have been handed out
static unsigned free_list[APUS_SLOTS];      // slots handed back by exited threads
static unsigned free_count;
static int free_lock;                       // spinlock for free_list (thread start/exit only)
static pthread_key_t exit_key;
static int exit_key_ready;
static __thread apus_slot *thread_slot __attribute__((tls_model("initial-exec")));

static void lock_free_list(void) {
    while (__atomic_exchange_n(&free_lock, 1, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(&free_lock, __ATOMIC_RELAXED)) {}
    }
}

static void unlock_free_list(void) { __atomic_store_n(&free_lock, 0, __ATOMIC_RELEASE); }

static void release_slot(void *value) {
    (void)value;
    apus_slot *s = thread_slot;
    // Frees after this point (other TLS destructors) go to the shared slot.
    thread_slot = &slots[0];
    if (s == NULL || s == &slots[0]) return;
    int64_t balance = __atomic_exchange_n(&s->bytes, 0, __ATOMIC_RELAXED);
    __atomic_fetch_add(&slots[0].bytes, balance, __ATOMIC_RELAXED);
    lock_free_list();
    free_list[free_count++] = (unsigned)(s - slots);
    unlock_free_list();
}

__attribute__((noinline)) static apus_slot *claim_slot(void) {
    apus_slot *s = NULL;
    lock_free_list();
    if (free_count > 0) s = &slots[free_list[--free_count]];
    unlock_free_list();
    if (s == NULL) {
        unsigned i = __atomic_fetch_add(&slots_high, 1, __ATOMIC_RELAXED);
        if (i == 0) i = __atomic_fetch_add(&slots_high, 1, __ATOMIC_RELAXED);  // slot 0 is shared
        s = i < APUS_SLOTS ? &slots[i] : &slots[0];
    }
    thread_slot = s;  // before pthread_setspecific, which may itself allocate
    if (s != &slots[0] && __atomic_load_n(&exit_key_ready, __ATOMIC_ACQUIRE)) {
        pthread_setspecific(exit_key, s);
    }
    return s;
}

__attribute__((constructor)) static void apus_counter_init(void) {
    if (pthread_key_create(&exit_key, release_slot) == 0) {
        __atomic_store_n(&exit_key_ready, 1, __ATOMIC_RELEASE);
        if (thread_slot != NULL && thread_slot != &slots[0]) pthread_setspecific(exit_key, thread_slot);
    }
}

static inline void account(int64_t delta) {
    apus_slot *s = thread_slot;
    if (__builtin_expect(s == NULL, 0)) s = claim_slot();
    if (__builtin_expect(s == &slots[0], 0)) {
        __atomic_fetch_add(&s->bytes, delta, __ATOMIC_RELAXED);
    } else {
        __atomic_store_n(&s->bytes, __atomic_load_n(&s->bytes, __ATOMIC_RELAXED) + delta, __ATOMIC_RELAXED);
    }
}

/// glibc's chunk size of a live block: the size word in front of it, flag bits masked
/// (malloc_usable_size reads the same word and subtracts the header).
static inline size_t block_bytes(void *p) {
    return ((size_t *)p)[-1] & ~(size_t)7;
}

void *malloc(size_t size) {
    void *p = __libc_malloc(size);
    if (__builtin_expect(p != NULL, 1)) account((int64_t)block_bytes(p));
    return p;
}

void free(void *p) {
    if (p == NULL) return;
    account(-(int64_t)block_bytes(p));
    __libc_free(p);
}

void *calloc(size_t count, size_t size) {
    void *p = __libc_calloc(count, size);
    if (p != NULL) account((int64_t)block_bytes(p));
    return p;
}

void *realloc(void *old, size_t size) {
    size_t before = old ? block_bytes(old) : 0;
    void *p = __libc_realloc(old, size);
    if (p != NULL) {
        account((int64_t)block_bytes(p) - (int64_t)before);
    } else if (old != NULL && size == 0) {
        account(-(int64_t)before);  // realloc(p, 0) freed p
    }
    return p;
}

void *reallocarray(void *old, size_t count, size_t size) {
    size_t bytes;
    if (__builtin_mul_overflow(count, size, &bytes)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(old, bytes);
}

void *memalign(size_t alignment, size_t size) {
    void *p = __libc_memalign(alignment, size);
    if (p != NULL) account((int64_t)block_bytes(p));
    return p;
}

void *aligned_alloc(size_t alignment, size_t size) {
    // glibc accepts any power of two here (C17 leaves the rest undefined).
    if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
        errno = EINVAL;
        return NULL;
    }
    return memalign(alignment, size);
}

int posix_memalign(void **out, size_t alignment, size_t size) {
    if (alignment % sizeof(void *) != 0 || (alignment & (alignment - 1)) != 0 || alignment == 0) {
        return EINVAL;
    }
    void *p = memalign(alignment, size);
    if (p == NULL) return ENOMEM;
    *out = p;
    return 0;
}

void *valloc(size_t size) {
    void *p = __libc_valloc(size);
    if (p != NULL) account((int64_t)block_bytes(p));
    return p;
}

void *pvalloc(size_t size) {
    void *p = __libc_pvalloc(size);
    if (p != NULL) account((int64_t)block_bytes(p));
    return p;
}

void *apus_map_zeroed(size_t bytes) {
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    account((int64_t)bytes);
    return p;
}

void apus_unmap(void *pointer, size_t bytes) {
    if (pointer == NULL) return;
    munmap(pointer, bytes);
    account(-(int64_t)bytes);
}

size_t apus_block_bytes(void *pointer) {
    return pointer ? block_bytes(pointer) : 0;
}

long long apus_thread_heap_balance(void) {
    apus_slot *s = thread_slot;
    if (s == NULL || s == &slots[0]) return INT64_MIN;
    return (long long)__atomic_load_n(&s->bytes, __ATOMIC_RELAXED);
}

int apus_used_memory_is_counted(void) {
    return __atomic_load_n(&slots_high, __ATOMIC_RELAXED) > 0;
}

size_t apus_used_memory(void) {
    unsigned high = __atomic_load_n(&slots_high, __ATOMIC_RELAXED);
    if (high == 0) return apus_heap_allocated_bytes();
    if (high > APUS_SLOTS) high = APUS_SLOTS;
    int64_t total = 0;
    for (unsigned i = 0; i < high; i++) total += __atomic_load_n(&slots[i].bytes, __ATOMIC_RELAXED);
    return total > 0 ? (size_t)total : 0;
}

// MARK: - Allocator statistics

size_t apus_heap_allocated_bytes(void) {
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
}

apus_allocator_stats apus_allocator_info(void) {
    struct mallinfo2 info = mallinfo2();
    apus_allocator_stats stats;
    stats.allocated = info.uordblks + info.hblkhd;
    stats.active = info.arena + info.hblkhd;
    // glibc does not track which of its pages are resident; Redis falls back to the process RSS
    // for allocators that do not report it.
    stats.resident = apus_resident_bytes();
    return stats;
}

const char *apus_allocator_name(void) { return "libc"; }

char *apus_allocator_stats_text(void) {
    char *text = NULL;
    size_t length = 0;
    FILE *stream = open_memstream(&text, &length);
    if (stream == NULL) return NULL;
    malloc_info(0, stream);
    fclose(stream);
    return text;
}

void apus_free_text(char *text) { free(text); }

size_t apus_resident_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return 0;
    unsigned long size = 0, resident = 0;
    int n = fscanf(f, "%lu %lu", &size, &resident);
    fclose(f);
    if (n != 2) return 0;
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

size_t apus_total_system_memory(void) {
    long pages = sysconf(_SC_PHYS_PAGES);
    long page = sysconf(_SC_PAGESIZE);
    if (pages < 0 || page < 0) return 0;
    return (size_t)pages * (size_t)page;
}

int apus_heap_trim(void) {
    return malloc_trim(0);
}

size_t apus_usable_size(void *pointer) {
    return malloc_usable_size(pointer);
}
