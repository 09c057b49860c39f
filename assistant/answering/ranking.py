"""Which candidate clause answers: a learned linear ranker over per-question features.

Each candidate clause of a question is described by a few numbers that do not depend on how
many documents the corpus holds — lexical and dense scores *relative to the question's best
candidate*, the share of the question the clause covers, how well its best sentence matches —
and a logistic regression fitted on labelled questions (``evals/fit_ranker.py``, cross-validated
leaving one document out) weighs them. The weights ship as ``ranker.json`` beside this module,
written by that command only; its header names the sets, the command and the cross-validated
numbers. Nothing here is keyed to a question: the same weights rank every candidate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["FEATURES", "RANKER_FILE", "Ranker", "load_ranker"]

FEATURES: tuple[str, ...] = (
    "bm25",  # BM25 of the clause passage, over the question's best clause (0..1)
    "dense_gap",  # clause cosine minus the best candidate's (≤ 0)
    "sentence_gap",  # best-sentence cosine minus the best candidate's best sentence (≤ 0)
    "coverage",  # IDF-weighted share of the question's bigrams found in the clause passage
    "sentence",  # lexical score of the clause's best sentence (with the asked-value bonuses)
    "fused",  # the searcher's fused score (0..1)
    "record",  # 1 for a document's 「文件資訊」 record
    "named",  # share of the question's document-naming words that name this clause's document
)

RANKER_FILE = Path(__file__).with_name("ranker.json")


@dataclass(frozen=True)
class Ranker:
    """score = bias + Σ weight·feature (a logistic regression's decision function)."""

    weights: tuple[float, ...]
    bias: float = 0.0
    features: tuple[str, ...] = FEATURES

    def __post_init__(self) -> None:
        if self.features != FEATURES or len(self.weights) != len(FEATURES):
            raise ValueError(
                f"ranker features {list(self.features)} do not match this version's {list(FEATURES)}: "
                "refit with `python evals/fit_ranker.py`"
            )

    def score(self, features: np.ndarray) -> np.ndarray:
        """Scores of a (candidates × features) matrix, higher first."""
        return np.asarray(features, dtype=np.float64) @ np.asarray(self.weights) + self.bias

    def to_json(self) -> dict:
        return {"features": list(self.features), "weights": list(self.weights), "bias": self.bias}


def load_ranker(path: Path | str = RANKER_FILE) -> Ranker | None:
    """The fitted ranker in *path*, or None when there is none (the hand-set formula ranks)."""
    path = Path(path)
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return Ranker(tuple(float(w) for w in data["weights"]), float(data["bias"]), tuple(data["features"]))
