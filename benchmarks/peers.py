"""Peer benchmark: stock RAG retrieval pipelines a user would otherwise pick, against ours.

    python benchmarks/peers.py evals/dev.jsonl evals/heldout.jsonl --out evals/reports/peers.json

Every peer loads the raw ``corpus/guidelines.txt`` as a pipeline would load a .txt (split into
its five documents at the 「第N篇:」 lines, nothing cleaned) and embeds with OUR model,
multilingual-e5-small ("query: " / "passage: " prompts, normalised, cosine = dot product).
``--with-extra`` adds the three laws of ``shared/corpus-extra/*.md`` to the PEERS ONLY (ours
keeps its own corpus). Peers, with the settings their tutorials / defaults ship:

* ``langchain-tutorial`` — ``RecursiveCharacterTextSplitter(chunk_size=500, chunk_overlap=50)``,
  dense cosine, top 4 (the LangChain RAG tutorial).
* ``chatchat-minmax`` — Langchain-Chatchat's ``ChineseRecursiveTextSplitter`` separators
  (``\\n\\n``, ``\\n``, 。|！|？, ``\\.\\s|\\!\\s|\\?\\s``, ；|;\\s, ，|,\\s; regex) at 750/150; BM25
  (bm25s, Lucene) over ``jieba.lcut_for_search`` tokens of the t2s text + dense; each score list
  min-max normalised over all chunks, fused 0.5/0.5; top 3.
* ``chatchat-rrf`` — the same chunks and lists fused by reciprocal rank fusion (k=60) over the
  full rankings; top 3. Chatchat's own ``EnsembleRetriever`` (weights 0.5/0.5) is a weighted RRF,
  so this is the closer one to stock.
* ``ragflow-like`` — paragraph chunks (one per line; lines shorter than 30 characters merged
  into the next), score = 0.05·BM25/max(BM25) + 0.95·cosine; top 6.
* ``ours`` — ``load_assistant().ask(q, k=10)``; ranked passages = citations + see_also; its own
  encoder and index (built on first use); latency includes answer extraction, peers' does not.

A passage *hits* when it contains a ``gold`` string under this normalisation, applied
identically to every pipeline (ours included) and to the gold: 臵→置; the transcoding artefact
「,?,」→「,」; all whitespace removed; OpenCC t2s. A second form additionally deletes 1–3 digit
runs touching whitespace (page numbers: 「自身建 1 設」, 「村、11 企業」) before removing
whitespace; a gold hits if it is inside the passage in either form.

Metrics over answerable questions: cite@1, hit@3, hit@k (the pipeline's own default k),
MRR@10. Refusal: peers have no gate, so top-1 score is their confidence and we report the best
refusal recall over thresholds that keep false refusals ≤ 5 % of answerable questions — an
oracle tuned on the set itself, i.e. flattering to the peers; ours reports its real
``answer.refused``. p50 latency per question after one warm-up; peers embed questions with
torch at ``--query-threads`` (0, the default: torch's own thread count, every core, while ours
chooses between one thread and every core per question; N pins both to N), ours' query cache is cleared
before each question; build = chunk + embed + BM25 (ours: ``load_assistant``, which only builds
``index/`` when it is empty). ``--out`` defaults to a temp file; pass evals/reports/peers.json to
refresh the committed one.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from assistant.evaluation import without_item_number

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus" / "guidelines.txt"
EXTRA = REPO.parent / "shared" / "corpus-extra"
DEPTH = 10  # ranked passages kept per question (MRR@10)
MAX_FALSE_REFUSALS = 0.05
CHATCHAT_SEPARATORS = ["\n\n", "\n", "。|！|？", r"\.\s|\!\s|\?\s", r"；|;\s", r"，|,\s"]

_DOC_START = re.compile(r"(?m)^(?=第[一二三四五六七八九十]+篇[::])")
_PAGE_ARTEFACT = re.compile(r"(?<!\d)\d{1,3}(?=\s)|(?<=\s)\d{1,3}(?!\d)")
_QUESTION_ARTEFACT = re.compile(r"(?<=[,，、])[?？][,，、]")
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w")


class Encoder(Protocol):
    def encode(self, sentences: list[str], **kwargs: Any) -> Any: ...


# ----------------------------------------------------------------------------- text and judging
@lru_cache(maxsize=1)
def _t2s() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


@cache
def norm_forms(text: str) -> tuple[str, str]:
    """(plain, page-numbers-removed) comparable forms of *text* (see the module docstring)."""
    t = _QUESTION_ARTEFACT.sub("", text.replace("臵", "置"))
    return (_t2s().convert(_SPACE.sub("", t)), _t2s().convert(_SPACE.sub("", _PAGE_ARTEFACT.sub("", t))))


def hits(passage: str, gold: Sequence[str]) -> bool:
    """A gold copied with its printed item number (「1、落實領導責任。」) hits a passage without it
    too — ours cite clause text, whose number is in the label — for every pipeline alike."""
    p = norm_forms(passage)
    forms = {f for g in gold if g for f in (g, without_item_number(g)) if f}
    return any(norm_forms(g)[0] in p[0] or norm_forms(g)[1] in p[1] for g in forms)


def load_documents(path: Path = CORPUS, extra: Path | None = None) -> list[str]:
    """The raw record split at its 「第N篇:」 lines (+ every ``*.md`` but README under *extra*)."""
    docs = [d for d in _DOC_START.split(path.read_text(encoding="utf-8")) if d.strip()]
    if extra is not None:
        docs += [p.read_text(encoding="utf-8") for p in sorted(extra.glob("*.md")) if p.name != "README.md"]
    return docs


def load_items(path: Path | str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


# ----------------------------------------------------------------------------- chunking
def split_recursive(docs: Sequence[str], size: int, overlap: int, separators: list[str] | None = None,
                    regex: bool = False) -> list[str]:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    kw: dict[str, Any] = {"separators": separators, "is_separator_regex": regex} if separators else {}
    splitter = RecursiveCharacterTextSplitter(chunk_size=size, chunk_overlap=overlap, **kw)
    return [c for d in docs for c in splitter.split_text(d) if c.strip()]


def split_paragraphs(docs: Sequence[str], min_chars: int = 30) -> list[str]:
    """One chunk per line; short lines accumulate until the chunk reaches *min_chars*."""
    out: list[str] = []
    for doc in docs:
        buf = ""
        for line in filter(None, (ln.strip() for ln in doc.splitlines())):
            buf = f"{buf}\n{line}" if buf else line
            if len(buf) >= min_chars:
                out.append(buf)
                buf = ""
        if buf:
            out.append(buf)
    return out


def zh_tokens(text: str) -> list[str]:
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    return [t for t in jieba.lcut_for_search(_t2s().convert(text)) if _WORD.search(t)]


# ----------------------------------------------------------------------------- scoring
def embed(encoder: Encoder, texts: Sequence[str], kind: str) -> np.ndarray:
    v = np.asarray(encoder.encode(list(texts), prompt_name=kind, normalize_embeddings=True,
                                  batch_size=16, show_progress_bar=False), dtype=np.float32)
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


def minmax(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    span = float(x.max() - x.min()) if x.size else 0.0
    return np.zeros_like(x) if span < 1e-12 else (x - x.min()) / span


def rrf(*score_lists: np.ndarray, k: int = 60) -> np.ndarray:
    """Σ 1/(k + rank) over full rankings (rank 1 = best; ties keep index order)."""
    out = np.zeros(len(score_lists[0]), dtype=np.float64)
    for s in score_lists:
        ranks = np.empty(len(s), dtype=np.int64)
        ranks[np.argsort(-np.asarray(s), kind="stable")] = np.arange(1, len(s) + 1)
        out += 1.0 / (k + ranks)
    return out


def max_scaled(x: np.ndarray) -> np.ndarray:
    m = float(np.max(x)) if len(x) else 0.0
    return np.asarray(x, dtype=np.float64) / m if m > 0 else np.zeros(len(x))


@dataclass
class Peer:
    name: str
    chunks: list[str]
    fusion: str  # "dense" | "minmax" | "rrf" | "ragflow"
    k: int
    encoder: Encoder
    vectors: np.ndarray = field(init=False, repr=False)
    bm25: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.vectors = embed(self.encoder, self.chunks, "passage")
        if self.fusion != "dense":
            import bm25s

            self.bm25 = bm25s.BM25()
            self.bm25.index([zh_tokens(c) for c in self.chunks], show_progress=False)

    def scores(self, question: str) -> np.ndarray:
        dense = self.vectors @ embed(self.encoder, [question], "query")[0]
        if self.fusion == "dense":
            return dense.astype(np.float64)
        toks = zh_tokens(question)
        lex = np.asarray(self.bm25.get_scores(toks), dtype=np.float64) if toks else np.zeros(len(self.chunks))
        if self.fusion == "minmax":
            return 0.5 * minmax(lex) + 0.5 * minmax(dense)
        if self.fusion == "rrf":
            return rrf(lex, dense)
        return 0.05 * max_scaled(lex) + 0.95 * dense

    def search(self, question: str, k: int | None = None) -> list[tuple[str, float]]:
        s = self.scores(question)
        return [(self.chunks[i], float(s[i])) for i in np.argsort(-s, kind="stable")[: k or self.k]]

    def query(self, question: str) -> tuple[list[str], float, bool | None]:
        ranked = self.search(question, DEPTH)
        return [t for t, _ in ranked], ranked[0][1] if ranked else float("-inf"), None


PEERS: dict[str, tuple[Callable[[Sequence[str]], list[str]], str, int]] = {
    "langchain-tutorial": (lambda d: split_recursive(d, 500, 50), "dense", 4),
    "chatchat-minmax": (lambda d: split_recursive(d, 750, 150, CHATCHAT_SEPARATORS, True), "minmax", 3),
    "chatchat-rrf": (lambda d: split_recursive(d, 750, 150, CHATCHAT_SEPARATORS, True), "rrf", 3),
    "ragflow-like": (split_paragraphs, "ragflow", 6),
}


def build_peer(name: str, docs: Sequence[str], encoder: Encoder) -> Peer:
    chunker, fusion, k = PEERS[name]
    return Peer(name, chunker(docs), fusion, k, encoder)


class Ours:
    name = "ours"

    def __init__(self) -> None:
        from assistant.services import load_assistant

        self.assistant = load_assistant(progress=False)
        self.k = int(getattr(getattr(self.assistant, "core", self.assistant), "k", 5))
        self.chunks: list[str] = []

    def query(self, question: str) -> tuple[list[str], float, bool | None]:
        embedder = getattr(getattr(getattr(self.assistant, "core", self.assistant), "searcher", None), "embedder", None)
        getattr(embedder, "_cache", {}).clear()  # every question pays its embedding, as the peers do
        ans = self.assistant.ask(question, k=DEPTH)
        return [c.text for c in ans.citations + ans.see_also], float(ans.confidence), bool(ans.refused)


# ----------------------------------------------------------------------------- metrics
def refusal_tradeoff(answerable: Sequence[float], unanswerable: Sequence[float],
                     max_false: float = MAX_FALSE_REFUSALS) -> dict[str, float]:
    """Refuse when confidence ≤ t; the best refusal recall over t with false refusals ≤
    *max_false* of the answerable questions (ties: the lower threshold)."""
    a, u = np.asarray(answerable, dtype=float), np.asarray(unanswerable, dtype=float)
    allowed = math.floor(max_false * len(a) + 1e-9)
    best = {"threshold": float("-inf"), "refusal_recall": 0.0 if len(u) else float("nan"), "false_refusals": 0.0}
    for t in np.unique(np.concatenate([a, u])):
        false = int((a <= t).sum())
        if false > allowed:
            break
        recall = float((u <= t).mean()) if len(u) else float("nan")
        if recall > best["refusal_recall"]:
            best = {"threshold": float(t), "refusal_recall": recall, "false_refusals": false / len(a) if len(a) else 0.0}
    return best


def first_hit(ranked: Sequence[str], gold: Sequence[str]) -> int | None:
    return next((i for i, t in enumerate(ranked[:DEPTH], 1) if hits(t, gold)), None)


def evaluate(pipe: Any, items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Run *pipe* (``.query(q) -> (ranked texts, confidence, refused or None)``, ``.k``) over *items*."""
    pipe.query(items[0]["question"])  # warm-up, untimed
    ranks, conf_a, conf_u, refused_a, refused_u, lat, top_len = [], [], [], [], [], [], []
    for it in items:
        t = time.perf_counter()
        ranked, conf, refused = pipe.query(it["question"])
        lat.append((time.perf_counter() - t) * 1000)
        if it["answerable"]:
            ranks.append(first_hit(ranked, it["gold"]))
            conf_a.append(conf)
            refused_a.append(bool(refused))
            top_len.append(len(ranked[0]) if ranked else 0)
        else:
            conf_u.append(conf)
            refused_u.append(bool(refused))
    n = max(len(ranks), 1)
    m: dict[str, Any] = {
        "k": pipe.k, "answerable": len(ranks), "unanswerable": len(conf_u),
        "cite@1": sum(r == 1 for r in ranks) / n, "hit@3": sum(bool(r) and r <= 3 for r in ranks) / n,
        "hit@k": sum(bool(r) and r <= pipe.k for r in ranks) / n,
        "mrr@10": sum(1 / r for r in ranks if r) / n, "top1_chars": float(np.mean(top_len)) if top_len else 0.0,
        "p50_ms": float(np.median(lat)), "chunks": len(getattr(pipe, "chunks", [])) or None,
    }
    if isinstance(pipe, Ours):
        m["refusal_recall"] = sum(refused_u) / len(refused_u) if refused_u else float("nan")
        m["false_refusals"] = sum(refused_a) / n
        m["refusal_mode"] = "answer.refused"
    else:
        trade = refusal_tradeoff(conf_a, conf_u)
        m.update(refusal_recall=trade["refusal_recall"], false_refusals=trade["false_refusals"],
                 refusal_threshold=trade["threshold"], refusal_mode="oracle top-1 threshold, FR<=5%")
    return m


# ----------------------------------------------------------------------------- output
COLUMNS = [("k", "k", "{:d}"), ("cite@1", "cite@1", "{:.3f}"), ("hit@3", "hit@3", "{:.3f}"),
           ("hit@k", "hit@k", "{:.3f}"), ("mrr@10", "MRR@10", "{:.3f}"), ("refusal_recall", "refuse", "{:.2f}"),
           ("false_refusals", "false-ref", "{:.3f}"), ("p50_ms", "p50 ms", "{:.1f}"), ("build_s", "build s", "{:.1f}"),
           ("chunks", "chunks", "{}"), ("top1_chars", "chars@1", "{:.0f}")]


def table(name: str, rows: dict[str, dict[str, Any]]) -> str:
    head = [f"{'pipeline':<20}" + "".join(f"{h:>10}" for _, h, _ in COLUMNS)]
    for pipe, m in rows.items():
        cells = []
        for key, _, fmt in COLUMNS:
            v = m.get(key)
            cells.append(f"{'-' if v is None or (isinstance(v, float) and math.isnan(v)) else fmt.format(v):>10}")
        head.append(f"{pipe:<20}" + "".join(cells))
    a = next(iter(rows.values()), {})
    return f"== {name} ({a.get('answerable')} answerable, {a.get('unanswerable')} unanswerable)\n" + "\n".join(head)


def _finite(x: Any) -> Any:
    """NaN / ±inf → null, so the JSON is strict."""
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    return None if isinstance(x, float) and not math.isfinite(x) else x


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("sets", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "peers.json")
    ap.add_argument("--limit", type=int, default=None, help="first N questions of each set")
    ap.add_argument("--with-extra", action="store_true", help="add shared/corpus-extra/*.md (peers only)")
    ap.add_argument("--only", default=None, help="comma-separated pipelines (default: all + ours)")
    ap.add_argument("--query-threads", type=int, default=0,
                    help="threads both pipelines embed questions on (0: each one's default)")
    args = ap.parse_args(argv)
    sets = {p.stem: load_items(p)[: args.limit] for p in args.sets}
    docs = load_documents(CORPUS, EXTRA if args.with_extra else None)
    for name, items in sets.items():
        lost = [it["id"] for it in items if it["answerable"] and not any(hits(d, it["gold"]) for d in docs)]
        if lost:
            print(f"warning: {name}: gold not found in the raw corpus under the normalisation: {lost}", file=sys.stderr)
    wanted = args.only.split(",") if args.only else [*PEERS, "ours"]
    results: dict[str, Any] = {name: {} for name in sets}
    import torch
    from sentence_transformers import SentenceTransformer

    from assistant.index import e5model

    encoder = SentenceTransformer(str(e5model.materialise()), device="cpu")
    # Ours on as many threads as the peers, or on its default when they are on theirs.
    if args.query_threads:
        os.environ["ASSISTANT_EMBED_THREADS"] = str(args.query_threads)
    else:
        os.environ.pop("ASSISTANT_EMBED_THREADS", None)
    for name in wanted:
        t = time.perf_counter()
        pipe: Any = Ours() if name == "ours" else build_peer(name, docs, encoder)
        build_s = time.perf_counter() - t
        print(f"[{name}] built in {build_s:.1f}s", file=sys.stderr, flush=True)
        build_threads = torch.get_num_threads()
        if args.query_threads:
            torch.set_num_threads(args.query_threads)
        for set_name, items in sets.items():
            results[set_name][name] = {**evaluate(pipe, items), "build_s": build_s}
        torch.set_num_threads(build_threads)
        del pipe
    for set_name in sets:
        print(table(set_name, results[set_name]), end="\n\n")
    results["run"] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"), "model": e5model.MODEL_NAME,
        "python": platform.python_version(), "torch_threads": {"build": torch.get_num_threads(),
        "query": args.query_threads or torch.get_num_threads()}, "limit": args.limit, "with_extra": args.with_extra,
        "ours_corpus": "its own corpus dir (seed guidelines); --with-extra applies to peers only",
        "sets": {s: str(p) for s, p in zip(sets, args.sets)},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(_finite(results), ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))  # run as a script from a checkout
    raise SystemExit(main())
