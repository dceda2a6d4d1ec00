"""glibc malloc settings for a process that streams chunks of tens of MiB (the sarbd command's).

glibc serves an allocation above its mmap threshold with fresh pages from the kernel,
each faulted and zeroed on first touch, and unmaps it when freed. The threshold starts
at 128 KiB and rises to the size of a freed mapped block (up to 32 MiB), so that a
program repeating one allocation size soon reuses heap memory instead. Chunk codecs
defeat that rule: they allocate the output at the input size plus a margin and shrink
it to the compressed size, so the block freed is always smaller than the next request
and every chunk encoded or read gets fresh pages (measured: 3766 of the 4112 pages of
a 16.8 MB float32 chunk faulted in again at every Blosc encode; about a third of the
signatures benchmark's CPU time went to the kernel zeroing pages).

:func:`tune_allocator` sets glibc's mmap threshold and heap trim threshold to the
values its own dynamic rule reaches at most (32 MiB and 2 x 32 MiB): the steady state
of a long-running allocation pattern, from the start. It changes no result, only where
buffers come from; freed memory above 64 MiB at the top of a heap is still returned
to the system, and sarbd's streaming writers trim the heap after each band.

The same settings, for any process (a Dask worker started by hand, say), are the
environment variables ``MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=67108864``;
when either is set (or ``GLIBC_TUNABLES`` names a malloc threshold), the user's choice
is left alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os

__all__ = ["MMAP_THRESHOLD", "TRIM_THRESHOLD", "trim_heap", "tune_allocator"]

#: glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit systems (bytes).
MMAP_THRESHOLD = 32 * 2**20
#: Twice that, as glibc's dynamic rule sets it (bytes).
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameters, <malloc.h>


@functools.cache
def _libc() -> ctypes.CDLL | None:
    """The C library, loaded once (None where it cannot be)."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def trim_heap() -> None:
    """Give freed heap memory back to the OS (glibc ``malloc_trim``; nothing elsewhere).

    A streaming writer's buffers of tens of MiB sit below the mmap threshold
    (:func:`tune_allocator`), so without it their freed pages stay resident and count
    towards the peak.
    """
    trim = getattr(_libc(), "malloc_trim", None)
    if trim is not None:
        trim(0)


def _user_set() -> bool:
    tunables = os.environ.get("GLIBC_TUNABLES", "")
    return (
        "MALLOC_MMAP_THRESHOLD_" in os.environ
        or "MALLOC_TRIM_THRESHOLD_" in os.environ
        or "malloc.mmap_threshold" in tunables
        or "malloc.trim_threshold" in tunables
    )


def tune_allocator() -> bool:
    """Set glibc's mmap and trim thresholds for chunk streaming (module docstring).

    Returns
    -------
    True when applied; False on a C library without ``mallopt`` (musl, macOS, Windows)
    or when the environment already sets the thresholds.
    """
    if _user_set():
        return False
    libc = _libc()
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None:
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    # mallopt returns 1 on success
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
