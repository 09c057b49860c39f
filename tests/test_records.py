"""Documents' 「文件資訊」 records (their metadata lines, cited like clauses), whole-list spans
and date questions: pure functions and the corpus, no model."""

from __future__ import annotations

import pytest

from assistant.answering.extractive import asks_lacking, list_run
from assistant.answering.question import DATEISH, wanted_value
from assistant.answering.question import gives_value
from assistant.corpus.parse import _rejoin_numbers
from assistant.corpus.records import RECORD_SECTION, body_kinds, ordinal_words, record_field_words
from assistant.corpus.store import load_corpus
from assistant.index.store import passage
from assistant.text import normalize, sentences


@pytest.fixture(scope="module")
def corpus():
    return load_corpus()


def test_every_seed_document_has_a_record_outside_the_clauses(corpus) -> None:
    assert [r.id for r in corpus.records] == [f"{d.id}-info" for d in corpus.documents]
    assert not any(c.is_record for c in corpus.clauses)  # the body is unchanged: 93 clauses
    assert corpus.passages == corpus.clauses + corpus.records
    first = max(c.order for c in corpus.clauses) + 1
    assert [r.order for r in corpus.records] == list(range(first, first + len(corpus.records)))
    for r in corpus.records:
        assert r.is_record and r.section == RECORD_SECTION and r.ref == RECORD_SECTION
        assert corpus.clause(r.id) is r  # citations resolve


def test_record_holds_the_header_and_closing_lines_verbatim(corpus) -> None:
    d1 = corpus.clause("d1-info")
    lines = d1.text.split("\n")
    assert "文號:紅總字〔2010〕72號" in lines  # the card repairs what the print garbled …
    assert "紅總字?2010?72號" in lines  # … and the printed line is kept as printed
    assert "主送機關:各省、自治區、直轄市紅十字會,新疆生產建設兵團紅十字會" in lines
    assert "校對人:吳新利 印發份數:55份" in lines  # fields a space separates stay apart
    assert "中國紅十字會總會辦公室 2010年9月15日印發" in lines
    for line in d1.original.split("\n"):  # provenance: the source lines themselves
        assert line in corpus.documents[0].record
    assert corpus.clause("d2-info").text.split("\n") == [
        "標題:關于進一步加強農村基層組織建設的意見", "發文機關:中共云和縣委", "日期:2011年10月9日"]
    assert "狀態:征求意見稿" in corpus.clause("d4-info").text


def test_each_record_line_is_its_own_sentence(corpus) -> None:
    d1 = corpus.clause("d1-info")
    spans = sentences(d1.text)
    assert all("\n" not in d1.text[a:b].rstrip("\n") for a, b in spans)  # never across lines
    assert {d1.text[a:b].strip() for a, b in spans} >= {"文號:紅總字〔2010〕72號", "日期:2010年9月13日"}
    assert all("\n" not in c.text for c in corpus.clauses)  # clause sentences are unchanged


def test_record_field_words_reach_the_searched_passage_not_the_text(corpus) -> None:
    d1 = corpus.clause("d1-info")
    assert "發給" not in d1.text and "發給" in passage(d1, corpus.documents[0])
    assert "發給" in record_field_words("主送機關:各高中")
    assert "發給" in record_field_words("主送机关:各高中")  # either script
    assert record_field_words("要加強黨對紅十字會各項工作的領導") == ""
    body = corpus.clause("d4-s2-c6")
    assert passage(body, corpus.documents[3]).endswith(body.text)  # clauses get no field words


def test_a_number_a_line_break_cut_is_put_back_together(corpus) -> None:
    # The web page's header of document 4 was copied line by line: 「點擊次數 :」 / 「504發布日期:
    # 2011-07-1」 / 「4關于…」. The digits opening a line finish the value the line before left open.
    assert _rejoin_numbers(["點擊次數 :", "504發布日期:2011-07-1", "4關于加強鄉鎮紀檢組織建設的指導意見"]) == [
        "點擊次數 :504", "發布日期:2011-07-14", "關于加強鄉鎮紀檢組織建設的指導意見"]
    assert _rejoin_numbers(["主題詞:組織建設 意見", "2010年9月15日印發"]) == ["主題詞:組織建設 意見", "2010年9月15日印發"]
    lines = corpus.clause("d4-info").text.split("\n")
    assert "發布日期:2011-07-14" in lines and not any(line[0].isdigit() for line in lines)


def test_body_kinds_of_a_record_line() -> None:
    assert body_kinds("主送機關:各高中、機關各股室") == "學校"
    assert body_kinds("發文機關:中共云和縣委") == "黨委 黨委會"
    assert body_kinds("主題詞:組織建設 意見") == ""


def test_a_body_is_also_found_by_its_kind(corpus) -> None:
    assert "黨委" in record_field_words("發文機關:中共三河市委")  # a 中共…委 is a party committee
    assert "部門" in record_field_words("發文機關:鄂城區教育局(推定)")
    assert "黨委" not in record_field_words("發文機關:全國人民代表大會常務委員會")
    # The answer step passes normalised (Simplified) lines: the kinds hold in either script.
    for line in ("發文機關:中共三河市委", "發文機關:中國紅十字會總會辦公室", "主送機關:各高中、機關各股室"):
        assert record_field_words(normalize(line)).split()[-1] == record_field_words(line).split()[-1]
    assert "學校" not in record_field_words("主送機關:各鄉鎮大學生村官")  # a whole listed item only
    for asked, body, gives in [
        ("是哪個黨委出的", "中共云和縣委", True), ("哪個部門發的", "鄂城區教育局", True),
        ("由哪個部門負責", "縣委組織部牽頭", True), ("哪個部門", "村干部", False),
        ("哪個黨委", "村委會主任", False), ("哪個黨委", "鎮黨委書記", True),
    ]:
        q = normalize(asked)
        assert gives_value(wanted_value(q), normalize(body), q) == gives, (asked, body)


def test_documents_are_named_by_their_place_in_the_collection(corpus) -> None:
    assert {"第四篇", "第4篇", "第四份", "第4個文件"} <= set(ordinal_words(4).split())
    d4 = corpus.clause("d4-info")
    assert "第四篇" in passage(d4, corpus.documents[3]) and "第四篇" not in d4.text


@pytest.mark.parametrize("question, answer", [
    # Wordings not used while writing the mechanisms (dev2 has others of each kind).
    ("第四篇文件在網站上的發布日期是哪天?", "2011-07-14"),
    ("第五篇文件的主送機關是哪些?", "各高中、機關各股室"),
    ("云和縣那份文件的發文機關是哪個黨委?", "中共云和縣委"),
    ("第一篇文件印發了幾份?", "55份"),
    ("三河市那個意見是哪天發的?", None),  # no date in its record: refused, not the title
    # A record's first line is a field too: the title (it used to be skipped as a heading).
    ("云和縣委那份文件的標題是什麼?", "關于進一步加強農村基層組織建設的意見"),
    ("群團那個文件全稱叫什麼?", "關于進一步加強群團組織建設工作的意見"),
    # A field the document does not print (GB/T 9704 has 抄送, 附件, 簽發人 …): refused, not
    # answered by the record's nearest line (主送機關).
    ("紅總72號文抄送了哪些單位?", None),
    ("紅十字會那份文件有沒有附件?", None),
    # A word no guideline uses that shortens a document's name (紅會) names it.
    ("紅會那個文件的主題詞是什麼?", "組織建設 意見"),
    # The issuer asked with a verb of issuing (發的, 出的, 制定的) of a document its title's words
    # pick: the record answers, though body clauses share more of the title's words.
    ("紅十字會組織建設那份指導意見是誰發的?", "中國紅十字會總會"),
    ("农村基层组织建设那份意见是哪个县委出的？", "中共云和縣委"),
    ("“四項工程”的意見是哪個單位制定的?", "中共三河市委"),
    ("乡镇纪检组织建设那份意见是哪个部门发的？", None),  # no issuer printed: refused, no body clause
])
def test_document_facts_answer_from_the_asked_field(assistant_instance, question: str, answer: str | None) -> None:
    got = assistant_instance.ask(question)
    if answer is None:
        assert got.refused, got.answer
    else:
        assert not got.refused and answer in got.answer, (question, got.answer, got.note)
        assert got.citations[0].id.endswith("-info")


@pytest.mark.parametrize("question, dated", [
    ("這份意見是哪天印發的?", True), ("什麼時候開始實施", True), ("成文日期是?", True),
    ("哪一年起實行", True), ("鄉鎮紀委書記任滿幾年必須交流?", False), ("由誰負責", False),
])
def test_date_questions_want_a_date(question: str, dated: bool) -> None:
    assert (wanted_value(normalize(question)) is DATEISH) == dated


@pytest.mark.parametrize("text, found", [
    ("2010年9月15日印發", True), ("二〇一〇年九月十三日", True), ("2011-07-14", True),
    ("2012年底前完成", True), ("任滿10年的必須交流", False), ("每年述職一次", False),
])
def test_dateish(text: str, found: bool) -> None:
    assert bool(DATEISH.search(normalize(text))) == found


def _run(text: str, n: int) -> str:
    return text[slice(*list_run(text, sentences(text)[n]))]


def test_list_run_takes_every_item_a_semicolon_separates() -> None:
    text = "鄉鎮紀檢組織主要職責。督促甲;檢查乙;協助丙。另有一句。"
    assert _run(text, 2) == "督促甲;檢查乙;協助丙。"
    assert _run(text, 1) == "督促甲;檢查乙;協助丙。"
    assert _run(text, 4) == "另有一句。"  # no list: the sentence itself


def test_list_run_takes_sentences_opened_by_item_markers() -> None:
    text = "工作要求。一是加強領導。二是落實責任。三是強化考核。這是結語。"
    assert _run(text, 2) == "一是加強領導。二是落實責任。三是強化考核。"
    text = "要做到三點。首先,統一思想。其次,明確分工。最後,加強督查。"
    assert _run(text, 1) == "首先,統一思想。其次,明確分工。最後,加強督查。"


def test_list_run_keeps_an_introduction_that_ends_in_a_colon() -> None:
    text = "主要包括以下內容:\n甲項;乙項;丙項。"
    spans = sentences(text)
    assert text[slice(*list_run(text, spans[-1]))].startswith("主要包括")


def test_list_run_of_a_span_that_is_not_a_sentence_is_unchanged() -> None:
    assert list_run("甲;乙。", (0, 1)) == (0, 1)


@pytest.mark.parametrize("question, answer", [
    ("落款日期最晚的是哪份文件?", "中共云和縣委"),  # the documents' dates decide
    ("有沒有專門講紀檢組織建設的文件?", "關于加強鄉鎮紀檢組織建設的指導意見"),  # one title holds 紀檢
    ("哪份文件講到了大學生村官?", "“四項工程”"),  # the best clause's document, with its line
    ("哪一篇文件講了退休金?", None),  # nothing near: refused, not 「第一篇」
    # A record line holding every word asked is on topic though its cosine is low (a few words).
    ("哪份文件是發給高中的?", "群團組織建設"),
    ("哪份文件是發給醫院的?", None),  # 醫院: no line holds it
    # A compound no guideline uses whose halves name one document: 教育 (鄂城區教育局) + 部門 (its kind).
    ("有沒有教育部門發的文件?", "鄂城區教育局"),

    # A name word picks a document only when nothing else is asked: the rest passes the gate.
    ("哪份文件規定了紅十字會會員要交多少會費?", None),
])
def test_which_document_is_named(assistant_instance, question: str, answer: str | None) -> None:
    got = assistant_instance.ask(question)
    if answer is None:
        assert got.refused, got.answer
    else:
        assert not got.refused and got.answer.startswith("《") and answer in got.answer, (question, got.answer)
        assert got.citations


@pytest.mark.parametrize("question, clause", [
    # A field word (時間, 制定) in a question that asks about the content: not the record.
    ("鄉鎮紀委書記一般應任滿多長時間?", "d4-s2-c6"),
    ("市縣紅十字會理順體制的具體實施方案誰來制定?", "d1-"),
])
def test_a_content_question_with_a_field_word_is_not_a_document_fact(assistant_instance, question: str, clause: str) -> None:
    got = assistant_instance.ask(question)
    assert not got.refused and got.citations[0].id.startswith(clause), (question, got.answer, got.note)


def test_a_document_is_also_named_by_whom_it_is_sent_to(assistant_instance) -> None:
    # The fifth document is sent to 各高中 (schools): 學校 names it, so a list its headings name
    # is found though no heading says 學校, and 學校 is no topic its clauses lack.
    got = assistant_instance.ask("學校群團組織建設的組織領導有哪幾條?")
    assert not got.refused and "加強領導,明確責任" in got.answer and "搞好保障,發揮作用" in got.answer, got.answer
    assert {c.id for c in got.citations} >= {"d5-s4-c1", "d5-s4-c3"}
    got = assistant_instance.ask("學校那份文件是誰發的?")
    assert not got.refused and "鄂城區教育局" in got.answer, got.answer


def test_a_documents_purpose_is_its_opening_sentence(assistant_instance) -> None:
    got = assistant_instance.ask("这份乡镇纪检组织建设意见是为了什么出台的?")
    assert got.answer.startswith("為深入推進農村基層黨風廉政建設") and got.citations[0].id == "d4-s0-c1"
    # No document named: the usual path answers (or refuses); no preamble is guessed.
    unnamed = assistant_instance.ask("這份文件是為了什麼出台的?")
    assert not unnamed.citations or unnamed.citations[0].section != "前言" or unnamed.confidence < 1.0
    # A question about its content is not one about its purpose.
    assert not assistant_instance.ask("紅十字會為什麼要發放救助金?").answer.startswith("為")


@pytest.mark.parametrize("question, titles", [
    # A described set is narrowed by what names its documents: their issuers' kind, status, year.
    ("哪幾份是黨委發的文件?", ["農村基層組織建設", "四項工程"]),
    ("這些文件裡有沒有征求意見稿?", ["鄉鎮紀檢組織建設"]),
    ("這些文件哪些是2011年發的?", ["農村基層組織建設", "鄉鎮紀檢組織建設"]),
    ("關于紀檢的文件有幾份?", ["鄉鎮紀檢組織建設"]),
    # Words naming every document or none leave the set whole; a count names none of them.
    ("五份文件的標題分別是什麼?", ["紅十字會", "農村基層組織建設", "四項工程", "鄉鎮紀檢組織建設", "群團組織建設"]),
    # A year compared (以後) is no year picked: the whole list shows the dates.
    ("哪幾份文件是2010年以後發的?", ["紅十字會", "農村基層組織建設", "四項工程", "鄉鎮紀檢組織建設", "群團組織建設"]),
])
def test_a_described_set_of_documents_is_narrowed_by_their_metadata(assistant_instance, question: str, titles: list[str]) -> None:
    got = assistant_instance.ask(question)
    assert not got.refused and got.answer.startswith(f"共{len(titles)}份文件:"), got.answer
    assert all(t in got.answer for t in titles) and len(got.citations) == len(titles), got.answer


@pytest.mark.parametrize("question, field, titles", [
    ("哪份文件沒有寫發文日期?", "日期", ["四項工程", "群團組織建設"]),  # neither record prints a date
    ("哪份文件没有落款日期?", "日期", ["四項工程", "群團組織建設"]),  # 落款 is also the signature: 日期 decides
    ("哪份文件沒寫發文機關?", "發文機關", ["鄉鎮紀檢組織建設"]),
])
def test_the_documents_lacking_an_asked_fact_are_listed(assistant_instance, question: str, field: str,
                                                        titles: list[str]) -> None:
    got = assistant_instance.ask(question)
    assert not got.refused and got.answer.startswith(f"共{len(titles)}份文件沒有載明{field}:"), got.answer
    assert all(t in got.answer for t in titles) and all(c.id.endswith("-info") for c in got.citations), got.answer


@pytest.mark.parametrize("question, lacking", [
    ("哪份文件沒有寫發文日期?", True), ("哪些文件沒標文號?", True), ("有沒有文件未注明主送機關?", True),
    # A negation elsewhere in the question, beside a field word, is not a lacking field.
    ("哪份文件講到無職黨員的日期安排?", False), ("哪份文件規定了沒有經費的村何時發放補助?", False),
])
def test_a_lacking_field_is_a_negation_right_before_the_fields_word(question: str, lacking: bool) -> None:
    assert asks_lacking(normalize(question)) == lacking


def test_the_latest_documents_date_is_asked_without_which(assistant_instance) -> None:
    got = assistant_instance.ask("最新的一份文件是什麼時候發的?")
    assert not got.refused and "農村基層組織建設" in got.answer and "2011-10-09" in got.answer, got.answer


def test_a_field_asked_of_every_document_is_answered_per_document(assistant_instance) -> None:
    got = assistant_instance.ask("這幾份文件的主送機關分別是哪些?")
    assert not got.refused and got.answer.startswith("共5份文件:")
    # Each document once, in corpus order; its own 主送機關 line or 「未載明」, never another field.
    assert got.answer.count("《") == 5 and got.answer.count("未載明") == 3
    assert "各省、自治區、直轄市紅十字會" in got.answer and "各高中、機關各股室" in got.answer
    assert "發文機關" not in got.answer
    assert [c.id for c in got.citations] == ["d1-info", "d5-info"]
    assert all(c.quote.startswith("主送機關") for c in got.citations)
    # A field no record prints: refused, saying so.
    none = assistant_instance.ask("這幾份文件分別抄送了哪些單位?")
    assert none.refused and "沒有載明" in none.note
    # No field asked: the documents described as before (title, issuer, date, 文號).
    plain = assistant_instance.ask("這五篇文件分別是誰發的?")
    assert "中共云和縣委" in plain.answer and "紅總字〔2010〕72號" in plain.answer
