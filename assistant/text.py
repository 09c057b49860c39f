"""Script normalisation and tokenisation shared by retrieval, answering, quizzes and eval.

Everything that *compares* Chinese text goes through :func:`normalize` first: OpenCC ``t2s``
folds Traditional, Simplified and the corpus's mixed leftovers (干部, 關于, 規范) onto one
script, so a Simplified question matches a Traditional clause character for character. The
function keeps one output character per input character, which lets callers map a match in the
normalised text straight back to the original (citations quote the original).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

# Variant forms OpenCC leaves alone but the corpus uses for the common character.
_VARIANTS = str.maketrans({"臵": "置"})

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RUN = re.compile(f"[{_CJK}]+")
_TOKEN = re.compile(f"[{_CJK}]+|[0-9]+(?:[./:%-][0-9]+)*%?|[a-z]+")


# Function words jieba keeps as words (Simplified, as :func:`normalize` gives them); they say
# nothing about what a clause must contain: left out of the answer step's content words and of
# the word-level BM25.
STOPWORDS = frozenset(
    "的 了 和 与 在 是 有 要 对 把 被 就 都 还 也 又 能 会 该 得 地 个 这 那 这份 一个 可以 应该 "
    "需要 应 一般 具体 方面 什么 多少 哪些 哪个 那个 这个 那份 那些 这些 那篇 这篇".split()
)


@lru_cache(maxsize=4)
def converter(config: str) -> opencc.OpenCC:
    """A shared OpenCC converter ("t2s", "s2t", "s2tw"); building one reads its dictionaries."""
    return opencc.OpenCC(config)


def corpus_script(text: str) -> str:
    """*text* in the script the guidelines are written (and embedded) in: Traditional, Taiwan
    forms (群, 裡; OpenCC's plain ``s2t`` writes 羣, 裏). Used for what the embedding model sees
    of a question, so 「乡镇」 and 「鄉鎮」 get one vector; a Traditional question is unchanged."""
    return converter("s2tw").convert(text)


TRADITIONAL, SIMPLIFIED = "traditional", "simplified"


def script_of(text: str) -> str:
    """The script *text* is written in: Traditional when converting it to Simplified changes more
    than 2 % of its characters (the seed's Simplified leftovers, 干部 and 關于, stay below that)."""
    sample = text[:4000]
    cjk = sum(1 for ch in sample if "\u4e00" <= ch <= "\u9fff")
    changed = sum(1 for a, b in zip(sample, converter("t2s").convert(sample)) if a != b)
    return TRADITIONAL if cjk and changed > 0.02 * cjk else SIMPLIFIED


def in_script(text: str, script: str) -> str:
    """*text* written in *script* (Taiwan forms for Traditional, as :func:`corpus_script`)."""
    return corpus_script(text) if script == TRADITIONAL else converter("t2s").convert(text)


def fold_width(text: str) -> str:
    """Full-width ASCII (１０年, ＡＢ) → half-width; one character in, one out."""
    return "".join(
        unicodedata.normalize("NFKC", ch) if "\uff01" <= ch <= "\uff5e" else ch for ch in text
    )


@lru_cache(maxsize=4096)
def normalize(text: str) -> str:
    """Comparable form: Simplified script, half-width ASCII, lower case, common variants folded.

    Length-preserving (t2s maps character to character for this vocabulary), so offsets in the
    result are offsets in *text*; :func:`normalize` asserts that and falls back to a
    per-character conversion when a phrase rule would change the length.
    """
    folded = fold_width(text).translate(_VARIANTS).lower()
    out = converter("t2s").convert(folded)
    if len(out) != len(folded):  # a phrase-level rule changed the length: convert per character
        out = "".join(converter("t2s").convert(ch) or ch for ch in folded)
    return out


# The bodies a collective name covers, as organisational Chinese uses it: 群團組織 are the trade
# union, the Youth League and the women's federation (工會、共青團、婦聯; 「工青婦」 for the three)
# and, inside a unit, their committees (團委, 團支部, 婦委會). A clause about 群團組織 speaks of
# each of them, so a question naming one (「學校團委…」) is not asking about something it lacks.
_MEMBERS: dict[str, tuple[str, ...]] = {
    "群团": ("工会", "共青团", "青年团", "团委", "团支部", "团组织", "妇联", "妇委会", "妇女联合会", "工青妇"),
}
_GROUP_OF = {m: g for g, members in _MEMBERS.items() for m in members}
# Shorthands that name the whole collective, not one member: 工青婦 = 工會、共青團、婦聯.
_COLLECTIVE_SHORT = {"工青妇": "群团"}


def members_of(group: str) -> tuple[str, ...]:
    """The bodies the collective name *group* (normalised, 群团) covers."""
    return _MEMBERS.get(group, ())


def collective_named(word: str) -> str | None:
    """The collective *word* (normalised) names as a whole: 群团 itself or a shorthand for all
    its members (工青妇); None for one member (工会) or anything else."""
    return word if word in _MEMBERS else _COLLECTIVE_SHORT.get(word)


def member_of(word: str) -> str | None:
    """The collective name covering the body *word* (normalised) names, or None: 团委 and
    学校团委 → 群团; not 工会主席 (a post, not the body)."""
    return next((g for m, g in _GROUP_OF.items() if word == m or word.endswith(m)), None)


def abbreviates(word: str, text: str) -> bool:
    """Whether *word* is a shortened form of a phrase in *text* (both normalised): its
    characters in order, the first on the phrase's first, within twice its length — how Chinese
    shortens names (村主任 for 村委会主任, 纪检 for 纪律检查, 妇联 for 妇女联合会)."""
    if len(word) < 2 or word in text:
        return word in text
    # Shortest spread from each place the first character occurs (lazy gaps, overlapping starts).
    pattern = re.compile(f".{{0,{len(word)}}}?".join(map(re.escape, word)))
    start = text.find(word[0])
    while start >= 0:
        if (m := pattern.match(text, start)) and m.end() - start <= 2 * len(word):
            return True
        start = text.find(word[0], start + 1)
    return False


def is_cjk(ch: str) -> bool:
    return bool(_CJK_RUN.fullmatch(ch))


def tokens(text: str) -> list[str]:
    """Raw tokens of already-normalised text: CJK runs, numbers (10, 1/3, 80%, 3-5), ASCII words."""
    return _TOKEN.findall(text)


@lru_cache(maxsize=65536)
def bigram_set(text: str) -> frozenset[str]:
    """The set of :func:`bigrams` of *text*, cached: the answer step weighs the same clause
    sentences question after question (a third of a warm ask went to recomputing them)."""
    return frozenset(bigrams(text))


def bigrams(text: str) -> list[str]:
    """BM25 terms: overlapping character bigrams inside CJK runs (single characters for runs of
    one), numbers and ASCII words whole. Input should be normalised.

    Bigrams need no dictionary and match the corpus's dense officialese (任滿, 交流, 紀委) as well
    as segmentation does; `benchmarks/` compares them with jieba.
    """
    out: list[str] = []
    for tok in tokens(text):
        if _CJK_RUN.fullmatch(tok):
            if len(tok) == 1:
                out.append(tok)
            else:
                out.extend(tok[i : i + 2] for i in range(len(tok) - 1))
        else:
            out.append(tok)
    return out


# Sentence ends; sub-sentence separators used to cut a short answer out of a sentence.
_SENTENCE_END = re.compile(r"[^。!?;!?;\n]*[。!?;!?;\n]?")
# Commas and colons separate fragments, but not the colon of a ratio (1:1) and not 、, which
# separates the items of one list (考素質、考能力…).
_FRAGMENT_END = re.compile(r"(?:[^,,::。!?;!?;]|(?<=[0-9]):(?=[0-9]))*[,,::。!?;!?;]?")


def _spans(pattern: re.Pattern[str], text: str, start: int = 0) -> list[tuple[int, int]]:
    spans = []
    for m in pattern.finditer(text):
        if m.end() > m.start() and text[m.start() : m.end()].strip():
            spans.append((start + m.start(), start + m.end()))
    return spans


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of *text* (split after 。!?; and at line breaks, which only a document record (its metadata lines) has)."""
    return _spans(_SENTENCE_END, text)


def fragments(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """(start, end) offsets of the comma/colon-separated fragments of text[start:end]."""
    return _spans(_FRAGMENT_END, text[start:end], start)


# Chinese numerals, shared by the parser (heading numbers), ingestion (Word's numbering), the
# quiz (tolerant grading, distractors) and the LLM answer checks.
_CN_DIGIT = {"零": 0, "〇": 0, "○": 0, "一": 1, "二": 2, "两": 2, "兩": 2, "三": 3, "四": 4,
             "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNIT = {"十": 10, "百": 100, "千": 1000}
_CN_WRITE = "〇一二三四五六七八九"


def cn_to_int(run: str) -> int:
    """「十」→10, 「十七」→17, 「一百零六」→106, 「兩」→2, 「三萬五千」→35000; without 十/百/千/萬
    digit by digit (「二〇一二」→2012). ValueError for anything else."""
    try:
        if not any(ch in _CN_UNIT or ch in "万萬" for ch in run):
            return int("".join(str(_CN_DIGIT[ch]) for ch in run))
        total, section, digit = 0, 0, 0
        for ch in run:
            if ch in "万萬":  # closes a section: 三萬五千 = (3) × 10000 + 5000
                total += ((section + digit) or 1) * 10000
                section, digit = 0, 0
            elif ch in _CN_UNIT:
                section += (digit or 1) * _CN_UNIT[ch]
                digit = 0
            else:
                digit = _CN_DIGIT[ch]
        return total + section + digit
    except (KeyError, ValueError):
        raise ValueError(f"not a Chinese numeral: {run!r}") from None


def int_to_cn(n: int, *, before_unit: bool = False) -> str:
    """0–999 as written in the guidelines: 10 → 十, 12 → 十二, 106 → 一百零六, 110 → 一百一十;
    *before_unit* writes a lone 2 as 兩 (兩年, 兩名). Larger numbers stay in digits."""
    if n < 10:
        return "兩" if before_unit and n == 2 else _CN_WRITE[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else _CN_WRITE[tens]) + "十" + (_CN_WRITE[ones] if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        if not rest:
            return _CN_WRITE[hundreds] + "百"
        tail = "零" + _CN_WRITE[rest] if rest < 10 else ("一" if rest < 20 else "") + int_to_cn(rest)
        return _CN_WRITE[hundreds] + "百" + tail
    return str(n)
