"""Q&A set → standard IR and answer metrics, written as JSON, Markdown and a PNG chart.

Input: JSONL records ``{"id","question","answers":[...],"gold":[...],"answerable":bool,"type"}``
with optional ``"doc"`` (a seed document number 1–5, a law's short name such as 「工会法」, or
null), ``"items":[...]`` (an enumeration: every item must be in the answer) and ``"polarity"``
(「yes」/「no」 on yes/no questions).

An answer is correct when it contains an accepted answer (any of ``answers``, if given) and every
one of ``items`` (if given), after t2s normalisation; a ranked clause is relevant when it
contains a gold substring. Unanswerable questions are right when refused. An answerable question
with ``gold: []`` (a fact about a whole document or the collection) has no single relevant
clause: it is left out of the retrieval metrics and citation accuracy, never counted as a miss.
Metrics follow sentence-transformers' InformationRetrievalEvaluator (hit@k, MRR, nDCG) plus
answer accuracy, citation accuracy, refusal precision/recall and enumeration completeness.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.answering.extractive import Assistant
from assistant.answering.records import Answer
from assistant.text import normalize

KS = (1, 3, 5)
# The per-type table: the first six are the original columns (kept, in order).
TYPE_KEYS = ("questions", "hit@1", "answer_accuracy", "citation_accuracy", "refusal_recall", "false_refusals",
             "hit@3", "mrr", "enumeration_complete")


@dataclass(frozen=True)
class Item:
    id: str
    question: str
    answers: tuple[str, ...]
    gold: tuple[str, ...]
    answerable: bool
    type: str = "fact"
    doc: int | str | None = None  # seed document number, a law's short name (「工会法」), or None
    items: tuple[str, ...] = ()  # enumeration: the answer must hold every one
    polarity: str | None = None  # 「yes」/「no」 on yes/no questions

    @property
    def citable(self) -> bool:
        """Has a gold clause, so retrieval rank and citation can be judged."""
        return bool(self.gold)


@dataclass
class Outcome:
    item: Item
    answer: Answer
    rank: int | None  # 1-based rank of the first relevant clause in the ranked list
    answer_ok: bool
    citation_ok: bool | None  # None: not applicable (the item has no gold clause)
    missing: tuple[str, ...] = ()  # enumeration items the answer lacks

    @property
    def correct(self) -> bool:
        """Right answer with a right citation (where one can be judged); refused if unanswerable."""
        if not self.item.answerable:
            return self.answer.refused
        return self.answer_ok and self.citation_ok is not False


@dataclass
class Report:
    metrics: dict[str, float]
    by_type: dict[str, dict[str, float]]
    curve: list[dict[str, float]]
    outcomes: list[Outcome] = field(repr=False)

    def failures(self) -> list[dict]:
        out = []
        for o in self.outcomes:
            if not o.correct:
                it = o.item
                row = {
                    "id": it.id,
                    "type": it.type,
                    "question": it.question,
                    "expected": list(it.answers) or list(it.items) or ("(refuse)" if not it.answerable else []),
                    "got": o.answer.answer,
                    "refused": o.answer.refused,
                    "rank": o.rank,
                    "cited": [c.id for c in o.answer.citations],
                    "confidence": round(o.answer.confidence, 3),
                }
                if it.items:
                    row["missing"] = list(o.missing)
                out.append(row)
        return out

    def to_json(self) -> dict:
        return {"metrics": self.metrics, "by_type": self.by_type, "refusal_curve": self.curve,
                "failures": self.failures()}


def load_items(path: Path | str) -> list[Item]:
    """Read a JSONL Q&A set; a malformed line is reported with its line number."""
    items = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
            doc = r.get("doc")
            if isinstance(doc, bool) or not isinstance(doc, (int, str, type(None))):
                raise TypeError(f"doc must be a number, a name or null, not {doc!r}")
            enum = r.get("items") or []
            if not isinstance(enum, list) or not all(isinstance(x, str) for x in enum):
                raise TypeError("items must be a list of strings")
            polarity = r.get("polarity")
            if polarity is not None and not isinstance(polarity, str):
                raise TypeError(f"polarity must be a string, not {polarity!r}")
            items.append(
                Item(
                    id=str(r["id"]),
                    question=r["question"],
                    answers=tuple(r.get("answers", [])),
                    gold=tuple(r.get("gold", [])),
                    answerable=bool(r.get("answerable", bool(r.get("gold") or r.get("answers") or enum))),
                    type=r.get("type", "fact"),
                    doc=doc,
                    items=tuple(enum),
                    polarity=polarity,
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: not a Q&A record ({exc})") from exc
    return items


def contains_any(text: str, needles: Iterable[str]) -> bool:
    hay = normalize(text)
    return any(normalize(n) in hay for n in needles if n)


def missing_items(text: str, needles: Iterable[str]) -> tuple[str, ...]:
    """The needles *text* does not contain (after normalisation), in their order."""
    hay = normalize(text)
    return tuple(n for n in needles if normalize(n) not in hay)


# A gold passage copied as printed may keep its item number (「1、落實領導責任。」), which the
# clause text does not (the parser reads the number into the clause's id and label).
_ITEM_NUMBER = re.compile(r"^\s*(?:[0-9]+[、.]|[((][一二三四五六七八九十0-9]+[))]|[一二三四五六七八九十]+、)")


def holds_gold(text: str, gold: Iterable[str]) -> bool:
    """Does a clause's *text* hold a gold passage (its item number, if printed, set aside)?"""
    return contains_any(text, [g for p in gold for g in {p, _ITEM_NUMBER.sub("", p)} if g])


def judge(item: Item, answer: Answer) -> Outcome:
    ranked = [c.text for c in answer.citations + answer.see_also]
    rank = next((i for i, t in enumerate(ranked, 1) if holds_gold(t, item.gold)), None)
    missing = item.items if answer.refused else missing_items(answer.answer, item.items)
    if item.answerable:
        # any accepted answer (when answers are given) and every enumeration item (when given)
        has_answer = contains_any(answer.answer, item.answers) if item.answers else bool(item.items)
        answer_ok = not answer.refused and has_answer and not missing
    else:
        answer_ok = answer.refused
    citation_ok = None
    if item.citable:
        citation_ok = bool(answer.citations) and holds_gold(answer.citations[0].text, item.gold)
    return Outcome(item, answer, rank, answer_ok, citation_ok, missing)


def _ratio(num: float, den: float) -> float:
    return round(num / den, 4) if den else float("nan")


def metrics(outcomes: Sequence[Outcome]) -> dict[str, float]:
    ans = [o for o in outcomes if o.item.answerable]
    unans = [o for o in outcomes if not o.item.answerable]
    answered = [o for o in ans if not o.answer.refused]
    refused = [o for o in outcomes if o.answer.refused]
    # Retrieval and citation are judged only where there is a gold clause.
    ranked = [o for o in ans if o.item.citable]
    cited = [o for o in answered if o.item.citable]
    enums = [o for o in ans if o.item.items]
    m: dict[str, float] = {"questions": len(outcomes), "answerable": len(ans), "unanswerable": len(unans)}
    if len(ranked) < len(ans):  # only sets that have them: the shape of older reports is kept
        m["answerable_without_gold"] = len(ans) - len(ranked)
    if enums:
        m["enumerations"] = len(enums)
    for k in KS:
        m[f"hit@{k}"] = _ratio(sum(1 for o in ranked if o.rank and o.rank <= k), len(ranked))
    m["mrr"] = _ratio(sum(1 / o.rank for o in ranked if o.rank), len(ranked))
    m["ndcg@5"] = _ratio(sum(1 / math.log2(o.rank + 1) for o in ranked if o.rank and o.rank <= 5), len(ranked))
    m["answer_accuracy"] = _ratio(sum(o.answer_ok for o in ans), len(ans))
    m["citation_accuracy"] = _ratio(sum(bool(o.citation_ok) for o in cited), len(cited))
    m["enumeration_complete"] = _ratio(sum(1 for o in enums if not o.answer.refused and not o.missing), len(enums))
    m["false_refusals"] = len(ans) - len(answered)
    m["refusal_precision"] = _ratio(sum(1 for o in refused if not o.item.answerable), len(refused))
    m["refusal_recall"] = _ratio(sum(1 for o in unans if o.answer.refused), len(unans))
    m["overall_accuracy"] = _ratio(sum(o.answer_ok for o in outcomes), len(outcomes))
    totals = [o.answer.timing_ms.get("total", 0.0) for o in outcomes]
    if totals:
        m["latency_p50_ms"] = round(float(np.percentile(totals, 50)), 2)
        m["latency_p95_ms"] = round(float(np.percentile(totals, 95)), 2)
    return m


def refusal_curve(outcomes: Sequence[Outcome], steps: int = 41) -> list[dict[str, float]]:
    """Trade-off of the refusal threshold over the confidence (evidence coverage) the answerer
    computed: at each threshold, how many answerable questions would be refused and what share
    of unanswerable ones would be."""
    ans = [o.answer.confidence for o in outcomes if o.item.answerable]
    unans = [o.answer.confidence for o in outcomes if not o.item.answerable]
    curve = []
    for t in np.linspace(0, 1, steps):
        curve.append(
            {
                "threshold": round(float(t), 3),
                "false_refusals": int(sum(c < t for c in ans)),
                "unanswerable_refused": _ratio(sum(c < t for c in unans), len(unans)),
            }
        )
    return curve


def evaluate(assistant: Assistant, items: Sequence[Item], k: int = 5, progress: bool = False) -> Report:
    from tqdm.auto import tqdm

    outcomes = [judge(it, assistant.ask(it.question, k=k)) for it in tqdm(items, disable=not progress, desc="eval")]
    by_type: dict[str, dict[str, float]] = {}
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        groups[o.item.type].append(o)
    for name, group in sorted(groups.items()):
        g = metrics(group)
        by_type[name] = {key: g[key] for key in TYPE_KEYS}
    return Report(metrics(outcomes), by_type, refusal_curve(outcomes), outcomes)


def compare(before: Report, after: Report) -> dict:
    """Two runs of one set (e.g. without and with added documents): per-metric delta (after −
    before; nan where either is nan) and the questions whose correctness changed."""
    delta = {}
    for key, a in before.metrics.items():
        b = after.metrics.get(key)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            delta[key] = round(b - a, 4) if not (math.isnan(a) or math.isnan(b)) else float("nan")
    then = {o.item.id: o for o in before.outcomes}
    changed = []
    for o in after.outcomes:
        old = then.get(o.item.id)
        if old is not None and old.correct != o.correct:
            changed.append({"id": o.item.id, "type": o.item.type, "before": old.correct, "after": o.correct,
                            "got_before": old.answer.answer, "got_after": o.answer.answer})
    return {"delta": delta, "changed": changed,
            "answers_changed": sum(1 for o in after.outcomes
                                   if o.item.id in then and then[o.item.id].answer.answer != o.answer.answer)}


def check(report: Report, thresholds: dict[str, float]) -> list[str]:
    """Metrics below their minimum (or, for keys starting ``max_``, above their maximum)."""
    bad = []
    for key, bound in thresholds.items():
        if key.startswith("max_"):
            value = report.metrics.get(key[4:], float("inf"))
            if not value <= bound:
                bad.append(f"{key[4:]} = {value} > {bound}")
        else:
            value = report.metrics.get(key, float("nan"))
            if not value >= bound:
                bad.append(f"{key} = {value} < {bound}")
    return bad


def write_report(report: Report, directory: Path, name: str) -> dict[str, Path]:
    """``NAME.json``, ``NAME.md`` and ``NAME.png`` (per-type bars and the refusal trade-off)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {ext: directory / f"{name}.{ext}" for ext in ("json", "md", "png")}
    paths["json"].write_text(json.dumps(report.to_json(), ensure_ascii=False, indent=2), encoding="utf-8")
    _plot(report, paths["png"])
    paths["md"].write_text(_markdown(report, name, paths["png"].name), encoding="utf-8")
    return paths


def _plot(report: Report, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    types = list(report.by_type)
    x = np.arange(len(types))
    for i, key in enumerate(("hit@1", "answer_accuracy")):
        vals = [report.by_type[t][key] if not math.isnan(report.by_type[t][key]) else 0 for t in types]
        left.bar(x + (i - 0.5) * 0.38, vals, width=0.38, label=key)
    left.set_xticks(x, types, rotation=30, ha="right")
    left.set_ylim(0, 1.05)
    left.set_title("by question type")
    left.legend(loc="lower right")
    thr = [c["threshold"] for c in report.curve]
    right.plot(thr, [c["unanswerable_refused"] for c in report.curve], label="unanswerable refused (share)")
    ax2 = right.twinx()
    ax2.plot(thr, [c["false_refusals"] for c in report.curve], color="tab:red", label="false refusals (count)")
    right.set_xlabel("refusal threshold on evidence coverage")
    right.set_title("refusal trade-off")
    right.legend(loc="center left")
    ax2.legend(loc="center right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _markdown(report: Report, name: str, png: str) -> str:
    lines = [f"# Evaluation: {name}", "", "| metric | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in report.metrics.items()]
    enum = any(o.item.items for o in report.outcomes)
    head = "| type | n | hit@1 | answer acc. | citation acc. | refusal recall | false refusals |" + (" enumeration complete |" if enum else "")
    lines += ["", "## By question type", "", head, "|---" * (head.count("|") - 1) + "|"]
    for t, m in report.by_type.items():
        lines.append(f"| {t} | {m['questions']} | {m['hit@1']} | {m['answer_accuracy']} | {m['citation_accuracy']} | {m['refusal_recall']} | {m['false_refusals']} |"
                     + (f" {m['enumeration_complete']} |" if enum else ""))
    lines += ["", f"![metrics]({png})", "", "## Failures", ""]
    fails = report.failures()
    if not fails:
        lines.append("None.")
    for f in fails:
        missing = f" missing {f['missing']}," if f.get("missing") else ""
        lines.append(f"- `{f['id']}` ({f['type']}) {f['question']} — expected {f['expected']},{missing} got 「{f['got']}」 (refused={f['refused']}, rank={f['rank']}, cited={f['cited']}, conf={f['confidence']})")
    return "\n".join(lines) + "\n"


def comparison_json(before: Report, after: Report, labels: tuple[str, str] = ("without", "with_documents")) -> dict:
    """Both reports, side by side, with :func:`compare`'s delta and changed questions."""
    return {labels[0]: before.to_json(), labels[1]: after.to_json(), **compare(before, after)}


def write_comparison(before: Report, after: Report, directory: Path, name: str,
                     labels: tuple[str, str] = ("without", "with_documents")) -> dict[str, Path]:
    """``NAME.json`` (both reports, delta, changed questions) and ``NAME.md`` (a side-by-side table)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {ext: directory / f"{name}.{ext}" for ext in ("json", "md")}
    data = comparison_json(before, after, labels)
    paths["json"].write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    lines = [f"# Evaluation: {name}", "", f"| metric | {labels[0]} | {labels[1]} | delta |", "|---|---|---|---|"]
    for key, value in before.metrics.items():
        lines.append(f"| {key} | {value} | {after.metrics.get(key, '')} | {data['delta'].get(key, '')} |")
    lines += ["", f"## Questions whose correctness changed ({len(data['changed'])})", ""]
    if not data["changed"]:
        lines.append("None.")
    for c in data["changed"]:
        lines.append(f"- `{c['id']}` ({c['type']}) {'right' if c['before'] else 'wrong'} → {'right' if c['after'] else 'wrong'}:"
                     f" 「{c['got_before']}」 → 「{c['got_after']}」")
    lines.append(f"\nAnswers whose text changed: {data['answers_changed']}.")
    paths["md"].write_text("\n".join(lines) + "\n", encoding="utf-8")
    return paths
