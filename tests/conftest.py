"""Shared fixtures: one real pipeline (corpus → clauses → Chroma index → retriever → answerer)
per test session, built into a temporary index so tests never touch the user's index/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
# The default suite tests the extractive core; an exported LLM server must not leak into it
# (the LLM tests build their own wrapped assistant from ASSISTANT_LLM_TEST_URL).
os.environ.pop("ASSISTANT_LLM_URL", None)

REPO = Path(__file__).resolve().parent.parent

try:  # Browser assertions wait up to 30 s, not playwright's 5: CI shares two cores with the
    # whole suite, and a quiz drawn or a reply rendered there takes seconds (the waits end as soon
    # as the page is right, so a quiet machine is not slowed).
    from playwright.sync_api import expect

    expect.set_options(timeout=30_000)
except ImportError:  # the browser tests skip themselves
    pass


@pytest.fixture(scope="session")
def index_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("index")


@pytest.fixture(scope="session")
def assistant_instance(index_path: Path):
    """The real assistant over the real corpus, with its index built once per session."""
    from assistant.services import load_assistant

    return load_assistant(str(index_path), progress=False)


@pytest.fixture(scope="session")
def corpus():
    from assistant.corpus.store import load_corpus

    return load_corpus()


@pytest.fixture(scope="session")
def launch_web_app(assistant_instance, corpus):
    """Factory for the web tests: ``launch_web_app(feedback_db, auth=None) -> (demo, url)``
    launches the chat app on a free port without blocking; the caller closes ``demo``."""
    import socket

    from assistant.apps import web
    from assistant.apps.feedback import FeedbackStore

    def launch(feedback_db: Path, auth: tuple[str, str] | None = None):
        demo = web.build_app(assistant_instance, feedback_store=FeedbackStore(feedback_db), corpus=corpus)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        web.launch(demo, port=port, auth=auth, prevent_thread_lock=True, quiet=True)
        return demo, f"http://127.0.0.1:{port}/"

    return launch


# --- server mode, faults, bench (issue 6) ---------------------------------------------------------


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory):
    """A real ``chroma run`` server (the venv's chromadb CLI) on a free loopback port for the
    session: waits at most 90 s for its heartbeat, stopped (terminate, then kill) at the end."""
    from tests.chroma_server import ChromaServer

    server = ChromaServer(tmp_path_factory.mktemp("chroma") / "data")
    try:
        server.start(timeout=90)
    except RuntimeError as exc:
        pytest.fail(f"could not start a Chroma server: {exc}")
    yield server
    server.stop()


class ReplayEncoder:
    """Passage encoder that returns the e5 vectors already stored in the session index (keyed
    by passage hash), so building a second store costs no torch time; a passage it has not
    seen goes to the real embedder."""

    def __init__(self, store, embedder) -> None:
        import numpy as np

        from assistant.index.store import text_sha

        got = store.collection.get(include=["embeddings", "metadatas"])
        self.vectors = {m["sha"]: np.asarray(e, dtype=np.float32) for m, e in zip(got["metadatas"], got["embeddings"])}
        self._sha = text_sha
        sent = store.sentences.get(include=["embeddings", "documents"])  # one vector per sentence
        self.vectors.update(
            (self._sha(t), np.asarray(e, dtype=np.float32)) for t, e in zip(sent["documents"], sent["embeddings"])
        )
        self.embedder = embedder
        self.name = embedder.name
        self.real_calls = 0

    def encode_passages(self, texts: list[str]):
        import numpy as np

        missing = [t for t in texts if self._sha(t) not in self.vectors]
        if missing:
            self.real_calls += len(missing)
            for t, v in zip(missing, self.embedder.encode_passages(missing)):
                self.vectors[self._sha(t)] = v
        return np.stack([self.vectors[self._sha(t)] for t in texts])


@pytest.fixture(scope="session")
def replay_encoder(assistant_instance) -> ReplayEncoder:
    s = assistant_instance.searcher
    return ReplayEncoder(s.store, s.embedder)


@pytest.fixture(scope="session")
def server_assistant(chroma_server, replay_encoder, corpus):
    """The assistant in server mode: the index is built into the Chroma server (with the session
    index's vectors — identical to what e5 computes), then loaded as a user would:
    ``load_assistant(chroma_url=…)``."""
    from assistant.index.store import ClauseStore, open_client
    from assistant.services import load_assistant

    store = ClauseStore(open_client(url=chroma_server.url), replay_encoder.name)
    report = store.sync(corpus.passages, replay_encoder, corpus.documents, progress=False)
    assert report.added == len(corpus.passages)
    return load_assistant(chroma_url=chroma_server.url, progress=False)


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the corpus holding only document 5 (≈10 clauses): cheap to embed in the CLI
    tests that must build an index from nothing."""
    src = REPO / "corpus"
    dst = tmp_path_factory.mktemp("tiny-corpus")
    lines = (src / "guidelines.txt").read_text(encoding="utf-8").splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("第五篇"))
    (dst / "guidelines.txt").write_text("".join(lines[start:]), encoding="utf-8")
    (dst / "documents.json").write_text((src / "documents.json").read_text(encoding="utf-8"), encoding="utf-8")
    return dst


# --- the web app's 管理 tab (issue 7) ----------------------------------------------------------------


@pytest.fixture(scope="session")
def admin_web_app(replay_encoder, tmp_path_factory):
    """Factory: ``with admin_web_app(auth) as app:`` — the web app *with* its 管理 tab, launched
    on a free port behind *auth*, over a fresh copy of the seed corpus and a fresh index filled
    with the session index's vectors (no torch time). ASSISTANT_CORPUS / ASSISTANT_INDEX point
    at those temporary directories while it runs, so the repo's corpus/ and index/ are never
    touched. ``app`` has ``demo``, ``url``, ``corpus`` (dir), ``index`` (dir) and ``auth``."""
    import contextlib
    import shutil
    import socket
    from types import SimpleNamespace

    from assistant.answering.extractive import Assistant
    from assistant.apps import web
    from assistant.apps.feedback import FeedbackStore
    from assistant.corpus.store import load_corpus
    from assistant.index.store import ClauseStore, open_client
    from assistant.retrieval.hybrid import HybridSearcher

    @contextlib.contextmanager
    def launch(auth: tuple[str, str] = ("admin", "s3cret")):
        root = tmp_path_factory.mktemp("admin-app")
        corpus_dir, index_dir = root / "corpus", root / "index"
        corpus_dir.mkdir()
        for name in ("guidelines.txt", "documents.json"):
            shutil.copy(REPO / "corpus" / name, corpus_dir / name)
        keys = ("ASSISTANT_CORPUS", "ASSISTANT_INDEX", "ASSISTANT_CHROMA_URL")
        saved = {k: os.environ.get(k) for k in keys}
        os.environ["ASSISTANT_CORPUS"], os.environ["ASSISTANT_INDEX"] = str(corpus_dir), str(index_dir)
        os.environ.pop("ASSISTANT_CHROMA_URL", None)
        demo = None
        try:
            corpus = load_corpus(corpus_dir)
            embedder = replay_encoder.embedder
            store = ClauseStore(open_client(index_dir), embedder.name)
            store.sync(corpus.passages, replay_encoder, corpus.documents, progress=False)
            assistant = Assistant(HybridSearcher(corpus.passages, store, embedder, corpus.documents))
            demo = web.build_app(assistant, feedback_store=FeedbackStore(root / "fb.sqlite"), corpus=corpus,
                                 admin=True, corpus_dir=corpus_dir, index_path=index_dir)
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            web.launch(demo, port=port, auth=auth, prevent_thread_lock=True, quiet=True)
            yield SimpleNamespace(demo=demo, url=f"http://127.0.0.1:{port}/", corpus=corpus_dir,
                                  index=index_dir, auth=auth)
        finally:
            if demo is not None:
                demo.close()
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    return launch
