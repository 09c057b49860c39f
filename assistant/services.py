"""Assembly: load the assistant, sync the index, add or remove documents, reload after a change."""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.corpus.parse import CORPUS_FILE, METADATA_FILE
from assistant.corpus.records import Document, SourceError
from assistant.corpus.store import (
    SIDECAR_SUFFIX,
    SOURCE_SUFFIXES,
    file_sha256,
    parse_source,
    read_sidecar,
    sidecar_path,
    source_files,
)
from assistant.settings import Settings

if TYPE_CHECKING:
    from assistant.index.store import SyncReport

from assistant.answering.extractive import Assistant
from assistant.corpus.extract import ExtractionError, extract_text
from assistant.corpus.store import (
    RESERVED_NAMES,
    _build_entries,
    _lock,
    _validate,
    load_corpus,
    register,
)
from assistant.retrieval.hybrid import HybridSearcher

log = logging.getLogger(__name__)

# --- add / remove / docs -----------------------------------------------------------------------


def normalize_date(value: str | None) -> str | None:
    """「2011-7-14」, 「2011/07/14」, 「2011年7月14日」 → 「2011-07-14」; ValueError otherwise."""
    if value is None or not value.strip():
        return None
    m = re.match(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$", value)
    if m:
        try:
            return datetime.date(int(m[1]), int(m[2]), int(m[3])).isoformat()
        except ValueError:
            pass
    raise ValueError(f"not a date: {value!r} (use YYYY-MM-DD)")


@dataclass
class FileResult:
    path: str  # as given
    name: str  # file name in the corpus directory
    status: str  # added | updated | unchanged | duplicate | failed
    documents: list[Document] = field(default_factory=list)
    clauses: int = 0
    error: str | None = None  # the reason, when failed (or the duplicate's twin), in English
    code: str | None = None  # which problem, when error is set: a key of assistant.corpus.errors.MESSAGES
    values: dict[str, str] = field(default_factory=dict)  # what the code's message names

    def __str__(self) -> str:
        if self.status == "failed":
            return f"{'failed':<10}{self.path}: {self.error} — not added"
        if self.status == "duplicate":
            return f"{'skipped':<10}{self.path}: {self.error}"
        docs = "; ".join(_describe(d) for d in self.documents)
        return f"{self.status:<10}{self.name} → {docs} ({self.clauses} clauses)"


@dataclass
class AddReport:
    files: list[FileResult]
    sync: SyncReport | None = None  # None when the index was not synced
    corpus_errors: list[SourceError] = field(default_factory=list)  # other files' problems

    @property
    def ok(self) -> bool:
        return all(f.status != "failed" for f in self.files)

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "failed"]

    def lines(self) -> list[str]:
        out = [str(f) for f in self.files]
        if self.sync is not None:
            out.append(f"index: {self.sync}")
        out += [f"warning: {e} (left out of the corpus)" for e in self.corpus_errors]
        return out


def _describe(doc: Document) -> str:
    extra = " · ".join(x for x in (doc.issuer, doc.date, doc.doc_number, doc.status) if x)
    return f"{doc.id} 《{doc.title}》" + (f" {extra}" if extra else "")


def _safe_name(name: str) -> str:
    name = Path(name).name.strip()
    if not name or name.startswith((".", "~$")) or name.endswith(SIDECAR_SUFFIX) or name in RESERVED_NAMES:
        raise ValueError(f"cannot be stored under the name {name!r} in the corpus directory")
    return name


def resolve(settings: Settings | None = None, *, corpus_dir: str | Path | None = None,
            index_path: str | Path | None = None, chroma_url: str | None = None) -> Settings:
    """*settings* (default: from the environment) with the explicitly given places winning."""
    s = settings or Settings.from_env()
    over: dict[str, Any] = {}
    if corpus_dir is not None:
        over["corpus_dir"] = Path(corpus_dir).expanduser()
    if index_path is not None:
        over["index_dir"] = Path(index_path).expanduser()
    if chroma_url:
        over["chroma_url"] = chroma_url
    return replace(s, **over) if over else s


def open_store(settings: Settings, embedder: Any, *, create: bool) -> Any:
    """The clause store *settings* point at, for *embedder*'s model; a reader (*create* False)
    never creates, changes or deletes anything."""
    from assistant.index.store import ClauseStore, open_client

    return ClauseStore(open_client(settings.index_dir, settings.chroma_url), embedder.name,
                       create=create, lock_timeout=settings.index_lock_timeout)


def sync_index(
    corpus_dir: str | Path | None = None, index_path: str | Path | None = None, *,
    progress: bool = True, store: Any = None, embedder: Any = None, settings: Settings | None = None,
) -> tuple[SyncReport, Any]:
    """Make the index hold exactly the corpus's clauses (embedding only new/changed ones), after
    registering files dropped into the corpus directory. Returns (report, corpus). Pass
    *store*/*embedder* to reuse a running assistant's. One of the few writers (with
    :func:`add_files`, :func:`remove_documents` and a first run)."""
    from assistant.index.embed import get_embedder

    s = resolve(settings, corpus_dir=corpus_dir, index_path=index_path)
    corpus = load_corpus(s.corpus_dir, register=True)
    embedder = embedder or get_embedder(s)
    store = store or open_store(s, embedder, create=True)
    report = store.sync(corpus.passages, embedder, corpus.documents, progress=progress)
    _persist_lexicon(s, corpus)
    return report, corpus


def _persist_lexicon(s: Settings, corpus: Any, directory: Path | None = None) -> None:
    """Save the corpus's BM25 index and word statistics beside the embedded index (under its
    write lock), so readers load them instead of building them (issue 16). Not for a server
    store, and a no-op when the saved one is already this corpus's."""
    from assistant.index.store import index_lock
    from assistant.retrieval.hybrid import lexicon_saved, save_lexicon

    if s.chroma_url or not corpus.passages:
        return
    try:
        if directory is not None:  # a rebuild's new directory: already under the lock
            save_lexicon(directory, corpus.passages, corpus.documents)
        elif s.index_dir.is_dir() and not lexicon_saved(s.index_dir, corpus.passages, corpus.documents):
            with index_lock(s.index_dir, timeout=s.index_lock_timeout):
                save_lexicon(s.index_dir, corpus.passages, corpus.documents)
    except Exception as exc:  # noqa: BLE001 - an optimisation: readers build it in memory instead
        log.warning("could not save the BM25 index beside %s (%s); readers will build it at start",
                    directory or s.index_dir, exc)


def rebuild_index(settings: Settings | None = None, *, progress: bool = True) -> tuple[SyncReport, Any]:
    """A fresh index built beside the live one and swapped in (``assistant index --rebuild``)."""
    from assistant.index.embed import get_embedder
    from assistant.index.store import rebuild

    s = resolve(settings)
    corpus = load_corpus(s.corpus_dir, register=True)
    embedder = get_embedder(s)
    report = rebuild(s.index_dir, corpus.passages, embedder, corpus.documents, url=s.chroma_url, progress=progress,
                     extra=lambda building: _persist_lexicon(s, corpus, building))
    return report, corpus


def add_files(
    paths: Sequence[str | Path],
    *,
    title: str | None = None,
    issuer: str | None = None,
    date: str | None = None,
    doc_number: str | None = None,
    status: str | None = None,
    names: Sequence[str] | None = None,
    corpus_dir: str | Path | None = None,
    index_path: str | Path | None = None,
    sync: bool = True,
    progress: bool = False,
    store: Any = None,
    embedder: Any = None,
    settings: Settings | None = None,
) -> AddReport:
    """Add guideline files to the corpus and sync the index; the web upload box calls this.

    Each file is extracted and parsed first; one that yields no document (scanned or encrypted
    PDF, empty, not the format its name says, no recognisable text) is reported as ``failed``
    with the reason and nothing is written for it. Good files are copied into the corpus
    directory (*names* optionally gives the name to store each under, e.g. an upload's original
    name), registered (sidecar, ids) and then the index is synced once — unless *sync* is False
    or no file was added or changed. Metadata arguments override what the text shows (title and
    doc_number only for a single file holding a single document). Never raises for a bad file;
    raises ValueError for bad arguments."""
    s = resolve(settings, corpus_dir=corpus_dir, index_path=index_path)
    directory = s.corpus_dir.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    overrides = {
        "title": title.strip() if title else None,
        "issuer": issuer.strip() if issuer else None,
        "date": normalize_date(date),
        "doc_number": doc_number.strip() if doc_number else None,
        "status": status.strip() if status else None,
    }
    if names is not None and len(names) != len(paths):
        raise ValueError("names must give one name per path")
    if (overrides["title"] or overrides["doc_number"]) and len(paths) > 1:
        raise ValueError("--title and --doc-number name one document: add one file at a time with them")
    results: list[FileResult] = []
    for i, given in enumerate(paths):
        src = Path(given)
        try:
            name = _safe_name(names[i] if names is not None else src.name)
        except ValueError as exc:
            results.append(FileResult(str(given), src.name, "failed", error=str(exc), code="bad_name"))
            continue
        results.append(_add_one(src, name, directory, overrides, str(given)))
    report = AddReport(results)
    changed = any(r.status in ("added", "updated") for r in results)
    if sync and changed:
        report.sync, corpus = sync_index(progress=progress, store=store, embedder=embedder, settings=s)
        report.corpus_errors = list(corpus.errors)
    return report


def _add_one(src: Path, name: str, directory: Path, overrides: Mapping[str, Any], given: str) -> FileResult:
    def failed(reason: str, *, code: str, **values: str) -> FileResult:
        return FileResult(given, name, "failed", error=str(reason), code=code, values=values)

    def refused(exc: ValueError) -> FileResult:
        # The code of a Problem (ExtractionError, …); a plain ValueError (the parser's: no
        # clauses, duplicate ids, …) is `invalid`, its English text the detail.
        reason = exc.reason if isinstance(exc, ExtractionError) else str(exc)
        if code := getattr(exc, "code", None):
            return failed(reason, code=code, **getattr(exc, "values", {}))
        return failed(reason, code="invalid", detail=reason)

    if src.suffix.lower() not in SOURCE_SUFFIXES:
        return failed(f"unsupported file type {src.suffix or '(none)'!r} (supported: {' '.join(SOURCE_SUFFIXES)})",
                      code="unsupported_type")
    if Path(name).suffix.lower() != src.suffix.lower():
        return failed(f"the stored name {name!r} must keep the file type {src.suffix!r}", code="type_changed")
    if not src.is_file():
        return failed("no such file", code="no_such_file")
    try:
        text = extract_text(src)
        dst = directory / name
        old = read_sidecar(dst) if dst.exists() else None
        entries = _build_entries(text, dst, old, overrides)
        if len(entries) > 1 and (overrides.get("title") or overrides.get("doc_number")):
            return failed(
                f"holds {len(entries)} documents (第N篇 format): --title/--doc-number name one document; "
                f"edit {name}{SIDECAR_SUFFIX} after adding instead", code="multi_doc_title",
            )
        _validate(text, name, entries)
    except ValueError as exc:  # ExtractionError, or the parser's (no clauses, duplicate ids, …)
        return refused(exc)
    sha = file_sha256(src)
    for other in source_files(directory):
        if other.name != name and file_sha256(other) == sha:
            side = read_sidecar(other) or {}
            ids = ", ".join(d["id"] for d in side.get("documents", []))
            return FileResult(given, name, "duplicate", error=f"same content as {other.name} ({ids}), already in the corpus",
                              code="duplicate_content", values={"file": other.name, "ids": ids})
    existed = dst.exists()
    same_bytes = existed and file_sha256(dst) == sha
    if not same_bytes:
        tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    try:
        before = json.dumps(old, sort_keys=True) if old else None
        side = register(dst, overrides, text=text)
    except (OSError, ValueError) as exc:
        if not existed:
            dst.unlink(missing_ok=True)
        if isinstance(exc, OSError):  # writing the sidecar or ids.json, or the corpus lock timed out
            return failed(str(exc), code="store_failed", detail=str(exc))
        return refused(exc)
    docs, clauses = parse_source(text, name, side["documents"])
    if not existed or old is None:  # new, or dropped into the directory and not yet registered
        status = "added"
    elif same_bytes and before == json.dumps(side, sort_keys=True):
        status = "unchanged"
    else:
        status = "updated"
    return FileResult(given, name, status, docs, len(clauses))


@dataclass
class RemoveResult:
    target: str
    removed: list[str] = field(default_factory=list)  # file names removed
    doc_ids: list[str] = field(default_factory=list)
    error: str | None = None  # why it was not removed, in English
    code: str | None = None  # which problem, when error is set: a key of assistant.corpus.errors.MESSAGES


def remove_documents(
    targets: Sequence[str], *, corpus_dir: str | Path | None = None, index_path: str | Path | None = None,
    sync: bool = True, progress: bool = False, store: Any = None, embedder: Any = None,
    settings: Settings | None = None,
) -> tuple[list[RemoveResult], SyncReport | None]:
    """Remove added files (by document id or file name) with their sidecars, then sync the
    index. The seed record's documents and single documents of a multi-document file are
    refused (the message says why and what to do)."""
    s = resolve(settings, corpus_dir=corpus_dir, index_path=index_path)
    directory = s.corpus_dir.resolve()
    corpus = load_corpus(directory)
    results = []
    for target in targets:
        res = RemoveResult(target)
        results.append(res)
        doc = next((d for d in corpus.documents if d.id == target), None)
        name = doc.source if doc else Path(target).name
        if name == CORPUS_FILE:
            what = f"{target} is a document of" if doc else f"{target} is"
            res.error = (
                f"{what} the seed record {CORPUS_FILE} (d1–d5, metadata in {METADATA_FILE}), which is kept "
                "as published: its documents cannot be removed one by one"
            )
            res.code = "seed_document"
            continue
        path = directory / name
        if not path.is_file() or path.suffix.lower() not in SOURCE_SUFFIXES:
            known = ", ".join([d.id for d in corpus.documents] + [p.name for p in source_files(directory)])
            res.error = f"no document or added file {target!r} in the corpus (known: {known})"
            res.code = "unknown_document"
            continue
        try:
            side = read_sidecar(path) or {}
        except ValueError:
            side = {}
        ids = [d["id"] for d in side.get("documents", [])]
        if doc is not None and len(ids) > 1:
            res.error = (
                f"{target} is one of {len(ids)} documents in {name} ({', '.join(ids)}); remove the whole "
                f"file with `assistant remove {name}`"
            )
            res.code = "part_of_file"
            continue
        with _lock(directory):
            path.unlink()
            sidecar_path(path).unlink(missing_ok=True)
        res.removed, res.doc_ids = [name], ids
    report = None
    if sync and any(r.removed for r in results):
        report, _ = sync_index(progress=progress, store=store, embedder=embedder, settings=s)
    return results, report


@dataclass
class DocRow:
    document: Document
    part: int | None  # 第N篇 number inside its file, if the file holds several
    clauses: int
    indexed: int | None  # clauses stored with the current content hash (None: no index)


@dataclass
class DocsReport:
    rows: list[DocRow]
    errors: list[SourceError]
    index: str  # one line about the index
    orphans: int = 0  # stored clauses no longer in the corpus

    def lines(self) -> list[str]:
        out = []
        width = max((len(_source_label(r)) for r in self.rows), default=10)
        for r in self.rows:
            d = r.document
            if r.indexed is None:
                state = "-"
            elif r.indexed == r.clauses:
                state = "indexed"
            else:
                state = f"{r.indexed}/{r.clauses} indexed"
            extra = " · ".join(x for x in (d.issuer, d.date, d.doc_number, d.status) if x)
            out.append(
                f"{d.id:<4} {_source_label(r):<{width}} {r.clauses:>3} clauses  {state:<14} 《{d.title}》"
                + (f" {extra}" if extra else "")
            )
        total = sum(r.clauses for r in self.rows)
        out.append(f"{len(self.rows)} documents, {total} clauses; {self.index}")
        out += [f"not loaded: {e}" for e in self.errors]
        return out


def _source_label(row: DocRow) -> str:
    return row.document.source + (f" 第{row.part}篇" if row.part is not None else "")


def _expected_model(settings: Settings) -> str:
    if settings.embed_model:
        return f"st:{settings.embed_model}"
    from assistant.index.embed import default_model_name

    return default_model_name()


def list_documents(corpus_dir: str | Path | None = None, index_path: str | Path | None = None, *,
                   settings: Settings | None = None) -> DocsReport:
    """The corpus's documents with clause counts and how many of their clauses the index holds
    up to date (read-only: opens the index without creating or changing it)."""
    from assistant.index.store import passage_sha

    s = resolve(settings, corpus_dir=corpus_dir, index_path=index_path)
    directory = s.corpus_dir.resolve()
    corpus = load_corpus(directory)
    parts: dict[str, int] = {}
    for path in source_files(directory):
        try:
            side = read_sidecar(path) or {}
        except ValueError:
            continue
        docs = side.get("documents", [])
        if len(docs) > 1:
            parts.update((d["id"], d.get("part")) for d in docs)
    stored: dict[str, str] | None = None
    index_line = "no index yet (run `assistant index`)"
    try:
        stored, model = _stored_hashes(s)
        if stored is not None:
            if model and model != _expected_model(s):
                index_line = f"index built with another model ({model}): run `assistant index --rebuild`"
                stored = {}
            else:
                index_line = f"index holds {len(stored)} clauses"
    except Exception as exc:  # noqa: BLE001 - an unreadable index must not hide the listing
        index_line = f"index unreadable ({exc})"
    rows, wanted = [], set()
    for doc in corpus.documents:
        clauses = corpus.by_doc(doc.id)
        wanted.update(c.id for c in clauses)
        indexed = None
        if stored is not None:
            indexed = sum(1 for c in clauses if stored.get(c.id) == passage_sha(c, doc))
        part = parts.get(doc.id) if doc.source != CORPUS_FILE else doc.number
        rows.append(DocRow(doc, part, len(clauses), indexed))
    # The documents' 「文件資訊」 records are indexed too (not counted as clauses).
    docs = {d.id: d for d in corpus.documents}
    wanted.update(r.id for r in corpus.records)
    orphans = len(set(stored or {}) - wanted)
    if stored is not None:
        behind = sum(r.clauses - (r.indexed or 0) for r in rows)
        behind += sum(1 for r in corpus.records if stored.get(r.id) != passage_sha(r, docs.get(r.doc_id)))
        if behind or orphans:
            index_line += f"; {behind} to embed, {orphans} to delete: run `assistant index`"
        else:
            index_line += ", up to date"
    return DocsReport(rows, list(corpus.errors), index_line, orphans)


def _stored_hashes(settings: Settings) -> tuple[dict[str, str] | None, str | None]:
    """(clause id → stored hash, embedding model name) of the index, or (None, None) if there is
    no index. Never creates a collection."""
    from assistant.index.store import SQLITE, open_client

    if not settings.chroma_url and not (settings.index_dir / SQLITE).is_file():
        return None, None
    client = open_client(settings.index_dir, settings.chroma_url)
    try:
        col = client.get_collection(settings.collection, embedding_function=None)
    except Exception:  # noqa: BLE001 - chroma raises NotFoundError / ValueError by version
        return None, None
    got = col.get(include=["metadatas"])
    hashes = {i: str((m or {}).get("sha", "")) for i, m in zip(got["ids"], got["metadatas"])}
    return hashes, (col.metadata or {}).get("embed_model")


def _assemble(corpus: Any, store: Any, embedder: Any, settings: Settings) -> Assistant:
    lexicon_dir = None if settings.chroma_url else settings.index_dir  # a saved lexicon, if current
    core = Assistant(HybridSearcher(corpus.passages, store, embedder, corpus.documents, lexicon_dir=lexicon_dir))
    if not settings.llm_url:
        return core
    from assistant.answering.llm import (
        wrap,  # only when configured: the LLM stack is optional
    )

    return wrap(core, settings)


def load_assistant(
    index_path: str | Path | None = None, chroma_url: str | None = None, *, progress: bool = True,
    settings: Settings | None = None,
) -> Assistant:
    """Corpus → clauses → index → a ready :class:`Assistant`; with an LLM server configured,
    wrapped in the optional LLM phrasing of :mod:`assistant.answering.llm` (same ``ask``,
    citations still verified).

    Read-only: the index is opened as a reader and nothing is written, except on a first run
    with no index at all, which builds it. An index older than the corpus is used as it is, with
    a warning naming `assistant index` (several workers may share one index: only that command,
    `add` and `remove` write to it)."""
    from assistant.index.embed import get_embedder

    s = resolve(settings, index_path=index_path, chroma_url=chroma_url)
    embedder = get_embedder(s)
    store = open_store(s, embedder, create=False)
    corpus = load_corpus(s.corpus_dir)
    if store.count() == 0:  # first run: build the index (files dropped in are registered too)
        _, corpus = sync_index(progress=progress, store=store, embedder=embedder, settings=s)
    elif not store.up_to_date(corpus.passages, corpus.documents):
        log.warning("the index at %s is older than the corpus: run `assistant index` to update it "
                    "(answers use the clauses it holds)", store.where)
    return _assemble(corpus, store, embedder, s)


def reload_assistant(assistant: Any, corpus_dir: str | Path | None = None, *,
                     settings: Settings | None = None) -> Any:
    """A new assistant over the current corpus, sharing *assistant*'s index store and embedder
    (no model reload), built exactly as :func:`load_assistant` builds one — an LLM-phrased
    assistant is rebuilt around a new core. What a long-running app (the web upload box) swaps
    in after :func:`add_files` / :func:`remove_documents`."""
    s = resolve(settings, corpus_dir=corpus_dir)
    core = getattr(assistant, "core", assistant)
    old = core.searcher
    corpus = load_corpus(s.corpus_dir)
    return _assemble(corpus, old.store, old.embedder, s)


# --- a scratch copy: evaluate with extra documents, never touching the real corpus or index ---------


def document_files(paths: Sequence[str | Path]) -> list[Path]:
    """Files given, folders expanded to the guideline files they hold (.txt .md .docx .pdf; hidden
    files and READMEs left out), in order. ValueError for a path that does not exist or a
    folder with no guideline file."""
    out: list[Path] = []
    for given in paths:
        path = Path(given).expanduser()
        if path.is_dir():
            found = source_files(path)
            if not found:
                raise ValueError(f"{given}: no guideline files ({' '.join(SOURCE_SUFFIXES)}) in this folder")
            out += found
        elif path.is_file():
            out.append(path)
        else:
            raise ValueError(f"{given}: no such file or folder")
    if not out:
        raise ValueError("no documents given")
    return out


@dataclass
class Scratch:
    """An assistant over a temporary copy of the corpus and index with documents added."""

    assistant: Assistant
    added: AddReport  # what add_files did in the copy (per file; the sync of the new clauses)
    settings: Settings  # pointing at the copy (gone once the context exits)


@contextlib.contextmanager
def scratch_assistant(
    paths: Sequence[str | Path], *, settings: Settings | None = None, progress: bool = False,
    embedder: Any = None,
) -> Iterator[Scratch]:
    """The assistant as it would be after ``assistant add PATHS`` — built in a temporary
    directory, removed on exit, so the configured corpus and index are never written.

    The corpus directory and the embedded index directory are copied (the index under its
    write lock, so a concurrent ``assistant index`` cannot leave a torn copy), the files are
    added to the copy with :func:`add_files` — only their new clauses are embedded, the copied
    index already holds everything else — and an assistant is assembled on the copy as
    :func:`load_assistant` would (LLM phrasing included when configured). Pass *embedder* to
    reuse a loaded model. Folders in *paths* are expanded with :func:`document_files`.

    Server mode (``chroma_url`` set) is refused: copying a server collection would mean
    writing a scratch collection into a server others use. Point ``--index`` at an embedded
    index (``assistant --index DIR index`` builds one) to evaluate document growth.

    ValueError when a file cannot be added (the reason per file): results over a corpus that
    silently lacks a document would be misleading."""
    from assistant.index.embed import get_embedder
    from assistant.index.store import SQLITE, index_lock

    s = resolve(settings)
    if s.chroma_url:
        raise ValueError(
            f"evaluating with added documents needs an embedded index, not the Chroma server at {s.chroma_url} "
            "(nothing is written to a shared server): unset ASSISTANT_CHROMA_URL / --chroma-url, or give "
            "--index DIR of an embedded index"
        )
    files = document_files(paths)
    if not s.corpus_dir.is_dir():
        raise ValueError(f"no corpus directory at {s.corpus_dir}")
    root = Path(tempfile.mkdtemp(prefix="assistant-scratch-"))
    try:
        scratch = replace(s, corpus_dir=root / "corpus", index_dir=root / "index")
        shutil.copytree(s.corpus_dir, scratch.corpus_dir, ignore=shutil.ignore_patterns(".*", "~$*"))
        if (s.index_dir / SQLITE).is_file():
            with index_lock(s.index_dir, timeout=s.index_lock_timeout):
                shutil.copytree(s.index_dir, scratch.index_dir)
        embedder = embedder or get_embedder(scratch)
        store = open_store(scratch, embedder, create=True)
        report = add_files(files, settings=scratch, sync=True, progress=progress, store=store, embedder=embedder)
        if not report.ok:
            raise ValueError("cannot add " + "; ".join(f"{f.path}: {f.error}" for f in report.failed))
        if report.sync is None:  # nothing new (already in the corpus): still match the copy's index to it
            _, corpus = sync_index(progress=progress, store=store, embedder=embedder, settings=scratch)
        else:
            corpus = load_corpus(scratch.corpus_dir)
        yield Scratch(_assemble(corpus, store, embedder, scratch), report, scratch)
    finally:
        shutil.rmtree(root, ignore_errors=True)
