"""A quiz: a seeded, balanced sample of the item pool (by document, section and kind), drawn to
a blueprint (count per kind, quota per document, points per kind) and checked as a whole."""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from assistant.corpus.records import Clause, Corpus
from assistant.quiz.distractors import _quantity
from assistant.quiz.facts import (
    _CN,
    KIND_ALIASES,
    KINDS,
    MIXED_KINDS,
    Fact,
    canonical,
    occurs,
)
from assistant.quiz.items import KindChoice, QuizItem, _Candidate, _pool
from assistant.text import (
    cn_to_int,
    normalize,
)


@dataclass
class Quiz:
    """A quiz: its items in handout order, how it was drawn (seed, selection, blueprint) and what
    the handout must say about it (``shortfalls``: a document or kind that could not fill its
    share). ``graded`` keeps, per trainee, how each item (by its content key) was answered:
    the per-item correct rates that become next time's 難度."""

    title: str
    items: list[QuizItem]
    doc: str | None = None
    section: str | None = None
    kind: str = "mixed"
    seed: int = 7
    quiz_id: str = ""
    blueprint: dict[str, Any] | None = None
    shortfalls: list[dict[str, Any]] = field(default_factory=list)
    graded: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def total_points(self) -> float:
        return _num(sum(_item_points(self, it) for it in self.items))

    def points(self, item: QuizItem) -> float:
        return _item_points(self, item)

    def to_dict(self) -> dict[str, Any]:
        d = {"title": self.title, "doc": self.doc, "section": self.section, "kind": self.kind,
             "seed": self.seed, "items": [i.to_dict() for i in self.items]}
        if self.quiz_id:
            d["quiz_id"] = self.quiz_id
        if self.blueprint is not None:
            d["blueprint"] = self.blueprint
        d["total_points"] = self.total_points
        if self.shortfalls:
            d["shortfalls"] = self.shortfalls
        if self.graded:
            d["graded"] = self.graded
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Quiz:
        if not isinstance(d.get("items"), list):
            raise ValueError('not a quiz: expected {"items": [...]}')
        items = [QuizItem.from_dict(i) for i in d["items"]]
        dupes = [i for i, n in Counter(it.id for it in items).items() if n > 1]
        if dupes:
            raise ValueError(f"duplicate item ids in the quiz: {dupes}")
        return cls(d.get("title") or "培訓測驗", items, d.get("doc"), d.get("section"),
                   d.get("kind", "mixed"), d.get("seed", 0), d.get("quiz_id") or "",
                   d.get("blueprint"), list(d.get("shortfalls") or []), dict(d.get("graded") or {}))


def _num(x: float) -> float:
    """2.0 → 2 (JSON and handouts print whole points without «.0»)."""
    return int(x) if float(x).is_integer() else round(x, 2)


def _item_points(quiz: Quiz, item: QuizItem) -> float:
    if item.points is not None:
        return item.points
    n = len(quiz.items)
    return _num(100 / n) if n and 100 % n == 0 else 1


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
    base, extra = divmod(n, len(MIXED_KINDS))
    return {k: base + (1 if i < extra else 0) for i, k in enumerate(MIXED_KINDS)}


def parse_spec(spec: str | Mapping[str, Any] | None, what: str) -> dict[str, str] | None:
    """「填空=5,單選=5」 (also 「填空:5」, 「填空5」 spaces or 、 between) → {"填空": "5", …}."""
    if spec is None or isinstance(spec, Mapping):
        return None if spec is None else {str(k): str(v) for k, v in spec.items()}
    out: dict[str, str] = {}
    for part in re.split(r"[,,、;;\s]+", spec.strip()):
        if not part:
            continue
        m = re.fullmatch(r"(.+?)[=:=:]?(\d+(?:\.\d+)?)", part)
        if not m:
            raise ValueError(f"{what}: cannot read {part!r} (write NAME=COUNT, e.g. 填空=5)")
        out[m[1]] = m[2]
    if not out:
        raise ValueError(f"{what}: empty")
    return out


def parse_kinds(spec: str | Mapping[str, Any] | None, what: str = "--kinds") -> dict[str, float] | None:
    """Kind names as a trainer writes them (填空/單選/多選/判斷, cloze/choice/multi/truefalse)."""
    raw = parse_spec(spec, what)
    if raw is None:
        return None
    out: dict[str, float] = {}
    for name, value in raw.items():
        kind = KIND_ALIASES.get(normalize(name.strip()).rstrip("题"), KIND_ALIASES.get(normalize(name.strip())))
        if kind is None:
            raise ValueError(f"{what}: unknown kind {name!r} (填空, 單選, 多選, 判斷 or cloze, choice, multi, truefalse)")
        out[kind] = float(value)
    return {k: out[k] for k in KINDS if k in out}


def _quota(corpus: Corpus, spec: str | Mapping[str, Any] | None) -> dict[str, int] | None:
    raw = parse_spec(spec, "--quota")
    if raw is None:
        return None
    return {resolve_doc(corpus, d) or "": int(float(v)) for d, v in raw.items()}


def item_id(quiz_id: str, position: int) -> str:
    """The id an answer sheet uses: a hash of the quiz and the question's position, nothing about
    the question (no clause, no kind, no 「1t」/「1f」)."""
    return "q" + hashlib.sha256(f"{quiz_id}|{position}".encode()).hexdigest()[:10]


def _quiz_id(params: Mapping[str, Any], keys: Sequence[str]) -> str:
    raw = json.dumps([params, list(keys)], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:12]


def build_quiz(corpus: Corpus, n: int = 20, *, doc: str | int | None = None,
               section: str | None = None, kind: KindChoice = "mixed", seed: int = 7,
               kinds: str | Mapping[str, Any] | None = None, quota: str | Mapping[str, Any] | None = None,
               points: str | Mapping[str, Any] | None = None,
               history: Mapping[str, Mapping[str, Any]] | None = None) -> Quiz:
    """A seeded sample of the pool: one item per clause before any clause gets a second, never
    two items on the same sentence (one would give the other away), key facts (amounts,
    durations, counts) before slogans, true and false statements balanced.

    The blueprint: *kinds* fixes the count per kind (「填空=5,單選=5,多選=5,判斷=5」; then *n* is
    their sum), *quota* the count per document (「d1=4,d2=4」; an all-document quiz shares *n*
    evenly by default), *points* the points per kind (default 100/n each when that is whole,
    else 1). A document or kind that cannot fill its share is recorded in ``shortfalls`` (the
    handout says so); other documents fill in, other kinds only for ``mixed``.

    Whole-quiz checks: no item's stem prints another item's key or the words a 判斷 statement
    tests, no key twice, no fact twice. *history* (content key → recorded stats, from graded
    quizzes) tags items with their correct rate (難度).

    Items are ordered as a handout lists them: by kind (填空, 單選, 多選, 判斷), then in document
    order; their ids are opaque (:func:`item_id`).
    """
    need_kinds = parse_kinds(kinds)
    if need_kinds is not None:
        need = {k: int(v) for k, v in need_kinds.items() if int(v) > 0}
        n = sum(need.values())
    else:
        if kind != "mixed" and kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r} (cloze, choice, multi, truefalse or mixed)")
        need = _targets(kind, n)
    if n < 1:
        raise ValueError("a quiz needs at least one item (--n)")
    per_kind_points = parse_kinds(points, "--points")
    doc_id = resolve_doc(corpus, doc)
    pool = [c for c in _pool(corpus)
            if (doc_id is None or c.clause.doc_id == doc_id)
            and (section is None or _section_matches(c.clause, section))
            and c.item.kind in need]
    if not pool:
        raise ValueError("no quiz items for this selection (check --doc/--section/--kinds)")
    quotas = _quota(corpus, quota)
    if doc_id is not None:
        quotas = {doc_id: n}
    elif quotas is None:
        quotas = _even_quota(corpus, pool, n)
    else:
        quotas = _fill_quota(corpus, pool, n, quotas)
    sampler = _Sampler(pool, seed)
    chosen = sampler.run(dict(need), quotas, fill_kinds=need_kinds is None and kind == "mixed")
    shortfalls = []
    got_doc = Counter(c.clause.doc_id for c in chosen)
    for d, want in quotas.items() if doc_id is None else ():
        if got_doc[d] < want:
            shortfalls.append({"doc": d, "title": _doc_title(corpus, d), "quota": want, "got": got_doc[d]})
    got_kind = Counter(c.item.kind for c in chosen)
    if need_kinds is not None:
        for k, want in need.items():
            if got_kind[k] < want:
                shortfalls.append({"kind": k, "quota": want, "got": got_kind[k]})
    if len(chosen) < n:
        shortfalls.append({"total": n, "got": len(chosen)})
    order = {k: i for i, k in enumerate(KINDS)}
    chosen.sort(key=lambda c: (order[c.item.kind], c.clause.order, c.fact.start))
    params = {"seed": seed, "doc": doc_id, "section": section, "kind": kind, "need": need, "quota": quotas,
              "points": per_kind_points}
    quiz_id = _quiz_id(params, [c.item.key for c in chosen])
    items = []
    for pos, c in enumerate(chosen, 1):
        pts = None if per_kind_points is None else _num(per_kind_points.get(c.item.kind, 1))
        stats = (history or {}).get(c.item.key)
        items.append(replace(c.item, id=item_id(quiz_id, pos), points=pts, stats=dict(stats) if stats else None))
    blueprint = None
    if need_kinds is not None or quota is not None or per_kind_points is not None or doc_id is None:
        blueprint = {"kinds": need, "quota": quotas}
        if per_kind_points is not None:
            blueprint["points"] = {k: _num(v) for k, v in per_kind_points.items()}
    title = _title(corpus, doc_id, section)
    return Quiz(title, items, doc_id, section, kind if need_kinds is None else "blueprint", seed, quiz_id,
                blueprint, shortfalls)


def _doc_title(corpus: Corpus, doc_id: str) -> str:
    return next((d.title for d in corpus.documents if d.id == doc_id), doc_id)


def _even_quota(corpus: Corpus, pool: Sequence[_Candidate], n: int) -> dict[str, int]:
    """An all-document quiz: *n* shared evenly among the documents with items (the remainder to
    the documents with the most material), so no document is drowned by the longest."""
    size = Counter(c.clause.doc_id for c in pool)
    docs = [d.id for d in corpus.documents if size[d.id]]
    base, extra = divmod(n, len(docs))
    richest = sorted(docs, key=lambda d: -size[d])[:extra]
    return {d: base + (d in richest) for d in docs}


def _fill_quota(corpus: Corpus, pool: Sequence[_Candidate], n: int, quota: Mapping[str, int]) -> dict[str, int]:
    given = sum(quota.values())
    if given > n:
        raise ValueError(f"--quota asks for {given} items, the quiz has {n}")
    rest = [d for d in _even_quota(corpus, pool, n) if d not in quota]
    out = dict(quota)
    if given < n and rest:
        base, extra = divmod(n - given, len(rest))
        out |= {d: base + (i < extra) for i, d in enumerate(rest)}
    return out


def _signature(fact: Fact) -> str:
    """What a trainee would see as «the same question again»: amounts in 萬元, a body, a count."""
    if fact.type == "quantity":
        return f"quantity:{normalize(_quantity(fact.value).unit)}"
    return fact.type


SAME_SIGNATURE_MAX = 2
CONTEXT = 6  # characters each side of a tested value that make its wording


def _tested(c: _Candidate) -> str:
    """What the item tests, as compared across a quiz: the value (a list: its items)."""
    if c.fact.type == "list":
        return "|".join(sorted(canonical(p) for p in c.fact.parts))
    return canonical(c.fact.value)


def _wording(c: _Candidate) -> str:
    """The clause words around the tested value, as printed in the clause (for a 判斷 item: what
    it checks; another stem that prints them answers it)."""
    text = normalize(c.clause.text)
    s, e = c.sentence
    return text[max(s, c.fact.start - CONTEXT) : min(e, c.fact.end + CONTEXT)]


def _key_text(c: _Candidate) -> list[str]:
    if c.item.kind == "truefalse":
        return []
    if c.item.kind == "multi":
        return list(c.item.answer)  # type: ignore[arg-type]
    return [str(c.item.answer)]


def _conflict(c: _Candidate, o: _Candidate) -> bool:
    """Whether two items cannot stand in one quiz: the same sentence or value, or one's stem
    answers the other (its key printed; the clause words a 判斷 statement tests printed)."""
    if c.clause.id == o.clause.id:
        if c.sentence == o.sentence:
            return True
        for x, y in ((c, o), (o, c)):  # x's stem prints the clause text where y's fact stands
            if x.window[0] <= y.fact.start and y.fact.end <= x.window[1]:
                return True
    if _tested(c) == _tested(o):
        return True
    for x, y in ((c, o), (o, c)):
        if any(occurs(k, y.item.stem) for k in _key_text(x)):
            return True
        if x.item.kind == "truefalse" and normalize(_wording(x)) in normalize(y.item.stem.replace("……", "")):
            return True
    return False


class _Sampler:
    """Round robin over the clauses (shuffled by the seed, key facts first), one pick per clause
    per round, within the document quotas, never in conflict with what is already chosen."""

    def __init__(self, pool: Sequence[_Candidate], seed: int) -> None:
        rng = random.Random(seed)
        self.by_clause: dict[str, list[_Candidate]] = defaultdict(list)
        for c in pool:
            self.by_clause[c.clause.id].append(c)
        self.clause_ids = list(self.by_clause)
        rng.shuffle(self.clause_ids)
        # Random tie-break within a clause, fixed per seed; the sort puts key facts first.
        tiebreak = {c.item.id: rng.random() for c in pool}
        for cands in self.by_clause.values():
            cands.sort(key=lambda c: (c.fact.priority, tiebreak[c.item.id]))
        # Clauses with a key fact come first; those with only slogans or a preamble fill up.
        self.clause_ids.sort(key=lambda cid: min(self.by_clause[cid][0].fact.priority, 4) // 2)
        self.chosen: list[_Candidate] = []
        self.polarity = Counter[bool]()
        self.signatures = Counter[str]()

    def run(self, need: dict[str, int], quotas: Mapping[str, int], *, fill_kinds: bool) -> list[_Candidate]:
        n = sum(need.values())
        quotas = dict(quotas)
        self._fill(need, n, quotas)
        while len(self.chosen) < n:
            # A document could not fill its quota: its share goes, one by one, to the documents
            # that could, the one with the fewest items first (so no document drowns the rest).
            got = Counter(c.clause.doc_id for c in self.chosen)
            full = [d for d in quotas if got[d] >= quotas[d]]
            if not full:
                break
            for _ in range(n - len(self.chosen)):
                d = min(full, key=lambda d: (quotas[d], list(quotas).index(d)))
                quotas[d] += 1
            before = len(self.chosen)
            self._fill(need, n, quotas)
            if len(self.chosen) == before:
                break
        if len(self.chosen) < n:
            self._fill(need, n, None)
        if len(self.chosen) < n and fill_kinds:
            # One kind ran dry (a short section): let the others fill the quiz.
            short = sum(v for v in need.values() if v > 0)
            need = {k: (short if v <= 0 else v) for k, v in need.items()}
            self._fill(need, n, None)
        return self.chosen

    def _fill(self, need: dict[str, int], n: int, quotas: Mapping[str, int] | None) -> None:
        per_doc = Counter(c.clause.doc_id for c in self.chosen)
        while len(self.chosen) < n:
            progress = False
            for cid in self.clause_ids:
                if len(self.chosen) == n:
                    break
                doc = self.by_clause[cid][0].clause.doc_id
                if quotas is not None and per_doc[doc] >= quotas.get(doc, 0):
                    continue
                pick = self._pick(self.by_clause[cid], need)
                if pick is None:
                    continue
                self.chosen.append(pick)
                need[pick.item.kind] -= 1
                per_doc[doc] += 1
                self.signatures[_signature(pick.fact)] += 1
                if pick.item.kind == "truefalse":
                    self.polarity[bool(pick.item.answer)] += 1
                progress = True
            if not progress:
                return

    def _pick(self, cands: list[_Candidate], need: Mapping[str, int]) -> _Candidate | None:
        """The clause's best unused candidate of the kind furthest behind its target — not a third
        question of the same sort (「縣財政每年安排（　　）」 thrice) while others are left; for
        true/false, the answer given less often so far."""
        open_kinds = sorted((k for k, v in need.items() if v > 0), key=lambda k: -need[k])
        for kind in open_kinds:
            fits = [c for c in cands if c.item.kind == kind and not any(_conflict(c, o) for o in self.chosen)]
            fits.sort(key=lambda c: self.signatures[_signature(c.fact)] >= SAME_SIGNATURE_MAX)  # stable
            if kind == "truefalse" and fits:
                want = self.polarity[True] <= self.polarity[False]  # the answer given less often so far
                fits.sort(key=lambda c: c.item.answer is not want)  # stable: priority order kept
            if fits:
                return fits[0]
        return None


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
