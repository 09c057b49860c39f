"""Follow-up suggestions (issue 13, item 6): after an answer, two or three questions the guidelines
answer next — never invented. Each is a fragment of a clause with one quiz fact (an amount, a
frequency, the organ responsible) replaced by the question word, taken from the cited clause or
its neighbours in the same section; and each is asked before it is shown: only a question that is
answered (not refused), from that clause, with that fact, is offered."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from assistant.quiz.facts import extract_facts, occurs
from assistant.text import fragments, normalize, sentences

if TYPE_CHECKING:
    from assistant.answering.records import Answer
    from assistant.corpus.records import Clause, Corpus
    from assistant.quiz.facts import Fact

log = logging.getLogger(__name__)

MAX_SUGGESTIONS = 3
MAX_TRIES = 8  # questions asked at most per answer (each is one retrieval + answer, ~20-30 ms)
_NUMBER = re.compile(r"^[0-9０-９.．/:：\-~～一二三四五六七八九十百千两兩]+")
_facts: dict[tuple[str, str], list[Fact]] = {}


def _asking(fact: Fact) -> str | None:
    """The question word that stands where *fact* stood (None: a fact not asked about)."""
    if fact.type == "quantity":
        if fact.value.endswith("%"):
            return "多少比例"
        unit = _NUMBER.sub("", fact.value)
        return f"多少{unit}" if unit != fact.value else None
    if fact.type == "frequency":
        return "多久"
    if fact.type == "body":
        return "哪個部門"
    return None


def question_for(fact: Fact) -> str | None:
    """The clause's fragment around *fact* with the fact asked about: 「任滿10年的必須交流」 →
    「任滿多少年的必須交流?」. A short fragment keeps the one before it, so the question says
    what it is about."""
    word = _asking(fact)
    text = fact.clause.text
    if word is None:
        return None
    sentence = next(((a, b) for a, b in sentences(text) if a <= fact.start < b), None)
    if sentence is None:
        return None
    parts = fragments(text, *sentence)
    at = next((i for i, (a, b) in enumerate(parts) if a <= fact.start and fact.end <= b), None)
    if at is None:
        return None
    first = at
    while first > 0 and parts[at][1] - parts[first][0] < 12:
        first -= 1
    start, end = parts[first][0], parts[at][1]
    body = text[start:fact.start] + word + text[fact.end:end]
    body = re.sub(r"[,,;;::。!?!?、\s]+$", "", body.strip())
    if len(body) < 6 or len(body) > 60:
        return None
    return body + "?"


def _clause_facts(clause: Clause) -> list[Fact]:
    key = (clause.id, clause.text)
    if key not in _facts:
        if len(_facts) > 5000:
            _facts.clear()
        _facts[key] = extract_facts(clause)
    return _facts[key]


def candidates(corpus: Corpus, answer: Answer) -> list[tuple[str, Fact]]:
    """(question, fact) pairs, nearest first: the cited clauses' other facts, then the facts of
    clauses in the same section, closest clauses first; facts the answer already states skipped."""
    if answer.refused or not answer.citations:
        return []
    cited = [corpus.clause(c.id) for c in answer.citations if _known(corpus, c.id)]
    if not cited:
        return []
    first = cited[0]
    siblings = [c for c in corpus.by_doc(first.doc_id) if c.section == first.section and c.id not in {x.id for x in cited}]
    order = {c.id: i for i, c in enumerate(corpus.by_doc(first.doc_id))}
    siblings.sort(key=lambda c: abs(order.get(c.id, 0) - order.get(first.id, 0)))
    said = normalize(answer.answer)
    out, seen = [], set()
    for clause in [*cited, *siblings]:
        for fact in sorted(_clause_facts(clause), key=lambda f: f.priority):
            if occurs(fact.value, answer.answer) or normalize(fact.value) in said:
                continue
            sentence = (clause.id, next((a for a, b in sentences(clause.text) if a <= fact.start < b), -1))
            q = question_for(fact)
            if q and sentence not in seen:  # one question per sentence
                seen.add(sentence)
                out.append((q, fact))
    return out


def _known(corpus: Corpus, clause_id: str) -> bool:
    try:
        corpus.clause(clause_id)
    except KeyError:
        return False
    return True


def suggest(assistant: Any, corpus: Corpus, answer: Answer, history: Sequence[str] = ()) -> list[str]:
    """At most :data:`MAX_SUGGESTIONS` follow-up questions, each answered by *assistant* — asked
    with *history*, as the chat will ask it — from the fact's clause with the fact itself."""
    out = []
    for question, fact in candidates(corpus, answer)[:MAX_TRIES]:
        try:
            reply = assistant.ask(question, history=list(history))
        except Exception:  # a suggestion is optional; never break the answer
            log.exception("follow-up %r failed", question)
            continue
        if (not reply.refused and any(c.id == fact.clause.id for c in reply.citations)
                and occurs(fact.value, reply.answer)):
            out.append(question)
            if len(out) == MAX_SUGGESTIONS:
                break
    return out
