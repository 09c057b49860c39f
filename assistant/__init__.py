"""Guideline assistant: answers questions about Chinese organisation-building guidelines and
cites the exact clause that says so.

Layers, imports one way: text → settings → corpus → index → retrieval → answering → quiz →
evaluation → services → apps (checked by import-linter, see pyproject.toml).

Public surface::

    from assistant import Settings, load_assistant
    a = load_assistant(Settings.from_env())
    answer = a.ask("鄉鎮紀委書記任滿幾年必須交流?")   # an Answer with Citations
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Answer", "Assistant", "Citation", "Settings", "load_assistant"]

# Nothing may reach a model hub or a telemetry endpoint at run time. Set before any of
# huggingface_hub, sentence_transformers, chromadb or gradio can be imported: every module of the
# package is imported after this one.
for _key, _value in {
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
}.items():
    os.environ.setdefault(_key, _value)

_HOMES = {
    "Answer": "assistant.answering.records",
    "Citation": "assistant.answering.records",
    "Assistant": "assistant.answering.extractive",
    "Settings": "assistant.settings",
    "load_assistant": "assistant.services",
}

if TYPE_CHECKING:
    from assistant.answering.extractive import Assistant
    from assistant.answering.records import Answer, Citation
    from assistant.services import load_assistant
    from assistant.settings import Settings


def __getattr__(name: str) -> Any:
    # Lazy: `import assistant.text` must not pull in chromadb and the embedding stack.
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'assistant' has no attribute {name!r}")
