#!/usr/bin/env python3
"""Validate evals/dev.jsonl, evals/heldout.jsonl and evals/fresh.jsonl against corpus/guidelines.txt.

Standard library only. Run from anywhere:  python3 evals/check_sets.py
Exit status 0 when both sets pass, 1 otherwise (every problem is printed).

Checks, per item:
  * valid JSON object per line, required keys with the right types, ids unique across both sets;
  * type is one of the seven types; doc is 1..5; question 3-40 characters ending in ?/?;
  * answerable <=> answers and gold non-empty <=> type != "unanswerable";
  * every gold substring is 6-25 characters, appears verbatim in one raw line of the corpus
    (no page-number artefact, stray space or 臵 inside), occurs EXACTLY ONCE in the cleaned
    corpus, and lies in a citable paragraph (not a heading, title, addressee, signature, date or
    印發/校對人 trailer line, which the app keeps out of its clauses) of the item's document;
  * every accepted answer occurs in the cleaned paragraph that holds the gold (ignoring quote
    marks; Chinese/Arabic numeral variants such as 十年/10年 are accepted), at least one answer
    occurs there verbatim, and at least one answer shares a sentence with a gold substring
    (so a clause-level citation of the gold also carries the answer);
  * "simplified" questions contain no common Traditional-only character, fact/number/list/
    paraphrase/followup questions no common Simplified-only one, and unanswerable questions (either
    script) do not mix the two (a rough script check; the judge itself uses OpenCC).
Then per-type / per-document counts are printed and the mix requirements are checked.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus" / "guidelines.txt"
SETS = {"dev": ROOT / "evals" / "dev.jsonl", "heldout": ROOT / "evals" / "heldout.jsonl",
        "fresh": ROOT / "evals" / "fresh.jsonl"}

TYPES = ("fact", "number", "list", "simplified", "paraphrase", "followup", "unanswerable")
KEYS = {"id": str, "question": str, "answers": list, "gold": list, "answerable": bool,
        "type": str, "doc": int}

# Minimum mix per set: total, per type, per document.
REQUIRE = {
    "dev": {"total": 90, "per_doc": 10,
            "types": {"number": 15, "fact": 12, "list": 8, "simplified": 15,
                      "paraphrase": 15, "followup": 6, "unanswerable": 14}},
    "heldout": {"total": 30, "per_doc": 3,
                "types": {"number": 3, "fact": 3, "list": 2, "simplified": 3,
                          "paraphrase": 3, "followup": 2, "unanswerable": 5}},
    # Written after the refusal gates, to check them on unseen questions; never tuned on.
    "fresh": {"total": 20, "per_doc": 1,
              "types": {"fact": 3, "paraphrase": 3, "unanswerable": 8}},
}

CJK = "\u3400-\u4dbf\u4e00-\u9fff"
CJK_P = CJK + "、,。;:“”《》()"
PAGE_NO = re.compile(rf"(?<=[{CJK_P}]) ?\d{{1,2}} (?=[{CJK}])")   # 自身建 1 設, 村、11 企業
STRAY_SPACE = re.compile(rf"(?<=[{CJK_P}]) +(?=[{CJK_P}])")       # 召 開, 以 獎代補
SENTENCE = re.compile(r"[^。;;!?!?]*[。;;!?!?]?")
QUOTES = str.maketrans("", "", "“”「」『』《》\"'‘’")
HEADING = re.compile(r"^(第[一二三四五六七八九十]+篇|[一二三四五六七八九十]+、|[((][一二三四五六七八九十]+[))]|\d+[.、])")
SENT_END = "。;;:!?!?”)」"
# Lines the app keeps out of its citable clauses: document headings and titles, addressee lines,
# the web-page header, signatures, dates and the 主題詞/印發/校對人 trailer. A gold substring there
# could never be cited, so it is rejected.
TRAILER = re.compile(r"^(主題詞|校對人|文章來源)|印發|^[\d〇一二三四五六七八九十]{4}年[\d〇一二三四五六七八九十]{1,3}月"
                     r"[\d〇一二三四五六七八九十]{1,3}日$")


def citable(para: str) -> bool:
    if TRAILER.search(para) or re.match(r"^第[一二三四五]篇", para):
        return False
    if len(para) <= 40 and (HEADING.match(para) or para.endswith((":", ":"))
                            or not re.search(r"[。;;,,]", para)):
        return False
    return True

# Rough script check: frequent characters that exist in only one of the two scripts.
TRAD_ONLY = set("這們會鄉鎮紀黨組織縣級為書記幾麼嗎與對經費員關於區歲過時還應該實該誰從"
                "處後進當參擔務專導領選舉審議擴讓給萬節體團農職學條規標準設開題")
SIMP_ONLY = set("这们会乡镇纪党组织县级为书记几么吗与对经费员关区岁过时还应该实谁从"
                "处参担务专导领选举审议扩让给万节体团农职学条规标设开题")

CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "兩": 2, "两": 2, "三": 3, "四": 4,
             "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def cn_to_arabic(text: str) -> str:
    """十年 -> 10年, 三年 -> 3年, 二十五 -> 25 (simple numerals only; for variant matching)."""
    def conv(m: re.Match[str]) -> str:
        s = m.group(0)
        if "百" in s or "十" in s:
            total, cur = 0, 0
            for ch in s:
                if ch == "百":
                    total += (cur or 1) * 100
                    cur = 0
                elif ch == "十":
                    total += (cur or 1) * 10
                    cur = 0
                else:
                    cur = CN_DIGITS[ch]
            return str(total + cur)
        return "".join(str(CN_DIGITS[ch]) for ch in s)
    return re.sub(r"[零〇一二兩两三四五六七八九十百]+", conv, text)


def clean_line(line: str) -> str:
    line = line.replace("臵", "置").rstrip("\n")
    line = PAGE_NO.sub("", line)
    line = STRAY_SPACE.sub("", line)
    return line


def load_corpus() -> tuple[list[str], list[str], list[int]]:
    """Raw lines, cleaned paragraphs (continuation lines joined) and each paragraph's document."""
    raw = CORPUS.read_text(encoding="utf-8").splitlines()
    paras: list[str] = []
    docs: list[int] = []
    doc = 0
    for line in raw:
        m = re.match(r"^第([一二三四五])篇", line)
        if m:
            doc = "一二三四五".index(m.group(1)) + 1
        c = clean_line(line).strip()
        if not c:
            continue
        prev = paras[-1] if paras else ""
        continuation = bool(prev) and not HEADING.match(c) and (
            c[0] in "。,;、" or (len(prev) >= 60 and prev[-1] not in SENT_END))
        if continuation:
            paras[-1] = prev + c
        else:
            paras.append(c)
            docs.append(doc)
    return raw, paras, docs


def loose(text: str) -> str:
    return cn_to_arabic(text.translate(QUOTES))


def check_item(item: dict, raw: list[str], paras: list[str], docs: list[int],
               full: str) -> list[str]:
    errs: list[str] = []
    for key, typ in KEYS.items():
        if key not in item:
            errs.append(f"missing key {key!r}")
        elif key == "doc" and item[key] is None and item.get("answerable") is False:
            continue  # an off-topic question belongs to no document
        elif not isinstance(item[key], typ) or (typ is int and isinstance(item[key], bool)):
            errs.append(f"{key!r} should be {typ.__name__}")
    if errs:
        return errs
    extra = set(item) - set(KEYS)
    if extra:
        errs.append(f"unexpected keys {sorted(extra)}")
    q, answers, gold, typ = item["question"], item["answers"], item["gold"], item["type"]
    if typ not in TYPES:
        errs.append(f"unknown type {typ!r}")
    if item["doc"] not in range(1, 6) and not (item["doc"] is None and not item["answerable"]):
        errs.append("doc must be 1..5 (or null for an off-topic unanswerable question)")
    if not 3 <= len(q) <= 40:
        errs.append(f"question length {len(q)} not in 3..40")
    if not q.endswith(("?", "?")):
        errs.append("question should end with a question mark")
    if not all(isinstance(a, str) and a for a in answers + gold):
        errs.append("answers/gold must be non-empty strings")
        return errs
    if len(set(answers)) != len(answers):
        errs.append("duplicate accepted answers")
    trad, simp = sorted(set(q) & TRAD_ONLY), sorted(set(q) & SIMP_ONLY)
    if typ == "simplified" and trad:
        errs.append(f"simplified question has Traditional characters {''.join(trad)}")
    elif typ not in ("simplified", "unanswerable") and simp:
        errs.append(f"Traditional question has Simplified characters {''.join(simp)}")
    elif trad and simp:  # unanswerable questions may be in either script, but not mixed
        errs.append(f"question mixes scripts ({''.join(trad)} / {''.join(simp)})")

    answerable = item["answerable"]
    if answerable != (typ != "unanswerable"):
        errs.append("answerable must be false exactly when type is 'unanswerable'")
    if answerable != bool(answers) or answerable != bool(gold):
        errs.append("answerable <=> non-empty answers and gold")
    if not answerable:
        return errs
    if not 1 <= len(gold) <= 2:
        errs.append("gold must hold 1-2 substrings")

    homes: set[int] = set()
    for g in gold:
        if not 6 <= len(g) <= 25:
            errs.append(f"gold {g!r}: length {len(g)} not in 6..25")
        if "臵" in g or " " in g or re.search(r"\d \S|\S \d", g):
            errs.append(f"gold {g!r}: contains a trap (space / page number / 臵)")
        if not any(g in line for line in raw):
            errs.append(f"gold {g!r}: not verbatim in any raw corpus line")
        n = full.count(g)
        if n != 1:
            errs.append(f"gold {g!r}: occurs {n} times in the cleaned corpus (need exactly 1)")
            continue
        idx = next(i for i, p in enumerate(paras) if g in p)
        homes.add(idx)
        if not citable(paras[idx]):
            errs.append(f"gold {g!r}: is in a heading/metadata line, which is not a citable clause")
        if docs[idx] != item["doc"]:
            errs.append(f"gold {g!r}: is in document {docs[idx]}, item says {item['doc']}")
    if len(homes) > 1:
        errs.append("gold substrings point at different paragraphs")
    if len(homes) != 1 or errs:
        return errs
    para = paras[homes.pop()]
    for a in answers:
        if loose(a) not in loose(para):
            errs.append(f"answer {a!r}: not in the gold paragraph")
    if not any(a in para for a in answers):
        errs.append("no accepted answer occurs verbatim in the gold paragraph")
    sentences = [s for s in SENTENCE.findall(para) if s]
    if not any(any(g in s for g in gold) and any(loose(a) in loose(s) for a in answers)
               for s in sentences):
        errs.append("no sentence holds both a gold substring and an accepted answer")
    return errs


def table(title: str, counter: Counter, order) -> str:
    cells = [f"{k}={counter.get(k, 0)}" for k in order]
    return f"  {title:<6} " + "  ".join(cells)


def main() -> int:
    raw, paras, docs = load_corpus()
    full = "\n".join(paras)
    failures = 0
    seen: dict[str, str] = {}
    for name, path in SETS.items():
        if not path.exists():
            print(f"{name}: {path} missing")
            failures += 1
            continue
        items = []
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                print(f"{name}:{n}: blank line")
                failures += 1
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                print(f"{name}:{n}: invalid JSON ({exc})")
                failures += 1
                continue
            if not isinstance(item, dict):
                print(f"{name}:{n}: not a JSON object")
                failures += 1
                continue
            errs = check_item(item, raw, paras, docs, full)
            iid = item.get("id")
            if isinstance(iid, str):
                if iid in seen:
                    errs.append(f"duplicate id (also in {seen[iid]})")
                seen[iid] = f"{name}:{n}"
            for e in errs:
                print(f"{name}:{n} [{iid}]: {e}")
            failures += bool(errs)
            items.append(item)

        types = Counter(i.get("type") for i in items)
        per_doc = Counter(i.get("doc") for i in items)
        ans_doc = Counter(i.get("doc") for i in items if i.get("answerable"))
        print(f"{name}: {len(items)} items, {sum(ans_doc.values())} answerable")
        print(table("type", types, TYPES))
        print(table("doc", per_doc, range(1, 6)))
        print(table("ans", ans_doc, range(1, 6)))
        req = REQUIRE[name]
        problems = []
        if len(items) < req["total"]:
            problems.append(f"{len(items)} items < {req['total']}")
        if name == "heldout" and len(items) != 30:
            problems.append(f"heldout should hold 30 items, has {len(items)}")
        for t, k in req["types"].items():
            if types.get(t, 0) < k:
                problems.append(f"type {t}: {types.get(t, 0)} < {k}")
        for d in range(1, 6):
            if per_doc.get(d, 0) < req["per_doc"]:
                problems.append(f"doc {d}: {per_doc.get(d, 0)} < {req['per_doc']}")
        for p in problems:
            print(f"{name}: mix: {p}")
        failures += len(problems)

    print("OK" if not failures else f"FAILED ({failures} problem(s))")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
