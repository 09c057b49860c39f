"""What a question asks, read from the question alone, and the outline lists of the corpus:
pure functions, no model. Each case is a class of questions, shown on wordings that were not
used to write the patterns."""

from __future__ import annotations

import pytest

from assistant.answering.collection import asks_collection, asks_which_document, describe, picks_by_date, without_which
from assistant.answering.outline import asked_count, containers, lead, section_ordinal
from assistant.answering.question import (
    BODYISH, DATEISH, asks_condition, asks_list, asks_purpose, asks_yesno, content_words, counted_thing, gives_value, negative_case,
    scope_conflict, states_negative_condition, wanted_value,
)
from assistant.corpus.store import load_corpus
from assistant.text import normalize


@pytest.mark.parametrize("question, kept", [
    ("我是新來的,想問一下鄉鎮紀委書記任滿幾年必須交流?", ["乡镇", "纪委书记", "任满", "必须", "交流"]),
    ("麻煩幫我查一下,村干部培訓幾天", ["村干部", "培训"]),
    ("紀檢委員這個事,文件咋說的?", ["纪检", "委员"]),
    ("您好,請問黨員活動室怎麼規定的?謝謝", ["党员", "活动室"]),
    ("在什麼情況下要設專職紀委副書記", ["专职", "纪委", "书记"]),
    ("組織領導部分提了哪幾條?", ["组织", "领导"]),
    ("“標桿工程”具體包括哪幾項工作?", ["标杆", "工作"]),
])
def test_conversation_around_the_question_is_not_content(question: str, kept: list[str]) -> None:
    words = content_words(question)
    assert all(any(k in w for w in words) for k in kept), words
    chatter = ("新来", "想问", "麻烦", "查一下", "咋说", "您好", "谢谢", "情况", "请问", "部分", "提了", "包括")
    assert not any(c in w for w in words for c in chatter), words


@pytest.mark.parametrize("question, kept", [("關于問責的規定是什麼", "问责"), ("存在的問題有哪些", "问题")])
def test_chatter_does_not_eat_content_words(question: str, kept: str) -> None:
    assert kept in content_words(question)


@pytest.mark.parametrize("question, yesno", [
    ("跨村任職的書記能不能拿幾份報酬?", True), ("村里要不要設紀檢委員", True),
    ("鄉鎮紀委書記可以異地交流嗎?", True), ("是否需要報縣委批準", True),
    ("鄉鎮紀委書記任滿幾年必須交流?", False), ("哪些情況需要備案", False),
])
def test_yes_no_questions_want_the_deciding_sentence_not_a_number(question: str, yesno: bool) -> None:
    q = normalize(question)
    assert asks_yesno(q) == yesno
    if yesno:
        assert wanted_value(q) is None


def test_a_named_unit_of_time_must_be_answered_in_that_unit() -> None:
    years = normalize("紀委書記任滿幾年必須交流")
    assert gives_value(wanted_value(years), normalize("任滿10年的必須交流"), years)
    assert not gives_value(wanted_value(years), normalize("一般應任滿一屆"), years)
    assert not gives_value(wanted_value(years), normalize("2012年底前完成"), years)  # a date
    days = normalize("新任書記要培訓多少天")
    assert gives_value(wanted_value(days), normalize("培訓時間不少于12天"), days)
    months = normalize("試用期幾個月")
    assert gives_value(wanted_value(months), normalize("試用期為六個月"), months)
    assert not gives_value(wanted_value(months), normalize("任期三年"), months)
    when = normalize("這份文件是哪天印發的")
    assert wanted_value(when) is DATEISH


def test_occurrences_counted_in_spoken_measure_words_are_a_count_of_times() -> None:
    # 回/趟/遍 are how people count occurrences; the texts write 次.
    for question in ("縣委一年要聽幾回匯報", "一年集中培訓幾趟", "每年要學習幾遍"):
        q = normalize(question)
        assert gives_value(wanted_value(q), normalize("縣委每年聽取一次專題匯報"), q), question
        assert not gives_value(wanted_value(q), normalize("培訓時間不少于12天"), q), question


@pytest.mark.parametrize("question, listing", [
    ("基本原則是哪三條", True), ("有哪些職責", True), ("分別是什麼", True),
    ("從哪一級開始建立", False), ("是哪一年建立的", False), ("由哪個部門負責", False),
    # one value for each of several things: every value is wanted
    ("鄉鎮干部和村干部每年各培訓多少天", True), ("兩類經費各是多少", True), ("各級紅十字會有幾個", False),
    # 都 gathers several things: all of them are asked
    ("村幹部的補貼都有啥", True), ("考核的內容都是什麼", True), ("這個補貼是什麼", False),
])
def test_list_questions(question: str, listing: bool) -> None:
    assert asks_list(normalize(question)) == listing


@pytest.mark.parametrize("question, n", [
    ("“四項工程”是哪四項", 4), ("要實現哪“三有”", 3), ("力爭在哪六個方面提高", 6),
    ("力争在六个方面明显提高", 6), ("有哪些措施", None), ("哪一年", None),
])
def test_asked_count(question: str, n: int | None) -> None:
    assert asked_count(normalize(question)) == n


@pytest.mark.parametrize("question, n", [
    ("第三部分提了哪幾條措施", 3), ("第二大部分講什麼", 2), ("文件第4章", 4), ("第三次會議", None),
])
def test_section_named_by_position(question: str, n: int | None) -> None:
    assert section_ordinal(normalize(question)) == n


def test_scope_conflict_reads_the_clause_when_the_sentence_names_no_level() -> None:
    q = normalize("市級紀委書記任滿幾年必須交流")
    sentence = normalize("任滿一屆的應適當交流,任滿10年的必須交流。")
    clause = normalize("鄉鎮紀委書記一般應任滿一屆。任滿一屆的應適當交流,任滿10年的必須交流。")
    assert scope_conflict(q, sentence) is None
    assert scope_conflict(q, clause) == ("市", "乡镇")
    assert scope_conflict(normalize("鄉鎮紀委書記任滿幾年必須交流"), clause) is None


def test_outline_lists_what_the_structure_states() -> None:
    corpus = load_corpus()
    found = {(c.doc_id, c.section_no, c.subsection_no): c for c in containers(corpus.passages)}
    # A section whose paragraphs open with leads; the lead-less closing paragraph is left out.
    d1 = found[("d1", 3, None)]
    assert [i.text for i in d1.items] == ["大力開展宣傳工作", "加強溝通協調、爭取各方支持", "大力加強能力建設"]
    # A section made of subsections lists their headings, each cited by its first paragraph.
    d3 = found[("d3", 2, None)]
    assert len(d3.items) == 4 and d3.items[0].text.startswith("實施“領頭雁”工程")
    assert d3.items[0].clause.id == "d3-s2-ss1-c1"
    # A subsection's paragraphs with leads.
    assert [i.text for i in found[("d3", 2, 4)].items] == ["圍繞大局,選好典型", "采取有效形式,宣傳好典型", "立足長遠,培養好典型"]
    # Records and preambles are never containers; every item is verbatim.
    for c in found.values():
        for item in c.items:
            assert item.text in item.clause.text or item.text in (item.clause.subsection or "")
    assert lead(corpus.clause("d4-s2-c6")) == "有計劃地推進干部交流"
    assert lead(corpus.clause("d1-s0-c1")) is None  # a paragraph without a short lead


@pytest.mark.parametrize("question, collection", [
    ("這里一共收了哪幾份文件?", True), ("每份文件的發文單位分別是誰", True), ("這幾份文件里哪幾份是縣委發的", True),
    ("有哪些文件", True), ("紅十字會那份文件的文號是多少", False), ("這些規定適用于哪些單位", False),
    ("鄉鎮紀委書記任滿幾年必須交流", False),
    # A count of documents, or a described set (the issue's own 「這五篇文件分別是誰發的?」); one
    # document by its position is not the collection, nor is a 個 of anything else.
    ("這五篇文件分別是誰發的?", True), ("這5份文件都是哪天印發的", True), ("這幾份黨建文件各是誰發的", True),
    ("第五篇文件是誰發的?", False), ("每個村的意見怎麼收集?", False), ("這份文件是誰發的?", False),
    # A description with 的 between the count and the noun is still the set.
    ("這幾份關於組織建設的文件分別是誰發的?", True), ("这几份讲农村工作的文件是哪年发的", True),
    ("第一份關於紅十字會的文件是誰發的", False),
    # What the assistant holds, in 材料/資料 too; a count after the noun. 材料 a text requires is not.
    ("你這裡都有哪些材料可以查?", True), ("这几份材料的发文单位各是谁?", True), ("關于紀檢的文件有幾份?", True),
    ("申請登記需要提交哪些材料?", False), ("村裡的材料要存檔幾年?", False),
])
def test_questions_about_the_collection(question: str, collection: bool) -> None:
    assert asks_collection(normalize(question)) == collection


@pytest.mark.parametrize("question, which", [
    ("哪份文件是發給學校的?", True), ("關於紀檢的是哪一篇?", True), ("有沒有專門講村干部報酬的文件?", True),
    ("落款日期最晚的是哪份?", True), ("哪個文件講了大學生村官?", True),
    # One document given already: a document it cites, or a part of it, is asked.
    ("云和縣這個意見是為了貫徹省委哪個文件?", False), ("根據哪個文件制定的?", False),
    ("村干部要交哪份材料?", False), ("這份文件的第三部分講什麼?", False), ("哪部分講了經費?", False),
    # 意見 as an opinion: 「有沒有…意見」 is no question about the documents.
    ("鄉鎮紀檢委員有沒有征求群眾意見的要求?", False), ("群眾有沒有權利提意見?", False),
    ("最新的是哪份呢?", True),
])
def test_questions_asking_which_document(question: str, which: bool) -> None:
    assert asks_which_document(normalize(question)) == which


@pytest.mark.parametrize("question, number", [
    # 幾個 before a last clause that asks something else means "a few".
    ("村裡幾個老黨員種地經驗足,能請他們當個啥角色?", False),
    # Any other number word before it is asked.
    ("紀檢委員任期幾年,到期後怎麼辦?", True), ("每年補貼多少錢,錢從哪裡出?", True),
    ("任期幾年?到期後怎麼辦?", True),
    ("村里活動室破破爛爛的,市里說幾年內要全部弄達標?", True),
    ("書記兼了兩個村,一個月拿多少錢?", True),
    # 「多久…一回」 asks how often, like 「…一次」.
    ("學校工會的事,領導多久得專門開一回會研究?", True),
])
def test_a_number_is_asked_where_the_question_asks(question: str, number: bool) -> None:
    pattern = wanted_value(normalize(question))
    assert (pattern is not None and pattern is not BODYISH) == number, pattern


def test_how_often_in_spoken_form_is_a_frequency() -> None:
    q = normalize("領導多久得專門開一回會研究?")
    assert gives_value(wanted_value(q), normalize("至少每半年召開一次群團組織專題會議"), q)
    assert not gives_value(wanted_value(q), normalize("會期一般為半天"), q)


def test_a_party_committee_is_a_unit() -> None:  # 「哪個單位跟蹤管理」: 鎮黨委
    q = normalize("大學生村官平時由哪個單位跟蹤管理?")
    assert gives_value(wanted_value(q), normalize("鎮黨委負責對大學生“村官”進行跟蹤管理"), q)
    # … but 黨組織 in general names no unit.
    assert not gives_value(wanted_value(q), normalize("村黨組織要加強領導"), q)


def test_one_more_time_is_no_frequency() -> None:  # 「怎麼一回事」
    often = wanted_value(normalize("多久開一次會?"))
    assert wanted_value(normalize("幾個村干部兼職是怎麼一回事?")) is not often


@pytest.mark.parametrize("question, purpose", [
    ("這份鄉鎮紀檢組織建設意見是為了什麼出台的?", True), ("群團那份意見的目的是什麼?", True),
    ("云和縣委那份文件為啥要發?", True), ("制定這個辦法的初衷是什麼?", True),
    # 「目的」 of anything but the document, and 宗旨 (a body's tenet), are not.
    ("村黨組織書記後備人選的目的是什麼?", False), ("紅十字會的宗旨是什麼?", False),
    ("為什麼要設紀檢委員?", False),
    # 意見 as an opinion, 目的 and 為什麼 of anything but the document.
    ("紀檢委員聽取群眾意見的目的是什麼?", False), ("紅十字會為什麼要發放救助金?", False),
    ("紀檢委員為什麼要提出辭職?", False),
])
def test_questions_asking_what_a_document_is_for(question: str, purpose: bool) -> None:
    assert asks_purpose(normalize(question)) == purpose


@pytest.mark.parametrize("question, by_date", [
    ("落款日期最晚的是哪份文件?", True), ("哪份文件最早印發?", True), ("哪份是最新的?", True),
    ("哪份文件最早提出大學生村官?", False), ("哪份文件對首次任職的村干部提出了培訓要求?", False),
])
def test_a_document_is_picked_by_date_only_when_a_date_is_asked(question: str, by_date: bool) -> None:
    assert picks_by_date(normalize(question)) == by_date


def test_the_words_asking_which_document_do_not_pick_it() -> None:
    # 「一篇」 of 「哪一篇」 would name 「第一篇」; what is left is what the document is picked by.
    assert "一篇" not in without_which(normalize("關於紀檢的是哪一篇?"))
    assert "纪检组织建设" in without_which(normalize("有沒有專門講紀檢組織建設的文件?"))


def test_the_collection_is_described_from_metadata() -> None:
    corpus = load_corpus()
    text = describe(corpus.documents)
    assert text.count("《") == len(corpus.documents)
    assert "中共云和縣委" in text and "紅總字〔2010〕72號" in text and "征求意見稿" in text
    assert text.startswith(f"共{len(corpus.documents)}份文件:")  # 「一共收錄了幾份文件?」


def test_a_named_kind_of_body_must_be_that_kind() -> None:
    q = normalize("對鄉鎮紀檢干部的考核以哪個機關為主?")
    assert not gives_value(wanted_value(q), normalize("對鄉鎮紀檢組織和紀檢干部的考核,"), q)
    assert gives_value(wanted_value(q), normalize("要逐步實現以縣級紀檢監察機關為主"), q)
    copies = normalize("一共印了多少份")
    assert gives_value(wanted_value(copies), normalize("印發份數:55份"), copies)
    assert not gives_value(wanted_value(copies), normalize("紅總字〔2010〕72號"), copies)


@pytest.mark.parametrize("question, sentence, gives", [
    # 「誰」 and 「哪一級」 are answered by a post or a level as well as by a body.
    ("會議由誰主持?", "會議由會長主持", True),
    ("先進典型要在哪一級的媒體上宣傳?", "在省級主要媒體上集中宣傳", True),
    ("要向哪一級報告?", "及時向中央報告", True),
    ("這件事由誰負責?", "要加大宣傳力度,營造良好氛圍", False),
    # Party organisations are bodies: a 黨總支, a 黨組 (not only 支部, 黨委).
    ("應成立哪一級黨組織?", "應建立黨總支", True),
    ("市級紅十字會要建立什麼?由誰領導?", "有條件的市級紅十字會要建立黨組", True),
])
def test_who_is_a_body_a_post_or_a_level(question: str, sentence: str, gives: bool) -> None:
    q = normalize(question)
    assert gives_value(wanted_value(q), normalize(sentence), q) is gives


def test_each_document_is_compared_in_its_own_script() -> None:
    from assistant.text import SIMPLIFIED, TRADITIONAL, in_script, script_of

    corpus = load_corpus()
    assert {script_of("".join(c.text for c in corpus.by_doc(d.id))) for d in corpus.documents} == {TRADITIONAL}
    law = "第一条 为了保障工会在国家政治、经济和社会生活中的地位，确定工会的权利与义务，制定本法。"
    assert script_of(law) == SIMPLIFIED
    assert in_script("鄉鎮紀委書記", SIMPLIFIED) == "乡镇纪委书记"
    assert in_script("乡镇纪委书记", TRADITIONAL) == "鄉鎮紀委書記"


def test_how_a_date_or_rate_is_asked() -> None:
    assert "一天" not in content_words("中华慈善日是哪一天?")
    rate = normalize("年度管理費用不能超過多少?")
    assert gives_value(wanted_value(rate), normalize("年度管理费用不得超过当年总支出的百分之十"), rate)
    from assistant.answering.question import counted_thing

    assert counted_thing(normalize("單位多少天內得給我批")) == ""  # a duration, not a thing
    assert counted_thing(normalize("每年能拿多少獎金")) == "奖金"
    assert counted_thing(normalize("每年能拿幾份獎金")) == "奖金"  # how many: counted
    # Which ones: the members are asked, and a text lists them without naming their kind.
    assert counted_thing(normalize("每年要開哪幾次會議")) == ""
    assert counted_thing(normalize("黨員要具備哪幾種素質")) == ""


@pytest.mark.parametrize("run, n", [
    ("十", 10), ("十七", 17), ("一百零六", 106), ("兩", 2), ("二〇一二", 2012), ("三萬五千", 35000),
    ("十万", 100000), ("一万零五", 10005),
])
def test_one_chinese_numeral_reader(run: str, n: int) -> None:
    from assistant.answering.llm import numbers
    from assistant.text import cn_to_int

    assert cn_to_int(run) == n
    if run not in ("二〇一二",):
        assert str(n) in numbers(f"共{run}元")  # the LLM check reads numerals with the same code


def test_demonstratives_are_not_content() -> None:
    assert content_words(normalize("云和縣那個意見的具體舉措")) == ["云和县", "举措"]


@pytest.mark.parametrize("question, first_item, cited", [
    # A quoted name names the list: the subsection whose heading quotes it, not the section of
    # four 工程 that a count of four would pick. Wordings not used while writing the rule.
    ("“規范化工程”要規范哪幾個方面?", "規范基層黨建目標管理與考評機制", "d3-s2-ss3-c10"),
    ("云和縣那份意見提出的具體舉措有哪幾大方面?", "建設生態班子", "d2-s2-ss3-c1"),
])
def test_a_list_named_by_its_heading_is_answered_whole(assistant_instance, question, first_item, cited) -> None:
    got = assistant_instance.ask(question)
    assert not got.refused and first_item in got.answer, got.answer
    assert got.citations[0].id == cited and len(got.citations) >= 3


@pytest.mark.parametrize("question", ["三河市的四項工程包括哪些?", "三河那邊的“四项工程”具体是哪几个工程?",
                                      "四項工程分別是什麼?"])
def test_a_set_the_document_names_up_front_is_cited_where_it_is_named(assistant_instance, question) -> None:
    """A section per 工程, announced together in the preamble (「在全市深入實施“領頭雁工程”、
    “素質工程”…(以下簡稱“四項工程”)」): the answer opens with those words, cited first, then
    the sections. Lists whose items carry no quoted names are answered as before (above)."""
    got = assistant_instance.ask(question)
    assert not got.refused and got.answer.startswith("在全市深入實施“領頭雁工程”、“素質工程”"), got.answer
    assert got.citations[0].id == "d3-s0-c1" and got.citations[0].quote in got.citations[0].text
    assert [c.id for c in got.citations[1:]] == ["d3-s2-ss1-c1", "d3-s2-ss2-c4", "d3-s2-ss3-c10", "d3-s2-ss4-c15"]


@pytest.mark.parametrize("question, heading", [
    # Three headings quote “四項工程”: the question's other words choose among them.
    ("落實“四項工程”有哪些組織保障措施?", "三、實施“四項工程”的組織保障"),
    # The heading quotes “領頭雁” (「實施“領頭雁”工程」); typed as “領頭雁工程”, or without quotes.
    ("“領頭雁工程”包括哪些工作?", "(一)實施“領頭雁”工程"),
    ("領頭雁工程要做哪幾件事?", "(一)實施“領頭雁”工程"),
])
def test_a_name_a_heading_quotes_is_matched_however_it_is_typed(assistant_instance, question, heading) -> None:
    got = assistant_instance.ask(question)
    assert not got.refused and got.answer.startswith(heading), got.answer


def test_a_quoted_word_a_heading_merely_contains_names_no_list(assistant_instance) -> None:
    # 「“帶頭”」 is no name of the subsection 「(三)建設生態班子,選好配強新農村建設帶頭人隊伍」.
    got = assistant_instance.ask("農村黨員幹部要爭當哪幾個“帶頭”?")
    assert not got.answer.startswith("(三)建設生態班子"), got.answer


def test_a_quoted_name_no_heading_holds_is_not_another_list(assistant_instance) -> None:
    got = assistant_instance.ask("“4+2+4”工作機制裡後面那個“4”指哪四個環節?")
    assert not got.refused and "審核、民意采集、監督、評議" in got.answer, got.answer


def test_a_stated_quantity_is_read_either_way() -> None:
    from assistant.answering.question import stated_quantities

    assert stated_quantities(normalize("干滿十年要不要交流")) == {(10, "年")}
    assert stated_quantities(normalize("任滿10年的必須交流")) == {(10, "年")}
    assert stated_quantities(normalize("有會員二十五名以上的")) == {(25, "人")}
    assert stated_quantities(normalize("任滿幾年")) == set()  # asked, not stated


@pytest.mark.parametrize("question, answer", [
    # The sentence that decides leaves out the subject its clause's first sentence states.
    ("鄉鎮紀委書記幹滿十年了,還能不能留在原地?", "任滿10年的必須交流"),
])
def test_the_deciding_sentence_inherits_its_clauses_subject(assistant_instance, question, answer) -> None:
    got = assistant_instance.ask(question)
    assert not got.refused and answer in got.answer, got.answer


@pytest.mark.parametrize("question, condition, negative", [
    ("考核通不過的人咋處理?", True, True),
    ("單位一直拖著不報備會有什麼後果?", True, True),
    ("經費保障不了怎麼辦", True, True),
    ("村幹部違反紀律了怎麼處理?", True, False),  # a case, but not a negative one
    ("能不能不參加培訓?", False, False),  # A-not-A asks yes or no; no consequence asked
    ("培訓時間不少於幾天?", False, False),  # a bound, not a case
    ("有沒有規定怎麼辦理?", False, False),  # 辦理 is not 怎麼辦
    ("補辦證件要怎麼辦證?", False, False),
    ("結果是不合格的會怎樣?", True, True),  # 是 before a real negation
    ("去不去都行嗎,要是不去怎麼辦?", True, True),
    ("去不去都行,怎麼辦?", True, False),  # A-not-A only
])
def test_a_consequence_of_a_negative_case(question: str, condition: bool, negative: bool) -> None:
    q = normalize(question)
    assert asks_condition(q) is condition
    assert negative_case(q) is negative


def test_a_condition_stated_negatively() -> None:
    assert states_negative_condition(normalize("逾期未繳納的,由上級工會責令改正"))
    assert states_negative_condition(normalize("對不適合從事此項工作的,予以調離"))
    assert not states_negative_condition(normalize("經考核合格的,可按規定程序擔任"))
    assert not states_negative_condition(normalize("不得擅自調動其工作"))  # a prohibition, no case
    # An inability is a negative case too: 「拿不出」 in a question, 「確有困難的」 in a clause.
    assert states_negative_condition(normalize("鄉級財政確有困難的,縣級財政應給予補助"))
    assert states_negative_condition(normalize("受托人难以履行职责的,应当向委托人报告"))


def test_an_inability_asked_is_answered_by_the_difficulty_case(assistant_instance) -> None:
    a = assistant_instance.ask("鄉裡財政沒錢給紀委發工作經費怎麼辦?")
    assert "縣級財政應給予補助" in a.answer and a.citations[0].id == "d4-s6-c21"


def test_a_negative_case_is_answered_by_the_negative_condition(assistant_instance) -> None:
    # The clause states both cases (「經考核合格,…認可的,可…擔任…;考核不合格的,免去…」);
    # a question putting the failure in its own words gets the second.
    got = assistant_instance.ask("村务负责人一年试用下来考核通不过,咋处理?")
    assert not got.refused and "免去村務負責人職務" in got.answer, got.answer


def test_a_choice_and_a_rates_period() -> None:
    from assistant.answering.question import choice_alternatives, period_conflict

    assert choice_alternatives(normalize("這個會是縣委開還是鄉鎮黨委開?")) == ("县委开", "乡镇党委开")
    assert choice_alternatives(normalize("是正式稿還是征求意見稿")) == ("正式稿", "征求意见稿")
    assert choice_alternatives(normalize("還有什麼要求")) is None
    assert choice_alternatives(normalize("提了意見他還是要我做,我得照辦嗎?")) is None  # 還是 = still
    assert period_conflict(normalize("每季度補助多少錢"), normalize("每年安排30萬元")) == ("季度", "年")
    assert period_conflict(normalize("每年補助多少錢"), normalize("每年安排30萬元")) is None
    assert period_conflict(normalize("補助多少錢"), normalize("每年安排30萬元")) is None  # no period asked


@pytest.mark.parametrize("question, refused, why", [
    # Wordings not used while writing the gates.
    ("村黨組織書記的報酬是按月發還是按季度發?", True, "或"),
    ("縣財政每個月給村干部報酬安排多少萬元?", True, "每年"),
    ("鄉鎮紀檢組織建設那份意見是正式稿還是征求意見稿?", False, ""),
    ("鄉鎮干部每年至少要培訓多少天?", False, ""),
])
def test_choice_and_period_gates(assistant_instance, question, refused, why) -> None:
    got = assistant_instance.ask(question)
    assert got.refused == refused and why in got.note, (got.answer, got.note)


@pytest.mark.parametrize("question, text", [
    # How laws write the values they set (wordings not used while writing the patterns).
    ("要多少成員同意才能通過?", "經全體成員三分之二以上同意"),
    ("需要多少人表決通過?", "非經全體代表過半數通過"),
    ("賠多少?", "給予本人年收入二倍的賠償"),
    ("每次最多請幾天假?", "每次不超過三個工作日"),
    ("按什麼比例提取?", "按上年收入的百分之十提取"),
])
def test_the_values_laws_give(question: str, text: str) -> None:
    q = normalize(question)
    assert gives_value(wanted_value(q), normalize(text), q), (question, text)


def test_a_ratio_is_not_a_thing_counted() -> None:
    assert counted_thing(normalize("按多少比例撥付")) == ""
    assert counted_thing(normalize("每年能拿多少獎金")) == "奖金"
    assert counted_thing(normalize("每年能拿幾份獎金")) == "奖金"  # how many: counted
    # Which ones: the members are asked, and a text lists them without naming their kind.
    assert counted_thing(normalize("每年要開哪幾次會議")) == ""
    assert counted_thing(normalize("黨員要具備哪幾種素質")) == ""
    assert "一届" not in content_words(normalize("基層工會委員會一屆幹幾年"))


@pytest.mark.parametrize(("question", "group"), [
    ("群團組織都包括哪些組織?", "群团"),
    ("文件裡的工青婦是指什麼?", "群团"),
    ("学校里的群团组织,具体是指哪几家?", "群团"),
    ("群團組織建設的主要內容有哪些?", None),  # the tasks a heading lists, not the members
    ("群團組織要在哪幾個方面有明顯提高?", None),
    ("工會有哪些權利?", None),  # something of one member
])
def test_what_a_collective_name_refers_to(question: str, group: str | None) -> None:
    from assistant.answering.question import referent_asked

    assert referent_asked(normalize(question)) == group


def test_a_collective_name_is_answered_by_the_sentence_naming_its_members(assistant_instance) -> None:
    a = assistant_instance.ask("群团组织是哪几家?")
    assert "工會、共青團、婦聯" in a.answer and a.citations[0].id == "d5-s0-c1"
    assert "思想建設" in assistant_instance.ask("群團組織建設的主要內容有哪些?").answer


def test_an_obligation_asked_is_answered_by_the_one_imposed() -> None:
    from assistant.answering.question import asks_obligation, states_obligation

    assert asks_obligation(normalize("在一個地方幹滿多少年就非換不可?"))
    assert asks_obligation(normalize("最多能幹多久就得換地方?"))
    assert not asks_obligation(normalize("任滿一屆後要交流嗎?"))
    assert states_obligation(normalize("任滿10年的必須交流"))
    assert not states_obligation(normalize("任滿一屆的應適當交流"))


def test_a_colloquial_obligation_gets_the_ten_years(assistant_instance) -> None:
    a = assistant_instance.ask("鄉鎮紀委書記幹滿幾年一定要交流?")
    assert "10年" in a.answer and a.citations[0].id == "d4-s2-c6"


def test_the_kind_of_body_asked_is_not_what_the_answer_is_about() -> None:
    """「跟哪個部門打招呼」: 部門 says what the answer is; the fragment that merely says 「組織部門」
    is not the one that names the department to consult (縣委組織部)."""
    from assistant.answering.question import asked_kind

    assert asked_kind(normalize("事先要跟哪個部門溝通?")) == "部门"
    assert asked_kind(normalize("由誰負責?")) == ""
