"""Shared fixtures: one real pipeline (corpus → clauses → Chroma index → retriever → answerer)
per test session, built into a temporary index so tests never touch the user's index/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def index_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("index")


@pytest.fixture(scope="session")
def assistant_instance(index_path: Path):
    """The real assistant over the real corpus, with its index built once per session."""
    from assistant.answer import load_assistant

    return load_assistant(str(index_path), progress=False)


@pytest.fixture(scope="session")
def corpus():
    from assistant.clauses import load_corpus

    return load_corpus()


@pytest.fixture(scope="session")
def launch_web_app(assistant_instance, corpus):
    """Factory for the web tests: ``launch_web_app(feedback_db, auth=None) -> (demo, url)``
    launches the chat app on a free port without blocking; the caller closes ``demo``."""
    import socket

    from assistant import web
    from assistant.feedback import FeedbackStore

    def launch(feedback_db: Path, auth: tuple[str, str] | None = None):
        demo = web.build_app(assistant_instance, feedback_store=FeedbackStore(feedback_db), corpus=corpus)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        web.launch(demo, port=port, auth=auth, prevent_thread_lock=True, quiet=True)
        return demo, f"http://127.0.0.1:{port}/"

    return launch
