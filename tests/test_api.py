"""The HTTP APIs of `assistant chat` (issue 17, part 1): /api/* with httpx and the OpenAI-compatible
/v1 with the real `openai` SDK, against a started `assistant chat` — without a login (loopback),
and with a login and an API key. Plus the access rules on the API app alone (Starlette's
TestClient, whose client address is not loopback)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from assistant.apps.api import MODEL_ID, chat_content

REPO = Path(__file__).resolve().parent.parent
ROTATION = "乡镇纪委书记任满几年必须交流?"
USER, PASSWORD, KEY = "張三", "密碼-17", "sk-test-issue17"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Chat:
    """`assistant chat` as a process on a free loopback port, stopped at the end."""

    def __init__(self, index: Path, tmp: Path, *args: str, env: dict[str, str] | None = None):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environ = {k: v for k, v in os.environ.items() if k not in ("ASSISTANT_AUTH", "ASSISTANT_API_KEY")}
        environ |= {"ASSISTANT_INDEX": str(index), "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
        environ |= env or {}
        self.log = open(tmp / f"chat-{self.port}.log", "w+", encoding="utf-8")  # noqa: SIM115 — closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "assistant.apps.cli", "chat", "--port", str(self.port),
             "--feedback-db", str(tmp / "feedback.sqlite"), *args],
            cwd=REPO, env=environ, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                pytest.fail(f"assistant chat exited with {self.proc.returncode}:\n{self.log.read()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/v1/models", timeout=2).status_code in (200, 401):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1)
        self.stop()
        pytest.fail("assistant chat did not answer within 180 s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.log.close()


@pytest.fixture(scope="module")
def open_chat(assistant_instance, index_path, tmp_path_factory):
    chat = Chat(index_path, tmp_path_factory.mktemp("chat-open"))
    yield chat
    chat.stop()


@pytest.fixture(scope="module")
def locked_chat(assistant_instance, index_path, tmp_path_factory):
    chat = Chat(index_path, tmp_path_factory.mktemp("chat-locked"), "--auth", f"{USER}:{PASSWORD}",
                env={"ASSISTANT_API_KEY": KEY})
    yield chat
    chat.stop()


def _error(r: httpx.Response, status: int, code: str) -> dict:
    assert r.status_code == status, (r.status_code, r.text)
    err = r.json()["error"]
    assert err["code"] == code and any("\u4e00" <= ch <= "\u9fff" for ch in err["message"]), err  # Chinese
    return err


def test_openai_sdk_plain_and_streaming(open_chat, assistant_instance) -> None:
    from openai import OpenAI

    client = OpenAI(base_url=f"{open_chat.url}/v1", api_key="unused", max_retries=0, timeout=60)
    assert [m.id for m in client.models.list()] == [MODEL_ID]
    r = client.chat.completions.create(model=MODEL_ID, messages=[{"role": "user", "content": ROTATION}])
    content = r.choices[0].message.content
    expected = assistant_instance.ask(ROTATION).to_dict()
    assert content == chat_content(expected)  # the answer, then the citations as a numbered list
    assert content.startswith(expected["answer"]) and "\n出處:\n1. 《關于加強鄉鎮紀檢組織建設的指導意見》" in content
    assert "「任滿一屆的應適當交流,任滿10年的必須交流。」" in content
    assert r.choices[0].finish_reason == "stop" and r.model == MODEL_ID
    assert r.model_extra["citations"][0]["id"] == "d4-s2-c6"
    assert r.model_extra["answer"]["answer"] == expected["answer"]
    # streaming: the same content, chunk by chunk, the citations in the last chunk
    chunks = list(client.chat.completions.create(model="any-name", stream=True, messages=[
        {"role": "system", "content": "你是助手"}, {"role": "user", "content": ROTATION},
        {"role": "assistant", "content": content}, {"role": "user", "content": "那任職不到2年調整的呢?"}]))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    follow = assistant_instance.ask("那任職不到2年調整的呢?", history=[ROTATION]).to_dict()
    assert text == chat_content(follow) and "第6條" in text  # the earlier user turn is the history
    assert len(chunks) > 3 and chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].model_extra["citations"][0]["id"] == "d4-s2-c6"
    # a refusal says why and lists the closest clauses
    r = client.chat.completions.create(model=MODEL_ID, messages=[{"role": "user", "content": "乡镇纪委书记的月工资是多少?"}])
    assert r.model_extra["answer"]["refused"] and "相關條文:\n1. " in r.choices[0].message.content


def test_sse_ends_with_done_and_errors_are_json(open_chat) -> None:
    with httpx.stream("POST", f"{open_chat.url}/v1/chat/completions", timeout=60,
                      json={"model": MODEL_ID, "stream": True, "messages": [{"role": "user", "content": ROTATION}]}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        events = [line for line in r.iter_lines() if line]
    assert events[-1] == "data: [DONE]" and all(e.startswith("data: ") for e in events)
    assert json.loads(events[0][6:])["choices"][0]["delta"]["role"] == "assistant"
    url = f"{open_chat.url}/v1/chat/completions"
    _error(httpx.post(url, json={"messages": []}), 422, "invalid_request")
    _error(httpx.post(url, json={"messages": [{"role": "system", "content": "x"}]}), 422, "no_question")
    _error(httpx.post(url, json={"messages": [{"role": "wizard", "content": "x"}]}), 422, "invalid_request")
    _error(httpx.post(url, content=b"{not json", headers={"content-type": "application/json"}), 422, "invalid_request")


def test_json_api_ask_documents_clauses_search(open_chat, assistant_instance, corpus) -> None:
    api = f"{open_chat.url}/api"
    r = httpx.post(f"{api}/ask", json={"question": ROTATION, "k": 3}, timeout=60)
    assert r.status_code == 200
    got, expected = r.json(), assistant_instance.ask(ROTATION, k=3).to_dict()
    assert set(got) == set(expected)  # the JSON of `assistant ask --json`
    assert {k: v for k, v in got.items() if k != "timing_ms"} == {k: v for k, v in expected.items() if k != "timing_ms"}
    for header in ("x-content-type-options", "x-frame-options", "content-security-policy", "referrer-policy"):
        assert header in r.headers  # HTTPGuard covers the API too
    follow = httpx.post(f"{api}/ask", json={"question": "那任職不到2年調整的呢?", "history": [ROTATION]}, timeout=60).json()
    assert follow["citations"][0]["id"] == "d4-s2-c6"
    long = httpx.post(f"{api}/ask", json={"question": ROTATION + "。" * 600}, timeout=60).json()
    assert len(long["question"]) == 500 and "500 字" in long["note"]  # read up to 500 characters, and said so
    _error(httpx.post(f"{api}/ask", json={"question": 5}), 422, "invalid_request")
    err = _error(httpx.post(f"{api}/ask", json={"question": "", "k": 99}), 422, "invalid_request")
    assert {d["field"] for d in err["details"]} == {"question", "k"}
    _error(httpx.post(f"{api}/ask", json={"question": "q", "extra": 1}), 422, "invalid_request")
    r = httpx.post(f"{api}/ask", content=b"x" * (5 * 2**20), headers={"content-type": "application/json"})
    assert r.status_code == 413 and "nosniff" in r.headers["x-content-type-options"]  # the guard's body limit

    docs = httpx.get(f"{api}/documents").json()["documents"]
    assert [d["id"] for d in docs] == [d.id for d in corpus.documents]
    assert sum(d["clauses"] for d in docs) == len(corpus.clauses)
    c = httpx.get(f"{api}/clauses/d4-s2-c6").json()
    assert c["text"] == corpus.clause("d4-s2-c6").text and c["clause"] == "第6條" and c["url"] == "/?clause=d4-s2-c6"
    _error(httpx.get(f"{api}/clauses/d9-s9-c9"), 404, "clause_not_found")
    hits = httpx.get(f"{api}/search", params={"q": "紀委書記 交流"}).json()["hits"]
    assert "d4-s2-c6" in [h["id"] for h in hits[:3]]
    _error(httpx.get(f"{api}/search", params={"q": "字" * 201}), 422, "invalid_request")
    _error(httpx.get(f"{api}/search"), 422, "invalid_request")
    _error(httpx.get(f"{api}/nothing-here"), 404, "not_found")
    _error(httpx.get(f"{api}/ask"), 405, "method_not_allowed")


def test_docs_and_openapi_schema_load(open_chat) -> None:
    page = httpx.get(f"{open_chat.url}/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text and "cdn" not in page.text.lower()
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert httpx.get(f"{open_chat.url}/api/docs-static/{asset}").status_code == 200  # served here, no CDN
    schema = httpx.get(f"{open_chat.url}/openapi.json").json()
    assert {"/api/ask", "/api/documents", "/api/clauses/{clause_id}", "/api/search", "/v1/models",
            "/v1/chat/completions"} <= set(schema["paths"])
    ask = schema["components"]["schemas"]["AskRequest"]
    assert set(ask["properties"]) == {"question", "k", "history"} and ask["required"] == ["question"]
    assert "AnswerOut" in schema["components"]["schemas"] and "ErrorOut" in schema["components"]["schemas"]
    # the Gradio app is still there on the same port, and its own /ask API too
    assert httpx.get(f"{open_chat.url}/").status_code == 200
    assert httpx.get(f"{open_chat.url}/gradio_api/info").status_code == 200


def test_with_a_login_every_api_route_needs_basic_or_the_bearer_key(locked_chat) -> None:
    from openai import AuthenticationError, OpenAI

    url = locked_chat.url
    for path in ("/api/documents", "/v1/models", "/docs", "/openapi.json", "/api/clauses/d4-s2-c6"):
        r = httpx.get(f"{url}{path}")
        _error(r, 401, "unauthorized")
        assert r.headers["www-authenticate"].startswith("Basic")
    assert httpx.get(f"{url}/api/documents", auth=(USER, PASSWORD)).status_code == 200  # HTTP Basic
    assert httpx.get(f"{url}/docs", auth=(USER, PASSWORD)).status_code == 200
    assert httpx.get(f"{url}/api/documents", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
    r = httpx.post(f"{url}/api/ask", json={"question": ROTATION}, auth=(USER, PASSWORD), timeout=60)
    assert r.json()["citations"][0]["id"] == "d4-s2-c6"
    client = OpenAI(base_url=f"{url}/v1", api_key=KEY, max_retries=0, timeout=60)
    r = client.chat.completions.create(model=MODEL_ID, messages=[{"role": "user", "content": ROTATION}])
    assert "第6條" in r.choices[0].message.content
    streamed = client.chat.completions.create(model=MODEL_ID, stream=True, messages=[{"role": "user", "content": ROTATION}])
    assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices) == r.choices[0].message.content
    with pytest.raises(AuthenticationError):
        OpenAI(base_url=f"{url}/v1", api_key="sk-wrong", max_retries=0).models.list()
    # wrong credentials are failed logins: after five in a row the address is locked out (HTTP 429),
    # the right key included, exactly as the login page is (one throttle)
    for _ in range(4):
        _error(httpx.get(f"{url}/v1/models", auth=(USER, "wrong")), 401, "unauthorized")
    r = httpx.get(f"{url}/v1/models", headers={"Authorization": f"Bearer {KEY}"})
    _error(r, 429, "too_many_failures")
    assert int(r.headers["retry-after"]) > 0
    assert httpx.post(f"{url}/login", data={"username": USER, "password": PASSWORD}).status_code == 429


def test_without_a_login_the_api_answers_only_this_machine(assistant_instance, corpus) -> None:
    from fastapi.testclient import TestClient

    from assistant.apps.api import API
    from assistant.apps.web import LiveAssistant

    live = LiveAssistant(assistant_instance, corpus)
    # TestClient's client address is "testclient": not loopback, as a caller from the network
    r = TestClient(API(live).app).get("/api/documents")
    _error(r, 403, "remote_not_allowed")
    assert TestClient(API(live, allow_remote=True).app).get("/api/documents").status_code == 200  # --host 0.0.0.0
    locked = TestClient(API(live, api_key=KEY).app)
    _error(locked.get("/api/documents"), 401, "unauthorized")
    assert "www-authenticate" not in locked.get("/api/documents").headers  # no Basic without a login
    assert locked.get("/api/documents", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200


CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium (scripts/test.sh installs it)")
def test_in_a_browser_docs_render_and_the_quiz_tab_downloads(open_chat) -> None:
    """/docs renders every operation under the app's CSP with nothing fetched from elsewhere; the
    測驗 tab's 「下載試卷」 gives the Word handout and the two workbooks."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM),
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        context = browser.new_context(locale="zh-TW", accept_downloads=True)
        violations: list[str] = []
        requests: list[str] = []
        context.expose_binding("__cspViolation", lambda source, v: violations.append(v))
        context.add_init_script("document.addEventListener('securitypolicyviolation', (e) => "
                                "window.__cspViolation(`${e.violatedDirective} ${e.blockedURI}`));")
        context.on("request", lambda r: requests.append(r.url))
        page = context.new_page()
        page.goto(f"{open_chat.url}/docs")
        page.wait_for_selector(".opblock", timeout=30_000)
        assert page.locator(".opblock").count() == 6  # ask, documents, clauses, search, models, chat completions
        page.goto(f"{open_chat.url}/")
        page.get_by_role("tab", name="測驗").click()
        page.locator("#quiz-download-box").click()
        page.locator("#quiz-download").click()
        page.wait_for_selector("#quiz-files a", timeout=60_000)
        names = page.locator("#quiz-files").inner_text().replace("\n", "")  # name and extension are two spans
        assert ".docx" in names and "_答題卡.xlsx" in names and names.count(".xlsx") == 2
        with page.expect_download() as download:
            page.locator("#quiz-files a").first.click()
        assert Path(download.value.path()).read_bytes()[:4] == b"PK\x03\x04"  # a .docx (a zip)
        browser.close()
    assert violations == []
    assert [u for u in requests if not u.startswith((open_chat.url, "data:", "blob:"))] == []
