"""Training quizzes built from the clauses: facts → items → export → grading.

A quiz item always tests one *fact* that stands verbatim in one clause:

* ``quantity``  — a number with its unit (10年, 106萬元, 80%, 50名, 1/3, 1:1, 3-5個, 一屆);
* ``frequency`` — how often something happens (每半年, 每季度, 每年);
* ``body``      — the organ responsible for something (縣級紀檢監察機關, 縣委組織部, 縣財政);
* ``term``      — a named list, slogan or document in quotes (“五步法”, “五嚴守、五禁止”,
  “12371”, 《行政監察法》);
* ``element``   — one member of a quoted list of three or more (“民主提案、＿＿、…”).

Each fact can become a cloze item (填空: the fact blanked out of its sentence), a choice item
(單選: the fact plus three distractors of the same type, none of which the clause states) and a
true/false item (判斷: the sentence as printed, or with the fact swapped for a distractor that
makes it false — for bounds such as 「不少于12天」 the swap goes the way that really falsifies).
The whole pool is a pure function of the corpus; a quiz is a seeded sample of the pool, so the
same seed and corpus give the same quiz.

Grading of free-text cloze answers is tolerant: Traditional/Simplified (via
:func:`assistant.text.normalize`), full-width digits, Chinese numerals (十年 = 10年,
百分之八十 = 80%, 三分之一 = 1/3), spaces and punctuation around or inside the answer.

This module is imported while the CLI parser is built: it imports nothing heavy (no gradio).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from .clauses import Clause, Corpus, load_corpus
from .text import cn_to_int, fold_width, fragments, int_to_cn, is_cjk, normalize, sentences

Kind = Literal["cloze", "choice", "truefalse"]
KINDS: tuple[Kind, ...] = ("cloze", "choice", "truefalse")
KIND_NAMES = {"cloze": "填空題", "choice": "單選題", "truefalse": "判斷題"}
BLANK = "＿＿＿＿"  # full-width low lines: not Markdown emphasis, visible in print
PAREN = "（　　）"  # the answer slot of a Chinese single-choice / true-false question
LETTERS = "ABCD"
COVERAGE_TARGET = 0.8


# --- Chinese numerals and canonical answers ------------------------------------------------------

_CN_RUN = re.compile("[零〇一二两三四五六七八九十百千]+")


# Removed before comparing answers: spaces and punctuation that carry no content (quotes,
# brackets, commas). 「%」「/」「:」「+」「-」 stay — they are part of 80%, 1/3, 1:1, 4+2+4, 3-5個.
_NOISE = re.compile(r"[\s\"'“”‘’「」『』《》〈〉()\[\]【】{}<>,,。、;;!!??…—·~]")


def canonical(text: str, *, strip: bool = True) -> str:
    """Comparable form of an answer: Simplified, half-width, lower case, Chinese numerals as
    digits (十年 → 10年, 百分之八十 → 80%, 三分之一 → 1/3); with *strip*, no spaces/punctuation."""
    t = normalize(str(text))
    t = re.sub(r"百分之([零〇一二两三四五六七八九十百]+|\d+)",
               lambda m: f"{_num(m[1])}%", t)
    t = re.sub(r"([零〇一二两三四五六七八九十]+|\d+)分之([零〇一二两三四五六七八九十]+|\d+)",
               lambda m: f"{_num(m[2])}/{_num(m[1])}", t)
    t = _CN_RUN.sub(lambda m: str(cn_to_int(m[0])), t)
    if strip:
        t = _NOISE.sub("", t).strip(".")
    return t


def _num(s: str) -> int:
    return int(s) if s.isdigit() else cn_to_int(s)


def occurs(value: str, text: str) -> bool:
    """Whether *value* is stated in *text*, in canonical form, as a whole number where it
    starts/ends with a digit (「2年」 is not stated by 「2012年」, 「0%」 not by 「80%」)."""
    v, t = canonical(value, strip=False), canonical(text, strip=False)
    if not v:
        return False
    lead = r"(?<![\d./:])" if v[0].isdigit() else ""
    trail = r"(?![\d./:])" if v[-1].isdigit() else ""
    return re.search(lead + re.escape(v) + trail, t) is not None


# --- facts ---------------------------------------------------------------------------------------

# Patterns are written in Simplified and run on ``normalize(text)``, which is length-preserving,
# so 縣/县, 於/于, 屆/届 variants all match and offsets slice the printed (Traditional) text.
_CN = "一二两三四五六七八九十"
# Arabic quantities: the unit is part of the fact (「10年」, 「106萬元」); ranges 3-5個, decimals.
_QTY_ARABIC = r"\d+(?:\.\d+)?(?:-\d+)?(?:万元|元|%|个月|年|个|名|天|岁|次|人|项|倍|届)"
# Chinese-numeral quantities, only with units that count something (一屆, 三年, 六種, 兩方面).
# 「一項重要保障」, 「一名大學生」, 「一個綜合性的」 use 一 as an article: not facts.
_QTY_CN = (rf"(?<![{_CN}])(?:[二两三四五六七八九十][{_CN}]{{0,2}}(?:个方面|方面|个月|年|名|次|届|种|项|天)"
           rf"|一(?:个月|年|次|届|天))")
QUANTITY_RE = re.compile(rf"\d+/\d+|\d+:\d+|{_QTY_ARABIC}|{_QTY_CN}")
# 「每年年底」, 「每年“七一”前夕」 name a date, not how often: no frequency to change.
FREQUENCY_RE = re.compile(r"每(?:半年|季度|年|月|周|两年|三年)(?!年底|“)")
# Responsible organs: an administrative level plus an organ (a bare 「黨委」 is too vague to
# test), or the provinces as a whole. 「鄉鎮紀委書記」 is a person, not a body.
# 「上級」 is left out: for a township, the county is the 上級 too, so it cannot be a key.
_LEVEL = r"(?:省级|市级|县级|乡级|市、县两级|市\(地\)级|县委|市委|省委|乡镇|县|市|省|镇)"
_ORGAN = r"(?:纪检监察机关|纪委|党委|财政|组织部门|组织部)"
BODY_RE = re.compile(
    rf"(?:{_LEVEL}{_ORGAN}|各省\(区、市\)(?:纪检监察机关)?)(?!书记|副书记|委员|班子|成员|干部|会)"
)
# Posts a rule says must be set up or filled (「應設紀檢委員」, 「擔任農村工作指導員」).
POST_RE = re.compile(
    r"(?:(?<=设)|(?<=备)|(?<=担任)|(?<=确定))(?:专职)?(?:纪委副书记|纪检干部|纪检委员|组织员|农村工作指导员|党建服务员)"
)
TERM_RE = re.compile(r"“([^“”]{2,40})”|「([^「」]{2,40})」|《([^《》]{2,40})》")
# Proper nouns that look like quantities: 「十七屆四中全會」, 「十七大」.
_PROPER_RE = re.compile(rf"[{_CN}]+届[{_CN}]中全会|十[{_CN}]大")
# A run of items joined by 、 (and a final 和/及/與): 「推進黨務公開、政務公開和村務公開」.
_LIST_RUN = re.compile(r"[\u4e00-\u9fff]+(?:、[\u4e00-\u9fff]+)+")
_LIST_END = "和及与等的为中在"
# Wording that turns a value into a bound; decides which alteration is really false.
_MIN_BEFORE = ("不少于", "至少", "超过", "不低于")
_MAX_BEFORE = ("不超过", "最多", "不到", "不足", "不高于")

FactType = Literal["quantity", "frequency", "body", "post", "term", "title", "element"]
Bound = Literal["min", "max", "approx"]


@dataclass(frozen=True)
class Fact:
    """One testable fact: ``clause.text[start:end] == value``."""

    clause: Clause
    type: FactType
    value: str
    start: int
    end: int
    bound: Bound | None = None

    @property
    def priority(self) -> int:
        """Lower is better: which of a clause's facts a quiz prefers to test. Amounts and
        counts first, slogans last; a preamble (「為…提出如下意見」) only when nothing else is left."""
        if self.type == "quantity":
            rank = 0
        elif self.type == "frequency":
            rank = 3 if self.value in ("每年", "每月") else 1
        elif self.type == "term":
            shape = _term_shape(self.value)[0]
            rank = 6 if normalize(self.value) in _BOILERPLATE else {"count": 1, "list": 2}.get(shape, 3)
        else:
            rank = {"body": 2, "post": 2, "title": 3, "element": 4}[self.type]
        return rank + (3 if self.clause.section_no == 0 else 0)

    @property
    def alterable(self) -> bool:
        """Whether the fact can be swapped for a wrong value of its kind — what makes a
        true/false statement about it worth judging (a bare slogan is not)."""
        if self.type == "term":
            return bool(_term_alternatives(self.value))
        return self.type in ("quantity", "frequency", "body", "post")


# Quoted phrases every Party document carries: testable, but a trainer asks them last.
_BOILERPLATE = {"三个代表"}


def _bound(text: str, start: int, end: int) -> Bound | None:
    before, after = normalize(text[max(0, start - 4) : start]), normalize(text[end : end + 2])
    # Upper bounds first: 「不超過」 ends with 「超過」.
    if before.endswith(_MAX_BEFORE) or after.startswith(("以下", "以内", "之内")):
        return "max"
    if before.endswith(_MIN_BEFORE) or after.startswith("以上"):
        return "min"
    if after.startswith("左右") or before.endswith("约"):
        return "approx"
    return None


def _inside(span: tuple[int, int], spans: Iterable[tuple[int, int]]) -> bool:
    return any(s <= span[0] and span[1] <= e for s, e in spans)


def _parallel_items(run: str) -> list[tuple[int, int]]:
    """(start, end) of the items of a parallel list inside *run*, or [] if it is not one.

    Items are the same length and share a character at one position (黨務公開/政務公開/村務公開,
    明確信仰/堅定信念/增強信心) — that is what makes a missing item recoverable, and it keeps
    verb phrases that merely share a comma out. The first item is cut from the end of the text
    before the first 、, the last from the start of the text after the final 、 or 和/及/與.
    """
    segs = run.split("、")
    if len(segs) >= 3:
        size = len(segs[1])
        if any(len(s) != size for s in segs[1:-1]):
            return []
    else:  # 「A、B和C」: the item size comes from B
        m = re.match(r"([\u4e00-\u9fff]{2,6})[和及与]", segs[1])
        if not m:
            return []
        size = len(m[1])
    if not 2 <= size <= 6 or len(segs[0]) < size or len(segs[-1]) < size:
        return []
    offsets, pos = [], 0
    for i, seg in enumerate(segs):
        if i == 0:
            offsets.append((pos + len(seg) - size, pos + len(seg)))
        elif i < len(segs) - 1:
            offsets.append((pos, pos + size))
        else:
            rest = seg[size:]
            if rest[:1] in ("和", "及", "与") and len(rest) > size:
                offsets.append((pos, pos + size))
                offsets.append((pos + size + 1, pos + 2 * size + 1))
                rest = rest[size + 1 :]
            else:
                offsets.append((pos, pos + size))
            # The last item must end where the list does: 「有場所議事」 is not 「有場所議」.
            if rest and rest[0] not in _LIST_END:
                return []
        pos += len(seg) + 1
    items = [run[s:e] for s, e in offsets]
    if len(items) < 3 or len(set(items)) < len(items):
        return []
    shared = any(len({it[k] for it in items}) == 1 for k in range(size))
    return offsets if shared else []


def extract_facts(clause: Clause) -> list[Fact]:
    """The facts of *clause*, in text order."""
    text, norm = clause.text, normalize(clause.text)
    facts: list[Fact] = []
    quoted = [m.span() for m in TERM_RE.finditer(norm)]
    protected = quoted + [m.span() for m in _PROPER_RE.finditer(norm)]

    def add(type_: FactType, start: int, end: int, bound: bool = False) -> None:
        facts.append(Fact(clause, type_, text[start:end], start, end,
                          _bound(text, start, end) if bound else None))

    for pattern, type_ in ((QUANTITY_RE, "quantity"), (FREQUENCY_RE, "frequency")):
        for m in pattern.finditer(norm):
            if not _inside(m.span(), protected):
                add(type_, *m.span(), bound=True)
    for pattern, type_ in ((BODY_RE, "body"), (POST_RE, "post")):
        for m in pattern.finditer(norm):
            if not _inside(m.span(), quoted):
                add(type_, *m.span())
    for m in TERM_RE.finditer(norm):
        group = next(g for g in (1, 2, 3) if m[g])
        start, end = m.span(group)
        value = text[start:end]
        if group != 3 and len(value.split("、")) >= 3:
            # A long list is a choice item as a whole and a cloze item one member at a time.
            add("term", start, end)
            offset = start
            for part in value.split("、"):
                if len(part) >= 2:
                    add("element", offset, offset + len(part))
                offset += len(part) + 1
        elif group == 3:
            add("title", start, end)
        elif not value.isdigit() or len(value) > 2:  # “4”, “2” are list markers, not facts
            add("term", start, end)
    for m in _LIST_RUN.finditer(norm):
        if not _inside(m.span(), quoted):
            for s, e in _parallel_items(m[0]):
                add("element", m.start() + s, m.start() + e)
    facts.sort(key=lambda f: (f.start, -f.end, f.type))
    return facts


# --- distractors ---------------------------------------------------------------------------------

FREQUENCIES = ("每月", "每季度", "每半年", "每年", "每兩年")
_FREQUENCY_DAYS = {"每月": 30, "每季度": 91, "每半年": 182, "每年": 365, "每兩年": 730}
# Posts a clause may require; extra ones make choice items about a post possible.
POSTS = ("紀檢委員", "組織委員", "宣傳委員", "組織員", "農村工作指導員", "黨建服務員",
         "專職紀委副書記", "專職紀檢干部")
_LEVELS = ("省級", "市級", "縣級", "鄉鎮")
_PROVINCES = ("各市(地)", "各縣(市、區)", "各鄉鎮")
_FRACTIONS = ("1/2", "1/3", "1/4", "2/3", "3/4", "1/5")
_RATIOS = ("1:1", "1:2", "2:1", "1:3", "3:1")
_NUMERALS = "二两三四五六七八九十"


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


def _numeral_term(value: str) -> bool:
    """A term that counts something (「五步法」, 「三會一課」, 「12371」)."""
    norm = normalize(value)
    return any(ch in _NUMERALS for ch in norm) or any(ch.isdigit() for ch in norm)


def _term_alternatives(value: str) -> list[str]:
    """Perturb the first count in a term: 五步法 → 四步法; 「五嚴守、五禁止」 → 「四嚴守、四禁止」;
    12371 → 12372. Only counts of two or more: 「一村一策」 has no count to change."""
    norm = normalize(value)
    digits = [i for i, ch in enumerate(norm) if ch.isdigit()]
    if digits:
        i = digits[-1] if len(digits) > 1 else digits[0]
        return [value[:i] + str(d) + value[i + 1 :] for d in range(10) if str(d) != norm[i]][:6]
    idx = next((i for i, ch in enumerate(norm) if ch in _NUMERALS), None)
    if idx is None:
        return []
    n = cn_to_int(norm[idx])
    out = []
    for k in (-1, 1, 2, -2, 3):
        if 2 <= n + k <= 10:
            new = int_to_cn(n + k, before_unit=True)
            out.append("".join(new if normalize(ch) == norm[idx] else ch for ch in value))
    return out


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
    """Whether putting *alt* in place of the fact makes the statement really false: a lower bound
    (不少于12天) is falsified only by a larger value, an upper bound only by a smaller one."""
    if fact.type == "frequency":
        if fact.bound == "min":  # 「至少每半年」: only a shorter interval is stricter
            return _FREQUENCY_DAYS.get(alt, 0) < _FREQUENCY_DAYS.get(fact.value, 0)
        return True
    if fact.type != "quantity" or _quantity(fact.value).kind in ("fraction", "ratio"):
        return True
    a, b = _quantity(fact.value).number, _quantity(alt).number
    if fact.bound == "min":
        return b > a
    if fact.bound == "max":
        return b < a
    if fact.bound == "approx":  # 「40歲左右」 does not cover 35 but is not 50 either
        return abs(b - a) >= 0.25 * a
    return True


class _Pools:
    """Corpus-wide values per fact type: «other amounts/bodies from the corpus» for distractors."""

    def __init__(self, facts: Sequence[Fact]) -> None:
        self.values: dict[str, list[str]] = defaultdict(list)
        self.by_doc: dict[str, list[Fact]] = defaultdict(list)
        for f in facts:
            self.by_doc[f.clause.doc_id].append(f)
            if f.value not in self.values[f.type]:
                self.values[f.type].append(f.value)

    def corpus_alternatives(self, fact: Fact, rng: random.Random) -> list[str]:
        same = [v for v in self.values[fact.type] if v != fact.value]
        rng.shuffle(same)
        if fact.type == "quantity":
            return [v for v in same if _same_quantity_kind(v, fact.value)]
        if fact.type == "body":  # same organ, same naming style (縣財政 / 縣級財政)
            style = lambda v: (normalize(_level(v)[1]), "级" in normalize(_level(v)[0]))  # noqa: E731
            return [v for v in same if style(v) == style(fact.value)]
        if fact.type == "post":
            return [v for v in same + list(POSTS) if v != fact.value]
        if fact.type == "term":
            same = [v for v in same if _term_shape(v) == _term_shape(fact.value)]
        elif fact.type != "title":
            return []
        # A term from the same document reads most plausibly (its own vocabulary) — first.
        local = {f.value for f in self.by_doc[fact.clause.doc_id]}
        return sorted(same, key=lambda v: v not in local)

    def alternatives(self, fact: Fact, rng: random.Random) -> tuple[list[str], list[str]]:
        """(values from the corpus, perturbations of the fact's own value), shuffled."""
        own: list[str] = []
        if fact.type == "quantity":
            own = _quantity_alternatives(fact.value)
        elif fact.type == "frequency":
            own = [f for f in FREQUENCIES if normalize(f) != normalize(fact.value)]
        elif fact.type == "body":
            own = _body_alternatives(fact.value)
        elif fact.type == "term":
            own = _term_alternatives(fact.value)
        corpus = [] if fact.type == "frequency" else self.corpus_alternatives(fact, rng)
        if fact.type == "term" and own:
            corpus = []  # a count term is best varied by its count (五步法 → 四步法)
        rng.shuffle(own)
        return corpus, own


def _term_shape(value: str) -> tuple[str, int]:
    """Terms that can stand in for each other: a document for a document, a list for a list of
    as many items, a short slogan for one of about the same length."""
    parts = value.split("、")
    if len(parts) > 1:
        return ("list", len(parts))
    if _numeral_term(value):
        return ("count", len(value))
    return ("name", min(len(value), 6))


def distractors(fact: Fact, pools: _Pools, rng: random.Random, *, falsify: bool = False) -> list[str]:
    """Up to three wrong values of the fact's type, none stated by the clause; with *falsify*,
    only values that make the sentence really false. Corpus values come first (they are the
    most plausible), then perturbations of the fact itself."""
    corpus, own = pools.alternatives(fact, rng)
    out: list[str] = []
    seen = {canonical(fact.value) if fact.type != "body" else _body_key(fact.value)}
    for value in corpus[:2] + own + corpus[2:]:
        key = canonical(value) if fact.type != "body" else _body_key(value)
        if key in seen or _stated(value, fact) or (falsify and not _falsifies(fact, value)):
            continue
        seen.add(key)
        out.append(value)
        if len(out) == 3:
            break
    return out


# --- items ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Citation:
    id: str
    label: str
    text: str


@dataclass(frozen=True)
class QuizItem:
    """One question with its key. ``answer`` is the string as it stands in the cited clause
    (for a choice item, the text of the correct option); for true/false, a boolean."""

    id: str
    kind: Kind
    stem: str
    answer: str | bool
    citation: Citation
    explanation: str
    options: tuple[str, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "kind": self.kind, "stem": self.stem}
        if self.options is not None:
            d["options"] = list(self.options)
        d |= {"answer": self.answer, "citation": asdict(self.citation), "explanation": self.explanation}
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> QuizItem:
        kind = d["kind"]
        if kind not in KINDS:
            raise ValueError(f"item {d.get('id')!r}: unknown kind {kind!r} (expected one of {KINDS})")
        options = tuple(d["options"]) if kind == "choice" else None
        answer = d["answer"]
        if kind == "truefalse" and not isinstance(answer, bool):
            raise ValueError(f"item {d['id']!r}: a true/false answer must be a boolean")
        if kind == "choice" and (not options or answer not in options):
            raise ValueError(f"item {d['id']!r}: the answer must be one of the options")
        return cls(d["id"], kind, d["stem"], answer, Citation(**d["citation"]), d["explanation"], options)

    @property
    def answer_text(self) -> str:
        """The key as a trainer reads it: 「C. 10年」, 「正確」, 「10年」."""
        if self.kind == "truefalse":
            return "正確" if self.answer else "錯誤"
        if self.kind == "choice" and self.options:
            return f"{LETTERS[self.options.index(str(self.answer))]}. {self.answer}"
        return str(self.answer)


@dataclass(frozen=True)
class _Candidate:
    """A pool item plus what sampling needs to know about it."""

    item: QuizItem
    fact: Fact
    sentence: tuple[int, int]  # the clause sentence it is about: one item per sentence per quiz

    @property
    def clause(self) -> Clause:
        return self.fact.clause


MAX_STEM = 110  # characters: longer sentences are cut to the fragments around the fact
MIN_CONTEXT = 40  # a cut stem keeps at least this much context
MIN_STEM = 16  # characters besides the blank: below this a question has no context
LEAN_MAX = 60  # a short sentence borrows the one before only if that one is short too
# Openings that refer back to the sentence before (「其中鄉鎮干部…」, 「同時…」).
_ANAPHORA = ("其中", "其", "此", "该", "上述", "同时", "另外", "此外", "并", "对此")
_TAIL_PUNCT = ",,、;;::"


def _windows(fact: Fact) -> list[tuple[int, int, bool, bool]]:
    """Candidate stem spans (start, end, cut_left, cut_right), best first: the sentence (with the
    one before when it is short and leans on it — 「任滿一屆的應適當交流…」 needs its subject),
    then fragments around the fact."""
    text = fact.clause.text
    sents = sentences(text)
    i = next(k for k, (s, e) in enumerate(sents) if s <= fact.start < e)
    s, e = sents[i]
    out: list[tuple[int, int, bool, bool]] = []
    if e - s < MIN_CONTEXT and i > 0 and sents[i - 1][1] - sents[i - 1][0] <= LEAN_MAX \
            and _leans_on(text[sents[i - 1][0] : sents[i - 1][1]], text[s:e]):
        out.append((sents[i - 1][0], e, False, False))
    if e - s <= MAX_STEM:
        out.append((s, e, False, False))
    frs = fragments(text, s, e)
    j = next(k for k, (fs, fe) in enumerate(frs) if fs <= fact.start < fe)
    lo = hi = j
    while frs[hi][1] - frs[lo][0] < MIN_CONTEXT and (lo > 0 or hi < len(frs) - 1):
        if lo > 0:  # the fragment before usually holds the subject
            lo -= 1
        if frs[hi][1] - frs[lo][0] < MIN_CONTEXT and hi < len(frs) - 1:
            hi += 1
    out.append((frs[lo][0], frs[hi][1], lo > 0, hi < len(frs) - 1))
    if fact.end <= frs[j][1]:
        out.append((frs[j][0], frs[j][1], j > 0, j < len(frs) - 1))
    return [w for w in out if w[0] <= fact.start and fact.end <= w[1]]


def _leans_on(prev: str, sent: str) -> bool:
    """Whether *sent* needs *prev* to be understood: it opens with a back-reference or with a word
    of *prev*, or takes up three characters of it (「鄉鎮紀委書記一般應任滿一屆…」 → 「任滿一屆的應適當交流…」)."""
    p, t = normalize(prev), normalize(sent)
    if t.startswith(_ANAPHORA) or (is_cjk(t[:2]) and t[:2] in p):  # 「補助金額…」 after 「…省財政補助…」
        return True
    grams = {p[k : k + 3] for k in range(len(p) - 2) if is_cjk(p[k : k + 3])}
    return any(t[k : k + 3] in grams for k in range(len(t) - 2))


def _render(text: str, cut_left: bool, cut_right: bool) -> str:
    """A stem span as a statement: 「……」 where it was cut, a full stop where the sentence ends
    on a semicolon or comma."""
    text = text.strip()
    if cut_right:
        text = text.rstrip(_TAIL_PUNCT + "。") + "……"
    elif text and text[-1] in _TAIL_PUNCT:
        text = text[:-1] + "。"
    return ("……" if cut_left else "") + text


def _gives_away(fact: Fact, rest: str) -> bool:
    if fact.type == "body":
        return _body_key(fact.value) in _body_key(rest)
    return occurs(fact.value, rest)


def _stem(fact: Fact, slot: str, *, fair: bool = True) -> tuple[str, tuple[int, int, bool, bool]] | None:
    """The first window with enough context whose stem, when *fair*, does not give the answer
    away (the value must not appear elsewhere in it — 「1/3」 three times in one sentence is cut
    down to one fragment)."""
    text = fact.clause.text
    for w in _windows(fact):
        s, e, cl, cr = w
        rest = text[s : fact.start] + "\u3000" + text[fact.end : e]
        if len(rest.strip()) < MIN_STEM or (fair and _gives_away(fact, rest)):
            continue
        return _render(text[s : fact.start] + slot + text[fact.end : e], cl, cr), w
    return None


def _sentence(fact: Fact) -> tuple[int, int]:
    return next((s, e) for s, e in sentences(fact.clause.text) if s <= fact.start < e)


def _quote(fact: Fact) -> str:
    s, e = _sentence(fact)
    return fact.clause.text[s:e].strip()


def _citation(clause: Clause) -> Citation:
    return Citation(clause.id, clause.label, clause.text)


CLOZE_MAX = 10  # a free-text blank longer than this is recitation, not a fact


def _cloze(fact: Fact, n: int) -> _Candidate | None:
    if len(fact.value.replace("、", "")) > CLOZE_MAX or fact.type == "title":
        return None
    stem = _stem(fact, BLANK)
    if stem is None:
        return None
    item = QuizItem(f"{fact.clause.id}:cloze:{n}", "cloze", stem[0], fact.value,
                    _citation(fact.clause), f"原文:「{_quote(fact)}」")
    return _Candidate(item, fact, _sentence(fact))


def _choice(fact: Fact, n: int, pools: _Pools) -> _Candidate | None:
    if fact.type == "element":
        return None
    rng = random.Random(f"{fact.clause.id}|{fact.start}|choice")
    wrong = distractors(fact, pools, rng)
    stem = _stem(fact, PAREN)
    if len(wrong) < 3 or stem is None:
        return None
    options = [fact.value, *wrong]
    rng.shuffle(options)
    item = QuizItem(f"{fact.clause.id}:choice:{n}", "choice", stem[0], fact.value,
                    _citation(fact.clause), f"原文:「{_quote(fact)}」", tuple(options))
    return _Candidate(item, fact, _sentence(fact))


def _truefalse(fact: Fact, n: int, pools: _Pools, value: bool) -> _Candidate | None:
    """The fact's sentence as printed (True), or with the fact swapped for a value that makes
    it really false (False). A bound word elsewhere in the span (「以上」 after another number)
    could make the swap ambiguous, so such facts are only stated, never altered."""
    text = fact.clause.text
    stem = _stem(fact, fact.value, fair=False)
    if stem is None:
        return None
    s, e, cl, cr = stem[1]
    if not value and _gives_away(fact, text[s : fact.start] + "\u3000" + text[fact.end : e]):
        return None  # the value twice in the span: changing one occurrence is ambiguous
    quote = f"原文:「{_quote(fact)}」"
    if not fact.alterable:
        return None  # 「…深化“小縣大城”發展戰略…」: nothing in it a cadre could get wrong
    if value:
        item = QuizItem(f"{fact.clause.id}:truefalse:{n}t", "truefalse", _render(text[s:e], cl, cr),
                        True, _citation(fact.clause), quote)
        return _Candidate(item, fact, _sentence(fact))
    if re.search(r"、[^“”]*”[的等]?“?$", text[max(0, fact.start - 30) : fact.start]):
        return None  # 「“民主提案、…、監督實施”的“五步法”」: the list right before it does the counting
    span = normalize(text[s:e])
    if fact.bound is None and any(w in span for w in _MIN_BEFORE + _MAX_BEFORE + ("以上", "以下", "左右")):
        return None
    rng = random.Random(f"{fact.clause.id}|{fact.start}|truefalse")
    wrong = distractors(fact, pools, rng, falsify=True)
    if not wrong:
        return None
    altered = _render(text[s : fact.start] + wrong[0] + text[fact.end : e], cl, cr)
    if occurs(altered, text):  # paranoia: the altered statement must not be in the clause
        return None
    item = QuizItem(f"{fact.clause.id}:truefalse:{n}f", "truefalse", altered, False,
                    _citation(fact.clause),
                    f"{quote} 題中把「{fact.value}」改成了「{wrong[0]}」,與原文不符。")
    return _Candidate(item, fact, _sentence(fact))


def _clause_candidates(clause: Clause, pools: _Pools) -> list[_Candidate]:
    """All items for one clause. A value repeated in the clause (「村官」 ten times) is tested once
    per kind: at its first occurrence that makes a fair stem."""
    out: list[_Candidate] = []
    done: set[tuple[str, str]] = set()
    stems: set[tuple[str, str]] = set()
    for n, fact in enumerate(extract_facts(clause), 1):
        for kind, make in (
            ("cloze", lambda f, n: _cloze(f, n)),
            ("choice", lambda f, n: _choice(f, n, pools)),
            ("truefalse", lambda f, n: _truefalse(f, n, pools, True)),
            ("false", lambda f, n: _truefalse(f, n, pools, False)),
        ):
            key = (kind, normalize(fact.value))
            if key in done:
                continue
            cand = make(fact, n)
            if cand is None or (cand.item.kind, cand.item.stem) in stems:
                continue
            done.add(key)
            stems.add((cand.item.kind, cand.item.stem))
            out.append(cand)
    return out


@lru_cache(maxsize=4)
def _pool(corpus: Corpus) -> tuple[_Candidate, ...]:
    facts = [f for c in corpus.clauses for f in extract_facts(c)]
    pools = _Pools(facts)
    return tuple(cand for c in corpus.clauses for cand in _clause_candidates(c, pools))


def generate_items(corpus: Corpus) -> list[QuizItem]:
    """Every item the corpus yields (the pool quizzes are sampled from), in corpus order."""
    return [c.item for c in _pool(corpus)]


# --- quizzes -------------------------------------------------------------------------------------

KindChoice = Literal["cloze", "choice", "truefalse", "mixed"]


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


def _md(text: str) -> str:
    """Escape Markdown in corpus text (「4+2+4」 and 「(一)」 are safe; *, _, <, | are not)."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def to_json(quiz: Quiz) -> str:
    return json.dumps(quiz.to_dict(), ensure_ascii=False, indent=2) + "\n"


CSV_FIELDS = ("no", "id", "kind", "stem", "option_a", "option_b", "option_c", "option_d",
              "answer", "answer_text", "citation_id", "citation_label", "citation_text", "explanation")


def to_csv(quiz: Quiz) -> str:
    """One row per item, for spreadsheets. Opened by Excel with the BOM that :func:`write_quiz`
    adds, so Chinese is not shown as mojibake."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, CSV_FIELDS, lineterminator="\n")
    w.writeheader()
    for no, it in enumerate(quiz.items, 1):
        opts = list(it.options or ()) + [""] * 4
        w.writerow({
            "no": no, "id": it.id, "kind": KIND_NAMES[it.kind], "stem": it.stem,
            "option_a": opts[0], "option_b": opts[1], "option_c": opts[2], "option_d": opts[3],
            "answer": json.dumps(it.answer) if isinstance(it.answer, bool) else it.answer,
            "answer_text": it.answer_text, "citation_id": it.citation.id,
            "citation_label": it.citation.label, "citation_text": it.citation.text,
            "explanation": it.explanation,
        })
    return buf.getvalue()


_SECTION_NUMERALS = "一二三四五六"
_INSTRUCTIONS = {
    "cloze": "在橫線上填寫原文中的關鍵內容(數字可寫阿拉伯數字或漢字,繁簡體均可)。",
    "choice": "每題只有一個正確選項,將其字母填入括號內。",
    "truefalse": "正確的在括號內打「√」,錯誤的打「×」。",
}


def _points(n: int) -> str:
    return f"共 {n} 題,每題 {100 // n} 分,滿分 100 分" if 100 % n == 0 else f"共 {n} 題,每題 1 分"


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
    lines += [f"**{_points(len(items))}({summary})。** 請獨立作答,答題時間 {minutes} 分鐘。", "",
              "姓名:＿＿＿＿＿＿　　單位:＿＿＿＿＿＿　　日期:＿＿＿＿＿＿　　得分:＿＿＿＿", ""]
    no = 0
    numbers: dict[str, int] = {}
    for part, kind in enumerate(k for k in KINDS if counts[k]):
        lines += [f"## {_SECTION_NUMERALS[part]}、{KIND_NAMES[kind]}", "", f"*{_INSTRUCTIONS[kind]}*", ""]
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
            lines.append(f"{numbers[it.id]}. **{_md(str(key))}**  ")
            lines.append(f"    出處:{_md(it.citation.label)}(條文編號 {it.citation.id})  ")
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

_TRUE = {"true", "t", "yes", "y", "1", "对", "是", "正确", "√", "✓", "✔", "o", "○"}
_FALSE = {"false", "f", "no", "n", "0", "错", "否", "错误", "×", "x", "✗", "✘"}


def parse_bool(response: Any) -> bool | None:
    """True/false answers as cadres write them: 對/錯, 正確/錯誤, √/×, T/F, true/false."""
    if isinstance(response, bool):
        return response
    key = normalize(str(response)).strip().strip("。.!!")
    return True if key in _TRUE else False if key in _FALSE else None


def check_answer(item: QuizItem, response: Any) -> bool:
    """Whether *response* is right. Cloze answers are compared in :func:`canonical` form
    (script, width, numerals, punctuation); a choice may be answered by letter or option text."""
    if response is None or (isinstance(response, str) and not response.strip()):
        return False
    if item.kind == "truefalse":
        return parse_bool(response) is item.answer
    if item.kind == "choice":
        text = str(response).strip()
        letter = fold_width(text).upper().rstrip(".、. ")
        if len(letter) == 1 and letter in LETTERS[: len(item.options or ())]:
            return (item.options or ())[LETTERS.index(letter)] == item.answer
        return canonical(text) == canonical(str(item.answer))
    return canonical(str(response)) == canonical(str(item.answer))


@dataclass(frozen=True)
class ItemResult:
    item: QuizItem
    given: Any
    correct: bool


@dataclass
class GradeReport:
    trainee: str
    results: list[ItemResult] = field(default_factory=list)

    @property
    def score(self) -> int:
        return sum(r.correct for r in self.results)

    @property
    def total(self) -> int:
        return len(self.results)

    @property
    def wrong(self) -> list[ItemResult]:
        return [r for r in self.results if not r.correct]

    def to_dict(self) -> dict[str, Any]:
        return {
            "trainee": self.trainee, "score": self.score, "total": self.total,
            "percent": round(100 * self.score / self.total, 1) if self.total else 0.0,
            "results": [{"id": r.item.id, "kind": r.item.kind, "given": r.given, "correct": r.correct,
                         "answer": r.item.answer, "citation": asdict(r.item.citation)}
                        for r in self.results],
        }


def grade(quiz: Quiz, answers: Mapping[str, Any], trainee: str = "") -> GradeReport:
    """Grade one trainee's answers (item id → response). Unanswered items count as wrong;
    answers to ids not in the quiz are an error (a sheet for another quiz)."""
    ids = {it.id for it in quiz.items}
    stray = sorted(set(answers) - ids)
    if stray and len(stray) == len(answers):
        raise ValueError(f"none of the answers belong to this quiz (e.g. {stray[0]!r})")
    if stray:
        raise ValueError(f"answers for items not in the quiz: {', '.join(stray[:5])}")
    return GradeReport(trainee, [ItemResult(it, answers.get(it.id), check_answer(it, answers.get(it.id)))
                                 for it in quiz.items])


def answer_sheet(quiz: Quiz, trainee: str = "") -> dict[str, Any]:
    """A blank answer sheet to fill in (JSON), in question order."""
    return {"trainee": trainee, "answers": {it.id: "" for it in quiz.items}}


def load_answers(path: str | Path) -> tuple[str, dict[str, Any]]:
    """(trainee, answers) from an answer sheet: JSON {"trainee", "answers": {id: …}}, a bare
    JSON {id: …} or [{"id", "answer"}], or CSV with columns id,answer. The trainee defaults to
    the file name."""
    path = Path(path)
    raw = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".csv":
        rows = list(csv.DictReader(io.StringIO(raw)))
        if rows and not {"id", "answer"} <= set(rows[0]):
            raise ValueError(f"{path}: a CSV answer sheet needs the columns id,answer")
        trainee = next((r.get("trainee") for r in rows if r.get("trainee")), None) or path.stem
        return trainee, {r["id"]: r["answer"] for r in rows}
    data = json.loads(raw)
    if isinstance(data, list):
        return path.stem, {r["id"]: r.get("answer") for r in data}
    if isinstance(data, dict) and isinstance(data.get("answers"), dict):
        return str(data.get("trainee") or path.stem), dict(data["answers"])
    if isinstance(data, dict):
        return path.stem, dict(data)
    raise ValueError(f"{path}: not an answer sheet")


def item_analysis(quiz: Quiz, reports: Sequence[GradeReport]) -> list[tuple[int, QuizItem, float]]:
    """(question number, item, share of trainees right), hardest first: what to re-teach."""
    rows = []
    for no, it in enumerate(quiz.items, 1):
        right = sum(r.correct for rep in reports for r in rep.results if r.item.id == it.id)
        rows.append((no, it, right / len(reports) if reports else 0.0))
    return sorted(rows, key=lambda r: (r[2], r[0]))


def format_reports(quiz: Quiz, reports: Sequence[GradeReport]) -> str:
    """The trainer's score sheet: one block per trainee (score, what was wrong, the right answer
    and its source) and, for a class, the items most often missed."""
    number = {it.id: no for no, it in enumerate(quiz.items, 1)}
    out = [f"{quiz.title}:{len(reports)} 份答卷", ""]
    for rep in reports:
        pct = 100 * rep.score / rep.total if rep.total else 0
        out.append(f"■ {rep.trainee}:{rep.score}/{rep.total}({pct:.0f}%)")
        for r in rep.wrong:
            given = "(未作答)" if r.given in (None, "") else f"作答「{r.given}」"
            out.append(f"  第{number[r.item.id]}題 {KIND_NAMES[r.item.kind]} ✗ {given},"
                       f"正確答案「{r.item.answer_text}」 — {r.item.citation.label}")
        out.append("")
    if len(reports) > 1:
        out.append("各題答對率(由低到高):")
        for no, it, share in item_analysis(quiz, reports):
            out.append(f"  第{no}題 {share:.0%}  {it.stem[:30]}…")
    return "\n".join(out).rstrip() + "\n"


# --- coverage ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DocCoverage:
    doc_id: str
    title: str
    clauses: int
    covered: int
    numbered: int
    numbered_covered: int
    kinds: dict[str, int]


def coverage(corpus: Corpus) -> list[DocCoverage]:
    """Per document: how many clauses (and numbered clauses) yield at least one item."""
    pool = _pool(corpus)
    with_items = {c.clause.id for c in pool}
    rows = []
    for d in corpus.documents:
        clauses = corpus.by_doc(d.id)
        numbered = [c for c in clauses if c.numbered]
        kinds = Counter(c.item.kind for c in pool if c.clause.doc_id == d.id)
        rows.append(DocCoverage(d.id, d.title, len(clauses), sum(c.id in with_items for c in clauses),
                                len(numbered), sum(c.id in with_items for c in numbered),
                                {k: kinds[k] for k in KINDS}))
    return rows


def format_coverage(rows: Sequence[DocCoverage]) -> str:
    out = ["文件  條文(有題/全部)  編號條文(有題/全部)  填空  單選  判斷  標題"]
    for r in rows:
        num = f"{r.numbered_covered}/{r.numbered}" if r.numbered else "—(無編號條文)"
        out.append(f"{r.doc_id:<4}  {r.covered:>3}/{r.clauses:<3}          {num:<16}   "
                   f"{r.kinds['cloze']:>4}  {r.kinds['choice']:>4}  {r.kinds['truefalse']:>4}  {r.title}")
    n_cov, n_all = sum(r.numbered_covered for r in rows), sum(r.numbered for r in rows)
    c_cov, c_all = sum(r.covered for r in rows), sum(r.clauses for r in rows)
    share = n_cov / n_all if n_all else 0.0
    kinds = {k: sum(r.kinds[k] for r in rows) for k in KINDS}
    out += ["",
            f"全部條文:{c_cov}/{c_all} 有題({c_cov / c_all:.0%})",
            f"編號條文:{n_cov}/{n_all} 有題({share:.0%}),目標 ≥ {COVERAGE_TARGET:.0%}:"
            + ("達成" if share >= COVERAGE_TARGET else "未達成"),
            "題庫:" + "、".join(f"{KIND_NAMES[k]} {v}" for k, v in kinds.items()) + f",共 {sum(kinds.values())} 題"]
    return "\n".join(out) + "\n"


# --- CLI -----------------------------------------------------------------------------------------


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = ("出題:assistant quiz --n 20 --doc 2 --format md --out quiz.md;"
                     "評分:assistant quiz --grade quiz.json --answers 張三.json 李四.json;"
                     "覆蓋率:assistant quiz --stats")
    p.add_argument("--n", type=int, default=20, help="number of items (default 20)")
    p.add_argument("--doc", help="document number or id (4 or d4); default: all five")
    p.add_argument("--section", help="section within --doc: 二, 2 or the start of its heading")
    p.add_argument("--kind", choices=["cloze", "choice", "truefalse", "mixed"], default="mixed")
    p.add_argument("--seed", type=int, default=7, help="same seed + same corpus = same quiz")
    p.add_argument("--format", choices=["json", "csv", "md", "text"],
                   help="json|csv|md for a quiz (default: from --out, else json); json|text for --grade")
    p.add_argument("--out", help="write to this file instead of stdout")
    p.add_argument("--sheet", action="store_true", help="also write a blank answer sheet OUT.answers.json")
    p.add_argument("--stats", action="store_true", help="print the coverage report and exit")
    p.add_argument("--grade", metavar="QUIZ.json", help="grade answer sheets against this quiz")
    p.add_argument("--answers", nargs="+", metavar="ANSWERS", help="answer sheets (JSON or CSV id,answer)")


def _write(text: str, out: str | None, *, bom: bool = False) -> None:
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text, encoding="utf-8-sig" if bom else "utf-8")
        print(f"quiz: wrote {out}", file=sys.stderr)
    else:
        sys.stdout.write(text)


def run(args: argparse.Namespace) -> int:
    if args.grade or args.answers:
        if not (args.grade and args.answers):
            print("assistant quiz: error: --grade QUIZ.json needs --answers FILE …", file=sys.stderr)
            return 2
        quiz = load_quiz(args.grade)
        reports = [grade(quiz, answers, trainee) for trainee, answers in map(load_answers, args.answers)]
        if args.format == "json":
            text = json.dumps({"quiz": quiz.title, "reports": [r.to_dict() for r in reports]},
                              ensure_ascii=False, indent=2) + "\n"
        else:
            text = format_reports(quiz, reports)
        _write(text, args.out)
        return 0
    corpus = load_corpus()
    if args.stats:
        _write(format_coverage(coverage(corpus)), args.out)
        return 0
    fmt = args.format or (Path(args.out).suffix.lstrip(".").lower() if args.out else "json")
    fmt = {"markdown": "md"}.get(fmt, fmt)
    if fmt not in ("json", "csv", "md"):
        print(f"assistant quiz: error: cannot write a quiz as {fmt!r} (json, csv or md)", file=sys.stderr)
        return 2
    if args.section and not args.doc:
        print("assistant quiz: error: --section needs --doc (every document has a section 一)", file=sys.stderr)
        return 2
    quiz = build_quiz(corpus, args.n, doc=args.doc, section=args.section, kind=args.kind, seed=args.seed)
    if len(quiz.items) < args.n:
        print(f"quiz: only {len(quiz.items)} items for this selection (asked for {args.n})", file=sys.stderr)
    _write(render(quiz, fmt, corpus), args.out, bom=fmt == "csv")
    if args.sheet:
        sheet = Path(args.out).with_suffix(".answers.json") if args.out else Path("answers.json")
        sheet.write_text(json.dumps(answer_sheet(quiz), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"quiz: wrote blank answer sheet {sheet}", file=sys.stderr)
    return 0
