"""Clauses → a Chroma collection of clause embeddings (the dense half of retrieval).

The store is a Chroma ``PersistentClient`` in ``index/`` by default, or a Chroma server when
``ASSISTANT_CHROMA_URL`` is set. Each record's id is the clause id and its metadata carries the
clause's content hash, so :meth:`ClauseStore.sync` embeds only new or changed clauses and deletes
clauses that left the corpus; re-running it on an unchanged corpus embeds nothing.

Safety of the embedded store (``index/``):

* **One writer at a time.** Writes (``sync`` with something to do, ``rebuild``) hold an
  exclusive file lock, ``index.lock`` next to the directory; a second ``assistant index`` waits,
  then finds nothing left to do. Readers never take the lock.
* **Crash-safe rebuild.** :func:`rebuild` builds into ``index.building/``, marks it complete,
  then swaps it with ``index/`` in one atomic ``renameat2(RENAME_EXCHANGE)`` (two renames via
  ``index.old/`` where that call is unavailable). ``kill -9`` at any point leaves either the
  previous or the new index answering; :func:`recover` (run on every open) finishes or rolls
  back an interrupted swap and removes stale ``.building``/``.old`` directories.
* **Damage is named.** A damaged or partial directory raises :class:`IndexError_` whose one-line
  message names the fix (``assistant index --rebuild``); the rebuild never opens the damaged
  directory, so it recovers.
* A process whose ``index/`` was swapped by another process's rebuild reopens it on its next
  query, so long-running web workers pick up a rebuilt index.

Server mode: :func:`rebuild` builds a second collection and renames it over the live one.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import hashlib
import json
import os
import re
import shutil
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

import chromadb  # noqa: E402  (after config: telemetry switched off first)
import numpy as np
from chromadb.api.shared_system_client import SharedSystemClient  # noqa: E402
from chromadb.config import Settings as ChromaSettings  # noqa: E402

from assistant.corpus.records import Clause, Document, ordinal_words, record_field_words
from assistant.settings import COLLECTION, Settings
from assistant.text import sentences

BUILDING = ".building"
OLD = ".old"
LOCK = ".lock"
COMPLETE = ".assistant-complete"  # written into a build directory once it holds every clause
SQLITE = "chroma.sqlite3"
LOCK_TIMEOUT_S = 3600.0  # default wait for another writer (Settings.index_lock_timeout)


class PassageEncoder(Protocol):
    name: str

    def encode_passages(self, texts: list[str]) -> np.ndarray: ...


class IndexError_(RuntimeError):
    """The store cannot be opened or is unusable; the message (one line) names the fix."""


@dataclass(frozen=True)
class SyncReport:
    added: int
    updated: int
    removed: int
    unchanged: int
    seconds: float
    sentences: int = 0  # sentence vectors embedded

    @property
    def embedded(self) -> int:
        return self.added + self.updated

    def __str__(self) -> str:
        return (
            f"{self.added} added, {self.updated} re-embedded, {self.removed} removed, "
            f"{self.unchanged} unchanged, {self.sentences} sentences embedded ({self.seconds:.1f} s)"
        )


def _settings() -> ChromaSettings:
    # A fresh object per client: PersistentClient writes persist_directory into the settings it
    # is given, so a shared module-level Settings would be re-pointed by every later client.
    return ChromaSettings(anonymized_telemetry=False, allow_reset=True)


def _one_line(exc: BaseException, limit: int = 240) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _rebuild_hint(path: Path | None = None, url: str | None = None) -> str:
    if url:
        return f"rebuild it with `assistant --chroma-url {url} index --rebuild`"
    if path is not None and Path(os.path.abspath(path)) != Path(os.path.abspath(Settings().index_dir)):
        return f"rebuild it with `assistant --index {path} index --rebuild`"
    return "rebuild it with `assistant index --rebuild`"


def _sibling(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


# --------------------------------------------------------------------------- locking
_LOCKS: dict[str, object] = {}
_LOCKS_GUARD = threading.Lock()


def lock_path(path: Path | str) -> Path:
    """The lock file guarding writes to the index directory *path*."""
    return _sibling(Path(os.path.abspath(path)), LOCK)


def _file_lock(path: Path | str):
    from filelock import FileLock

    key = str(lock_path(path))
    with _LOCKS_GUARD:
        if key not in _LOCKS:
            Path(key).parent.mkdir(parents=True, exist_ok=True)
            _LOCKS[key] = FileLock(key, preserve_lock_file=True)
        return _LOCKS[key]


@contextlib.contextmanager
def index_lock(path: Path | str, *, blocking: bool = True, quiet: bool = False,
               timeout: float | None = None) -> Iterator[None]:
    """Hold the exclusive write lock of the index at *path* (re-entrant within a thread).

    Non-blocking: raises ``filelock.Timeout`` when another process holds it. Blocking: says once
    on stderr that it waits, and gives up after *timeout* seconds (default :data:`LOCK_TIMEOUT_S`)."""
    from filelock import Timeout

    timeout = LOCK_TIMEOUT_S if timeout is None else timeout
    lock = _file_lock(path)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if not blocking:
            raise
        if not quiet:
            print(f"waiting for another `assistant index` on {path} to finish …", file=sys.stderr, flush=True)
        try:
            lock.acquire(timeout=timeout)
        except Timeout:
            raise IndexError_(
                f"the index at {path} has been locked by another process for {timeout:.0f} s "
                f"({lock_path(path)}); wait for it to finish, or stop it"
            ) from None
    try:
        yield
    finally:
        lock.release()


# --------------------------------------------------------------------------- crash recovery
def _complete(directory: Path) -> bool:
    return (directory / COMPLETE).is_file()


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _recover_locked(path: Path) -> list[str]:
    """Bring *path* and its ``.building``/``.old`` siblings to a clean state (caller holds the
    lock, so no rebuild is running). Returns what was done."""
    building, old = _sibling(path, BUILDING), _sibling(path, OLD)
    done: list[str] = []
    if not path.exists():
        if _complete(building):  # died between the two renames of a fallback swap: finish it
            building.rename(path)
            done.append(f"finished an interrupted rebuild ({building.name} → {path.name})")
        elif old.exists():  # died before the new index was complete: roll back
            old.rename(path)
            done.append(f"restored the previous index ({old.name} → {path.name})")
    for stale in (old, building):
        if stale.exists() and (path.exists() or not _complete(stale)):
            shutil.rmtree(stale, ignore_errors=True)
            done.append(f"removed the stale {stale.name}")
    if done:
        _fsync_dir(path.parent)
    return done


def recover(path: Path | str) -> list[str]:
    """Repair what an interrupted :func:`rebuild` left behind; cheap (two ``stat`` calls) when
    there is nothing to do. With ``index/`` present, leftovers are removed only when no rebuild
    holds the lock (a running rebuild's ``.building`` is left alone); with ``index/`` missing,
    waits for a running rebuild, then restores whichever index is complete."""
    from filelock import Timeout

    path = Path(path)
    if not (_sibling(path, BUILDING).exists() or _sibling(path, OLD).exists()):
        return []
    present = path.exists()
    try:
        with index_lock(path, blocking=not present):
            return _recover_locked(path)
    except Timeout:  # a rebuild is running next to a working index: leave it be
        return []


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two directory entries (Linux ``renameat2(RENAME_EXCHANGE)``).
    False where the call or the filesystem does not support it."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EPERM):
        return False
    raise OSError(err, os.strerror(err), str(a), None, str(b))


def _swap_in(path: Path, building: Path) -> None:
    """Make the complete build *building* the index at *path*; the old index is deleted."""
    if path.exists():
        if _exchange(building, path):
            _fsync_dir(path.parent)
            shutil.rmtree(building, ignore_errors=True)  # now holds the previous index
            return
        old = _sibling(path, OLD)
        shutil.rmtree(old, ignore_errors=True)
        path.rename(old)  # a crash from here until the next rename is finished by recover()
        building.rename(path)
        _fsync_dir(path.parent)
        shutil.rmtree(old, ignore_errors=True)
    else:
        building.rename(path)
        _fsync_dir(path.parent)


# --------------------------------------------------------------------------- clients
# Embedded clients → (directory, its inode when opened): a directory swapped by a rebuild has a
# new inode, and Chroma's process-wide system cache (keyed by the path string) must not serve
# the old one.
_CLIENT_PATHS: "weakref.WeakKeyDictionary[object, tuple[Path, int]]" = weakref.WeakKeyDictionary()
_CLIENT_URLS: "weakref.WeakKeyDictionary[object, str]" = weakref.WeakKeyDictionary()
_OPENED_INODES: dict[str, int] = {}
# Chroma's system cache is a class-level dict without a lock: creating a client in one thread
# while another forgets (or closes) the system for the same path raises KeyError inside Chroma.
_SYSTEM_LOCK = threading.RLock()


def _inode(path: Path) -> int:
    try:
        return path.stat().st_ino
    except OSError:
        return -1


def _forget_system(identifier: str) -> None:
    """Drop Chroma's cached system for *identifier* (without stopping it: clients created
    before still hold it)."""
    with _SYSTEM_LOCK:
        SharedSystemClient._identifier_to_system.pop(identifier, None)
        SharedSystemClient._identifier_to_refcount.pop(identifier, None)


def _check_directory(path: Path) -> None:
    """Refuse a directory that is not (or no longer) a Chroma index: Chroma would silently
    start an empty database next to orphaned segment files."""
    if not path.exists():
        return
    if not path.is_dir():
        raise IndexError_(f"the index path {path} is not a directory; point --index at a directory")
    sqlite = path / SQLITE
    others = [p for p in path.iterdir() if not p.name.startswith(".") and not p.name.startswith(SQLITE)]
    if others and (not sqlite.is_file() or sqlite.stat().st_size == 0):
        raise IndexError_(
            f"the index at {path} is incomplete or damaged (its {SQLITE} is missing or empty); "
            f"{_rebuild_hint(path)}"
        )


def _open_persistent(path: Path) -> chromadb.ClientAPI:
    path.mkdir(parents=True, exist_ok=True)
    key = str(path)
    with _SYSTEM_LOCK:
        inode = _inode(path)
        if _OPENED_INODES.get(key, inode) != inode:
            _forget_system(key)  # the directory was swapped since this process opened it
        try:
            client = chromadb.PersistentClient(path=key, settings=_settings())
        except BaseException as exc:  # chroma raises several types (and Rust panics) for damage
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            raise IndexError_(
                f"the index at {path} cannot be opened ({_one_line(exc)}); {_rebuild_hint(path)}"
            ) from exc
        _OPENED_INODES[key] = inode
        _CLIENT_PATHS[client] = (path, inode)
    return client


def _open_http(url: str) -> chromadb.ClientAPI:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise IndexError_(f"ASSISTANT_CHROMA_URL / --chroma-url must look like http://host:port, not {url!r}")
    try:
        client = chromadb.HttpClient(
            host=parsed.hostname,
            port=parsed.port or (443 if parsed.scheme == "https" else 8000),
            ssl=parsed.scheme == "https",
            settings=_settings(),
        )
    except Exception as exc:
        raise IndexError_(
            f"cannot reach the Chroma server at {url} ({_one_line(exc)}); start it with "
            "`chroma run --path DIR --host 127.0.0.1 --port PORT`, or unset ASSISTANT_CHROMA_URL"
        ) from exc
    _CLIENT_URLS[client] = url
    return client


def open_client(path: Path | str | None = None, url: str | None = None) -> chromadb.ClientAPI:
    """An HTTP client on *url* when given, else an embedded client on *path* (default the
    repo's ``index/``). The embedded directory is first repaired if a rebuild was interrupted
    (:func:`recover`) and checked for damage."""
    if url:
        return _open_http(url)
    path = Path(path or Settings().index_dir)
    recover(path)
    _check_directory(path)
    if not (path / SQLITE).exists():  # a new store: two processes must not create it at once
        with index_lock(path, quiet=True):
            return _open_persistent(path)
    return _open_persistent(path)


# --------------------------------------------------------------------------- passages
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
        # A document's record also answers to its fields' words (「發給」 for 主送機關) and to
        # the document's place in the collection (「第四篇」).
        record_field_words(clause.text) if clause.is_record else "",
        ordinal_words(document.number) if clause.is_record and document is not None and document.number > 0 else "",
    ]
    return " ".join(p for p in parts if p)


def text_sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def passage_sha(clause: Clause, document: Document | None = None) -> str:
    """Content hash of what is embedded: a clause is re-embedded exactly when this changes."""
    return text_sha(passage(clause, document))


MANIFEST_KEY = "clause_manifest"  # collection metadata: hash of every (clause id, content hash)


def _manifest(shas: dict[str, str]) -> str:
    h = hashlib.sha256()
    for i in sorted(shas):
        h.update(f"{i}\0{shas[i]}\n".encode("utf-8"))
    return h.hexdigest()


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


# --------------------------------------------------------------------------- the store
_PASSTHROUGH = (KeyboardInterrupt, SystemExit, GeneratorExit, IndexError_)


SENTENCES = "__sentences"  # suffix of the companion collection holding one vector per sentence
# Passages handed to the encoder (and upserted) at a time: enough for it to sort them by length
# into well-filled batches, few enough that the progress bar moves and a crash loses little.
EMBED_WINDOW = 256
# Embedded collections up to this size are searched exactly in memory (issue 16: 2 Chroma calls
# of ~1 ms each per question); larger ones, and servers, through Chroma's HNSW. 0 turns it off.
EXACT_SEARCH_MAX = 20_000
SENTENCE_MANIFEST_KEY = "sentence_manifest"


def clause_sentences(clause: Clause) -> list[str]:
    """The sentences of a clause as embedded one by one (spans of :func:`text.sentences`)."""
    return [clause.text[a:b] for a, b in sentences(clause.text)]


@functools.lru_cache(maxsize=65_536)  # the answer step asks for its candidates' sentences per question
def sentence_id(clause_id: str, sentence: str) -> str:
    """Content-addressed, so a sentence keeps its vector while its neighbours change."""
    return f"{clause_id}@{text_sha(sentence)[:16]}"


class ClauseStore:
    """One Chroma collection of clause embeddings for one embedding model, and a companion
    collection (``<name>__sentences``) of per-sentence embeddings that the answerer uses to
    pick the answering sentence inside a clause.

    Every Chroma call is guarded: a failure becomes an :class:`IndexError_` whose message names
    the store and the fix. Embedded stores take the write lock for writes and reopen a
    directory that a rebuild (in any process) has swapped."""

    def __init__(
        self, client: chromadb.ClientAPI, model_name: str, *, collection: str | None = None,
        lock_dir: Path | None = None, create: bool = True, lock_timeout: float | None = None,
    ):
        self.client = client
        self.model_name = model_name
        self.name = collection or COLLECTION
        opened = _CLIENT_PATHS.get(client)
        self.path: Path | None = opened[0] if opened else None
        self._inode = opened[1] if opened else -1
        self.url = _CLIENT_URLS.get(client)
        self._lock_dir = lock_dir or self.path  # rebuild locks the live index, not the build dir
        self._refresh_lock = threading.Lock()
        self._create = create  # False: a reader; a missing collection reads as empty, never made
        self._lock_timeout = lock_timeout
        with self._guard("open"):
            self._open_collections()

    # -- plumbing
    @property
    def where(self) -> str:
        return self.url or (str(self.path) if self.path else "the Chroma store")

    @contextlib.contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        try:
            yield
        except _PASSTHROUGH:
            raise
        except BaseException as exc:  # Chroma errors, sqlite errors, Rust panics (BaseException)
            if self.url and (isinstance(exc, (ConnectionError, OSError)) or "connect" in str(exc).lower()):
                raise IndexError_(
                    f"lost the Chroma server at {self.where} during {what} ({_one_line(exc)}); "
                    "check that it is running"
                ) from exc
            raise IndexError_(
                f"the index at {self.where} is unusable ({what}: {_one_line(exc)}); "
                f"{_rebuild_hint(self.path, self.url)}"
            ) from exc

    def _write_lock(self):
        if self._lock_dir is None:
            return contextlib.nullcontext()
        return index_lock(self._lock_dir, timeout=self._lock_timeout)

    def _open_collections(self) -> None:
        self.collection = self._collection()
        self.sentences = self._collection(self.name + SENTENCES)
        self._exact: dict[str, tuple[tuple, list[str] | None, np.ndarray | int]] = {}  # or (stamp, None, count)
        self._rows: dict[int, dict[str, int]] = {}  # id(matrix) → row of each id
        self._owners: dict[int, list[str]] = {}  # id(matrix) → clause id of each sentence row

    def _stamp(self) -> tuple:
        """Changes whenever any process writes the embedded store (its sqlite file or WAL)."""
        out: list[object] = [self._inode]
        for name in (SQLITE, SQLITE + "-wal"):
            try:
                st = (self.path / name).stat()
                out += [st.st_mtime_ns, st.st_size]
            except OSError:
                out += [0, 0]
        return tuple(out)

    def _in_memory(self, col) -> tuple[list[str], np.ndarray] | None:
        """Every (id, vector) of a small embedded collection, read once and searched exactly in
        numpy (a question then costs a matrix-vector product instead of two Chroma queries);
        read again after any write. None for a server, a big collection or an empty one."""
        if self.path is None or col is None or not EXACT_SEARCH_MAX:
            return None
        stamp = self._stamp()
        cached = self._exact.get(col.name)
        if cached is not None and cached[0] == stamp:
            return None if cached[1] is None else (cached[1], cached[2])
        ids: list[str] = []
        rows: list[np.ndarray] = []
        try:
            with self._guard("read"):
                n = col.count()
            if not n or n > EXACT_SEARCH_MAX:  # remembered until the next write: a count of a
                self._exact[col.name] = (stamp, None, n)  # 100k-row collection costs ~3 ms
                return None
            for got in self._pages(col, ["embeddings"]):
                ids += got["ids"]
                rows += [np.asarray(v, dtype=np.float32) for v in got["embeddings"]]
        except IndexError_:  # e.g. a rebuild swapped the directory: Chroma's path retries
            return None
        if len(ids) != n:
            return None
        matrix = np.stack(rows)
        self._exact[col.name] = (stamp, ids, matrix)
        self._rows.clear()  # row maps of matrices no longer cached
        self._owners.clear()
        return ids, matrix

    @staticmethod
    def _nearest(found: tuple[list[str], np.ndarray], q: np.ndarray, k: int) -> list[tuple[str, float]]:
        ids, matrix = found
        sims = matrix @ q.reshape(-1)
        order = np.argsort(-sims, kind="stable")[:k]
        return [(ids[i], float(sims[i])) for i in order]

    def _collection(self, name: str | None = None):
        # embedding_function=None: we always pass our own vectors; Chroma's default function
        # would try to download a model.
        name = name or self.name
        try:
            col = self.client.get_collection(name, embedding_function=None)
        except chromadb.errors.NotFoundError:
            if not self._create:
                return None
            with self._write_lock():
                col = self.client.get_or_create_collection(
                    name,
                    configuration={"hnsw": {"space": "cosine"}},
                    metadata={"embed_model": self.model_name},
                    embedding_function=None,
                )
        built_with = (col.metadata or {}).get("embed_model")
        if built_with != self.model_name:
            # Vectors from another model are not comparable with ours. Never delete them here:
            # one worker started with another model must not wipe an index others serve from.
            raise IndexError_(
                f"the index at {self.where} was built with the embedding model {built_with!r}, not "
                f"{self.model_name!r}; {_rebuild_hint(self.path, self.url)} (or use the model it was built with)"
            )
        return col

    def _swapped(self) -> bool:
        return self.path is not None and _inode(self.path) not in (self._inode, -1)

    def refresh(self) -> bool:
        """Reopen the store if its directory was swapped by a rebuild; True if it was."""
        if not self._swapped():
            return False
        with self._refresh_lock:
            if not self._swapped():
                return False
            client = _open_persistent(self.path)
            self.client, self._inode = client, _CLIENT_PATHS[client][1]
            with self._guard("reopen"):
                self._open_collections()
            return True

    # -- reading
    def count(self) -> int:
        self.refresh()
        if self.collection is None:
            return 0
        with self._guard("count"):
            return self.collection.count()

    def up_to_date(self, clauses: Sequence[Clause], documents: Sequence[Document] = ()) -> bool:
        """Whether the last complete sync recorded exactly these clauses (reads one metadata
        field: no record is read, nothing is written)."""
        if self.collection is None:
            return not clauses
        docs = {d.id: d for d in documents}
        shas = {c.id: passage_sha(c, docs.get(c.doc_id)) for c in clauses}
        return self._manifest() == _manifest(shas)

    def _pages(self, collection, include: list[str], page: int = 5000) -> Iterator[dict]:
        """Every record of *collection*, a page at a time (a server sends at most *page* records
        at once)."""
        offset = 0
        while True:
            with self._guard("read"):
                got = collection.get(include=include, limit=page, offset=offset)
            yield got
            if len(got["ids"]) < page:
                return
            offset += page

    def stored_hashes(self) -> dict[str, str]:
        """Clause id → stored content hash."""
        if self.collection is None:
            return {}
        return {
            i: str((m or {}).get("sha", ""))
            for got in self._pages(self.collection, ["metadatas"])
            for i, m in zip(got["ids"], got["metadatas"])
        }

    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """The *k* nearest clauses as (id, cosine similarity), best first (fewer when the
        collection holds fewer)."""
        if k <= 0 or self.collection is None:
            return []
        self.refresh()
        q = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        if (found := self._in_memory(self.collection)) is not None:
            return self._nearest(found, q, k)
        for attempt in (0, 1):
            try:
                with self._guard("query"):
                    got = self.collection.query(query_embeddings=q, n_results=k, include=["distances"])
                break
            except IndexError_ as exc:
                if attempt:
                    raise
                if self.refresh():  # a rebuild swapped the directory during the query
                    continue
                # Server mode: a rebuild renamed a new collection over ours. Fetch it once.
                if not isinstance(exc.__cause__, chromadb.errors.NotFoundError):
                    raise
                with self._guard("reopen"):
                    self._open_collections()
        return [(i, 1.0 - float(d)) for i, d in zip(got["ids"][0], got["distances"][0])]

    def sentence_matrix(self) -> tuple[list[str], np.ndarray] | None:
        """(the clause id of each row, every sentence vector) when the sentence collection is
        searched in memory (small embedded stores), else None: a caller scoring every clause by
        its sentences does it in one product instead of listing the nearest."""
        if self.sentences is None or (found := self._in_memory(self.sentences)) is None:
            return None
        ids, matrix = found
        if (owners := self._owners.get(id(matrix))) is None:
            owners = self._owners[id(matrix)] = [i.rsplit("@", 1)[0] for i in ids]
        return owners, matrix

    def query_sentences(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """The *k* nearest sentences as (clause id, cosine similarity), best first: a clause is
        found by its best sentence as well as by its whole text. Empty without sentence vectors."""
        if k <= 0 or self.sentences is None:
            return []
        q = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        if (found := self._in_memory(self.sentences)) is not None:
            return [(i.rsplit("@", 1)[0], sim) for i, sim in self._nearest(found, q, k)]
        with self._guard("query"):
            known = self._exact.get(self.sentences.name)  # the count _in_memory just took
            n = (known[2] if known is not None and known[1] is None and known[0] == self._stamp()
                 else self.sentences.count())
            if not n:
                return []
            got = self.sentences.query(query_embeddings=q, n_results=min(k, n), include=["distances"])
        return [(i.rsplit("@", 1)[0], 1.0 - float(d)) for i, d in zip(got["ids"][0], got["distances"][0])]

    def sentence_vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored sentence embeddings by :func:`sentence_id` (missing ids are left out: a store
        synced with ``sentences=False`` has none, and the answerer then ranks sentences by
        words alone)."""
        if not ids or self.sentences is None:
            return {}
        if (found := self._in_memory(self.sentences)) is not None:  # the same stored floats
            rows = self._rows.setdefault(id(found[1]), {i: n for n, i in enumerate(found[0])})
            return {i: found[1][rows[i]].copy() for i in ids if i in rows}
        with self._guard("read"):
            got = self.sentences.get(ids=list(ids), include=["embeddings"])
        return {i: np.asarray(v, dtype=np.float32) for i, v in zip(got["ids"], got["embeddings"])}

    # -- writing
    def _plan(self, clauses: Sequence[Clause], shas: dict[str, str]) -> tuple[list[str], list[Clause], int]:
        stored = self.stored_hashes()
        wanted = {c.id for c in clauses}
        stale = [i for i in stored if i not in wanted]
        todo = [c for c in clauses if stored.get(c.id) != shas[c.id]]
        added = sum(1 for c in todo if c.id not in stored)
        return stale, todo, added

    def sync(
        self, clauses: Sequence[Clause], encoder: PassageEncoder,
        documents: Sequence[Document] = (), *, batch: int = EMBED_WINDOW, progress: bool = True,
        sentences: bool = True,
    ) -> SyncReport:
        """Make the collection hold exactly *clauses* (and, with *sentences*, the sentence
        collection exactly their sentences), embedding only what changed. The write lock is
        taken only when something must change, and the plan is redone under it (a concurrent
        run may have done the work already)."""
        start = time.perf_counter()
        self.refresh()
        if self.collection is None:  # opened as a reader: become a writer
            self._create = True
            with self._guard("open"):
                self._open_collections()
        if not clauses and self.count():
            raise IndexError_(
                f"the corpus yielded no clauses; the index at {self.where} is left unchanged "
                "(fix the corpus files named above, then run `assistant index`)"
            )
        docs = {d.id: d for d in documents}
        texts = {c.id: passage(c, docs.get(c.doc_id)) for c in clauses}
        shas = {i: text_sha(t) for i, t in texts.items()}
        manifest = _manifest(shas)
        stale, todo, added = [], [], 0
        # Unchanged since the last sync: skip reading every record's hash (8–19 s at 100k).
        if not (self._manifest() == manifest and self.count() == len(shas)):
            stale, todo, added = self._plan(clauses, shas)
            if stale or todo or self._manifest() != manifest:
                with self._write_lock():
                    self.refresh()
                    stale, todo, added = self._plan(clauses, shas)
                    self._apply(stale, todo, texts, shas, encoder, batch, progress)
                    self._set_manifest(MANIFEST_KEY, manifest)
        embedded_sentences = self._sync_sentences(clauses, encoder, batch, progress) if sentences else 0
        return SyncReport(
            added=added,
            updated=len(todo) - added,
            removed=len(stale),
            unchanged=len(clauses) - len(todo),
            seconds=time.perf_counter() - start,
            sentences=embedded_sentences,
        )

    def _sync_sentences(self, clauses: Sequence[Clause], encoder: PassageEncoder, batch: int,
                        progress: bool) -> int:
        """Ids are content hashes, so the wanted set of ids is the whole plan: embed the ids the
        collection lacks, delete the ones no clause has any more."""
        wanted = {sentence_id(c.id, t): t for c in clauses for t in clause_sentences(c)}
        manifest = _manifest(dict.fromkeys(wanted, ""))
        if self._manifest(SENTENCE_MANIFEST_KEY) == manifest:
            return 0
        with self._write_lock():
            self.refresh()
            stored = {i for got in self._pages(self.sentences, []) for i in got["ids"]}
            todo = [i for i in wanted if i not in stored]
            stale = [i for i in stored if i not in wanted]
            if stale:
                with self._guard("delete"):
                    self.sentences.delete(ids=stale)
            from tqdm.auto import tqdm

            # One bar per passage, with an ETA: a 300-page regulation takes minutes.
            bar = tqdm(total=len(todo), desc="embedding sentences", unit="sentence",
                       disable=not progress or not todo)
            for n in range(0, len(todo), batch):
                part = todo[n : n + batch]
                vectors = encoder.encode_passages([wanted[i] for i in part])
                with self._guard("write"):
                    self.sentences.upsert(
                        ids=part, embeddings=np.asarray(vectors, dtype=np.float32),
                        documents=[wanted[i] for i in part],
                        metadatas=[{"clause_id": i.rsplit("@", 1)[0]} for i in part],
                    )
                bar.update(len(part))
            bar.close()
            self._set_manifest(SENTENCE_MANIFEST_KEY, manifest)
        return len(todo)

    def _manifest(self, key: str = MANIFEST_KEY) -> str | None:
        """The manifest recorded by the last complete sync (on the collection it describes)."""
        col = self.sentences if key == SENTENCE_MANIFEST_KEY else self.collection
        return str((col.metadata or {}).get(key) or "") or None

    def _set_manifest(self, key: str, manifest: str) -> None:
        name = self.name + SENTENCES if key == SENTENCE_MANIFEST_KEY else self.name
        with self._guard("write"):
            fresh = self.client.get_collection(name, embedding_function=None)
            meta = {k: v for k, v in (fresh.metadata or {}).items() if not k.startswith("hnsw:")}
            fresh.modify(metadata={**meta, key: manifest})
            self._open_collections()

    def _apply(self, stale, todo, texts, shas, encoder, batch, progress) -> None:
        if stale:
            with self._guard("delete"):
                self.collection.delete(ids=stale)
        if not todo:
            return
        from tqdm.auto import tqdm

        bar = tqdm(total=len(todo), desc="embedding clauses", unit="clause", disable=not progress)
        for i in range(0, len(todo), batch):
            part = todo[i : i + batch]
            vectors = encoder.encode_passages([texts[c.id] for c in part])
            with self._guard("write"):
                self.collection.upsert(
                    ids=[c.id for c in part],
                    embeddings=np.asarray(vectors, dtype=np.float32),
                    documents=[c.text for c in part],
                    metadatas=[_metadata(c, shas[c.id]) for c in part],
                )
            bar.update(len(part))
        bar.close()

    def close(self) -> None:
        with _SYSTEM_LOCK:
            with contextlib.suppress(Exception):
                self.client.close()
            if self.path is not None:
                _forget_system(str(self.path))


# --------------------------------------------------------------------------- rebuild
def rebuild(
    path: Path | str | None, clauses: Sequence[Clause], encoder: PassageEncoder,
    documents: Sequence[Document] = (), *, url: str | None = None, progress: bool = True,
    extra: Callable[[Path], object] | None = None,
) -> SyncReport:
    """Build a fresh index and swap it in, so a crash mid-build never leaves the index without
    a working version. Embedded (*path*): build in ``<path>.building`` under the write lock,
    mark it complete, swap atomically. Server (*url*): build collection ``clauses__building``,
    then delete the live collection and rename the new one. *extra* (embedded only) writes
    further files into the new directory before it is marked complete and swapped in."""
    if url:
        return _rebuild_remote(url, clauses, encoder, documents, progress)
    if not clauses:
        raise IndexError_("the corpus yielded no clauses; nothing to rebuild (the index is left unchanged)")
    path = Path(path or Settings().index_dir)
    building = _sibling(path, BUILDING)
    with index_lock(path):
        _recover_locked(path)
        shutil.rmtree(building, ignore_errors=True)
        store = ClauseStore(_open_persistent(building), encoder.name, lock_dir=path)
        report = store.sync(clauses, encoder, documents, progress=progress)
        n = store.count()
        if n != len({c.id for c in clauses}):
            raise IndexError_(f"the rebuilt index holds {n} of {len(clauses)} clauses; the old index is kept")
        store.close()
        for keep in path.glob(".*") if path.is_dir() else ():  # e.g. the repo's index/.gitkeep
            if keep.is_file() and not keep.name.startswith(COMPLETE):
                shutil.copy2(keep, building / keep.name)
        if extra is not None:
            extra(building)
        marker = building / COMPLETE
        with open(marker, "w", encoding="utf-8") as fh:
            json.dump({"clauses": n, "model": encoder.name, "built": time.time()}, fh)
            fh.flush()
            os.fsync(fh.fileno())
        _fsync_dir(building)
        _swap_in(path, building)
        _forget_system(str(path))
    return report


def _rebuild_remote(url, clauses, encoder, documents, progress) -> SyncReport:
    client = open_client(url=url)
    fresh = f"{COLLECTION}__building"
    for name in (fresh, fresh + SENTENCES):
        with contextlib.suppress(Exception):
            client.delete_collection(name)
    store = ClauseStore(client, encoder.name, collection=fresh)
    report = store.sync(clauses, encoder, documents, progress=progress)
    with store._guard("swap"):
        for live, built in ((COLLECTION, store.collection),
                            (COLLECTION + SENTENCES, store.sentences)):
            with contextlib.suppress(chromadb.errors.NotFoundError):
                client.delete_collection(live)
            built.modify(name=live)
    return report
