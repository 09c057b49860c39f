"""benchmarks/peers.py on tiny inputs with a fake encoder: no model, no index, a few seconds."""

from __future__ import annotations

import itertools
import zlib
from typing import Any

import numpy as np
import pytest

from benchmarks import peers as P

DOC = (
    "第一篇:鄉鎮紀檢組織建設\n"
    "一、總體要求\n"
    "鄉鎮紀委書記任滿10年的必須交流,一般不在同一鄉鎮連續任職。\n"
    "要長期加強黨的自身建 1 設,增強黨的階級基礎,擴大黨的群眾基礎。\n"
    "第二篇:關于進一步加強市、縣級 紅十字會組織建設\n"
    "縣級以上按行政區域建立地方各級紅十字會,根據實際工作需要配備專職工作人員。\n"
    "短行\n"
    "另一短行\n"
    "紅十字會應當定期召開理事會議,審議年度工作報告。\n"
)


class FakeEncoder:
    """Hashed character-bigram counts, L2-normalised: deterministic and lexical."""

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.calls: list[dict[str, Any]] = []

    def encode(self, sentences: list[str], **kwargs: Any) -> np.ndarray:
        self.calls.append(kwargs)
        out = np.zeros((len(sentences), self.dim), dtype=np.float32)
        for i, text in enumerate(sentences):
            for a, b in itertools.pairwise(text):
                out[i, zlib.crc32((a + b).encode()) % self.dim] += 1
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


@pytest.fixture()
def docs(tmp_path: Any) -> list[str]:
    f = tmp_path / "g.txt"
    f.write_text(DOC, encoding="utf-8")
    return P.load_documents(f)


def test_documents_split_at_pian_lines(docs: list[str]) -> None:
    assert len(docs) == 2
    assert docs[0].startswith("第一篇:") and docs[1].startswith("第二篇:")


def test_recursive_splits_respect_size_and_chatchat_separators() -> None:
    pytest.importorskip("langchain_text_splitters")
    text = "".join(f"第{i}句話講的是組織建設的內容。" for i in range(60))  # no line breaks
    chunks = P.split_recursive([text], 100, 20, P.CHATCHAT_SEPARATORS, regex=True)
    assert len(chunks) > 5 and all(len(c) <= 100 for c in chunks)
    assert all(c.rstrip().endswith("。") or c.startswith("。") or "。" in c for c in chunks)
    assert all(len(c) <= 500 for c in P.split_recursive([text * 5], 500, 50))


def test_paragraphs_merge_short_lines(docs: list[str]) -> None:
    chunks = P.split_paragraphs(docs, min_chars=30)
    merged = [c for c in chunks if "短行" in c]
    assert len(merged) == 1 and merged[0].startswith("短行\n另一短行\n紅十字會應當")
    assert all(len(c) >= 30 for c in chunks[:-1])


def test_gold_hits_through_page_artefact_space_and_script() -> None:
    raw = "要長期加強黨的自身建 1 設,增強黨的階級基礎"
    assert P.hits(raw, ["加強黨的自身建設"])
    assert P.hits("加強市、縣級 紅十字會組織建設", ["市、縣級紅十字會組織"])
    assert P.hits("機關、社區、村、11 企業等基層", ["村、企業等基層"])
    assert P.hits(raw, ["加强党的自身建设"])  # Simplified gold, Traditional passage
    assert P.hits("力度,?,即:外出", ["力度,即:外出"])
    assert P.hits("2010年 9 月", ["2010年9月"])  # a real number next to a space still matches plainly
    assert not P.hits(raw, ["加強黨的建設"]) and not P.hits(raw, [""])


def test_minmax_and_rrf_on_known_inputs() -> None:
    np.testing.assert_allclose(P.minmax(np.array([1.0, 2.0, 3.0])), [0.0, 0.5, 1.0])
    np.testing.assert_allclose(P.minmax(np.array([4.0, 4.0])), [0.0, 0.0])
    fused = P.rrf(np.array([3.0, 2.0, 1.0]), np.array([1.0, 2.0, 3.0]), k=60)
    np.testing.assert_allclose(fused, [1 / 61 + 1 / 63, 2 / 62, 1 / 63 + 1 / 61])
    np.testing.assert_allclose(P.rrf(np.array([0.1, 0.9])), [1 / 62, 1 / 61])
    np.testing.assert_allclose(P.max_scaled(np.array([0.0, 2.0, 4.0])), [0.0, 0.5, 1.0])


def test_refusal_tradeoff_sweep() -> None:
    answerable = [0.9, 0.8, 0.7, 0.6, 0.5] + [0.95] * 15  # 20 → one false refusal allowed (5 %)
    unanswerable = [0.2, 0.4, 0.55, 0.65]
    best = P.refusal_tradeoff(answerable, unanswerable)
    assert best == {"threshold": 0.55, "refusal_recall": 0.75, "false_refusals": 0.05}
    strict = P.refusal_tradeoff(answerable, unanswerable, max_false=0.0)
    assert strict["threshold"] == 0.4 and strict["refusal_recall"] == 0.5 and strict["false_refusals"] == 0.0
    assert P.refusal_tradeoff([0.1], [0.9])["refusal_recall"] == 0.0


@pytest.mark.parametrize("name", list(P.PEERS))
def test_peers_search_with_injected_encoder(name: str, docs: list[str]) -> None:
    if name != "ragflow-like":
        pytest.importorskip("langchain_text_splitters")
    enc = FakeEncoder()
    peer = P.build_peer(name, docs, enc)
    assert {c.get("prompt_name") for c in enc.calls} == {"passage"}
    hits = peer.search("鄉鎮紀委書記任滿多少年必須交流?")
    assert 1 <= len(hits) <= peer.k
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    assert "任滿10年" in hits[0][0]
    assert enc.calls[-1].get("prompt_name") == "query"


def test_evaluate_counts_ranks_and_refusals() -> None:
    class Fixed:
        k = 2
        chunks: tuple[str, ...] = ("a", "b")

        def query(self, q: str) -> tuple[list[str], float, None]:
            table = {"q1": (["甲乙", "丙丁"], 0.9), "q2": (["丙丁", "甲乙"], 0.8), "q3": (["戊"], 0.7), "u": (["x"], 0.1)}
            ranked, conf = table[q]
            return ranked, conf, None

    items = [{"question": "q1", "answerable": True, "gold": ["甲乙"]},
             {"question": "q2", "answerable": True, "gold": ["甲乙"]},
             {"question": "q3", "answerable": True, "gold": ["甲乙"]},
             {"question": "u", "answerable": False, "gold": []}]
    m = P.evaluate(Fixed(), items)
    assert m["cite@1"] == pytest.approx(1 / 3) and m["hit@k"] == pytest.approx(2 / 3)
    assert m["mrr@10"] == pytest.approx((1 + 0.5) / 3)
    assert m["refusal_recall"] == 1.0 and m["false_refusals"] == 0.0
    assert "== t (3 answerable, 1 unanswerable)" in P.table("t", {"fixed": m})
