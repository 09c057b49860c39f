"""The 問答 tab: the chat, its streamed answers with citation cards, 👍/👎 and comments.

The short answer comes first (streamed), then a citation card per cited clause. A refusal says so
plainly and lists the 相關條文. Follow-up questions lean on the earlier questions of the
conversation. 👍/👎 and a comment are stored in SQLite (:mod:`assistant.apps.feedback`).
"""

import logging
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from assistant.apps.web.limits import MAX_COMMENT, MAX_QUESTION
from assistant.apps.web.render import render_answer, render_pending, render_question

if TYPE_CHECKING:
    from assistant.answering.records import Answer
    from assistant.apps.feedback import FeedbackStore

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


def build_chat_tab(live: Any, feedback_store: "FeedbackStore") -> None:
    """The 問答 tab's components and events (inside ``gr.Tab``), answering from *live* (the app's
    :class:`~assistant.apps.web.live.LiveAssistant`). Every event is page-only."""
    import gradio as gr

    def respond(question: str, chat: list, records: dict, history: list):
        """Stream one turn: the question, a placeholder, the growing short answer, then cards."""
        question, clipped = clip_question(question)
        if not question:
            yield gr.skip(), chat, records, history
            return
        chat = [*chat, {"role": "user", "content": render_question(question)},
                {"role": "assistant", "content": render_pending()}]
        yield "", chat, records, history
        stream = getattr(live.assistant, "stream", None)  # LLM mode: verified sentences as they come
        try:
            if stream is None:
                answer = live.assistant.ask(question, history=history)
            else:
                partial = ""
                for event in stream(question, history=history):
                    if isinstance(event, str):
                        partial += event
                        chat[-1] = {"role": "assistant", "content": render_answer(None, partial=partial)}
                        yield "", chat, records, history
                    else:
                        answer = event
        except Exception:  # keep the conversation usable; the traceback goes to the server log
            log.exception("answering %r failed", question)
            chat[-1] = {"role": "assistant", "content": '<div class="refusal">系統暫時無法作答,'
                        "請稍後再試;如持續出現,請聯絡管理員。</div>"}
            yield "", chat, records, history
            return
        answer = with_clip_note(answer, clipped)
        if stream is None and not answer.refused:
            for part in _stream_steps(answer.answer):
                chat[-1] = {"role": "assistant", "content": render_answer(answer, partial=part)}
                yield "", chat, records, history
                time.sleep(0.03)
        chat[-1] = {"role": "assistant", "content": render_answer(answer)}
        records = {**records, len(chat) - 1: {
            "question": question,
            "answer": answer.answer,
            "citations": [c.id for c in answer.citations],
            "refused": answer.refused,
        }}
        yield "", chat, records, [*history, question]

    def store_feedback(rec: dict, row: int | None, **change: Any) -> int:
        """Create the answer's feedback row on first contact, then update that same row."""
        if row is None:
            return feedback_store.add(rec["question"], rec["answer"], rec["citations"],
                                      refused=rec["refused"], **change)
        feedback_store.update(row, **change)
        return row

    def on_like(data: gr.LikeData, records: dict, rows: dict):
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        if index not in records:
            return rows, gr.skip()
        rating = _rating(data.liked)
        rows = {**rows, index: store_feedback(records[index], rows.get(index), rating=rating)}
        msg = {"up": "已記錄 👍,謝謝。", "down": "已記錄 👎,謝謝。"}.get(rating, "已取消評價。")
        return rows, msg + "如有補充,可在下方留言。"

    def on_comment(comment: str, records: dict, rows: dict):
        comment = (comment or "").strip()
        if not comment:
            return gr.skip(), rows, "請先輸入意見內容。"
        if len(comment) > MAX_COMMENT:  # the box stops at MAX_COMMENT; a raw call does not
            return gr.skip(), rows, f"意見最多 {MAX_COMMENT} 字(目前 {len(comment)} 字),請精簡後再送出。"
        if not records:
            return gr.skip(), rows, "請先提問,再對回答留言。"
        index = max(records)  # the comment is about the latest answer
        rows = {**rows, index: store_feedback(records[index], rows.get(index), comment=comment)}
        return "", rows, "意見已記錄,謝謝。"

    def pick_example(ev: gr.SelectData) -> str:
        return ev.value["text"]

    # Per-session state. records is written only by the chat turn and rows only by the
    # feedback handlers, so a rating given while the next answer streams is never lost.
    records = gr.State({})  # assistant-message index → question, answer, cited ids
    rows = gr.State({})  # assistant-message index → its feedback row id
    history = gr.State([])  # earlier questions, for follow-ups
    chatbot = gr.Chatbot(
        label="對話",
        elem_id="chat",
        height="64vh",
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
        box = gr.Textbox(
            show_label=False, placeholder="輸入問題,按 Enter 送出(繁體或簡體均可)",
            max_lines=4, max_length=MAX_QUESTION, scale=8, elem_id="question", autofocus=True,
        )
        send = gr.Button("提問", variant="primary", scale=1, elem_id="ask")
    with gr.Accordion("對最新的回答留言(選填)", open=False, elem_id="feedback-box"):
        comment = gr.Textbox(
            show_label=False, placeholder="例如:答案不完整、引用的條文不對……",
            lines=2, max_length=MAX_COMMENT, elem_id="comment",
        )
        send_comment = gr.Button("送出意見", elem_id="send-comment")
    status = gr.Markdown(elem_id="feedback-status")

    turn = dict(fn=respond, inputs=[box, chatbot, records, history],
                outputs=[box, chatbot, records, history], show_progress="hidden",
                concurrency_id="assistant", api_visibility="private")
    box.submit(**turn)
    send.click(**turn)
    chatbot.example_select(pick_example, None, box, queue=False,
                           api_visibility="private").then(**turn)
    chatbot.like(on_like, [records, rows], [rows, status], api_visibility="private")
    send_comment.click(on_comment, [comment, records, rows], [comment, rows, status],
                       api_visibility="private")
    # The chatbot's own 清空對話 button: forget the conversation for follow-ups, too.
    chatbot.clear(lambda: ({}, {}, [], ""), None, [records, rows, history, status],
                  queue=False, api_visibility="private")
