"""Clauses → a Chroma collection of clause embeddings (the dense half of retrieval).

The store is a Chroma ``PersistentClient`` in ``index/`` by default, or a Chroma server when
``ASSISTANT_CHROMA_URL`` is set. Each record's id is the clause id and its metadata carries the
clause's content hash, so :func:`sync` embeds only new or changed clauses and deletes clauses
that left the corpus; re-running it on an unchanged corpus embeds nothing.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

import numpy as np

from . import config
from .clauses import Clause, Document

import chromadb  # noqa: E402  (after config: telemetry switched off first)
from chromadb.config import Settings


class PassageEncoder(Protocol):
    name: str

    def encode_passages(self, texts: list[str]) -> np.ndarray: ...


class IndexError_(RuntimeError):
    """The store cannot be opened or is unusable; the message names the fix."""


@dataclass(frozen=True)
class SyncReport:
    added: int
    updated: int
    removed: int
    unchanged: int
    seconds: float

    @property
    def embedded(self) -> int:
        return self.added + self.updated

    def __str__(self) -> str:
        return (
            f"{self.added} added, {self.updated} re-embedded, {self.removed} removed, "
            f"{self.unchanged} unchanged ({self.seconds:.1f} s)"
        )


_SETTINGS = Settings(anonymized_telemetry=False, allow_reset=True)


def open_client(path: Path | None = None, url: str | None = None) -> chromadb.ClientAPI:
    """An embedded client on *path* (default ``index/``) or an HTTP client on *url*."""
    url = url if url is not None else config.chroma_url()
    if url:
        parsed = urlparse(url)
        return chromadb.HttpClient(
            host=parsed.hostname or "127.0.0.1",
            port=parsed.port or 8000,
            ssl=parsed.scheme == "https",
            settings=_SETTINGS,
        )
    path = Path(path or config.index_dir())
    path.mkdir(parents=True, exist_ok=True)
    try:
        return chromadb.PersistentClient(path=str(path), settings=_SETTINGS)
    except Exception as exc:  # chroma raises several types for a damaged directory
        raise IndexError_(
            f"the index at {path} cannot be opened ({exc}); rebuild it with "
            "`assistant index --rebuild`"
        ) from exc


def doc_context(document: Document | None) -> str:
    """Who issued a document and its title, without editorial notes like 「(推定)」: cadres
    name the document they mean (「三河市」, 「紅十字會」) more often than its clauses do."""
    if document is None:
        return ""
    issuer = re.sub(r"[((][^))]*[))]", "", document.issuer or "")
    return f"{issuer} {document.title}".strip()


def passage(clause: Clause, document: Document | None = None) -> str:
    """What a clause is embedded and searched as: the document's issuer and title, then the
    headings (which give context the body often omits: 「主要目標」, 「組織領導」), then the text.
    Adding the document context lifted dev hit@1 from 0.925 to 0.944 (evals/README.md)."""
    parts = [
        doc_context(document),
        clause.section if clause.section_no else "",
        clause.subsection or "",
        clause.text,
    ]
    return " ".join(p for p in parts if p)


def passage_sha(clause: Clause, document: Document | None = None) -> str:
    """Content hash of what is embedded: a clause is re-embedded exactly when this changes."""
    return hashlib.sha256(passage(clause, document).encode("utf-8")).hexdigest()


def _metadata(clause: Clause, sha: str) -> dict[str, str | int]:
    return {
        "doc_id": clause.doc_id,
        "section": clause.section,
        "section_no": clause.section_no,
        "subsection": clause.subsection or "",
        "clause_no": clause.clause_no if clause.clause_no is not None else -1,
        "label": clause.label,
        "order": clause.order,
        "sha": sha,
    }


class ClauseStore:
    """One Chroma collection of clause embeddings for one embedding model."""

    def __init__(self, client: chromadb.ClientAPI, model_name: str):
        self.client = client
        self.model_name = model_name
        self.collection = self._collection()

    def _collection(self):
        # embedding_function=None: we always pass our own vectors; Chroma's default function
        # would try to download a model.
        col = self.client.get_or_create_collection(
            config.COLLECTION,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"embed_model": self.model_name},
            embedding_function=None,
        )
        if (col.metadata or {}).get("embed_model") != self.model_name:
            # Vectors from another model are not comparable with ours: start the collection over.
            self.client.delete_collection(config.COLLECTION)
            return self._collection()
        return col

    def count(self) -> int:
        return self.collection.count()

    def stored_hashes(self) -> dict[str, str]:
        got = self.collection.get(include=["metadatas"])
        return {i: str((m or {}).get("sha", "")) for i, m in zip(got["ids"], got["metadatas"])}

    def sync(
        self, clauses: Sequence[Clause], encoder: PassageEncoder,
        documents: Sequence[Document] = (), *, batch: int = 16, progress: bool = True,
    ) -> SyncReport:
        """Make the collection hold exactly *clauses*, embedding only what changed."""
        start = time.perf_counter()
        docs = {d.id: d for d in documents}
        texts = {c.id: passage(c, docs.get(c.doc_id)) for c in clauses}
        shas = {i: hashlib.sha256(t.encode("utf-8")).hexdigest() for i, t in texts.items()}
        stored = self.stored_hashes()
        wanted = {c.id: c for c in clauses}
        stale = [i for i in stored if i not in wanted]
        todo = [c for c in clauses if stored.get(c.id) != shas[c.id]]
        added = sum(1 for c in todo if c.id not in stored)
        if stale:
            self.collection.delete(ids=stale)
        if todo:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(todo), desc="embedding clauses", unit="clause", disable=not progress)
            for i in range(0, len(todo), batch):
                part = todo[i : i + batch]
                vectors = encoder.encode_passages([texts[c.id] for c in part])
                self.collection.upsert(
                    ids=[c.id for c in part],
                    embeddings=np.asarray(vectors, dtype=np.float32),
                    documents=[c.text for c in part],
                    metadatas=[_metadata(c, shas[c.id]) for c in part],
                )
                bar.update(len(part))
            bar.close()
        return SyncReport(
            added=added,
            updated=len(todo) - added,
            removed=len(stale),
            unchanged=len(clauses) - len(todo),
            seconds=time.perf_counter() - start,
        )

    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """The *k* nearest clauses as (id, cosine similarity), best first."""
        k = min(k, self.count())
        if k <= 0:
            return []
        got = self.collection.query(
            query_embeddings=np.asarray(vector, dtype=np.float32).reshape(1, -1),
            n_results=k,
            include=["distances"],
        )
        return [(i, 1.0 - float(d)) for i, d in zip(got["ids"][0], got["distances"][0])]


def rebuild(
    path: Path, clauses: Sequence[Clause], encoder: PassageEncoder, documents: Sequence[Document] = ()
) -> SyncReport:
    """Build a fresh store next to *path* and swap it in, so a crash mid-build never leaves
    *path* without a working index."""
    path = Path(path)
    fresh = path.with_name(path.name + ".building")
    shutil.rmtree(fresh, ignore_errors=True)
    store = ClauseStore(open_client(fresh), encoder.name)
    report = store.sync(clauses, encoder, documents)
    del store
    old = path.with_name(path.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if path.exists():
        path.rename(old)
    fresh.rename(path)
    shutil.rmtree(old, ignore_errors=True)
    return report
