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

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from assistant.corpus.records import Clause
from assistant.text import (
    cn_to_int,
    fold_width,
    int_to_cn,
    is_cjk,
    normalize,
    sentences,
)

Kind = Literal["cloze", "choice", "multi", "truefalse"]
# Every kind, in handout order (填空, 單選, 多選, 判斷).
KINDS: tuple[Kind, ...] = ("cloze", "choice", "multi", "truefalse")
# What ``--kind mixed`` splits a quiz into (多選 only when asked for: --kind multi or --kinds).
MIXED_KINDS: tuple[Kind, ...] = ("cloze", "choice", "truefalse")
KIND_NAMES = {"cloze": "填空題", "choice": "單選題", "multi": "多選題", "truefalse": "判斷題"}
# Names a trainer may write in --kinds/--points: 填空=5, 单选=5, multi=5 …
KIND_ALIASES = {"填空": "cloze", "填空題": "cloze", "单选": "choice", "单选题": "choice", "選擇": "choice",
                "多选": "multi", "多选题": "multi", "判断": "truefalse", "判断题": "truefalse",
                "cloze": "cloze", "choice": "choice", "multi": "multi", "truefalse": "truefalse"}
BLANK = "＿＿＿＿"  # full-width low lines: not Markdown emphasis, visible in print
PAREN = "（　　）"  # the answer slot of a Chinese single-choice / true-false question
LETTERS = "ABCDE"
# Numbered clauses with at least one item. 0.8 before issue 15; items a trainer strikes (clauses
# that only recite the guiding ideology or a boilerplate list, answers the stem gives away) no
# longer count, which leaves 53 of 68.
COVERAGE_TARGET = 0.75


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
_MIN_BEFORE = ("不少于", "至少", "超过", "不低于", "满")
_MAX_BEFORE = ("不超过", "最多", "不到", "不足", "不高于", "不满")

FactType = Literal["quantity", "frequency", "body", "post", "term", "title", "element", "list"]
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
    # The number sits in the rule's *condition* (「對黨員人數50名以上的村,…應建立黨總支」,
    # 「任職不到2年調整的,應報備案」, 「任滿10年的必須交流」), not in what it requires: moving it
    # the way the condition already covers keeps the statement true.
    condition: bool = False
    parts: tuple[str, ...] = ()  # a ``list`` fact's items, as printed (多選 material)

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
            rank = {"body": 2, "post": 2, "title": 3, "element": 4, "list": 2}[self.type]
        return rank + (3 if self.clause.section_no == 0 else 0)

    @property
    def alterable(self) -> bool:
        """Whether the fact can be swapped for a wrong value of its kind — what makes a
        true/false statement about it worth judging. A named term (「三重一大」, 「五嚴守、五禁止」)
        is never altered: a variant of a fixed term (「四重一大」) would be invented."""
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


# A condition: 「對/凡 …50名以上的村」, a segment that ends in 的 (「任職不到2年調整的,」), or
# 「滿N年的」. 「使80%以上的鄉鎮黨委達到…」 and 「人均50元以上的標準」 are requirements.
_SEGMENT_END = ",,;;。::"


def _condition(text: str, start: int, end: int) -> bool:
    norm = normalize(text)
    left = max((norm.rfind(p, 0, start) for p in _SEGMENT_END), default=-1) + 1
    rights = [i for i in (norm.find(p, end) for p in _SEGMENT_END) if i >= 0]
    right = min(rights) if rights else len(norm)
    head, tail = norm[left:start], norm[end:right]
    if re.match(r"\s*(?:对于|对|凡)", head) and "的" in tail:
        return True
    if tail.endswith("的") and not re.search("[应要须得]", tail):
        return True
    return head.endswith("满") and tail.startswith("的")


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


def _enumeration(run: str, after: str) -> tuple[int, int] | None:
    """(start, end) of an enumeration closed by 等 whose items are as long as each other but share
    nothing (「資金扶助、項目推介、技能培訓、信息服務等方面」): a list for 多選, not for 填空."""
    segs = run.split("、")
    if len(segs) < 3:
        return None
    size = len(segs[1])
    if not 2 <= size <= 8 or any(len(x) != size for x in segs[1:-1]) or len(segs[0]) < size:
        return None
    last = segs[-1]
    if not (len(last) == size and after == "等") and not (len(last) > size and last[size] == "等"):
        return None
    start = len(segs[0]) - size
    return start, len(run) - len(last) + size


_LEAD_SEP = re.compile("[,,;;]")


def _lead_lists(text: str, norm: str) -> list[tuple[int, int, list[str]]]:
    """Lists whose items share their first word, one per comma: 「鄉鎮紀委要有牌子,有獨立的辦公
    場所,有必要的辦公辦案設備,有基本的交通保障」 → (start, end, [有牌子, 有獨立的辦公場所, …])."""
    out = []
    for s, e in sentences(text):
        cuts = [s] + [m.end() for m in _LEAD_SEP.finditer(norm, s, e)]
        segs = [(a, b - (1 if b > a and norm[b - 1] in ",,;;" else 0)) for a, b in zip(cuts, cuts[1:] + [e])]
        segs = [(a, b - (1 if norm[b - 1 : b] in "。" else 0)) for a, b in segs if b > a]
        i = 1
        while i < len(segs):
            lead = norm[segs[i][0] : segs[i][0] + 1]
            j = i
            while j < len(segs) and norm[segs[j][0] : segs[j][0] + 1] == lead and 2 <= segs[j][1] - segs[j][0] <= 16:
                j += 1
            first = norm.rfind(lead, segs[i - 1][0], segs[i - 1][1]) if is_cjk(lead) else -1
            if j - i >= 2 and first >= 0 and 2 <= segs[i - 1][1] - first <= 16:
                spans = [(first, segs[i - 1][1])] + segs[i:j]
                out.append((spans[0][0], spans[-1][1], [text[a:b] for a, b in spans]))
            i = max(j, i + 1)
    return out


def extract_facts(clause: Clause) -> list[Fact]:
    """The facts of *clause*, in text order."""
    text, norm = clause.text, normalize(clause.text)
    facts: list[Fact] = []
    quoted = [m.span() for m in TERM_RE.finditer(norm)]
    protected = quoted + [m.span() for m in _PROPER_RE.finditer(norm)]

    def add(type_: FactType, start: int, end: int, bound: bool = False) -> None:
        facts.append(Fact(clause, type_, text[start:end], start, end,
                          _bound(text, start, end) if bound else None,
                          bound and _bound(text, start, end) in ("min", "max") and _condition(text, start, end)))

    for pattern, type_ in ((QUANTITY_RE, "quantity"), (FREQUENCY_RE, "frequency")):
        for m in pattern.finditer(norm):
            if not _inside(m.span(), protected):
                add(type_, *m.span(), bound=True)
    for pattern, type_ in ((BODY_RE, "body"), (POST_RE, "post")):
        for m in pattern.finditer(norm):
            if not _inside(m.span(), quoted):
                add(type_, *m.span())
    def add_list(start: int, end: int, parts: Iterable[str]) -> None:
        parts = tuple(parts)
        if len(parts) >= 3 and len({normalize(p) for p in parts}) == len(parts):
            facts.append(Fact(clause, "list", text[start:end], start, end, parts=parts))

    for m in TERM_RE.finditer(norm):
        group = next(g for g in (1, 2, 3) if m[g])
        start, end = m.span(group)
        value = text[start:end]
        if group != 3 and len(value.split("、")) >= 3:
            # A long list is a choice item as a whole, a cloze item one member at a time and a
            # multiple-answer item (多選) as a list.
            add("term", start, end)
            add_list(start, end, (p for p in value.split("、") if len(p) >= 2))
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
            items = _parallel_items(m[0])
            for s, e in items:
                add("element", m.start() + s, m.start() + e)
            if items:
                add_list(m.start() + items[0][0], m.start() + items[-1][1],
                         (text[m.start() + s : m.start() + e] for s, e in items))
            elif (span := _enumeration(m[0], norm[m.end() : m.end() + 1])) is not None:
                add_list(m.start() + span[0], m.start() + span[1],
                         text[m.start() + span[0] : m.start() + span[1]].split("、"))
    for start, end, parts in _lead_lists(text, norm):
        if not _inside((start, end), quoted):
            add_list(start, end, parts)
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


def _term_shape(value: str) -> tuple[str, int]:
    """Terms that can stand in for each other: a document for a document, a list for a list of
    as many items, a short slogan for one of about the same length."""
    parts = value.split("、")
    if len(parts) > 1:
        return ("list", len(parts))
    if any(ch.isdigit() for ch in fold_width(value)):
        return ("digits", len(value))  # 「12371」, 「4+2+4」: a number for a number
    if _numeral_term(value):
        return ("count", len(value))
    return ("name", min(len(value), 6))
