"""The answer step's jieba dictionary saved beside the index (issue 16): the saved table holds
exactly jieba's prefix dictionary, segments every dev question and corpus sentence as jieba does,
and a missing, stale or torn table is ignored (jieba loads its own) and rewritten by the writer."""

from __future__ import annotations

import json
from pathlib import Path

import jieba
import pytest

from assistant.answering.question import content, content_words
from assistant.retrieval import segment
from assistant.retrieval.hybrid import lexicon_saved, save_lexicon

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def reference():
    jieba.initialize()
    return jieba.dt


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("words")
    assert segment.save_words(directory)
    assert not segment.save_words(directory)  # already current: not rewritten
    return directory


@pytest.fixture
def fresh():
    segment._reset()
    yield
    segment._reset()


def _questions() -> list[str]:
    out = []
    for name in ("dev.jsonl", "dev2.jsonl", "dev3_laws.jsonl"):
        path = REPO / "evals" / name
        if path.is_file():
            out += [json.loads(line)["question"] for line in path.read_text("utf-8").splitlines() if line.strip()]
    return out


def test_the_saved_table_is_jiebas_prefix_dictionary(saved, reference) -> None:
    freq = segment.SavedFreq(saved / segment.WORDS_FILE)
    assert freq.total == reference.total and len(freq) == len(reference.FREQ)
    assert all(freq.get(k) == v for k, v in reference.FREQ.items())
    for absent in ("", "不在詞典裡的詞xyz", "\ud800", "zz" * 40):
        assert absent not in freq and freq.get(absent, -1) == -1
    with pytest.raises(KeyError):
        freq["不在詞典裡的詞xyz"]


def test_identical_words_on_the_questions_and_the_corpus(saved, reference, corpus, fresh) -> None:
    assert segment.use_saved(saved)
    tk = segment.segmenter()
    assert isinstance(tk.FREQ, segment.SavedFreq)
    texts = [content(q) for q in _questions()] + [c.text for c in corpus.clauses]
    assert len(texts) > 300
    for text in texts:
        assert tk.lcut(text) == reference.lcut(text), text
    q = "鄉鎮紀委書記任滿幾年必須交流?"
    words = content_words(q)
    segment._reset()
    assert segment.segmenter() is reference  # no saved table in use: jieba's own
    assert content_words(q) == words


def test_a_stale_or_torn_table_is_ignored_and_rewritten(saved, tmp_path, fresh, monkeypatch, corpus) -> None:
    target = tmp_path / segment.WORDS_FILE
    target.write_bytes((saved / segment.WORDS_FILE).read_bytes())
    assert segment.words_saved(tmp_path)
    # jieba's dictionary changed (another file: size/time differ, and so does the hash)
    other = tmp_path / "dict.txt"
    other.write_text("鄉鎮 3 n\n紀委 5 n\n", encoding="utf-8")
    monkeypatch.setattr(segment, "dictionary_path", lambda: other)
    assert not segment.words_saved(tmp_path)
    assert not segment.use_saved(tmp_path)
    # the same bytes under a new modification time (a reinstalled jieba): the hash says current
    copy = tmp_path / "copy.txt"
    copy.write_bytes((Path(jieba.__file__).parent / jieba.DEFAULT_DICT_NAME).read_bytes())
    monkeypatch.setattr(segment, "dictionary_path", lambda: copy)
    assert segment.words_saved(tmp_path)
    monkeypatch.undo()
    assert segment.words_saved(tmp_path)
    # torn: truncated in the middle of the table
    target.write_bytes((saved / segment.WORDS_FILE).read_bytes()[:100_000])
    assert not segment.words_saved(tmp_path) and not segment.use_saved(tmp_path)
    target.write_bytes(b"not a table")
    assert not segment.words_saved(tmp_path)
    # the writer (save_lexicon, under the index lock) rewrites it; lexicon_saved waits for it
    (tmp_path / "idx").mkdir()
    idx = tmp_path / "idx"
    assert save_lexicon(idx, corpus.passages, corpus.documents)
    (idx / segment.WORDS_FILE).write_bytes(b"torn")
    assert not lexicon_saved(idx, corpus.passages, corpus.documents)
    assert save_lexicon(idx, corpus.passages, corpus.documents)  # only the table is rewritten
    assert lexicon_saved(idx, corpus.passages, corpus.documents)
    assert segment.use_saved(idx)


def test_a_reader_never_writes_the_table(tmp_path, fresh, reference) -> None:
    assert not segment.use_saved(tmp_path)
    assert not segment.use_saved(None)
    assert list(tmp_path.iterdir()) == []
    assert segment.segmenter() is reference


def test_the_saved_verb_list_is_the_dictionarys_verbs_and_a_stale_one_is_ignored(saved, fresh) -> None:
    verbs = segment._saved_verbs(saved)
    assert verbs == segment._verbs_from_dictionary()
    assert {"成立", "完成", "形成"} <= verbs and not {"学校", "工会", "条件"} & verbs
    assert segment.use_saved(saved) and segment.is_verb("成立") and not segment.is_verb("学校")
    path = saved / segment.VERBS_FILE
    kept = path.read_text("utf-8")
    try:
        path.write_text("# 0.0 1 1 0123\n成立", "utf-8")  # another dictionary's list
        assert segment._saved_verbs(saved) is None and not segment.verbs_saved(saved)
        assert segment.save_words(saved) and segment._saved_verbs(saved) == verbs
    finally:
        path.write_text(kept, "utf-8")
