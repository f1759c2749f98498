"""Handing memory the app let go of back to the system (glibc's allocator; elsewhere this does nothing).

A page's pixels are tens of megabytes, and the server makes many such arrays while it reads. glibc
keeps freed memory for reuse: it raises its mmap threshold up to 32 MiB after the first large block
is freed (so later pages come from its heaps instead of their own mappings), and a thread's heap gives
back only what lies above twice that (each Streamlit run is a thread, and threads get arenas of their
own). So the server's resident memory stayed hundreds of megabytes up after every session had ended,
that memory free in the allocator. :func:`configure` fixes the thresholds instead (``mallopt``): a
block of ``MMAP_BYTES`` or more is a mapping of its own, unmapped when freed, and a heap gives back
what it holds free above ``TRIM_BYTES``. :func:`give_back` (``malloc_trim``) returns the heaps' free
pages when a session lets its pages go.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import platform
from typing import Any

log = logging.getLogger(__name__)

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h
MMAP_BYTES = 4 << 20  # a block this large or larger is mapped on its own (a page's pixels are 5-40 MB)
TRIM_BYTES = 16 << 20  # free memory above this at a heap's top goes back to the system at once


def _glibc() -> Any:
    """glibc, or None on another C library (musl, macOS)."""
    if platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim.argtypes, libc.malloc_trim.restype = [ctypes.c_size_t], ctypes.c_int
        libc.mallopt.argtypes, libc.mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    except (OSError, AttributeError) as e:  # memory is given back less readily; nothing else changes
        log.info("glibc's malloc_trim and mallopt are not available (%s).", e)
        return None
    return libc


_LIBC = _glibc()


def configure() -> bool:
    """Fix glibc's thresholds for this process (see the module's docstring); whether it could."""
    if _LIBC is None:
        return False
    return bool(_LIBC.mallopt(M_MMAP_THRESHOLD, MMAP_BYTES) and _LIBC.mallopt(M_TRIM_THRESHOLD, TRIM_BYTES))


def give_back() -> bool:
    """Return the allocator's free memory to the system; whether it could be asked to."""
    if _LIBC is None:
        return False
    _LIBC.malloc_trim(0)
    return True
