"""Server mode: the assistant against a real ``chroma run`` server (started by the
``chroma_server`` fixture) answers exactly as the embedded index does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ROTATION = "乡镇纪委书记任满几年必须交流?"


def _cli(*args: str, env: dict[str, str] | None = None, stdin: bytes | None = None, **popen) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "assistant.apps.cli", *args], input=stdin, capture_output=True,
        env=dict(os.environ, HF_HUB_OFFLINE="1", **(env or {})), cwd=REPO, timeout=300, **popen,
    )


def _dev_questions() -> list[str]:
    path = REPO / "evals" / "dev.jsonl"
    return [json.loads(line)["question"] for line in path.read_text("utf-8").splitlines() if line.strip()]


def _key(answer) -> tuple:
    return (answer.answer, answer.refused, [c.id for c in answer.citations], [c.id for c in answer.see_also])


def test_server_holds_the_whole_index(server_assistant, corpus, replay_encoder) -> None:
    from assistant.index.embed import get_embedder
    from assistant.index.store import ClauseStore, open_client

    store = server_assistant.searcher.store
    assert store.url and store.path is None  # really the HTTP client
    assert store.count() == len(corpus.passages)  # the clauses and each document's record
    # The same content hashes as the embedded pipeline computes: syncing with the real embedder
    # embeds nothing.
    again = ClauseStore(open_client(url=store.url), get_embedder().name).sync(
        corpus.passages, get_embedder(), corpus.documents, progress=False
    )
    assert again.embedded == 0 and again.unchanged == len(corpus.passages)


def test_server_answers_equal_embedded_on_the_dev_set(server_assistant, assistant_instance) -> None:
    questions = _dev_questions()
    diffs = []
    for q in questions:
        a, b = assistant_instance.ask(q), server_assistant.ask(q)
        if _key(a) != _key(b):
            diffs.append((q, _key(a), _key(b)))
        else:
            # Scores are rounded to 4 decimals and vectors cross HTTP as JSON floats: one unit of
            # the last decimal either way is rounding, not a different answer.
            assert [c.score for c in a.citations] == pytest.approx([c.score for c in b.citations], abs=2.5e-4)
    assert not diffs, f"{len(diffs)}/{len(questions)} answers differ between embedded and server mode: {diffs[:3]}"


def test_cli_against_the_server_two_clients_at_once(server_assistant, chroma_server, tmp_path: Path) -> None:
    """Two CLI processes (like two web workers) on one server, one via --chroma-url and one via
    $ASSISTANT_CHROMA_URL; neither touches an embedded index."""
    unused = tmp_path / "no-index-here"
    common = {"ASSISTANT_INDEX": str(unused)}
    qs = "\n".join([ROTATION, "縣財政每年安排多少萬元用於村主要干部基本報酬?", "今天天氣怎麼樣?"]).encode()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "assistant.apps.cli", *flag, "ask", "--json", "-"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO,
            env=dict(os.environ, HF_HUB_OFFLINE="1", **common, **extra),
        )
        for flag, extra in (
            (["--chroma-url", chroma_server.url], {}),
            ([], {"ASSISTANT_CHROMA_URL": chroma_server.url}),
        )
    ]
    outs = [p.communicate(qs, timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err.decode()
        answers = [json.loads(line) for line in out.decode().splitlines()]
        assert [a["refused"] for a in answers] == [False, False, True]
        assert answers[0]["citations"][0]["id"] == "d4-s2-c6"
        assert "106萬元" in answers[1]["answer"]
    assert not unused.exists()


def test_server_rebuild_swaps_the_collection_under_a_running_assistant(
    server_assistant, chroma_server, corpus, replay_encoder
) -> None:
    from assistant.index.store import rebuild

    before = server_assistant.ask(ROTATION)
    report = rebuild(None, corpus.clauses, replay_encoder, corpus.documents, url=chroma_server.url, progress=False)
    assert report.added == len(corpus.clauses)
    after = server_assistant.ask(ROTATION)  # its collection was replaced: fetched again by name
    assert _key(after) == _key(before)
    assert server_assistant.searcher.store.count() == len(corpus.clauses)
    names = {getattr(c, "name", c) for c in server_assistant.searcher.store.client.list_collections()}
    assert "clauses" in names and not any(n.endswith("__building") for n in names)


def test_unreachable_server_is_a_one_line_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from assistant.apps import cli
    from assistant.index.store import IndexError_, open_client
    from tests.chroma_server import free_port

    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(IndexError_, match="cannot reach the Chroma server"):
        open_client(url=url)
    monkeypatch.setenv("ASSISTANT_INDEX", str(tmp_path / "x"))
    monkeypatch.delenv("ASSISTANT_CHROMA_URL", raising=False)
    try:
        assert cli.main(["--chroma-url", url, "ask", ROTATION]) == 1
    finally:
        os.environ.pop("ASSISTANT_CHROMA_URL", None)  # cli.main exports --chroma-url
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("assistant: error:") and "chroma run" in err, err
