"""The 測驗 tab in a real browser: a cadre answers one item right and one wrong, sees the running
score and the cited clause, finishes the quiz, reviews the wrong answer and retries it.

Runs headless Debian chromium (/usr/bin/chromium) through PyPI playwright; browsers are never
downloaded. Skipped when chromium or playwright is missing.
"""

from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

CHROMIUM = Path("/usr/bin/chromium")
# Never a tracked file unless ASSISTANT_SCREENSHOTS=evals/reports/screenshots asks for it.
SCREENSHOT = Path(os.environ.get("ASSISTANT_SCREENSHOTS") or Path(tempfile.gettempdir()) / "assistant-screenshots") / "quiz.png"
SEED = 7
DOC = "d4"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium")
sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    import gradio as gr

    from assistant.apps.web.quiz_tab import build_quiz_tab
    from assistant.corpus.store import load_corpus

    with gr.Blocks(title="測驗") as demo:
        with gr.Tab("測驗"):
            build_quiz_tab(load_corpus(), seed=SEED)
    port = _free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


@pytest.fixture()
def page(app_url: str):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1100, "height": 1400}, locale="zh-TW")
        page.goto(app_url)
        page.get_by_role("button", name="開始測驗").wait_for(timeout=30_000)
        try:
            yield page
        finally:
            browser.close()


def _answer_choice(page, label: str) -> None:
    page.locator("#quiz-options label", has_text=label).click()
    page.locator("#quiz-submit").click()
    page.locator("#quiz-verdict").wait_for(timeout=15_000)


def _next(page) -> None:
    page.locator("#quiz-next").click()


def test_quiz_tab_right_wrong_score_citation_retry(page) -> None:
    from assistant.corpus.store import load_corpus
    from assistant.quiz.facts import LETTERS
    from assistant.quiz.sampling import build_quiz

    expected = build_quiz(load_corpus(), 5, doc=DOC, kind="choice", seed=SEED).items
    assert len(expected) == 5

    # choose document 4 and single-choice questions, keep 5 items
    page.locator("#quiz-doc input").click()
    page.get_by_role("option", name="第4篇", exact=False).click()
    page.locator("#quiz-kind label", has_text="單選").click()
    page.locator("#quiz-start").click()
    progress = page.locator("#quiz-progress")
    progress.get_by_text("第 1 / 5 題").wait_for(timeout=15_000)
    assert expected[0].stem in page.locator("#quiz-stem").inner_text()

    # 1: right
    first = expected[0]
    _answer_choice(page, f"{LETTERS[first.options.index(first.answer)]}. {first.answer}")
    feedback = page.locator("#quiz-feedback")
    assert "回答正確" in feedback.inner_text()
    assert "目前得分 1 / 1" in progress.inner_text()

    # 2: wrong — the feedback shows the key and the cited clause
    _next(page)
    progress.get_by_text("第 2 / 5 題").wait_for(timeout=15_000)
    second = expected[1]
    wrong = next(o for o in second.options if o != second.answer)
    _answer_choice(page, f"{LETTERS[second.options.index(wrong)]}. {wrong}")
    text = feedback.inner_text()
    assert "回答錯誤" in text and second.answer in text
    assert second.citation.label in text
    assert second.citation.text[:30] in text  # the clause itself, not only its label
    assert "目前得分 1 / 2" in progress.inner_text()
    assert page.locator("#quiz-feedback mark").inner_text() == second.answer
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    # 3–5: right; then the final score and the review of the wrong one
    for k in (2, 3, 4):
        _next(page)
        progress.get_by_text(f"第 {k + 1} / 5 題").wait_for(timeout=15_000)
        it = expected[k]
        _answer_choice(page, f"{LETTERS[it.options.index(it.answer)]}. {it.answer}")
    page.locator("#quiz-next").get_by_text("查看成績").wait_for()
    _next(page)
    result = page.locator("#quiz-result")
    result.get_by_text("本輪得分:4 / 5").wait_for(timeout=15_000)
    assert second.stem in result.inner_text()

    # retry only the wrong answer
    page.locator("#quiz-retry").click()
    progress.get_by_text("第 1 / 1 題").wait_for(timeout=15_000)
    assert "重做錯題" in progress.inner_text()
    assert second.stem in page.locator("#quiz-stem").inner_text()


def test_cloze_answer_typed_in_simplified_full_width(page) -> None:
    from assistant.corpus.store import load_corpus
    from assistant.quiz.sampling import build_quiz
    from assistant.text import normalize

    first = build_quiz(load_corpus(), 5, doc=DOC, kind="cloze", seed=SEED).items[0]
    typed = normalize(first.answer).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    page.locator("#quiz-doc input").click()
    page.get_by_role("option", name="第4篇", exact=False).click()
    page.locator("#quiz-kind label", has_text="填空").click()
    page.locator("#quiz-start").click()
    page.locator("#quiz-progress").get_by_text("第 1 / 5 題").wait_for(timeout=15_000)
    page.locator("#quiz-answer textarea, #quiz-answer input").first.fill(f" {typed}。")
    page.locator("#quiz-submit").click()
    page.locator("#quiz-verdict").wait_for(timeout=15_000)
    assert "回答正確" in page.locator("#quiz-feedback").inner_text()
    assert "目前得分 1 / 1" in page.locator("#quiz-progress").inner_text()


# Phrases OpenCC converts differently as a whole than character by character (计划, not 计画; 反复,
# not 反覆): the seed corpus has none, so the test puts them into the quiz it draws.
PHRASES = "【按計畫反覆研讀】"


@pytest.fixture(scope="module")
def full_app(launch_web_app, tmp_path_factory) -> Iterator[str]:
    demo, url = launch_web_app(tmp_path_factory.mktemp("quiz-script") / "feedback.sqlite")
    yield url
    demo.close()


def test_simplified_quiz_is_converted_on_the_server_phrase_by_phrase(full_app, monkeypatch) -> None:
    """The 繁/简 switch redraws the quiz (question, options, verdict, explanation, cited clause) with
    OpenCC ``t2s`` on the server, as the chat and 瀏覽條文 are; the page's character table would
    have written 计画/反覆. Items drawn while 简 is on come in 简, and 繁 brings the original back."""
    from dataclasses import replace

    from assistant.apps.web import quiz_tab
    from assistant.apps.web.script import SIMPLIFIED, char_table, to_script
    from assistant.corpus.store import load_corpus
    from assistant.quiz.facts import LETTERS

    drawn = quiz_tab.build_quiz

    def with_phrases(*args, **kwargs):
        quiz = drawn(*args, **{**kwargs, "seed": SEED})
        items = [replace(it, stem=PHRASES + it.stem, explanation=PHRASES + it.explanation) for it in quiz.items]
        return replace(quiz, items=items)

    monkeypatch.setattr(quiz_tab, "build_quiz", with_phrases)  # the running app draws through it
    expected = with_phrases(load_corpus(), 5, doc=DOC, kind="choice").items

    def simplified(text: str) -> str:
        return to_script(text, SIMPLIFIED)

    by_char = "".join(char_table().get(ch, ch) for ch in PHRASES)
    assert simplified(PHRASES) == "【按计划反复研读】" and by_char != simplified(PHRASES)

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-TW")
            page.goto(full_app)
            page.locator("#question textarea").wait_for(timeout=30_000)
            page.click("#tab-quiz-button")
            page.locator("#quiz-doc input").click()
            page.get_by_role("option", name="第4篇", exact=False).click()
            page.locator("#quiz-kind label", has_text="單選").click()
            page.locator("#quiz-start").click()
            progress, stem = page.locator("#quiz-progress"), page.locator("#quiz-stem")
            progress.get_by_text("第 1 / 5 題").wait_for(timeout=15_000)
            first = expected[0]
            assert stem.inner_text().strip() == first.stem  # 繁: as written

            page.locator("#script-switch label", has_text="简").click()
            progress.get_by_text("第 1 / 5 题").wait_for(timeout=15_000)
            assert stem.inner_text().strip() == simplified(first.stem)
            assert "【按计划反复研读】" in stem.inner_text()
            labels = [t.strip() for t in page.locator("#quiz-options label").all_inner_texts()]
            assert labels == [f"{LETTERS[i]}. {simplified(o)}" for i, o in enumerate(first.options)]
            doc = next(d for d in load_corpus().documents if d.id == DOC)
            assert page.locator("#quiz-doc input").input_value() == simplified(f"第{doc.number}篇 {doc.title}")

            wrong = next(o for o in first.options if o != first.answer)
            page.locator("#quiz-options label", has_text=f"{LETTERS[first.options.index(wrong)]}. {simplified(wrong)}").click()
            page.locator("#quiz-submit").click()
            verdict = page.locator("#quiz-verdict")
            verdict.wait_for(timeout=15_000)
            text = verdict.inner_text()
            assert "回答错误" in text and simplified("說明:" + first.explanation) in text
            assert f"你的答案:「{LETTERS[first.options.index(wrong)]}. {simplified(wrong)}」" in text
            assert simplified("出處:" + first.citation.label) in text
            assert simplified(first.citation.text) in text.replace("\n", "")

            page.locator("#script-switch label", has_text="繁").click()  # the original comes back
            progress.get_by_text("第 1 / 5 題").wait_for(timeout=15_000)
            text = page.locator("#quiz-verdict").inner_text()
            assert "說明:" + first.explanation in text and first.citation.text in text.replace("\n", "")
            assert stem.inner_text().strip() == first.stem

            page.locator("#script-switch label", has_text="简").click()
            progress.get_by_text("第 1 / 5 题").wait_for(timeout=15_000)
            page.locator("#quiz-next").click()  # drawn while 简 is on
            progress.get_by_text("第 2 / 5 题").wait_for(timeout=15_000)
            assert stem.inner_text().strip() == simplified(expected[1].stem)
        finally:
            browser.close()
