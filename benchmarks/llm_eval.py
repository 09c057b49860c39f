"""LLM mode vs extractive mode on a Q&A set → evals/reports/llm_eval.json.

    .venv/bin/python benchmarks/llm_eval.py --url http://127.0.0.1:8399/v1 [--limit N] [--every K]

Runs the same questions through the extractive core and through :class:`assistant.llm.LLMAssistant`
against a real OpenAI-compatible server, and reports for each mode answer accuracy, citation
accuracy, refusal recall (the judge of :mod:`assistant.evaluate`), plus for LLM mode the share
of answers that fell back to the extractive answer (and why), and latency p50/p95.
``--every K`` takes every K-th question (a stratified-enough subset when the full set is too slow
for the local model); the report says which questions ran.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from assistant.answering.llm import (  # noqa: E402
    MODE_FALLBACK,
    MODE_LLM,
    LLMAssistant,
    LLMConfig,
    discover_model,
)
from assistant.evaluation import judge, load_items, metrics  # noqa: E402
from assistant.services import load_assistant  # noqa: E402


def _pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 1) if values else float("nan")


def _reason(note: str) -> str:
    for key, name in (("逾時", "timeout"), ("無法連線", "server error"), ("沒有可核對", "no verifiable citation")):
        if key in note:
            return name
    return "other"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", default=os.environ.get("ASSISTANT_LLM_URL"), help="OpenAI-compatible base URL")
    p.add_argument("--model", default=os.environ.get("ASSISTANT_LLM_MODEL", ""))
    p.add_argument("--timeout", type=float, default=float(os.environ.get("ASSISTANT_LLM_TIMEOUT", 20)))
    p.add_argument("--set", default=str(REPO / "evals" / "dev.jsonl"))
    p.add_argument("--limit", type=int, default=0, help="first N questions (after --every)")
    p.add_argument("--every", type=int, default=1, help="every K-th question")
    p.add_argument("--out", default=str(REPO / "evals" / "reports" / "llm_eval.json"))
    p.add_argument("--server-note", default=os.environ.get("LLM_SERVER_NOTE", ""),
                   help="free text describing the server (model, threads) for the report")
    args = p.parse_args(argv)
    if not args.url:
        p.error("--url or ASSISTANT_LLM_URL is required")

    items = load_items(args.set)[:: max(1, args.every)]
    if args.limit:
        items = items[: args.limit]
    core = load_assistant(progress=False)
    config = LLMConfig(url=args.url.rstrip("/"), model=args.model or discover_model(args.url), timeout=args.timeout)
    llm = LLMAssistant(core, config)

    rows, ext_out, llm_out = [], [], []
    t_start = time.perf_counter()
    for n, item in enumerate(items, 1):
        e = core.ask(item.question)
        a = llm.ask(item.question)
        oe, ol = judge(item, e), judge(item, a)
        ext_out.append(oe)
        llm_out.append(ol)
        rows.append({
            "id": item.id, "type": item.type, "answerable": item.answerable,
            "extractive": {"answer": e.answer, "answer_ok": oe.answer_ok, "citation_ok": oe.citation_ok,
                           "cited": [c.id for c in e.citations], "ms": e.timing_ms.get("total")},
            "llm": {"answer": a.answer, "mode": a.mode, "note": a.note, "answer_ok": ol.answer_ok,
                    "citation_ok": ol.citation_ok, "cited": [c.id for c in a.citations],
                    "ms": a.timing_ms.get("total"), "llm_ms": a.timing_ms.get("llm")},
        })
        print(f"[{n}/{len(items)}] {item.id}: {a.mode} ok={ol.answer_ok}/{ol.citation_ok} "
              f"({a.timing_ms.get('total', 0) / 1000:.1f}s) {a.answer[:50]}", flush=True)

    asked = [r for r in rows if r["llm"]["mode"] in (MODE_LLM, MODE_FALLBACK)]
    modes = Counter(r["llm"]["mode"] for r in rows)
    reasons = Counter(_reason(r["llm"]["note"]) for r in asked if r["llm"]["mode"] == MODE_FALLBACK)
    lat_all = [r["llm"]["ms"] for r in rows]
    lat_asked = [r["llm"]["ms"] for r in asked]
    m_ext, m_llm = metrics(ext_out), metrics(llm_out)
    keys = ("answer_accuracy", "citation_accuracy", "refusal_recall", "refusal_precision", "false_refusals", "overall_accuracy")
    only_llm = [o for o in llm_out if o.answer.mode == MODE_LLM]
    report = {
        "set": Path(args.set).name,
        "questions": len(items),
        "subset": "all" if len(items) == len(load_items(args.set)) else f"every {args.every}th, limit {args.limit or 'none'}",
        "ids": [it.id for it in items],
        "server": {"url": args.url, "model": config.model, "timeout_s": args.timeout, "note": args.server_note},
        "extractive": {k: m_ext[k] for k in keys} | {"latency_p50_ms": m_ext.get("latency_p50_ms"), "latency_p95_ms": m_ext.get("latency_p95_ms")},
        "llm": {k: m_llm[k] for k in keys} | {
            "sent_to_model": len(asked),
            "mode_counts": dict(modes),
            "fallback_share": round(modes[MODE_FALLBACK] / len(asked), 4) if asked else float("nan"),
            "fallback_reasons": dict(reasons),
            "verified_llm_answers_answer_accuracy": round(sum(o.answer_ok for o in only_llm) / len(only_llm), 4) if only_llm else float("nan"),
            "verified_llm_answers_citation_accuracy": round(sum(o.citation_ok for o in only_llm) / len(only_llm), 4) if only_llm else float("nan"),
            "latency_p50_ms": _pct(lat_all, 50), "latency_p95_ms": _pct(lat_all, 95),
            "latency_sent_to_model_p50_ms": _pct(lat_asked, 50), "latency_sent_to_model_p95_ms": _pct(lat_asked, 95),
        },
        "citation_accuracy_not_lowered": bool(m_llm["citation_accuracy"] >= m_ext["citation_accuracy"]),
        "wall_s": round(time.perf_counter() - t_start, 1),
        "rows": rows,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    summary = {k: report[k] for k in ("questions", "subset", "extractive", "llm", "citation_accuracy_not_lowered", "wall_s")}
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    print(f"report: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
