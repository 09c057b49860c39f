"""The 測驗 tab of the web app: a cadre takes a quiz one item at a time.

Pick a document, the kind of questions and how many; answer; see at once whether it was right,
the key, the explanation and the cited clause (the answer marked in it); at the end the score,
a review of the wrong answers and a button to retry only those. 「下載試卷」 gives the quiz being
taken (or, before one is started, one drawn from the chosen settings) as the files a training
office uses: a Word handout, an Excel workbook (items and key) and a blank Excel answer sheet —
what `assistant quiz --format docx|xlsx --sheet` writes.

``app.py`` calls :func:`build_quiz_tab` inside ``with gr.Tab("測驗"):``. All per-user progress
lives in one ``gr.State``, so concurrent sessions never see each other's quiz. Everything shown
as HTML is escaped: the corpus is text, not markup.

Like the chat and 瀏覽條文, the quiz itself (questions, options, verdicts, explanations, clauses,
documents) is drawn on the server in the reader's script — OpenCC ``t2s`` phrase by phrase for
简 (:func:`~assistant.apps.web.script.to_script`) — and drawn again when the 繁/简 switch flips;
what the reader typed is shown as typed. The page script converts only the fixed labels.
"""

from __future__ import annotations

import html
import random
import re
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.apps.web.script import to_script
from assistant.corpus.records import Corpus
from assistant.quiz.facts import KIND_NAMES, LETTERS
from assistant.quiz.grading import check_answer
from assistant.quiz.items import QuizItem
from assistant.quiz.office import answer_sheet_xlsx, to_docx, to_xlsx
from assistant.quiz.sampling import Quiz, build_quiz

ALL_DOCS = "all"
KIND_CHOICES = [("混合", "mixed"), ("填空", "cloze"), ("單選", "choice"), ("判斷", "truefalse")]
TRUE_FALSE = [("正確", "正確"), ("錯誤", "錯誤")]
DEFAULT_N = 5
MAX_ANSWER = 100  # characters of a typed answer (the box stops there; on_submit enforces it too)

# The class of what the server has already written in the reader's script: the page script's
# character-by-character conversion of the interface leaves it alone (assets.SCRIPT_JS).
IN_SCRIPT = "in-script"

# Inline styles: the tab cannot rely on the app's CSS (app.py owns launch(css=…)). Explicit text
# colours keep the boxes readable in dark mode too.
_OK = "border-left:4px solid #15803d;background:#f0fdf4;color:#14532d"
_BAD = "border-left:4px solid #b91c1c;background:#fef2f2;color:#7f1d1d"
_BOX = "padding:.7em 1em;border-radius:6px;margin:.4em 0;line-height:1.7"
_CITE = "border-left:3px solid #94a3b8;background:#f8fafc;color:#1e293b;padding:.5em .8em;margin:.5em 0 0"


@dataclass
class Session:
    """One cadre's progress (kept in gr.State)."""

    title: str = ""
    items: list[QuizItem] = field(default_factory=list)
    index: int = 0
    given: dict[str, str] = field(default_factory=dict)
    correct: dict[str, bool] = field(default_factory=dict)
    answered: bool = False  # the current item has been answered
    round: int = 1  # 2+ when retrying wrong answers
    quiz: Quiz | None = None  # the quiz drawn (what 「下載試卷」 gives)
    done: bool = False  # the round's score is shown

    @property
    def item(self) -> QuizItem:
        return self.items[self.index]

    @property
    def score(self) -> int:
        return sum(self.correct.values())

    @property
    def wrong(self) -> list[QuizItem]:
        return [it for it in self.items if not self.correct.get(it.id, False)]


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _z(text: Any, script: str | None) -> str:
    """*text* in *script*, escaped."""
    return _e(to_script(str(text), script))


def _progress(s: Session, script: str | None) -> str:
    done = len(s.correct)
    retry = "(重做錯題)" if s.round > 1 else ""
    return (f'<div id="quiz-progress-text" class="{IN_SCRIPT}"><b>{_z(s.title, script)}</b>{_z(retry, script)}<br>'
            + _z(f"第 {s.index + 1} / {len(s.items)} 題 · {KIND_NAMES[s.item.kind]} · "
                 f"目前得分 {s.score} / {done}", script) + "</div>")


def _stem(item: QuizItem, script: str | None) -> str:
    return f'<div class="{IN_SCRIPT}" style="font-size:1.15em;line-height:1.8">{_z(item.stem, script)}</div>'


def _choices(item: QuizItem, script: str | None) -> list[tuple[str, str]]:
    """The options as (shown in *script*, value): the value stays the original, which is graded."""
    if item.kind == "truefalse":
        return [(to_script(label, script), value) for label, value in TRUE_FALSE]
    return [(f"{LETTERS[i]}. {to_script(o, script)}", o) for i, o in enumerate(item.options or ())]


def _options_label(item: QuizItem, script: str | None) -> str:
    return to_script("這句話與原文相符嗎?" if item.kind == "truefalse" else "請選擇一項", script)


def _given(item: QuizItem, given: str, script: str | None) -> str:
    """The answer given, as shown: a picked option in *script* (with its letter); what the reader
    typed stays as typed."""
    if item.kind == "choice" and item.options and given in item.options:
        return f"{LETTERS[item.options.index(given)]}. {to_script(given, script)}"
    if item.kind == "truefalse":
        return to_script(given, script)
    return given


def _marked_clause(item: QuizItem, script: str | None) -> str:
    """The cited clause with the tested words marked (the answer, or the quoted sentence)."""
    text = item.citation.text
    target = str(item.answer) if item.kind != "truefalse" else item.explanation.split("「", 1)[-1].split("」", 1)[0]
    at = text.find(target) if target else -1
    if at < 0:
        return _z(text, script)
    return f"{_z(text[:at], script)}<mark>{_z(target, script)}</mark>{_z(text[at + len(target):], script)}"


def _feedback(item: QuizItem, given: str, ok: bool, script: str | None) -> str:
    z = lambda text: _z(text, script)
    verdict = "✔ 回答正確" if ok else "✘ 回答錯誤"
    mine = "" if ok else f"{z('你的答案:')}「{_e(_given(item, given, script))}」;"
    return (f'<div id="quiz-verdict" class="{IN_SCRIPT}" style="{_OK if ok else _BAD};{_BOX}">'
            f"<b>{z(verdict)}</b><br>{mine}{z('正確答案:')}<b>{z(item.answer_text)}</b><br>"
            f"{z('說明:' + item.explanation)}"
            f'<div style="{_CITE}"><b>{z("出處:" + item.citation.label)}</b>'
            f' <a class="clause-link" href="?clause={_e(item.citation.id)}">{z("在瀏覽條文中查看")}</a><br>'
            f"{_marked_clause(item, script)}</div></div>")


def _result(s: Session, script: str | None) -> str:
    z = lambda text: _z(text, script)
    total = len(s.items)
    pct = 100 * s.score / total if total else 0
    head = (f'<div id="quiz-score" style="{_OK if pct >= 60 else _BAD};{_BOX}">'
            f"<b style='font-size:1.3em'>{z(f'本輪得分:{s.score} / {total}({pct:.0f}%)')}</b></div>")
    if not s.wrong:
        return f'<div class="{IN_SCRIPT}">{head}<p>{z("全部答對,做得好!")}</p></div>'
    rows = []
    for it in s.wrong:
        rows.append(
            f'<li style="margin:.6em 0"><div>{z(it.stem)}</div>'
            f"<div>{z('你的答案:')}「{_e(_given(it, s.given.get(it.id, ''), script))}」 → "
            f"{z('正確答案:')}<b>{z(it.answer_text)}</b></div>"
            f'<div style="{_CITE}">{z("出處:" + it.citation.label)}<br>{z(it.explanation)}</div></li>')
    return (f'<div class="{IN_SCRIPT}">{head}<h4>{z(f"錯題回顧({len(s.wrong)} 題)")}</h4>'
            f"<ol>{''.join(rows)}</ol></div>")


def _question_updates(s: Session, script: str | None) -> tuple:
    """Outputs for showing the current question, unanswered."""
    it = s.item
    if it.kind in ("choice", "truefalse"):
        radio = gr.update(choices=_choices(it, script), value=None, visible=True, interactive=True,
                          label=_options_label(it, script))
    else:
        radio = gr.update(choices=[], value=None, visible=False)
    text = gr.update(value="", visible=it.kind == "cloze", interactive=True)
    return (s, gr.update(visible=True), gr.update(visible=False), _progress(s, script), _stem(it, script), radio,
            text, gr.update(visible=True), "", gr.update(visible=False), "")


def _doc_choices(corpus: Corpus, script: str | None) -> list[tuple[str, str]]:
    return [(to_script("全部五篇文件", script), ALL_DOCS)] + [
        (to_script(f"第{d.number}篇 {d.title}", script), d.id) for d in corpus.documents
    ]


DOWNLOAD_TTL = 30 * 60  # seconds a generated download is kept on the server
_DOWNLOADS = tempfile.TemporaryDirectory(prefix="assistant-quiz-")  # removed when the process exits


def _file_name(title: str) -> str:
    """A title as a file name: no path separators or characters Windows refuses."""
    return re.sub(r'[\\/:*?"<>|\s]+', "_", title).strip("._")[:60] or "quiz"


def quiz_files(quiz: Quiz, corpus: Corpus | None = None, root: Path | None = None) -> list[Path]:
    """The quiz as a Word handout, an Excel workbook and a blank Excel answer sheet, written into a
    fresh folder under *root* (default: this process's download folder, swept of folders older
    than :data:`DOWNLOAD_TTL`)."""
    root = Path(root or _DOWNLOADS.name)
    now = time.time()
    for old in root.iterdir() if root.is_dir() else ():
        if old.is_dir() and now - old.stat().st_mtime > DOWNLOAD_TTL:
            shutil.rmtree(old, ignore_errors=True)
    folder = root / uuid.uuid4().hex
    folder.mkdir(parents=True)
    name = _file_name(quiz.title)
    files = {f"{name}.docx": to_docx(quiz, corpus), f"{name}.xlsx": to_xlsx(quiz),
             f"{name}_答題卡.xlsx": answer_sheet_xlsx(quiz)}
    out = []
    for file_name, data in files.items():
        path = folder / file_name
        path.write_bytes(data)
        out.append(path)
    return out


def build_quiz_tab(corpus: Corpus, *, seed: int | None = None, script: Any = None) -> dict[str, Any]:
    """Build the quiz tab inside the current Blocks/Tab context.

    *seed* fixes the quiz (same settings → same items), e.g. so a whole class takes the same
    quiz, or for tests; by default every 「開始測驗」 draws a new one. *script* is the component
    whose value is the reader's script (the header's 繁/简 switch); without it the quiz is shown
    as written (Traditional).

    Returns the quiz's ``state``, the ``outputs`` its script shows in, and ``show(state, script)``,
    their updates for *script* (for the switch's event).
    """
    gr.Markdown("從指引條文自動出題:每題作答後立即顯示對錯、正確答案和出處條文;"
                "填空題數字可寫阿拉伯數字或漢字,繁簡體均可。")
    with gr.Row():
        doc = gr.Dropdown(_doc_choices(corpus, None), value=ALL_DOCS, label="文件", elem_id="quiz-doc",
                          elem_classes=[IN_SCRIPT], scale=3)
        kind = gr.Radio(KIND_CHOICES, value="mixed", label="題型", elem_id="quiz-kind", scale=2)
        n = gr.Slider(3, 20, value=DEFAULT_N, step=1, label="題數", elem_id="quiz-n", scale=2)
    start = gr.Button("開始測驗", variant="primary", elem_id="quiz-start")
    state = gr.State(None)
    shown_in = script if script is not None else gr.State(None)

    with gr.Column(visible=False) as question_col:
        progress = gr.HTML(elem_id="quiz-progress")
        stem = gr.HTML(elem_id="quiz-stem")
        options = gr.Radio([], label="請選擇一項", visible=False, elem_id="quiz-options", elem_classes=[IN_SCRIPT])
        answer = gr.Textbox(label="請填寫答案", placeholder="例如:10年", visible=False,
                            elem_id="quiz-answer", max_lines=1, max_length=MAX_ANSWER)
        submit = gr.Button("提交答案", variant="primary", elem_id="quiz-submit")
        feedback = gr.HTML(elem_id="quiz-feedback")
        next_btn = gr.Button("下一題", visible=False, elem_id="quiz-next")
    with gr.Column(visible=False) as result_col:
        result = gr.HTML(elem_id="quiz-result")
        retry = gr.Button("重做錯題", visible=False, elem_id="quiz-retry")
    with gr.Accordion("下載試卷(Word 講義、Excel 題目與答案、Excel 答題卡)", open=False, elem_id="quiz-download-box"):
        gr.Markdown("下載正在作答的這份試卷;尚未開始時,按上面選的文件、題型和題數出一份。"
                    "答題卡每行一位學員、每題一欄,填好後可用 `assistant quiz --grade` 評分。")
        download = gr.Button("下載試卷", elem_id="quiz-download")
        files = gr.File(label="試卷檔案", file_count="multiple", interactive=False, elem_id="quiz-files")

    question_outputs = [state, question_col, result_col, progress, stem, options, answer,
                        submit, feedback, next_btn, result]

    def on_start(doc_id: str, kind_value: str, count: float, script: str | None = None) -> tuple:
        quiz = build_quiz(corpus, int(count), doc=None if doc_id == ALL_DOCS else doc_id,
                          kind=kind_value, seed=seed if seed is not None else random.randrange(10**9))
        return _question_updates(Session(quiz.title, list(quiz.items), quiz=quiz), script)

    def on_submit(s: Session | None, picked: str | None, typed: str, script: str | None = None) -> tuple:
        if s is None or s.answered:
            return (s, gr.update(), gr.update(), gr.update(), gr.update(), gr.update(), gr.update())
        it = s.item
        given = typed if it.kind == "cloze" else picked
        if given is None or not str(given).strip():
            return (s, gr.update(), gr.update(), gr.update(), gr.update(),
                    '<div style="color:#b45309">請先作答再提交。</div>', gr.update())
        if len(str(given)) > MAX_ANSWER:  # the box stops there; a raw call does not
            return (s, gr.update(), gr.update(), gr.update(), gr.update(),
                    f'<div style="color:#b45309">答案最多 {MAX_ANSWER} 字,請精簡後再提交。</div>', gr.update())
        given = str(given)
        ok = check_answer(it, given)
        s = replace(s, given={**s.given, it.id: given}, correct={**s.correct, it.id: ok}, answered=True)
        last = s.index == len(s.items) - 1
        return (s, _progress(s, script), gr.update(interactive=False), gr.update(interactive=False),
                gr.update(visible=False), _feedback(it, given, ok, script),
                gr.update(visible=True, value="查看成績" if last else "下一題"))

    def on_next(s: Session | None, script: str | None = None) -> tuple:
        if s is None:
            return tuple(gr.update() for _ in question_outputs)
        if s.index < len(s.items) - 1:
            return _question_updates(replace(s, index=s.index + 1, answered=False), script)
        s = replace(s, done=True)
        return (s, gr.update(visible=False), gr.update(visible=True), gr.update(), gr.update(),
                gr.update(), gr.update(), gr.update(), gr.update(), gr.update(), _result(s, script))

    def on_next_retry_button(s: Session | None) -> Any:
        done = s is not None and s.index == len(s.items) - 1 and s.answered
        return gr.update(visible=bool(done and s.wrong))

    def on_retry(s: Session | None, script: str | None = None) -> tuple:
        if s is None or not s.wrong:
            return tuple(gr.update() for _ in question_outputs)
        return _question_updates(Session(s.title, s.wrong, round=s.round + 1, quiz=s.quiz), script)

    def on_download(s: Session | None, doc_id: str, kind_value: str, count: float) -> list[str]:
        quiz = s.quiz if s is not None and s.quiz is not None else None
        if quiz is None:
            count = min(max(int(count), 3), 20)  # the slider's range, enforced here too
            quiz = build_quiz(corpus, count, doc=None if doc_id == ALL_DOCS else doc_id, kind=kind_value,
                              seed=seed if seed is not None else random.randrange(10**9))
        return [str(p) for p in quiz_files(quiz, corpus)]

    def show(s: Session | None, script: str | None) -> tuple:
        """Updates of the tab's ``outputs`` — the documents, and the quiz as it stands — in *script*."""
        docs = gr.update(choices=_doc_choices(corpus, script))
        if not isinstance(s, Session) or not s.items:
            return (docs, *(gr.skip() for _ in range(5)))
        it = s.item
        radio = (gr.update(choices=_choices(it, script), label=_options_label(it, script))
                 if it.kind in ("choice", "truefalse") else gr.skip())
        verdict = (_feedback(it, s.given[it.id], s.correct[it.id], script)
                   if s.answered and it.id in s.given else gr.skip())
        return (docs, _progress(s, script), _stem(it, script), radio, verdict,
                _result(s, script) if s.done else gr.skip())

    start.click(on_start, [doc, kind, n, shown_in], question_outputs)
    submit.click(on_submit, [state, options, answer, shown_in],
                 [state, progress, options, answer, submit, feedback, next_btn])
    answer.submit(on_submit, [state, options, answer, shown_in],
                  [state, progress, options, answer, submit, feedback, next_btn])
    next_btn.click(on_next, [state, shown_in], question_outputs).then(on_next_retry_button, [state], [retry])
    retry.click(on_retry, [state, shown_in], question_outputs).then(lambda: gr.update(visible=False), None, [retry])
    download.click(on_download, [state, doc, kind, n], [files], api_visibility="private")
    return {"state": state, "outputs": [doc, progress, stem, options, feedback, result], "show": show}
