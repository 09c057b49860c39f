"""Issue 13 in real headless Chromium (Debian's /usr/bin/chromium, PyPI playwright): the chat on a
phone, the reader's script, no internal ids, conversations kept in the browser and exported,
follow-up suggestions, and the smaller items. Screenshots go to a temporary folder only."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ROTATION = "鄉鎮紀委書記任滿幾年必須交流?"
ROTATION_SIMPLIFIED = "乡镇纪委书记任满几年必须交流?"
OFF_TOPIC = "公務員的年終獎金怎麼算?"
ID = r"\bd\d+-s\d+(?:-ss\d+)?(?:-c\d+)?\b"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium")


@pytest.fixture(scope="module")
def app(launch_web_app, tmp_path_factory):
    demo, url = launch_web_app(tmp_path_factory.mktemp("chat-fb") / "feedback.sqlite")
    yield url
    demo.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM),
                              args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield b
        b.close()


def open_page(browser, url: str, *, phone: bool = False, ready: str = "visible"):
    size = {"width": 390, "height": 844} if phone else {"width": 1366, "height": 900}
    context = browser.new_context(locale="zh-TW", viewport=size, is_mobile=phone, has_touch=phone,
                                  accept_downloads=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url.rstrip("/"))
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(url)
    page.wait_for_selector("#question textarea", state=ready)
    return page


@pytest.fixture
def page(browser, app):
    pg = open_page(browser, app)
    yield pg
    assert pg.errors == []
    pg.context.close()


@pytest.fixture
def phone(browser, app):
    pg = open_page(browser, app, phone=True)
    yield pg
    assert pg.errors == []
    pg.context.close()


def ask(page, question: str, *, followups: bool = False):
    """Send *question*; the finished reply (its follow-up suggestions too, when *followups*)."""
    n = page.locator("[data-testid=bot] .answer").count()
    page.fill("#question textarea", question)
    page.keyboard.press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('[data-testid=bot] .answer:not(:has(.caret))').length > n",
        arg=n, timeout=60_000,
    )
    reply = page.locator("[data-testid=bot] .answer").nth(n)
    if followups:
        reply.locator(".followup").first.wait_for(timeout=60_000)
    page.wait_for_timeout(400)  # the page script has scrolled
    return reply


TOP_VISIBLE = """() => {
  const bots = document.querySelectorAll('#chat [data-testid=bot]');
  const last = bots[bots.length - 1];
  const r = last.getBoundingClientRect();
  const x = r.left + 6, y = r.top + 6;
  if (y < 0 || y > innerHeight || x < 0 || x > innerWidth) return false;
  return last.contains(document.elementFromPoint(x, y));
}"""


@pytest.mark.parametrize("question", [ROTATION, OFF_TOPIC])
def test_phone_shows_the_start_of_the_newest_reply(phone, question):
    ask(phone, "縣財政每年安排多少萬元用於村主要干部基本報酬?")  # a long reply above the new one
    reply = ask(phone, question)
    assert phone.evaluate(TOP_VISIBLE), "the top of the newest reply is hidden"
    headline = reply.locator(".refusal, .short-answer").first
    box = headline.bounding_box()
    assert box and 0 <= box["y"] < 844, box
    # nothing floats over the chat: no 「對話」 label, no stock clear button
    assert phone.locator("#chat [data-testid=block-label]").count() == 0 or not phone.locator(
        "#chat [data-testid=block-label]").first.is_visible()
    clear = phone.locator("#chat .top-panel button")  # its label follows Gradio's language
    assert clear.count() == 1 and not clear.first.is_visible()
    if reply.locator(".see-also summary").count():  # 另見相關條文 opens inside its bubble
        reply.locator(".see-also summary").click()
        assert phone.evaluate("""() => {
          const list = [...document.querySelectorAll('#chat .see-also[open] ul')].pop();
          const bubble = list.closest('[data-testid=bot]').getBoundingClientRect(), r = list.getBoundingClientRect();
          return r.left >= bubble.left - 1 && r.right <= bubble.right + 1 && r.bottom <= bubble.bottom + 1;
        }""")


def test_simplified_question_gets_a_simplified_page_and_copy_gives_the_original(page):
    reply = ask(page, ROTATION_SIMPLIFIED)
    text = reply.inner_text()
    assert "任满10年的必须交流" in text and "出处" in text and "条文以简体显示" in text
    assert page.locator("#script-switch input[value='简']").is_checked()  # the first question chose it
    assert "浏览条文" in page.locator("#main-tabs").inner_text() and "指引问答助手" in page.inner_text("body")
    assert page.title() == "指引问答助手"  # the browser tab's name too
    page.locator('#chat button[title="赞"]').first.click()  # Gradio's tooltips: 讚, then its English 「Liked」
    page.locator('#chat button[title="已按赞"]').wait_for()
    reply.locator("button.copy-cite").first.click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("《關于加強鄉鎮紀檢組織建設的指導意見》") and "任滿10年的必須交流" in copied
    reply.locator("button.copy-answer").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("任滿10年的必須交流") and "出處:" in copied and "第6條" in copied
    # the switch flips the whole page back, and the choice is remembered
    page.locator("#script-switch label", has_text="繁").click()
    page.wait_for_function("() => document.querySelector('#chat').innerText.includes('任滿10年的必須交流')")
    page.wait_for_function("() => document.querySelector('#main-tabs').innerText.includes('瀏覽條文')")
    assert "出處" in page.locator("#chat").inner_text() and "指引問答助手" in page.inner_text("body")
    page.locator('#chat button[title="讚"]').first.wait_for()  # (the redrawn chat shows no rating)
    assert page.title() == "指引問答助手"
    page.locator("#script-switch label", has_text="简").click()
    page.wait_for_function("() => document.querySelector('#chat').innerText.includes('任满10年的必须交流')")
    page.click("#tab-browse-button")
    page.wait_for_function("() => document.querySelector('#toc').innerText.includes('关于加强乡镇纪检组织建设')")
    page.reload()
    page.wait_for_selector("#question textarea")
    page.wait_for_function("() => document.querySelector('#chat').innerText.includes('任满10年的必须交流')")
    assert page.locator("#script-switch input[value='简']").is_checked()


def test_no_internal_id_is_visible_on_any_tab(page, app):
    ask(page, ROTATION)
    ask(page, OFF_TOPIC)
    page.locator("[data-testid=bot] .see-also summary").first.click()
    for tab in ("#tab-chat-button", "#tab-browse-button", "#tab-quiz-button"):
        page.click(tab)
        if tab == "#tab-browse-button":
            page.locator("#toc details").first.evaluate("d => d.open = true")
            page.fill("#browse-query textarea", "紀委書記 交流")
            page.keyboard.press("Enter")
            page.locator("#browse-results li").first.wait_for()
        if tab == "#tab-quiz-button":  # an answered item shows its clause
            page.locator("#quiz-kind label", has_text="填空").click()
            page.locator("#quiz-start").click()
            page.locator("#quiz-progress").get_by_text("第 1 /").wait_for(timeout=30_000)
            page.locator("#quiz-answer textarea, #quiz-answer input").first.fill("不知道")
            page.locator("#quiz-submit").click()
            page.locator("#quiz-verdict").wait_for(timeout=30_000)
            assert "在瀏覽條文中查看" in page.locator("#quiz-verdict").inner_text()
        shown = page.inner_text("body")
        assert not re.search(ID, shown), (tab, re.search(ID, shown))


# Latin letters a cadre may see: file types and names, key and unit names, the grading command.
NAMES = re.compile(r"[\w.-]*\.(?:txt|md|docx|pdf|xlsx)\b|\b(?:PDF|Word|Excel|Markdown|Enter|KB|MB)\b"
                   r"|assistant quiz --grade")
ENGLISH = """() => {
  const seen = [];
  const shown = (el) => el && el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })
    && (({ width, height }) => width > 1 && height > 1)(el.getBoundingClientRect());  // not sr-only
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (/[A-Za-z]/.test(n.data) && !el.closest("script, style") && shown(el)) seen.push(n.data.trim());
  }
  for (const el of document.querySelectorAll("[placeholder], [title]")) {
    if (!shown(el)) continue;
    for (const text of [el.getAttribute("placeholder"), el.getAttribute("title")]) if (text) seen.push(text);
  }
  return seen;
}"""


# Text that is visible only for a moment (Gradio's progress overlay, 「Loading...」, a tooltip set
# after a click): every text node with Latin letters that is visible when it is added or changed,
# and every title or placeholder still English 300 ms after it was set (a tooltip takes longer to
# show), kept for the test.
ENGLISH_EVER = """
window.__english = [];
new MutationObserver((records) => {
  const check = (n, text = n.data, el = n.parentElement) => {
    if (!el || !/[A-Za-z]/.test(text || "") || el.closest("script, style")) return;
    const { width, height } = el.getBoundingClientRect();
    if (el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true }) && width > 1 && height > 1) {
      window.__english.push(text.trim());
    }
  };
  for (const m of records) {
    if (m.type === "characterData") check(m.target);
    if (m.type === "attributes") {
      setTimeout(() => check(m.target, m.target.getAttribute(m.attributeName), m.target), 300);
    }
    for (const n of m.addedNodes) {
      if (n.nodeType === Node.TEXT_NODE) check(n);
      if (n.nodeType !== Node.ELEMENT_NODE) continue;
      const walker = document.createTreeWalker(n, NodeFilter.SHOW_TEXT);
      for (let t = walker.nextNode(); t; t = walker.nextNode()) check(t);
    }
  }
}).observe(document, { childList: true, subtree: true, characterData: true,
                        attributes: true, attributeFilter: ["title", "placeholder"] });
"""


def english_on(page) -> list[str]:
    """Visible text (placeholders and tooltips too) with Latin letters beyond :data:`NAMES`."""
    return [t for t in page.evaluate(ENGLISH) if re.search("[A-Za-z]", NAMES.sub("", t))]


def test_no_english_on_any_tab_in_an_english_browser(browser, admin_web_app):
    """Gradio's own words (login form, upload area, footer) follow the page, not the browser:
    an en-US phone sees Chinese on every tab, in every state the test reaches, also for a moment
    while an answer, a search or a quiz is on its way."""
    with admin_web_app() as app:
        context = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844},
                                      is_mobile=True, has_touch=True, accept_downloads=True)
        context.add_init_script(ENGLISH_EVER)
        pg = context.new_page()
        try:
            pg.goto(app.url)
            pg.locator("input[type=password]").wait_for()
            assert "登入" in pg.inner_text("body") and english_on(pg) == []
            pg.locator("input[data-testid=textbox]").fill(app.auth[0])
            pg.locator("input[type=password]").fill(app.auth[1])
            pg.locator("input[type=password]").press("Enter")
            pg.wait_for_selector("#question textarea")
            assert pg.locator("footer").count() == 0  # no 「Use via API · Built with Gradio」
            seen = {"empty chat": english_on(pg)}
            ask(pg, ROTATION)
            pg.locator('#chat button[title="讚"]').first.click()
            pg.locator("#feedback-status").get_by_text("已記錄").wait_for()
            pg.locator("#feedback-box button").first.click()
            seen["chat"] = english_on(pg)
            pg.click("#tab-browse-button")
            pg.fill("#browse-query textarea", "紀委書記 交流")
            pg.keyboard.press("Enter")
            pg.locator("#browse-results li").first.wait_for()
            pg.locator("#toc details").first.evaluate("d => d.open = true")
            seen["browse"] = english_on(pg)
            pg.click("#tab-quiz-button")
            pg.locator("#quiz-start").click()
            pg.locator("#quiz-progress").get_by_text("第 1 /").wait_for(timeout=30_000)
            seen["quiz question"] = english_on(pg)
            box = pg.locator("#quiz-answer textarea, #quiz-answer input").first
            if box.is_visible():
                box.fill("不知道")
            else:
                pg.locator("#quiz-options label").first.click()
            pg.locator("#quiz-submit").click()
            pg.locator("#quiz-verdict").wait_for(timeout=30_000)
            pg.locator("#quiz-download-box button").first.click()
            pg.locator("#quiz-download").click()
            pg.locator("#quiz-files a").first.wait_for(timeout=60_000)
            seen["quiz answered, files"] = english_on(pg)
            pg.click("#tab-admin-button")
            pg.locator("#admin-docs tr").first.wait_for()
            assert pg.locator("#admin-files").get_by_text("拖放檔案至此處").is_visible()  # not 「Drop File Here」
            seen["admin"] = english_on(pg)
            pg.set_viewport_size({"width": 1366, "height": 900})  # the footer would show its words here
            pg.click("#tab-chat-button")
            seen["desktop"] = english_on(pg)
            assert pg.locator("footer").count() == 0
            ever = pg.evaluate("window.__english")
            seen["at any moment"] = sorted({t for t in ever if re.search("[A-Za-z]", NAMES.sub("", t))})
            assert {where: found for where, found in seen.items() if found} == {}
        finally:
            context.close()


def test_history_survives_a_reload_and_exports(page, tmp_path):
    from docx import Document as Docx

    ask(page, ROTATION)
    page.reload()  # at once: the turn is kept as soon as it is answered
    page.wait_for_selector("#question textarea")
    page.wait_for_function("() => document.querySelector('#chat').innerText.includes('任滿10年的必須交流')")
    with page.expect_download() as got:
        page.click("#export-md")
    md = Path(got.value.path()).read_text(encoding="utf-8")
    assert got.value.suggested_filename.endswith(".md")
    assert "任滿10年的必須交流" in md and "關于加強鄉鎮紀檢組織建設的指導意見" in md and "第6條" in md
    with page.expect_download() as got:
        page.click("#export-docx")
    assert got.value.suggested_filename.endswith(".docx")
    got.value.save_as(tmp_path / "c.docx")
    words = "\n".join(p.text for p in Docx(str(tmp_path / "c.docx")).paragraphs)
    assert "任滿10年的必須交流" in words and "第6條" in words

    # 新對話 starts an empty chat; the first stays in the menu, and can be opened and deleted
    page.click("#new-chat")
    page.wait_for_function("() => !document.querySelector('#chat').innerText.includes('任滿10年')")
    ask(page, "党员人数达到多少的村应建立党总支?")
    page.reload()
    page.wait_for_selector("#question textarea")
    page.wait_for_function("() => document.querySelector('#chat').innerText.includes('50名')")
    page.click("#conversations input")
    options = page.locator("[role=option]")
    options.first.wait_for()
    assert options.count() == 2
    page.locator("[role=option]", has_text="鄉鎮紀委書記任滿幾年").click()
    page.wait_for_function("() => document.querySelector('#chat').innerText.includes('任滿10年的必須交流')")
    page.click("#delete-chat")
    page.wait_for_function("() => !document.querySelector('#chat').innerText.includes('任滿10年')")
    page.reload()
    page.wait_for_selector("#question textarea")
    page.click("#conversations input")
    page.locator("[role=option]").first.wait_for()
    assert page.locator("[role=option]").count() == 1


def test_every_follow_up_suggestion_is_answered(page, assistant_instance):
    reply = ask(page, ROTATION, followups=True)
    asked = [b.get_attribute("title") for b in reply.locator(".followup").all()]
    assert 2 <= len(asked) <= 3
    for q in asked:  # the question as the page would send it, after the first one
        assert not assistant_instance.ask(q, history=[ROTATION]).refused, q
    reply.locator(".followup").first.click()
    page.wait_for_function("() => document.querySelectorAll('[data-testid=bot] .answer').length >= 2")
    second = page.locator("[data-testid=bot] .answer").nth(1)
    second.locator(".short-answer").wait_for()
    assert second.locator(".refusal").count() == 0


def test_a_question_sent_while_suggestions_are_coming_is_answered(page, monkeypatch):
    """The answer shows before its follow-up suggestions are found. What a reader types in that
    moment is never erased, and a question sent then (Enter or 提問) is answered after it."""
    import time

    from assistant.apps.web import chat

    found = chat.suggest

    def slow(*args, **kwargs):  # a loaded server: the suggestions take a while
        time.sleep(3)
        return found(*args, **kwargs)

    monkeypatch.setattr(chat, "suggest", slow)
    pay = "縣財政每年安排多少萬元用於村主要干部基本報酬?"
    red_cross = "市、縣兩級紅十字會的“三定”工作要配合哪個部門來做?"
    first = ask(page, ROTATION)  # returns once the answer is complete; its suggestions are pending
    assert first.locator(".followup").count() == 0, "the suggestions were not slowed"
    page.fill("#question textarea", "還想問")
    first.locator(".followup").first.wait_for(timeout=60_000)
    assert page.input_value("#question textarea") == "還想問"
    ask(page, pay)
    page.fill("#question textarea", red_cross)
    page.keyboard.press("Enter")  # while the suggestions for the answer above are still coming
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=bot] .answer:not(:has(.caret))').length >= 3",
        timeout=60_000)
    asked = [q.strip() for q in page.locator("[data-testid=user] .user-q").all_inner_texts()]
    assert asked == [ROTATION, pay, red_cross]
    assert "機構編制" in page.locator("[data-testid=bot] .answer").nth(2).inner_text()


def test_english_emoji_long_and_control_characters_get_chinese_messages(page):
    english = ask(page, "How many years must a township discipline secretary serve?")
    assert "請用中文提問" in english.inner_text() and english.locator(".followup").count() == 3
    emoji = ask(page, "😀😀")
    assert "請輸入一個關於指引內容的問題" in emoji.inner_text()
    assert "empty question" not in page.inner_text("body")
    long = ask(page, ROTATION + "甲" * 600)
    assert "只依前 500 字作答" in long.inner_text()
    ask(page, "鄉鎮紀委書記\x07任滿幾年\x1b必須交流?")
    assert "\x07" not in page.locator("#chat").inner_text() and "\x1b" not in page.locator("#chat").inner_text()


def test_a_bad_deep_link_says_the_clause_does_not_exist(browser, app):
    page = open_page(browser, app + "?clause=d9-s9-c99", ready="attached")
    page.locator("#clause-missing").wait_for()
    assert "不存在" in page.locator("#clause-missing").inner_text()
    assert not re.search(ID, page.inner_text("body"))
    page.click("#tab-chat-button")  # the link waits for its clause, but not against the reader
    page.wait_for_timeout(1000)
    assert page.get_attribute("#tab-chat-button", "aria-selected") == "true"
    page.context.close()
