"""Training quizzes: every item in the pool is checked against its cited clause, plus sampling,
export round trips, tolerant grading and the CLI."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter

import pytest

from assistant.apps.cli import main
from assistant.corpus.store import load_corpus
from assistant.quiz.export import to_csv, to_json, to_markdown
from assistant.quiz.facts import BLANK, COVERAGE_TARGET, PAREN, canonical
from assistant.quiz.grading import check_answer, grade, parse_bool
from assistant.quiz.items import QuizItem, coverage, generate_items
from assistant.quiz.sampling import Quiz, build_quiz, load_quiz
from assistant.text import normalize

CORPUS = load_corpus()
ITEMS = generate_items(CORPUS)
CLAUSES = {c.id: c for c in CORPUS.clauses}


def stated(value: str, text: str) -> bool:
    """Independent of the generator: *value* appears in *text* (script-folded), and a value that
    starts/ends with a digit is a whole number there (「2年」 is not in 「2012年」)."""
    v, t = normalize(value), normalize(text)
    lead = r"(?<![\d./:])" if v[:1].isdigit() else ""
    trail = r"(?![\d./:%])" if v[-1:].isdigit() else ""
    return re.search(lead + re.escape(v) + trail, t) is not None


def pieces(stem: str) -> list[str]:
    """The verbatim parts of a statement stem (cut marks 「……」 removed, final stop optional)."""
    return [p.rstrip("。") for p in stem.split("……") if p.strip("。")]


def _by_kind(kind: str) -> list[QuizItem]:
    return [i for i in ITEMS if i.kind == kind]


# --- the pool, item by item ------------------------------------------------------------------------


def test_pool_has_every_kind() -> None:
    kinds = Counter(i.kind for i in ITEMS)
    assert kinds["cloze"] >= 160 and kinds["choice"] >= 100 and kinds["truefalse"] >= 130 and kinds["multi"] >= 10, kinds
    answers = Counter(i.answer for i in _by_kind("truefalse"))
    assert answers[True] >= 60 and answers[False] >= 60, answers


def test_citation_is_the_clause() -> None:
    for item in ITEMS:
        clause = CLAUSES[item.citation.id]
        assert (item.citation.label, item.citation.text) == (clause.label, clause.text), item.id
        assert item.id.startswith(clause.id + ":"), item.id


@pytest.mark.parametrize("kind", ["cloze", "choice"])
def test_answer_key_stands_in_the_clause(kind: str) -> None:
    for item in _by_kind(kind):
        assert isinstance(item.answer, str) and item.answer in item.citation.text, item.id
        quote = item.explanation.split("「", 1)[1].rsplit("」", 1)[0]
        assert quote in item.citation.text and item.answer in quote, item.id


def test_cloze_blanks_are_facts_not_characters() -> None:
    for item in _by_kind("cloze"):
        assert item.stem.count(BLANK) == 1, item.id
        assert 2 <= len(item.answer) <= 12 or re.fullmatch(r"[\d./:+-]+.*", item.answer), item.id
        # the stem around the blank is the clause text
        before, after = item.stem.split(BLANK)
        for part in pieces(before) + pieces(after):
            assert part in item.citation.text, (item.id, part)


@pytest.mark.parametrize("kind", ["cloze", "choice"])
def test_no_trivial_blanks(kind: str) -> None:
    slot = BLANK if kind == "cloze" else PAREN
    for item in _by_kind(kind):
        rest = item.stem.replace(slot, "\u3000")
        assert not stated(str(item.answer), rest), (item.id, item.stem)
        assert canonical(str(item.answer)) not in canonical(rest), item.id  # 十年 vs 10年 too


def test_choice_has_exactly_one_option_true_for_the_clause() -> None:
    for item in _by_kind("choice"):
        assert item.options is not None and len(item.options) == 4, item.id
        assert len({canonical(o) for o in item.options}) == 4, (item.id, item.options)
        true = [o for o in item.options if stated(o, item.citation.text)]
        assert true == [item.answer], (item.id, item.options)
        assert item.stem.count(PAREN) == 1, item.id


def test_choice_distractors_have_the_answers_form() -> None:
    """Amounts against amounts (same unit), years against years, bodies against bodies."""
    unit = re.compile(r"^[\d./:+-]+(.*)$")
    for item in _by_kind("choice"):
        m = unit.match(normalize(str(item.answer)))
        if m:
            for o in item.options or ():
                om = unit.match(normalize(o))
                assert om and om[1] == m[1], (item.id, item.options)
        if normalize(str(item.answer)).endswith("纪检监察机关"):
            assert all(normalize(o).endswith("纪检监察机关") for o in item.options or ()), item.id


def test_true_statements_are_verbatim() -> None:
    for item in _by_kind("truefalse"):
        if item.answer is True:
            for part in pieces(item.stem):
                assert part in item.citation.text, (item.id, part)


def test_false_statements_differ_by_one_fact() -> None:
    swap = re.compile(r"題中把「(.+?)」改成了「(.+?)」")
    for item in _by_kind("truefalse"):
        if item.answer is False:
            m = swap.search(item.explanation)
            assert m, item.id
            original, wrong = m.groups()
            assert not stated(wrong, item.citation.text), item.id
            assert not all(p in item.citation.text for p in pieces(item.stem)), item.id
            restored = item.stem.replace(wrong, original, 1)
            for part in pieces(restored):
                assert part in item.citation.text, (item.id, part)


def test_false_bounds_really_false() -> None:
    """「不少于12天」 may only become a larger number; 「35歲以下」 a smaller one — in what a rule
    requires. In its condition the other way round (「對黨員人數50名以上的村」 only smaller,
    「任職不到2年調整的」 only larger, 「任滿10年的」 only smaller): issue 15."""
    swap = re.compile(r"題中把「(\d+)\D*」改成了「((\d+)\D*)」")
    for item in _by_kind("truefalse"):
        m = swap.search(item.explanation)
        if not m or item.answer is not False:
            continue
        a, b, wrong = int(m[1]), int(m[3]), re.escape(normalize(m[2]))
        stem = normalize(item.stem)
        condition = re.search(rf"(^|[,,;;。])对[^,,;;。]*{wrong}[^,,;;。]*的|{wrong}[^,,;;。应要须]{{0,6}}的[,,]|满{wrong}的", stem)
        lower = re.search(rf"(不少于|至少|满){wrong}|{wrong}以上", stem)
        upper = re.search(rf"(不超过|最多|不到){wrong}|{wrong}(以下|以内)", stem)
        if lower:
            assert (b < a) if condition else (b > a), item.id
        if upper:
            assert (b > a) if condition else (b < a), item.id


def test_no_duplicate_items() -> None:
    ids = Counter(i.id for i in ITEMS)
    assert not [k for k, n in ids.items() if n > 1]
    stems = Counter((i.kind, i.stem) for i in ITEMS)
    assert not [k for k, n in stems.items() if n > 1]


def test_explanations_quote_the_source() -> None:
    for item in ITEMS:
        assert item.explanation.startswith("原文:「"), item.id


# --- coverage, sampling ----------------------------------------------------------------------------


def test_coverage_of_numbered_clauses() -> None:
    rows = coverage(CORPUS)
    covered = sum(r.numbered_covered for r in rows)
    numbered = sum(r.numbered for r in rows)
    assert numbered == sum(c.numbered for c in CORPUS.clauses)
    assert covered / numbered >= COVERAGE_TARGET, f"{covered}/{numbered}"
    # every document with numbered clauses contributes
    assert all(r.numbered_covered > 0 for r in rows if r.numbered)


def test_same_seed_same_quiz() -> None:
    a = build_quiz(CORPUS, 20, doc=3, seed=11)
    b = build_quiz(CORPUS, 20, doc="d3", seed=11)
    assert a.to_dict() == b.to_dict()
    c = build_quiz(CORPUS, 20, doc=3, seed=12)
    assert [i.id for i in a.items] != [i.id for i in c.items]


def test_mixed_quiz_shape() -> None:
    quiz = build_quiz(CORPUS, 20, doc=2, seed=7)
    kinds = Counter(i.kind for i in quiz.items)
    assert len(quiz.items) == 20 and kinds == {"cloze": 7, "choice": 7, "truefalse": 6}
    assert all(i.citation.id.startswith("d2-") for i in quiz.items)
    tf = Counter(i.answer for i in quiz.items if i.kind == "truefalse")
    assert abs(tf[True] - tf[False]) <= 2
    # never two items on the same sentence (one would give the other away)
    quotes = [i.explanation.split("」")[0] for i in quiz.items]
    assert len(set(quotes)) == len(quotes)
    # handout order: by kind, cloze first
    order = [i.kind for i in quiz.items]
    assert order == sorted(order, key=["cloze", "choice", "truefalse"].index)


def test_section_and_kind_filters() -> None:
    quiz = build_quiz(CORPUS, 5, doc=4, section="二", kind="cloze", seed=1)
    assert quiz.items and all(i.kind == "cloze" and i.citation.id.startswith("d4-s2-") for i in quiz.items)
    assert "二、進一步健全鄉鎮紀檢組織" in quiz.title
    with pytest.raises(ValueError, match="no document"):
        build_quiz(CORPUS, 5, doc=9)


# --- export and grading ----------------------------------------------------------------------------


def test_json_round_trip_then_grade(tmp_path) -> None:
    quiz = build_quiz(CORPUS, 12, seed=5)
    path = tmp_path / "quiz.json"
    path.write_text(to_json(quiz), encoding="utf-8")
    data = json.loads(path.read_text(encoding="utf-8"))
    for d in data["items"]:  # the fields of old quizzes, plus additive ones (issue 15)
        base = {"id", "kind", "stem", "answer", "citation", "explanation"} | (
            {"options"} if d["kind"] in ("choice", "multi") else set())
        assert base <= set(d) <= base | {"key", "knowledge_point", "points", "stats", "difficulty"}
        assert set(d["citation"]) == {"id", "label", "text"}
    loaded = load_quiz(path)
    assert loaded.to_dict() == quiz.to_dict()
    perfect = {i.id: i.answer for i in loaded.items}
    assert grade(loaded, perfect).score == 12
    report = grade(loaded, {})
    assert report.score == 0 and len(report.wrong) == 12


def test_csv_and_markdown_exports() -> None:
    quiz = build_quiz(CORPUS, 20, doc=2, seed=7)
    rows = list(csv.DictReader(io.StringIO(to_csv(quiz))))
    assert [r["id"] for r in rows] == [i.id for i in quiz.items]
    md = to_markdown(quiz, CORPUS)
    questions, key = md.split("# 參考答案與出處")
    assert "《關于進一步加強農村基層組織建設的意見》培訓測驗" in questions
    assert "## 一、填空題" in questions and "## 三、判斷題" in questions
    for item in quiz.items:  # answers and sources only in the key
        assert item.citation.label not in questions
        assert item.citation.label in key
    assert re.search(r"^20\. ", questions, re.MULTILINE)


@pytest.mark.parametrize("given, expected", [
    ("十年", "10年"), ("10年", "十年"), ("１０年", "10年"), (" 10 年。", "10年"), ("10年", "10年"),
    ("县级纪检监察机关", "縣級紀檢監察機關"), ("「五步法」", "五步法"), ("五步法", "“五步法”"),
    ("一百零六萬元", "106萬元"), ("百分之八十", "80%"), ("８０％", "80%"), ("三分之一", "1/3"),
    ("二〇一二年", "2012年"), ("两年", "2年"), ("五严守五禁止", "五嚴守、五禁止"), ("每半年", "每半年"),
])
def test_tolerant_cloze_grading(given: str, expected: str) -> None:
    item = QuizItem("x", "cloze", "…", expected, ITEMS[0].citation, "")
    assert check_answer(item, given)


@pytest.mark.parametrize("given", ["9年", "100年", "1年", "", None, "十一年", "每年"])
def test_cloze_grading_rejects_wrong(given) -> None:
    item = QuizItem("x", "cloze", "…", "10年", ITEMS[0].citation, "")
    assert not check_answer(item, given)


def test_choice_and_truefalse_grading() -> None:
    item = QuizItem("x", "choice", "…", "10年", ITEMS[0].citation, "", ("5年", "8年", "10年", "15年"))
    assert check_answer(item, "C") and check_answer(item, "ｃ") and check_answer(item, "10年")
    assert check_answer(item, "十年") and not check_answer(item, "A") and not check_answer(item, "E")
    for yes in (True, "對", "对", "正確", "√", "T", "true"):
        assert parse_bool(yes) is True
    for no in (False, "錯", "错误", "×", "F", "false"):
        assert parse_bool(no) is False
    assert parse_bool("也許") is None


def test_grade_rejects_foreign_answer_sheet() -> None:
    quiz = build_quiz(CORPUS, 5, doc=4, seed=1)
    with pytest.raises(ValueError, match="none of the answers"):
        grade(quiz, {"d9-s1-c1:cloze:1": "x"})


# --- CLI -------------------------------------------------------------------------------------------


def test_cli_quiz_export_and_grade(tmp_path, capsys) -> None:
    out = tmp_path / "q.json"
    assert main(["quiz", "--n", "6", "--doc", "4", "--seed", "3", "--out", str(out), "--sheet"]) == 0
    quiz = Quiz.from_dict(json.loads(out.read_text(encoding="utf-8")))
    sheet = json.loads((tmp_path / "q.answers.json").read_text(encoding="utf-8"))
    assert list(sheet["answers"]) == [i.id for i in quiz.items]
    first, second = quiz.items[0], quiz.items[1]
    sheet["trainee"] = "張三"
    sheet["answers"][first.id] = first.answer
    sheet["answers"][second.id] = "錯的答案"
    a = tmp_path / "a.json"
    a.write_text(json.dumps(sheet, ensure_ascii=False), encoding="utf-8")
    b = tmp_path / "李四.csv"
    b.write_text("id,answer\n" + "\n".join(f"{i.id},{i.answer}" for i in quiz.items), encoding="utf-8")
    capsys.readouterr()
    assert main(["quiz", "--grade", str(out), "--answers", str(a), str(b)]) == 0
    text = capsys.readouterr().out
    assert "■ 張三:1/6" in text and "■ 李四:6/6" in text
    assert second.citation.label in text and "各題答對率" in text


def test_cli_stats(capsys) -> None:
    assert main(["quiz", "--stats"]) == 0
    out = capsys.readouterr().out
    assert "編號條文" in out and "達成" in out and "d4" in out


def test_cli_same_seed_same_markdown(tmp_path) -> None:
    a, b = tmp_path / "a.md", tmp_path / "b.md"
    assert main(["quiz", "--n", "20", "--doc", "2", "--out", str(a)]) == 0
    assert main(["quiz", "--n", "20", "--doc", "2", "--out", str(b)]) == 0
    assert a.read_text(encoding="utf-8") == b.read_text(encoding="utf-8")
