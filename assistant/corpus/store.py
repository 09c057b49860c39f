"""The corpus directory: the seed record, added files with their sidecars and ids, loading."""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.corpus.errors import Problem
from assistant.corpus.extract import SOURCE_SUFFIXES, extract_text
from assistant.corpus.metadata import META_FIELDS, detect_metadata
from assistant.corpus.parse import (
    CORPUS_ENV,
    CORPUS_FILE,
    DOC_START_RE,
    METADATA_FILE,
    _check_unique,
    document_records,
    _DocumentParser,
    _split_documents,
    log,
    parse_text,
)
from assistant.corpus.records import Clause, Corpus, Document, SourceError
from assistant.settings import Settings

if TYPE_CHECKING:
    pass


# --- added files -------------------------------------------------------------------------------

SIDECAR_SUFFIX = ".meta.json"
IDS_FILE = "ids.json"  # high-water mark of assigned document ids: removed ids are never reused
RESERVED_NAMES = {CORPUS_FILE, METADATA_FILE, IDS_FILE}
SEED_IDS = 5  # d1–d5: the five documents of the seed record
_ID_RE = re.compile(r"^d(\d+)$")


def split_blocks(text: str) -> list[tuple[int | None, str | None, list[str]]]:
    """(第N篇 number, heading, lines) per document: several for a file in the seed's 「第N篇:」
    format, else one block (None, None, all lines)."""
    lines = text.splitlines()
    if any(DOC_START_RE.match(line.strip()) for line in lines):
        return list(_split_documents(lines))
    return [(None, None, lines)]


def id_number(doc_id: str) -> int:
    m = _ID_RE.match(doc_id)
    if not m:
        raise ValueError(f"document id {doc_id!r} is not of the form d<N>")
    return int(m[1])


def parse_source(
    text: str, source: str, entries: list[Mapping[str, Any]], *, first_order: int = 0
) -> tuple[list[Document], list[Clause]]:
    """Parse an added file's *text* (pure: no I/O) into documents and clauses.

    *entries* come from the file's sidecar, one per document (``id`` plus any of
    :data:`META_FIELDS`; a field absent from an entry is taken from :func:`detect_metadata`).
    """
    blocks = split_blocks(text)
    if len(blocks) != len(entries):
        raise Problem(
            f"the file holds {len(blocks)} documents but its sidecar lists {len(entries)}; "
            f"add it again (`assistant add`) to refresh the sidecar", code="sidecar_mismatch"
        )
    documents: list[Document] = []
    clauses: list[Clause] = []
    for (number, heading, lines), entry in zip(blocks, entries):
        detected = detect_metadata(lines)
        heading = heading or detected["title"] or Path(source).stem
        meta = {k: entry[k] if k in entry else detected[k] for k in META_FIELDS}
        doc = Document(
            id=entry["id"],
            number=id_number(entry["id"]) if _ID_RE.match(entry["id"]) else (number or 0),
            title=meta["title"] or heading,
            heading=heading,
            issuer=meta["issuer"],
            date=meta["date"],
            doc_number=meta["doc_number"],
            status=meta["status"],
            source=source,
        )
        parser = _DocumentParser(doc)
        for raw in lines:
            parser.feed(raw)
        found = parser.clauses(first_order=first_order + len(clauses))
        if not found:
            raise Problem(
                f"no guideline text found in document {heading!r}: no sentences, numbered sections "
                "(一、), items (1、) or articles (第N條)", code="no_guideline_text"
            )
        documents.append(parser.document())
        clauses.extend(found)
    _check_unique(documents, clauses)
    return documents, clauses


def sidecar_path(source: Path) -> Path:
    return source.with_name(source.name + SIDECAR_SUFFIX)


def read_sidecar(source: Path) -> dict[str, Any] | None:
    """The sidecar of *source* (None if it has none); ValueError if it is malformed."""
    path = sidecar_path(source)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"sidecar {path.name} is not valid JSON ({exc})") from None
    docs = data.get("documents") if isinstance(data, dict) else None
    if not isinstance(docs, list) or not all(isinstance(d, dict) and _ID_RE.match(str(d.get("id", ""))) for d in docs):
        raise ValueError(f"sidecar {path.name} has no valid \"documents\" list of {{\"id\": \"d<N>\", …}}")
    return data


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def source_files(directory: Path) -> list[Path]:
    """Added guideline files in *directory* (the seed record, hidden files, Office lock files
    「~$…」 and READMEs excluded), by name."""
    out = []
    for path in sorted(directory.iterdir()):
        name = path.name
        if (
            path.is_file() and path.suffix.lower() in SOURCE_SUFFIXES and name != CORPUS_FILE
            and not name.startswith((".", "~$")) and not name.upper().startswith("README")
        ):
            out.append(path)
    return out


def needs_registration(source: Path) -> bool:
    """No sidecar yet, or the file changed since its sidecar was written."""
    try:
        side = read_sidecar(source)
    except ValueError:
        return False  # malformed sidecar: reported by the loader, never silently rewritten
    return side is None or side.get("sha256") != file_sha256(source)


# --- loading -----------------------------------------------------------------------------------


def _corpus_dir(corpus_dir: Path | str | None) -> Path:
    if corpus_dir is None:
        corpus_dir = Settings().corpus_dir
    return Path(corpus_dir).expanduser().resolve()


def _state(directory: Path) -> tuple[tuple[str, int, int], ...]:
    """What the parse depends on: name, mtime and size of every relevant file."""
    out = []
    for path in directory.iterdir():
        name = path.name
        if name in (CORPUS_FILE, METADATA_FILE) or name.endswith(SIDECAR_SUFFIX) or (
            path.suffix.lower() in SOURCE_SUFFIXES
        ):
            try:
                st = path.stat()
            except OSError:
                continue
            out.append((name, st.st_mtime_ns, st.st_size))
    return tuple(sorted(out))


def load_corpus(corpus_dir: Path | str | None = None, *, register: bool = False) -> Corpus:
    """Load and parse the corpus in *corpus_dir* (default: $ASSISTANT_CORPUS or the repo's
    corpus/ directory): the seed record plus every added file. Cached per directory and file
    modification times.

    With *register* (the default), a supported file dropped into the directory without a
    sidecar (or changed since) is registered first: metadata detected, new ids assigned and
    the sidecar written (see :func:`assistant.ingest.register`). A file that cannot be read or
    parsed is left out and reported in :attr:`Corpus.errors` (and logged once per change)."""
    directory = _corpus_dir(corpus_dir)
    if not directory.is_dir():
        raise FileNotFoundError(f"corpus directory not found: {directory} (set ${CORPUS_ENV}?)")
    if register:
        pending = [p for p in source_files(directory) if needs_registration(p)]
        if pending:
            pass

            register_pending(directory, pending)
    corpus = _load(directory, _state(directory))
    return corpus


@lru_cache(maxsize=8)
def _load(directory: Path, state: tuple[tuple[str, int, int], ...]) -> Corpus:
    documents: list[Document] = []
    clauses: list[Clause] = []
    errors: list[SourceError] = []
    owner: dict[str, str] = {}  # document id → file

    def take(name: str, docs: list[Document], cls: list[Clause]) -> None:
        for d in docs:
            if d.id in owner:
                raise ValueError(
                    f"document id {d.id} is already used by {owner[d.id]}; delete this file's "
                    f"sidecar ({name}{SIDECAR_SUFFIX}) and run `assistant index` to give it a new id"
                )
        owner.update((d.id, name) for d in docs)
        documents.extend(docs)
        clauses.extend(cls)

    seed = directory / CORPUS_FILE
    if seed.is_file():
        try:
            meta_path = directory / METADATA_FILE
            metadata = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
            docs, cls = parse_text(seed.read_text(encoding="utf-8"), metadata, CORPUS_FILE)
            take(CORPUS_FILE, docs, cls)
        except (OSError, ValueError) as exc:  # UnicodeDecodeError and JSONDecodeError included
            errors.append(SourceError(CORPUS_FILE, str(exc), getattr(exc, "code", None)))

    added: list[tuple[int, Path, dict[str, Any] | None, str | None]] = []
    for path in source_files(directory):
        try:
            side = read_sidecar(path)
        except ValueError as exc:
            errors.append(SourceError(path.name, str(exc), getattr(exc, "code", None)))
            continue
        first = min((id_number(d["id"]) for d in side["documents"]), default=0) if side else 1 << 30
        added.append((first, path, side, None))
    for _, path, side, _ in sorted(added, key=lambda t: (t[0], t[1].name)):
        from assistant.corpus.extract import extract_text

        try:
            text = extract_text(path)
            if side is None:
                provisional = [{"id": f"d{i}"} for i in range(len(split_blocks(text)))]
                parse_source(text, path.name, provisional)
                raise ValueError(
                    f"not registered: no sidecar {path.name}{SIDECAR_SUFFIX} (read-only corpus "
                    "directory?); run `assistant add` on it"
                )
            docs, cls = parse_source(text, path.name, side["documents"], first_order=len(clauses))
            take(path.name, docs, cls)
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or str(exc)
            errors.append(SourceError(path.name, reason, getattr(exc, "code", None)))
    for err in errors:
        log.warning("corpus: %s (left out; the other documents are loaded)", err)
    return Corpus(tuple(documents), tuple(clauses), tuple(errors), document_records(documents, len(clauses)))


# --- sidecars and ids --------------------------------------------------------------------------


def _lock(directory: Path):
    """A cross-process lock per corpus directory (kept outside it, in the temp dir)."""
    import hashlib

    from filelock import FileLock

    digest = hashlib.sha1(str(directory.resolve()).encode()).hexdigest()[:16]
    return FileLock(str(Path(tempfile.gettempdir()) / f"guideline-assistant-corpus-{digest}.lock"), timeout=60)


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _used_ids(directory: Path) -> dict[str, str]:
    """Every document id in use in *directory* → the file that uses it."""
    used: dict[str, str] = {}
    seed = directory / CORPUS_FILE
    if seed.is_file():
        try:
            meta = json.loads((directory / METADATA_FILE).read_text(encoding="utf-8"))
            used.update((str(v["id"]), CORPUS_FILE) for v in meta.values() if isinstance(v, dict) and "id" in v)
        except (OSError, ValueError):
            pass
        try:
            from assistant.corpus.parse import cn_numeral

            for line in seed.read_text(encoding="utf-8").splitlines():
                if m := DOC_START_RE.match(line.strip()):
                    used.setdefault(f"d{cn_numeral(m['num'])}", CORPUS_FILE)
        except (OSError, ValueError, KeyError):
            pass
    for path in directory.glob(f"*{SIDECAR_SUFFIX}"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            for d in data.get("documents", []):
                used[str(d["id"])] = path.name[: -len(SIDECAR_SUFFIX)]
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            continue
    return used


def _next_ids(directory: Path, count: int, file: str) -> list[str]:
    """*count* fresh ids: above every id in use and every id ever assigned (ids.json)."""
    registry_path = directory / IDS_FILE
    try:
        registry = json.loads(registry_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        registry = {}
    # d1–d5 belong to the seed record even in a directory without it: an added file's id never
    # reads like a seed document's.
    last = max(int(registry.get("last", 0)), SEED_IDS)
    for doc_id in _used_ids(directory):
        try:
            last = max(last, id_number(doc_id))
        except ValueError:
            continue
    ids = [f"d{last + i}" for i in range(1, count + 1)]
    assigned = dict(registry.get("assigned", {}))
    assigned.update((i, file) for i in ids)
    _write_json(registry_path, {
        "about": "highest document id ever assigned; ids of removed files are never reused",
        "last": last + count, "assigned": assigned,
    })
    return ids


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).astimezone().isoformat(timespec="seconds")


def _build_entries(
    text: str, source: Path, old: Mapping[str, Any] | None, overrides: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    """Sidecar entries for *text*'s documents: ids from the old sidecar (None for new ones),
    fields: flags, else a value edited in the old sidecar, else what the text shows."""
    blocks = split_blocks(text)
    old_docs = list((old or {}).get("documents", []))
    by_heading = {d.get("heading"): d for d in old_docs}
    entries = []
    for i, (part, heading, lines) in enumerate(blocks):
        detected = detect_metadata(lines)
        heading = heading or detected["title"] or source.stem
        prev = by_heading.get(heading) or (old_docs[i] if len(old_docs) == len(blocks) else None)
        entry: dict[str, Any] = {"id": prev["id"] if prev else None}
        if part is not None:
            entry["part"] = part  # 第N篇
        entry["heading"] = heading
        for key in META_FIELDS:
            if overrides and overrides.get(key) is not None:
                entry[key] = overrides[key]
            elif prev is not None and key in prev and prev[key] != prev.get("detected", {}).get(key, object()):
                entry[key] = prev[key]  # given by a flag or edited by hand: kept
            else:
                entry[key] = detected[key]
        entry["detected"] = detected
        entries.append(entry)
    return entries


def _validate(text: str, name: str, entries: list[dict[str, Any]]) -> tuple[list[Document], int]:
    """Parse with provisional ids: ValueError if the file yields no usable document."""
    provisional = [{**e, "id": f"d{900000 + i}"} for i, e in enumerate(entries)]
    docs, clauses = parse_source(text, name, provisional)
    return docs, len(clauses)


def register(
    path: Path, overrides: Mapping[str, Any] | None = None, *, text: str | None = None
) -> dict[str, Any]:
    """Write (or refresh) the sidecar of the corpus file *path*; returns the sidecar.

    Raises ExtractionError/ValueError (nothing written) if the file yields no document."""
    path = Path(path)
    directory = path.parent
    with _lock(directory):
        if text is None:
            text = extract_text(path)
        old = read_sidecar(path)  # ValueError for a malformed sidecar: fix or delete it by hand
        entries = _build_entries(text, path, old, overrides)
        _validate(text, path.name, entries)
        missing = [e for e in entries if not e["id"]]
        for entry, new_id in zip(missing, _next_ids(directory, len(missing), path.name) if missing else []):
            entry["id"] = new_id
        side = {
            "file": path.name,
            "sha256": file_sha256(path),
            "format": path.suffix.lower().lstrip("."),
            "registered": (old or {}).get("registered") or _now(),
            "updated": _now(),
            "documents": entries,
        }
        same = old is not None and {k: v for k, v in old.items() if k != "updated"} == {
            k: v for k, v in side.items() if k != "updated"
        }
        if not same:
            _write_json(sidecar_path(path), side)
            return side
        return old


def register_pending(directory: Path, paths: Sequence[Path]) -> None:
    """Register files dropped into the corpus directory (called by load_corpus). A file that
    cannot be registered is left alone: the loader reports why."""
    for path in paths:
        try:
            register(path)
        except (OSError, ValueError) as exc:
            log.debug("not registered: %s", exc)
        except Exception as exc:  # a lock timeout must not stop the corpus from loading
            log.debug("not registered: %s: %s", path.name, exc)
