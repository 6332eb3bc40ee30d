// Thin wrappers over glibc calls Swift's Glibc module does not import (mallinfo2, malloc_trim).
#define _GNU_SOURCE
#include "CSystemShims.h"
#include <malloc.h>
#include <stdio.h>
#include <unistd.h>

size_t apus_heap_allocated_bytes(void) {
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
}

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
