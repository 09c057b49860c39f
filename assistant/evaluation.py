"""Q&A set → standard IR and answer metrics, written as JSON, Markdown and a PNG chart.

Input: JSONL records ``{"id","question","answers":[...],"gold":[...],"answerable":bool,"type"}``.
An answer is correct when it contains an accepted answer after t2s normalisation; a ranked
clause is relevant when it contains a gold substring. Unanswerable questions are right when
refused. Metrics follow sentence-transformers' InformationRetrievalEvaluator (hit@k, MRR, nDCG)
plus answer accuracy, citation accuracy and refusal precision/recall.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.answering.extractive import Assistant
from assistant.answering.records import Answer
from assistant.text import normalize

KS = (1, 3, 5)


@dataclass(frozen=True)
class Item:
    id: str
    question: str
    answers: tuple[str, ...]
    gold: tuple[str, ...]
    answerable: bool
    type: str = "fact"
    doc: int | None = None


@dataclass
class Outcome:
    item: Item
    answer: Answer
    rank: int | None  # 1-based rank of the first relevant clause in the ranked list
    answer_ok: bool
    citation_ok: bool


@dataclass
class Report:
    metrics: dict[str, float]
    by_type: dict[str, dict[str, float]]
    curve: list[dict[str, float]]
    outcomes: list[Outcome] = field(repr=False)

    def failures(self) -> list[dict]:
        out = []
        for o in self.outcomes:
            ok = (o.answer_ok and o.citation_ok) if o.item.answerable else o.answer.refused
            if not ok:
                out.append(
                    {
                        "id": o.item.id,
                        "type": o.item.type,
                        "question": o.item.question,
                        "expected": list(o.item.answers) or "(refuse)",
                        "got": o.answer.answer,
                        "refused": o.answer.refused,
                        "rank": o.rank,
                        "cited": [c.id for c in o.answer.citations],
                        "confidence": round(o.answer.confidence, 3),
                    }
                )
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
            items.append(
                Item(
                    id=str(r["id"]),
                    question=r["question"],
                    answers=tuple(r.get("answers", [])),
                    gold=tuple(r.get("gold", [])),
                    answerable=bool(r.get("answerable", bool(r.get("gold")))),
                    type=r.get("type", "fact"),
                    doc=r.get("doc"),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: not a Q&A record ({exc})") from exc
    return items


def contains_any(text: str, needles: Iterable[str]) -> bool:
    hay = normalize(text)
    return any(normalize(n) in hay for n in needles if n)


def judge(item: Item, answer: Answer) -> Outcome:
    ranked = [c.text for c in answer.citations + answer.see_also]
    rank = next((i for i, t in enumerate(ranked, 1) if contains_any(t, item.gold)), None)
    answer_ok = (not answer.refused and contains_any(answer.answer, item.answers)) if item.answerable else answer.refused
    citation_ok = bool(answer.citations) and contains_any(answer.citations[0].text, item.gold)
    return Outcome(item, answer, rank, answer_ok, citation_ok)


def _ratio(num: float, den: float) -> float:
    return round(num / den, 4) if den else float("nan")


def metrics(outcomes: Sequence[Outcome]) -> dict[str, float]:
    ans = [o for o in outcomes if o.item.answerable]
    unans = [o for o in outcomes if not o.item.answerable]
    answered = [o for o in ans if not o.answer.refused]
    refused = [o for o in outcomes if o.answer.refused]
    m: dict[str, float] = {"questions": len(outcomes), "answerable": len(ans), "unanswerable": len(unans)}
    for k in KS:
        m[f"hit@{k}"] = _ratio(sum(1 for o in ans if o.rank and o.rank <= k), len(ans))
    m["mrr"] = _ratio(sum(1 / o.rank for o in ans if o.rank), len(ans))
    m["ndcg@5"] = _ratio(sum(1 / math.log2(o.rank + 1) for o in ans if o.rank and o.rank <= 5), len(ans))
    m["answer_accuracy"] = _ratio(sum(o.answer_ok for o in ans), len(ans))
    m["citation_accuracy"] = _ratio(sum(o.citation_ok for o in answered), len(answered))
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
        by_type[name] = {key: g[key] for key in ("questions", "hit@1", "answer_accuracy", "citation_accuracy", "refusal_recall", "false_refusals")}
    return Report(metrics(outcomes), by_type, refusal_curve(outcomes), outcomes)


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
    lines += ["", "## By question type", "", "| type | n | hit@1 | answer acc. | citation acc. | refusal recall | false refusals |", "|---|---|---|---|---|---|---|"]
    for t, m in report.by_type.items():
        lines.append(f"| {t} | {m['questions']} | {m['hit@1']} | {m['answer_accuracy']} | {m['citation_accuracy']} | {m['refusal_recall']} | {m['false_refusals']} |")
    lines += ["", f"![metrics]({png})", "", "## Failures", ""]
    fails = report.failures()
    if not fails:
        lines.append("None.")
    for f in fails:
        lines.append(f"- `{f['id']}` ({f['type']}) {f['question']} — expected {f['expected']}, got 「{f['got']}」 (refused={f['refused']}, rank={f['rank']}, cited={f['cited']}, conf={f['confidence']})")
    return "\n".join(lines) + "\n"
