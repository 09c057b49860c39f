"""One settings root: every ``ASSISTANT_*`` variable, read once, into a frozen :class:`Settings`.

Only the entry points (``services``, ``apps``) call :meth:`Settings.from_env`; everything below
takes the values it needs as arguments, so tests and embedding programs configure the assistant
by passing a ``Settings`` (``dataclasses.replace`` for one field) instead of patching the
environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["REPO", "COLLECTION", "DEFAULT_LLM_TIMEOUT", "DEFAULT_QUERY_BACKEND", "QUERY_BACKENDS",
           "DEFAULT_PASSAGE_BACKEND", "PASSAGE_BACKENDS", "Settings"]

REPO = Path(__file__).resolve().parent.parent
COLLECTION = "clauses"
DEFAULT_LLM_TIMEOUT = 20.0
# Questions run the fp32 graph. The int8 one (ASSISTANT_EMBED_QUERY_BACKEND=onnx-int8) answers
# faster (warm p50 0.42x the fastest peer's, not 0.59x) and the 660 development questions alike
# but one, but it moves question cosines by up to ~0.007, near the off-topic floor: adding the three
# laws then flips more seed answers (5 instead of 3 over six development sets; evals/README.md,
# "int8 questions"). Passages are always embedded in fp32.
DEFAULT_QUERY_BACKEND = "onnx"
QUERY_BACKENDS = ("onnx", "onnx-int8", "torch")
DEFAULT_PASSAGE_BACKEND = "onnx"
PASSAGE_BACKENDS = ("onnx", "torch")


def _number(env: Mapping[str, str], key: str, default: float, *, positive: bool = True) -> float:
    raw = (env.get(key) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{key} must be a number, not {raw!r}") from None
    if positive and value <= 0:
        raise ValueError(f"{key} must be positive, not {raw!r}")
    return value


def _path(env: Mapping[str, str], key: str, default: Path) -> Path:
    raw = (env.get(key) or "").strip()
    return Path(raw).expanduser() if raw else default


@dataclass(frozen=True)
class Settings:
    """Where things live and how the assistant runs. Defaults are the offline, repo-local ones."""

    corpus_dir: Path = REPO / "corpus"  # ASSISTANT_CORPUS
    index_dir: Path = REPO / "index"  # ASSISTANT_INDEX (or --index)
    chroma_url: str | None = None  # ASSISTANT_CHROMA_URL (or --chroma-url): a Chroma server
    reports_dir: Path = REPO / "evals" / "reports"  # ASSISTANT_REPORTS
    embed_model: str | None = None  # ASSISTANT_EMBED_MODEL: any sentence-transformers model
    model_cache: Path | None = None  # ASSISTANT_MODEL_CACHE: the materialised e5 folder
    query_backend: str = DEFAULT_QUERY_BACKEND  # ASSISTANT_EMBED_QUERY_BACKEND
    embed_threads: int = 0  # ASSISTANT_EMBED_THREADS (0: one thread or every core, by measured latency)
    passage_backend: str = DEFAULT_PASSAGE_BACKEND  # ASSISTANT_EMBED_PASSAGE_BACKEND: onnx (all cores) | torch
    index_lock_timeout: float = 3600.0  # ASSISTANT_INDEX_LOCK_TIMEOUT, seconds
    feedback_db: Path = REPO / "data" / "feedback.sqlite"  # ASSISTANT_FEEDBACK_DB
    auth: str | None = None  # ASSISTANT_AUTH, 「帳號:密碼」
    api_key: str | None = None  # ASSISTANT_API_KEY: bearer key of the HTTP API of `assistant chat`
    llm_url: str | None = None  # ASSISTANT_LLM_URL: LLM phrasing on when set
    llm_model: str = ""  # ASSISTANT_LLM_MODEL
    llm_api_key: str = ""  # ASSISTANT_LLM_API_KEY
    llm_timeout: float = DEFAULT_LLM_TIMEOUT  # ASSISTANT_LLM_TIMEOUT, seconds
    llm_prompts: str = "v1"  # ASSISTANT_LLM_PROMPTS: prompt file version
    collection: str = COLLECTION

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read every ``ASSISTANT_*`` variable of *env* (default ``os.environ``); keyword
        arguments that are not None win (command-line flags)."""
        env = os.environ if env is None else env
        backend = (env.get("ASSISTANT_EMBED_QUERY_BACKEND") or DEFAULT_QUERY_BACKEND).strip()
        if backend not in QUERY_BACKENDS:
            raise ValueError(f"ASSISTANT_EMBED_QUERY_BACKEND must be one of {', '.join(QUERY_BACKENDS)}, not {backend!r}")
        passages = (env.get("ASSISTANT_EMBED_PASSAGE_BACKEND") or DEFAULT_PASSAGE_BACKEND).strip()
        if passages not in PASSAGE_BACKENDS:
            raise ValueError(f"ASSISTANT_EMBED_PASSAGE_BACKEND must be one of {', '.join(PASSAGE_BACKENDS)}, not {passages!r}")
        cache = (env.get("ASSISTANT_MODEL_CACHE") or "").strip()
        values = dict(
            corpus_dir=_path(env, "ASSISTANT_CORPUS", cls.corpus_dir),
            index_dir=_path(env, "ASSISTANT_INDEX", cls.index_dir),
            chroma_url=(env.get("ASSISTANT_CHROMA_URL") or "").strip() or None,
            reports_dir=_path(env, "ASSISTANT_REPORTS", cls.reports_dir),
            embed_model=(env.get("ASSISTANT_EMBED_MODEL") or "").strip() or None,
            model_cache=Path(cache).expanduser() if cache else None,
            query_backend=backend,
            embed_threads=int(_number(env, "ASSISTANT_EMBED_THREADS", 0, positive=False)),
            passage_backend=passages,
            index_lock_timeout=_number(env, "ASSISTANT_INDEX_LOCK_TIMEOUT", cls.index_lock_timeout),
            feedback_db=_path(env, "ASSISTANT_FEEDBACK_DB", cls.feedback_db),
            auth=env.get("ASSISTANT_AUTH") or None,
            api_key=env.get("ASSISTANT_API_KEY") or None,
            llm_url=(env.get("ASSISTANT_LLM_URL") or "").strip().rstrip("/") or None,
            llm_model=(env.get("ASSISTANT_LLM_MODEL") or "").strip(),
            llm_api_key=env.get("ASSISTANT_LLM_API_KEY") or "",
            llm_timeout=_number(env, "ASSISTANT_LLM_TIMEOUT", DEFAULT_LLM_TIMEOUT),
            llm_prompts=(env.get("ASSISTANT_LLM_PROMPTS") or "v1").strip(),
        )
        values.update({k: v for k, v in overrides.items() if v is not None})
        for key in ("corpus_dir", "index_dir", "reports_dir", "feedback_db"):
            values[key] = Path(values[key])  # type: ignore[arg-type]
        return cls(**values)  # type: ignore[arg-type]
