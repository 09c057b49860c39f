"""Questions about the collection itself (「這里一共收了哪幾份文件?」, 「每份文件分別是誰發的?」):
answered from the documents' metadata, each document cited by its 「文件資訊」 record."""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.corpus.records import Document

__all__ = ["PICK_WORDS", "asks_collection", "asks_which_document", "describe", "identify", "picks_by_date", "without_which"]

# The documents as a set: how many, which, each one's issuer — matched on the normalised
# (Simplified) question. A question naming one document (「紅十字會那份文件的文號」) is not one.
_SET = r"(?:几|哪几|哪些|多少|一共|总共|所有|全部|每|各|这几|这些|那几)"
_DOCS = r"(?:份|个|篇|部)?(?:文件|指引|意见|文档)"
# A count of documents (「這五篇文件」, 「5份文件」; 「第五篇」 is one of them), or a set word, then a
# document classifier and a short description before the noun (「這幾份組織建設文件」, 「這幾份關於
# 組織建設的文件」: a description may hold 的). Only the
# classifiers of documents: 「每個村的意見」 is no question about the collection.
_COUNT = rf"(?:(?<!第)(?:[两二三四五六七八九十]|\d+)|{_SET})"
_DESCRIBED = rf"{_COUNT}(?:份|篇|部)[^，,。?？!！]{{0,10}}?(?:文件|指引|意见|文档|材料|资料)"
# What the assistant holds (「你這裡都有哪些材料可以查?」): 材料/資料 only when the assistant or its
# store is what has them (「需要提交哪些材料」 asks what a text requires).
_HELD = r"(?:你|您|这里|这儿|系统|库)[^，,。?？]{0,6}(?:有|收|存)[^，,。?？]{0,3}(?:哪些|什么|几份|多少)(?:材料|资料|文件|文档)"
_COLLECTION = re.compile(
    rf"{_SET}{_DOCS}|{_DESCRIBED}|{_HELD}|(?:文件|指引|文档)(?:一共|总共|共)?有(?:几|多少)(?:份|篇|个)|{_DOCS}(?:清单|列表|目录|名单)|收(?:录|了|入)(?:哪|几|多少|什么)|(?:有|是)哪些{_DOCS}"
)


# One document picked out of the set by what it says or is (「哪份文件講到了大學生村官?」, 「關於紀檢的
# 是哪一篇?」, 「有沒有專門講紀檢組織建設的文件?」): the answer names the document. 「哪部」 only with a
# document noun (「哪部分」 is a part of one); 「有沒有…」 only with 文件/指引 (「有沒有征求群眾意見的
# 要求」: 意見 is an opinion there).
_WHICH = re.compile(
    rf"哪一?(?:份|篇)(?:{_DOCS}|是|里|中|讲|说|提|规定|呢|[?？]|$)|哪一?(?:个|部){_DOCS}|"
    r"(?:有没有|有无)[^，,。?？]{0,14}(?:文件|文档|指引)"
)
# Picking one document by its date: a date or issuing word beside the extreme (「落款日期最晚」,
# 「最早印發」, 「哪份是最新的」), not any 最早 (「哪份文件最早提出大學生村官」 asks a topic).
_BY_DATE = re.compile(
    r"(?:日期|落款|时间|发布|印发|出台|成文|发文|签发|发的)[^，,。?？]{0,4}(?:最晚|最早|最新|最近)|"
    r"(?:最晚|最早|最新|最近)[^，,。?？]{0,4}(?:日期|落款|发布|印发|出台|成文|发文|签发|发的)|"
    r"(?:最晚|最早|最新)的?(?:一份|一篇|文件)?(?:呢|吗)?[?？]?$|"
    # 「最新的一份文件是什麼時候發的?」: the extreme document's date.
    r"(?:最晚|最早|最新|最近)的?(?:一份|一篇)(?:文件|意见|指引)?[^，,。?？]{0,6}(?:什么时候|哪天|哪一天|哪年|日期|时间)"
)
# Words that say how a document is picked, not what by (「專門講…的」, 「關於…的」).
PICK_WORDS = frozenset({"专门", "关于", "有关", "规定", "涉及", "提到", "提及", "内容", "方面", "讲到", "说到", "谈到"})


def picks_by_date(normalized_question: str) -> bool:
    """Does a which-document question pick by the documents' dates (latest, earliest)?"""
    return bool(_BY_DATE.search(normalized_question))


_WHICH_WORDS = re.compile(r"哪一?(?:份|篇|个|部)|有没有|有无|文件|文档")


# A question that already points at its document (「云和縣這個意見是為了貫徹省委哪個文件?」) asks
# about a document it cites, not which of the set; so does 「根據/貫徹哪個文件」.
_GIVEN = re.compile(r"[这那](?:个|份|篇|部)(?:文件|指引|意见|文档)|(?:贯彻|落实|依据|根据|按照|执行)[^，,。?？]{0,4}哪")


def asks_which_document(normalized_question: str) -> bool:
    """Does the question ask which one of the documents (rather than what one of them says)?"""
    return bool(_WHICH.search(normalized_question)) and not _GIVEN.search(normalized_question)


def without_which(normalized_question: str) -> str:
    """The question without its 「哪一篇」: what the document is picked by (「一篇」 would otherwise
    read as 「第一篇」, a name of the first document, and as a word the clause lacks)."""
    return _WHICH_WORDS.sub(" ", normalized_question)


def identify(doc: Document) -> str:
    """A document as an answer names it: 《title》(issuer, date, 文號 — what is known)."""
    known = [x for x in (doc.issuer, doc.date, doc.doc_number, doc.status) if x]
    return f"《{doc.title}》" + (f"({','.join(known)})" if known else "")


def asks_collection(normalized_question: str) -> bool:
    """Does the question ask about the set of documents rather than what one of them says?"""
    return bool(_COLLECTION.search(normalized_question))


def describe(documents: Sequence[Document]) -> str:
    """How many documents, then one line per document: 《title》, issuer, date, 文號 and status
    (what is known), in corpus order."""
    lines = [identify(d) for d in documents]
    return f"共{len(lines)}份文件:" + ";".join(lines)
