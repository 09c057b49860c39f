"""A quiz as JSON, CSV or a printable Markdown handout."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Sequence

from assistant.corpus.records import Corpus
from assistant.quiz.facts import KIND_NAMES, KINDS, LETTERS, PAREN
from assistant.quiz.items import difficulty
from assistant.quiz.sampling import _MD_SPECIAL, Format, Quiz, _num


def _md(text: str) -> str:
    """Escape Markdown in corpus text (「4+2+4」 and 「(一)」 are safe; *, _, <, | are not)."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def to_json(quiz: Quiz) -> str:
    return json.dumps(quiz.to_dict(), ensure_ascii=False, indent=2) + "\n"


CSV_FIELDS = ("no", "id", "kind", "stem", "option_a", "option_b", "option_c", "option_d",
              "answer", "answer_text", "citation_id", "citation_label", "citation_text", "explanation",
              "option_e", "points", "knowledge_point", "difficulty", "correct_rate", "key")


def to_csv(quiz: Quiz) -> str:
    """One row per item, for spreadsheets. Opened by Excel with the BOM that :func:`write_quiz`
    adds, so Chinese is not shown as mojibake."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, CSV_FIELDS, lineterminator="\n")
    w.writeheader()
    for no, it in enumerate(quiz.items, 1):
        opts = list(it.options or ()) + [""] * 5
        if isinstance(it.answer, bool):
            answer = json.dumps(it.answer)
        elif isinstance(it.answer, tuple):
            answer = json.dumps(list(it.answer), ensure_ascii=False)
        else:
            answer = it.answer
        stats = it.stats or {}
        w.writerow({
            "no": no, "id": it.id, "kind": KIND_NAMES[it.kind], "stem": it.stem,
            "option_a": opts[0], "option_b": opts[1], "option_c": opts[2], "option_d": opts[3],
            "answer": answer, "answer_text": it.answer_text, "citation_id": it.citation.id,
            "citation_label": it.citation.label, "citation_text": it.citation.text,
            "explanation": it.explanation, "option_e": opts[4], "points": quiz.points(it),
            "knowledge_point": it.knowledge_point, "difficulty": difficulty(stats) or "",
            "correct_rate": f"{stats['correct'] / stats['answered']:.2f}" if stats.get("answered") else "",
            "key": it.key,
        })
    return buf.getvalue()


_SECTION_NUMERALS = "一二三四五六"
_INSTRUCTIONS = {
    "cloze": "在橫線上填寫原文中的關鍵內容(數字可寫阿拉伯數字或漢字,繁簡體均可)。",
    "choice": "每題只有一個正確選項,將其字母填入括號內。",
    "multi": "括號處原文列舉了若干項:選出屬於其中的各項(每題有 2–4 個正確選項),將字母全部填入括號內;多選、少選或錯選均不得分。",
    "truefalse": "正確的在括號內打「√」,錯誤的打「×」。",
}


def _fmt(x: float) -> str:
    return str(_num(x))


def _points(quiz: Quiz) -> str:
    """「共 20 題,每題 5 分,滿分 100 分」 — or per kind when the kinds are worth differently."""
    n = len(quiz.items)
    per = {quiz.points(it) for it in quiz.items}
    if len(per) == 1:
        return f"共 {n} 題,每題 {_fmt(per.pop())} 分,滿分 {_fmt(quiz.total_points)} 分"
    return f"共 {n} 題,滿分 {_fmt(quiz.total_points)} 分"


def _section_points(quiz: Quiz, kind: str) -> str:
    items = [it for it in quiz.items if it.kind == kind]
    per = {quiz.points(it) for it in items}
    total = _fmt(sum(quiz.points(it) for it in items))
    each = f"每題 {_fmt(per.pop())} 分," if len(per) == 1 else ""
    return f"(共 {len(items)} 題,{each}共 {total} 分)"


def shortfall_notes(quiz: Quiz) -> list[str]:
    """What the handout says when a document or a kind could not fill its share."""
    out = []
    for s in quiz.shortfalls:
        if "doc" in s:
            out.append(f"《{s['title']}》可出的題目不足:只出了 {s['got']} 題(配額 {s['quota']} 題),"
                       "其餘由其他文件補足。" if s["got"] < s["quota"] else "")
        elif "kind" in s:
            out.append(f"{KIND_NAMES[s['kind']]}可出的題目不足:只出了 {s['got']} 題(要求 {s['quota']} 題)。")
        elif "total" in s:
            out.append(f"所選範圍可出的題目不足:本卷共 {s['got']} 題(要求 {s['total']} 題),總分按實際題數計算。")
    return [o for o in out if o]


def _md_options(options: Sequence[str]) -> list[str]:
    """Short options on one line (A. 10年　B. 8年 …), long ones one per line."""
    labelled = [f"{LETTERS[i]}. {_md(o)}" for i, o in enumerate(options)]
    if max(len(o) for o in options) <= 10:
        return ["    " + "　　".join(labelled)]
    return ["    " + item + ("  " if i < len(labelled) - 1 else "") for i, item in enumerate(labelled)]


def to_markdown(quiz: Quiz, corpus: Corpus | None = None) -> str:
    """A printable training handout: title, instructions, the questions by kind, then — on a
    page of its own — the answer key with the source of every answer."""
    items = quiz.items
    docs = {it.citation.id.split("-")[0] for it in items}
    many_docs = len(docs) > 1
    doc_titles = {d.id: d.title for d in (corpus.documents if corpus else ())}
    counts = Counter(it.kind for it in items)
    lines = [f"# {_md(quiz.title)}", ""]
    summary = "、".join(f"{KIND_NAMES[k]} {counts[k]} 題" for k in KINDS if counts[k])
    minutes = max(10, 5 * round(1.5 * len(items) / 5))  # about 1.5 minutes a question
    lines += [f"**{_points(quiz)}({summary})。** 請獨立作答,答題時間 {minutes} 分鐘。", ""]
    notes = shortfall_notes(quiz)
    if notes:
        lines += ["> 說明:" + " ".join(_md(n) for n in notes), ""]
    lines += ["姓名:＿＿＿＿＿＿　　單位:＿＿＿＿＿＿　　日期:＿＿＿＿＿＿　　得分:＿＿＿＿", ""]
    no = 0
    numbers: dict[str, int] = {}
    for part, kind in enumerate(k for k in KINDS if counts[k]):
        lines += [f"## {_SECTION_NUMERALS[part]}、{KIND_NAMES[kind]}{_section_points(quiz, kind)}", "",
                  f"*{_INSTRUCTIONS[kind]}*", ""]
        for it in (i for i in items if i.kind == kind):
            no += 1
            numbers[it.id] = no
            source = ""
            if many_docs:
                title = doc_titles.get(it.citation.id.split("-")[0]) or it.citation.label.split("》")[0].lstrip("《")
                source = f"〔{_md(title)}〕"
            tail = PAREN if kind == "truefalse" else ""
            lines.append(f"{no}. {source}{_md(it.stem)}{tail}")
            if it.options:
                lines += [""] + _md_options(it.options)
            lines.append("")
    lines += ['<div style="page-break-before: always"></div>', "", "---", "",
              "# 參考答案與出處", "", f"*{_md(quiz.title)}*", ""]
    for part, kind in enumerate(k for k in KINDS if counts[k]):
        lines += [f"## {_SECTION_NUMERALS[part]}、{KIND_NAMES[kind]}", ""]
        for it in (i for i in items if i.kind == kind):
            key = {True: "√", False: "×"}[it.answer] if kind == "truefalse" else it.answer_text
            if kind == "multi":
                key += "(" + ";".join(it.answer) + ")"  # type: ignore[arg-type]
            lines.append(f"{numbers[it.id]}. **{_md(str(key))}**  ")
            lines.append(f"    知識點(出處):{_md(it.knowledge_point)}(條文編號 {it.citation.id})  ")
            level = difficulty(it.stats)
            if level:
                rate = it.stats["correct"] / it.stats["answered"]  # type: ignore[index]
                lines.append(f"    難度:{level}(以往答對率 {rate:.0%},{it.stats['answered']} 人次)  ")  # type: ignore[index]
            lines.append(f"    {_md(it.explanation)}")
            lines.append("")
    return "\n".join(lines)


def render(quiz: Quiz, fmt: Format, corpus: Corpus | None = None) -> str:
    if fmt == "json":
        return to_json(quiz)
    if fmt == "csv":
        return to_csv(quiz)
    if fmt == "md":
        return to_markdown(quiz, corpus)
    raise ValueError(f"unknown format {fmt!r} (json, csv or md)")


# --- grading -------------------------------------------------------------------------------------

_TRUE = {"true", "t", "yes", "y", "1", "对", "是", "正确", "√", "✓", "✔", "o", "○", "对的", "是的", "正确的", "没错",
         "相符", "符合"}
_FALSE = {"false", "f", "no", "n", "0", "错", "否", "错误", "×", "x", "✗", "✘", "不正确", "不对", "错的", "不是",
          "错误的", "不符", "不相符", "不符合"}
