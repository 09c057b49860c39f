"""jieba segmentation for the answer step, with its dictionary saved beside the index (issue 16).

jieba starts by loading its prefix dictionary (498k words and prefixes) into a Python dict: ~0.5 s
from its marshal cache on a quiet box, 1-1.4 s under load, on every cold ``assistant ask``.
``assistant index``/``add``/``remove``/``--rebuild`` save the same dictionary beside the store as
one file (``jieba-words.bin``): an open-addressing hash table over the words' UTF-8 bytes that a
reader memory-maps instead of building a dict, so a lookup reads a few pages and start-up reads
none. The segmenter is jieba's own ``Tokenizer`` with that table as its ``FREQ``: the same
algorithm on the same frequencies, so the same words (``tests/test_segment.py`` checks every
entry and the dev questions).

Beside it, ``jieba-verbs.txt`` lists the dictionary's verbs (38k words, read in ~15 ms instead
of scanning ``dict.txt`` in ~0.4 s): the refusal gate weighs a verb the clause lacks less than a
noun (``assistant.answering.extractive.Answerer.VERB_WEIGHT``).

The file names the dictionary it was built from (jieba's version and a hash of its ``dict.txt``);
a missing, stale, foreign or torn file is ignored and jieba loads its dictionary as before. Readers
never write it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from assistant.index import mapped
from assistant.text import STOPWORDS

WORDS_FILE = "jieba-words.bin"
VERBS_FILE = "jieba-verbs.txt"  # the dictionary's verbs, one per line (the refusal gate weighs them less)
WORDS_FORMAT = 1  # bump when the layout changes
_MAGIC = b"GAJW"
_MEMO_LIMIT = 200_000  # looked-up substrings kept as Python objects (a question looks up ~100)

log = logging.getLogger(__name__)


def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


def dictionary_path() -> Path:
    """jieba's default dictionary (``dict.txt`` inside the package)."""
    jieba = _jieba()
    return Path(jieba.__file__).resolve().parent / jieba.DEFAULT_DICT_NAME


def dictionary_key(path: Path | None = None) -> str:
    """What a saved table is built from: the format, jieba's version and its dictionary's bytes."""
    jieba = _jieba()
    h = hashlib.sha256(f"jieba-words {WORDS_FORMAT} {jieba.__version__}\n".encode())
    h.update(Path(path or dictionary_path()).read_bytes())
    return h.hexdigest()


class SavedFreq(Mapping[str, int]):
    """jieba's ``FREQ`` (word or prefix → frequency, 0 for a prefix only) read from a saved table."""

    def __init__(self, path: Path) -> None:
        m = mapped.Mapped(path, _MAGIC, WORDS_FORMAT)
        self.header = m.header
        self.n = int(self.header["n"])
        self.total = int(self.header["total"])
        freqs = m.section("freqs", "I")
        if len(freqs) != self.n:
            raise ValueError(f"{path}: inconsistent")
        self._keys = mapped.KeyTable(m, self.n, freqs.__getitem__, _MEMO_LIMIT)
        self._find = self._keys.get

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._find(key) is not None

    def __getitem__(self, key: str) -> int:
        got = self._find(key) if isinstance(key, str) else None
        if got is None:
            raise KeyError(key)
        return got

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        got = self._find(key) if isinstance(key, str) else None
        return default if got is None else got

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return self.n


def write_words(target: Path, freq: Mapping[str, int], total: int, key: str, source: Path | None = None) -> None:
    """Write *freq* (jieba's prefix dictionary) and *total* as a saved table at *target*
    (atomically: a temporary file, then a rename)."""
    import numpy as np

    keys = [k.encode("utf-8", "surrogatepass") for k in freq]
    if max(freq.values(), default=0) >= 1 << 32:
        raise ValueError("frequencies too large for 32 bits")
    table, offsets, blob = mapped.hash_keys(keys)
    freqs = np.fromiter(freq.values(), np.uint64, len(keys)).astype(np.uint32).tobytes()
    src = Path(source or dictionary_path())
    st = src.stat()
    header: dict[str, Any] = {"key": key, "n": len(keys), "total": int(total), "bits": (len(table) // 4).bit_length() - 1,
                              "jieba": _jieba().__version__, "dict_size": st.st_size, "dict_mtime_ns": st.st_mtime_ns}
    mapped.write(target, _MAGIC, WORDS_FORMAT, header, {"table": table, "offsets": offsets, "freqs": freqs, "blob": blob})


def _current(path: Path) -> SavedFreq | None:
    """The table at *path* if it is jieba's current dictionary's, else None (never raises). The
    dictionary file unchanged since the table was saved (size, modification time) and the same
    jieba version: current without hashing its 5 MB at each start; otherwise the hashes decide."""
    try:
        freq = SavedFreq(path)
        h = freq.header
        src = dictionary_path()
        st = src.stat()
        same_file = (h.get("dict_size"), h.get("dict_mtime_ns"), h.get("jieba")) == (
            st.st_size, st.st_mtime_ns, _jieba().__version__)
        return freq if same_file or h.get("key") == dictionary_key(src) else None
    except Exception:  # noqa: BLE001 - missing, torn or foreign: jieba loads its own
        return None


def _source_stamp() -> str:
    """jieba's version and its dictionary file's size and modification time, one line."""
    st = dictionary_path().stat()
    return f"{_jieba().__version__} {st.st_size} {st.st_mtime_ns}"


def _verbs_from_dictionary() -> frozenset[str]:
    """The words jieba's dictionary tags as verbs (v, vd, vi, vn …; ~38k): read in ~0.4 s."""
    with open(dictionary_path(), encoding="utf-8") as fh:
        return frozenset(p[0] for line in fh if len(p := line.split()) >= 3 and p[2].startswith("v"))


def _saved_verbs(directory: Path) -> frozenset[str] | None:
    """The verb list saved in *directory* if it is the current dictionary's, else None: the
    same file (stamp), or the same bytes (hash) like :func:`_current`."""
    try:
        head, *words = (Path(directory) / VERBS_FILE).read_text(encoding="utf-8").split("\n")
        stamp, _, key = head.removeprefix("# ").rpartition(" ")
        return frozenset(words) if words and (stamp == _source_stamp() or key == dictionary_key()) else None
    except Exception:  # noqa: BLE001 - missing or foreign: read from the dictionary instead
        return None


def words_saved(directory: Path) -> bool:
    """Whether *directory* holds the current jieba dictionary's table."""
    return _current(Path(directory) / WORDS_FILE) is not None


def verbs_saved(directory: Path) -> bool:
    """Whether *directory* holds the current jieba dictionary's verb list."""
    return _saved_verbs(directory) is not None


def save_words(directory: Path) -> bool:
    """Save jieba's current dictionary as a table, and its verbs as a list, in the index
    *directory* (the caller holds the index's write lock), unless those there are current.
    True if written."""
    directory = Path(directory)
    if words_saved(directory) and verbs_saved(directory):
        return False
    jieba = _jieba()
    src = dictionary_path()
    if not words_saved(directory):
        tk = jieba.Tokenizer()
        with open(src, "rb") as fh:
            freq, total = tk.gen_pfdict(fh)
        write_words(directory / WORDS_FILE, freq, total, dictionary_key(src), src)
    tmp = directory / f".{VERBS_FILE}.{os.getpid()}.tmp"
    head = f"# {_source_stamp()} {dictionary_key(src)}"
    tmp.write_text("\n".join([head, *sorted(_verbs_from_dictionary())]), encoding="utf-8")
    os.replace(tmp, directory / VERBS_FILE)
    return True


_verbs: frozenset[str] | None = None


def is_verb(word: str) -> bool:
    """Whether jieba's dictionary tags *word* as a verb (計劃, 完成, 形成, 成立): from the list
    saved beside the index when :func:`use_saved` found it, else read from the dictionary once."""
    global _verbs
    if _verbs is None:
        with _lock:
            if _verbs is None:
                _verbs = _verbs_from_dictionary()
    return word in _verbs


_lock = threading.Lock()
_segmenter: Any = None


def use_saved(directory: Path | None) -> bool:
    """Segment with the table saved in *directory* when it is current (a no-op once a segmenter
    is in use: either gives the same words). True if the saved table is (now) in use."""
    global _segmenter
    if directory is None:
        return False
    with _lock:
        global _verbs
        if _verbs is None:
            _verbs = _saved_verbs(Path(directory))
        if _segmenter is not None:
            return isinstance(_segmenter.FREQ, SavedFreq)
        freq = _current(Path(directory) / WORDS_FILE)
        if freq is None:
            return False
        tk = _jieba().Tokenizer()
        tk.FREQ, tk.total, tk.initialized = freq, freq.total, True
        _segmenter = tk
        return True


def segmenter() -> Any:
    """The process-wide jieba ``Tokenizer``: on a saved table when :func:`use_saved` found one,
    else jieba's default, its dictionary loaded on first use."""
    global _segmenter
    with _lock:
        if _segmenter is None:
            jieba = _jieba()
            jieba.initialize()
            _segmenter = jieba.dt
        return _segmenter


def search_words(text: str) -> list[str]:
    """*text*'s words in jieba's search mode (a long word and the dictionary words inside it:
    「紀委書記」 → 紀委, 書記, 紀委書記) without punctuation and :data:`assistant.text.STOPWORDS`
    (的, 是, 要: a spoken question is full of them): the terms of the word-level BM25
    (:class:`assistant.retrieval.hybrid.Lexicon`). Callers pass :func:`assistant.text.normalize`d
    text (the dictionary is Simplified)."""
    return [w for w in segmenter().cut_for_search(text) if w not in STOPWORDS and any(ch.isalnum() for ch in w)]


def _reset() -> None:
    """Forget the process-wide segmenter (tests)."""
    global _segmenter, _verbs
    with _lock:
        _segmenter = _verbs = None
