"""Questions tokenized from the saved piece table (issue 16) get exactly the ids ``tokenizers``
gives: every character the table covers, the eval questions, the corpus and random strings;
anything else falls back to ``tokenizers``; a stale or torn table is ignored."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import numpy as np
import pytest
import regex
from tokenizers import Tokenizer

from assistant.index import e5model, pieces
from assistant.index.embed import OnnxQueryEncoder

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def model_dir() -> Path:
    return e5model.materialise()


@pytest.fixture(scope="module")
def reference(model_dir) -> Tokenizer:
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.enable_truncation(max_length=512)
    return tok


@pytest.fixture(scope="module")
def folder(tmp_path_factory, model_dir, reference) -> Path:
    folder = tmp_path_factory.mktemp("pieces")
    shutil.copy2(model_dir / "tokenizer.json", folder / "tokenizer.json")
    pieces.build(folder / "tokenizer.json", folder / pieces.PIECES_FILE, reference)
    return folder


@pytest.fixture(scope="module")
def table(folder) -> pieces.QueryPieces:
    got = pieces.load(folder / "tokenizer.json")
    assert got is not None
    return got


def _questions() -> list[str]:
    out = []
    for path in sorted((REPO / "evals").glob("*.jsonl")):
        if path.name.startswith(("test", "fresh2")):  # frozen sets: not read here
            continue
        out += [json.loads(line)["question"] for line in path.read_text("utf-8").splitlines() if line.strip()]
    return out


def test_every_covered_character_is_a_grapheme_of_its_own() -> None:
    chars = pieces.safe_chars()
    assert len(chars) > 29_000 and "\u0301" not in chars and "\u200d" not in chars and "\r" not in chars
    rnd = random.Random(0)
    for ch in chars:
        other = rnd.choice(chars)
        assert len(regex.findall(r"\X", ch + ch + other + ch + "a")) == 5, hex(ord(ch))


def test_the_same_ids_as_tokenizers(table, reference, corpus) -> None:
    chars = pieces.safe_chars()
    rnd = random.Random(16)
    texts = ["query: " + q for q in _questions()]
    assert len(texts) > 400
    texts += ["passage: " + c.text for c in corpus.clauses]  # long ones: truncated alike
    texts += ["query: " + ch for ch in chars]
    texts += ["query: " + "".join(rnd.choice(chars) for _ in range(rnd.randint(1, 40))) for _ in range(5000)]
    texts += ["query:  兩個  空格 ", "query: \u3000全形空格\u3000", "query: ＡＢＣ１２３?", "", "   ", "query: ①②"]
    for text in texts:
        got = table.encode(text)
        assert got is not None, text
        assert got == reference.encode(text).ids, text


def test_other_text_falls_back_to_tokenizers(table, model_dir, reference) -> None:
    for text in ("query: e\u0301", "query: 👍🏽", "query: <s>任滿</s>", "query: 鄉鎮\u200d紀委", "query: 한국어", "a\r\nb"):
        assert table.encode(text) is None, text
    enc = OnnxQueryEncoder(model_dir)
    assert enc.query_pieces is not None
    mixed = ["任滿幾年?", "e\u0301 任滿幾年?", "<mask>"]
    ids, mask = enc._tokenize([enc.prefix + t for t in mixed])  # one uncovered: all through tokenizers
    ref = reference.encode_batch([enc.prefix + t for t in mixed])
    width = max(len(e.ids) for e in ref)
    assert ids.shape == (3, width)
    for row, e in zip(ids, ref):
        assert list(row[: len(e.ids)]) == e.ids
    # covered questions: the table's ids, padded as tokenizers pads, and the same vectors
    questions = _questions()[:20]
    a = enc.encode(questions)
    ids, mask = enc._tokenize([enc.prefix + q for q in questions])
    saved, enc.query_pieces = enc.query_pieces, None
    try:
        ids2, mask2 = enc._tokenize([enc.prefix + q for q in questions])
        b = enc.encode(questions)
    finally:
        enc.query_pieces = saved
    assert np.array_equal(ids, ids2) and np.array_equal(mask, mask2)
    assert np.array_equal(a, b)


def test_a_stale_or_torn_table_is_ignored(tmp_path, model_dir, folder) -> None:
    source = tmp_path / "tokenizer.json"
    shutil.copy2(model_dir / "tokenizer.json", source)
    assert pieces.load(source) is None  # no table
    shutil.copy(folder / pieces.PIECES_FILE, tmp_path / pieces.PIECES_FILE)
    assert pieces.load(source) is not None  # the same bytes, another modification time: current
    spec = json.loads(source.read_text("utf-8"))
    spec["model"]["vocab"][10][1] -= 1.0  # another tokenizer
    source.write_text(json.dumps(spec), encoding="utf-8")
    assert pieces.load(source) is None
    shutil.copy2(model_dir / "tokenizer.json", source)
    data = (folder / pieces.PIECES_FILE).read_bytes()
    (tmp_path / pieces.PIECES_FILE).write_bytes(data[: len(data) // 2])
    assert pieces.load(source) is None
    (tmp_path / pieces.PIECES_FILE).write_bytes(b"junk")
    assert pieces.load(source) is None
