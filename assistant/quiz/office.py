"""Quizzes where training offices work: Excel workbooks and Word handouts (issue 17).

- :func:`to_xlsx` — the item bank as a workbook: sheet 「試題」 one row per item (題號, 題型, 題目,
  選項A–D (E where a 多選 item has five), 答案, 出處, 條文), a header row repeated on every printed
  page, column widths and wrapped text, landscape A4 fitted to the page width; sheet 「答案」 the key
  (題號, 答案, 分值, 出處, 條文編號).
- :func:`answer_sheet_xlsx` — a blank answer sheet: one row per trainee (姓名, then one column per
  question number), the layout :func:`load_answer_sheets` reads back.
- :func:`to_docx` — a printable Word handout: title, the 姓名/單位/日期/得分 line, a section per item
  kind with its instructions and points, then on a page of its own the answer key with the source
  of every answer. East-Asian fonts are set on every style (宋体 for text, 黑体 for headings —
  what Word and WPS have on a Chinese system), so it does not open in a Western fallback font.
- :func:`load_answer_sheets` — answer sheets as .xlsx: one sheet per trainee (columns 題號/id and
  答案, the sheet's name the trainee's) or one row per trainee (a 姓名 column, then a column per
  question number or item id). Other files go to :func:`~assistant.quiz.grading.load_answers`.
- :func:`results_xlsx` — a grading as a workbook: 成績 (a row per trainee), 明細 (a row per trainee
  and item: answer, 正確/錯誤/待人工確認, the key and its source), 各題答對率 (hardest first).

The Excel library is openpyxl, not XlsxWriter: answer sheets and Q&A sets must be *read* as well
as written, and XlsxWriter only writes. openpyxl does both with one dependency, and what the
handout needs (widths, wrap, frozen and repeated header rows, print setup) it has too.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from assistant.corpus.records import Corpus
from assistant.quiz.export import (
    _INSTRUCTIONS,
    _SECTION_NUMERALS,
    _points,
    _section_points,
    shortfall_notes,
)
from assistant.quiz.facts import KIND_NAMES, KINDS, LETTERS, PAREN
from assistant.quiz.grading import GradeReport, item_analysis, load_answers
from assistant.quiz.items import QuizItem, difficulty
from assistant.quiz.sampling import Quiz, _num
from assistant.text import normalize

BODY_FONT = "宋体"  # SimSun: on every Chinese Windows (Word) and in WPS
HEADING_FONT = "黑体"  # SimHei
LATIN_FONT = "Times New Roman"
STATUS_NAMES = {"correct": "正確", "wrong": "錯誤", "review": "待人工確認"}


# --- Excel ------------------------------------------------------------------------------------------


def _workbook():
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    return wb


def _sheet(wb, title: str, header: Sequence[str], rows: Iterable[Sequence[Any]], widths: Sequence[float],
           *, landscape: bool = True):
    """A sheet that prints: bold header repeated on every page and frozen on screen, the given
    column widths, every cell wrapped and top-aligned, A4 fitted to the page width."""
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    ws = wb.create_sheet(title)
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    thin = Side(style="thin", color="999999")
    wrap = Alignment(wrap_text=True, vertical="top")
    for cells in ws.iter_rows():
        for cell in cells:
            cell.alignment = wrap
            cell.border = Border(top=thin, bottom=thin, left=thin, right=thin)
            cell.font = Font(name=BODY_FONT, size=10.5)
    for cell in ws[1]:
        cell.font = Font(name=HEADING_FONT, bold=True, size=10.5)
        cell.fill = PatternFill("solid", fgColor="DDE4EE")
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    for i, width in enumerate(widths, 1):
        ws.column_dimensions[_col(i)].width = width
    ws.freeze_panes = "A2"
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.gridLines = False
    ws.page_margins.left = ws.page_margins.right = 0.5
    return ws


def _col(i: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(i)


def _save(wb) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _key(item: QuizItem) -> str:
    """The key as the handout prints it: 「C. 10年」, 「A、C、D(…;…)」, 「√」/「×」."""
    if item.kind == "truefalse":
        return "√(正確)" if item.answer else "×(錯誤)"
    key = item.answer_text
    if item.kind == "multi":
        key += "(" + ";".join(item.answer) + ")"  # type: ignore[arg-type]
    return key


def to_xlsx(quiz: Quiz) -> bytes:
    """The quiz as a workbook (see the module docstring): 「試題」 and 「答案」."""
    wb = _workbook()
    n_opts = max([4, *(len(it.options or ()) for it in quiz.items)])
    header = ["題號", "題型", "題目", *(f"選項{LETTERS[i]}" for i in range(n_opts)), "答案", "分值", "出處", "條文"]
    rows = []
    for no, it in enumerate(quiz.items, 1):
        opts = list(it.options or ()) + [""] * n_opts
        stem = it.stem + (PAREN if it.kind == "truefalse" else "")
        rows.append([no, KIND_NAMES[it.kind], stem, *opts[:n_opts], _key(it), _num(quiz.points(it)),
                     it.citation.label, it.citation.text])
    ws = _sheet(wb, "試題", header, rows, [6, 8, 46, *([16] * n_opts), 16, 6, 26, 60])
    ws.oddHeader.center.text = quiz.title
    ws.oddFooter.center.text = "第 &P 頁,共 &N 頁"
    key_rows = []
    for no, it in enumerate(quiz.items, 1):
        level = difficulty(it.stats) or ""
        key_rows.append([no, KIND_NAMES[it.kind], _key(it), _num(quiz.points(it)), it.citation.label,
                         it.citation.id, it.explanation, level])
    ws = _sheet(wb, "答案", ["題號", "題型", "答案", "分值", "出處(知識點)", "條文編號", "說明", "難度"], key_rows,
                [6, 8, 24, 6, 34, 12, 50, 6])
    ws.oddHeader.center.text = f"{quiz.title} 參考答案"
    total = len(key_rows) + 2
    ws.cell(total, 1, "合計")
    ws.cell(total, 4, _num(quiz.total_points))
    return _save(wb)


def answer_sheet_xlsx(quiz: Quiz, trainees: Sequence[str] = ()) -> bytes:
    """A blank answer sheet: 姓名, 單位, then one column per question number (「1」 … 「N」), a row
    per trainee (the names given, else ten empty rows). What :func:`load_answer_sheets` reads."""
    wb = _workbook()
    numbers = [str(no) for no in range(1, len(quiz.items) + 1)]
    rows = [[name, "", *([""] * len(numbers))] for name in (trainees or [""] * 10)]
    ws = _sheet(wb, "答題卡", ["姓名", "單位", *numbers], rows, [12, 14, *([8] * len(numbers))])
    ws.oddHeader.center.text = f"{quiz.title} 答題卡"
    return _save(wb)


_NAME_COLUMNS = {normalize(x) for x in ("姓名", "學員", "學員姓名", "trainee", "name")}
_NUMBER_COLUMNS = {normalize(x) for x in ("題號", "id", "no", "序號")}
_ANSWER_COLUMNS = {normalize(x) for x in ("答案", "作答", "answer")}
_IGNORED_COLUMNS = {normalize(x) for x in ("單位", "部門", "日期", "得分", "unit", "date", "score")}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def load_answer_sheets(path: str | Path) -> list[tuple[str, dict[str, Any]]]:
    """(trainee, answers) for every trainee in an answer-sheet file. A .xlsx holds one sheet per
    trainee (a 題號/id column and an 答案 column; the trainee is a 姓名 cell's value, else the
    sheet's name) or one row per trainee (a 姓名 column, then a column per question number or item
    id; 單位/日期/得分 columns are ignored) — each sheet is read the way its header row says.
    Any other file is one trainee's sheet (:func:`~assistant.quiz.grading.load_answers`)."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        return [load_answers(path)]
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # a broken workbook may raise anything
        raise ValueError(f"{path}: 無法讀取這個 Excel 檔案({exc})") from exc
    out: list[tuple[str, dict[str, Any]]] = []
    try:
        for ws in wb.worksheets:
            rows = [[_cell(c) for c in row] for row in ws.iter_rows(values_only=True)]
            rows = [r for r in rows if any(r)]
            if not rows:
                continue
            out += _sheet_answers(path, ws.title, rows)
    finally:
        wb.close()
    if not out:
        raise ValueError(f"{path}: 沒有找到任何答卷(需要「題號、答案」兩欄,或「姓名」欄加每題一欄)")
    return out


def _sheet_answers(path: Path, title: str, rows: list[list[str]]) -> list[tuple[str, dict[str, Any]]]:
    head = [normalize(h) for h in rows[0]]
    number = next((i for i, h in enumerate(head) if h in _NUMBER_COLUMNS), None)
    answer = next((i for i, h in enumerate(head) if h in _ANSWER_COLUMNS), None)
    name = next((i for i, h in enumerate(head) if h in _NAME_COLUMNS), None)
    if number is not None and answer is not None:  # one sheet per trainee
        trainee = next((r[name] for r in rows[1:] if name is not None and name < len(r) and r[name]), "") or title
        answers = {r[number]: (r[answer] if answer < len(r) else "") for r in rows[1:]
                   if number < len(r) and r[number]}
        return [(trainee, answers)]
    if name is not None:  # one row per trainee
        columns = [(i, rows[0][i]) for i, h in enumerate(head) if i != name and h and h not in _IGNORED_COLUMNS]
        if not columns:
            raise ValueError(f"{path} 工作表「{title}」:「姓名」之外沒有題號欄")
        out = []
        for n, r in enumerate(rows[1:], 2):
            cells = r + [""] * (len(rows[0]) - len(r))
            if not cells[name] and not any(cells[i] for i, _ in columns):
                continue
            if not cells[name]:
                raise ValueError(f"{path} 工作表「{title}」第 {n} 行:有作答但沒有姓名")
            out.append((cells[name], {key: cells[i] for i, key in columns}))
        return out
    raise ValueError(f"{path} 工作表「{title}」:表頭需要「題號」和「答案」兩欄,或「姓名」欄加每題一欄")


def results_xlsx(quiz: Quiz, reports: Sequence[GradeReport]) -> bytes:
    """A grading as a workbook: 成績, 明細 and 各題答對率 (see the module docstring)."""
    wb = _workbook()
    number = {it.id: no for no, it in enumerate(quiz.items, 1)}
    scores = []
    for rep in reports:
        pct = round(100 * rep.score / rep.total, 1) if rep.total else 0.0
        scores.append([rep.trainee, rep.score, rep.total, pct, rep.points, rep.max_points, len(rep.wrong),
                       len(rep.review)])
    ws = _sheet(wb, "成績", ["姓名", "答對題數", "題數", "答對率(%)", "得分", "滿分", "答錯", "待人工確認"], scores,
                [14, 10, 8, 10, 8, 8, 8, 12], landscape=False)
    ws.oddHeader.center.text = f"{quiz.title} 成績"
    detail = []
    for rep in reports:
        for r in rep.results:
            given = "" if r.given is None else str(r.given)
            detail.append([rep.trainee, number[r.item.id], KIND_NAMES[r.item.kind], given or "(未作答)",
                           STATUS_NAMES[r.status], r.reason, _num(r.points if r.correct else 0),
                           r.item.answer_text, r.item.citation.label])
    _sheet(wb, "明細", ["姓名", "題號", "題型", "作答", "結果", "原因", "得分", "正確答案", "出處"], detail,
           [12, 6, 8, 20, 10, 24, 6, 24, 34])
    rates = []
    for no, it, share in item_analysis(quiz, reports):
        level = "易" if share >= 0.8 else "難" if share < 0.5 else "中"
        rates.append([no, KIND_NAMES[it.kind], round(100 * share, 1), level, it.knowledge_point, it.stem])
    _sheet(wb, "各題答對率", ["題號", "題型", "答對率(%)", "難度", "知識點", "題目"], rates, [6, 8, 10, 6, 34, 60])
    return _save(wb)


# --- Word ---------------------------------------------------------------------------------------------


def _set_fonts(style_or_run, east_asia: str, latin: str = LATIN_FONT) -> None:
    """Latin and East-Asian fonts of a style or run (python-docx sets only the Latin one)."""
    from docx.oxml.ns import qn

    font = style_or_run.font
    font.name = latin
    rpr = style_or_run.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attr), latin)
    fonts.set(qn("w:eastAsia"), east_asia)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = rpr.makeelement(qn("w:lang"), {})
        rpr.append(lang)
    lang.set(qn("w:eastAsia"), "zh-CN")


def _document():
    from docx import Document
    from docx.shared import Cm, Pt, RGBColor

    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)  # A4
    section.left_margin = section.right_margin = Cm(2.4)
    section.top_margin = section.bottom_margin = Cm(2.2)
    normal = doc.styles["Normal"]
    _set_fonts(normal, BODY_FONT)
    normal.font.size = Pt(11)
    normal.paragraph_format.space_after = Pt(3)
    normal.paragraph_format.line_spacing = 1.3
    for name, size in (("Title", 18), ("Heading 1", 14), ("Heading 2", 12)):
        style = doc.styles[name]
        _set_fonts(style, HEADING_FONT)
        style.font.size = Pt(size)
        style.font.bold = True
        style.font.color.rgb = RGBColor(0, 0, 0)
    return doc


def to_docx(quiz: Quiz, corpus: Corpus | None = None) -> bytes:
    """A printable Word handout (see the module docstring), the same content as the Markdown one."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
    from docx.shared import Cm, Pt

    doc = _document()
    items = quiz.items
    many_docs = len({it.citation.id.split("-")[0] for it in items}) > 1
    doc_titles = {d.id: d.title for d in (corpus.documents if corpus else ())}
    counts = Counter(it.kind for it in items)
    kinds = [k for k in KINDS if counts[k]]
    title = doc.add_paragraph(quiz.title, style="Title")
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    summary = "、".join(f"{KIND_NAMES[k]} {counts[k]} 題" for k in kinds)
    minutes = max(10, 5 * round(1.5 * len(items) / 5))
    intro = doc.add_paragraph()
    intro.add_run(f"{_points(quiz)}({summary})。").bold = True
    intro.add_run(f"請獨立作答,答題時間 {minutes} 分鐘。")
    for note in shortfall_notes(quiz):
        doc.add_paragraph("說明:" + note).runs[0].italic = True
    line = doc.add_paragraph("姓名:＿＿＿＿＿＿＿　　單位:＿＿＿＿＿＿＿　　日期:＿＿＿＿＿＿　　得分:＿＿＿＿")
    line.paragraph_format.space_before = Pt(6)
    line.paragraph_format.space_after = Pt(10)
    numbers: dict[str, int] = {}
    no = 0
    for part, kind in enumerate(kinds):
        doc.add_paragraph(f"{_SECTION_NUMERALS[part]}、{KIND_NAMES[kind]}{_section_points(quiz, kind)}",
                          style="Heading 1")
        doc.add_paragraph(_INSTRUCTIONS[kind]).runs[0].italic = True
        for it in (i for i in items if i.kind == kind):
            no += 1
            numbers[it.id] = no
            source = ""
            if many_docs:
                source = "〔" + (doc_titles.get(it.citation.id.split("-")[0])
                                 or it.citation.label.split("》")[0].lstrip("《")) + "〕"
            p = doc.add_paragraph(f"{no}. {source}{it.stem}{PAREN if kind == 'truefalse' else ''}")
            p.paragraph_format.left_indent = Cm(0.7)
            p.paragraph_format.first_line_indent = Cm(-0.7)
            p.paragraph_format.keep_with_next = bool(it.options)
            if it.options:
                labelled = [f"{LETTERS[i]}. {o}" for i, o in enumerate(it.options)]
                short = max(len(o) for o in it.options) <= 10
                for j, text in enumerate(["　　".join(labelled)] if short else labelled):
                    op = doc.add_paragraph(text)
                    op.paragraph_format.left_indent = Cm(1.2)
                    op.paragraph_format.keep_with_next = not short and j < len(labelled) - 1
    brk = doc.add_paragraph().add_run()
    brk.add_break(WD_BREAK.PAGE)
    key_title = doc.add_paragraph("參考答案與出處", style="Title")
    key_title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    sub = doc.add_paragraph(quiz.title)
    sub.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for part, kind in enumerate(kinds):
        doc.add_paragraph(f"{_SECTION_NUMERALS[part]}、{KIND_NAMES[kind]}", style="Heading 2")
        for it in (i for i in items if i.kind == kind):
            p = doc.add_paragraph()
            p.paragraph_format.left_indent = Cm(0.7)
            p.paragraph_format.first_line_indent = Cm(-0.7)
            p.add_run(f"{numbers[it.id]}. ")
            p.add_run(_key(it) if kind != "truefalse" else ("√" if it.answer else "×")).bold = True
            src = doc.add_paragraph(f"知識點(出處):{it.knowledge_point}(條文編號 {it.citation.id})")
            src.paragraph_format.left_indent = Cm(0.7)
            level = difficulty(it.stats)
            if level:
                rate = it.stats["correct"] / it.stats["answered"]  # type: ignore[index]
                doc.add_paragraph(f"難度:{level}(以往答對率 {rate:.0%},{it.stats['answered']} 人次)"  # type: ignore[index]
                                  ).paragraph_format.left_indent = Cm(0.7)
            exp = doc.add_paragraph(it.explanation)
            exp.paragraph_format.left_indent = Cm(0.7)
            exp.paragraph_format.space_after = Pt(6)
    footer = doc.sections[0].footer.paragraphs[0]
    footer.text = quiz.title
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def docx_text(data: bytes) -> list[str]:
    """The paragraphs of a .docx as text (what a reader of the handout sees), for checks."""
    from docx import Document

    return [p.text for p in Document(io.BytesIO(data)).paragraphs]


def render_binary(quiz: Quiz, fmt: str, corpus: Corpus | None = None) -> bytes:
    """A quiz as ``xlsx`` or ``docx`` bytes."""
    if fmt == "xlsx":
        return to_xlsx(quiz)
    if fmt == "docx":
        return to_docx(quiz, corpus)
    raise ValueError(f"unknown binary format {fmt!r} (xlsx or docx)")


BINARY_FORMATS = ("xlsx", "docx")
