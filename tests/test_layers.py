"""The layered package and the bugs the restructure fixed, each reproduced first.

Unit tests here use the fake embedder (tests/fakes.py) on a real Chroma store over a copy of the
corpus: no model, no torch.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from fakes import FakeEmbedder

REPO = Path(__file__).resolve().parent.parent
D4_C6 = "d4-s2-c6"
EXTRA = REPO.parent / "shared" / "corpus-extra"


@pytest.fixture()
def scratch(tmp_path: Path):
    """A copy of the seed corpus and an empty index directory, with settings pointing at them."""
    from assistant.settings import Settings

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("guidelines.txt", "documents.json"):
        shutil.copy(REPO / "corpus" / name, corpus / name)
    return Settings(corpus_dir=corpus, index_dir=tmp_path / "index")


def _patch_embedder(monkeypatch: pytest.MonkeyPatch, embedder: FakeEmbedder) -> None:
    import assistant.index.embed as embed

    monkeypatch.setattr(embed, "get_embedder", lambda settings=None: embedder)


def _sqlite_mtime(settings) -> int:
    return (settings.index_dir / "chroma.sqlite3").stat().st_mtime_ns


# --- layers ---------------------------------------------------------------------------------------


def test_import_linter_layers_hold() -> None:
    run = subprocess.run([str(Path(sys.executable).with_name("lint-imports"))], cwd=REPO,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-2000:]
    assert "broken" not in run.stdout.split("Contracts:")[-1].replace("0 broken", "")


def test_public_surface_is_small_and_lazy() -> None:
    code = ("import sys, assistant; assert sorted(assistant.__all__) == "
            "['Answer', 'Assistant', 'Citation', 'Settings', 'load_assistant'], assistant.__all__; "
            "heavy = {'chromadb', 'torch', 'gradio', 'sentence_transformers'} & set(sys.modules); "
            "assert not heavy, heavy; from assistant import Settings, Citation; print('ok')")
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0 and "ok" in run.stdout, run.stderr[-2000:]


def test_nothing_below_services_reads_the_environment() -> None:
    below = [p for p in (REPO / "assistant").rglob("*.py")
             if p.parts[-2] != "apps" and p.name not in ("services.py", "settings.py", "__init__.py")]
    offenders = [str(p.relative_to(REPO)) for p in below
                 if "os.environ" in p.read_text(encoding="utf-8") or "getenv(" in p.read_text(encoding="utf-8")]
    assert not offenders, offenders


def test_settings_from_env_reads_every_variable(tmp_path: Path) -> None:
    from assistant.settings import Settings

    s = Settings.from_env({"ASSISTANT_CORPUS": str(tmp_path), "ASSISTANT_INDEX": "/x/idx",
                           "ASSISTANT_CHROMA_URL": "http://127.0.0.1:1", "ASSISTANT_LLM_URL": "http://h/v1/",
                           "ASSISTANT_LLM_TIMEOUT": "7", "ASSISTANT_EMBED_THREADS": "2"}, index_dir=None)
    assert (s.corpus_dir, s.index_dir, s.chroma_url) == (tmp_path, Path("/x/idx"), "http://127.0.0.1:1")
    assert (s.llm_url, s.llm_timeout, s.embed_threads) == ("http://h/v1", 7.0, 2)
    assert Settings.from_env({}, index_dir="/flag").index_dir == Path("/flag")  # a flag wins
    with pytest.raises(ValueError, match="ASSISTANT_LLM_TIMEOUT"):
        Settings.from_env({"ASSISTANT_LLM_TIMEOUT": "soon"})
    with pytest.raises(ValueError, match="ASSISTANT_EMBED_QUERY_BACKEND"):
        Settings.from_env({"ASSISTANT_EMBED_QUERY_BACKEND": "gpu"})


# --- bug 2: read-only commands never write ----------------------------------------------------------


def test_loading_an_existing_index_writes_nothing(scratch, monkeypatch: pytest.MonkeyPatch, caplog) -> None:
    from assistant.services import load_assistant, sync_index

    emb = FakeEmbedder()
    _patch_embedder(monkeypatch, emb)
    first = load_assistant(settings=scratch, progress=False)  # no index at all: the first run builds it
    assert first.searcher.store.count() > 90 and emb.passages_encoded > 0
    before, encoded = _sqlite_mtime(scratch), emb.passages_encoded
    (scratch.corpus_dir / "guidelines.txt").write_text(
        (scratch.corpus_dir / "guidelines.txt").read_text(encoding="utf-8").replace("任滿10年", "任滿8年"),
        encoding="utf-8")
    with caplog.at_level("WARNING"):
        again = load_assistant(settings=scratch, progress=False)  # stale index: used, not rewritten
    assert emb.passages_encoded == encoded and _sqlite_mtime(scratch) == before
    assert "assistant index" in caplog.text
    assert again.searcher.store.count() == first.searcher.store.count()
    report, _ = sync_index(settings=scratch, progress=False)  # the one writer
    assert report.updated == 1 and emb.passages_encoded > encoded


def test_loading_the_corpus_never_writes(scratch) -> None:
    from assistant.corpus.store import load_corpus

    dropped = scratch.corpus_dir / "extra.txt"
    dropped.write_text("一、總則\n1、本辦法適用於全體幹部。\n", encoding="utf-8")
    corpus = load_corpus(scratch.corpus_dir)
    assert not (scratch.corpus_dir / "extra.txt.meta.json").exists()
    assert any("extra.txt" in str(e) for e in corpus.errors)  # reported: not registered yet


# --- bug 3: a store built with another model is never deleted ------------------------------------------


def test_opening_a_store_built_with_another_model_is_an_error(scratch, monkeypatch) -> None:
    from assistant.index.store import ClauseStore, IndexError_, open_client
    from assistant.services import sync_index

    _patch_embedder(monkeypatch, FakeEmbedder("model-a"))
    sync_index(settings=scratch, progress=False)
    client = open_client(scratch.index_dir)
    n = ClauseStore(client, "model-a").count()
    with pytest.raises(IndexError_, match=r"model-a.*assistant index --rebuild|rebuild"):
        ClauseStore(open_client(scratch.index_dir), "model-b")
    with pytest.raises(IndexError_):
        ClauseStore(open_client(scratch.index_dir), "model-b", create=False)
    assert ClauseStore(open_client(scratch.index_dir), "model-a").count() == n  # nothing was wiped


# --- bug 1: LLM mode after an upload answers from the new corpus ------------------------------------------


def test_reload_rebuilds_the_core_of_an_llm_assistant(scratch, monkeypatch) -> None:
    from assistant.answering.llm import LLMAssistant
    from assistant.services import add_files, load_assistant, reload_assistant

    _patch_embedder(monkeypatch, FakeEmbedder())
    llm = replace(scratch, llm_url="http://127.0.0.1:9/v1")  # never called: only the wrapping matters
    running = load_assistant(settings=llm, progress=False)
    assert isinstance(running, LLMAssistant)
    law = EXTRA / "工会法(2021-12-24).md"
    if not law.is_file():
        pytest.skip("shared/corpus-extra not present")
    report = add_files([law], settings=llm)
    assert report.ok, report.lines()
    new = reload_assistant(running, settings=llm)
    assert isinstance(new, LLMAssistant)
    assert new.core is not running.core
    ids = {c.id for c in new.core.searcher.clauses}
    assert len(ids) > len({c.id for c in running.core.searcher.clauses})
    hits = new.core.searcher.search("工會法的立法目的", k=3)
    assert hits and hits[0].clause.doc_id not in {"d1", "d2", "d3", "d4", "d5"}


# --- bug 5: the card title does not repeat the clause number --------------------------------------------


def test_citation_card_builds_labels_from_fields(corpus) -> None:
    from assistant.answering.records import Citation
    from assistant.apps.web import render_card

    c = corpus.clause(D4_C6)
    cite = Citation(c.id, c.label, c.doc_title, c.section, c.ref, c.text, "任滿10年的必須交流", 1.0, c.subsection)
    title, path = _parts(render_card(cite, number=1))
    assert title == "[1] 《關于加強鄉鎮紀檢組織建設的指導意見》"  # was 「[第6條] 《…》」
    assert path == ["二、進一步健全鄉鎮紀檢組織", "第6條"]
    sub = next(x for x in corpus.clauses if x.subsection and x.clause_no)
    cite = Citation(sub.id, sub.label, sub.doc_title, sub.section, sub.ref, sub.text, "", 1.0, sub.subsection)
    title, path = _parts(render_card(cite, number=2))
    assert title == f"[2] 《{sub.doc_title}》" and path == [sub.section, sub.subsection, sub.ref]


def _parts(html: str) -> tuple[str, list[str]]:
    import re

    title = re.search(r'<div class="cite-doc">(.*?)</div>', html)[1]
    path = re.search(r'<div class="cite-path">(.*?)</div>', html)[1]
    return title, re.findall(r'<span class="(?:crumb|cite-no)">(.*?)</span>', path)


# --- bug 6: the off-topic floor is keyed to the model's content -----------------------------------------


def test_semantic_floor_is_keyed_to_the_weights(corpus) -> None:
    from assistant.answering.extractive import SEMANTIC_FLOOR, semantic_floor_for

    shipped = next(iter(SEMANTIC_FLOOR))
    assert semantic_floor_for(FakeEmbedder(content_hash=shipped)) == SEMANTIC_FLOOR[shipped]
    assert semantic_floor_for(FakeEmbedder()) is None  # no content hash: a custom model, no floor
    with pytest.raises(ValueError, match="calibrate"):
        semantic_floor_for(FakeEmbedder(content_hash="0" * 64))  # new weights: loud, not disabled


def test_shipped_model_has_a_calibrated_floor(assistant_instance) -> None:
    assert assistant_instance.answerer.semantic_floor == pytest.approx(0.868)


# --- fakes at the edges: retrieval and answering without the real model -----------------------------------


def test_pipeline_runs_on_the_fake_embedder(scratch, monkeypatch) -> None:
    from assistant.services import load_assistant

    _patch_embedder(monkeypatch, FakeEmbedder())
    a = load_assistant(settings=scratch, progress=False)
    ans = a.ask("鄉鎮紀委書記任滿幾年必須交流?")
    assert not ans.refused and "10年" in ans.answer and ans.citations[0].id == D4_C6
    assert a.ask("乡镇纪委书记任满几年必须交流?").citations[0].id == D4_C6


def test_a_clause_is_found_by_its_best_sentence_too() -> None:
    """Multi-granularity: a clause whose one sentence is nearest to the question outranks one
    whose whole text is marginally nearer; without sentence vectors the clause cosine decides."""
    import numpy as np

    from assistant.corpus.store import load_corpus
    from assistant.retrieval.hybrid import HybridSearcher

    corpus = load_corpus()
    a, b = corpus.clause("d4-s2-c6"), corpus.clause("d4-s2-c5")

    class Store:
        def __init__(self, sentences):
            self.sentences = sentences

        def query(self, vector, k):
            return [(b.id, 0.86), (a.id, 0.859), ("d1-s1-c1", 0.80)]

        def query_sentences(self, vector, k):
            return self.sentences

        def sentence_matrix(self):  # not held in memory: the searcher lists the nearest
            return None

    class Embedder:
        def encode_queries(self, texts):
            return np.ones((len(texts), 4), dtype=np.float32)

    question = "ⅩⅩ"  # no bigram in common with any clause: only the dense half ranks
    with_sentences = HybridSearcher(corpus.passages, Store([(a.id, 0.95), (b.id, 0.80)]), Embedder(), corpus.documents)
    assert with_sentences.search(question, k=1)[0].clause.id == a.id
    without = HybridSearcher(corpus.passages, Store([]), Embedder(), corpus.documents)
    assert without.search(question, k=1)[0].clause.id == b.id
