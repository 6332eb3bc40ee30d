import CSystemShims

// What a heap allocation really costs, for memory accounting (used_memory, MEMORY USAGE,
// maxmemory). All knowledge of the allocator's size classes lives here: if the allocator
// changes, these functions change and nothing else.
//
// glibc malloc (ptmalloc2, 64-bit): a block of `n` requested bytes is a chunk of
// max(32, roundUp(n + 8, 16)) bytes (an 8-byte size header; the next chunk's 8-byte prev_size
// field is usable by this one). From the mmap threshold on (128 KiB; glibc raises it
// dynamically after big blocks are freed unless M_MMAP_THRESHOLD is set, then such blocks come
// from the heap unrounded), a block is mapped on its own: roundUp(chunk + 8, page). mallinfo2
// counts exactly these chunk sizes (`uordblks + hblkhd`).

/// Bytes glibc's malloc takes for a block of `requested` bytes (header and rounding included).
@inlinable
public func heapBlockBytes(_ requested: Int) -> Int {
    let chunk = (requested &+ 8 &+ 15) & ~15
    if chunk < heapMmapThreshold { return chunk < 32 ? 32 : chunk }
    return (chunk &+ 8 &+ heapPageSize &- 1) & ~(heapPageSize &- 1)
}

/// Bytes a block with `usable` usable bytes takes (what `malloc_usable_size` reported, or what
/// a Swift array's capacity was derived from). A heap chunk's usable size is 8 below a multiple
/// of 16 (it ends in the next chunk's prev_size field); a mapped block's is its size less 16.
@inlinable
public func heapBlockBytes(usable: Int) -> Int {
    usable & 15 == 8 ? usable &+ 8 : usable &+ 16
}

/// Bytes the malloc'd block at `pointer` takes, asked of the allocator (slow paths, checks).
@inlinable
public func heapBlockBytes(ofBlock pointer: UnsafeRawPointer) -> Int {
    heapBlockBytes(usable: Int(apus_usable_size(UnsafeMutableRawPointer(mutating: pointer))))
}

/// glibc's default M_MMAP_THRESHOLD (128 KiB).
@usableFromInline let heapMmapThreshold = 128 << 10
@usableFromInline let heapPageSize = 4096

/// Bytes of a Swift class instance whose stored properties end `storedBytes` after the 16-byte
/// object header (Swift allocates the unpadded instance size with malloc).
@inlinable
public func heapObjectBytes(storedBytes: Int) -> Int { heapBlockBytes(16 &+ storedBytes) }

/// Bytes of a `ContiguousArray<UInt8>` buffer of `capacity` bytes: 0 for the shared empty
/// buffer, else a 32-byte header (object header, count, capacity) plus the bytes. On Linux
/// Swift sets the capacity from `malloc_usable_size`, so header + capacity is the block's
/// usable size whatever was requested.
@inlinable
public func heapByteArrayBytes(capacity: Int) -> Int {
    capacity == 0 ? 0 : heapBlockBytes(usable: 32 &+ capacity)
}
