"""Answers in parts (assistant.answering.parts): numbered shorthands spelled out where the text
does, one sentence per subject of a 「各/分别」 question, and a record date in the document's own
wording. Pure functions on invented text first, then the real pipeline on wordings that were not
used to write the mechanisms."""

from __future__ import annotations

import pytest

from assistant.answering.parts import asked_subjects, expand_shorthand, shorthand_names, subject_sentence
from assistant.answering.question import date_key
from assistant.text import normalize


def test_shorthand_spelled_out_in_brackets_after_its_quoted_name() -> None:
    text = "实行“三考”(考德、考能、考绩),择优任用。"
    assert shorthand_names("三考是哪三考", text) == ["三考"]
    [(a, b)] = expand_shorthand("三考", text)
    assert text[a:b] == "“三考”(考德、考能、考绩)"


def test_shorthand_spelled_out_as_quoted_phrases_sharing_its_word() -> None:
    text = "落实“两有”要求,做到“学习有计划”,实现“工作有目标”。"
    spans = expand_shorthand("两有", text)
    assert [text[a:b] for a, b in spans] == ["“学习有计划”", "“工作有目标”"]


def test_a_count_that_does_not_match_is_not_the_names_list() -> None:
    assert expand_shorthand("三考", "实行“三考”(考德、考能),择优任用。") is None
    assert expand_shorthand("三有", "做到“学习有计划”。") is None


def test_a_numeral_the_text_does_not_quote_is_a_quantity_not_a_name() -> None:
    assert shorthand_names("三年以后达到什么程度", "力争三年全覆盖,实现“一年见效”。") == []


def test_a_shorthand_inside_a_longer_name_the_question_quotes_is_part_of_that_name() -> None:
    text = "推行“两述一评”制度,通过“两述”(述职、述廉)、“一评”(民主评议)。"
    assert shorthand_names("“两述一评”里的两述指什么", text) == ["两述"]


@pytest.mark.parametrize("question, subjects", [
    ("县级、乡级纪委书记分别由谁提名", ["县级", "乡级纪委书记"]),
    ("专职委员、兼职委员和候补委员各有几名", ["专职委员", "兼职委员", "候补委员"]),
    ("单位主要负责人和工会主席各自的任期是几年", []),  # two subjects, but not listed with 、
    ("各级党组织要怎么做", []),
])
def test_subjects_a_question_lists_before_each(question: str, subjects: list[str]) -> None:
    assert asked_subjects(question) == subjects


def test_the_sentence_stating_a_subject_gives_the_asked_value() -> None:
    text = "专职委员和兼职委员由大会选举。其中专职委员三名,兼职委员五名。候补委员另定。"
    wants_number = lambda s: any(ch in s for ch in "三五")
    a, b = subject_sentence("兼职委员", text, wants_number)
    assert text[a:b] == "其中专职委员三名,兼职委员五名。"
    assert subject_sentence("候补委员", text, wants_number) is None


def test_dates_in_chinese_numerals_are_read_to_the_day() -> None:
    assert date_key(normalize("二〇一一年十月九日")) == (2011, 10, 9)
    assert date_key(normalize("落款:二〇〇九年十二月三十一日")) == (2009, 12, 31)


@pytest.mark.parametrize("question, items", [
    ("“五規范”包括哪些規范?", ["黨組織設置規范", "硬件內容規范", "制度內容規范", "上墻內容規范", "作用發揮規范"]),
    ("四考是指考哪幾樣", ["考素質", "考能力", "考貢獻", "考口碑"]),
])
def test_a_shorthand_question_gets_every_item(assistant_instance, question: str, items: list[str]) -> None:
    answer = assistant_instance.ask(question)
    assert not answer.refused and all(i in answer.answer for i in items), answer.answer
    cited = answer.citations[0]
    assert cited.quote in cited.text


def test_each_subject_gets_its_own_value(assistant_instance) -> None:
    answer = assistant_instance.ask("村兩委主要干部、其他村兩委班子成員每年分別要培訓幾天?")
    assert "7天" in answer.answer and "3天" in answer.answer, answer.answer
    assert all(c.quote in c.text for c in answer.citations)


def test_a_record_date_also_quotes_the_documents_own_wording(assistant_instance) -> None:
    answer = assistant_instance.ask("紅十字會總會那份意見落款日期是哪天?")
    assert "二〇一〇年九月十三日" in answer.answer, answer.answer
    assert answer.citations[0].quote in answer.citations[0].text


@pytest.mark.parametrize("word, text, held", [
    ("团委", "共青团委员会要加强指导", True),
    ("纪检", "纪律检查委员会", True),
    ("村支书", "村党支部书记要带头", True),
    ("任期", "一般应任满一届", False),
    ("报酬", "基本工资和津贴", False),
])
def test_a_shortened_name_is_held_by_the_phrase_it_shortens(word: str, text: str, held: bool) -> None:
    from assistant.text import abbreviates
    assert abbreviates(word, text) is held


def test_a_shortened_name_is_not_foreign_to_the_clause_that_spells_it_out(assistant_instance) -> None:
    # 「村主任」 is a word the guidelines use; this clause writes 村委會主任.
    a = assistant_instance
    q = "村主任的基本報酬由誰全額支付?"
    ev = a.answerer.evidence(q, a.searcher.search(q, k=8))
    assert ev[0].hit.clause.id == "d2-s2-ss3-c5"
    assert "村主任" not in a.answerer.support(q, ev[0]).foreign_words


def test_who_is_the_subject_stated_just_before_the_duty_asked(assistant_instance) -> None:
    answer = assistant_instance.ask("基層黨建工作的直接責任人是誰?")
    assert "鄉鎮黨委書記" in answer.answer, answer.answer


def test_a_list_question_about_a_document_gets_the_field_not_the_whole_record(assistant_instance) -> None:
    answer = assistant_instance.ask("群團組織那份意見主送給哪些單位?")
    assert "各高中" in answer.answer and "標題" not in answer.answer, answer.answer


def test_a_verb_the_clause_lacks_weighs_less_than_a_noun_in_the_refusal_gate(assistant_instance, monkeypatch) -> None:
    # 「成立」 where the clause says 建立: how it is put, not what it is about.
    from assistant.answering.extractive import Answerer
    a = assistant_instance
    q = "紅十字會需要成立黨組嗎?"
    ev = a.answerer.evidence(q, a.searcher.search(q, k=8))
    weighted = a.answerer.support(q, ev[0])
    assert weighted.foreign_words == ("成立",)  # still named in a refusal's note
    monkeypatch.setattr(Answerer, "VERB_WEIGHT", 1.0)
    full = a.answerer.support(q, ev[0])
    assert Answerer.VERB_WEIGHT == 1.0 and weighted.foreign < full.foreign
    assert abs(weighted.foreign - 0.9 * full.foreign) < 1e-3
