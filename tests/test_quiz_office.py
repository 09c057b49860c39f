"""Quizzes as Excel workbooks and Word handouts, answer sheets as .xlsx, results as .xlsx (issue 17, part 2).

Every file is opened with the standard readers (openpyxl, python-docx) and checked against the
quiz's own JSON: the same items, keys, sources and clause texts. No model and no index.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from assistant.apps.cli import main
from assistant.quiz.facts import KIND_NAMES

BLUEPRINT = ["--kinds", "填空=3,單選=3,多選=2,判斷=3", "--points", "填空=2,單選=2,多選=4,判斷=1", "--seed", "11"]


def _quiz(tmp_path: Path, fmt: str, *extra: str) -> tuple[Path, dict]:
    """The same quiz as JSON (the reference) and in *fmt*."""
    ref = tmp_path / "quiz.json"
    assert main(["quiz", *BLUEPRINT, "--out", str(ref)]) == 0
    out = tmp_path / f"quiz.{fmt}"
    assert main(["quiz", *BLUEPRINT, "--out", str(out), *extra]) == 0
    return out, json.loads(ref.read_text(encoding="utf-8"))


def _answer_text(item: dict) -> str:
    """The key as a trainee would write it on a sheet."""
    letters = "ABCDE"
    if item["kind"] == "truefalse":
        return "對" if item["answer"] else "錯"
    if item["kind"] == "choice":
        return letters[item["options"].index(item["answer"])]
    if item["kind"] == "multi":
        return "、".join(letters[item["options"].index(a)] for a in item["answer"])
    return item["answer"]


def test_xlsx_quiz_has_a_row_per_item_a_key_sheet_and_prints(tmp_path: Path) -> None:
    path, quiz = _quiz(tmp_path, "xlsx", "--sheet")
    wb = load_workbook(path)
    assert wb.sheetnames == ["試題", "答案"]
    ws = wb["試題"]
    rows = list(ws.iter_rows(values_only=True))
    head = list(rows[0])
    assert head[:3] == ["題號", "題型", "題目"] and head[3:8] == [f"選項{x}" for x in "ABCDE"]
    assert head[-4:] == ["答案", "分值", "出處", "條文"]
    items = quiz["items"]
    assert len(rows) == 1 + len(items) == 12
    col = {h: i for i, h in enumerate(head)}
    for no, (row, it) in enumerate(zip(rows[1:], items), 1):
        assert row[col["題號"]] == no and row[col["題型"]] == KIND_NAMES[it["kind"]]
        assert row[col["題目"]].startswith(it["stem"])
        assert [row[col[f"選項{x}"]] for x in "ABCDE"][:len(it.get("options") or [])] == (it.get("options") or [])
        assert row[col["出處"]] == it["citation"]["label"] and row[col["條文"]] == it["citation"]["text"]
        assert row[col["分值"]] == {"cloze": 2, "choice": 2, "multi": 4, "truefalse": 1}[it["kind"]]
        if it["kind"] == "cloze":
            assert row[col["答案"]] == it["answer"]
        if it["kind"] == "truefalse":
            assert row[col["答案"]].startswith("√" if it["answer"] else "×")
    # it prints: header repeated on every page, wrapped cells, set widths, fitted to the page width
    assert ws.print_title_rows == "$1:$1" and ws.freeze_panes == "A2"
    assert ws.page_setup.orientation == "landscape" and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.column_dimensions["C"].width >= 40 and ws.column_dimensions[ws.cell(1, col["條文"] + 1).column_letter].width >= 40
    assert all(c.alignment.wrap_text for c in ws[2])
    key = list(wb["答案"].iter_rows(values_only=True))
    assert key[0][:4] == ("題號", "題型", "答案", "分值")
    assert [r[5] for r in key[1:1 + len(items)]] == [it["citation"]["id"] for it in items]
    assert key[-1][0] == "合計" and key[-1][3] == 2 * 3 + 2 * 3 + 4 * 2 + 1 * 3
    # --sheet with xlsx: a blank answer sheet a trainer can fill in, a row per trainee
    sheet = load_workbook(tmp_path / "quiz.answers.xlsx")["答題卡"]
    assert [c.value for c in sheet[1]] == ["姓名", "單位", *[str(n) for n in range(1, 12)]]
    assert (tmp_path / "quiz.answers.json").is_file()


def test_docx_handout_has_the_parts_a_printed_quiz_needs(tmp_path: Path) -> None:
    from docx import Document
    from docx.oxml.ns import qn

    path, quiz = _quiz(tmp_path, "docx")
    doc = Document(str(path))
    paras = [p.text for p in doc.paragraphs]
    assert paras[0] == quiz["title"] and doc.paragraphs[0].style.name == "Title"
    assert any(all(w in p for w in ("姓名", "單位", "日期", "得分")) for p in paras[:6])
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert [h.split("(")[0] for h in headings] == ["一、填空題", "二、單選題", "三、多選題", "四、判斷題"]
    for it in quiz["items"]:
        assert any(it["stem"] in p for p in paras), it["stem"]
        for o in it.get("options") or []:
            assert any(o in p for p in paras)
    # the key is on a page of its own, after every question, with the source of every answer
    key_at = paras.index("參考答案與出處")
    breaks = [i for i, p in enumerate(doc.paragraphs) if p._p.xpath(".//w:br[@w:type='page']")]
    assert breaks and max(breaks) == key_at - 1
    assert all(any(it["citation"]["label"] in p for p in paras[key_at:]) for it in quiz["items"])
    assert all(it["stem"] not in "".join(paras[key_at:]) for it in quiz["items"] if it["kind"] == "cloze")
    # CJK fonts named for Word and WPS, on the body and the headings
    for name, font in (("Normal", "宋体"), ("Title", "黑体"), ("Heading 1", "黑体")):
        fonts = doc.styles[name].element.rPr.find(qn("w:rFonts"))
        assert fonts.get(qn("w:eastAsia")) == font, name
    assert doc.sections[0].page_width.cm == pytest.approx(21, abs=0.01)  # A4


def test_grade_reads_xlsx_sheets_a_row_or_a_sheet_per_trainee_and_writes_xlsx(tmp_path: Path, capsys) -> None:
    _, quiz = _quiz(tmp_path, "json")
    items = quiz["items"]
    right = [_answer_text(it) for it in items]
    half = [a if i % 2 == 0 else "" for i, a in enumerate(right)]  # every second one left blank
    # one row per trainee (the 答題卡 --sheet writes, filled in)
    assert main(["quiz", *BLUEPRINT, "--out", str(tmp_path / "q.xlsx"), "--sheet"]) == 0
    wb = load_workbook(tmp_path / "q.answers.xlsx")
    ws = wb["答題卡"]
    for r, (name, answers) in enumerate((("張三", right), ("李四", half)), 2):
        ws.cell(r, 1, name)
        ws.cell(r, 2, "組織部")
        for c, a in enumerate(answers, 3):
            ws.cell(r, c, a)
    wb.save(tmp_path / "rows.xlsx")
    # one sheet per trainee, keyed by item id
    per_sheet = Workbook()
    per_sheet.remove(per_sheet.active)
    ws = per_sheet.create_sheet("王五")
    ws.append(["題號", "答案"])
    for it, a in zip(items, right):
        ws.append([it["id"], a])
    per_sheet.save(tmp_path / "sheets.xlsx")
    out = tmp_path / "results.xlsx"
    assert main(["quiz", "--grade", str(tmp_path / "quiz.json"), "--answers", str(tmp_path / "rows.xlsx"),
                 str(tmp_path / "sheets.xlsx"), "--out", str(out), "--no-record"]) == 0
    res = load_workbook(out)
    assert res.sheetnames == ["成績", "明細", "各題答對率"]
    scores = {r[0]: r for r in res["成績"].iter_rows(min_row=2, values_only=True)}
    max_points = 2 * 3 + 2 * 3 + 4 * 2 + 1 * 3
    assert scores["張三"][1:6] == (11, 11, 100.0, max_points, max_points)
    assert scores["王五"][1] == 11
    expected_half = sum(1 for i in range(11) if i % 2 == 0)
    assert scores["李四"][1] == expected_half and scores["李四"][6] == 11 - expected_half
    detail = [r for r in res["明細"].iter_rows(min_row=2, values_only=True) if r[0] == "李四"]
    assert len(detail) == 11 and detail[1][3] == "(未作答)" and detail[1][4] == "錯誤"
    assert detail[1][8] == items[1]["citation"]["label"]
    rates = list(res["各題答對率"].iter_rows(min_row=2, values_only=True))
    assert sorted(r[0] for r in rates) == list(range(1, 12)) and rates[0][2] == pytest.approx(200 / 3, abs=0.1)
    # the text report reads the same sheets
    assert main(["quiz", "--grade", str(tmp_path / "quiz.json"), "--answers", str(tmp_path / "rows.xlsx"),
                 "--no-record"]) == 0
    text = capsys.readouterr().out
    assert "■ 張三:11/11" in text and f"■ 李四:{expected_half}/11" in text


def test_a_bad_answer_workbook_is_refused_in_chinese(tmp_path: Path, capsys) -> None:
    _quiz(tmp_path, "json")
    wb = Workbook()
    wb.active.append(["學號", "回答"])
    wb.active.append(["1", "10年"])
    wb.save(tmp_path / "bad.xlsx")
    assert main(["quiz", "--grade", str(tmp_path / "quiz.json"), "--answers", str(tmp_path / "bad.xlsx")]) == 1
    assert "表頭需要「題號」和「答案」兩欄" in capsys.readouterr().err
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 no workbook")
    assert main(["quiz", "--grade", str(tmp_path / "quiz.json"), "--answers", str(tmp_path / "broken.xlsx")]) == 1
    assert "無法讀取這個 Excel 檔案" in capsys.readouterr().err
    assert main(["quiz", "--grade", str(tmp_path / "quiz.json"), "--answers", str(tmp_path / "bad.xlsx"),
                 "--format", "docx"]) == 2


def test_the_quiz_tab_download_writes_the_same_files(tmp_path: Path, corpus) -> None:
    from docx import Document

    from assistant.apps.web.quiz_tab import quiz_files
    from assistant.quiz.sampling import build_quiz

    quiz = build_quiz(corpus, 6, doc="d4", kind="mixed", seed=3)
    paths = quiz_files(quiz, corpus, root=tmp_path)
    assert [p.suffix for p in paths] == [".docx", ".xlsx", ".xlsx"] and all(p.parent.parent == tmp_path for p in paths)
    assert Document(str(paths[0])).paragraphs[0].text == quiz.title
    assert load_workbook(paths[1])["試題"].max_row == 1 + len(quiz.items)
    assert load_workbook(paths[2]).sheetnames == ["答題卡"]
    again = quiz_files(quiz, corpus, root=tmp_path)
    assert again[0].parent != paths[0].parent  # concurrent users never overwrite each other's files
