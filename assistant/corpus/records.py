"""The corpus records: documents, clauses, and the files that could not be loaded."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property

__all__ = ["Clause", "Corpus", "Document", "SourceError"]


@dataclass(frozen=True)
class Document:
    id: str
    number: int
    title: str  # official title (from documents.json; the 第N篇 heading if unknown)
    heading: str  # the 第N篇 line's own title
    issuer: str | None
    date: str | None  # ISO date
    doc_number: str | None
    status: str | None  # e.g. 征求意見稿
    source: str  # source file name


@dataclass(frozen=True)
class Clause:
    id: str  # "d4-s2-c6", "d2-s2-ss3-c1", subsection body "d2-s1-ss1", preamble "d1-s0-c1"
    doc_id: str
    doc_title: str
    section_no: int  # 0 for the preamble
    section: str  # "二、進一步健全鄉鎮紀檢組織" or "前言"
    subsection_no: int | None
    subsection: str | None  # heading only: "(三)建設生態班子,選好配強新農村建設帶頭人隊伍"
    clause_no: int | None  # None when the clause is a subsection body
    numbered: bool  # printed number (第N條) vs position (第N段)
    label: str  # citation label
    text: str  # clean body, without number prefix or headings
    original: str  # verbatim source line(s), joined with "\n"
    order: int  # position in corpus order

    @property
    def ref(self) -> str:
        """The clause's own reference: 「第6條」, 「第2段」, else its subsection or section heading."""
        if self.clause_no is not None:
            return f"第{self.clause_no}{'條' if self.numbered else '段'}"
        return self.subsection or self.section

    @property
    def path(self) -> tuple[str, ...]:
        """Section, subsection (if any) and clause reference: the label without its document."""
        parts = [self.section, self.subsection or "", self.ref]
        return tuple(p for i, p in enumerate(parts) if p and p not in parts[:i])

    @property
    def sha(self) -> str:
        """sha256 hex of id + text: changes exactly when the clause must be re-embedded."""
        return hashlib.sha256((self.id + self.text).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SourceError:
    """A corpus file that could not be loaded, and why (its documents are left out)."""

    file: str  # file name inside the corpus directory
    reason: str  # in English
    code: str | None = None  # which problem: a key of assistant.corpus.errors.MESSAGES

    def __str__(self) -> str:
        return f"{self.file}: {self.reason}"


@dataclass(frozen=True)
class Corpus:
    documents: tuple[Document, ...]
    clauses: tuple[Clause, ...]
    errors: tuple[SourceError, ...] = ()  # files left out; the other documents still load

    def document(self, doc_id: str) -> Document:
        for d in self.documents:
            if d.id == doc_id:
                return d
        known = ", ".join(d.id for d in self.documents)
        raise KeyError(f"no document {doc_id!r} in the corpus (known: {known})")

    @cached_property
    def _by_id(self) -> dict[str, Clause]:
        return {c.id: c for c in self.clauses}

    def clause(self, id: str) -> Clause:
        try:
            return self._by_id[id]
        except KeyError:
            raise KeyError(f"no clause {id!r} in the corpus (ids look like 'd4-s2-c6')") from None

    def by_doc(self, doc_id: str) -> list[Clause]:
        if doc_id not in {d.id for d in self.documents}:
            known = ", ".join(d.id for d in self.documents)
            raise KeyError(f"no document {doc_id!r} in the corpus (known: {known})")
        return [c for c in self.clauses if c.doc_id == doc_id]


