"""Distractors: values of the same kind as a fact that neither the clause nor the rest of its
document states. A body or amount the document pairs elsewhere with the same words (a sentence
that shares most of the stem's distinctive words) could be true too, so it is never used; a post
the document names at all (紀檢委員, which 第10條 calls 鄉鎮紀委委員) neither. Named terms are
varied only with other real terms of the corpus, never by changing their count (no 「四重一大」)."""

from __future__ import annotations

import math
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from assistant.corpus.records import Clause
from assistant.quiz.checks import boilerplate_list, ideological
from assistant.quiz.facts import (
    _CN_RUN,
    _FRACTIONS,
    _FREQUENCY_DAYS,
    _LEVEL,
    _LEVELS,
    _ORGAN,
    _PROVINCES,
    _RATIOS,
    FREQUENCIES,
    POSTS,
    Fact,
    _term_shape,
    canonical,
    occurs,
)
from assistant.text import (
    cn_to_int,
    int_to_cn,
    is_cjk,
    normalize,
    sentences,
)


@dataclass(frozen=True)
class _Quantity:
    kind: Literal["fraction", "ratio", "range", "year", "arabic", "cn"]
    number: float  # the (lower) number, for magnitude comparisons
    upper: int | None  # the range's upper end
    unit: str  # as printed (萬元, 年, 個)


def _quantity(value: str) -> _Quantity:
    norm = normalize(value)
    if "/" in norm:
        a, b = norm.split("/")
        return _Quantity("fraction", int(a) / int(b), None, "")
    if ":" in norm:
        a, b = norm.split(":")
        return _Quantity("ratio", int(a) / int(b), None, "")
    if norm[0].isdigit():
        m = re.match(r"(\d+(?:\.\d+)?)(?:-(\d+))?", norm)
        assert m is not None
        n, unit = float(m[1]), value[m.end() :]
        if m[2]:
            return _Quantity("range", n, int(m[2]), unit)
        return _Quantity("year" if normalize(unit) == "年" and n >= 1900 else "arabic", n, None, unit)
    m = _CN_RUN.match(norm)
    assert m is not None
    return _Quantity("cn", cn_to_int(m[0]), None, value[m.end() :])


def _fmt(n: float) -> str:
    return str(int(n)) if float(n).is_integer() else f"{n:g}"


def _nice(n: float) -> int:
    """Round a perturbed amount the way budgets are written (85, 130, 160 rather than 127)."""
    return int(round(n)) if n < 20 else int(5 * round(n / 5))


def _quantity_alternatives(value: str) -> list[str]:
    """Sensible perturbations of a quantity, same form and unit."""
    q = _quantity(value)
    n = int(q.number) if q.number == int(q.number) else q.number
    if q.kind == "fraction":
        return list(_FRACTIONS)
    if q.kind == "ratio":
        return list(_RATIOS)
    if q.kind == "range":
        width = (q.upper or 0) - n
        return [f"{_fmt(n + k)}-{_fmt(n + k + width)}{q.unit}" for k in (-2, -1, 1, 2, 3) if n + k >= 1]
    if q.kind == "year":
        return [f"{_fmt(n + k)}{q.unit}" for k in (-2, -1, 1, 2, 3)]
    if q.kind == "cn":
        return [f"{int_to_cn(int(n) + k, before_unit=True)}{q.unit}" for k in (-1, 1, 2, -2, 3, 4) if 1 <= n + k <= 10]
    if normalize(q.unit) == "%":
        return [f"{_fmt(n + k)}%" for k in (-30, -20, -10, 10, 20) if 10 <= n + k <= 100]
    if n < 10:
        steps = [n + k for k in (-2, -1, 1, 2, 3)] + [n * 2]
    else:
        steps = [_nice(n * f) for f in (0.5, 0.8, 1.2, 1.5, 2)]
    return [f"{_fmt(v)}{q.unit}" for v in steps if v >= 1]


def _same_quantity_kind(a: str, b: str) -> bool:
    qa, qb = _quantity(a), _quantity(b)
    return qa.kind == qb.kind and normalize(qa.unit) == normalize(qb.unit)






def _level(value: str) -> tuple[str, str]:
    """Split a body into (level, organ) as printed: 縣級紀檢監察機關 → (縣級, 紀檢監察機關)."""
    m = re.match(_LEVEL, normalize(value))
    return (value[: m.end()], value[m.end() :]) if m else ("", value)


def _body_key(text: str) -> str:
    """Bodies compared as the same organ: 級 dropped, 鎮/鄉鎮/鄉 one level, 「市(地)」 = 市,
    「各省(區、市)」 = 省, and 「市、縣兩級X」 spelt out as 「市X 縣X」."""
    t = normalize(text).replace("(地)", "").replace("各省(区、市)", "省")
    t = re.sub(r"([省市县乡镇])、([省市县乡镇])两级(" + _ORGAN[3:-1] + ")", r"\1\3 \2\3", t)
    return t.replace("级", "").replace("乡镇", "乡").replace("镇", "乡")


# Level alternatives per organ, in the way each organ is really named (縣委, not 縣級黨委).
_ORGAN_LEVELS = {
    "纪检监察机关": ("省級", "市(地)級", "縣級"),
    "纪委": ("省級", "市(地)級", "縣級", "鄉鎮"),
    "财政": ("省級", "市級", "縣級", "鄉級"),
}
_ORGAN_NAMES = {
    "党委": ("省委", "市委", "縣委", "鄉鎮黨委"),
    "组织部": ("省委組織部", "市委組織部", "縣委組織部", "縣委宣傳部"),
    "组织部门": ("宣傳部門", "民政部門", "財政部門"),
}


def _body_alternatives(value: str) -> list[str]:
    if normalize(value).startswith("各省"):
        suffix = value[len("各省(區、市)") :]
        return [p + suffix for p in _PROVINCES]
    level, organ = _level(value)
    norm_organ = normalize(organ)
    if "两级" in normalize(level):
        return [f"{lv}{organ}" for lv in ("省、市兩級", "縣、鄉兩級", "省級")]
    if norm_organ in _ORGAN_NAMES:
        return list(_ORGAN_NAMES[norm_organ])
    levels = _ORGAN_LEVELS.get(norm_organ, _LEVELS)
    if "级" not in normalize(level) and norm_organ == "财政":  # 縣財政 style: 省財政, 市財政
        levels = ("省", "市", "縣", "鄉鎮")
    return [f"{lv}{organ}" for lv in levels]


def _stated(value: str, fact: Fact) -> bool:
    """Whether *value* is (also) stated by the fact's clause — such a value is never a distractor.
    A two-level body overlaps each of its levels (「市、縣兩級…」 vs 「縣級…」): also excluded."""
    if fact.type == "body":
        mine, other = _body_key(fact.value).split(), _body_key(value).split()
        if set(mine) & set(other):
            return True
        return any(k in _body_key(fact.clause.text) for k in other)
    return occurs(value, fact.clause.text)


def _falsifies(fact: Fact, alt: str) -> bool:
    """Whether putting *alt* in place of the fact makes the statement really false. In what a rule
    requires, a lower bound (不少于12天) is falsified only by a larger value, an upper bound only by
    a smaller one. In the rule's condition it is the other way round: 「對黨員人數50名以上的村…應
    建立黨總支」 stays true for 100名以上 (those villages are covered) and is false for 30名以上;
    「任職不到2年調整的…應報備案」 stays true for 不到1年 and is false for 不到3年."""
    if fact.type == "frequency":
        if fact.bound == "min":  # 「至少每半年」: only a shorter interval is stricter
            return _FREQUENCY_DAYS.get(alt, 0) < _FREQUENCY_DAYS.get(fact.value, 0)
        return True
    if fact.type != "quantity" or _quantity(fact.value).kind in ("fraction", "ratio"):
        return True
    a, b = _quantity(fact.value).number, _quantity(alt).number
    if fact.bound in ("min", "max") and fact.condition:
        return b < a if fact.bound == "min" else b > a
    if fact.bound == "min":
        return b > a
    if fact.bound == "max":
        return b < a
    if fact.bound == "approx":  # 「40歲左右」 does not cover 35 but is not 50 either
        return abs(b - a) >= 0.25 * a
    return True


def _fold_post(text: str) -> str:
    """Posts compared as one: 紀委委員 = 紀檢委員; 專職 set aside."""
    return normalize(text).replace("纪委委员", "纪检委员").replace("专职", "")


def _cjk_bigrams(text: str) -> set[str]:
    return {text[k : k + 2] for k in range(len(text) - 1) if is_cjk(text[k]) and is_cjk(text[k + 1])}


CONTEXT = 20  # characters each side of a fact that make up its «stem words»
SAME_CONTEXT = 0.5  # a sentence sharing this IDF-weighted share of the stem words says the same thing


class _Pools:
    """Corpus-wide values per fact type: «other amounts/bodies from the corpus» for distractors;
    the documents' sentences, to check a distractor against the whole document."""

    def __init__(self, facts: Sequence[Fact], clauses: Iterable[Clause] = ()) -> None:
        self.values: dict[str, list[str]] = defaultdict(list)
        self.by_doc: dict[str, list[Fact]] = defaultdict(list)
        self.lists: list[Fact] = []
        for f in facts:
            self.by_doc[f.clause.doc_id].append(f)
            if f.type == "list":
                if not boilerplate_list(f.parts):
                    self.lists.append(f)
            elif f.value not in self.values[f.type]:
                self.values[f.type].append(f.value)
        # Every sentence of every document (normalised), with document-level bigram weights.
        self.sentences: dict[str, list[tuple[str, int, int, str]]] = defaultdict(list)
        seen = {f.clause.id: f.clause for f in facts}
        for c in clauses:
            seen.setdefault(c.id, c)
        for c in seen.values():
            norm = normalize(c.text)
            for a, b in sentences(c.text):
                self.sentences[c.doc_id].append((c.id, a, b, norm[a:b]))
        self.doc_text = {d: "\n".join(x[3] for x in rows) for d, rows in self.sentences.items()}
        self.idf: dict[str, dict[str, float]] = {}
        for d, rows in self.sentences.items():
            df = Counter(g for row in rows for g in _cjk_bigrams(row[3]))
            self.idf[d] = {g: math.log((1 + len(rows)) / (1 + n)) + 0.1 for g, n in df.items()}

    def _context(self, fact: Fact) -> set[str]:
        norm = normalize(fact.clause.text)
        s, e = next((a, b) for a, b in sentences(fact.clause.text) if a <= fact.start < b)
        left = norm[max(s, fact.start - CONTEXT) : fact.start]
        right = norm[fact.end : min(e, fact.end + CONTEXT)]
        return _cjk_bigrams(left) | _cjk_bigrams(right)

    def true_elsewhere(self, fact: Fact, value: str) -> bool:
        """Whether the fact's document states *value* in a sentence that says what the stem says
        (its distinctive words) — then the statement with *value* may be true as well. A post the
        document names anywhere is excluded outright (鄉鎮紀委委員 exist, so 「還應配備紀檢委員」 is
        arguably true)."""
        doc = fact.clause.doc_id
        if fact.type == "post":
            return _fold_post(value) in _fold_post(self.doc_text.get(doc, ""))
        if fact.type in ("term", "title", "element", "list"):
            return False  # other real terms: the stem names one of them only
        ctx = self._context(fact)
        if not ctx:
            return False
        idf = self.idf.get(doc, {})
        total = sum(idf.get(g, 1.0) for g in ctx)
        own = next((a, b) for a, b in sentences(fact.clause.text) if a <= fact.start < b)
        for cid, a, b, sent in self.sentences.get(doc, ()):
            if cid == fact.clause.id and (a, b) == own:
                continue
            if fact.type == "body":
                if not any(k in _body_key(sent) for k in _body_key(value).split()):
                    continue
            elif not occurs(value, sent):
                continue
            shared = sum(idf.get(g, 1.0) for g in ctx & _cjk_bigrams(sent))
            if shared >= SAME_CONTEXT * total:
                return True
        return False

    def corpus_alternatives(self, fact: Fact, rng: random.Random) -> list[str]:
        same = [v for v in self.values[fact.type] if v != fact.value]
        rng.shuffle(same)
        if fact.type == "quantity":
            return [v for v in same if _same_quantity_kind(v, fact.value)]
        if fact.type == "body":  # same organ, same naming style (縣財政 / 縣級財政)
            style = lambda v: (normalize(_level(v)[1]), "级" in normalize(_level(v)[0]))
            return [v for v in same if style(v) == style(fact.value)]
        if fact.type == "post":  # not another member of the same committee (組織委員 for 紀檢委員)
            family = normalize(fact.value).endswith("委员")
            return [v for v in same + list(POSTS) if v != fact.value
                    and not (family and normalize(v).endswith("委员"))]
        if fact.type == "term":
            same = [v for v in same if _term_shape(v) == _term_shape(fact.value) and not ideological(v)]
        elif fact.type == "title":  # a law for a law (…法), a rule for a rule (…規則)
            same = [v for v in same if normalize(v)[-1] == normalize(fact.value)[-1]]
        else:
            return []
        # A term from the same document reads most plausibly (its own vocabulary) — first.
        local = {f.value for f in self.by_doc[fact.clause.doc_id]}
        return sorted(same, key=lambda v: v not in local)

    def alternatives(self, fact: Fact, rng: random.Random) -> tuple[list[str], list[str]]:
        """(values from the corpus, perturbations of the fact's own value), shuffled. Terms and
        titles have no perturbations: a changed count in a fixed term is an invented term."""
        own: list[str] = []
        if fact.type == "quantity":
            own = _quantity_alternatives(fact.value)
        elif fact.type == "frequency":
            own = [f for f in FREQUENCIES if normalize(f) != normalize(fact.value)]
        elif fact.type == "body":
            own = _body_alternatives(fact.value)
        corpus = [] if fact.type == "frequency" else self.corpus_alternatives(fact, rng)
        rng.shuffle(own)
        return corpus, own

    def sibling_parts(self, fact: Fact, rng: random.Random) -> list[str]:
        """Wrong options for a list (多選): items of other lists of the same make — as long as the
        list's items, sharing what they share (「黨員…」, 「有…」, 「…規范」) so that none stands out —
        from the same document first; never an item the fact's document states anywhere."""
        parts = [normalize(p) for p in fact.parts]
        mine = set(parts)
        sizes = {len(p) for p in parts}
        prefix = _common(parts)
        suffix = _common([p[::-1] for p in parts])[::-1]
        doc_text = self.doc_text.get(fact.clause.doc_id, "")
        near, far = [], []
        for other in self.lists:
            if normalize(other.value) == normalize(fact.value):
                continue
            for p in other.parts:
                n = normalize(p)
                if n in mine or n in doc_text or not n.startswith(prefix) or not n.endswith(suffix):
                    continue
                if len(n) not in sizes and not (len(sizes) > 1 and min(sizes) <= len(n) <= max(sizes)):
                    continue
                (near if other.clause.doc_id == fact.clause.doc_id else far).append(p)
        rng.shuffle(near)
        rng.shuffle(far)
        out: list[str] = []
        for p in near + far:
            if all(normalize(p) != normalize(q) for q in out):
                out.append(p)
        return out


def _common(words: Sequence[str]) -> str:
    """The prefix all *words* share (at most two characters)."""
    out = ""
    for k in range(min(2, *(len(w) - 1 for w in words))):
        if len({w[k] for w in words}) != 1:
            break
        out += words[0][k]
    return out


def distractors(fact: Fact, pools: _Pools, rng: random.Random, *, falsify: bool = False, limit: int = 3) -> list[str]:
    """Up to three wrong values of the fact's type, none stated by the clause nor said of the
    same thing elsewhere in its document; with *falsify*, only values that make the sentence
    really false. Corpus values come first (they are the most plausible), then perturbations of
    the fact itself."""
    corpus, own = pools.alternatives(fact, rng)
    out: list[str] = []
    seen = {canonical(fact.value) if fact.type != "body" else _body_key(fact.value)}
    for value in corpus[:2] + own + corpus[2:]:
        key = canonical(value) if fact.type != "body" else _body_key(value)
        if key in seen or _stated(value, fact) or (falsify and not _falsifies(fact, value)):
            continue
        if fact.type == "quantity" and fact.bound == "min" and normalize(value).endswith("%") and \
                _quantity(value).number >= 100:
            continue  # 「100%以上」 cannot be

        if pools.true_elsewhere(fact, value):
            continue
        seen.add(key)
        out.append(value)
        if len(out) == limit:
            break
    return out
