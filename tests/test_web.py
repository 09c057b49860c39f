"""The web app over HTTP: the /ask API (gradio_client), 20 concurrent clients, inert rendering of
hostile text, feedback storage and export, basic auth, and no outbound connections.

One app is launched per module on a free port (``launch_web_app`` in conftest.py) over the
session's real pipeline (``assistant_instance``)."""

from __future__ import annotations

import io
import ipaddress
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest

from assistant import web
from assistant.answer import REFUSAL, Answer, Citation
from assistant.feedback import FeedbackStore

REPO = Path(__file__).resolve().parent.parent
ROTATION_SIMPLIFIED = "乡镇纪委书记任满几年必须交流?"

# --- no outbound connections: every socket this process opens is audited ------------------------

_OUTBOUND: list[str] = []
_AUDITING = [False]  # on while this module's app runs, so other modules' tests are not judged


def _audit(event: str, args: tuple) -> None:
    """Record connections and DNS look-ups that leave the machine (loopback is fine)."""
    if not _AUDITING[0]:
        return
    if event == "socket.connect" and isinstance(args[1], tuple):
        host = str(args[1][0])
    elif event == "socket.getaddrinfo":
        host = str(args[0])
    else:
        return
    if host in ("localhost", "") or host.startswith("/"):
        return
    try:
        if ipaddress.ip_address(host.split("%")[0]).is_loopback:
            return
    except ValueError:
        pass  # a host name other than localhost
    _OUTBOUND.append(f"{event} {host}")


sys.addaudithook(_audit)  # audit hooks cannot be removed; this one only appends to a list


@pytest.fixture(scope="module")
def app_url(launch_web_app, tmp_path_factory):
    _AUDITING[0] = True  # from launch on: gradio's start-up, the API calls, gradio_client
    demo, url = launch_web_app(tmp_path_factory.mktemp("fb") / "fb.sqlite")
    yield url
    demo.close()
    _AUDITING[0] = False


@pytest.fixture(scope="module")
def client(app_url):
    from gradio_client import Client

    return Client(app_url, verbose=False)


def _without_timing(d: dict) -> dict:
    return {k: v for k, v in d.items() if k != "timing_ms"}


# --- (a) the /ask API ------------------------------------------------------------------------


def test_ask_api_returns_the_cli_json(client, assistant_instance):
    got = client.predict(ROTATION_SIMPLIFIED, api_name="/ask")
    want = assistant_instance.ask(ROTATION_SIMPLIFIED).to_dict()  # what `ask --json` prints
    assert set(got) == set(want)
    assert _without_timing(got) == _without_timing(want)
    assert "10年" in got["answer"] and not got["refused"]
    assert got["citations"][0]["id"] == "d4-s2-c6"
    assert "任滿10年的必須交流" in got["citations"][0]["quote"]
    json.dumps(got, ensure_ascii=False)  # plain JSON all the way down


def test_ask_api_refuses_with_related_clauses(client):
    got = client.predict("鄉鎮紀委書記的月工資是多少?", api_name="/ask")
    assert got["refused"] and got["answer"] == REFUSAL
    assert got["citations"] == [] and got["see_also"]


def test_chat_events_are_not_public_api(client):
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert "/ask" in endpoints
    # the chat's own events (streaming turn, feedback, search) are for the page only
    assert not {"/respond", "/on_like", "/on_comment", "/search", "/pick_example"} & set(endpoints)


# --- (b) concurrency -------------------------------------------------------------------------


def test_20_concurrent_clients_get_their_own_answers(app_url, assistant_instance):
    from gradio_client import Client

    items = [json.loads(line) for line in (REPO / "evals" / "dev.jsonl").read_text("utf-8").splitlines()]
    questions = [i["question"] for i in items if i["type"] != "followup"]
    questions = list(dict.fromkeys(questions))[::5][:20]  # spread over the five documents
    assert len(questions) == 20
    expected = {q: _without_timing(assistant_instance.ask(q).to_dict()) for q in questions}

    def ask(q: str) -> tuple[str, dict]:
        return q, Client(app_url, verbose=False).predict(q, api_name="/ask")

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(ask, questions))
    for q, got in results:
        assert got["question"] == q
        assert _without_timing(got) == expected[q], q


# --- (c) hostile text renders inert --------------------------------------------------------------

PAYLOADS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '"><svg onload=alert(1)>',
    "**粗體** _斜體_ [連結](javascript:alert(1)) ![圖](x)",
    "<a href='javascript:alert(1)'>點我</a>",
    "&lt;b&gt;已轉義&lt;/b&gt; $$x$$ `code`",
]
ALLOWED_TAGS = {"div", "span", "blockquote", "mark", "strong", "button", "a", "details", "summary",
                "ul", "li", "ol", "p", "h3", "h4"}


class _Audit(HTMLParser):
    """Collects tags, attributes and text of an HTML fragment."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_data(self, data):
        self.text.append(data)


def audit(fragment: str) -> _Audit:
    parser = _Audit()
    parser.feed(fragment)
    parser.close()
    for tag, attrs in parser.tags:
        assert tag in ALLOWED_TAGS, f"unexpected <{tag}> in {fragment!r}"
        for name, value in attrs:
            assert name in {"class", "id", "href", "title", "type", "tabindex"}, (name, fragment)
            if name == "href":
                assert value.startswith("?clause="), value
    return parser


def hostile_citation(payload: str) -> Citation:
    return Citation(
        id=f"d9-s1-c1{payload}", label=f"《文件{payload}》一、總則{payload} › 第1條",
        doc_title=f"文件{payload}", section=f"一、總則{payload}", clause="第1條",
        text=f"前文。{payload}答案在這裡。後文。", quote=f"{payload}答案在這裡。", score=1.0,
    )


@pytest.mark.parametrize("payload", PAYLOADS)
def test_user_and_corpus_text_render_as_text(payload):
    shown = audit(web.render_question(payload))
    assert "".join(shown.text) == payload  # exactly what was typed, as text
    cite = hostile_citation(payload)
    answer = Answer(payload, "答案在這裡", False, [cite], [cite], note=payload)
    for html_out in (web.render_answer(answer), web.render_answer(answer, partial=payload),
                     web.render_answer(replace(answer, refused=True, answer=REFUSAL, citations=[])),
                     web.render_card(cite, answer="答案")):
        assert payload in "".join(audit(html_out).text)
    title = [dict(a)["title"] for t, a in audit(web.render_card(cite)).tags if t == "button"][0]
    assert title == web.citation_string(cite)  # the copy string survives escaping intact


def test_card_highlights_the_answering_sentence(assistant_instance):
    answer = assistant_instance.ask(ROTATION_SIMPLIFIED)
    card = web.render_card(answer.citations[0], answer=answer.answer)
    assert "<mark>任滿一屆的應適當交流,<strong>任滿10年的必須交流</strong>。</mark>" in card
    assert 'href="?clause=d4-s2-c6"' in card
    assert web.citation_string(answer.citations[0]) == (
        "《關于加強鄉鎮紀檢組織建設的指導意見》二、進一步健全鄉鎮紀檢組織 第6條:"
        "“任滿一屆的應適當交流,任滿10年的必須交流。”"
    )


def test_table_of_contents_has_every_clause(corpus):
    toc = web.render_toc(corpus)
    audit(toc)
    assert toc.count('class="toc-doc"') == len(corpus.documents) == 5
    for c in corpus.clauses:
        assert f'id="clause-{c.id}"' in toc


def test_plugin_modules_import_light():
    code = ("import sys, assistant.web, assistant.feedback, assistant.cli; "
            "heavy = {'gradio', 'torch', 'chromadb', 'sentence_transformers'} & set(sys.modules); "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


# --- (d) feedback ----------------------------------------------------------------------------


def test_feedback_store_and_csv_export(tmp_path, capsys):
    from assistant import cli

    db = tmp_path / "fb.sqlite"
    store = FeedbackStore(db)
    row = store.add(ROTATION_SIMPLIFIED, "任滿10年的必須交流", ["d4-s2-c6"], rating="up")
    store.update(row, comment="很清楚")
    store.update(row, rating="down")  # changing the rating keeps the comment
    store.add("火星?", REFUSAL, [], refused=True, comment="=HYPERLINK(\"http://x\")")
    rows = store.all()
    assert [(r.rating, r.comment, r.citations) for r in rows] == [
        ("down", "很清楚", "d4-s2-c6"), (None, '=HYPERLINK("http://x")', "")]
    assert rows[0].created_at[:4].isdigit() and rows[1].refused

    assert cli.main(["feedback", "export", "--csv", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    lines = list(__import__("csv").reader(io.StringIO(out)))
    assert lines[0] == ["id", "created_at", "updated_at", "question", "answer", "citations",
                        "refused", "rating", "comment"]
    assert lines[1][3:] == [ROTATION_SIMPLIFIED, "任滿10年的必須交流", "d4-s2-c6", "False", "down", "很清楚"]
    assert lines[2][-1] == "'=HYPERLINK(\"http://x\")"  # stays text in a spreadsheet

    target = tmp_path / "out.csv"
    assert cli.main(["feedback", "export", "--csv", "--db", str(db), "--out", str(target)]) == 0
    assert target.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel reads it as UTF-8
    assert cli.main(["feedback", "export", "--db", str(tmp_path / "missing.sqlite")]) == 1


# --- (e) auth --------------------------------------------------------------------------------


def test_auth_refuses_unauthenticated_requests(launch_web_app, tmp_path):
    import httpx
    from gradio_client import Client

    demo, url = launch_web_app(tmp_path / "fb.sqlite", auth=("cadre", "s3cret"))
    try:
        assert httpx.post(url + "gradio_api/call/ask", json={"data": ["x"]}).status_code == 401
        assert httpx.get(url + "config").status_code == 401
        with pytest.raises(Exception):
            Client(url, verbose=False).predict(ROTATION_SIMPLIFIED, api_name="/ask")
        with pytest.raises(Exception):
            Client(url, auth=("cadre", "wrong"), verbose=False)
        ok = Client(url, auth=("cadre", "s3cret"), verbose=False).predict(ROTATION_SIMPLIFIED, api_name="/ask")
        assert "10年" in ok["answer"]
    finally:
        demo.close()


def test_auth_option_parsing():
    assert web.parse_auth("cadre:pa:ss") == ("cadre", "pa:ss")
    assert web.parse_auth("") is None and web.parse_auth(None) is None
    for bad in ("cadre", ":pw", "cadre:"):
        with pytest.raises(ValueError):
            web.parse_auth(bad)
    assert web._is_loopback("127.0.0.1") and web._is_loopback("localhost")
    assert not web._is_loopback("0.0.0.0")


# --- last: nothing left the machine ----------------------------------------------------------


def test_no_outbound_connections(client):
    client.predict(ROTATION_SIMPLIFIED, api_name="/ask")
    assert _OUTBOUND == []
