"""The e5 tokenizer's query side without loading ``tokenizer.json`` (issue 16).

``tokenizers`` builds the 250k-piece Unigram model of ``tokenizer.json`` in ~1 s (holding the GIL,
so no thread can hide it) on every cold ``assistant ask``, to tokenize one question. This module
saves, beside the materialised model, what tokenizing a question needs: the pieces (and every
prefix of a piece) with their ids and scores in a memory-mapped hash table, and the normalisation
of the characters questions are written in. :meth:`QueryPieces.encode` then runs the same steps
as the ``tokenizers`` pipeline that :func:`assistant.index.e5model.build_tokenizer` assembles:

1. the ``Precompiled`` nmt_nfkc map, character by character, then runs of spaces → one;
2. Metaspace: spaces → "▁", a "▁" prepended, split before every "▁";
3. Unigram Viterbi per word, exactly as ``tokenizers``' ``encode_optimized`` (the same float
   additions and comparisons, ties to the earlier start, unknown characters scored
   ``min_score - 10`` and consecutive unknowns fused into one ``<unk>``);
4. truncation to ``max_len - 2`` pieces, then ``<s> … </s>``.

Only text made of characters from a list (ASCII, Latin-1, CJK ideographs, kana, CJK and general
punctuation, full-width forms; see :data:`_SAFE`) is tokenized here: each of them is a grapheme
of its own whatever its neighbours (``Precompiled`` maps graphemes, not characters) and none is
a special token. Anything else — a combining mark, an emoji sequence, ``<s>`` typed in the
question — returns None and the caller uses ``tokenizers`` (loaded then, once).
``tests/test_query_pieces.py`` compares the ids with ``tokenizers`` on every character of the
list, the questions of the eval sets, the corpus and random strings.

The file names the ``tokenizer.json`` it was built from (a hash of its bytes) and the
``tokenizers`` version it reproduces; a missing, stale or torn file is ignored and rebuilt by the
next process that loads ``tokenizers`` anyway (under the model folder's lock, atomically).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from assistant.index import mapped

PIECES_FILE = "query-pieces.bin"
PIECES_FORMAT = 1
_MAGIC = b"GAQP"
UNK_PENALTY = 10.0  # tokenizers' K_UNK_PENALTY
_MAX_PIECE_CHARS_CAP = 64

# Characters tokenized here: each is its own extended grapheme cluster next to any other of them
# (no Extend, SpacingMark, Prepend, ZWJ, regional indicator, Hangul jamo or CR among them).
_SAFE_RANGES = (
    "\t\n\u0020-\u007e\u00a0-\u00ac\u00ae-\u00ff"  # ASCII, Latin-1 (not the soft hyphen)
    "\u2010-\u2027\u2030-\u205e"  # general punctuation, not its format characters
    "\u2150-\u218f\u2190-\u21ff\u2460-\u24ff\u2500-\u257f\u25a0-\u25ff"  # number forms, arrows, ①, boxes, shapes
    "\u3000-\u3029\u3030-\u303f"  # CJK symbols and punctuation, not the tone marks 302A-302F
    "\u3041-\u3096\u309b-\u30ff"  # kana, not the combining sound marks 3099/309A
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK ideographs, extension A, compatibility
    "\uff01-\uff60\uffe0-\uffe6"  # full-width forms
)
_SAFE = re.compile(f"[{_SAFE_RANGES}]*")
_SPACES = re.compile(" {2,}")
_SPECIALS = ("<s>", "</s>", "<pad>", "<unk>", "<mask>")


def safe_chars() -> list[str]:
    """Every character :data:`_SAFE` admits (for the build and the tests)."""
    out = []
    for part in re.findall(r".-.|.", _SAFE_RANGES, re.DOTALL):
        lo, hi = (part[0], part[2]) if len(part) == 3 else (part, part)
        out += [chr(c) for c in range(ord(lo), ord(hi) + 1)]
    return out


def pieces_key(tokenizer_json: Path) -> str:
    import tokenizers

    h = hashlib.sha256(f"query-pieces {PIECES_FORMAT} {tokenizers.__version__}\n".encode())
    h.update(Path(tokenizer_json).read_bytes())
    return h.hexdigest()


def build(tokenizer_json: Path, target: Path, tokenizer: Any = None) -> None:
    """Write the table for *tokenizer_json* at *target* (a temporary file, then a rename)."""
    import numpy as np
    import tokenizers
    from tokenizers import Tokenizer

    spec = json.loads(Path(tokenizer_json).read_text("utf-8"))
    model = spec["model"]
    if model.get("type") != "Unigram" or model.get("byte_fallback"):
        raise ValueError("not a Unigram tokenizer without byte fallback")
    vocab = [(str(p), float(s)) for p, s in model["vocab"]]
    ids: dict[str, int] = {}
    for i, (piece, _) in enumerate(vocab):
        ids[piece] = i  # as tokenizers' token_to_ids: the last of duplicates
    entries: dict[str, int] = dict.fromkeys((p[:k] for p in ids for k in range(1, len(p))), -1)
    entries.update(ids)  # a piece that is also a prefix keeps its id
    keys = list(entries)
    n = len(keys)
    table, offsets, blob = mapped.hash_keys([k.encode("utf-8", "surrogatepass") for k in keys])
    piece_ids = np.fromiter((entries[k] for k in keys), np.int32, n)
    scores = np.array([vocab[entries[k]][1] if entries[k] >= 0 else 0.0 for k in keys], np.float64)
    tok = tokenizer or Tokenizer.from_file(str(tokenizer_json))
    precompiled = tok.normalizer[0] if isinstance(tok.normalizer, tokenizers.normalizers.Sequence) else tok.normalizer
    norm = {ch: out for ch in safe_chars() if (out := precompiled.normalize_str(ch)) != ch}
    added = {t["content"]: t["id"] for t in spec.get("added_tokens", [])}
    header: dict[str, Any] = {
        "key": pieces_key(tokenizer_json), "tokenizers": tokenizers.__version__,
        "source_size": Path(tokenizer_json).stat().st_size, "source_mtime_ns": Path(tokenizer_json).stat().st_mtime_ns,
        "n": n, "unk": model["unk_id"], "bos": added["<s>"], "eos": added["</s>"],
        "pad": added["<pad>"], "min_score": min(s for _, s in vocab),
        "max_piece": max(len(p) for p in ids), "norm": norm,
    }
    sections = {"table": table, "offsets": offsets, "ids": piece_ids.tobytes(), "scores": scores.tobytes(), "blob": blob}
    mapped.write(target, _MAGIC, PIECES_FORMAT, header, sections)


class QueryPieces:
    """A saved table, memory-mapped; :meth:`encode` gives ``tokenizers``' ids or None."""

    def __init__(self, path: Path, max_len: int = 512) -> None:
        m = mapped.Mapped(path, _MAGIC, PIECES_FORMAT)
        h = self.header = m.header
        n = int(h["n"])
        self._ids = m.section("ids", "i")
        self._scores = m.section("scores", "d")
        if len(self._ids) != n or len(self._scores) != n:
            raise ValueError(f"{path}: inconsistent")
        ids, scores = self._ids, self._scores
        self._keys = mapped.KeyTable(m, n, lambda i: (ids[i], scores[i]), 100_000)
        self._find = self._keys.get  # (id, score) of a piece, (-1, 0.0) of a prefix of one only, or None
        self.unk, self.bos, self.eos, self.pad = (int(h[k]) for k in ("unk", "bos", "eos", "pad"))
        self.unk_score = float(h["min_score"]) - UNK_PENALTY
        self.max_piece = min(int(h["max_piece"]), _MAX_PIECE_CHARS_CAP)
        self.norm: dict[str, str] = h["norm"]
        self.max_len = max_len

    def _word(self, w: str, out: list[int]) -> None:
        """Append the Viterbi pieces of *w* (tokenizers' ``Unigram::encode_optimized``)."""
        n = len(w)
        score = [0.0] * (n + 1)
        start = [-1] * (n + 1)
        pid = [-1] * (n + 1)
        unk, unk_score, find, cap = self.unk, self.unk_score, self._find, self.max_piece
        for s in range(n):
            till = score[s]
            single = False
            e = s + 1
            while e <= n and e - s <= cap:
                got = find(w[s:e])
                if got is None:
                    break
                i, sc = got
                if i >= 0:
                    cand = sc + till
                    if start[e] < 0 or cand > score[e]:
                        score[e], start[e], pid[e] = cand, s, i
                    if e == s + 1:
                        single = True
                e += 1
            if not single:
                cand = unk_score + till
                if start[s + 1] < 0 or cand > score[s + 1]:
                    score[s + 1], start[s + 1], pid[s + 1] = cand, s, unk
        found: list[int] = []
        fused: list[str] = []
        e = n
        while e > 0:
            s = start[e]
            if pid[e] == unk:
                fused.append(w[s:e])
            else:
                if fused:
                    found.append(self._unk_id("".join(reversed(fused))))
                    fused = []
                found.append(pid[e])
            e = s
        if fused:
            found.append(self._unk_id("".join(reversed(fused))))
        out.extend(reversed(found))

    def _unk_id(self, text: str) -> int:
        got = self._find(text)
        return got[0] if got is not None and got[0] >= 0 else self.unk

    def encode(self, text: str) -> list[int] | None:
        """``<s>`` + the pieces' ids + ``</s>``, as ``tokenizers`` encodes *text*; None when *text*
        holds a character outside :data:`_SAFE` or a special token's text."""
        if not _SAFE.fullmatch(text) or ("<" in text and any(sp in text for sp in _SPECIALS)):
            return None
        norm = self.norm
        normalized = _SPACES.sub(" ", "".join([norm.get(ch, ch) for ch in text]))
        if not normalized:  # tokenizers leaves an empty text empty (no "▁")
            return [self.bos, self.eos]
        spaced = normalized.replace(" ", "\u2581")
        if not spaced.startswith("\u2581"):
            spaced = "\u2581" + spaced
        ids: list[int] = []
        for word in spaced.split("\u2581")[1:]:
            self._word("\u2581" + word, ids)
        return [self.bos, *ids[: max(self.max_len - 2, 0)], self.eos]


def load(tokenizer_json: Path, max_len: int = 512) -> QueryPieces | None:
    """The saved table beside *tokenizer_json* if it was built from it by this ``tokenizers``
    version, else None (never raises). Unchanged file (size, modification time) and version:
    current without hashing its 17 MB."""
    try:
        import tokenizers

        pieces = QueryPieces(Path(tokenizer_json).parent / PIECES_FILE, max_len)
        h = pieces.header
        st = Path(tokenizer_json).stat()
        same = (h.get("source_size"), h.get("source_mtime_ns"), h.get("tokenizers")) == (
            st.st_size, st.st_mtime_ns, tokenizers.__version__)
        return pieces if same or h.get("key") == pieces_key(tokenizer_json) else None
    except Exception:  # noqa: BLE001 - missing, torn or foreign: the caller loads tokenizers
        return None
