"""The app: :func:`build_app` assembles the tabs and the ``/ask`` API, :func:`launch` serves it
behind :class:`~assistant.apps.web.guard.HTTPGuard`, :func:`parse_auth` reads ``--auth``."""

import ipaddress
import logging
import os
from typing import TYPE_CHECKING, Any

from assistant.apps.web.admin import build_admin_tab, wire_admin_tab
from assistant.apps.web.assets import CSS, page_head, theme
from assistant.apps.web.browse import build_browse_tab
from assistant.apps.web.chat import (
    STORE_KEY,
    STORE_SECRET,
    build_chat_tab,
    with_clip_note,
)
from assistant.apps.web.conversations import clean_store, empty_store
from assistant.apps.web.guard import HTTPGuard, LoginThrottle
from assistant.apps.web.limits import CACHE_SWEEP, MAX_QUESTION, MAX_UPLOAD_FILES
from assistant.apps.web.live import LiveAssistant
from assistant.apps.web.script import SCRIPTS, TRADITIONAL

if TYPE_CHECKING:
    import gradio as gr

    from assistant.answering.extractive import Assistant
    from assistant.apps.feedback import FeedbackStore
    from assistant.corpus.records import Corpus

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
AUTH_ENV = "ASSISTANT_AUTH"
TITLE = "指引問答助手"


def build_app(
    assistant: "Assistant",
    *,
    feedback_store: "FeedbackStore",
    corpus: "Corpus",
    admin: bool = False,
    corpus_dir: str | os.PathLike | None = None,
    index_path: str | os.PathLike | None = None,
) -> "gr.Blocks":
    """The Gradio Blocks app (queue on). Launch it with :func:`launch` so theme, CSS and the page
    script apply (Gradio 6 takes those at launch time).

    *admin* adds the 管理 tab (upload, document list, remove) over *corpus_dir* / *index_path*
    (default: ``$ASSISTANT_CORPUS`` / ``$ASSISTANT_INDEX``); such an app must be launched with a
    login (:func:`launch` refuses otherwise). Without *admin* the tab and its events do not
    exist at all. ``demo.live`` is the :class:`LiveAssistant` the handlers answer from."""
    import gradio as gr

    from assistant.apps.web.quiz_tab import build_quiz_tab  # imports gradio: not at the package top

    live = LiveAssistant(assistant, corpus, corpus_dir=corpus_dir, index_path=index_path)

    def ask_api(question: str) -> dict:
        """Answer one question; returns the JSON object of `assistant ask --json`."""
        question = question or ""
        clipped = len(question) > MAX_QUESTION  # answered and echoed as read: its first characters
        return with_clip_note(live.assistant.ask(question[:MAX_QUESTION]), clipped).to_dict()

    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        # The reader's conversations and script, kept in the browser (localStorage).
        store = gr.BrowserState(empty_store(), storage_key=STORE_KEY, secret=STORE_SECRET)
        with gr.Row(elem_id="app-header-row", equal_height=True):
            gr.HTML(
                f'<div class="app-header"><h1>{TITLE}</h1><p>依據五份組織建設指引作答,'
                "每個答案都附原文條款;指引沒有規定的,會如實說明。繁體、簡體提問均可。</p></div>",
                scale=8,
            )
            switch = gr.Radio(list(SCRIPTS), value=TRADITIONAL, label="繁體/简体", show_label=False, container=False, scale=1,
                              min_width=110, elem_id="script-switch")
        with gr.Tabs(selected="chat", elem_id="main-tabs"):
            with gr.Tab("問答", id="chat", elem_id="tab-chat"):
                chat = build_chat_tab(demo, live, corpus, feedback_store, store, switch)
            with gr.Tab("瀏覽條文", id="browse", elem_id="tab-browse"):
                browse = build_browse_tab(demo, live, corpus, store)
                toc = browse["toc"]
            with gr.Tab("測驗", id="quiz", elem_id="tab-quiz"):
                quiz = build_quiz_tab(corpus, script=switch)
            if admin:
                with gr.Tab("管理", id="admin", elem_id="tab-admin") as admin_tab:
                    ui = build_admin_tab(live)

        def on_switch(script: str, raw_store: Any, query: str, quiz_state: Any):
            """繁/简: the chat, 瀏覽條文 and the 測驗 tab's quiz drawn again in *script*, which the
            browser remembers; the page script converts the fixed labels and buttons."""
            if script not in SCRIPTS:
                return (gr.skip(),) * (4 + len(quiz["outputs"]))
            store = {**clean_store(raw_store), "script": script}
            return (store, chat["show"](store)[0], *browse["show"](script, query), *quiz["show"](quiz_state, script))

        switch.change(on_switch, [switch, store, browse["query"], quiz["state"]],
                      [store, chat["chatbot"], toc, browse["results"], *quiz["outputs"]],
                      js="(script, ...rest) => { window.assistantScript?.(script); return [script, ...rest]; }",
                      queue=False, show_progress="hidden", api_visibility="private")
        gr.api(ask_api, api_name="ask", concurrency_id="assistant",
               api_description="回答一個問題;傳回與 `assistant ask --json` 相同的 JSON。")
        if admin:
            wire_admin_tab(live, ui, admin_tab, toc)
    demo.live = live
    demo.admin = admin
    # Retrieval is CPU-bound on a small machine: a few at a time keeps latency fair under load.
    demo.queue(default_concurrency_limit=4)
    return demo


def launch(
    demo: "gr.Blocks",
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    auth: tuple[str, str] | None = None,
    prevent_thread_lock: bool = False,
    quiet: bool = False,
    api: Any = None,
) -> Any:
    """Serve *demo* locally (never a share link), with the theme, CSS and page script. An app
    built with the 管理 tab is only ever served behind a login. *api* (an
    :class:`assistant.apps.api.API`) adds the JSON and OpenAI-compatible routes on the same port,
    behind the same guard and sharing its login throttle."""
    from starlette.middleware import Middleware

    from assistant.corpus.extract import MAX_FILE_BYTES

    admin = bool(getattr(demo, "admin", False))
    if admin and not auth:
        raise ValueError("the 管理 (admin) tab adds and removes guidelines: launch it with auth")
    # Only the 管理 tab takes files: without it no upload route answers (HTTPGuard); with it an
    # upload is at most MAX_FILE_BYTES per file, and Gradio's cache is swept of old uploads.
    demo.delete_cache = CACHE_SWEEP
    guard = Middleware(HTTPGuard, uploads=admin, throttle=api.throttle if api is not None else LoginThrottle(),
                       max_upload=MAX_UPLOAD_FILES * MAX_FILE_BYTES if admin else 0)
    return demo.launch(
        server_name=host,
        server_port=port,
        auth=auth,
        auth_message="請輸入帳號和密碼。",
        share=False,
        ssr_mode=False,
        prevent_thread_lock=prevent_thread_lock,
        quiet=quiet,
        show_error=False,
        max_file_size=MAX_FILE_BYTES if admin else 1,
        app_kwargs={"middleware": [guard, *([api.middleware()] if api is not None else [])]},
        # No Gradio footer: its links (「Use via API」, 「Built with Gradio」, settings) lead to
        # Gradio's own English pages. Scripts use /ask, /api/* and /v1/* (README), not the footer.
        footer_links=[],
        theme=theme(),
        css=CSS,
        head=page_head(),
    )


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """「user:password」 → (user, password); empty → no auth."""
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not (sep and user and password):
        raise ValueError("--auth / $ASSISTANT_AUTH must look like user:password")
    return user, password


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


