"""The BM25 index and word statistics saved beside the embedded index (issue 16): a reader loads
them only when they were built from exactly its passages, and then scores exactly as a build in
memory does; a stale or broken file is ignored (built in memory, never an error, never a write)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from assistant.answering.extractive import Assistant
from assistant.retrieval.hybrid import (
    LEXICON,
    HybridSearcher,
    Lexicon,
    lexicon_key,
    lexicon_saved,
    load_lexicon,
    save_lexicon,
)

REPO = Path(__file__).resolve().parent.parent


def _questions() -> list[str]:
    lines = (REPO / "evals" / "dev.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()][:40]


def _files(directory: Path) -> dict[str, int]:
    return {str(p.relative_to(directory)): p.stat().st_mtime_ns for p in directory.rglob("*")}


def test_saved_lexicon_gives_the_same_search_results_and_answers(tmp_path, corpus, assistant_instance) -> None:
    assert save_lexicon(tmp_path, corpus.passages, corpus.documents)
    assert not save_lexicon(tmp_path, corpus.passages, corpus.documents)  # already this corpus's
    base = assistant_instance.core.searcher if hasattr(assistant_instance, "core") else assistant_instance.searcher
    built = HybridSearcher(corpus.passages, base.store, base.embedder, corpus.documents)
    loaded = HybridSearcher(corpus.passages, base.store, base.embedder, corpus.documents, lexicon_dir=tmp_path)
    assert isinstance(built.lexicon.texts, dict) and not isinstance(loaded.lexicon.texts, dict)
    assert loaded.lexicon.df == built.lexicon.df and loaded.lexicon.stats.n == built.lexicon.stats.n
    assert {s: (st.n, st.df) for s, st in loaded.lexicon.sources.items()} == \
        {s: (st.n, st.df) for s, st in built.lexicon.sources.items()}
    assert dict(loaded.lexicon.texts) == built.lexicon.texts
    for q in _questions():
        a, b = built.search(q, k=10), loaded.search(q, k=10)
        assert [(h.clause.id, h.score, h.bm25, h.dense) for h in a] == \
            [(h.clause.id, h.score, h.bm25, h.dense) for h in b], q
        x, y = Assistant(built).ask(q), Assistant(loaded).ask(q)
        assert (x.answer, [c.id for c in x.citations], x.confidence) == \
            (y.answer, [c.id for c in y.citations], y.confidence), q


def test_a_stale_or_broken_lexicon_is_ignored_and_nothing_is_written(tmp_path, corpus, caplog) -> None:
    fewer = corpus.passages[:-1]
    save_lexicon(tmp_path, fewer, corpus.documents)
    assert not lexicon_saved(tmp_path, corpus.passages, corpus.documents)
    before = _files(tmp_path)
    with caplog.at_level("WARNING", logger="assistant.retrieval.hybrid"):
        lex = load_lexicon(tmp_path, corpus.passages, corpus.documents)
    assert isinstance(lex.texts, dict)  # built in memory, not loaded
    # An operator is told why every start is slow and what saves it again (an upgrade's case).
    assert "`assistant index`" in caplog.text and str(tmp_path) in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="assistant.retrieval.hybrid"):
        load_lexicon(tmp_path / "missing", corpus.passages, corpus.documents)  # nothing saved: no warning
    assert not [r for r in caplog.records if r.name == "assistant.retrieval.hybrid"]
    assert _files(tmp_path) == before
    fresh = Lexicon(corpus.passages, corpus.documents)
    terms = ["紀委", "書記", "交流"]
    assert np.array_equal(lex.scores(terms), fresh.scores(terms))
    assert lex.bm25.scores["num_docs"] == len(corpus.passages)

    # A changed clause text changes the key too.
    changed = [replace(corpus.passages[0], text=corpus.passages[0].text + "。"), *corpus.passages[1:]]
    assert lexicon_key(changed, corpus.documents) != lexicon_key(corpus.passages, corpus.documents)

    # The pointer names this corpus but the files are torn: built in memory, no error.
    save_lexicon(tmp_path, corpus.passages, corpus.documents)
    pointer = json.loads((tmp_path / LEXICON).read_text(encoding="utf-8"))
    (tmp_path / pointer["dir"] / "stats.json").write_text("{", encoding="utf-8")
    before = _files(tmp_path)
    lex = load_lexicon(tmp_path, corpus.passages, corpus.documents)
    assert isinstance(lex.texts, dict)
    assert _files(tmp_path) == before
    assert load_lexicon(tmp_path / "missing", corpus.passages, corpus.documents).stats.n == len(corpus.passages)


def test_index_writes_the_lexicon_and_a_reader_never_does(tmp_path, corpus, replay_encoder) -> None:
    from assistant.index.store import rebuild
    from assistant.services import _persist_lexicon, load_assistant, resolve, sync_index

    # `assistant index` (sync): written beside the store, under its lock.
    index = tmp_path / "index"
    _, synced = sync_index(index_path=index, progress=False, embedder=replay_encoder)
    assert lexicon_saved(index, synced.passages, synced.documents)
    # A reader loads it (the clause texts are then computed lazily) and writes nothing.
    before = _files(index)
    reader = load_assistant(str(index), progress=False)
    assert not isinstance(reader.searcher.lexicon.texts, dict)
    assert _files(index) == before
    (index / LEXICON).unlink()  # gone: the next reader builds it in memory, and still writes nothing
    before = _files(index)
    reader = load_assistant(str(index), progress=False)
    assert isinstance(reader.searcher.lexicon.texts, dict)
    assert _files(index) == before

    # `assistant index --rebuild`: written into the new directory before it is swapped in.
    s = resolve(index_path=tmp_path / "rebuilt")
    rebuild(s.index_dir, corpus.passages, replay_encoder, corpus.documents, progress=False,
            extra=lambda building: _persist_lexicon(s, corpus, building))
    assert lexicon_saved(s.index_dir, corpus.passages, corpus.documents)


def test_word_terms_leave_out_punctuation_and_function_words() -> None:
    from assistant.retrieval import segment
    from assistant.text import normalize

    words = segment.search_words(normalize("我想問一下,村黨組織書記的任期是幾年?"))
    assert {"党组织", "书记", "任期"} <= set(words)
    assert not {"的", "是", ",", "?"} & set(words)


def test_a_lexicon_cut_into_words_another_way_is_stale(tmp_path, corpus, monkeypatch) -> None:
    # The saved word-level BM25 holds the passages' words: when the cutting changes (jieba, its
    # dictionary, the stopwords), the key changes with it and the saved lexicon is not used.
    from assistant.retrieval import segment

    assert save_lexicon(tmp_path, corpus.passages, corpus.documents)
    key = lexicon_key(corpus.passages, corpus.documents)
    monkeypatch.setattr(segment, "STOPWORDS", frozenset())
    assert lexicon_key(corpus.passages, corpus.documents) != key
    assert not lexicon_saved(tmp_path, corpus.passages, corpus.documents)
