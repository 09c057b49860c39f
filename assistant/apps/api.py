"""HTTP APIs served by ``assistant chat`` on the web chat's own port (issue 17).

* ``POST /api/ask`` ``{"question", "k", "history"}`` → the JSON of ``assistant ask --json``;
  ``GET /api/documents``, ``GET /api/clauses/{id}``, ``GET /api/search?q=`` (the 瀏覽條文 search).
* OpenAI-compatible ``GET /v1/models`` and ``POST /v1/chat/completions`` (plain, or ``stream: true``
  as server-sent events ending in ``data: [DONE]``): the last user message is the question, the
  earlier user messages are its history; the reply is the answer followed by its citations as a
  numbered list (label + verbatim quote), and the structured answer rides along in ``citations``
  (and ``answer``), fields an OpenAI client ignores. Open WebUI, LobeChat, ChatGPT-Next-Web, Dify
  or any OpenAI SDK can use the assistant as a "model".
* ``/docs`` (Swagger UI served from the package ``fastapi-offline``, no CDN) and ``/openapi.json``.

Every request and response is a pydantic model, so the OpenAPI schema is the real one. Errors
are JSON ``{"error": {"code", "message", "type"}}`` with a Chinese message; a bad body is a 422
naming the field, never a 500.

Access: with a login (``--auth``/``ASSISTANT_AUTH``) or an API key (``ASSISTANT_API_KEY``) every
route here needs HTTP Basic with that login or ``Authorization: Bearer <key>``; wrong credentials
count as failed logins in the web app's :class:`~assistant.apps.web.LoginThrottle` (the same
lockout, HTTP 429 with Retry-After). Without either, the API answers only clients on this machine
(loopback) unless ``--host`` opened the server to the network on purpose.

The API is a FastAPI app in front of Gradio: :meth:`API.middleware` routes its paths to it and
everything else to the Gradio app, inside the web app's :class:`~assistant.apps.web.HTTPGuard` —
security headers, body limits and login throttling cover these routes too.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import math
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any, Literal

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware

from assistant.apps.web import (
    MAX_QUERY,
    MAX_QUESTION,
    LoginThrottle,
    _is_loopback,
    with_clip_note,
)

log = logging.getLogger(__name__)

MODEL_ID = "guideline-assistant"
PATHS = ("/api/", "/v1/")  # prefixes served by the API; plus the exact paths below
EXACT_PATHS = ("/api", "/v1", "/docs", "/docs/oauth2-redirect", "/openapi.json", "/redoc")
STATIC_URL = "/api/docs-static"  # Swagger UI's own files (fastapi-offline), under /api/ so they are routed here
MAX_K = 20
MAX_HISTORY = 20  # earlier questions considered
MAX_MESSAGES = 100  # messages in one chat completion request
CONCURRENT = 4  # answers computed at once (the web app's queue allows as many)


# --- errors -------------------------------------------------------------------------------------


class APIError(Exception):
    """An error answered as ``{"error": {"code", "message", "type"}}`` with *status*."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
          404: "not_found_error", 405: "invalid_request_error", 413: "invalid_request_error",
          422: "invalid_request_error", 429: "rate_limit_error"}


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "type": _TYPES.get(status, "api_error"), **extra}}
    return JSONResponse(body, status_code=status, headers=headers)


_ZH_ERRORS = {
    "missing": "缺少這個欄位", "json_invalid": "不是有效的 JSON", "string_type": "應為字串",
    "string_too_short": "不能為空", "string_too_long": "太長", "int_parsing": "應為整數", "int_type": "應為整數",
    "bool_parsing": "應為 true 或 false", "bool_type": "應為 true 或 false", "list_type": "應為陣列",
    "too_short": "項目太少", "too_long": "項目太多", "greater_than_equal": "太小", "less_than_equal": "太大",
    "literal_error": "不是允許的值", "model_type": "應為 JSON 物件", "dict_type": "應為 JSON 物件",
    "extra_forbidden": "不是這個介面的欄位", "int_from_float": "應為整數",
}


def _zh_validation(exc: RequestValidationError) -> tuple[str, list[dict]]:
    details = []
    for err in exc.errors():
        loc = [str(x) for x in err.get("loc", ()) if x not in ("body", "query", "path")]
        where = ".".join(loc) or "請求內容"
        reason = _ZH_ERRORS.get(err.get("type", ""), "格式不正確")
        limit = (err.get("ctx") or {}).get("max_length") or (err.get("ctx") or {}).get("le")
        if limit is not None and err.get("type") in ("string_too_long", "too_long", "less_than_equal"):
            reason += f"(上限 {limit})"
        limit = (err.get("ctx") or {}).get("ge")
        if limit is not None and err.get("type") == "greater_than_equal":
            reason += f"(下限 {limit})"
        details.append({"field": where, "reason": reason, "type": err.get("type")})
    first = details[0] if details else {"field": "請求內容", "reason": "格式不正確"}
    more = f"等 {len(details)} 處" if len(details) > 1 else ""
    return f"請求內容不正確:{first['field']} {first['reason']}{more}。", details


# --- models -------------------------------------------------------------------------------------


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, description=f"問題(繁體或簡體);只讀前 {MAX_QUESTION} 字")
    k: int = Field(5, ge=1, le=MAX_K, description="引用條文加相關條文的數目")
    history: list[str] = Field(default_factory=list, max_length=MAX_HISTORY,
                               description="同一對話中先前的問題(由舊到新),追問時用")


class CitationOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str = Field(description="條文編號,例如 d4-s2-c6")
    label: str = Field(description="出處:文件 › 章節 › 條號")
    doc_title: str
    section: str
    clause: str
    text: str = Field(description="整條原文")
    quote: str = Field(description="作答的那一句,原文的一段")
    score: float
    subsection: str | None = None


class AnswerOut(BaseModel):
    """The JSON of ``assistant ask --json``."""

    model_config = ConfigDict(extra="allow")

    question: str
    answer: str
    refused: bool = Field(description="指引中沒有答案時為 true(此時 see_also 為最接近的條文)")
    citations: list[CitationOut]
    see_also: list[CitationOut]
    confidence: float
    mode: str
    note: str
    timing_ms: dict[str, float]


class DocumentOut(BaseModel):
    id: str
    number: int
    title: str
    issuer: str | None
    date: str | None
    doc_number: str | None
    status: str | None
    source: str
    clauses: int = Field(description="條文數")


class DocumentsOut(BaseModel):
    documents: list[DocumentOut]


class ClauseOut(BaseModel):
    id: str
    doc_id: str
    doc_title: str
    label: str
    section: str
    subsection: str | None
    clause: str = Field(description="條號,例如 第6條")
    text: str
    url: str = Field(description="在網頁「瀏覽條文」中打開這一條的連結")


class SearchHitOut(BaseModel):
    id: str
    label: str
    doc_title: str
    text: str
    score: float


class SearchOut(BaseModel):
    query: str
    hits: list[SearchHitOut]


class ErrorBody(BaseModel):
    code: str
    message: str
    type: str


class ErrorOut(BaseModel):
    error: ErrorBody


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(p.text or "" for p in self.content if p.type in ("text", "input_text"))
        return self.content or ""


class ChatRequest(BaseModel):
    """An OpenAI chat completion request; parameters this assistant has no use for (temperature,
    max_tokens …) are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(MODEL_ID, description=f"任何名稱均可;回覆中為 {MODEL_ID}")
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    stream: bool = False
    k: int = Field(5, ge=1, le=MAX_K, description="(擴充)引用條文加相關條文的數目")


class ReplyMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: ReplyMessage
    finish_reason: Literal["stop"] = "stop"


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    citations: list[CitationOut] = Field(description="(擴充)引用的條文,結構化")
    answer: AnswerOut = Field(description="(擴充)完整的結構化回答,同 /api/ask")


class ModelOut(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelOut]


# --- the app ------------------------------------------------------------------------------------


def chat_content(answer: dict) -> str:
    """The reply an OpenAI client shows: the answer, then its citations as a numbered list
    (label + verbatim quote); for a refusal, why, and the closest clauses."""
    lines = [answer["answer"]]
    if answer["refused"] and answer.get("note"):
        lines.append(answer["note"])
    if answer["citations"]:
        lines += ["", "出處:"]
        lines += [f"{i}. {c['label']}:「{c['quote'] or c['text']}」" for i, c in enumerate(answer["citations"], 1)]
    elif answer["refused"] and answer.get("see_also"):
        lines += ["", "相關條文:"]
        lines += [f"{i}. {c['label']}" for i, c in enumerate(answer["see_also"], 1)]
    return "\n".join(lines)


class _Gate:
    """Who may call the API (see the module docstring)."""

    def __init__(self, auth: tuple[str, str] | None, api_key: str | None, allow_remote: bool,
                 throttle: LoginThrottle):
        self.auth, self.api_key, self.allow_remote, self.throttle = auth, api_key or None, allow_remote, throttle

    @property
    def required(self) -> bool:
        return self.auth is not None or self.api_key is not None

    def _challenge(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Basic realm="assistant", charset="UTF-8"'} if self.auth else {}

    def _valid(self, header: str) -> bool:
        scheme, _, value = header.strip().partition(" ")
        value = value.strip()
        if scheme.lower() == "bearer" and self.api_key:
            return hmac.compare_digest(value.encode("utf-8"), self.api_key.encode("utf-8"))
        if scheme.lower() == "basic" and self.auth:
            try:
                raw = base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                return False
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("latin-1")
            user, sep, password = text.partition(":")
            expected = f"{self.auth[0]}:{self.auth[1]}".encode()
            return bool(sep) and hmac.compare_digest(f"{user}:{password}".encode(), expected)
        return False

    def __call__(self, request: Request) -> None:
        client = request.client.host if request.client else "unknown"
        if not self.required:
            if not self.allow_remote and not _is_loopback(client):
                raise APIError(403, "remote_not_allowed",
                               "未設定登入(--auth)時,API 只接受本機連線;請設定 --auth 或 ASSISTANT_API_KEY。")
            return
        wait = self.throttle.retry_after(client)
        if wait > 0:
            raise APIError(429, "too_many_failures", f"登入失敗次數過多,請於 {math.ceil(wait)} 秒後再試。",
                           {"Retry-After": str(math.ceil(wait))})
        header = request.headers.get("authorization", "")
        if not header:
            how = "HTTP Basic(帳號密碼)" if self.auth else ""
            how += ("或" if how and self.api_key else "") + ("Authorization: Bearer <API 金鑰>" if self.api_key else "")
            raise APIError(401, "unauthorized", f"需要登入:請用 {how}。", self._challenge())
        if not self._valid(header):
            self.throttle.failed_and_logged(client, log, "API login")
            raise APIError(401, "unauthorized", "帳號、密碼或 API 金鑰不正確。", self._challenge())
        self.throttle.succeeded(client)


class API:
    """The API app over *live* (the web app's :class:`~assistant.apps.web.LiveAssistant`: the
    assistant and corpus every handler answers from, swapped after a 管理 change)."""

    def __init__(self, live: Any, *, auth: tuple[str, str] | None = None, api_key: str | None = None,
                 allow_remote: bool = False, throttle: LoginThrottle | None = None):
        self.live = live
        self.throttle = throttle or LoginThrottle()
        self.gate = _Gate(auth, api_key, allow_remote, self.throttle)
        self._slots = threading.BoundedSemaphore(CONCURRENT)
        self.created = int(time.time())
        self.app = self._build()

    def middleware(self) -> Middleware:
        """Starlette middleware for the Gradio app: the API's paths go to the API."""
        return Middleware(APIMount, api=self.app)

    def _ask(self, question: str, history: list[str], k: int) -> dict:
        clipped = len(question) > MAX_QUESTION
        history = [h[:MAX_QUESTION] for h in history[-MAX_HISTORY:]]
        with self._slots:
            answer = self.live.assistant.ask(question[:MAX_QUESTION], history=history, k=k)
        return with_clip_note(answer, clipped).to_dict()

    def _build(self) -> FastAPI:
        app = FastAPIOffline(
            title="指引問答助手 API",
            version="1",
            description="指引問答(帶條文出處)、文件與條文、條文搜尋,以及與 OpenAI 相容的 /v1 介面。"
                        "設定了登入時,請用 HTTP Basic(帳號密碼)或 Authorization: Bearer <ASSISTANT_API_KEY>。",
            static_url=STATIC_URL,
            favicon_url=f"{STATIC_URL}/favicon.png",
            redoc_url=None,
            swagger_ui_parameters={"validatorUrl": None},
            dependencies=[Depends(self.gate)],
            responses={code: {"model": ErrorOut} for code in (401, 403, 404, 422, 429)},
        )

        # The schema needs the login too: FastAPI's own /openapi.json route has no dependencies.
        app.router.routes = [r for r in app.router.routes if getattr(r, "path", None) != app.openapi_url]

        @app.get(app.openapi_url, include_in_schema=False)
        def openapi_schema() -> JSONResponse:
            return JSONResponse(app.openapi())

        @app.exception_handler(APIError)
        async def api_error(_: Request, exc: APIError) -> JSONResponse:
            return _error(exc.status, exc.code, exc.message, exc.headers)

        @app.exception_handler(RequestValidationError)
        async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
            message, details = _zh_validation(exc)
            return _error(422, "invalid_request", message, details=details)

        @app.exception_handler(StarletteHTTPException)
        async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
            code, message = {404: ("not_found", "沒有這個 API 路徑。"),
                             405: ("method_not_allowed", "這個路徑不接受此 HTTP 方法。")}.get(
                exc.status_code, ("http_error", "請求無法處理。"))
            return _error(exc.status_code, code, message, dict(exc.headers or {}))

        @app.exception_handler(Exception)
        async def crashed(_: Request, exc: Exception) -> JSONResponse:
            log.exception("API request failed")
            return _error(500, "internal_error", "伺服器內部錯誤,請稍後再試。")

        @app.post("/api/ask", response_model=AnswerOut, tags=["問答"], summary="回答一個問題")
        def ask(body: AskRequest) -> dict:
            """與 `assistant ask --json` 相同的 JSON。問題只讀前 500 字(note 中說明)。"""
            return self._ask(body.question.strip(), body.history, body.k)

        @app.get("/api/documents", response_model=DocumentsOut, tags=["文件"], summary="文件列表")
        def documents() -> dict:
            corpus = self.live.corpus
            counts: dict[str, int] = {}
            for c in corpus.clauses:
                counts[c.doc_id] = counts.get(c.doc_id, 0) + 1
            return {"documents": [{"id": d.id, "number": d.number, "title": d.title, "issuer": d.issuer,
                                   "date": d.date, "doc_number": d.doc_number, "status": d.status,
                                   "source": d.source, "clauses": counts.get(d.id, 0)}
                                  for d in corpus.documents]}

        @app.get("/api/clauses/{clause_id}", response_model=ClauseOut, tags=["文件"], summary="一條條文")
        def clause(clause_id: str) -> dict:
            try:
                c = self.live.corpus.clause(clause_id)
            except KeyError:
                raise APIError(404, "clause_not_found", f"沒有編號為「{clause_id[:50]}」的條文(編號形如 d4-s2-c6)。") from None
            return {"id": c.id, "doc_id": c.doc_id, "doc_title": c.doc_title, "label": c.label, "section": c.section,
                    "subsection": c.subsection, "clause": c.ref, "text": c.text, "url": f"/?clause={c.id}"}

        @app.get("/api/search", response_model=SearchOut, tags=["文件"], summary="搜尋條文(瀏覽條文的搜尋)")
        def search(q: str = Query(min_length=1, max_length=MAX_QUERY, description="搜尋字詞"),
                   k: int = Query(8, ge=1, le=MAX_K)) -> dict:
            query = q.strip()
            if not query:
                raise APIError(422, "invalid_request", "請求內容不正確:q 不能為空。")
            with self._slots:
                hits = self.live.assistant.searcher.search(query, k=k)
            return {"query": query, "hits": [{"id": h.clause.id, "label": h.clause.label, "doc_title": h.clause.doc_title,
                                              "text": h.clause.text, "score": round(float(h.score), 4)} for h in hits]}

        @app.get("/v1/models", response_model=ModelList, tags=["OpenAI 相容"], summary="模型列表")
        def models() -> dict:
            return {"data": [{"id": MODEL_ID, "created": self.created, "owned_by": "guideline-assistant"}]}

        @app.post("/v1/chat/completions", response_model=ChatCompletion, tags=["OpenAI 相容"],
                  summary="對話(OpenAI chat completions;stream=true 時為 SSE)",
                  responses={200: {"content": {"text/event-stream": {}}}})
        def completions(body: ChatRequest) -> Any:
            users = [m.text().strip() for m in body.messages if m.role == "user"]
            if not users or not users[-1]:
                raise APIError(422, "no_question", "請求內容不正確:messages 中沒有使用者的問題(role 為 user)。")
            answer = self._ask(users[-1], users[:-1], body.k)
            content = chat_content(answer)
            reply = {"id": f"chatcmpl-{uuid.uuid4().hex}", "created": int(time.time()), "model": MODEL_ID}
            if not body.stream:
                return reply | {"choices": [{"message": {"content": content}}], "citations": answer["citations"],
                                "answer": answer}
            return StreamingResponse(_stream(reply, content, answer), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

        return app


def _stream(reply: dict, content: str, answer: dict) -> Iterator[str]:
    """Server-sent events of a chat completion: the role, the content a line at a time, a last
    chunk with ``finish_reason`` and the structured ``citations``, then ``data: [DONE]``."""

    def event(delta: dict, finish: str | None = None, **extra: Any) -> str:
        chunk = reply | {"object": "chat.completion.chunk",
                         "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"

    yield event({"role": "assistant", "content": ""})
    lines = content.split("\n")
    for i, line in enumerate(lines):
        yield event({"content": line + ("\n" if i < len(lines) - 1 else "")})
    yield event({}, "stop", citations=answer["citations"], answer=answer)
    yield "data: [DONE]\n\n"


def is_api_path(path: str) -> bool:
    return path in EXACT_PATHS or path.startswith(PATHS)


class APIMount:
    """ASGI middleware in front of Gradio: requests for the API's paths go to *api*, every other
    to the Gradio app. Installed inside :class:`~assistant.apps.web.HTTPGuard`."""

    def __init__(self, app: Any, api: FastAPI):
        self.app, self.api = app, api

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and is_api_path(scope.get("path", "")):
            await self.api(scope, receive, send)
        else:
            await self.app(scope, receive, send)
