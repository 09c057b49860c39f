"""Conversations kept in the browser (issue 13, item 5): their shape, checked on every request (the
browser sends them back, so a stored value is never trusted), and their export as Markdown and
Word. Pure functions, no gradio."""

from __future__ import annotations

import json
import math
import time
import uuid
from dataclasses import fields
from typing import Any

from assistant.answering.records import Answer, Citation

MAX_CONVERSATIONS = 30  # the oldest are dropped beyond this
MAX_TURNS = 50  # questions kept per conversation
MAX_TEXT = 20_000  # characters of any one stored string
# The browser sends the store with every chat request (at most limits.MAX_BODY_BYTES): the oldest
# conversations are dropped once it holds more than this.
MAX_STORE_BYTES = 1_500_000
_CITATION_FIELDS = {f.name: f.type for f in fields(Citation)}


def empty_store() -> dict[str, Any]:
    return {"script": None, "current": None, "conversations": []}


def _text(value: Any, limit: int = MAX_TEXT) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _citation(value: Any) -> Citation | None:
    if not isinstance(value, dict):
        return None
    score = _number(value.get("score"))
    sub = value.get("subsection")
    c = Citation(
        id=_text(value.get("id"), 100), label=_text(value.get("label"), 1000),
        doc_title=_text(value.get("doc_title"), 1000), section=_text(value.get("section"), 1000),
        clause=_text(value.get("clause"), 1000), text=_text(value.get("text")), quote=_text(value.get("quote")),
        score=score, subsection=_text(sub, 1000) if isinstance(sub, str) else None,
    )
    return c if c.id and c.text else None


def answer_from(value: Any) -> Answer | None:
    """The :class:`Answer` of a stored turn (``Answer.to_dict()``), or None when it is not one."""
    if not isinstance(value, dict) or not isinstance(value.get("answer"), str):
        return None
    cites = [c for c in map(_citation, value.get("citations") or [] if isinstance(value.get("citations"), list) else []) if c]
    see = [c for c in map(_citation, value.get("see_also") or [] if isinstance(value.get("see_also"), list) else []) if c]
    mode = value.get("mode") if value.get("mode") in ("extractive", "llm") else "extractive"
    return Answer(_text(value.get("question")), _text(value["answer"]), bool(value.get("refused")), cites[:10],
                  see[:10], confidence=_number(value.get("confidence")), mode=mode, note=_text(value.get("note"), 2000))


def _number(value: Any) -> float:
    try:
        number = float(value or 0.0)
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) else 0.0


def stored_answer(answer: Answer) -> dict[str, Any]:
    """What a turn keeps of an answer: everything the page shows and exports (no timings)."""
    out = answer.to_dict()
    out.pop("timing_ms", None)
    return out


def _turn(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None
    question = _text(value.get("q"), 1000)
    answer = answer_from(value.get("a"))
    if not question or answer is None:
        return None
    follow = value.get("f") if isinstance(value.get("f"), list) else []
    return {"q": question, "a": stored_answer(answer), "f": [_text(f, 300) for f in follow[:3] if _text(f, 300)]}


def clean_store(value: Any) -> dict[str, Any]:
    """*value* (what the browser sent) reduced to a well-formed store; whatever is not is dropped."""
    store = empty_store()
    if not isinstance(value, dict):
        return store
    store["script"] = value.get("script") if value.get("script") in ("繁", "简") else None
    convs = value.get("conversations") if isinstance(value.get("conversations"), list) else []
    seen = set()
    for conv in convs[-MAX_CONVERSATIONS:]:
        if not isinstance(conv, dict):
            continue
        cid = _text(conv.get("id"), 40)
        turns = [t for t in map(_turn, conv.get("turns") if isinstance(conv.get("turns"), list) else []) if t]
        if not cid or cid in seen or not turns:
            continue
        seen.add(cid)
        updated = conv.get("updated") if isinstance(conv.get("updated"), (int, float)) else 0
        store["conversations"].append({"id": cid, "turns": turns[-MAX_TURNS:], "updated": updated})
    current = value.get("current")
    store["current"] = current if any(c["id"] == current for c in store["conversations"]) else None
    return trim(store)


def trim(store: dict[str, Any]) -> dict[str, Any]:
    """*store* without its oldest conversations (never the current one) while it is larger than
    :data:`MAX_STORE_BYTES` as JSON."""
    convs = list(store["conversations"])
    while len(convs) > 1 and len(json.dumps({**store, "conversations": convs}, ensure_ascii=False).encode()) > MAX_STORE_BYTES:
        oldest = min((c for c in convs if c["id"] != store["current"]), key=lambda c: c.get("updated") or 0)
        convs.remove(oldest)
    return {**store, "conversations": convs}


def current(store: dict[str, Any]) -> dict[str, Any] | None:
    return next((c for c in store["conversations"] if c["id"] == store["current"]), None)


def add_turn(store: dict[str, Any], question: str, answer: Answer, followups: list[str]) -> dict[str, Any]:
    """A new store with the turn appended to the current conversation (started if there is none)."""
    convs = [dict(c) for c in store["conversations"]]
    conv = next((c for c in convs if c["id"] == store["current"]), None)
    if conv is None:
        conv = {"id": uuid.uuid4().hex[:12], "turns": [], "updated": 0}
        convs.append(conv)
    conv["turns"] = [*conv["turns"], {"q": question, "a": stored_answer(answer), "f": list(followups)}][-MAX_TURNS:]
    conv["updated"] = time.time()
    convs = convs[-MAX_CONVERSATIONS:]
    return trim({**store, "conversations": convs, "current": conv["id"]})


def set_followups(store: dict[str, Any], followups: list[str]) -> dict[str, Any]:
    """A new store whose current conversation's last turn offers *followups*."""
    convs = [dict(c) for c in store["conversations"]]
    conv = next((c for c in convs if c["id"] == store["current"]), None)
    if conv and conv["turns"]:
        conv["turns"] = [*conv["turns"][:-1], {**conv["turns"][-1], "f": list(followups)}]
    return {**store, "conversations": convs}


def title(conv: dict[str, Any], limit: int = 24) -> str:
    """A conversation's name in the menu: its first question, cut to *limit* characters."""
    q = " ".join(conv["turns"][0]["q"].split()) if conv["turns"] else "新對話"
    return q if len(q) <= limit else q[:limit] + "…"


def choices(store: dict[str, Any]) -> list[tuple[str, str]]:
    """The menu of past conversations, newest first: (label, id)."""
    convs = sorted(store["conversations"], key=lambda c: c.get("updated") or 0, reverse=True)
    stamp = lambda c: time.strftime("%m-%d %H:%M", time.localtime(c["updated"])) if c.get("updated") else ""  # noqa: E731
    return [(f"{title(c)}({stamp(c)},{len(c['turns'])} 問)" if stamp(c) else title(c), c["id"]) for c in convs]


def delete(store: dict[str, Any], conv_id: str | None) -> dict[str, Any]:
    convs = [c for c in store["conversations"] if c["id"] != conv_id]
    return {**store, "conversations": convs, "current": None if store["current"] == conv_id else store["current"]}


# --- export: what a cadre pastes into a report (the original wording, every citation in full) ------


def _path(c: Citation) -> str:
    parts = [c.section, c.subsection or "", c.clause]
    return " ".join(p for i, p in enumerate(parts) if p and p not in parts[:i])


def answer_text(answer: Answer) -> str:
    """One answer with its citations as plain text (「複製回答」)."""
    lines = [answer.answer]
    if answer.note:
        lines.append(answer.note)
    if answer.citations:
        lines.append("出處:")
        lines += [f"[{i}] 《{c.doc_title}》{_path(c)}:“{c.quote or c.text}”" for i, c in enumerate(answer.citations, 1)]
    elif answer.see_also:
        lines.append("相關條文(沒有直接回答,僅供參考):")
        lines += [f"- 《{c.doc_title}》{_path(c)}" for c in answer.see_also]
    return "\n".join(lines)


def _md(text: str) -> str:
    """*text* as literal Markdown (its own markup characters escaped)."""
    out = []
    for ch in text:
        out.append("\\" + ch if ch in "\\`*_{}[]<>()#+-.!|~" else ch)
    return "".join(out)


def to_markdown(conv: dict[str, Any]) -> str:
    lines = [f"# 指引問答紀錄:{_md(_printable(title(conv, 40)))}", ""]
    for n, turn in enumerate(conv["turns"], 1):
        answer = answer_from(turn["a"])
        lines += [f"## {n}. {_md(_printable(turn['q']))}", "", f"**答:** {_md(answer.answer)}", ""]
        if answer.note:
            lines += [f"*{_md(answer.note)}*", ""]
        if answer.citations:
            lines += ["**出處:**", ""]
            for i, c in enumerate(answer.citations, 1):
                lines += [f"{i}. 《{_md(c.doc_title)}》{_md(_path(c))}", "",
                          f"   > {_md(c.text)}", ""]
        elif answer.see_also:
            lines += ["**相關條文**(沒有直接回答,僅供參考):", ""]
            lines += [f"- 《{_md(c.doc_title)}》{_md(_path(c))}" for c in answer.see_also] + [""]
    return "\n".join(lines)


def to_docx(conv: dict[str, Any], path: str) -> None:
    """The conversation as a Word file at *path* (python-docx): each question, its answer, and
    every citation with the clause in full."""
    from docx import Document as Docx

    doc = Docx()
    doc.add_heading(_printable(f"指引問答紀錄:{title(conv, 40)}"), level=1)
    for n, turn in enumerate(conv["turns"], 1):
        answer = answer_from(turn["a"])
        doc.add_heading(f"{n}. {_printable(turn['q'])}", level=2)
        p = doc.add_paragraph()
        p.add_run("答:").bold = True
        p.add_run(_printable(answer.answer))
        if answer.note:
            doc.add_paragraph().add_run(_printable(answer.note)).italic = True
        if answer.citations:
            doc.add_paragraph().add_run("出處:").bold = True
            for i, c in enumerate(answer.citations, 1):
                doc.add_paragraph(_printable(f"[{i}] 《{c.doc_title}》{_path(c)}"))
                doc.add_paragraph(_printable(f"“{c.text}”"), style="Quote")
        elif answer.see_also:
            doc.add_paragraph().add_run("相關條文(沒有直接回答,僅供參考):").bold = True
            for c in answer.see_also:
                doc.add_paragraph(_printable(f"《{c.doc_title}》{_path(c)}"), style="List Bullet")
    doc.save(path)


def _printable(text: str) -> str:
    """Word's XML takes no control characters (a pasted question may hold some)."""
    return "".join(ch for ch in text if ch in "\n\t" or ch.isprintable())
