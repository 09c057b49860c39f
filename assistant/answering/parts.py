"""Answers in parts: a numbered shorthand spelled out, and one answer per subject asked.

Two kinds of question want more than the single best sentence, and neither is a whole list:

- **Numbered shorthand** (數字略語), the way party documents name a set: 「“三推”」 is
  「村級推舉、鎮級推薦、部門推介」, 「“三有”」 is 「“收入有保障”…“干好有希望”…“退后有所養”」.
  The clause spells it out in brackets after the quoted name, or as that many quoted phrases
  sharing the name's word (有). :func:`expand_shorthand` finds either; nothing is generated.
- **Several subjects, one value each**: 「鄉鎮干部、村兩委主要干部、其他村兩委班子成員各多少天」
  names three subjects and wants a value for each; the clause states them in different sentences.
  :func:`asked_subjects` reads the subjects, :func:`subject_sentence` finds the sentence that
  states one of them.

All functions take *normalised* text (:func:`assistant.text.normalize`, which keeps offsets)
and return offsets into it, so the caller quotes the clause verbatim.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from assistant.text import bigram_set, bigrams, cn_to_int, sentences

__all__ = ["asked_subjects", "asks_meaning", "expand_shorthand", "shorthand_names", "subject_sentence"]

_NUMERAL = "一二三四五六七八九十两"
# A numbered shorthand as the question writes it, quoted or not: 三推, 四考, 五规范, 三有.
# A compound (「两述一评」, 「三有一化」) holds several and is not spelled out as one.
_SHORTHAND = re.compile(f"[{_NUMERAL}](?:(?![{_NUMERAL}])[\u4e00-\u9fff]){{1,3}}")
_QUOTED = re.compile(r"“([^“”]{1,24})”")
_ITEM_SEP = re.compile(r"[、,,;;]")


def shorthand_names(question: str, text: str) -> list[str]:
    """The numbered shorthands the question names that *text* quotes, alone or inside a longer
    name (「三有」 of 「“一定三有”」): the text's quoting is what makes 「三推」 a name rather than
    「三年」 a quantity. A shorthand inside a longer name the question itself quotes is part of
    that name, not asked (「“三推四考一確定”里的三推」 asks 三推, not 一確定)."""
    quoted = _QUOTED.findall(text)
    inside = [m.span(1) for m in _QUOTED.finditer(question)]
    found: list[str] = []
    for start, ch in enumerate(question):
        if ch not in _NUMERAL:
            continue
        # The longest quoted run from here: 「四考分别」 names 「四考」.
        for end in range(min(len(question), start + 4), start + 1, -1):
            name = question[start:end]
            if not _SHORTHAND.fullmatch(name) or not any(name in p for p in quoted):
                continue
            if not any(a <= start and end <= b and b - a > len(name) for a, b in inside) and name not in found:
                found.append(name)
            break
    return found


def expand_shorthand(name: str, text: str) -> list[tuple[int, int]] | None:
    """The spans where *text* spells out the numbered shorthand *name* (「三推」: three items):
    the one span 「“三推”(村級推舉、鎮級推薦、部門推介)」 when brackets follow the quoted name,
    else those of exactly that many quoted phrases holding the name's word (「三有」:
    「“收入有保障”」 …), or None — a count that does not match is not this name's list."""
    count = cn_to_int(name[0])
    word = name[1:]
    for m in re.finditer(f"“{re.escape(name)}”\\s*[((]([^()()]+)[))]", text):
        if len([x for x in _ITEM_SEP.split(m[1]) if x.strip()]) == count:
            return [m.span()]
    phrases: dict[str, tuple[int, int]] = {}
    for m in _QUOTED.finditer(text):
        phrase = m[1]
        if word in phrase and name not in phrase and phrase != name and len(phrase) > len(word):
            phrases.setdefault(phrase, (m.start(), m.end()))
    if len(phrases) == count:
        return sorted(phrases.values())
    return None


# 「…是什么」「指什么」「是啥」「什么是…」「含义」: the meaning of a name is asked.
_MEANING = re.compile(r"是什么|指什么|是啥|是指|指的是|什么是|什么意思|含义|内容|分别")


def asks_meaning(question: str) -> bool:
    """Whether the question asks what something is or consists of (normalised text)."""
    return bool(_MEANING.search(question))


# Subjects listed before 「各」/「分别」: 「A、B和C各多少天」. The last one may be joined by 和/与/及.
_SUBJECTS = re.compile(r"((?:[^,,。??;;、]{2,16}、)+[^,,。??;;、]{2,16}?)(?:各自|各|分别)")
_LAST_JOIN = re.compile(r"(?:以及|和|与|及|跟)")


def asked_subjects(question: str) -> list[str]:
    """The subjects a 「各/分别」 question lists, two or more, or [] (normalised text)."""
    m = _SUBJECTS.search(question)
    if not m:
        return []
    items = m[1].split("、")
    *head, last = items
    items = [*head, *[x for x in _LAST_JOIN.split(last) if x]]
    items = [x.strip(" 的") for x in items if len(x.strip(" 的")) >= 2]
    return items if len(items) >= 2 else []


def subject_sentence(
    subject: str,
    text: str,
    keep: Callable[[str], bool] = lambda s: True,
    spans: Sequence[tuple[int, int]] | None = None,
    *,
    share: float = 0.6,
) -> tuple[int, int] | None:
    """The sentence of *text* (one of *spans*, by default all) that states *subject*
    (「村两委主要干部」) and passes *keep* (gives the asked kind of value), or None: the most
    of the subject's bigrams, at least *share* of them; ties go to the earlier sentence."""
    want = set(bigrams(subject))
    if not want:
        return None
    best, best_share = None, share - 1e-9
    for a, b in sentences(text) if spans is None else spans:
        if not keep(text[a:b]):
            continue
        got = len(want & bigram_set(text[a:b])) / len(want)
        if got > best_share:
            best, best_share = (a, b), got
    return best
