"""Smoke test of ``assistant bench`` (tiny sizes; the real run is a benchmark, not a test)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def test_top_k_equals_a_stable_full_sort() -> None:
    from assistant.retrieval.hybrid import top_k

    rng = np.random.default_rng(1)
    for n in (3, 93, 5000):
        s = rng.random(n).astype(np.float32)
        s[rng.integers(0, n, n // 2)] = 0  # many ties
        for k in (1, 5, 8, 50, n + 3):
            assert (top_k(s, k) == np.argsort(-s, kind="stable")[:k]).all()


def test_synthetic_corpus_is_marked_and_normalised(corpus) -> None:
    from benchmarks.bench import synthetic_corpus

    vecs = np.eye(len(corpus.clauses), 16, dtype=np.float32) + 0.1
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    docs, clauses, out = synthetic_corpus(corpus.documents, corpus.clauses, vecs, 250)
    assert len(clauses) == len(out) == 250 and len({c.id for c in clauses}) == 250
    synthetic = clauses[len(corpus.clauses):]
    assert all(c.id.startswith("syn") and c.label.startswith("〔合成〕") for c in synthetic)
    assert np.allclose(np.linalg.norm(out, axis=1), 1, atol=1e-5)
    assert any(d.title.startswith("〔合成 synthetic〕") for d in docs)


def test_bench_smoke_writes_json_and_png(assistant_instance, index_path: Path, tmp_path: Path) -> None:
    from benchmarks import bench

    parser = argparse.ArgumentParser()
    parser.add_argument("--index")
    bench.add_arguments(parser)
    args = parser.parse_args([
        "--index", str(index_path), "--sizes", "300", "--modes", "embedded", "--skip", "build,cold",
        "--questions", "5", "--growth-questions", "5", "--out", str(tmp_path),
    ])
    assert bench.run(args) == 0
    rep = json.loads((tmp_path / "bench.json").read_text("utf-8"))
    assert rep["warm"]["n"] == 10 and rep["warm"]["total_p50_ms"] > 0
    (g,) = rep["growth"]
    assert "error" not in g, g
    assert g["synthetic"] and g["size"] == g["stored"] == 300 and g["reindex_embedded"] == 0
    assert g["before"]["n"] == g["after"]["n"] == 5
    assert (tmp_path / "bench.png").stat().st_size > 10_000
    h = rep["hostile"]  # issue 14: `assistant add` refuses both files (times are the benchmark's)
    assert (h["docx_bomb"]["status"], h["docx_bomb"]["code"]) == ("failed", "docx_too_large")
    assert (h["flat_6mb_txt"]["status"], h["flat_6mb_txt"]["code"]) == ("failed", "too_much_text")
    assert h["corpus_unchanged"] and h["parse_structure_less"]["6MB"]["clauses"] > 40_000
