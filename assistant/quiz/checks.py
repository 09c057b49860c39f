"""What makes an item trivial or unfair, whatever its kind (issue 15, a trainer's review).

* **ideological boilerplate** — sentences built on 鄧小平理論, “三個代表”, 科學發展觀 …: every
  cadre can recite them, nothing in them is a rule of the guideline;
* **boilerplate lists** — 凝聚力、戰斗力、創造力; 全局性、根本性和戰略性; 管財、管事、管人: short
  items that share a character, guessed from each other; lists of bare two-character words;
* **the count visible in the stem** — 「“銷號制、評判制、問責制”等（　）制度」: the list right there
  counts itself;
* **the answer in the stem** — 「《（　）》(以下簡稱紅十字會法)」; a pair of phrases that share
  their words (「既做好“規定動作”又做好“（　）”」).

Patterns are written in Simplified and run on :func:`assistant.text.normalize` (length-preserving).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.text import cn_to_int, normalize

IDEOLOGY = ("邓小平理论", "三个代表", "科学发展观", "毛泽东思想", "马克思", "列宁主义", "十七大", "十七届",
            "胡锦涛", "中国特色社会主义理论")
# Lists every Party document carries: 三務公開, 黨的基本知識/理論/路線, 信仰/信念/信心.
BOILERPLATE_ITEMS = frozenset({
    "党务公开", "政务公开", "村务公开", "财务公开", "基本知识", "基本理论", "基本路线", "明确信仰", "坚定信念",
    "增强信心", "凝聚力", "战斗力", "创造力", "吸引力", "号召力", "全局性", "根本性", "战略性",
})
# Units that count things: a count next to a list of as many things gives itself away.
_COUNT = re.compile(r"^(?:(\d+)|([一二两三四五六七八九十]+))(?:个方面|方面|项|个|种|条|类|大|制|步|点)")
_LIST_SEP = re.compile("[、和及与]")


def ideological(text: str) -> bool:
    """The sentence recites the guiding ideology (「以鄧小平理論和“三個代表”重要思想為指導」)."""
    norm = normalize(text)
    return any(w in norm for w in IDEOLOGY)


def boilerplate_list(parts: Sequence[str]) -> bool:
    """Short items sharing a character (凝聚力、戰斗力、創造力; 管財、管事、管人), or a well-worn list."""
    items = [normalize(p) for p in parts]
    if sum(p in BOILERPLATE_ITEMS for p in items) >= 2:
        return True
    if len(items) >= 2 and max(len(p) for p in items) <= 2:
        return True  # 人才、智力、教育; 工作、生活、學習: words, not items of a rule
    if len(items) < 2 or max(len(p) for p in items) > 3 or len({len(p) for p in items}) > 1:
        return False
    return any(len({p[k] for p in items}) == 1 and items[0][k] not in _NUMERALS for k in range(len(items[0])))


def count_of(value: str) -> int | None:
    """The number a count states (「三項」 → 3, 「2個」 → 2), or None when *value* is no count."""
    m = _COUNT.match(normalize(value))
    if not m:
        return None
    return int(m[1]) if m[1] else cn_to_int(m[2])


SLOTS = ("＿＿＿＿", "（　　）", "\u3000")
_NUMERALS = set("一二两三四五六七八九十0123456789")


def list_sizes(segment: str) -> list[int]:
    """How many items each list in *segment* has: 「“甲、乙、丙”」 → 3; 「甲、乙和丙」 → 3."""
    out = []
    norm = normalize(segment)
    for quoted in re.findall(r"“([^“”]+)”", norm):
        if "、" in quoted:
            out.append(len(quoted.split("、")))
    quotes = re.findall(r"“[^“”]+”(?:[、,,]“[^“”]+”)+", norm)
    out += [q.count("“") for q in quotes]
    bare = re.sub(r"“[^“”]*”", "Q", norm)
    for run in re.findall(r"[^、]+(?:、[^、]+)+", bare):
        parts = run.split("、")
        out.append(len(parts) + (1 if re.search("[和及与]", parts[-1][:8]) else 0))
    return out


def count_visible(value: str, stem: str) -> bool:
    """A count whose list stands next to it in the stem: 「“銷號制、評判制、問責制”等（　）制度」,
    「紀律檢查和行政監察（　）職能」. *stem* holds the slot (＿＿＿＿, （　　） or a full-width space)."""
    n = count_of(value)
    if n is None:
        return False
    norm = normalize(stem)
    at = min((i for i in (norm.find(normalize(s)) for s in SLOTS) if i >= 0), default=-1)
    if at < 0:
        return False
    if n == 2 and re.search(r"[\u4e00-\u9fff“”]{2,}[和与及][\u4e00-\u9fff“”]{2,}[等的这]{0,2}$", norm[max(0, at - 24) : at]):
        return True
    cuts = [0] + [m.end() for m in re.finditer(r"[,,;;。::]", norm)] + [len(norm) + 1]
    k = next(i for i in range(len(cuts) - 1) if cuts[i] <= at < cuts[i + 1])
    near = norm[cuts[max(0, k - 1)] : cuts[min(len(cuts) - 1, k + 2)]]
    return n in list_sizes(near)


def abbreviation_follows(text: str, end: int) -> bool:
    """「《中華人民共和國紅十字會法》(以下簡稱紅十字會法)」: the short name gives the blank away."""
    return "简称" in normalize(text[end : end + 8])


def paired(text: str, start: int, end: int) -> bool:
    """The value and a phrase beside it share their last or first two characters, as a pair:
    「既做好“規定動作”又做好“自選動作”」 — the one is guessed from the other."""
    norm, value = normalize(text), normalize(text[start:end])
    if len(value) < 3:
        return False
    around = norm[max(0, start - 12) : start] + "\u3000" + norm[end : end + 12]
    for piece in re.findall(r"[\u4e00-\u9fff]{3,}", around):
        for k in (2, 3):
            if len(value) > k and (value[-k:] == piece[-k:] or value[:k] == piece[:k]) and piece != value:
                return True
    return False
