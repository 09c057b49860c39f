"""Memory-mapped tables of named sections, and a string-keyed hash table in three of them.

The file: 4 magic bytes, the JSON header's length (``<I``), the header (sorted keys; it holds
``format``, ``byteorder`` and ``sections``: name → [offset, length]), then each section at an
8-byte-aligned offset. :func:`write` writes one atomically (a temporary file, fsync, rename);
:class:`Mapped` maps one and raises ValueError for a foreign, other-format or torn file.

:func:`hash_keys` lays out string keys as an open-addressing hash table (``table``: crc32 of the
key's UTF-8 bytes, linear probing, load ≤ 0.5, slot → entry + 1, 0 empty), ``offsets`` (entry →
start of its key in ``blob``, n + 1 of them) and ``blob``; :class:`KeyTable` finds a key's entry
in them without building a dict. Used by :mod:`assistant.index.pieces` (the tokenizer's pieces)
and :mod:`assistant.retrieval.segment` (jieba's prefix dictionary).
"""

from __future__ import annotations

import contextlib
import json
import mmap
import os
import struct
import sys
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Generic, TypeVar

__all__ = ["KeyTable", "Mapped", "hash_keys", "write"]

T = TypeVar("T")
_SLACK = 128  # room for the sections' offsets' digits, which the header's length moves


def write(target: Path, magic: bytes, version: int, header: dict[str, Any], sections: dict[str, bytes]) -> None:
    """Write *header* (plus ``format``: *version*, ``byteorder`` and the sections' places) and *sections*,
    in their order, at *target*: a temporary file beside it, fsynced, then renamed over it."""
    header = {**header, "format": version, "byteorder": sys.byteorder}
    places: dict[str, list[int]] = {}
    for _ in range(2):  # the sections' offsets depend on the header's length
        header["sections"] = places
        pos = 8 + len(json.dumps(header, sort_keys=True).encode("utf-8")) + _SLACK
        pos += -pos % 8
        new = {}
        for name, data in sections.items():
            new[name] = [pos, len(data)]
            pos += len(data) + (-len(data) % 8)
        places = new
    header["sections"] = places
    head = json.dumps(header, sort_keys=True).encode("utf-8")
    tmp = target.parent / f".{target.name}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as fh:
            fh.write(magic + struct.pack("<I", len(head)) + head)
            for name, data in sections.items():
                fh.write(b"\0" * (places[name][0] - fh.tell()))
                fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


class Mapped:
    """A file :func:`write` wrote, memory-mapped: its :attr:`header` and :meth:`section` views."""

    def __init__(self, path: Path, magic: bytes, version: int) -> None:
        self.path = path
        with open(path, "rb") as fh:
            self._mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        mm = self._mm
        if mm[:4] != magic:
            raise ValueError(f"{path}: not a {magic.decode('ascii', 'replace')} table")
        (hlen,) = struct.unpack_from("<I", mm, 4)
        self.header: dict[str, Any] = json.loads(bytes(mm[8 : 8 + hlen]).decode("utf-8"))
        if self.header.get("format") != version or self.header.get("byteorder") != sys.byteorder:
            raise ValueError(f"{path}: another format")
        self._view = memoryview(mm)

    def section(self, name: str, fmt: str = "B") -> memoryview:
        """The section *name* as a view of *fmt* items (``struct`` codes; "B": bytes)."""
        off, length = self.header["sections"][name]
        if off + length > len(self._mm):
            raise ValueError(f"{self.path}: truncated")
        part = self._view[off : off + length]
        return part if fmt == "B" else part.cast(fmt)


def hash_keys(keys: Sequence[bytes]) -> tuple[bytes, bytes, bytes]:
    """The ``table``, ``offsets`` and ``blob`` sections of *keys* (entry i: ``keys[i]``)."""
    import numpy as np

    n = len(keys)
    mask = (1 << max(10, (2 * n - 1).bit_length())) - 1  # load ≤ 0.5: ~1.5 probes per lookup
    table = [0] * (mask + 1)
    for i, b in enumerate(keys):
        slot = zlib.crc32(b) & mask
        while table[slot]:
            slot = (slot + 1) & mask
        table[slot] = i + 1
    offsets = np.zeros(n + 1, np.uint64)
    np.cumsum(np.fromiter((len(b) for b in keys), np.uint64, n), out=offsets[1:])
    if offsets[-1] >= 1 << 32:
        raise ValueError("keys too large for 32-bit offsets")
    return np.asarray(table, np.uint32).tobytes(), offsets.astype(np.uint32).tobytes(), b"".join(keys)


class KeyTable(Generic[T]):
    """The keys :func:`hash_keys` laid out in *mapped*; :meth:`get` gives ``value(entry)`` of a
    key, or None, and remembers up to *memo_limit* keys looked up."""

    def __init__(self, mapped: Mapped, n: int, value: Callable[[int], T], memo_limit: int) -> None:
        self._table = mapped.section("table", "I")
        self._offsets = mapped.section("offsets", "I")
        self._blob = mapped.section("blob")
        self._mask = len(self._table) - 1
        if len(self._offsets) != n + 1 or self._mask & (self._mask + 1):
            raise ValueError(f"{mapped.path}: inconsistent")
        self.n = n
        self._value = value
        self._memo: dict[str, T | None] = {}
        self._memo_limit = memo_limit

    def get(self, key: str) -> T | None:
        memo = self._memo
        if key in memo:
            return memo[key]
        b = key.encode("utf-8", "surrogatepass")
        table, offsets, blob, mask = self._table, self._offsets, self._blob, self._mask
        slot = zlib.crc32(b) & mask
        found = None
        while entry := table[slot]:
            i = entry - 1
            if blob[offsets[i] : offsets[i + 1]] == b:
                found = self._value(i)
                break
            slot = (slot + 1) & mask
        if len(memo) >= self._memo_limit:
            memo.clear()
        memo[key] = found
        return found

    def __iter__(self) -> Iterator[str]:
        blob, offsets = self._blob, self._offsets
        for i in range(self.n):
            yield bytes(blob[offsets[i] : offsets[i + 1]]).decode("utf-8", "surrogatepass")
