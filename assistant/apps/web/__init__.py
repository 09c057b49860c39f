"""The web chat for cadres (``assistant chat``): a Gradio 6 app on http://127.0.0.1:7860.

* **問答** (:mod:`.chat`) — the short answer first (streamed), then a citation card per cited
  clause: document, section path, clause number, the verbatim clause with the answering sentence
  highlighted, and a one-click citation string. A refusal says so plainly and lists the 相關條文.
  Follow-up questions lean on the earlier questions of the conversation. 👍/👎 and a comment are
  stored in SQLite (:mod:`assistant.apps.feedback`).
* **瀏覽條文** (:mod:`.browse`) — the documents as document → section → clause, with a search box
  that uses the chat's retrieval. ``?clause=d4-s2-c6`` (what the card links point to) opens a clause.
* **測驗** — :mod:`.quiz_tab`.
* **管理** (:mod:`.admin`) — only behind a login: add and remove guidelines.
* ``/ask`` API — one question in, the JSON of ``assistant ask --json`` out (gradio_client).

The rest: :mod:`.render` (every string that reaches the browser is HTML-escaped there, and the
chatbot renders HTML without markdown, so user or corpus text can never become markup),
:mod:`.assets` (CSS, page script, theme, security headers), :mod:`.limits` (every limit of the
page is applied again by its handler), :mod:`.guard` (:class:`HTTPGuard` in front of Gradio: no
upload route without the 管理 tab, bounded request bodies, per-client throttling of failed logins,
security headers on every response), :mod:`.live` (the assistant the handlers answer from) and
:mod:`.app` (:func:`build_app`, :func:`launch`, :func:`parse_auth`).

The package top level stays light (no gradio import): the CLI imports it to build its parser.
"""

from assistant import settings as config  # noqa: F401  (sets GRADIO_ANALYTICS_ENABLED=False before gradio loads)
from assistant.apps.web.admin import (
    ADMIN_SUFFIXES,
    _upload_name,
    removable_choices,
    render_add_report,
    render_documents,
    render_remove_results,
    zh_problem,
    zh_reason,
    zh_remove_error,
)
from assistant.apps.web.app import (
    AUTH_ENV,
    DEFAULT_HOST,
    DEFAULT_PORT,
    TITLE,
    _is_loopback,
    build_app,
    launch,
    parse_auth,
)
from assistant.apps.web.assets import (
    CSP,
    CSS,
    HEAD,
    LOGIN_SCRIPT,
    SECURITY_HEADERS,
    theme,
)
from assistant.apps.web.chat import EXAMPLES, clip_question, with_clip_note
from assistant.apps.web.guard import HTTPGuard, LoginThrottle
from assistant.apps.web.limits import (
    ADMIN_FIELDS,
    CACHE_SWEEP,
    LOGIN_FREE_FAILURES,
    LOGIN_LOCKOUT,
    LOGIN_MAX_LOCKOUT,
    MAX_BODY_BYTES,
    MAX_COMMENT,
    MAX_QUERY,
    MAX_QUESTION,
    MAX_UPLOAD_FILES,
)
from assistant.apps.web.live import LiveAssistant
from assistant.apps.web.render import (
    citation_string,
    esc,
    highlight,
    render_answer,
    render_card,
    render_hits,
    render_pending,
    render_question,
    render_toc,
)

__all__ = [
    "ADMIN_FIELDS",
    "ADMIN_SUFFIXES",
    "AUTH_ENV",
    "CACHE_SWEEP",
    "CSP",
    "CSS",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "EXAMPLES",
    "HEAD",
    "LOGIN_FREE_FAILURES",
    "LOGIN_LOCKOUT",
    "LOGIN_MAX_LOCKOUT",
    "LOGIN_SCRIPT",
    "MAX_BODY_BYTES",
    "MAX_COMMENT",
    "MAX_QUERY",
    "MAX_QUESTION",
    "MAX_UPLOAD_FILES",
    "SECURITY_HEADERS",
    "TITLE",
    "HTTPGuard",
    "LiveAssistant",
    "LoginThrottle",
    "_is_loopback",
    "_upload_name",
    "build_app",
    "citation_string",
    "clip_question",
    "esc",
    "highlight",
    "launch",
    "parse_auth",
    "removable_choices",
    "render_add_report",
    "render_answer",
    "render_card",
    "render_documents",
    "render_hits",
    "render_pending",
    "render_question",
    "render_remove_results",
    "render_toc",
    "theme",
    "with_clip_note",
    "zh_problem",
    "zh_reason",
    "zh_remove_error",
]
