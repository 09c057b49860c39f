"""Fakes at the edges: an embedder that needs neither the real model nor torch.

Vectors are hashed character-bigram counts (t2s-normalised, L2-normalised): deterministic, fast,
and similar for texts that share words, so retrieval and answering behave sensibly on them.
"""

from __future__ import annotations

import hashlib

import numpy as np

from assistant.text import bigrams, normalize

DIM = 256


def _vector(text: str) -> np.ndarray:
    v = np.zeros(DIM, dtype=np.float32)
    for gram in bigrams(normalize(text)) or {text}:
        v[int.from_bytes(hashlib.blake2b(gram.encode("utf-8"), digest_size=4).digest(), "little") % DIM] += 1.0
    n = float(np.linalg.norm(v))
    return v / n if n else v


class FakeEmbedder:
    """The part of :class:`assistant.index.embed.Embedder` that the store, searcher and
    answerer use. *content_hash* None: no model-specific calibration applies."""

    def __init__(self, name: str = "fake-bigrams", content_hash: str | None = None) -> None:
        self.name = name
        self.content_hash = content_hash
        self.model = name
        self.passages_encoded = 0

    @property
    def dim(self) -> int:
        return DIM

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return np.stack([_vector(t) for t in texts])

    def encode_passages(self, texts: list[str], **_: object) -> np.ndarray:
        self.passages_encoded += len(texts)
        return np.stack([_vector(t) for t in texts])
