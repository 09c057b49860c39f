"""A quiz: a seeded, balanced sample of the item pool (by document, section and kind)."""

from __future__ import annotations

import json
import random
import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from assistant.corpus.records import Clause, Corpus
from assistant.quiz.distractors import _quantity
from assistant.quiz.facts import _CN, KINDS, Fact, occurs
from assistant.quiz.items import KindChoice, QuizItem, _Candidate, _pool
from assistant.text import (
    cn_to_int,
    normalize,
)


@dataclass
class Quiz:
    title: str
    items: list[QuizItem]
    doc: str | None = None
    section: str | None = None
    kind: str = "mixed"
    seed: int = 7

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "doc": self.doc, "section": self.section, "kind": self.kind,
                "seed": self.seed, "items": [i.to_dict() for i in self.items]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Quiz:
        if not isinstance(d.get("items"), list):
            raise ValueError('not a quiz: expected {"items": [...]}')
        items = [QuizItem.from_dict(i) for i in d["items"]]
        dupes = [i for i, n in Counter(it.id for it in items).items() if n > 1]
        if dupes:
            raise ValueError(f"duplicate item ids in the quiz: {dupes}")
        return cls(d.get("title") or "培訓測驗", items, d.get("doc"), d.get("section"),
                   d.get("kind", "mixed"), d.get("seed", 0))


def load_quiz(path: str | Path) -> Quiz:
    """Read a quiz exported as JSON."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not JSON ({exc}); grading needs the quiz exported with --format json") from None
    return Quiz.from_dict(data)


def resolve_doc(corpus: Corpus, doc: str | int | None) -> str | None:
    """「4」, 「d4」, 4 → "d4"."""
    if doc is None or str(doc).strip() == "":
        return None
    doc_id = str(doc).strip().lower()
    doc_id = doc_id if doc_id.startswith("d") else f"d{doc_id}"
    known = [d.id for d in corpus.documents]
    if doc_id not in known:
        raise ValueError(f"no document {doc!r} (known: {', '.join(known)})")
    return doc_id


def _section_matches(clause: Clause, section: str) -> bool:
    """「二」, 「2」 or the start of a heading (「二、進一步健全」)."""
    want = normalize(section.strip()).rstrip("、")
    if want.isdigit():
        return clause.section_no == int(want)
    if want and all(ch in _CN for ch in want):
        return clause.section_no == cn_to_int(want)
    return normalize(clause.section).startswith(want) or want in normalize(clause.subsection or "")


def _targets(kind: KindChoice, n: int) -> dict[str, int]:
    """How many items of each kind: mixed splits evenly, cloze and choice first (20 → 7/7/6)."""
    if kind != "mixed":
        return {kind: n}
    base, extra = divmod(n, 3)
    return {k: base + (1 if i < extra else 0) for i, k in enumerate(KINDS)}


def build_quiz(corpus: Corpus, n: int = 20, *, doc: str | int | None = None,
               section: str | None = None, kind: KindChoice = "mixed", seed: int = 7) -> Quiz:
    """A seeded sample of the pool: one item per clause before any clause gets a second, never
    two items on the same sentence (one would give the other away), key facts (amounts,
    durations, counts) before slogans, true and false statements balanced.

    Items are ordered as a handout lists them: by kind, then in document order.
    """
    if n < 1:
        raise ValueError("a quiz needs at least one item (--n)")
    if kind != "mixed" and kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r} (cloze, choice, truefalse or mixed)")
    doc_id = resolve_doc(corpus, doc)
    pool = [c for c in _pool(corpus)
            if (doc_id is None or c.clause.doc_id == doc_id)
            and (section is None or _section_matches(c.clause, section))]
    if not pool:
        raise ValueError("no quiz items for this selection (check --doc/--section)")
    rng = random.Random(seed)
    by_clause: dict[str, list[_Candidate]] = defaultdict(list)
    for c in pool:
        by_clause[c.clause.id].append(c)
    clause_ids = list(by_clause)
    rng.shuffle(clause_ids)
    # Random tie-break within a clause, fixed per seed; the sort puts key facts first.
    tiebreak = {c.item.id: rng.random() for c in pool}
    for cands in by_clause.values():
        cands.sort(key=lambda c: (c.fact.priority, tiebreak[c.item.id]))
    # Clauses with a key fact come first; those with only slogans or a preamble fill up.
    clause_ids.sort(key=lambda cid: min(by_clause[cid][0].fact.priority, 4) // 2)

    need = _targets(kind, n)
    chosen: list[_Candidate] = []
    used_sentences: set[tuple[str, tuple[int, int]]] = set()
    polarity = Counter[bool]()
    signatures = Counter[str]()
    while len(chosen) < n:
        progress = False
        for cid in clause_ids:
            if len(chosen) == n:
                break
            pick = _pick(by_clause[cid], need, used_sentences, polarity, signatures, chosen)
            if pick is None:
                continue
            chosen.append(pick)
            need[pick.item.kind] -= 1
            used_sentences.add((cid, pick.sentence))
            signatures[_signature(pick.fact)] += 1
            if pick.item.kind == "truefalse":
                polarity[bool(pick.item.answer)] += 1
            progress = True
        if not progress:
            if any(v > 0 for v in need.values()) and kind == "mixed":
                # One kind ran dry (a short section): let the others fill the quiz.
                short = sum(v for v in need.values() if v > 0)
                need = {k: (short if v <= 0 else v) for k, v in need.items()}
                if _pick_any(by_clause, need, used_sentences, polarity, signatures, chosen):
                    continue
            break
    order = {k: i for i, k in enumerate(KINDS)}
    chosen.sort(key=lambda c: (order[c.item.kind], c.clause.order, c.fact.start))
    title = _title(corpus, doc_id, section)
    return Quiz(title, [c.item for c in chosen], doc_id, section, kind, seed)


def _signature(fact: Fact) -> str:
    """What a trainee would see as «the same question again»: amounts in 萬元, a body, a count."""
    if fact.type == "quantity":
        return f"quantity:{normalize(_quantity(fact.value).unit)}"
    return fact.type


SAME_SIGNATURE_MAX = 2


def _gives_away_other(c: _Candidate, chosen: Sequence[_Candidate]) -> bool:
    """Whether *c* and an item already in the quiz answer each other: 「…深化“三級聯創”…」 as a
    statement next to a question whose key is 三級聯創."""
    def key(x: _Candidate) -> str | None:
        return str(x.item.answer) if x.item.kind != "truefalse" else None

    mine = key(c)
    return any((mine and occurs(mine, o.item.stem)) or ((k := key(o)) and occurs(k, c.item.stem))
               for o in chosen)


def _pick(cands: list[_Candidate], need: Mapping[str, int], used: set, polarity: Counter,
          signatures: Counter, chosen: Sequence[_Candidate] = ()) -> _Candidate | None:
    """The clause's best unused candidate of the kind furthest behind its target — not a third
    question of the same sort (「縣財政每年安排（　　）」 thrice) while others are left; for
    true/false, the answer given less often so far."""
    open_kinds = sorted((k for k, v in need.items() if v > 0), key=lambda k: -need[k])
    for kind in open_kinds:
        fits = [c for c in cands if c.item.kind == kind and (c.clause.id, c.sentence) not in used
                and not _gives_away_other(c, chosen)]
        fits.sort(key=lambda c: signatures[_signature(c.fact)] >= SAME_SIGNATURE_MAX)  # stable
        if kind == "truefalse" and fits:
            want = polarity[True] <= polarity[False]  # the answer given less often so far
            fits.sort(key=lambda c: c.item.answer is not want)  # stable: priority order kept
        if fits:
            return fits[0]
    return None


def _pick_any(by_clause: Mapping[str, list[_Candidate]], need: Mapping[str, int], used: set,
              polarity: Counter, signatures: Counter, chosen: Sequence[_Candidate]) -> bool:
    return any(_pick(c, need, used, polarity, signatures, chosen) is not None for c in by_clause.values())


def _title(corpus: Corpus, doc_id: str | None, section: str | None) -> str:
    if doc_id is None:
        return "基層組織建設指導意見 培訓測驗"
    doc = next(d for d in corpus.documents if d.id == doc_id)
    title = f"《{doc.title}》培訓測驗"
    if section:
        heading = next((c.section for c in corpus.by_doc(doc_id) if _section_matches(c, section)), section)
        title += f"({heading})"
    return title


# --- export --------------------------------------------------------------------------------------

Format = Literal["json", "csv", "md"]
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")
