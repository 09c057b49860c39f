"""The 問答 tab: the chat, its streamed answers with citation cards, 👍/👎 and comments.

The short answer comes first (streamed), then a citation card per cited clause, 「複製回答」 and
follow-up suggestions (:mod:`.followups`). A refusal says so plainly and lists the 相關條文.
Follow-up questions lean on the earlier questions of the conversation. Conversations are kept in
the browser (:mod:`.conversations`): a menu of past ones, 新對話, 刪除, export as Markdown and Word.
👍/👎 and a comment are stored in SQLite (:mod:`assistant.apps.feedback`).
"""

import contextlib
import hashlib
import logging
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import assistant.apps.web.conversations as convs
from assistant.answering.records import Answer
from assistant.apps.web.followups import suggest
from assistant.apps.web.limits import MAX_COMMENT, MAX_QUESTION
from assistant.apps.web.render import (
    render_answer,
    render_pending,
    render_question,
    shown_question,
)
from assistant.apps.web.script import question_script, to_script
from assistant.text import is_cjk

if TYPE_CHECKING:
    import gradio as gr

    from assistant.apps.feedback import FeedbackStore
    from assistant.corpus.records import Corpus

log = logging.getLogger(__name__)

# Shown on the empty chat; both scripts, each with a known answer in the guidelines.
EXAMPLES = [
    "鄉鎮紀委書記任滿幾年必須交流?",
    "乡镇纪委书记任满几年必须交流?",
    "縣財政每年安排多少萬元用於村主要干部基本報酬?",
    "乡镇纪委书记以多大年龄的干部为主体?",
    "市、縣兩級紅十字會的“三定”工作要配合哪個部門來做?",
    "党员人数达到多少的村应建立党总支?",
]


def clip_question(question: str | None) -> tuple[str, bool]:
    """The question as processed: stripped, at most :data:`MAX_QUESTION` characters; and
    whether it was cut."""
    question = (question or "").strip()
    return question[:MAX_QUESTION], len(question) > MAX_QUESTION


def with_clip_note(answer: "Answer", clipped: bool) -> "Answer":
    """*answer*, saying in its note that only the question's first characters were read."""
    if not clipped:
        return answer
    note = f"問題超過 {MAX_QUESTION} 字,只依前 {MAX_QUESTION} 字作答。"
    return replace(answer, note=f"{answer.note} {note}" if answer.note else note)


def _rating(liked: Any) -> str | None:
    """gr.LikeData.liked: True/False for 👍/👎 (or the option names); anything else un-rates."""
    if liked is True or liked == "Like":
        return "up"
    if liked is False or liked == "Dislike":
        return "down"
    return None


def _stream_steps(text: str, steps: int = 4) -> Iterator[str]:
    """Growing prefixes of *text* for the streamed short answer (it is computed at once, so a
    few steps are enough to show it arriving before the cards)."""
    size = max(1, -(-len(text) // steps))
    for end in range(size, len(text), size):
        yield text[:end]


STORE_KEY = "assistant-conversations"
# BrowserState encrypts what it stores with this key, which the page receives anyway: it is no
# secret, only stable, so the conversations survive a server restart.
STORE_SECRET = "guideline-assistant-conversations-v1"
EXPORT_KEEP = 3600  # seconds an export file is kept on the server


def screen(question: str) -> Answer | None:
    """The reply to what cannot be asked of the guidelines (None: a question to answer): nothing
    but emoji or punctuation, or a question without a Chinese character (「請用中文提問」)."""
    if not any(ch.isalnum() for ch in question):
        return Answer(question, "請輸入一個關於指引內容的問題。", True, [])
    if not any(is_cjk(ch) for ch in question):
        return Answer(question, "請用中文提問(繁體或簡體均可)。指引都是中文文件,例如可以這樣問:", True, [])
    return None


def render_turns(turns: list[dict[str, Any]], script: str | None) -> list[dict[str, str]]:
    """A stored conversation as the chatbot's messages, shown in *script*."""
    out = []
    for turn in turns:
        answer = convs.answer_from(turn["a"])
        out.append({"role": "user", "content": render_question(turn["q"])})
        out.append({"role": "assistant", "content": render_answer(answer, script=script, followups=turn.get("f", []))})
    return out


class Exports:
    """Markdown and Word files of conversations for the download buttons, written into one
    folder per app and removed an hour after they were last written."""

    def __init__(self) -> None:
        import tempfile

        self.root = Path(tempfile.mkdtemp(prefix="assistant-export-"))

    def write(self, conv: dict[str, Any] | None) -> tuple[str | None, str | None]:
        if not conv:
            return None, None
        now = time.time()
        for old in self.root.glob("*/*"):
            if now - old.stat().st_mtime > EXPORT_KEEP:
                old.unlink(missing_ok=True)
                with contextlib.suppress(OSError):
                    old.parent.rmdir()
        text = convs.to_markdown(conv)
        folder = self.root / hashlib.sha256(text.encode()).hexdigest()[:16]
        folder.mkdir(exist_ok=True)
        md, docx = folder / "指引問答紀錄.md", folder / "指引問答紀錄.docx"
        md.write_text(text, encoding="utf-8")
        convs.to_docx(conv, str(docx))
        return str(md), str(docx)


def build_chat_tab(demo: "gr.Blocks", live: Any, corpus: "Corpus", feedback_store: "FeedbackStore",
                   store: Any, switch: Any) -> dict[str, Any]:
    """The 問答 tab's components and events (inside ``gr.Tab``), answering from *live* (the app's
    :class:`~assistant.apps.web.live.LiveAssistant`). Conversations live in the browser (*store*,
    a ``gr.BrowserState``); *switch* is the header's 繁/简 radio. Every event is page-only.
    Returns the chatbot and the function that shows a store, for the script switch."""
    import gradio as gr

    exports = Exports()

    def show(store: dict[str, Any]) -> tuple[Any, ...]:
        """Chatbot, conversation menu and export buttons for *store*."""
        conv = convs.current(store)
        md, docx = exports.write(conv)
        return (render_turns(conv["turns"] if conv else [], store["script"]),
                gr.update(choices=convs.choices(store), value=store["current"]),
                gr.update(value=md, interactive=md is not None), gr.update(value=docx, interactive=docx is not None))

    def respond(question: str, raw_store: Any):
        """Stream one turn: the question, a placeholder, the growing short answer, the cards,
        then the follow-up suggestions; the conversation is stored in the browser."""
        store = convs.clean_store(raw_store)
        question, clipped = clip_question(shown_question(question or ""))
        if not question:
            yield (gr.skip(),) * 7
            return
        script = store["script"] or question_script(question)
        conv = convs.current(store)
        history = [t["q"] for t in conv["turns"]] if conv else []
        chat = [*render_turns(conv["turns"] if conv else [], script),
                {"role": "user", "content": render_question(question)},
                {"role": "assistant", "content": render_pending(script)}]
        yield "", chat, gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        # The box was emptied once, above; whatever the reader types while this turn is answered
        # (and its suggestions found) is theirs: later steps leave it alone.
        keep = gr.skip()
        answer = screen(question)
        stream = getattr(live.assistant, "stream", None)  # LLM mode: verified sentences as they come
        try:
            if answer is not None:
                stream = None
            elif stream is None:
                answer = live.assistant.ask(question, history=history)
            else:
                partial = ""
                for event in stream(question, history=history):
                    if isinstance(event, str):
                        partial += event
                        chat[-1] = {"role": "assistant", "content": render_answer(None, partial=partial, script=script)}
                        yield keep, chat, gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
                    else:
                        answer = event
        except Exception:  # keep the conversation usable; the traceback goes to the server log
            log.exception("answering %r failed", question)
            chat[-1] = {"role": "assistant", "content": '<div class="refusal">' + to_script(
                "系統暫時無法作答,請稍後再試;如持續出現,請聯絡管理員。", script) + "</div>"}
            yield keep, chat, gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        answer = with_clip_note(answer, clipped)
        if stream is None and not answer.refused:
            for part in _stream_steps(answer.answer):
                chat[-1] = {"role": "assistant", "content": render_answer(answer, partial=part, script=script)}
                yield keep, chat, gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
                time.sleep(0.03)
        # The turn is kept (in the browser) as soon as it is answered; the suggestions follow.
        store = convs.add_turn({**store, "script": script}, question, answer, [])
        chat[-1] = {"role": "assistant", "content": render_answer(answer, script=script)}
        _, menu, md, docx = show(store)
        yield keep, chat, store, menu, md, docx, gr.skip()
        if answer.refused and not answer.citations and not answer.see_also:
            followups = list(EXAMPLES[:3]) if "中文" in answer.answer else []
        else:
            followups = suggest(live.assistant, live.corpus, answer, [*history, question])
        # The reader's script is set last: a change of 繁/简 redraws the chat from the stored
        # conversation, and set any earlier that redraw could land after the suggestions and
        # take them away (a first question in Simplified lost its suggestions so).
        if followups:
            store = convs.set_followups(store, followups)
            chat[-1] = {"role": "assistant", "content": render_answer(answer, script=script, followups=followups)}
            yield keep, chat, store, gr.skip(), gr.skip(), gr.skip(), script or gr.skip()
        elif script:  # (the turn's last update always carries the chat and the store)
            yield keep, chat, store, gr.skip(), gr.skip(), gr.skip(), script

    def load(raw_store: Any):
        store = convs.clean_store(raw_store)
        return (store, *show(store), store["script"] or gr.skip())

    def pick(conv_id: str, raw_store: Any):
        store = convs.clean_store(raw_store)
        if not any(c["id"] == conv_id for c in store["conversations"]):
            return (gr.skip(),) * 5
        store = {**store, "current": conv_id}
        return (store, *show(store))

    def new_chat(raw_store: Any):
        store = {**convs.clean_store(raw_store), "current": None}
        return (store, *show(store), "")

    def delete_chat(raw_store: Any):
        store = convs.clean_store(raw_store)
        store = convs.delete(store, store["current"])
        return (store, *show(store), to_script("已刪除這段對話。", store["script"]))

    def record(raw_store: Any, index: int) -> tuple[str, dict[str, Any]] | None:
        """The feedback record of the assistant message at *index* in the shown conversation."""
        store = convs.clean_store(raw_store)
        conv = convs.current(store)
        if not conv or not isinstance(index, int) or index % 2 != 1 or index // 2 >= len(conv["turns"]):
            return None
        turn = conv["turns"][index // 2]
        answer = convs.answer_from(turn["a"])
        return f"{conv['id']}:{index // 2}", {"question": turn["q"], "answer": answer.answer,
                                              "citations": [c.id for c in answer.citations],
                                              "refused": answer.refused}

    def store_feedback(rec: dict, row: int | None, **change: Any) -> int:
        """Create the answer's feedback row on first contact, then update that same row."""
        if row is None:
            return feedback_store.add(rec["question"], rec["answer"], rec["citations"],
                                      refused=rec["refused"], **change)
        feedback_store.update(row, **change)
        return row

    def on_like(data: gr.LikeData, raw_store: Any, rows: dict):
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        found = record(raw_store, index)
        if found is None:
            return rows, gr.skip()
        key, rec = found
        rating = _rating(data.liked)
        rows = {**rows, key: store_feedback(rec, rows.get(key), rating=rating)}
        msg = {"up": "已記錄 👍,謝謝。", "down": "已記錄 👎,謝謝。"}.get(rating, "已取消評價。")
        return rows, msg + "如有補充,可在下方留言。"

    def on_comment(comment: str, raw_store: Any, rows: dict):
        comment = (comment or "").strip()
        if not comment:
            return gr.skip(), rows, "請先輸入意見內容。"
        if len(comment) > MAX_COMMENT:  # the box stops at MAX_COMMENT; a raw call does not
            return gr.skip(), rows, f"意見最多 {MAX_COMMENT} 字(目前 {len(comment)} 字),請精簡後再送出。"
        conv = convs.current(convs.clean_store(raw_store))
        found = record(raw_store, 2 * len(conv["turns"]) - 1) if conv else None  # the latest answer
        if found is None:
            return gr.skip(), rows, "請先提問,再對回答留言。"
        key, rec = found
        rows = {**rows, key: store_feedback(rec, rows.get(key), comment=comment)}
        return "", rows, "意見已記錄,謝謝。"

    def pick_example(ev: gr.SelectData) -> str:
        return ev.value["text"]

    rows = gr.State({})  # "conversation:turn" → its feedback row id (feedback handlers only)
    with gr.Row(equal_height=True, elem_id="chat-menu"):
        menu = gr.Dropdown(label="過去的對話", choices=[], value=None, scale=6, elem_id="conversations")
        new = gr.Button("新對話", scale=1, min_width=80, elem_id="new-chat")
        remove = gr.Button("刪除", scale=1, min_width=80, variant="stop", elem_id="delete-chat")
    chatbot = gr.Chatbot(
        label="對話",  # read out by screen readers only (Gradio's default is 「Chatbot」)
        show_label=False,  # a floating 「對話」 label covered the placeholder and answers (issue 13)
        elem_id="chat",
        height="64vh",
        autoscroll=False,  # the page script shows the start of each new reply, not its end
        render_markdown=False,  # messages are escaped HTML built above
        sanitize_html=True,  # …and still sanitised, as a second line of defence
        allow_tags=False,
        latex_delimiters=[],
        buttons=[],  # the stock copy button would copy raw HTML
        placeholder="<b>請輸入關於指引內容的問題</b><br>回答只摘錄指引原文並註明條款;"
        "也可以點選下面的例題。",
        examples=[{"text": q} for q in EXAMPLES],
    )
    with gr.Row(equal_height=True):
        # The box takes a long paste; the server reads the first MAX_QUESTION characters and says so.
        box = gr.Textbox(
            label="問題", show_label=False, placeholder="輸入問題,按 Enter 送出(繁體或簡體均可)",
            max_lines=4, max_length=4 * MAX_QUESTION, scale=8, elem_id="question", autofocus=True,
        )
        send = gr.Button("提問", variant="primary", scale=1, elem_id="ask")
    with gr.Row(elem_id="export-row"):
        md = gr.DownloadButton("匯出 Markdown", value=None, interactive=False, size="sm", elem_id="export-md")
        docx = gr.DownloadButton("匯出 Word", value=None, interactive=False, size="sm", elem_id="export-docx")
    with gr.Accordion("對最新的回答留言(選填)", open=False, elem_id="feedback-box"):
        comment = gr.Textbox(
            label="意見", show_label=False, placeholder="例如:答案不完整、引用的條文不對……",
            lines=2, max_length=MAX_COMMENT, elem_id="comment",
        )
        send_comment = gr.Button("送出意見", elem_id="send-comment")
    status = gr.Markdown(elem_id="feedback-status")

    private = {"api_visibility": "private"}
    shown = [chatbot, menu, md, docx]
    turn = dict(fn=respond, inputs=[box, store], outputs=[box, chatbot, store, menu, md, docx, switch],
                show_progress="hidden", concurrency_id="assistant", **private)
    # Enter and 提問 are one listener, so one turn at a time; a question sent while a turn is still
    # running (its suggestions come after the answer) runs after it instead of being dropped, which
    # is what Gradio's default trigger mode ("once") does.
    gr.on([box.submit, send.click], trigger_mode="always_last", **turn)
    chatbot.example_select(pick_example, None, box, queue=False, **private).then(**turn)
    chatbot.like(on_like, [store, rows], [rows, status], **private)
    send_comment.click(on_comment, [comment, store, rows], [comment, rows, status], **private)
    menu.input(pick, [menu, store], [store, *shown], queue=False, **private)
    new.click(new_chat, store, [store, *shown, status], queue=False, **private)
    remove.click(delete_chat, store, [store, *shown, status], queue=False, **private)
    demo.load(load, store, [store, *shown, switch], queue=False, show_progress="hidden", **private)
    return {"chatbot": chatbot, "show": show}
