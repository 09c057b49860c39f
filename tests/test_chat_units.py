"""Issue 13's pure parts: display script, lists, no ids on screen, conversations and their
export, what cannot be asked, follow-up questions (real corpus and assistant where it matters)."""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace
from html.parser import HTMLParser

import pytest

from assistant.answering.records import Answer, Citation
from assistant.apps.web import conversations as convs
from assistant.apps.web.chat import screen
from assistant.apps.web.followups import question_for, suggest
from assistant.apps.web.render import (
    list_intro,
    list_items,
    render_answer,
    render_card,
    render_question,
    render_toc,
)
from assistant.apps.web.script import (
    SIMPLIFIED,
    TRADITIONAL,
    char_table,
    question_script,
    to_script,
)

ROTATION = "鄉鎮紀委書記任滿幾年必須交流?"
ID = re.compile(r"\bd\d+-s\d+(?:-ss\d+)?(?:-c\d+)?\b")


class _Text(HTMLParser):
    """The text a reader sees: no tags, attributes or hidden copy sources."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag == "span" and ("class", "copy-src") in attrs or self.hidden:
            self.hidden += 1

    def handle_endtag(self, tag):
        if self.hidden:
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def visible(markup: str) -> str:
    p = _Text()
    p.feed(markup)
    return "".join(p.parts)


def test_script_of_a_question_and_display_conversion():
    assert question_script("乡镇纪委书记任满几年必须交流?") == SIMPLIFIED
    assert question_script(ROTATION) == TRADITIONAL
    assert question_script("What is this?") is None and question_script("2024") is None
    assert to_script("鄉鎮紀委書記", SIMPLIFIED) == "乡镇纪委书记"
    assert to_script("鄉鎮紀委書記", TRADITIONAL) == "鄉鎮紀委書記" and to_script("鄉鎮", None) == "鄉鎮"
    table = char_table()
    assert table["鄉"] == "乡" and table["書"] == "书" and "乡" not in table


def test_simplified_card_shows_converted_text_and_copies_the_original(assistant_instance):
    answer = assistant_instance.ask("乡镇纪委书记任满几年必须交流?")
    markup = render_answer(answer, script=SIMPLIFIED)
    shown = visible(markup)
    assert "任满10年的必须交流" in shown and "出处" in shown and "《关于加强乡镇纪检组织建设的指导意见》" in shown
    assert "条文以简体显示" in shown and "鄉" not in shown  # the card says it is converted
    titles = re.findall(r'class="copy-cite" title="([^"]*)"', markup)
    assert titles and html.unescape(titles[0]).startswith("《關于加強鄉鎮紀檢組織建設的指導意見》")
    copy = re.search(r'<span class="copy-src">(.*?)</span>', markup, re.DOTALL)[1]
    assert "任滿10年的必須交流" in html.unescape(copy) and "第6條" in html.unescape(copy)
    traditional = visible(render_answer(answer, script=TRADITIONAL))
    assert "任滿10年的必須交流" in traditional and "条文以简体显示" not in traditional


def test_no_internal_id_is_shown(assistant_instance, corpus):
    answer = assistant_instance.ask(ROTATION)
    refusal = assistant_instance.ask("公務員的年終獎金怎麼算?")
    assert refusal.refused and refusal.see_also
    for markup in (render_answer(answer), render_answer(refusal), render_toc(corpus),
                   render_card(answer.citations[0], answer=answer.answer)):
        assert not ID.search(visible(markup)), ID.search(visible(markup))
        assert 'href="?clause=' in markup  # the id stays in the link


def test_a_sections_list_is_introduced_by_its_heading_not_numbered_with_it(assistant_instance):
    """An outline answer: the words naming the set (cited first) and the section heading come
    before the list, each item numbered with the card that holds it."""
    answer = assistant_instance.ask("三河市實施的“四項工程”是哪四項?")
    intro = list_intro(answer)
    assert intro.startswith("在全市深入實施") and intro.endswith("二、實施“四項工程”的主要內容和工作舉措")
    items = list_items(answer)
    assert [n for _, n in items] == [2, 3, 4, 5] and items[0][0].startswith("實施“領頭雁”工程")
    markup = render_answer(answer)
    assert markup.count("<li>") == 4 and 'class="list-intro"' in markup
    assert "(以下簡稱“四項工程”)<sup class=\"cite-mark\">[1]</sup>。二、" in markup
    plain = assistant_instance.ask("“標桿工程”具體包括哪幾項工作?")  # heading only, items cited in order
    assert list_intro(plain).startswith("(四)") and [n for _, n in list_items(plain)] == [1, 2, 3]


def test_an_enumeration_is_a_numbered_list_with_citation_marks(corpus):
    c = corpus.clause("d4-s3-c7")
    items = [p for p in re.split(r"[;;]", c.text) if p.strip()][:4]
    assert len(items) == 4
    cite = Citation(c.id, c.label, c.doc_title, c.section, c.ref, c.text, c.text, 1.0, c.subsection)
    answer = Answer("職責有哪些?", ";".join(items), False, [cite])
    got = list_items(answer)
    assert [n for _, n in got] == [1, 1, 1, 1] and got[1][0] == items[1].strip()
    markup = render_answer(answer)
    assert markup.count("<li>") == 4 and '<ol class="short-answer answer-list">' in markup
    assert markup.count('<sup class="cite-mark">[1]</sup>') == 4 and "[1] 《" in markup
    assert list_items(replace(answer, answer="任滿10年的必須交流")) == []
    assert "<ol" not in render_answer(replace(answer, answer="任滿10年的必須交流"))


def test_what_cannot_be_asked_gets_a_chinese_message():
    english = screen("How many years before a township discipline secretary must rotate?")
    assert english.refused and "請用中文提問" in english.answer
    for nothing in ("😀😀", "???", "  "):
        got = screen(nothing)
        assert got.refused and got.answer == "請輸入一個關於指引內容的問題。" and not got.note
    assert screen(ROTATION) is None and screen("乡镇 GDP?") is None
    markup = render_answer(Answer("😀", "請輸入一個關於指引內容的問題。", True, [], note="empty question"))
    assert "empty question" not in markup  # a note for scripts is not shown to a reader


def test_control_characters_are_not_echoed():
    shown = visible(render_question("甲\x00乙\x1b[31m丙\u200b\n丁"))
    assert shown == "甲乙[31m丙\n丁"


def _turn_store(assistant_instance):
    store = convs.empty_store()
    answer = assistant_instance.ask(ROTATION)
    return convs.add_turn(store, ROTATION, answer, ["任滿多少屆的應適當交流?"]), answer


def test_conversations_are_checked_kept_and_deleted(assistant_instance):
    store, answer = _turn_store(assistant_instance)
    conv = convs.current(store)
    assert conv and conv["turns"][0]["q"] == ROTATION and "timing_ms" not in conv["turns"][0]["a"]
    again = convs.clean_store(json.loads(json.dumps(store)))  # as the browser sends it back
    assert again == store
    assert convs.answer_from(again["conversations"][0]["turns"][0]["a"]).citations[0].id == "d4-s2-c6"
    hostile = {"script": "<b>", "current": 5, "conversations": [
        "x", {"id": "a", "turns": [{"q": "問", "a": {"answer": 3}}]}, {"id": "", "turns": []},
        {"id": conv["id"], "turns": [*conv["turns"], {"q": "", "a": {}}], "updated": "soon"}]}
    clean = convs.clean_store(hostile)
    assert clean["script"] is None and clean["current"] is None
    assert [c["id"] for c in clean["conversations"]] == [conv["id"]] and len(clean["conversations"][0]["turns"]) == 1
    second = convs.add_turn({**store, "current": None}, "第二個問題", answer, [])
    assert len(second["conversations"]) == 2 and convs.choices(second)[0][0].startswith("第二個問題")
    gone = convs.delete(second, second["current"])
    assert [c["id"] for c in gone["conversations"]] == [conv["id"]] and gone["current"] is None
    big = second
    for i in range(200):  # the store the browser sends back stays far below the request limit
        big = convs.add_turn({**big, "current": None}, f"問題{i}", answer, [])
    assert len(json.dumps(big, ensure_ascii=False).encode()) <= convs.MAX_STORE_BYTES
    assert len(big["conversations"]) <= convs.MAX_CONVERSATIONS


def test_export_as_markdown_and_word_holds_answer_and_citation(assistant_instance, tmp_path):
    from docx import Document as Docx

    store, answer = _turn_store(assistant_instance)
    conv = convs.current(store)
    md = convs.to_markdown(conv)
    assert "任滿10年的必須交流" in md and "關于加強鄉鎮紀檢組織建設的指導意見" in md and "第6條" in md
    assert answer.citations[0].text[:20] in md
    path = tmp_path / "c.docx"
    convs.to_docx(conv, str(path))
    text = "\n".join(p.text for p in Docx(str(path)).paragraphs)
    assert "任滿10年的必須交流" in text and "第6條" in text and answer.citations[0].text in text
    plain = convs.answer_text(answer)
    assert plain.startswith("任滿10年的必須交流") and "[1] 《關于加強鄉鎮紀檢組織建設的指導意見》" in plain
    hostile = convs.add_turn(convs.empty_store(), "**粗體** <b>x</b>\x00", answer, [])
    assert "\\*\\*粗體\\*\\* \\<b\\>x\\</b\\>" in convs.to_markdown(convs.current(hostile))
    convs.to_docx(convs.current(hostile), str(tmp_path / "h.docx"))  # control characters do not break Word


def test_follow_up_question_is_a_clause_fragment_with_the_fact_asked(corpus):
    from assistant.quiz.facts import extract_facts

    c = corpus.clause("d4-s2-c6")
    facts = extract_facts(c)
    questions = {f.value: question_for(f) for f in facts}
    assert questions["10年"] == "任滿一屆的應適當交流,任滿多少年的必須交流?"  # a short fragment keeps the one before
    for fact in facts:
        q = question_for(fact)
        if q:  # the clause's own words around the fact, the fact replaced by what asks for it
            asked = next(w for w in ("多少", "多久", "哪個部門") if w in q)
            before, after = q.removesuffix("?").split(asked, 1)
            assert re.search(re.escape(before) + ".{1,15}?" + re.escape(after), c.text), (fact, q)


@pytest.mark.parametrize("question", [ROTATION, "縣財政每年安排多少萬元用於村主要干部基本報酬?", "党员人数达到多少的村应建立党总支?"])
def test_every_follow_up_is_answered(assistant_instance, corpus, question):
    answer = assistant_instance.ask(question)
    got = suggest(assistant_instance, corpus, answer, [question])
    assert 2 <= len(got) <= 3, got
    for q in got:
        reply = assistant_instance.ask(q, history=[question])
        assert not reply.refused and q not in question, (q, reply.answer)
    assert suggest(assistant_instance, corpus, assistant_instance.ask("公務員的年終獎金怎麼算?"), []) == []


def test_a_refused_upload_is_named_as_uploaded():
    from assistant.apps.web.admin import _upload_name, render_add_report
    from assistant.apps.web.live import as_uploaded
    from assistant.services import AddReport, FileResult

    name = _upload_name("../../evil.txt", "/tmp/gradio/abc/evil.txt")
    report = AddReport([FileResult("/tmp/gradio/abc/evil.txt", "evil.txt", "failed", error="cannot be stored",
                                   code="bad_name"),
                        FileResult("/tmp/gradio/def/ok.txt", "ok.txt", "added", clauses=3)])
    shown = render_add_report(as_uploaded(report, {"/tmp/gradio/abc/evil.txt": name, "/tmp/gradio/def/ok.txt": "ok.txt"}))
    assert f'<span class="file-name">{name}</span>:這個檔名不能存入語料庫(以「.」開頭' in shown and name.startswith(".")
    assert "evil.txt</span>:" not in shown.replace(name, "")
