"""Issue 16's goals, each as a ratio measured side by side in one run (paired, repeated):

    python benchmarks/speed.py                       # all four (≈ 15–25 min on 2 shared cores)
    python benchmarks/speed.py --skip growth --repeats 3 --out /tmp/speed.json

Absolute times on a shared 2-core box swing with its load, so every goal is a ratio of two
things timed back to back under the same load, repeated ``--repeats`` times; the median ratio
is the figure, every run's ratio is printed beside it.

* **build** — each repeat builds the seed index (93 clauses + their sentences, embedded) into a
  fresh temporary directory with ``index.store.rebuild`` and, right before, each peer of
  ``benchmarks/peers.py`` (chunk + embed with sentence-transformers on torch + BM25). Models are
  loaded before the clock starts for everyone. Goal: ours ≤ 1.5 × the slowest peer's.
* **cold** — on the index as ``assistant index`` leaves it (store + saved lexicon and jieba
  dictionary), each repeat runs, as new processes, ``python -c "import <heavy libraries>"`` and then
  ``assistant --index TMP ask --json Q`` (peak RSS from the child's own ``getrusage``). Goal:
  ask ≤ 1.8 × the import time, peak ≤ 700 MiB. The heavy libraries are the issue's five
  (numpy, onnxruntime, chromadb, opencc, bm25s); the ratio against all seven a cold ask imports
  (+ tokenizers, jieba) is printed too.
* **warm** — ours (``Assistant.ask``, query-embedding cache cleared before each question) and every
  peer answer the dev questions, each on its default threads (ours: one thread or every core,
  chosen per question by measured latency; the peers: torch's, every core; ``--threads N`` pins
  both), in blocks of ``--block`` questions (12), each pipeline in turn, the order rotating per
  block. Question by question (``--block 1``), the thread pool of the pipeline that just ran
  was still spin-waiting on the cores while the next one encoded. Goal: ours' p50 ≤ 0.5 × the
  fastest peer's p50.
* **growth** — ``benchmarks/bench.py``'s synthetic 100k-clause corpus (perturbed real clauses,
  synthetic vectors), written by one process; then a second process does what a web worker
  does — opens the store read-only, assembles the searcher over the 100k clauses, answers dev
  questions (query cache cleared): p50 ask ≤ 50 ms and that worker's peak RSS ≤ 1.5 GB. The
  builder saves the BM25 index and word statistics beside the store (as ``assistant index``
  does); the worker loads them, and a paired worker that builds them in memory (as before) runs
  right before it: ``saved_vs_built`` holds the ratios.

Writes ``--out`` (default ``evals/reports/speed.json``) and prints a table.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run as a script from a checkout

from benchmarks import bench, peers

QUESTION = "鄉鎮紀委書記任滿幾年必須交流?"
ISSUE_LIBS = ("numpy", "onnxruntime", "chromadb", "opencc", "bm25s")
ALL_LIBS = (*ISSUE_LIBS, "tokenizers", "jieba")
GOALS = {"build_ratio": 1.5, "cold_ratio": 1.8, "cold_peak_mib": 700, "warm_ratio": 0.5,
         "growth_p50_ms": 50, "growth_peak_gb": 1.5}
STAGES = ("build", "cold", "warm", "growth")
# VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over fork + exec, so a child of a big
# process (this benchmark holds torch and the peers) would report its parent's peak.
_PEAK = ("import sys; from assistant.apps.cli import main; rc = main(sys.argv[1:]); "
         "hwm = [ln for ln in open('/proc/self/status') if ln.startswith('VmHWM')][0].split()[1]; "
         "print('PEAK_RSS_MIB', round(int(hwm) / 1024, 1), file=sys.stderr); sys.exit(rc)")


def _median(xs: list[float]) -> float:
    return round(statistics.median(xs), 3) if xs else float("nan")


def _env() -> dict[str, str]:
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_HUB_DISABLE_TELEMETRY="1", GRADIO_ANALYTICS_ENABLED="False")
    env.pop("ASSISTANT_CHROMA_URL", None)
    return env


# ----------------------------------------------------------------------------- build
def _save_lexicon(index: Path, corpus: Any) -> None:
    """What `assistant index` saves after building: the BM25 index, word statistics and the answer
    step's jieba dictionary beside the store (the cold and warm stages then start as a user's)."""
    from assistant.index.store import index_lock
    from assistant.retrieval.hybrid import save_lexicon

    with index_lock(index):
        save_lexicon(index, corpus.passages, corpus.documents)


def stage_build(workdir: Path, repeats: int, encoder: Any) -> tuple[dict[str, Any], Path]:
    from assistant.corpus.store import load_corpus
    from assistant.index.embed import get_embedder
    from assistant.index.store import rebuild

    corpus = load_corpus()
    embedder = get_embedder()
    embedder.encode_passages(["預熱"])  # the all-core passage session, as the peers' model is loaded
    docs = peers.load_documents()
    runs: list[dict[str, Any]] = []
    index = workdir / "index"
    for r in range(repeats):
        run: dict[str, Any] = {"load": bench.loadavg()}
        for name in peers.PEERS:
            t = time.perf_counter()
            peer = peers.build_peer(name, docs, encoder)
            run[name] = round(time.perf_counter() - t, 2)
            run[f"{name}_chunks"] = len(peer.chunks)
        target = workdir / f"build-{r}"
        t = time.perf_counter()
        report = rebuild(target, corpus.passages, embedder, corpus.documents, progress=False)
        run["ours"] = round(time.perf_counter() - t, 2)
        run["ours_embedded"] = report.embedded + report.sentences
        slowest = max(run[name] for name in peers.PEERS)
        run["ratio"] = round(run["ours"] / slowest, 3)
        runs.append(run)
        print(f"  build {r + 1}/{repeats}: ours {run['ours']} s, slowest peer {slowest} s, "
              f"ratio {run['ratio']}", file=sys.stderr, flush=True)
        if index.exists():
            import shutil

            shutil.rmtree(target, ignore_errors=True)
        else:
            target.rename(index)
            _save_lexicon(index, corpus)
    t = time.perf_counter()  # as a user runs it: a new process, imports and model load included
    proc = subprocess.run([*bench._cli(), "--index", str(workdir / "cli-index"), "index"],
                          capture_output=True, env=_env(), timeout=1800, check=False)
    out = {"runs": runs, "ratio_median": _median([r["ratio"] for r in runs]),
           "ours_median_s": _median([r["ours"] for r in runs]),
           "slowest_peer_median_s": _median([max(r[n] for n in peers.PEERS) for r in runs]),
           "cli_index_new_process_s": round(time.perf_counter() - t, 2), "cli_exit": proc.returncode,
           "passages": runs[-1]["ours_embedded"] if runs else None}
    return out, index


# ----------------------------------------------------------------------------- cold
def stage_cold(index: Path, repeats: int) -> dict[str, Any]:
    env = _env()
    py = sys.executable
    runs = []
    for r in range(repeats):
        run: dict[str, Any] = {"load": bench.loadavg()}
        for key, libs in (("import_issue_s", ISSUE_LIBS), ("import_all_s", ALL_LIBS)):
            t = time.perf_counter()
            subprocess.run([py, "-c", "import " + ", ".join(libs)], env=env, check=True, timeout=600)
            run[key] = round(time.perf_counter() - t, 3)
        t = time.perf_counter()
        proc = subprocess.run([py, "-c", _PEAK, "--index", str(index), "ask", "--json", QUESTION],
                              env=env, capture_output=True, text=True, timeout=600, check=False)
        run["ask_s"] = round(time.perf_counter() - t, 3)
        peak = [ln.split()[-1] for ln in proc.stderr.splitlines() if ln.startswith("PEAK_RSS_MIB")]
        run["peak_mib"] = float(peak[0]) if peak else None
        run["answer"] = json.loads(proc.stdout.splitlines()[-1])["answer"] if proc.returncode == 0 else proc.stderr[-300:]
        run["ratio_issue"] = round(run["ask_s"] / run["import_issue_s"], 3)
        run["ratio_all"] = round(run["ask_s"] / run["import_all_s"], 3)
        runs.append(run)
        print(f"  cold {r + 1}/{repeats}: ask {run['ask_s']} s / imports {run['import_issue_s']} s "
              f"= {run['ratio_issue']}, peak {run['peak_mib']} MiB", file=sys.stderr, flush=True)
    return {"question": QUESTION, "runs": runs, "libraries": list(ISSUE_LIBS), "all_libraries": list(ALL_LIBS),
            "ratio_median": _median([r["ratio_issue"] for r in runs]),
            "ratio_all_median": _median([r["ratio_all"] for r in runs]),
            "ask_median_s": _median([r["ask_s"] for r in runs]),
            "import_median_s": _median([r["import_issue_s"] for r in runs]),
            "peak_max_mib": max((r["peak_mib"] or 0) for r in runs) if runs else None}


# ----------------------------------------------------------------------------- warm
def stage_warm(index: Path, encoder: Any, passes: int, limit: int, threads: int = 0,
               block: int = 12) -> dict[str, Any]:
    """*threads*: 0 (default) runs both pipelines as installed — ours choosing per question
    between one thread and every core by measured latency, the peers on torch's default (every
    core); N pins both to N threads (ours: ``ASSISTANT_EMBED_THREADS``; the peers: torch's), so
    the pair stays fair either way."""
    import torch

    from assistant.services import load_assistant

    items = peers.load_items(REPO / "evals" / "dev.jsonl")
    questions = [it["question"] for it in items][: limit or None]
    saved_env = os.environ.get("ASSISTANT_EMBED_THREADS")
    if threads:
        os.environ["ASSISTANT_EMBED_THREADS"] = str(threads)
    else:  # our default, whatever the shell says (the peers get theirs)
        os.environ.pop("ASSISTANT_EMBED_THREADS", None)
    try:
        assistant = load_assistant(str(index), progress=False)
    finally:  # read at load; later stages' processes inherit the caller's setting
        if saved_env is None:
            os.environ.pop("ASSISTANT_EMBED_THREADS", None)
        else:
            os.environ["ASSISTANT_EMBED_THREADS"] = saved_env
    embedder = assistant.searcher.embedder
    pipes = {name: peers.build_peer(name, peers.load_documents(), encoder) for name in peers.PEERS}
    saved_threads = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)  # peers embed questions on as many threads as our ONNX query session
    lat: dict[str, list[float]] = {"ours": [], "ours_embed": [], **{n: [] for n in pipes}}
    try:
        for q in questions[:3]:  # warm-up
            assistant.ask(q)
            for p in pipes.values():
                p.query(q)
        def ours(q: str) -> None:
            embedder._cache.clear()  # every question pays its embedding, as the peers' do
            with bench._Timed(embedder, "encode_queries") as emb:
                t = time.perf_counter()
                assistant.ask(q)
                lat["ours"].append((time.perf_counter() - t) * 1000)
            lat["ours_embed"].append(emb.ms)  # of which: encoding the question

        def peer(name: str, q: str) -> None:
            t = time.perf_counter()
            pipes[name].query(q)
            lat[name].append((time.perf_counter() - t) * 1000)

        runners = [ours, *(functools.partial(peer, n) for n in pipes)]
        for _ in range(passes):
            # Block by block, each pipeline in turn, the order rotating: the pairs share the
            # machine's load within seconds, and a pipeline's question does not run while the
            # previous pipeline's thread pool is still spin-waiting on the cores (torch's OpenMP
            # threads and ONNX Runtime's both spin after a run; question by question, each one's
            # spinning slowed the other's multi-threaded encoding).
            for b, start in enumerate(range(0, len(questions), block)):
                part = questions[start : start + block]
                for run in runners[b % len(runners):] + runners[: b % len(runners)]:
                    for q in part:
                        run(q)
    finally:
        torch.set_num_threads(saved_threads)
    p50 = {k: round(statistics.median(v), 2) for k, v in lat.items()}
    fastest = min(p50[n] for n in pipes)
    return {"questions": len(questions), "passes": passes, "block": block, "threads": threads or "default",
            "peer_threads": threads or saved_threads, "p50_ms": p50,
            "p95_ms": {k: bench.pct(v, 95) for k, v in lat.items()},
            "fastest_peer_p50_ms": fastest, "ratio": round(p50["ours"] / fastest, 3), "load": bench.loadavg()}


# ----------------------------------------------------------------------------- growth
def _synthetic(source_index: Path, size: int) -> tuple[Any, list[Any], Any]:
    """bench.py's synthetic corpus of *size* clauses (the same texts for the same size)."""
    import numpy as np

    from assistant.corpus.store import load_corpus

    corpus = load_corpus()
    vectors = bench.real_vectors(source_index, None, corpus)
    docs, clauses, vecs = bench.synthetic_corpus(corpus.documents, corpus.clauses, vectors, size, seed=size)
    return docs, clauses, np.asarray(vecs, dtype=np.float32)


def growth_build(spec: dict[str, Any]) -> dict[str, Any]:
    """Write the synthetic store (clause vectors only, as bench.py's growth) into spec["index"]."""
    from assistant.index.embed import get_embedder
    from assistant.index.store import ClauseStore, open_client, passage

    docs, clauses, vecs = _synthetic(Path(spec["source_index"]), spec["size"])
    by_doc = {d.id: d for d in docs}
    table = {passage(c, by_doc.get(c.doc_id)): v for c, v in zip(clauses, vecs)}
    encoder = bench._TableEncoder(get_embedder().name, table)
    t = time.perf_counter()
    store = ClauseStore(open_client(Path(spec["index"])), encoder.name)
    store.sync(clauses, encoder, docs, batch=2000, progress=False, sentences=False)
    build_s = time.perf_counter() - t
    # What `assistant index` does after a sync: the BM25 index + word statistics saved beside it.
    from assistant.index.store import index_lock
    from assistant.retrieval.hybrid import save_lexicon

    t = time.perf_counter()
    with index_lock(Path(spec["index"])):
        save_lexicon(Path(spec["index"]), clauses, docs)
    return {"build_s": round(build_s, 1), "lexicon_save_s": round(time.perf_counter() - t, 1),
            "stored": store.count(), "builder_peak_gb": round(bench.proc_status().get("VmHWM", 0) / 1024, 2)}


def growth_serve(spec: dict[str, Any]) -> dict[str, Any]:
    """A worker as a web server runs one: open the built store read-only, assemble the searcher
    (BM25 over the 100k clauses) and answer the questions; its own peak RSS."""
    from assistant.answering.extractive import Assistant
    from assistant.index.embed import get_embedder
    from assistant.index.store import ClauseStore, open_client
    from assistant.retrieval.hybrid import HybridSearcher

    docs, clauses, vecs = _synthetic(Path(spec["source_index"]), spec["size"])
    del vecs  # a worker holds no vectors of its own: they live in the store
    embedder = get_embedder()
    store = ClauseStore(open_client(Path(spec["index"])), embedder.name, create=False)
    t = time.perf_counter()
    saved = Path(spec["index"]) if spec.get("saved_lexicon", True) else None  # None: built in memory
    assistant = Assistant(HybridSearcher(clauses, store, embedder, docs, lexicon_dir=saved))
    assemble_s = time.perf_counter() - t
    timed = bench.time_asks(assistant, spec["questions"])
    return {"assemble_s": round(assemble_s, 2), "p50_ms": timed["total_p50_ms"], "p95_ms": timed["total_p95_ms"],
            "n": timed["n"], "peak_rss_gb": round(bench.proc_status().get("VmHWM", 0) / 1024, 2)}


def _worker(kind: str, spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--growth-worker", kind,
                           json.dumps(spec, ensure_ascii=False)], capture_output=True, env=_env(),
                          timeout=timeout, check=False)
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        if line.startswith(bench.RESULT_TAG):
            return json.loads(line[len(bench.RESULT_TAG):])
    return {"error": proc.stderr.decode("utf-8", "replace").strip()[-400:]}


def stage_growth(index: Path, size: int, workdir: Path, questions: int) -> dict[str, Any]:
    spec = {"size": size, "source_index": str(index), "index": str(workdir / f"growth-{size}"),
            "questions": bench.dev_questions(questions)}
    built = _worker("build", spec, 7200)
    if "error" in built:
        return built
    # Paired: a worker that builds BM25 + word statistics at start (as before issue 16's saved
    # lexicon) and one that loads them from beside the store, back to back under the same load.
    memory = _worker("serve", {**spec, "saved_lexicon": False}, 3600)
    if "error" in memory:
        return memory
    served = _worker("serve", spec, 3600)
    if "error" in served:
        return served
    paired = {f"built_in_memory_{k}": v for k, v in memory.items() if k != "n"}
    ratios = {f"{k}_ratio": round(served[k] / memory[k], 3) for k in ("assemble_s", "p50_ms", "peak_rss_gb")
              if memory.get(k)}
    return {"size": size, "synthetic": True, **built, **served, **paired, "saved_vs_built": ratios}


# ----------------------------------------------------------------------------- report
def _guarded(stage: Any) -> dict[str, Any]:
    """A stage's result, or its error (the other stages' figures are still reported)."""
    try:
        return stage()
    except Exception as exc:  # noqa: BLE001 - a benchmark reports what broke and goes on
        return {"error": f"{type(exc).__name__}: {exc}"}


def verdicts(rep: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    rows = []
    if b := rep.get("build"):
        rows.append(("index build / slowest peer", (f"{b['ratio_median']} (runs {[r['ratio'] for r in b['runs']]}; "
                     f"ours {b['ours_median_s']} s, slowest peer {b['slowest_peer_median_s']} s)"),
                     f"≤ {GOALS['build_ratio']}", "met" if b["ratio_median"] <= GOALS["build_ratio"] else "NOT met"))
    rep = {k: v for k, v in rep.items() if not (isinstance(v, dict) and "error" in v and k != "growth")}
    if c := rep.get("cold"):
        rows.append(("cold ask / import of its heavy libraries", (f"{c['ratio_median']} (runs "
                     f"{[r['ratio_issue'] for r in c['runs']]}; ask {c['ask_median_s']} s, imports "
                     f"{c['import_median_s']} s; vs all seven libraries {c['ratio_all_median']})"),
                     f"≤ {GOALS['cold_ratio']}", "met" if c["ratio_median"] <= GOALS["cold_ratio"] else "NOT met"))
        rows.append(("cold ask peak RSS", f"{c['peak_max_mib']} MiB (max of {len(c['runs'])})",
                     f"≤ {GOALS['cold_peak_mib']} MiB", "met" if c["peak_max_mib"] <= GOALS["cold_peak_mib"] else "NOT met"))
    if w := rep.get("warm"):
        rows.append(("warm ask p50 / fastest peer's p50", (f"{w['ratio']} (ours {w['p50_ms']['ours']} ms, fastest "
                     f"peer {w['fastest_peer_p50_ms']} ms; {w['questions']} questions × {w['passes']})"),
                     f"≤ {GOALS['warm_ratio']}", "met" if w["ratio"] <= GOALS["warm_ratio"] else "NOT met"))
    if g := rep.get("growth"):
        if "error" in g:
            rows.append(("growth", g["error"][:80], "", "error"))
        else:
            rows.append((f"{g['size']:,} synthetic clauses: ask p50", f"{g['p50_ms']} ms", f"≤ {GOALS['growth_p50_ms']} ms",
                         "met" if g["p50_ms"] <= GOALS["growth_p50_ms"] else "NOT met"))
            rows.append((f"{g['size']:,} synthetic clauses: worker peak RSS", f"{g['peak_rss_gb']} GB",
                         f"≤ {GOALS['growth_peak_gb']} GB", "met" if g["peak_rss_gb"] <= GOALS["growth_peak_gb"] else "NOT met"))
            if r := g.get("saved_vs_built"):
                rows.append(("growth: saved lexicon / built at start", (
                    f"assemble {r.get('assemble_s_ratio')} ({g['assemble_s']} s vs {g['built_in_memory_assemble_s']} s), "
                    f"p50 {r.get('p50_ms_ratio')}, peak {r.get('peak_rss_gb_ratio')} "
                    f"({g['peak_rss_gb']} vs {g['built_in_memory_peak_rss_gb']} GB)"), "", "info"))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3, help="paired repeats of build and cold (default 3)")
    ap.add_argument("--passes", type=int, default=1, help="passes over the dev questions for warm")
    ap.add_argument("--questions", type=int, default=0, help="first N dev questions for warm (0 = all)")
    ap.add_argument("--threads", type=int, default=0,
                    help="threads both pipelines embed questions on in warm (default 0: each "
                         "pipeline's own default; N pins both to N)")
    ap.add_argument("--block", type=int, default=12,
                    help="warm: questions each pipeline answers in turn (1: question by question)")
    ap.add_argument("--size", type=int, default=100_000, help="synthetic clauses for growth")
    ap.add_argument("--growth-questions", type=int, default=40)
    ap.add_argument("--skip", default="", help="comma list of stages to skip: " + ",".join(STAGES))
    ap.add_argument("--out", type=Path, default=REPO / "evals" / "reports" / "speed.json")
    ap.add_argument("--index", type=Path, help="with --skip build: an index already built from this corpus")
    ap.add_argument("--growth-worker", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.block < 1:
        ap.error("--block must be at least 1")
    if args.growth_worker:
        kind, spec = args.growth_worker
        res = (growth_build if kind == "build" else growth_serve)(json.loads(spec))
        print(bench.RESULT_TAG + json.dumps(res, ensure_ascii=False), flush=True)
        return 0
    skip = {s for s in args.skip.split(",") if s}
    if skip - set(STAGES):
        ap.error(f"unknown stage(s): {', '.join(sorted(skip - set(STAGES)))}")

    from sentence_transformers import SentenceTransformer

    from assistant.index import e5model

    encoder = SentenceTransformer(str(e5model.materialise()), device="cpu")  # the peers' model
    rep: dict[str, Any] = {"created": time.strftime("%Y-%m-%dT%H:%M:%S"), "goals": GOALS,
                           "machine": {"cpus": os.cpu_count(), "load_start": bench.loadavg()},
                           "command": "python benchmarks/speed.py " + " ".join(argv if argv is not None else sys.argv[1:])}
    with tempfile.TemporaryDirectory(prefix="assistant-speed-") as tmp:
        work = Path(tmp)
        index = args.index if "build" in skip else None
        if "build" not in skip:
            print("speed: index build, ours and the peers …", file=sys.stderr, flush=True)
            rep["build"], index = stage_build(work, args.repeats, encoder)
        if index is None:  # build skipped: a fresh index all the same
            from assistant.corpus.store import load_corpus
            from assistant.index.embed import get_embedder
            from assistant.index.store import rebuild

            corpus = load_corpus()
            index = work / "index"
            rebuild(index, corpus.passages, get_embedder(), corpus.documents, progress=False)
            _save_lexicon(index, corpus)
        if "cold" not in skip:
            print("speed: cold ask against imports …", file=sys.stderr, flush=True)
            rep["cold"] = _guarded(lambda: stage_cold(index, args.repeats))
        if "warm" not in skip:
            print("speed: warm ask, ours and the peers in turn, block by block …", file=sys.stderr, flush=True)
            rep["warm"] = _guarded(lambda: stage_warm(index, encoder, args.passes, args.questions, args.threads,
                                                      args.block))
        if "growth" not in skip:
            print(f"speed: growth to {args.size:,} synthetic clauses …", file=sys.stderr, flush=True)
            rep["growth"] = _guarded(lambda: stage_growth(index, args.size, work, args.growth_questions))
    rep["machine"]["load_end"] = bench.loadavg()
    rep["verdicts"] = [dict(zip(("goal", "measured", "target", "verdict"), row)) for row in verdicts(rep)]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rep, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    width = max((len(r[0]) for r in verdicts(rep)), default=10)
    print(f"issue 16 goals — paired ratios, median of the runs (load {rep['machine']['load_start']} → "
          f"{rep['machine']['load_end']})")
    for goal, measured, target, verdict in verdicts(rep):
        print(f"  {goal:<{width}}  {measured}  target {target}: {verdict}")
    print(f"report: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
