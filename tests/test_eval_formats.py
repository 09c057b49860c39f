"""Q&A sets kept as spreadsheets (.csv/.xlsx), `--compare OLD.json` and `--junit FILE` (issue 17, part 3).

The equivalence test runs the real pipeline on the whole of evals/dev.jsonl and on the same set
converted to .xlsx in a temporary directory: the numbers must be the same (latency aside).
"""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from assistant.answering.records import Answer, Citation
from assistant.apps.cli import main
from assistant.evaluation import (
    Item,
    compare_runs,
    judge,
    junit_xml,
    load_items,
    report_of,
    table_records,
    validate_records,
    write_table,
)

REPO = Path(__file__).resolve().parent.parent
DEV = REPO / "evals" / "dev.jsonl"
ROTATION_GOLD = "任滿10年的必須交流"


def _write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8-sig") -> Path:
    with open(path, "w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def test_a_spreadsheet_set_reads_as_the_same_items_as_its_jsonl(tmp_path: Path) -> None:
    items = load_items(DEV)
    for suffix in (".xlsx", ".csv"):
        path = write_table(items, tmp_path / f"dev{suffix}")
        assert load_items(path) == items, suffix


def test_chinese_headers_gbk_csv_and_defaults(tmp_path: Path) -> None:
    # what a training office saves from Excel on Chinese Windows: GB18030, Chinese headers, no id or type
    path = _write_csv(tmp_path / "set.csv", [
        ["问题", "答案", "依据", "可回答"],
        ["乡镇纪委书记任满几年必须交流?", "10年|十年", ROTATION_GOLD, "是"],
        ["乡镇纪委书记的月工资是多少?", "", "", "否"],
    ], encoding="gb18030")
    items, problems = validate_records(path)
    assert problems == []
    assert [(i.id, i.answers, i.gold, i.answerable, i.type) for i in items] == [
        ("row2", ("10年", "十年"), (ROTATION_GOLD,), True, "fact"),
        ("row3", (), (), False, "unanswerable"),
    ]


def test_a_bad_row_is_named_by_its_row_number(tmp_path: Path, capsys) -> None:
    path = _write_csv(tmp_path / "bad.csv", [
        ["id", "question", "answers", "gold", "answerable", "type"],
        ["a", "乡镇纪委书记任满几年必须交流?", "10年", ROTATION_GOLD, "true", "number"],
        ["b", "问题二", "10年", ROTATION_GOLD, "也许", "number"],       # row 3: not a boolean
        ["a", "问题三", "10年", ROTATION_GOLD, "true", "number"],       # row 4: duplicate id
        ["c", "问题四", "", "", "false", "number"],                     # row 5: answerable ⇔ type
        ["d", "问题五", "10年", "指引裡沒有這句話", "true", "number"],    # row 6: gold not in the corpus
    ])
    assert main(["eval", "--validate", str(path)]) == 2
    err = capsys.readouterr().err
    for row, words in ((3, "answerable"), (4, "duplicate id 'a' (first at row 2)"), (5, "unanswerable"),
                       (6, "does not occur in the corpus")):
        assert any(f"bad.csv: row {row}: " in line and words in line for line in err.splitlines()), (row, err)
    assert "row 2:" not in err
    # the header is checked first: an unknown column and a missing one are named, nothing else is read
    _write_csv(path, [["question", "answer", "gold"], ["q", "a", "g"]])
    _, problems = table_records(path)
    assert {p.check for p in problems} == {"unknown_column", "missing_column"} and {p.line for p in problems} == {1}
    assert "answers, answerable" in str(next(p for p in problems if p.check == "missing_column"))


def test_a_broken_xlsx_is_one_problem_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    items, problems = validate_records(path)
    assert items == [] and [p.check for p in problems] == ["file"]


def _answer(text: str, cited: str | None, refused: bool = False) -> Answer:
    cites = [Citation("c1", "c1", "t", "s", "第1條", cited, cited, 1.0)] if cited else []
    return Answer("q", text, refused, cites, [], confidence=0.9, timing_ms={"total": 2.0})


def _report(outcomes):
    rep = report_of(outcomes)
    rep.run = {"date": "2026-01-01T00:00:00Z", "commit": "abc"}
    return rep


def test_compare_names_the_questions_that_got_better_or_worse() -> None:
    a = Item("a", "幾年?", ("10年",), (ROTATION_GOLD,), True, "number")
    b = Item("b", "獎金?", (), (), False, "unanswerable")
    c = Item("c", "新題?", ("10年",), (ROTATION_GOLD,), True, "number")
    old = _report([judge(a, _answer("3年", "別的條文")), judge(b, _answer("指引中沒有", None, refused=True))]).to_json()
    new = _report([judge(a, _answer("10年", ROTATION_GOLD)), judge(b, _answer("5萬元", ROTATION_GOLD)),
                   judge(c, _answer("10年", ROTATION_GOLD))]).to_json()
    data = compare_runs(old, new)
    assert [x["id"] for x in data["better"]] == ["a"] and [x["id"] for x in data["worse"]] == ["b"]
    assert data["better"][0]["got_before"] == "3年" and data["better"][0]["got_after"] == "10年"
    assert data["only_new"] == ["c"] and data["only_old"] == [] and data["answers_changed"] == 2
    assert data["delta"]["answer_accuracy"] == 1.0 and data["delta"]["refusal_recall"] == -1.0
    assert data["delta"]["refusal_precision"] is None  # no refusals now: the rate is n/a
    # an old report without per-question results still gives the metric changes
    legacy = {"metrics": old["metrics"]}
    assert compare_runs(legacy, new)["per_question"] is False
    with pytest.raises(TypeError, match="metrics"):
        compare_runs({"without": {}}, new)


def test_junit_has_a_failing_case_per_wrong_question_and_per_missed_bound() -> None:
    a = Item("a", "幾年?", ("10年",), (ROTATION_GOLD,), True, "number")
    b = Item("b", "獎金?", (), (), False, "unanswerable")
    rep = _report([judge(a, _answer("10年", ROTATION_GOLD)), judge(b, _answer("5萬元", ROTATION_GOLD))])
    root = ET.fromstring(junit_xml([("dev", rep, {"answer_accuracy": 0.9, "refusal_recall": 0.9})]))
    suite = root.find("testsuite")
    assert suite.get("name") == "dev" and suite.get("tests") == "4" and suite.get("failures") == "2"
    failed = {c.get("name"): c.find("failure").get("type") for c in suite.iter("testcase") if c.find("failure") is not None}
    assert failed == {"b: 獎金?": "not_refused", "refusal_recall": "threshold"}
    assert root.get("failures") == "2"


@pytest.fixture()
def real_index(assistant_instance, index_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("ASSISTANT_INDEX", str(index_path))
    monkeypatch.delenv("ASSISTANT_CHROMA_URL", raising=False)
    monkeypatch.delenv("ASSISTANT_CORPUS", raising=False)
    return index_path


def _without_latency(report: dict) -> tuple[dict, list[dict]]:
    metrics = {k: v for k, v in report["metrics"].items() if not k.startswith("latency")}
    results = [{k: v for k, v in r.items() if k != "latency_ms"} for r in report["results"]]
    return metrics, results


def test_eval_of_dev_as_xlsx_gives_the_same_numbers_as_the_jsonl(real_index, tmp_path: Path, capsys) -> None:
    xlsx = write_table(load_items(DEV), tmp_path / "dev.xlsx")  # the set as a training office keeps it
    reports = tmp_path / "reports"
    assert main(["eval", str(DEV), "--json", "--report", str(reports)]) in (0, 1)
    from_jsonl = json.loads(capsys.readouterr().out)
    old = tmp_path / "old.json"
    (reports / "dev.json").rename(old)
    junit = tmp_path / "junit" / "dev.xml"
    assert main(["eval", str(xlsx), "--json", "--report", str(reports), "--compare", str(old),
                 "--junit", str(junit), "--check", str(REPO / "evals" / "thresholds.json")]) in (0, 1)
    from_xlsx = json.loads(capsys.readouterr().out)
    assert from_xlsx["metrics"]["questions"] == 132
    assert _without_latency(from_xlsx) == _without_latency(from_jsonl)
    assert from_xlsx["intervals"] == from_jsonl["intervals"] and from_xlsx["by_type"] == from_jsonl["by_type"]
    cmp = from_xlsx["compare"]
    assert cmp["better"] == cmp["worse"] == [] and cmp["answers_changed"] == 0 and cmp["per_question"]
    assert all(v == 0 or (v is None and from_xlsx["metrics"][k] is None)
               for k, v in cmp["delta"].items() if not k.startswith("latency")), cmp["delta"]
    suite = ET.parse(junit).getroot().find("testsuite")
    thresholds = json.loads((REPO / "evals" / "thresholds.json").read_text(encoding="utf-8"))
    assert int(suite.get("tests")) == 132 + len(thresholds)
    failed_ids = {c.get("name").split(":")[0] for c in suite.iter("testcase")
                  if c.find("failure") is not None and not c.get("classname").endswith(".thresholds")}
    assert failed_ids == {f["id"] for f in from_xlsx["failures"]}
    # the terminal form of --compare
    assert main(["eval", str(xlsx), "--report", str(reports), "--compare", str(old)]) == 0
    out = capsys.readouterr().out
    assert f"compared with {old}" in out and "better (wrong → right): 0" in out and "worse (right → wrong): 0" in out
    assert main(["eval", str(xlsx), "--compare", str(tmp_path / "missing.json")]) == 2
