"""The evaluator's schema (enumeration items, gold-less questions, named documents) and the
document-growth scenario (a scratch copy of corpus and index with documents added).

No model: judging is tested on hand-made answers, the scratch corpus on the fake embedder
(tests/fakes.py) over a temporary copy of the seed corpus.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from pathlib import Path

import pytest

from assistant.answering.records import Answer, Citation
from assistant.evaluation import Item, Report, check, compare, judge, load_items, metrics
from fakes import FakeEmbedder

REPO = Path(__file__).resolve().parent.parent
LAWS = REPO / "evals" / "laws"
UNION_LAW = LAWS / "工会法(2021-12-24).md"
ROTATION = "鄉鎮紀委書記任滿幾年必須交流?"


def _cite(text: str, cid: str = "d9-c1") -> Citation:
    return Citation(cid, cid, "t", "s", "第1條", text, text, 1.0)


def _answer(text: str, cited: list[str] = (), see_also: list[str] = (), refused: bool = False) -> Answer:
    return Answer("q", text, refused, [_cite(t, f"c{i}") for i, t in enumerate(cited)],
                  [_cite(t, f"s{i}") for i, t in enumerate(see_also)], confidence=0.9,
                  timing_ms={"total": 1.0})


def _item(**kw) -> Item:
    base = dict(id="x", question="q?", answers=(), gold=(), answerable=True, type="list")
    return Item(**(base | kw))


# --- enumeration items ---------------------------------------------------------------------------------


def test_enumeration_needs_every_item() -> None:
    it = _item(items=("學習教育", "組織建設", "制度建設"), gold=("學習教育、組織建設",))
    full = judge(it, _answer("抓好学习教育、组织建设和制度建设", cited=["學習教育、組織建設和制度建設"]))
    assert full.answer_ok and full.missing == () and full.correct  # t2s on both sides
    partial = judge(it, _answer("抓好學習教育、組織建設", cited=["學習教育、組織建設和制度建設"]))
    assert not partial.answer_ok and partial.missing == ("制度建設",) and not partial.correct
    refused = judge(it, _answer("指引中沒有找到這個問題的答案。", refused=True))
    assert not refused.answer_ok and refused.missing == it.items


def test_answers_and_items_must_both_hold() -> None:
    it = _item(answers=("三項", "3項"), items=("甲項", "乙項", "丙項"), gold=("甲項",))
    assert judge(it, _answer("三項:甲項、乙項、丙項")).answer_ok
    assert not judge(it, _answer("甲項、乙項、丙項")).answer_ok  # no accepted answer
    assert not judge(it, _answer("三項:甲項、乙項")).answer_ok  # an item missing


def test_quotation_marks_are_set_aside_when_items_and_answers_are_matched() -> None:
    it = _item(items=("“領頭雁工程”", "“素質工程”"), gold=("實施“領頭雁”工程",))
    out = judge(it, _answer("實施“領頭雁”工程;實施「素質工程」", cited=["實施“領頭雁”工程,建設…"]))
    assert out.answer_ok and out.rank == 1
    assert not judge(it, _answer("實施“領頭雁”工程")).answer_ok  # 素質工程 is still missing


def test_enumeration_metric_and_failure_list_the_missing_items() -> None:
    enum = _item(id="e", items=("甲項", "乙項"), gold=("甲項乙項",))
    plain = _item(id="p", answers=("10年",), gold=("任滿10年",), type="number")
    outs = [judge(enum, _answer("甲項", cited=["甲項乙項"])), judge(plain, _answer("10年", cited=["任滿10年"]))]
    m = metrics(outs)
    assert m["enumeration_complete"] == 0.0 and m["enumerations"] == 1 and m["answer_accuracy"] == 0.5
    assert math.isnan(metrics(outs[1:])["enumeration_complete"])  # no enumeration: nan
    fails = Report(m, {}, [], outs).failures()
    assert [f["id"] for f in fails] == ["e"]
    assert fails[0]["missing"] == ["乙項"] and fails[0]["expected"] == ["甲項", "乙項"]


# --- questions without a gold clause --------------------------------------------------------------------


def test_empty_gold_is_left_out_of_retrieval_and_citation_denominators() -> None:
    with_gold = _item(id="g", answers=("10年",), gold=("任滿10年的必須交流",), type="number")
    no_gold = _item(id="n", answers=("五篇", "5篇"), gold=(), type="collection")
    outs = [
        judge(with_gold, _answer("10年", cited=["任滿10年的必須交流。"])),
        judge(no_gold, _answer("共五篇", cited=["一段不含金標準的條文"], see_also=["另一段"])),
    ]
    assert outs[1].rank is None and outs[1].citation_ok is None and outs[1].correct
    m = metrics(outs)
    assert (m["hit@1"], m["mrr"], m["ndcg@5"], m["citation_accuracy"]) == (1.0, 1.0, 1.0, 1.0)
    assert m["answer_accuracy"] == 1.0 and m["answerable"] == 2 and m["answerable_without_gold"] == 1
    assert check(Report(m, {}, [], outs), {"hit@1": 1.0, "citation_accuracy": 1.0, "max_false_refusals": 0}) == []
    # a gold-less question answered wrongly is still an answer miss
    wrong = metrics([outs[0], judge(no_gold, _answer("三篇", cited=["x"]))])
    assert wrong["answer_accuracy"] == 0.5 and wrong["citation_accuracy"] == 1.0


def test_unanswerable_is_still_judged_by_refusal() -> None:
    it = _item(answerable=False, type="unanswerable")
    assert judge(it, _answer("指引中沒有找到", refused=True)).correct
    assert not judge(it, _answer("10年", cited=["任滿10年"])).correct


# --- the schema of the newer sets ------------------------------------------------------------------------


def test_load_items_reads_named_documents_items_and_polarity(tmp_path: Path) -> None:
    rows = [
        {"id": "a", "question": "工會法規定什麼?", "answers": [], "items": ["甲", "乙"], "gold": ["甲乙丙丁戊己"],
         "answerable": True, "type": "list", "doc": "工会法"},
        {"id": "b", "question": "是否需要備案?", "answers": ["需要"], "gold": ["報上級備案"],
         "answerable": True, "type": "yesno", "doc": 4, "polarity": "yes"},
        {"id": "c", "question": "共有幾篇?", "answers": ["五篇"], "gold": [], "answerable": True,
         "type": "collection", "doc": None},
    ]
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    a, b, c = load_items(path)
    assert (a.doc, a.items, a.answers, a.polarity) == ("工会法", ("甲", "乙"), (), None)
    assert (b.doc, b.polarity, b.items) == (4, "yes", ())
    assert c.doc is None and c.answerable and not c.citable
    path.write_text(json.dumps(rows[0] | {"doc": [1]}, ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"set.jsonl:1"):
        load_items(path)


def test_frozen_sets_parse_without_running_them() -> None:
    """Schema only: every record of the frozen sets loads (nothing is asked or judged)."""
    for name in ("test", "test_laws"):
        path = REPO / "evals" / f"{name}.jsonl"
        if path.is_file():
            assert all(isinstance(it.doc, (int, str, type(None))) for it in load_items(path))


def test_compare_lists_questions_whose_correctness_changed() -> None:
    a, b = _item(id="a", answers=("10年",), gold=("任滿10年",)), _item(id="b", answers=("2年",), gold=("2年內",))
    before = [judge(a, _answer("10年", cited=["任滿10年"])), judge(b, _answer("2年", cited=["2年內"]))]
    after = [judge(a, _answer("10年", cited=["任滿10年"])), judge(b, _answer("沒有", refused=True))]
    r1, r2 = (Report(metrics(x), {}, [], x) for x in (before, after))
    out = compare(r1, r2)
    assert [c["id"] for c in out["changed"]] == ["b"] and out["changed"][0]["before"] is True
    assert out["delta"]["answer_accuracy"] == -0.5 and out["delta"]["false_refusals"] == 1


# --- the scratch corpus ----------------------------------------------------------------------------------


@pytest.fixture()
def seeded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A copy of the seed corpus with its index built by the fake embedder; the embedder factory
    patched to return that embedder."""
    import assistant.index.embed as embed
    from assistant.services import sync_index
    from assistant.settings import Settings

    corpus = tmp_path / "src" / "corpus"
    corpus.mkdir(parents=True)
    for name in ("guidelines.txt", "documents.json"):
        shutil.copy(REPO / "corpus" / name, corpus / name)
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "src" / "index")
    emb = FakeEmbedder()
    monkeypatch.setattr(embed, "get_embedder", lambda settings=None: emb)
    report, _ = sync_index(settings=settings, progress=False)
    assert report.added > 90
    return settings, emb


def _snapshot(*dirs: Path) -> dict[str, tuple[int, str]]:
    return {str(p): (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
            for d in dirs for p in sorted(d.rglob("*")) if p.is_file()}


def test_scratch_assistant_adds_documents_without_touching_the_sources(seeded) -> None:
    from assistant.services import load_assistant, scratch_assistant

    settings, emb = seeded
    before = _snapshot(settings.corpus_dir, settings.index_dir)
    seed_clauses = load_assistant(settings=settings, progress=False).searcher.store.count()
    encoded = emb.passages_encoded
    with scratch_assistant([LAWS], settings=settings, embedder=emb) as scratch:
        root = scratch.settings.corpus_dir.parent
        assert root.is_dir() and settings.corpus_dir not in (scratch.settings.corpus_dir,)
        assert [f.status for f in scratch.added.files] == ["added"] * 3
        sync = scratch.added.sync
        # the copied index already held the seed's vectors: only the laws' clauses were embedded
        assert sync.unchanged == seed_clauses and sync.added > 250 and sync.updated == 0
        assert emb.passages_encoded - encoded == sync.added + sync.sentences
        a = scratch.assistant
        law_ids = {c.doc_id for c in a.searcher.clauses} - {"d1", "d2", "d3", "d4", "d5"}
        assert len(law_ids) == 3, law_ids
        hit = a.searcher.search("工會法的立法目的 保障工會在國家政治、經濟和社會生活中的地位", k=3)[0]
        assert hit.clause.doc_id in law_ids
        ans = a.ask(ROTATION)  # the seed is still there (the wording of the answer is the answerer's business)
        assert ans.citations and ans.citations[0].id == "d4-s2-c6"
    assert not root.exists(), "the scratch directory is removed"
    assert _snapshot(settings.corpus_dir, settings.index_dir) == before, "the sources were modified"
    again = load_assistant(settings=settings, progress=False)
    assert again.searcher.store.count() == seed_clauses
    assert {c.doc_id for c in again.searcher.clauses} == {"d1", "d2", "d3", "d4", "d5"}


def test_the_latest_or_earliest_dated_line_of_a_laws_record_answers(seeded) -> None:
    """A law's record lists its enactment and amendments: 「最近一次」 asks for the last of them,
    「最早」 for the first (bigram fake embeddings: the lexical side decides)."""
    from assistant.answering.question import asks_extreme_date, date_key
    from assistant.services import scratch_assistant
    from assistant.text import normalize

    assert date_key(normalize("2021年12月24日 第十三屆…第三次修正")) == (2021, 12, 24)
    assert date_key(normalize("日期:2011-07-14")) == (2011, 7, 14) and date_key("沒有日期") is None
    assert asks_extreme_date(normalize("最近一次修正是哪天")) == 1 and asks_extreme_date(normalize("最早哪年通過")) == -1
    settings, emb = seeded
    with scratch_assistant([UNION_LAW], settings=settings, embedder=emb) as scratch:
        # Fake vectors mean nothing: candidates are ranked on the lexical side alone (with the
        # real model the record ranks first for both questions either way).
        scratch.assistant.answerer.SENTENCE_GAP_WEIGHT = 0.0
        latest = scratch.assistant.ask("工會法最新一次修正是在哪一天?")
        assert not latest.refused and latest.answer.startswith("2021年12月24日"), latest.answer
        first = scratch.assistant.ask("工會法最早是哪天通過的?")
        assert not first.refused and first.answer.startswith("1992年4月3日"), first.answer


def test_a_short_first_sentence_stating_a_quantity_is_not_a_heading() -> None:
    """A law article's 「新錄用的公務員試用期為一年。」 answers; a guideline's lead 「大力加強隊伍建設。」
    is its paragraph's heading."""
    from assistant.answering.extractive import answer_sentences

    law = "新录用的公务员试用期为一年。试用期满合格的，予以任职；不合格的，取消录用。"
    assert answer_sentences(law)[0][0] == 0
    guide = "大力加強隊伍建設。要建立健全紅十字會工作人員的培訓制度,提高隊伍素質。"
    assert answer_sentences(guide)[0][0] > 0


def test_a_runner_up_that_gives_the_asked_value_answers(seeded, monkeypatch) -> None:
    """The best clause has no date; the next, close behind, says 「本法自2019年6月1日起施行」:
    it answers instead of a refusal. Without the runner-up rule the same question is refused."""
    from dataclasses import replace

    from assistant.answering.extractive import Answerer
    from assistant.answering.question import DATEISH
    from assistant.services import scratch_assistant
    from assistant.text import normalize

    settings, emb = seeded
    question = "公務員法是從哪一天開始施行的?"
    with scratch_assistant([LAWS / "公务员法(2018-12-29).md"], settings=settings, embedder=emb) as scratch:
        answerer = scratch.assistant.answerer
        hits = scratch.assistant.searcher.search(question, k=answerer.candidates)
        ev = answerer.evidence(question, hits)
        dated = next(e for e in ev if e.hit.clause.text.startswith("本法自"))
        undated = next(e for e in ev if e is not dated and not DATEISH.search(normalize(e.hit.clause.text)))
        # The order the rule is for: an undated best clause, the dated one close behind.
        order = [replace(undated, rank_score=1.0), replace(dated, rank_score=0.95)]
        monkeypatch.setattr(Answerer, "evidence", lambda self, q, h, asked=None: list(order))
        got = scratch.assistant.ask(question)
        assert not got.refused and "2019年6月1日" in got.answer, (got.answer, got.note)
        monkeypatch.setattr(Answerer, "RUNNER_UPS", 0)
        assert scratch.assistant.ask(question).refused


def test_scratch_assistant_refuses_a_bad_file_and_server_mode(seeded, tmp_path: Path) -> None:
    from dataclasses import replace

    from assistant.services import scratch_assistant

    settings, emb = seeded
    before = _snapshot(settings.corpus_dir, settings.index_dir)
    empty = tmp_path / "empty.md"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(ValueError, match="empty.md"):
        with scratch_assistant([empty], settings=settings, embedder=emb):
            pass
    with pytest.raises(ValueError, match="no such file"):
        with scratch_assistant([tmp_path / "nope.md"], settings=settings, embedder=emb):
            pass
    with pytest.raises(ValueError, match="embedded index"):
        with scratch_assistant([UNION_LAW], settings=replace(settings, chroma_url="http://127.0.0.1:9"), embedder=emb):
            pass
    assert _snapshot(settings.corpus_dir, settings.index_dir) == before


def test_eval_cli_with_documents_and_compare_growth(seeded, tmp_path: Path, monkeypatch, capsys) -> None:
    from assistant.apps.cli import main

    settings, _ = seeded
    monkeypatch.setenv("ASSISTANT_CORPUS", str(settings.corpus_dir))
    monkeypatch.setenv("ASSISTANT_INDEX", str(settings.index_dir))
    monkeypatch.delenv("ASSISTANT_CHROMA_URL", raising=False)
    qa = tmp_path / "mini.jsonl"
    qa.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"id": "rot", "question": ROTATION, "answers": ["10年"], "gold": ["任滿10年的必須交流"],
         "answerable": True, "type": "number", "doc": 4},
        {"id": "law", "question": "工會法規定工會經費的來源有哪些?", "answers": [], "items": ["會員繳納的會費"],
         "gold": ["工会经费的来源"], "answerable": True, "type": "list", "doc": "工会法"},
    ]) + "\n", encoding="utf-8")
    before = _snapshot(settings.corpus_dir, settings.index_dir)
    reports = tmp_path / "reports"
    bounds = tmp_path / "bounds.json"
    bounds.write_text(json.dumps({"hit@1": 0.0, "max_false_refusals": 2}), encoding="utf-8")
    rc = main(["eval", str(qa), "--with-documents", str(UNION_LAW), "--report", str(reports), "--json",
               "--check", str(bounds), "--ask", ROTATION])
    raw = capsys.readouterr().out
    out = json.loads(raw, parse_constant=lambda c: pytest.fail(f"{c} in the JSON report"))  # strict: null, never NaN
    assert rc == 0 and out["metrics"]["questions"] == 2 and out["documents"] == [str(UNION_LAW)]
    # issue 15: every question's result and what was run, kept under a run name of its own
    assert [r["id"] for r in out["results"]] == ["rot", "law"] and out["metrics"]["enumeration_complete"] is not None
    assert {"commit", "model", "corpus_sha256", "k", "date", "with_documents"} <= set(out["run"])
    assert out["run"]["with_documents"] == [str(UNION_LAW)] and out["run"]["k"] == 5
    assert list((reports / "runs").glob("mini-with-documents-*.json"))
    asked = out["asked"][0]
    assert asked["question"] == ROTATION and asked["answer"] and "第6條" in asked["cited"][0]
    assert (reports / "mini-with-documents.json").is_file()
    bounds.write_text(json.dumps({"hit@1": 1.01}), encoding="utf-8")
    rc = main(["eval", str(qa), "--compare-growth", "--with-documents", str(LAWS), "--report", str(reports),
               "--json", "--check", str(bounds)])
    data = json.loads(capsys.readouterr().out)
    assert rc == 1  # a gated metric fails (in both runs here)
    assert set(data) >= {"without", "with_documents", "delta", "changed", "documents"}
    assert data["without"]["metrics"]["questions"] == data["with_documents"]["metrics"]["questions"] == 2
    assert {p.name for p in reports.iterdir()} >= {"mini.json", "mini-with-documents.json", "mini-growth.json", "mini-growth.md"}
    assert main(["eval", str(qa), "--compare-growth"]) == 2  # needs --with-documents
    assert _snapshot(settings.corpus_dir, settings.index_dir) == before


def test_gold_printed_with_its_item_number_still_matches_the_clause() -> None:
    from assistant.evaluation import holds_gold

    text = "落實領導責任。各級各部門要全面落實黨建工作責任制。"
    assert holds_gold(text, ["1、落實領導責任。"]) and holds_gold(text, ["(一)落實領導責任"])
    assert not holds_gold(text, ["2、加大投入保障。"])


# --- issue 15: sets that cannot mislead, reports that can decide ------------------------------------------


BAD_SET = [
    '{"id": "a", "question": "任滿幾年?", "answers": "3年", "gold": ["任滿10年的必須交流"], "answerable": true, "type": "number", "doc": 4}',
    '{"id": "b", "question": "有獎金嗎?", "answers": [], "gold": [], "answerable": "false", "type": "unanswerable", "doc": 4}',
    '{"id": "c", "question": "任滿幾年必須交流?", "gold": ["任滿10年的必須交流"], "answerable": true, "type": "number", "doc": 4}',
    '{"id": "d", "question": "任滿幾年必須交流?", "answers": ["10年"], "gold": ["任滿12年的必須輪崗"], "answerable": true, "type": "number", "doc": 4}',
    '{"id": "e", "question": "任滿幾年必須交流?", "answers": ["10年"], "gold": ["任滿10年的必須交流"], "answerable": true, "type": "numbr", "doc": 4}',
    '{"id": "a", "question": "任滿幾年必須交流?", "answers": ["10年"], "gold": ["任滿10年的必須交流"], "answerable": true, "type": "number", "doc": 4}',
    '{"id": "f", "question": "q?", "answers": [NaN], "gold": [], "answerable": true, "type": "number", "doc": 4}',
    '{"id": "g", "question": "q?", "answers": ["10年"], "gold": ["任滿10年的必須交流"], "answerable": true, "type": "number", "doc": 4, "anwser": "x"}',
    '{"id": "h", "question": "q?", "answers": ["10年"], "gold": [], "answerable": true, "type": "number", "doc": 4}',
    '["not", "an", "object"]',
]


def _sources():
    from assistant.corpus.store import load_corpus
    from assistant.evaluation import GoldSources, law_texts

    corpus = load_corpus()
    return GoldSources(tuple(c.text for c in corpus.clauses) + tuple(r.text for r in corpus.records),
                       law_texts([LAWS]), frozenset(d.number for d in corpus.documents))


def test_a_malformed_set_fails_with_every_error_listed(tmp_path: Path, capsys) -> None:
    from assistant.apps.cli import main
    from assistant.evaluation import SetError, validate_records

    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(BAD_SET) + "\n", encoding="utf-8")
    items, problems = validate_records(path, _sources())
    by_line = {}
    for p in problems:
        by_line.setdefault(p.line, []).append(p.check)
    assert sorted(by_line) == list(range(1, 11)), by_line  # every bad line, not only the first
    assert "list_type" in by_line[1] and "bool_type" in by_line[2] and "missing" in by_line[3]
    assert by_line[4] == ["gold_not_in_corpus"] and "literal_error" in by_line[5]
    assert by_line[6] == ["duplicate_id"] and by_line[7] == ["json"] and "extra_forbidden" in by_line[8]
    assert by_line[9] == ["consistency"] and by_line[10] == ["json"]
    with pytest.raises(SetError) as err:
        load_items(path, _sources())
    assert all(f"bad.jsonl:{n}:" in str(err.value) for n in range(1, 11))
    # the CLI: every error on stderr with file:line, exit 2, nothing asked
    capsys.readouterr()
    assert main(["eval", "--validate", str(path)]) == 2
    err_text = capsys.readouterr().err
    assert all(f"bad.jsonl:{n}:" in err_text for n in range(1, 11))
    assert main(["eval", str(path), "--json"]) == 2
    assert "bad.jsonl:1:" in capsys.readouterr().err


def test_an_empty_set_is_an_error_not_nan(tmp_path: Path, capsys) -> None:
    from assistant.apps.cli import main

    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    assert main(["eval", str(empty), "--json"]) == 2
    assert "no questions" in capsys.readouterr().err


def test_the_sets_in_evals_validate() -> None:
    """Development sets fully (gold against corpus/ and evals/laws/); the frozen test sets for
    their schema (their gold is not looked at here)."""
    from assistant.evaluation import validate_records

    sources = _sources()
    for name in ("dev", "heldout", "fresh", "dev2", "dev2_laws"):
        items, problems = validate_records(REPO / "evals" / f"{name}.jsonl", sources)
        assert items and not problems, [str(p) for p in problems]
    for name in ("test", "test_laws"):
        items, problems = validate_records(REPO / "evals" / f"{name}.jsonl")
        assert items and not problems, [p.check for p in problems]  # checks only: nothing of the set printed


def test_check_sets_is_the_validator() -> None:
    import subprocess
    import sys

    ok = subprocess.run([sys.executable, str(REPO / "evals" / "check_sets.py"), str(REPO / "evals" / "dev.jsonl"),
                         str(REPO / "evals" / "dev2_laws.jsonl")], capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0 and "dev.jsonl: 132 questions, valid" in ok.stdout, ok.stderr


def _outcomes() -> list:
    rot = _item(id="rot", answers=("10年",), gold=("任滿10年的必須交流",), type="number")
    cut = _item(id="cut", answers=("2年",), gold=("任職不到2年調整的",), type="number")
    enum_free = _item(id="u", answerable=False, type="unanswerable")
    return [
        judge(rot, _answer("10年", cited=["任滿10年的必須交流。"])),
        judge(cut, _answer("指引中沒有找到", refused=True)),
        judge(enum_free, _answer("指引中沒有找到", refused=True)),
    ]


def test_citation_accuracy_is_over_all_answerable_questions() -> None:
    """Refusing more must not raise it: a refused question is a wrong citation."""
    outs = _outcomes()
    m = metrics(outs)
    assert m["citation_accuracy"] == 0.5 and m["citation_accuracy_answered"] == 1.0
    wrong_cite = judge(outs[1].item, _answer("2年", cited=["別的條文"]))
    assert metrics([outs[0], wrong_cite, outs[2]])["citation_accuracy"] == 0.5


def test_latency_leaves_out_the_cold_first_question() -> None:
    outs = _outcomes()
    outs[0].answer.timing_ms["total"] = 5000.0
    m = metrics(outs)
    assert m["latency_p95_ms"] == 1.0 and m["latency_p50_ms"] == 1.0


def test_report_is_strict_json_with_every_result_intervals_and_a_run_of_its_own(tmp_path: Path) -> None:
    from assistant.evaluation import report_of, wilson, write_report

    assert wilson(8, 10) == (0.4902, 0.9433) and wilson(0, 0) == (None, None)
    report = report_of(_outcomes(), 0.6)
    report.run = {"name": "mini", "date": "2026-01-02T03:04:05Z", "commit": "abcdef1234567", "k": 5}
    data = json.loads(json.dumps(report.to_json(), allow_nan=False))  # raises on NaN
    assert data["metrics"]["enumeration_complete"] is None
    assert [r["id"] for r in data["results"]] == ["rot", "cut", "u"] and data["results"][1]["correct"] is False
    assert data["intervals"]["answer_accuracy"] == {"k": 1, "n": 2, "low": 0.0945, "high": 0.9055}
    assert data["intervals"]["mrr"] == {"n": 2} and data["refusal_threshold"] == 0.6
    first = write_report(report, tmp_path, "mini")
    second = write_report(report, tmp_path, "mini")
    assert first["run"] != second["run"] and first["run"].is_file() and second["run"].is_file()
    assert first["run"].name.startswith("mini-20260102T030405-abcdef1")
    for path in (first["json"], first["run"]):
        json.loads(path.read_text(encoding="utf-8"), parse_constant=lambda c: pytest.fail(f"{c} in {path}"))
    md = first["md"].read_text(encoding="utf-8")
    assert "## Definitions" in md and "Wilson" in md and "answer_accuracy | 0.5 [0.0945, 0.9055] n=2" in md
    assert "citation_accuracy" in md and "refusal threshold in use**: 0.6" in md


def test_chart_marks_the_threshold_n_per_bar_and_not_applicable() -> None:
    from matplotlib.lines import Line2D

    from assistant.evaluation import figure, report_of

    fig = figure(report_of(_outcomes(), 0.6))
    left, right, twin = fig.axes
    for ax in (left, right, twin):
        assert ax.get_ylabel(), ax
    assert left.get_xlabel() and right.get_xlabel()
    texts = [t.get_text() for t in left.texts]
    assert "n/a" in texts  # the unanswerable type has no hit@1 / answer accuracy: no zero bar
    assert any(t.startswith("n=") for t in texts)
    lines = [ln for ln in right.get_lines() if isinstance(ln, Line2D) and "threshold in use" in str(ln.get_label())]
    assert lines and lines[0].get_xdata()[0] == 0.6


def test_a_frozen_set_never_prints_its_gold_and_runs_despite_unmatched_gold(tmp_path, caplog) -> None:
    import json

    from assistant.evaluation import GoldSources, SetError, load_items

    frozen = tmp_path / "test.jsonl"
    row = {"id": "q1", "question": "幾年?", "answers": ["10年"], "gold": ["NOT-IN-THE-CORPUS-秘密"],
           "answerable": True, "type": "fact", "doc": 4}
    frozen.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    sources = GoldSources(texts=("任滿10年的必須交流",), laws={})
    assert [i.id for i in load_items(frozen, sources)] == ["q1"]
    assert "秘密" not in caplog.text and "1 gold string" in caplog.text
    frozen.write_text(json.dumps({**row, "answers": "10年"}, ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(SetError) as err:
        load_items(frozen, sources)
    assert "秘密" not in str(err.value) and "frozen" in str(err.value)
    dev = tmp_path / "dev.jsonl"  # any other set: every problem, with its text
    dev.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(SetError, match="秘密"):
        load_items(dev, sources)
