"""``assistant bench``: warm and cold ``ask`` latency, index build, and growth to 100k clauses.

    assistant bench                       # all of it (≈ 10–15 min on 2 cores)
    assistant bench --quick               # growth 1k/10k, 40 questions, one cold run (≈ 2–3 min)
    assistant bench --sizes 1000 --modes embedded --skip cold

Writes ``evals/reports/bench.json`` and ``bench.png`` (``--out DIR`` elsewhere) and prints a table.

* **build** — the real corpus embedded into a fresh temporary index (ONNX passages), then the
  no-change re-index, in process and as a user runs it (``assistant index`` in a new process).
* **warm** — ``Assistant.ask`` over ``evals/dev.jsonl`` on that index, split into the stages of
  ``Answer.timing_ms`` (retrieve = query embedding + Chroma + BM25/fusion; answer = span
  selection). The query-embedding cache is cleared before every question, so every question
  pays its ONNX embedding (repeated questions would otherwise cost ~0 ms).
* **cold** — wall time of ``assistant ask --json Q`` in a new process (start → answer printed).
* **hostile** — ``assistant add`` in a new process, into a scratch corpus, on the paragraph-bomb
  .docx (246 KB, 2,000,000 one-character paragraphs) and on a 6 MB structure-less .txt: wall
  time, peak RSS, and what it said (issue 14: each must end, refused or parsed, within 30 s);
  then the parser alone (no limits applied) on 2, 6 and 8 MB of structure-less text.
* **growth** — SYNTHETIC corpora in temporary directories, never the real index: the 93 real
  clauses plus copies whose text has ~15 % of its characters replaced (so BM25's vocabulary
  grows) and whose vectors are the real clause embeddings plus Gaussian noise, renormalised
  (cosine ≈ 0.86 to their source). Synthetic vectors because growth measures the store and
  retrieval (Chroma + BM25 + answerer), not the encoder: embedding 100k passages with e5 on 2
  cores would take hours. Query vectors are real (ONNX, per question, uncached). Each size and
  mode (embedded ``PersistentClient`` / a ``chroma run`` server) runs in its own process:
  build time, no-change re-index, BM25 build, on-disk size, RSS, query p50/p95 — *before*
  (dense k = all clauses, full sort) and *after* (dense top-50, partial sort) the retrieve.py
  change, both pinned here whatever retrieve.py ships.

Top-level imports stay light: the CLI imports this module to build its parser.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from assistant.settings import REPO, Settings

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from a checkout
from tests.chroma_server import ChromaServer  # noqa: E402

DEFAULT_SIZES = "1000,10000,100000"
QUICK_SIZES = "1000,10000"
DENSE_K = 50  # dense top-k of the "after" variant (see variant_searcher)
NOISE_SIGMA = 0.03  # per-dimension noise of synthetic vectors (384 dims → cosine ≈ 0.86)
CHAR_SWAP = 0.15  # share of CJK characters replaced in a synthetic clause
RESULT_TAG = "BENCH-RESULT "
TARGETS = {"warm_p50_ms": 30, "warm_p95_ms": 80, "cold_s": 5, "growth_100k_p50_ms": 150, "hostile_add_s": 30}
STAGES = ("build", "warm", "cold", "hostile", "growth")


# ----------------------------------------------------------------------------- a Chroma server


def proc_status(pid: int | str = "self") -> dict[str, float]:
    """VmRSS / VmHWM (peak) of a process in MB (Linux /proc; empty elsewhere)."""
    out: dict[str, float] = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = round(int(value.split()[0]) / 1024, 1)
    return out


def du_mb(path: Path) -> float:
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            with contextlib.suppress(OSError):
                total += os.stat(os.path.join(root, f)).st_blocks * 512
    return round(total / 2**20, 1)


def pct(values: list[float], q: float) -> float:
    import numpy as np

    return round(float(np.percentile(values, q)), 2) if values else float("nan")


def loadavg() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def dev_questions(n: int = 0) -> list[str]:
    path = REPO / "evals" / "dev.jsonl"
    qs = [json.loads(line)["question"] for line in path.read_text("utf-8").splitlines() if line.strip()]
    return qs[:n] if n else qs


class _Timed:
    """Wraps a bound method on an instance, accumulating its wall time (ms) per call."""

    def __init__(self, obj: Any, name: str) -> None:
        self.obj, self.name, self.ms = obj, name, 0.0
        self.inner = getattr(obj, name)

    def __call__(self, *a: Any, **kw: Any) -> Any:
        t = time.perf_counter()
        try:
            return self.inner(*a, **kw)
        finally:
            self.ms += (time.perf_counter() - t) * 1000

    def __enter__(self) -> "_Timed":
        setattr(self.obj, self.name, self)
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(AttributeError):
            delattr(self.obj, self.name)


def _uncached(embedder: Any) -> None:
    """Forget cached query embeddings, so the next question pays its embedding."""
    cache = getattr(embedder, "_cache", None)
    if cache is not None:
        cache.clear()


def time_asks(assistant: Any, questions: list[str], passes: int = 1) -> dict[str, Any]:
    """p50/p95 per stage of ``assistant.ask`` with the query cache cleared before each."""
    searcher = assistant.searcher
    stages: dict[str, list[float]] = {k: [] for k in ("retrieve", "answer", "total", "embed", "dense", "bm25_fusion")}
    for q in questions[:3]:  # warm-up: first-call allocations are not a user's latency
        _uncached(searcher.embedder)
        assistant.ask(q)
    for _ in range(passes):
        for q in questions:
            _uncached(searcher.embedder)
            with _Timed(searcher.embedder, "encode_queries") as emb, _Timed(searcher.store, "query") as dense:
                a = assistant.ask(q)
            t = a.timing_ms
            if not t:  # an empty question returns early
                continue
            for k in ("retrieve", "answer", "total"):
                stages[k].append(t[k])
            stages["embed"].append(emb.ms)
            stages["dense"].append(dense.ms)
            stages["bm25_fusion"].append(max(0.0, t["retrieve"] - emb.ms - dense.ms))
    return {
        "n": len(stages["total"]),
        **{f"{k}_p50_ms": pct(v, 50) for k, v in stages.items()},
        **{f"{k}_p95_ms": pct(v, 95) for k, v in stages.items()},
    }


# ----------------------------------------------------------------------------- before / after
def variant_searcher(searcher: Any, dense_k: int | None) -> Any:
    """The same searcher (same BM25 index, store, embedder) with the dense half pinned,
    whatever retrieve.py currently ships: ``dense_k=None`` — **before**: Chroma asked for every
    clause (k = N); ``dense_k=50`` — **after**: Chroma's top 50 (the other clauses get the 50th
    similarity and rescale to 0 in the fusion, as the farthest clause did). The final ranking
    is retrieve.top_k, which orders exactly as the full stable argsort it replaced."""
    import copy

    new = copy.copy(searcher)
    new.dense_k = len(searcher.clauses) if dense_k is None else dense_k
    return new


def shipped_retriever() -> str:
    """Which dense retrieval retrieve.py ships right now."""
    import inspect

    from assistant.retrieval.hybrid import HybridSearcher

    k = inspect.signature(HybridSearcher.__init__).parameters.get("dense_k")
    return f"top-{k.default}" if k is not None else "k = all clauses"


# ----------------------------------------------------------------------------- synthetic corpora
def synthetic_corpus(documents, clauses, vectors, size: int, seed: int = 0):
    """*size* clauses: the real ones, then perturbed copies (ids ``syn000123-d4-s2-c6``, titles
    and labels prefixed 〔合成〕), with synthetic vectors. Returns (documents, clauses, vectors)."""
    import dataclasses

    import numpy as np

    from assistant.text import is_cjk

    rng = np.random.default_rng(seed)
    vectors = np.asarray(vectors, dtype=np.float32)
    docs = list(documents) + [
        dataclasses.replace(d, id=f"syn-{d.id}", title=f"〔合成 synthetic〕{d.title}") for d in documents
    ]
    out = list(clauses)
    extra = max(0, size - len(out))
    src = rng.integers(0, len(clauses), size=extra)
    pool = np.array([ch for c in clauses for ch in c.text if is_cjk(ch)])
    for n, j in enumerate(src):
        c = clauses[j]
        chars = list(c.text)
        cjk = [i for i, ch in enumerate(chars) if is_cjk(ch)]
        if cjk:
            pick = rng.choice(len(cjk), size=max(1, int(len(cjk) * CHAR_SWAP)), replace=False)
            for i, ch in zip(pick, rng.choice(pool, size=len(pick))):
                chars[cjk[i]] = str(ch)
        out.append(dataclasses.replace(
            c, id=f"syn{n:06d}-{c.id}", doc_id=f"syn-{c.doc_id}", doc_title=f"〔合成〕{c.doc_title}",
            label=f"〔合成〕{c.label}", text="".join(chars), original="", order=len(clauses) + n,
        ))
    noise = rng.normal(0.0, NOISE_SIGMA, size=(extra, vectors.shape[1])).astype(np.float32)
    syn = vectors[src] + noise
    syn /= np.linalg.norm(syn, axis=1, keepdims=True)
    return docs, out[:size], np.concatenate([vectors, syn])[:size]


class _TableEncoder:
    """A passage encoder that returns precomputed (synthetic) vectors for known passages."""

    def __init__(self, name: str, table: dict[str, Any]) -> None:
        self.name, self.table = name, table

    def encode_passages(self, texts: list[str]):
        import numpy as np

        return np.stack([self.table[t] for t in texts])


def real_vectors(index_path: Path | None, url: str | None, corpus) -> Any:
    """The stored embeddings of the real clauses (in corpus order)."""
    import numpy as np

    from assistant.index.embed import get_embedder
    from assistant.index.store import ClauseStore, open_client

    store = ClauseStore(open_client(index_path, url), get_embedder().name)
    store.sync(corpus.passages, get_embedder(), corpus.documents, progress=False)
    ids = [c.id for c in corpus.clauses]
    got = store.collection.get(ids=ids, include=["embeddings"])
    by_id = dict(zip(got["ids"], got["embeddings"]))
    return np.stack([np.asarray(by_id[i], dtype=np.float32) for i in ids])


def growth_case(spec: dict[str, Any]) -> dict[str, Any]:
    """One synthetic size in one mode, in this process (run by ``--worker``)."""
    from assistant.answering.extractive import Assistant
    from assistant.corpus.store import load_corpus
    from assistant.index.embed import get_embedder
    from assistant.index.store import ClauseStore, open_client, passage
    from assistant.retrieval.hybrid import HybridSearcher

    size, mode = int(spec["size"]), spec["mode"]
    work = Path(spec["workdir"])
    questions = spec["questions"]
    corpus = load_corpus()
    t = time.perf_counter()
    vectors = real_vectors(Path(spec["source_index"]), None, corpus)
    docs, clauses, vecs = synthetic_corpus(corpus.documents, corpus.clauses, vectors, size, seed=size)
    by_doc = {d.id: d for d in docs}
    table = {passage(c, by_doc.get(c.doc_id)): v for c, v in zip(clauses, vecs)}
    encoder = _TableEncoder(f"synthetic:{get_embedder().name}", table)
    gen_s = time.perf_counter() - t
    result: dict[str, Any] = {"size": size, "mode": mode, "synthetic": True, "generate_s": round(gen_s, 2)}
    server = None
    try:
        if mode == "server":
            server = ChromaServer(work / "chroma-server").start()
            client = open_client(url=server.url)
            data_dir = server.path
        else:
            data_dir = work / "index"
            client = open_client(data_dir)
        result["load_before"] = loadavg()
        t = time.perf_counter()
        store = ClauseStore(client, encoder.name)
        # Clause vectors only: the synthetic table has none for sentences, so the answerer picks
        # sentences by words alone here (its sentence-vector lookup is still timed).
        report = store.sync(clauses, encoder, docs, batch=int(spec.get("batch", 2000)), progress=False,
                            sentences=False)
        result["build_s"] = round(time.perf_counter() - t, 2)
        result["stored"] = store.count()
        t = time.perf_counter()
        again = store.sync(clauses, encoder, docs, progress=False, sentences=False)
        result["reindex_s"] = round(time.perf_counter() - t, 2)
        result["reindex_embedded"] = again.embedded
        assert report.embedded == size, report
        embedder = get_embedder()
        t = time.perf_counter()
        searcher = HybridSearcher(clauses, store, embedder, docs)
        result["bm25_build_s"] = round(time.perf_counter() - t, 2)
        before = Assistant(variant_searcher(searcher, None))
        after = Assistant(variant_searcher(searcher, DENSE_K))
        n_cur = int(spec.get("current_queries") or len(questions))
        result["before"] = time_asks(before, questions[:n_cur])
        result["after"] = time_asks(after, questions)
        # Synthetic copies of one clause are interchangeable: compare the clause they came from.
        def top1(a) -> str:
            cid = a.citations[0].id if a.citations else (a.see_also[0].id if a.see_also else "")
            return cid.split("-", 1)[1] if cid.startswith("syn") else cid

        agree = sum(top1(before.ask(q)) == top1(after.ask(q)) for q in questions[:n_cur])
        result["top1_same_before_after"] = f"{agree}/{n_cur}"
        result["disk_mb"] = du_mb(data_dir)
        result["rss_mb"] = proc_status()
        if server is not None:
            result["server_rss_mb"] = proc_status(server.pid)
        result["load_after"] = loadavg()
    finally:
        if server is not None:
            server.stop()
    return result


# ----------------------------------------------------------------------------- stages
def stage_build(workdir: Path) -> tuple[dict[str, Any], Path]:
    from assistant.corpus.store import load_corpus
    from assistant.index.embed import get_embedder
    from assistant.index.store import ClauseStore, open_client

    corpus = load_corpus()
    embedder = get_embedder()
    t = time.perf_counter()
    embedder.encode_passages(["預熱"])  # the passage model (ONNX, all cores): apart from the embedding
    model_s = time.perf_counter() - t
    index = workdir / "index"
    out: dict[str, Any] = {"clauses": len(corpus.clauses), "load_before": loadavg(), "model_load_s": round(model_s, 2)}
    t = time.perf_counter()
    store = ClauseStore(open_client(index), embedder.name)
    report = store.sync(corpus.clauses, embedder, corpus.documents, progress=False)
    out["build_s"] = round(time.perf_counter() - t, 2)
    out["embedded"] = report.embedded
    t = time.perf_counter()
    again = ClauseStore(open_client(index), embedder.name).sync(corpus.clauses, embedder, corpus.documents, progress=False)
    out["reindex_s"] = round(time.perf_counter() - t, 3)
    out["reindex_embedded"] = again.embedded
    runs = []
    for _ in range(2):
        t = time.perf_counter()
        r = subprocess.run([*_cli(), "--index", str(index), "index"], capture_output=True, timeout=600)
        runs.append(time.perf_counter() - t)
        if r.returncode:
            out["reindex_cli_error"] = r.stderr.decode("utf-8", "replace")[-300:]
    out["reindex_cli_s"] = round(min(runs), 2)
    out["disk_mb"] = du_mb(index)
    return out, index


def _cli() -> list[str]:
    exe = Path(sys.executable).with_name("assistant")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "assistant.apps.cli"]


def stage_warm(index: Path | None, questions: list[str], passes: int) -> dict[str, Any]:
    from assistant.services import load_assistant

    assistant = load_assistant(str(index) if index else None, progress=False)
    out = {"questions": len(questions), "passes": passes, "load_before": loadavg(),
           "query_cache": "cleared before every question"}
    out["shipped_retriever"] = shipped_retriever()
    out.update(time_asks(assistant, questions, passes))
    out["before"] = time_asks(type(assistant)(variant_searcher(assistant.searcher, None)), questions, 1)
    out["after"] = time_asks(type(assistant)(variant_searcher(assistant.searcher, DENSE_K)), questions, 1)
    out["load_after"] = loadavg()
    return out


def stage_cold(index: Path | None, runs: int) -> dict[str, Any]:
    q = "鄉鎮紀委書記任滿幾年必須交流?"
    walls, inner = [], []
    extra = ["--index", str(index)] if index else []
    out: dict[str, Any] = {"question": q, "load_before": loadavg(), "command": "assistant ask --json Q"}
    for _ in range(runs):
        t = time.perf_counter()
        r = subprocess.run([*_cli(), *extra, "ask", "--json", q], capture_output=True, timeout=600)
        walls.append(time.perf_counter() - t)
        if r.returncode:
            out["error"] = r.stderr.decode("utf-8", "replace")[-300:]
            continue
        inner.append(json.loads(r.stdout.decode("utf-8").splitlines()[-1])["timing_ms"]["total"])
    out.update(runs=[round(w, 2) for w in walls], median_s=round(sorted(walls)[len(walls) // 2], 2),
               min_s=round(min(walls), 2), first_answer_ask_ms=inner[0] if inner else None)
    return out


_PEAK = ("import resource, sys; from assistant.apps.cli import main; rc = main(sys.argv[1:]); "
         "print('PEAK_RSS_MB', round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1), "
         "file=sys.stderr); sys.exit(rc)")


def stage_hostile(workroot: Path) -> dict[str, Any]:
    """`assistant add FILE --json` (the CLI's main in a new process, reporting its peak RSS) on
    hostile files, into a copy of the seed corpus with an empty index; then the parser alone."""
    from assistant.corpus.store import parse_source
    from tests import hostile_files as hostile

    workdir = Path(tempfile.mkdtemp(prefix="hostile-", dir=workroot))
    corpus = workdir / "corpus"
    corpus.mkdir()
    for name in ("guidelines.txt", "documents.json"):
        shutil.copy(REPO / "corpus" / name, corpus / name)
    env = dict(os.environ, ASSISTANT_CORPUS=str(corpus), ASSISTANT_INDEX=str(workdir / "index"))
    env.pop("ASSISTANT_CHROMA_URL", None)
    bomb = hostile.paragraph_bomb_docx(workdir / "bomb.docx")
    flat = workdir / "flat-6mb.txt"
    flat.write_text(hostile.flat_text(6_000_000), encoding="utf-8")
    out: dict[str, Any] = {"load_before": loadavg(), "command": "assistant add FILE --json (new process)"}
    for key, path in (("docx_bomb", bomb), ("flat_6mb_txt", flat)):
        t = time.perf_counter()
        try:
            r = subprocess.run([sys.executable, "-c", _PEAK, "add", str(path), "--json"], env=env,
                               capture_output=True, text=True, timeout=600, check=False)
        except subprocess.TimeoutExpired:
            out[key] = {"bytes": path.stat().st_size, "error": "still running after 600 s"}
            continue
        wall = time.perf_counter() - t
        files = (json.loads(r.stdout.splitlines()[-1]) if r.stdout.strip() else {}).get("files") or [{}]
        peak = [ln.split()[-1] for ln in r.stderr.splitlines() if ln.startswith("PEAK_RSS_MB")]
        out[key] = {"bytes": path.stat().st_size, "seconds": round(wall, 2), "exit": r.returncode,
                    "status": files[0].get("status"), "code": files[0].get("code"),
                    "peak_rss_mb": float(peak[0]) if peak else None, "within_30s": wall < 30}
    out["corpus_unchanged"] = sorted(p.name for p in corpus.iterdir()) == ["documents.json", "guidelines.txt"]
    parse: dict[str, Any] = {}
    for mb in (2, 6, 8):
        text = hostile.flat_text(mb * 1_000_000)
        t = time.perf_counter()
        _, clauses = parse_source(text, "flat.txt", [{"id": "d9"}])
        parse[f"{mb}MB"] = {"seconds": round(time.perf_counter() - t, 2), "clauses": len(clauses)}
    out["parse_structure_less"] = parse
    shutil.rmtree(workdir, ignore_errors=True)
    return out


def stage_growth(size: int, mode: str, source_index: Path, questions: list[str], workroot: Path,
                 current_queries: int, timeout: float) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix=f"growth-{size}-{mode}-", dir=workroot))
    spec = {"size": size, "mode": mode, "source_index": str(source_index), "questions": questions,
            "workdir": str(workdir), "current_queries": current_queries}
    t = time.perf_counter()
    try:
        r = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(spec, ensure_ascii=False)],
                           capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"size": size, "mode": mode, "error": f"timed out after {timeout:.0f} s"}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    for line in r.stdout.decode("utf-8", "replace").splitlines():
        if line.startswith(RESULT_TAG):
            res = json.loads(line[len(RESULT_TAG):])
            res["wall_s"] = round(time.perf_counter() - t, 1)
            return res
    return {"size": size, "mode": mode, "error": r.stderr.decode("utf-8", "replace").strip()[-400:]}


# ----------------------------------------------------------------------------- report
def _fmt(v: Any) -> str:
    return "—" if v is None else f"{v:g}" if isinstance(v, float) else str(v)


def print_report(rep: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console(width=None if sys.stdout.isatty() else 150)
    w = rep.get("warm")
    if w:
        t = Table(title=f"warm ask over {w['questions']} dev questions × {w['passes']}, retriever as shipped "
                  f"({w['shipped_retriever']}); query cache cleared; load {w['load_before']}")
        for col in ("stage", "p50 ms", "p95 ms", "k=all p50", "k=all p95", f"top-{DENSE_K} p50", f"top-{DENSE_K} p95"):
            t.add_column(col, justify="right")
        for s in ("total", "retrieve", "embed", "dense", "bm25_fusion", "answer"):
            t.add_row(s, _fmt(w[f"{s}_p50_ms"]), _fmt(w[f"{s}_p95_ms"]),
                      _fmt(w["before"][f"{s}_p50_ms"]), _fmt(w["before"][f"{s}_p95_ms"]),
                      _fmt(w["after"][f"{s}_p50_ms"]), _fmt(w["after"][f"{s}_p95_ms"]))
        con.print(t)
    b, c = rep.get("build"), rep.get("cold")
    if b or c:
        t = Table(title="start-up and index")
        t.add_column("measure")
        t.add_column("value", justify="right")
        if c:
            t.add_row("cold `assistant ask` (start → answer), median s", _fmt(c["median_s"]))
            t.add_row("cold runs s", ", ".join(_fmt(x) for x in c["runs"]))
        if b:
            t.add_row(f"index build, {b['clauses']} clauses (model loaded) s", _fmt(b["build_s"]))
            t.add_row("passage model load s", _fmt(b["model_load_s"]))
            t.add_row("no-change re-index, in process s", _fmt(b["reindex_s"]))
            t.add_row("no-change `assistant index` (new process) s", _fmt(b["reindex_cli_s"]))
            t.add_row("index on disk MB", _fmt(b["disk_mb"]))
        con.print(t)
    h = rep.get("hostile")
    if h:
        t = Table(title=f"hostile files: {h['command']}, target ≤ {TARGETS['hostile_add_s']} s each")
        for col in ("file", "size", "seconds", "peak RSS MB", "result"):
            t.add_column(col, justify="right")
        for key, label in (("docx_bomb", "paragraph-bomb .docx"), ("flat_6mb_txt", "structure-less .txt")):
            r = h.get(key) or {}
            result = r.get("error") or f"{r.get('status')} ({r.get('code')}), exit {r.get('exit')}"
            t.add_row(label, f"{r.get('bytes', 0) / 1e6:.2f} MB", _fmt(r.get("seconds")),
                      _fmt(r.get("peak_rss_mb")), result)
        for size, r in h["parse_structure_less"].items():
            t.add_row(f"parser alone, no limits: {size}", "", _fmt(r["seconds"]), "", f"{r['clauses']} clauses")
        con.print(t)
    g = rep.get("growth") or []
    if g:
        t = Table(title="growth (SYNTHETIC corpora: perturbed clauses, synthetic vectors)")
        for col in ("clauses", "mode", "build s", "re-index s", "BM25 s", "disk MB", "RSS MB",
                    "k=all p50", "k=all p95", f"top-{DENSE_K} p50", f"top-{DENSE_K} p95",
                    "dense+bm25 p50", "top-1 same"):
            t.add_column(col, justify="right")
        for r in g:
            if "error" in r:
                t.add_row(str(r["size"]), r["mode"], f"error: {r['error'][:60]}")
                continue
            rss = r["rss_mb"].get("VmHWM")
            if "server_rss_mb" in r:
                rss = f"{r['rss_mb'].get('VmHWM')}+{r['server_rss_mb'].get('VmRSS')}"
            t.add_row(str(r["size"]), r["mode"], _fmt(r["build_s"]), _fmt(r["reindex_s"]),
                      _fmt(r["bm25_build_s"]), _fmt(r["disk_mb"]), str(rss),
                      _fmt(r["before"]["total_p50_ms"]), _fmt(r["before"]["total_p95_ms"]),
                      _fmt(r["after"]["total_p50_ms"]), _fmt(r["after"]["total_p95_ms"]),
                      f"{_fmt(r['after']['dense_p50_ms'])}+{_fmt(r['after']['bm25_fusion_p50_ms'])}",
                      r["top1_same_before_after"])
        con.print(t)


def plot(rep: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    g = [r for r in rep.get("growth") or [] if "error" not in r]
    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    modes = sorted({r["mode"] for r in g})
    style = {"embedded": "o-", "server": "s--"}
    ax = axes[0][0]
    for m in modes:
        rs = sorted((r for r in g if r["mode"] == m), key=lambda r: r["size"])
        xs = [r["size"] for r in rs]
        ax.plot(xs, [r["before"]["total_p50_ms"] for r in rs], style.get(m, "o-"), label=f"{m} p50, before (k=all)")
        ax.plot(xs, [r["after"]["total_p50_ms"] for r in rs], style.get(m, "o-"), label=f"{m} p50, after (top-{DENSE_K})")
        ax.plot(xs, [r["after"]["total_p95_ms"] for r in rs], style.get(m, "o-"), alpha=0.5, label=f"{m} p95, after")
    ax.axhline(TARGETS["growth_100k_p50_ms"], color="red", lw=0.8, ls=":", label="100k target p50")
    ax.set(xscale="log", yscale="log", xlabel="clauses", ylabel="ask latency ms", title="query latency")
    ax.legend(fontsize=7)
    for ax, key, label in ((axes[0][1], "build_s", "build s"), (axes[1][0], "disk_mb", "on-disk MB")):
        for m in modes:
            rs = sorted((r for r in g if r["mode"] == m), key=lambda r: r["size"])
            ax.plot([r["size"] for r in rs], [r[key] for r in rs], style.get(m, "o-"), label=m)
        ax.set(xscale="log", yscale="log", xlabel="clauses", ylabel=label, title=label)
        ax.legend(fontsize=8)
    ax = axes[1][1]
    for m in modes:
        rs = sorted((r for r in g if r["mode"] == m), key=lambda r: r["size"])
        xs = [r["size"] for r in rs]
        ax.plot(xs, [r["rss_mb"].get("VmHWM", 0) for r in rs], style.get(m, "o-"), label=f"{m}: assistant peak RSS")
        if m == "server":
            ax.plot(xs, [r.get("server_rss_mb", {}).get("VmRSS", 0) for r in rs], "^:", label="chroma server RSS")
    ax.set(xscale="log", xlabel="clauses", ylabel="MB", title="memory")
    ax.legend(fontsize=8)
    w, c = rep.get("warm"), rep.get("cold")
    sub = []
    if w:
        sub.append(f"real corpus warm ask p50 {w['total_p50_ms']} ms / p95 {w['total_p95_ms']} ms")
    if c:
        sub.append(f"cold CLI ask {c['median_s']} s")
    fig.suptitle("assistant bench — growth on SYNTHETIC corpora (perturbed clause copies, synthetic "
                 "vectors)\n" + "; ".join(sub), fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ----------------------------------------------------------------------------- CLI plugin
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sizes", help=f"growth sizes in clauses (default {DEFAULT_SIZES}; --quick {QUICK_SIZES})")
    parser.add_argument("--modes", default="embedded,server", help="growth store modes: embedded,server")
    parser.add_argument("--quick", action="store_true", help="smaller run: growth 1k/10k, 40 questions, 1 cold run")
    parser.add_argument("--questions", type=int, default=0, help="dev questions for warm latency (0 = all 127)")
    parser.add_argument("--growth-questions", type=int, default=40, help="questions per growth size")
    parser.add_argument("--skip", default="", help="comma list of stages to skip: " + ",".join(STAGES))
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--out", help="report directory (default evals/reports)")
    parser.add_argument("--case-timeout", type=float, default=3600, help="seconds per growth case")
    parser.add_argument("--worker", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    if args.worker:
        res = growth_case(json.loads(args.worker))
        print(RESULT_TAG + json.dumps(res, ensure_ascii=False), flush=True)
        return 0
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    unknown = skip - set(STAGES)
    if unknown:
        print(f"assistant: error: unknown stage(s) to skip: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    sizes = [int(s) for s in (args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES)).split(",") if s]
    modes = [m for m in args.modes.split(",") if m]
    if set(modes) - {"embedded", "server"}:
        print("assistant: error: --modes takes embedded,server", file=sys.stderr)
        return 2
    questions = dev_questions(args.questions or (40 if args.quick else 0))
    growth_q = dev_questions(min(args.growth_questions, 20) if args.quick else args.growth_questions)
    cold_runs = 1 if args.quick else args.cold_runs
    out_dir = Path(args.out or Settings.from_env().reports_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rep: dict[str, Any] = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": {"cpus": os.cpu_count(), "loadavg_start": loadavg(), "python": sys.version.split()[0]},
        "targets": TARGETS,
        "notes": [
            "warm: Assistant.ask per dev question, query-embedding cache cleared before each question",
            "growth corpora are SYNTHETIC: the 93 real clauses plus perturbed copies (15% of CJK "
            "characters replaced) with synthetic vectors (real clause embedding + N(0, 0.03^2) noise, "
            "renormalised); built in temporary directories, never the real index",
            f"'before' = dense retrieval asks Chroma for every clause + full argsort; 'after' = "
            f"dense top-{DENSE_K} + partial sort (the retrieve.py change); warm/growth headline = as shipped",
        ],
    }
    chroma_url = Settings.from_env().chroma_url
    with tempfile.TemporaryDirectory(prefix="assistant-bench-") as tmp:
        tmpdir = Path(tmp)
        index: Path | None = Path(args.index) if getattr(args, "index", None) else None  # (tests pass --index)
        if "build" not in skip and not chroma_url:
            print("bench: building the corpus index in a temporary directory …", file=sys.stderr, flush=True)
            rep["build"], index = stage_build(tmpdir)
        if "warm" not in skip:
            print(f"bench: warm ask × {len(questions)} …", file=sys.stderr, flush=True)
            rep["warm"] = stage_warm(index, questions, passes=1 if args.quick else 2)
        if "cold" not in skip:
            print(f"bench: cold ask × {cold_runs} …", file=sys.stderr, flush=True)
            rep["cold"] = stage_cold(index, cold_runs)
        if "hostile" not in skip:
            print("bench: hostile files (assistant add) …", file=sys.stderr, flush=True)
            rep["hostile"] = stage_hostile(tmpdir)
        if "growth" not in skip:
            source = index or Settings.from_env().index_dir
            rep["growth"] = []
            for size in sizes:
                for mode in modes:
                    print(f"bench: growth {size} clauses, {mode} …", file=sys.stderr, flush=True)
                    cur_q = len(growth_q) if size <= 10000 else min(10, len(growth_q))
                    rep["growth"].append(stage_growth(size, mode, Path(source), growth_q, tmpdir, cur_q,
                                                      args.case_timeout))
    rep["machine"]["loadavg_end"] = loadavg()
    json_path, png_path = out_dir / "bench.json", out_dir / "bench.png"
    json_path.write_text(json.dumps(rep, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if rep.get("growth") or rep.get("warm"):
        plot(rep, png_path)
    print_report(rep)
    print(f"report: {json_path}" + (f", {png_path}" if png_path.exists() else ""))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks/bench.py", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
