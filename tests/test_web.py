"""The web app over HTTP: the /ask API (gradio_client), 30 concurrent clients, inert rendering of
hostile text, feedback storage and export, basic auth, and no outbound connections.

One app is launched per module on a free port (``launch_web_app`` in conftest.py) over the
session's real pipeline (``assistant_instance``)."""

from __future__ import annotations

import html
import io
import ipaddress
import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest

from assistant.answering.extractive import REFUSAL
from assistant.answering.records import Answer, Citation
from assistant.apps import web
from assistant.apps.feedback import FeedbackStore

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
    assert got["note"] == "最接近的條文沒有給出所問的數字。"


def test_chat_events_are_not_public_api(client):
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert "/ask" in endpoints
    # the chat's own events (streaming turn, feedback, search) are for the page only
    assert not {"/respond", "/on_like", "/on_comment", "/search", "/pick_example"} & set(endpoints)


# --- (b) concurrency -------------------------------------------------------------------------


def test_30_concurrent_clients_get_their_own_answers(app_url, assistant_instance):
    """30 clients at once (issue 14's bar, behind the HTTP guard): each gets its own answer."""
    from gradio_client import Client

    items = [json.loads(line) for line in (REPO / "evals" / "dev.jsonl").read_text("utf-8").splitlines()]
    questions = [i["question"] for i in items if i["type"] != "followup"]
    questions = list(dict.fromkeys(questions))[::4][:30]  # spread over the five documents
    assert len(questions) == 30
    expected = {q: _without_timing(assistant_instance.ask(q).to_dict()) for q in questions}

    def ask(q: str) -> tuple[str, dict]:
        return q, Client(app_url, verbose=False).predict(q, api_name="/ask")

    with ThreadPoolExecutor(max_workers=30) as pool:
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
    code = ("import sys, assistant.apps.web, assistant.apps.feedback, assistant.apps.cli; "
            "heavy = {'gradio', 'torch', 'chromadb', 'sentence_transformers'} & set(sys.modules); "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


# --- (d) feedback ----------------------------------------------------------------------------


def test_feedback_store_and_csv_export(tmp_path, capsys):
    from assistant.apps import cli

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


# --- (f) the 管理 tab: adding and removing guidelines behind the login (issue 7) -----------------
# One app with the tab over a temporary copy of the corpus and a temporary index (conftest's
# admin_web_app). The tests below run in order: upload → refused garbage → remove.

GUIDELINE = """\
測試縣村級檔案管理辦法
第一條 為規范村級檔案管理,制定本辦法。
第二條 村級會計檔案保管期限不少於30年,由鄉鎮農經站統一保管。
第三條 村級檔案每年6月底前完成上一年度的立卷歸檔。
"""
ARCHIVE_Q = "村級會計檔案保管期限是多少年?"
UPLOAD_NAME = "村級檔案管理辦法(試行)〔2024〕.txt"  # the browser's name, not the cache path's


@pytest.fixture(scope="module")
def admin_app(admin_web_app):
    with admin_web_app() as app:
        yield app


@pytest.fixture(scope="module")
def admin_client(admin_app):
    from gradio_client import Client

    return Client(admin_app.url, auth=admin_app.auth, verbose=False)


# An internal document or clause id (d6, d4-s2-c6, d2-s2-ss3-c1): never shown in the 管理 tab.
INTERNAL_ID = re.compile(r"(?<![A-Za-z0-9_])d\d+(-[a-z]+\d+)*(?![0-9])")


def visible_text(html_out: str) -> str:
    """The text a page shows for *html_out* (tags and attributes dropped)."""
    return html.unescape(re.sub(r"<[^>]*>", " ", html_out))


def handler(demo, name: str):
    """The function bound to the app's event *name* (what the page calls), checked page-only."""
    fns = [f for f in demo.fns.values() if f.name == name]
    assert fns and all(f.api_visibility == "private" for f in fns), name
    (fn,) = {f.fn for f in fns}  # bound to one or more events (e.g. Enter and the button)
    return fn


def corpus_state(app) -> tuple[list[str], dict]:
    from assistant.index.store import ClauseStore, open_client

    store = ClauseStore(open_client(app.index), app.demo.live.assistant.searcher.embedder.name)
    return sorted(p.name for p in app.corpus.iterdir()), store.stored_hashes()


def test_admin_upload_answers_from_the_new_guideline(admin_app, admin_client, tmp_path):
    demo = admin_app.demo
    before = admin_client.predict(ARCHIVE_Q, api_name="/ask")
    assert not any(c["id"].startswith("d6-") for c in before["citations"])
    upload = tmp_path / "3f2a9c.txt"
    upload.write_text(GUIDELINE, encoding="utf-8")
    # Questions keep arriving while the upload is indexed and the assistant swapped: each is
    # answered whole, by the old or the new assistant.
    from gradio_client import Client

    def ask_rotation(_: int) -> dict:
        return Client(admin_app.url, auth=admin_app.auth, verbose=False).predict(ROTATION_SIMPLIFIED, api_name="/ask")

    with ThreadPoolExecutor(max_workers=4) as pool:
        during = pool.map(ask_rotation, range(6))
        steps = list(handler(demo, "admin_add")(
            [(str(upload), UPLOAD_NAME)], "", "測試縣檔案局", "2024-5-1", ""))
        assert [r["citations"][0]["id"] for r in during] == ["d4-s2-c6"] * 6
    # a status first (the file's name, 處理中), the report last
    assert len(steps) >= 2 and all("處理中" in s[0] and web.esc(UPLOAD_NAME) in s[0] for s in steps[:-1]), steps
    result, docs, target, toc, files, *fields = steps[-1]
    assert "已加入" in result and "共 3 條" in result and web.esc(UPLOAD_NAME) in result, result
    assert "第六篇" in result and "測試縣村級檔案管理辦法" in result and "未加入" not in result
    assert (admin_app.corpus / UPLOAD_NAME).is_file()  # stored under the original name
    side = json.loads((admin_app.corpus / f"{UPLOAD_NAME}.meta.json").read_text(encoding="utf-8"))
    assert side["documents"][0]["issuer"] == "測試縣檔案局" and side["documents"][0]["date"] == "2024-05-01"
    assert web.esc(UPLOAD_NAME) in docs and "已建立索引" in docs and "共 6 份文件" in docs
    assert (f"第六篇《測試縣村級檔案管理辦法》 · {UPLOAD_NAME}", UPLOAD_NAME) in target["choices"]
    # no internal id shown: not in the report, the list or a choice's label (the value is the file name)
    shown = [result, docs, *(label for label, _ in target["choices"])]
    assert not [t for t in shown if INTERNAL_ID.search(visible_text(t))], shown
    again = list(handler(demo, "admin_add")([(str(upload), "copy.txt")], "", "", "", ""))[-1][0]
    assert "略過" in again and "第六篇《測試縣村級檔案管理辦法》" in again and not INTERNAL_ID.search(visible_text(again))
    assert 'id="clause-d6-s1-c2"' in toc and files is None and fields == ["", "", "", ""]

    # /ask, the chat and 瀏覽條文 answer from the new corpus — same app, no restart
    got = admin_client.predict(ARCHIVE_Q, api_name="/ask")
    assert not got["refused"] and "30年" in got["answer"], got
    cite = got["citations"][0]
    assert cite["id"] == "d6-s1-c2" and cite["doc_title"] == "測試縣村級檔案管理辦法"
    assert cite["clause"] == "第二條" and "不少於30年" in cite["quote"]  # as the file prints it (issue 14)
    turn = list(handler(demo, "respond")(ARCHIVE_Q, None))[-1]
    assert 'href="?clause=d6-s1-c2"' in turn[1][-1]["content"]
    assert 'href="?clause=d6-s1-c2"' in handler(demo, "search")("會計檔案 保管期限")
    assert admin_client.predict(ROTATION_SIMPLIFIED, api_name="/ask")["citations"][0]["id"] == "d4-s2-c6"


def test_admin_refuses_garbage_docx_and_changes_nothing(admin_app, tmp_path):
    demo = admin_app.demo
    garbage = tmp_path / "upload.docx"
    garbage.write_bytes(bytes(range(256)) * 8)
    state, live = corpus_state(admin_app), demo.live.assistant
    result, *_ = list(handler(demo, "admin_add")([(str(garbage), "壞掉的文件.docx")], "", "", "", ""))[-1]
    assert "未加入" in result and "壞掉的文件.docx" in result
    assert "不是可讀取的 Word .docx 檔案" in result and "沒有加入任何檔案" in result
    assert corpus_state(admin_app) == state and demo.live.assistant is live  # nothing swapped
    # bad arguments are refused before anything is read
    result, *_ = list(handler(demo, "admin_add")([(str(garbage), "x.docx")], "", "", "明年", ""))[-1]
    assert "日期格式不正確" in result and corpus_state(admin_app) == state


def test_admin_remove_takes_the_document_out(admin_app, admin_client):
    demo = admin_app.demo
    row, text, _ = handler(demo, "admin_ask_remove")(UPLOAD_NAME)
    assert row["visible"] is True and web.esc(UPLOAD_NAME) in text  # asks before removing
    result, docs, target, toc, row = handler(demo, "admin_remove")(UPLOAD_NAME)
    assert "第六篇《測試縣村級檔案管理辦法》" in result and not INTERNAL_ID.search(visible_text(result)), result
    assert "已移除" in result and row["visible"] is False, result
    assert not (admin_app.corpus / UPLOAD_NAME).exists() and "d6" not in docs and target["choices"] == []
    assert 'id="clause-d6-s1-c2"' not in toc
    got = admin_client.predict(ARCHIVE_Q, api_name="/ask")
    assert not any(c["id"].startswith("d6-") for c in got["citations"] + got["see_also"])
    result, *_ = handler(demo, "admin_remove")("d4")
    assert "不能個別移除" in result and (admin_app.corpus / "guidelines.txt").is_file()
    assert "第四篇《" in result and not INTERNAL_ID.search(visible_text(result)), result  # the CLI's message keeps d1–d5
    result, *_ = handler(demo, "admin_remove")("d6")
    assert "找不到" in result and not INTERNAL_ID.search(visible_text(result)), result


# Gradio components that take a file from the browser when interactive.
UPLOAD_TYPES = {"file", "uploadbutton", "image", "imageeditor", "imageslider", "audio", "video", "model3d",
                "gallery", "multimodaltextbox", "simpleimage"}


def test_admin_tab_and_events_exist_only_with_auth(app_url, client, admin_app, admin_client,
                                                   assistant_instance, corpus, tmp_path):
    import httpx

    def tabs(config: dict) -> set[str]:
        return {c["props"].get("label") for c in config["components"] if c.get("type") == "tabitem"}

    def uploads(config: dict) -> list[dict]:
        """Components a browser could send a file through: a file-taking type (the 測驗 tab's
        download list is a gr.File too) not marked non-interactive, or that is an event's input."""
        inputs = {i for d in config["dependencies"] for i in d["inputs"]}
        return [c for c in config["components"] if c.get("type") in UPLOAD_TYPES
                and (c["props"].get("interactive") is not False or c["id"] in inputs)]

    public = httpx.get(app_url + "config").json()  # the module's app: no --auth
    assert {"問答", "瀏覽條文"} <= tabs(public) and "管理" not in tabs(public)
    assert uploads(public) == []  # file components there only hand files out (下載試卷)
    r = httpx.post(app_url + "gradio_api/upload", files={"files": ("x.txt", b"x")})
    assert r.status_code == 403, r.text  # and the upload route is refused (HTTPGuard)
    assert not [d for d in public["dependencies"] if "admin" in str(d["api_name"])]  # no events at all
    assert "管理" in tabs(admin_app.demo.config)
    assert uploads(admin_app.demo.config)  # the check sees 管理's upload box
    admin_events = [d for d in admin_app.demo.config["dependencies"] if "admin" in str(d["api_name"])]
    assert len(admin_events) >= 4 and {d["api_visibility"] for d in admin_events} == {"private"}
    for c in (client, admin_client):  # never in the API, with or without auth
        endpoints = c.view_api(return_format="dict", print_info=False)["named_endpoints"]
        assert "/ask" in endpoints and not [e for e in endpoints if "admin" in e], endpoints
    with pytest.raises(Exception):
        admin_client.predict(UPLOAD_NAME, api_name="/admin_remove")
    demo = web.build_app(assistant_instance, feedback_store=FeedbackStore(tmp_path / "fb.sqlite"),
                         corpus=corpus, admin=True)
    with pytest.raises(ValueError, match="auth"):  # never an unauthenticated upload path
        web.launch(demo, port=1, auth=None)


def test_admin_reports_render_as_text():
    from types import SimpleNamespace

    from assistant.corpus.records import Document
    from assistant.services import AddReport, DocRow, DocsReport, FileResult

    payload = '<img src=x onerror="alert(1)">'
    doc = Document(f"d7{payload}", 7, f"標題{payload}", payload, payload, "2024-01-01", payload, None, f"{payload}.txt")
    report = AddReport([FileResult("p", f"{payload}.txt", "added", [doc], 3),
                        FileResult("q", f"{payload}.docx", "failed", error=f"not a readable Word .docx ({payload})"),
                        FileResult("r", "x.pdf", "failed", error=payload)],
                       sync=SimpleNamespace(added=3, updated=0, removed=0, seconds=1.0))
    listing = DocsReport([DocRow(doc, None, 3, 3)], [], "index")
    removed = [SimpleNamespace(target=payload, removed=[f"{payload}.txt"], doc_ids=["d7"], error=None),
               SimpleNamespace(target=payload, removed=[], doc_ids=[], error=payload)]
    for html_out in (web.render_add_report(report), web.render_documents(listing),
                     web.render_remove_results(removed, None)):
        parser = _Audit()
        parser.feed(html_out)
        assert {t for t, _ in parser.tags} <= ALLOWED_TAGS | {"table", "thead", "tbody", "tr", "th", "td"}, html_out
        assert all(name == "class" for _, attrs in parser.tags for name, _ in attrs), html_out
        assert payload in "".join(parser.text)
    refused = FileResult("x.pdf", "x.pdf", "failed", error="no text layer in 2 page(s)", code="pdf_no_text")
    assert web.zh_reason(refused).startswith("PDF 沒有文字層")
    assert web._upload_name("a/b\x00\n.txt", "/tmp/x.txt") == "ab.txt"
    assert web._upload_name("", "/tmp/gradio/x/規定.txt") == "規定.txt"


# --- last: nothing left the machine ----------------------------------------------------------


def test_no_outbound_connections(client):
    client.predict(ROTATION_SIMPLIFIED, api_name="/ask")
    assert _OUTBOUND == []
