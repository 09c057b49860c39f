"""Quiz items (填空, 單選, 多選, 判斷) made from the facts of a clause; the pool of a whole corpus.

An item is left out of the pool when a trainer would strike it (:mod:`assistant.quiz.checks`):
ideological boilerplate, boilerplate lists, a count whose list stands in the stem, an answer the
stem gives away (「(以下簡稱紅十字會法)」, a paired phrase, the only option sharing the stem's
words)."""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any, Literal

from assistant.corpus.records import Clause, Corpus
from assistant.quiz.checks import (
    BOILERPLATE_ITEMS,
    abbreviation_follows,
    boilerplate_list,
    count_visible,
    ideological,
    paired,
)
from assistant.quiz.distractors import _body_key, _Pools, distractors
from assistant.quiz.facts import (
    _MAX_BEFORE,
    _MIN_BEFORE,
    BLANK,
    COVERAGE_TARGET,
    KIND_NAMES,
    KINDS,
    LETTERS,
    PAREN,
    QUANTITY_RE,
    Fact,
    Kind,
    extract_facts,
    occurs,
)
from assistant.text import (
    cn_to_int,
    fragments,
    is_cjk,
    normalize,
    sentences,
)


@dataclass(frozen=True)
class QuizSource:
    """The clause a quiz item was made from (its JSON key stays ``citation``): not the answering
    layer's :class:`~assistant.answering.records.Citation`, which quotes an answer's sentence."""

    id: str
    label: str
    text: str


Answer = str | bool | tuple[str, ...]


@dataclass(frozen=True)
class QuizItem:
    """One question with its key. ``answer`` is the string as it stands in the cited clause
    (for a choice item, the text of the correct option); for true/false, a boolean; for a
    multiple-answer item, the correct options' texts in option order.

    ``id`` is what an answer sheet names: inside the pool it says where the item comes from; in a
    quiz it is opaque (:func:`assistant.quiz.sampling.item_id`). ``key`` names the question itself
    (its content), the same in every quiz that uses it: per-item correct rates are kept by it.
    ``points`` is what the item is worth in its quiz; ``stats`` the correct rate recorded when
    answer sheets were graded (:func:`difficulty` turns it into 易/中/難)."""

    id: str
    kind: Kind
    stem: str
    answer: Answer
    citation: QuizSource
    explanation: str
    options: tuple[str, ...] | None = None
    key: str = ""
    points: float | None = None
    stats: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", content_key(self.kind, self.stem, self.options))

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "kind": self.kind, "stem": self.stem}
        if self.options is not None:
            d["options"] = list(self.options)
        answer = list(self.answer) if isinstance(self.answer, tuple) else self.answer
        d |= {"answer": answer, "citation": asdict(self.citation), "explanation": self.explanation,
              "key": self.key, "knowledge_point": self.citation.label}
        if self.points is not None:
            d["points"] = self.points
        if self.stats:
            d["stats"] = dict(self.stats)
            d["difficulty"] = difficulty(self.stats)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> QuizItem:
        kind = d["kind"]
        if kind not in KINDS:
            raise ValueError(f"item {d.get('id')!r}: unknown kind {kind!r} (expected one of {KINDS})")
        options = tuple(d["options"]) if kind in ("choice", "multi") else None
        answer = d["answer"]
        if kind == "truefalse" and not isinstance(answer, bool):
            raise ValueError(f"item {d['id']!r}: a true/false answer must be a boolean")
        if kind == "choice" and (not options or answer not in options):
            raise ValueError(f"item {d['id']!r}: the answer must be one of the options")
        if kind == "multi":
            if not isinstance(answer, list) or not options or not answer or any(a not in options for a in answer):
                raise ValueError(f"item {d['id']!r}: a multiple-answer key must be a list of options")
            answer = tuple(answer)
        return cls(d["id"], kind, d["stem"], answer, QuizSource(**d["citation"]), d["explanation"], options,
                   d.get("key") or "", d.get("points"), d.get("stats"))

    @property
    def letters(self) -> str:
        """The key's letters: 「C」 for a choice, 「A、C、D」 for a multiple-answer item."""
        if self.kind == "choice" and self.options:
            return LETTERS[self.options.index(str(self.answer))]
        if self.kind == "multi" and self.options:
            return "、".join(LETTERS[self.options.index(a)] for a in self.answer)  # type: ignore[union-attr]
        return ""

    @property
    def answer_text(self) -> str:
        """The key as a trainer reads it: 「C. 10年」, 「A、C、D」, 「正確」, 「10年」."""
        if self.kind == "truefalse":
            return "正確" if self.answer else "錯誤"
        if self.kind == "choice" and self.options:
            return f"{self.letters}. {self.answer}"
        if self.kind == "multi":
            return self.letters
        return str(self.answer)

    @property
    def knowledge_point(self) -> str:
        """知識點: the clause the item tests (its label)."""
        return self.citation.label


def content_key(kind: str, stem: str, options: tuple[str, ...] | None) -> str:
    """A stable name for a question's content: the same item in any quiz has the same key."""
    raw = json.dumps([kind, stem, sorted(options or ())], ensure_ascii=False)
    return "k" + hashlib.sha256(raw.encode("utf-8")).hexdigest()[:12]


EASY, HARD = 0.8, 0.5  # correct rate at or above EASY: 易; below HARD: 難; between: 中


def difficulty(stats: Mapping[str, Any] | None) -> str | None:
    """難度 from the recorded correct rate: 易 (≥ 80 %), 中, 難 (< 50 %); None when never graded."""
    if not stats or not stats.get("answered"):
        return None
    rate = stats["correct"] / stats["answered"]
    return "易" if rate >= EASY else "難" if rate < HARD else "中"


@dataclass(frozen=True)
class _Candidate:
    """A pool item plus what sampling needs to know about it."""

    item: QuizItem
    fact: Fact
    sentence: tuple[int, int]  # the clause sentence it is about: one item per sentence per quiz
    window: tuple[int, int] = (0, 0)  # the clause text its stem prints (with the slot)

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
    if fact.type == "list":
        return any(occurs(p, rest) for p in fact.parts)
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


def _citation(clause: Clause) -> QuizSource:
    return QuizSource(clause.id, clause.label, clause.text)


CLOZE_MAX = 10  # a free-text blank longer than this is recitation, not a fact


STOCK = 3  # a quoted word the document uses this often is its vocabulary, not a fact to recall


def _trivial(fact: Fact, pools: _Pools) -> bool:
    """Facts a trainer would strike whatever the kind (:mod:`assistant.quiz.checks`)."""
    text = fact.clause.text
    s, e = _sentence(fact)
    if ideological(text[s:e]):
        return True  # 「以鄧小平理論和“三個代表”重要思想為指導…」
    norm = normalize(text)
    if normalize(fact.value) in BOILERPLATE_ITEMS:
        return True
    if fact.type in ("term", "title", "element", "list") and normalize(fact.value) in normalize(fact.clause.doc_title):
        return True  # 「“四項工程”是…」 in 《關于實施“四項工程”…》: the quiz's title says it
    if fact.type == "quantity" and _computed(fact, norm):
        return True  # 「100名(基層黨組織和黨員各50名)」: arithmetic, not recall
    if fact.type == "term" and (
            (len(fact.value) <= 2 and not any(ch in _NUMERAL_CHARS for ch in normalize(fact.value)))
            or pools.doc_text.get(fact.clause.doc_id, "").count(normalize(fact.value)) >= STOCK):
        return True  # 「大學生“村官”」, 「村“兩委”」: words of the document, not a named rule to recall
    if fact.type == "quantity" and _in_sequence(fact, norm):
        return True  # 「一年全部達標、（　）…達到50%、三年…全覆蓋」: the middle of a count
    if fact.type in ("term", "title", "element", "list"):
        if abbreviation_follows(text, fact.end):
            return True  # 「《（　）》(以下簡稱紅十字會法)」
        if fact.type != "list" and paired(text, fact.start, fact.end):
            return True  # 「既做好“規定動作”又做好“（　）”」
    # 「凝聚力、戰斗力、創造力」 as one quoted term
    return fact.type == "term" and "、" in fact.value and boilerplate_list(fact.value.split("、"))


def _in_sequence(fact: Fact, norm: str) -> bool:
    """The value sits between its neighbours in the sentence (一年 … 二年 … 三年), or after two
    steps of a count (一年…二年…三年): the stem counts for the trainee."""
    unit = _quantity_unit(fact.value)
    s, e = _sentence(fact)
    others = {_value_of(m[0]) for m in QUANTITY_RE.finditer(norm, s, e)
              if m.start() != fact.start and _quantity_unit(m[0]) == unit}
    v = _value_of(fact.value)
    return v is not None and ({v - 1, v + 1} <= others or {v - 1, v - 2} <= others or {v + 1, v + 2} <= others)


def _value_of(value: str) -> int | None:
    norm = normalize(value)
    m = re.match(r"\d+", norm)
    if m:
        return int(m[0])
    m = re.match(r"[零〇一二两三四五六七八九十百]+", norm)
    return cn_to_int(m[0]) if m else None


def _computed(fact: Fact, norm: str) -> bool:
    """A figure the stem lets one compute: 「各50名」 beside 「100名」 (either way round)."""
    unit = _quantity_unit(fact.value)
    if norm[max(0, fact.start - 1) : fact.start] == "各":
        window = norm[max(0, fact.start - 25) : fact.start - 1]
        return any(_quantity_unit(m[0]) == unit for m in QUANTITY_RE.finditer(window))
    after = norm[fact.end : fact.end + 25]
    return any(after[max(0, m.start() - 1) : m.start()] == "各" and _quantity_unit(m[0]) == unit
               for m in QUANTITY_RE.finditer(after))


def _quantity_unit(value: str) -> str:
    return re.sub(r"^[\d./:-]+|^[零〇一二两三四五六七八九十百]+", "", normalize(value))


def _half_given(fact: Fact, rest: str) -> bool:
    """The stem prints half a named term or more (「“十事先鋒承諾”…開展黨員先鋒承諾」,
    「“五嚴守、五禁止”,嚴守政治紀律,禁止…」): only the rest is left to recall."""
    if fact.type not in ("term", "element", "title"):
        return False
    value, other = normalize(fact.value), normalize(rest)
    letters = [k for k, ch in enumerate(value) if is_cjk(ch) and ch not in _NUMERAL_CHARS]
    covered = {j for k in range(len(value) - 1) if value[k : k + 2] in other and is_cjk(value[k]) and is_cjk(value[k + 1])
               for j in (k, k + 1)}
    shown = [k for k in letters if k in covered]
    return len(letters) >= 3 and len(shown) * 2 >= len(letters)


_NUMERAL_CHARS = set("零〇一二两三四五六七八九十百千0123456789")


def _numeral_shown(value: str, stem: str, slot: str) -> bool:
    """A count term whose count the stem prints right before the slot (「“4”即“（　）”」 for 四議)."""
    norm = normalize(value)
    if not norm or norm[0] not in _NUMERAL_CHARS:
        return False
    n = str(int(norm[0])) if norm[0].isdigit() else str(cn_to_int(norm[0]))
    before = normalize(stem.split(slot)[0])[-8:]
    return n in before or norm[0] in before


def _shares_stem_words(value: str, rest: str) -> set[str]:
    norm = normalize(value)
    grams = {norm[k : k + 2] for k in range(len(norm) - 1) if is_cjk(norm[k]) and is_cjk(norm[k + 1])}
    return {g for g in grams if g in normalize(rest)}


def _cloze(fact: Fact, n: int) -> _Candidate | None:
    if len(fact.value.replace("、", "")) > CLOZE_MAX or fact.type in ("title", "list"):
        return None
    stem = _stem(fact, BLANK)
    if stem is None or count_visible(fact.value, stem[0]) or _numeral_shown(fact.value, stem[0], BLANK):
        return None
    if _half_given(fact, stem[0].replace(BLANK, "\u3000")):
        return None
    item = QuizItem(f"{fact.clause.id}:cloze:{n}", "cloze", stem[0], fact.value,
                    _citation(fact.clause), f"原文:「{_quote(fact)}」")
    return _Candidate(item, fact, _sentence(fact), stem[1][:2])


def _choice(fact: Fact, n: int, pools: _Pools) -> _Candidate | None:
    if fact.type in ("element", "list"):
        return None
    rng = random.Random(f"{fact.clause.id}|{fact.start}|choice")
    wrong = distractors(fact, pools, rng, limit=8)
    stem = _stem(fact, PAREN)
    if len(wrong) < 3 or stem is None or count_visible(fact.value, stem[0]):
        return None
    if _numeral_shown(fact.value, stem[0], PAREN):
        return None
    rest = stem[0].replace(PAREN, "\u3000")
    shared = _shares_stem_words(fact.value, rest)
    if shared:  # the key shares the stem's words (紅十字會): so must another option, or it stands out
        alike = sorted((w for w in wrong if _shares_stem_words(w, rest)), key=lambda w: -len(_shares_stem_words(w, rest)))
        wrong = (alike[:2] + [w for w in wrong if w not in alike[:2]])[:3]
        others = set().union(*(_shares_stem_words(w, rest) for w in wrong))
        if not alike or len(shared - others) >= 2:
            return None  # 「…行政監察對象…」 with 《行政監察法》; 「“（　）”,嚴守…,禁止…」 with 五嚴守、五禁止
    wrong = wrong[:3]
    options = [fact.value, *wrong]
    rng.shuffle(options)
    item = QuizItem(f"{fact.clause.id}:choice:{n}", "choice", stem[0], fact.value,
                    _citation(fact.clause), f"原文:「{_quote(fact)}」", tuple(options))
    return _Candidate(item, fact, _sentence(fact), stem[1][:2])


MULTI_OPTIONS = 5


def _multi(fact: Fact, n: int, pools: _Pools) -> _Candidate | None:
    """多選: a list blanked out of its sentence; 2–4 of its items among 4–5 options, the others
    items of sibling lists that the document does not state."""
    if fact.type != "list" or boilerplate_list(fact.parts):
        return None
    norm = normalize(fact.clause.text)
    if fact.start >= 1 and is_cjk(norm[fact.start - 1]) and (fact.start < 2 or not is_cjk(norm[fact.start - 2])):
        return None  # 「(黨組織設置規范、硬件內容規范…」 read as 「黨 + 組織設置規范…」: the list starts earlier
    stem = _stem(fact, PAREN)
    if stem is None:
        return None
    rng = random.Random(f"{fact.clause.id}|{fact.start}|multi")
    wrong = [w for w in pools.sibling_parts(fact, rng) if not occurs(w, fact.clause.text)]
    for size in (MULTI_OPTIONS, MULTI_OPTIONS - 1):
        lo, hi = max(2, size - len(wrong)), min(4, len(fact.parts), size - 1)
        if lo <= hi:
            break
    else:
        return None
    k = rng.randint(lo, hi)
    right = rng.sample(list(fact.parts), k)
    options = right + wrong[: size - k]
    rng.shuffle(options)
    answer = tuple(o for o in options if o in right)
    item = QuizItem(f"{fact.clause.id}:multi:{n}", "multi", stem[0], answer, _citation(fact.clause),
                    f"原文:「{_quote(fact)}」", tuple(options))
    return _Candidate(item, fact, _sentence(fact), stem[1][:2])


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
        statement = _render(text[s:e], cl, cr)
        if count_visible(fact.value, statement.replace(fact.value, "\u3000", 1)):
            return None
        item = QuizItem(f"{fact.clause.id}:truefalse:{n}t", "truefalse", statement,
                        True, _citation(fact.clause), quote)
        return _Candidate(item, fact, _sentence(fact), (s, e))
    if re.search(r"、[^“”]*”[的等]?“?$", text[max(0, fact.start - 30) : fact.start]):
        return None  # 「“民主提案、…、監督實施”的“五步法”」: the list right before it does the counting
    span = normalize(text[s:e])
    if fact.bound is None and any(w in span for w in _MIN_BEFORE + _MAX_BEFORE + ("以上", "以下", "左右")):
        return None
    if count_visible(fact.value, _render(text[s : fact.start] + "\u3000" + text[fact.end : e], cl, cr)):
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
    return _Candidate(item, fact, _sentence(fact), (s, e))


def _clause_candidates(clause: Clause, pools: _Pools) -> list[_Candidate]:
    """All items for one clause. A value repeated in the clause (「村官」 ten times) is tested once
    per kind: at its first occurrence that makes a fair stem. Members of a boilerplate list
    (凝聚力、戰斗力、創造力) are never tested."""
    out: list[_Candidate] = []
    done: set[tuple[str, str]] = set()
    stems: set[tuple[str, str]] = set()
    facts = extract_facts(clause)
    boiler = [(f.start, f.end) for f in facts if f.type == "list" and boilerplate_list(f.parts)]
    for n, fact in enumerate(facts, 1):
        if _trivial(fact, pools) or (fact.type == "element" and _inside_any(fact, boiler)):
            continue
        for kind, make in (
            ("cloze", lambda f, n: _cloze(f, n)),
            ("choice", lambda f, n: _choice(f, n, pools)),
            ("multi", lambda f, n: _multi(f, n, pools)),
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


def _inside_any(fact: Fact, spans: Sequence[tuple[int, int]]) -> bool:
    return any(s <= fact.start and fact.end <= e for s, e in spans)


@lru_cache(maxsize=4)
def _pool(corpus: Corpus) -> tuple[_Candidate, ...]:
    facts = [f for c in corpus.clauses for f in extract_facts(c)]
    pools = _Pools(facts, corpus.clauses)
    return tuple(cand for c in corpus.clauses for cand in _clause_candidates(c, pools))


def generate_items(corpus: Corpus) -> list[QuizItem]:
    """Every item the corpus yields (the pool quizzes are sampled from), in corpus order."""
    return [c.item for c in _pool(corpus)]


# --- quizzes -------------------------------------------------------------------------------------

KindChoice = Literal["cloze", "choice", "multi", "truefalse", "mixed"]


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
    out = ["文件  條文(有題/全部)  編號條文(有題/全部)  填空  單選  多選  判斷  標題"]
    for r in rows:
        num = f"{r.numbered_covered}/{r.numbered}" if r.numbered else "—(無編號條文)"
        out.append(f"{r.doc_id:<4}  {r.covered:>3}/{r.clauses:<3}          {num:<16}   "
                   f"{r.kinds['cloze']:>4}  {r.kinds['choice']:>4}  {r.kinds['multi']:>4}  {r.kinds['truefalse']:>4}  {r.title}")
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
