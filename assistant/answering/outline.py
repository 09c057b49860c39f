"""The documents' outline: sections and subsections with the items they list.

Guidelines enumerate in their structure as often as in a sentence: section 三 of a document
lists its measures as paragraphs opened by a short lead (「大力開展宣傳工作。」 「加強溝通協調、
爭取各方支持。」 …), a section with subsections lists them as headings (「(一)實施“領頭雁”工程…」).
A question for such a list (「第三部分提了哪幾條措施?」, 「四項工程是哪四項?」) is answered by the
container's items, each cited — not by one paragraph of it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from assistant.corpus.records import Clause
from assistant.text import cn_to_int, sentences

__all__ = ["Container", "Item", "asked_count", "containers", "section_ordinal"]

_LEAD_MAX = 30  # a paragraph's lead (its bold heading in print) is a short first sentence
_NUMBER = re.compile(r"^\s*(?:[一二三四五六七八九十]+、|[((][一二三四五六七八九十0-9]+[))]|第[一二三四五六七八九十]+[章節节])")
# 「第三部分」, 「第二大部分」, 「第四块」: a section named by its position.
_ORDINAL = re.compile(r"第([一二三四五六七八九十]+|[0-9]+)(?:大)?(?:部分|块|塊|大块|个部分|個部分|章)")


@dataclass(frozen=True)
class Item:
    text: str  # verbatim: a subsection heading without its number, or a paragraph's lead
    clause: Clause  # cited for it (the paragraph, or the subsection's first paragraph)


@dataclass(frozen=True)
class Container:
    doc_id: str
    section_no: int
    subsection_no: int | None
    heading: str  # as printed, number included
    items: tuple[Item, ...]


def lead(clause: Clause) -> str | None:
    """The paragraph's short first sentence, if it has one and more follows."""
    spans = sentences(clause.text)
    if len(spans) < 2:
        return None
    a, b = spans[0]
    text = clause.text[a:b].strip().rstrip("。;;::")
    return text if 0 < len(text) <= _LEAD_MAX else None


def _unnumbered(heading: str) -> str:
    return _NUMBER.sub("", heading).strip().rstrip("。")


@lru_cache(maxsize=8)
def _containers(clauses: tuple[Clause, ...]) -> tuple[Container, ...]:
    out: list[Container] = []
    by_section: dict[tuple[str, int], list[Clause]] = {}
    for c in clauses:
        if c.is_record or c.section_no == 0:
            continue
        by_section.setdefault((c.doc_id, c.section_no), []).append(c)
    for (doc_id, no), members in by_section.items():
        subs: dict[int, list[Clause]] = {}
        for c in members:
            if c.subsection_no is not None:
                subs.setdefault(c.subsection_no, []).append(c)
        if len(subs) >= 2 and all(c.subsection_no is not None for c in members):
            items = tuple(Item(_unnumbered(group[0].subsection or ""), group[0]) for group in subs.values())
            out.append(Container(doc_id, no, None, members[0].section, items))
        for sub_no, group in subs.items():
            if items := _led(group):
                out.append(Container(doc_id, no, sub_no, group[0].subsection or "", items))
        if not subs and (items := _led(members)):
            out.append(Container(doc_id, no, None, members[0].section, items))
    return tuple(out)


def _led(group: list[Clause]) -> tuple[Item, ...]:
    """The items of paragraphs opened by leads: at least two, and all but a closing paragraph
    (document 1's section 三 ends with a lead-less summary) have one."""
    leads = [lead(c) for c in group]
    if sum(1 for t in leads if t) < 2 or any(not t for t in leads[:-1]):
        return ()
    return tuple(Item(t, c) for t, c in zip(leads, group) if t)


def containers(clauses: Sequence[Clause]) -> tuple[Container, ...]:
    """Every section or subsection whose paragraphs all open with a lead, and every section made
    of subsections: the lists the structure itself states (cached per clause tuple)."""
    return _containers(tuple(clauses))


# 「哪四項」, 「哪五好」, 「六個方面」, 「哪3條」: how many items the question expects.
_COUNT = re.compile(r"哪[“\"]?([两二三四五六七八九十]+|[2-9])|([两二三四五六七八九十]+|[2-9])个(?:方面|部分|环节|步骤)")


def asked_count(normalized_question: str) -> int | None:
    """How many items a list question expects, if it says (「哪四項」 → 4)."""
    m = _COUNT.search(normalized_question)
    if not m:
        return None
    run = m.group(1) or m.group(2)
    try:
        return int(run) if run.isdigit() else cn_to_int(run)
    except ValueError:
        return None


def section_ordinal(normalized_question: str) -> int | None:
    """The section a question names by position (「第三部分」 → 3), if any."""
    m = _ORDINAL.search(normalized_question)
    if not m:
        return None
    try:
        return int(m.group(1)) if m.group(1).isdigit() else cn_to_int(m.group(1))
    except ValueError:
        return None
