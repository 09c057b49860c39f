"""Where things live and how the stack is kept quiet and offline.

Every path can be overridden by an environment variable so tests, CI and a deployment can point
the same code at other stores without flags threading through every call.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Nothing may reach a model hub or a telemetry endpoint at run time; set these before any of
# huggingface_hub, sentence_transformers, chromadb or gradio is imported.
for _key, _value in {
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
}.items():
    os.environ.setdefault(_key, _value)


def corpus_dir() -> Path:
    """The guideline sources (``corpus/`` by default, ``ASSISTANT_CORPUS`` to override)."""
    return Path(os.environ.get("ASSISTANT_CORPUS", REPO / "corpus"))


def index_dir() -> Path:
    """The embedded Chroma store (``index/`` by default, ``ASSISTANT_INDEX`` to override)."""
    return Path(os.environ.get("ASSISTANT_INDEX", REPO / "index"))


def chroma_url() -> str | None:
    """A Chroma server to use instead of the embedded store (``ASSISTANT_CHROMA_URL``)."""
    return os.environ.get("ASSISTANT_CHROMA_URL") or None


def reports_dir() -> Path:
    return Path(os.environ.get("ASSISTANT_REPORTS", REPO / "evals" / "reports"))


COLLECTION = "clauses"
