"""Questions about the collection itself (「這里一共收了哪幾份文件?」, 「每份文件分別是誰發的?」):
answered from the documents' metadata, each document cited by its 「文件資訊」 record."""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.corpus.records import Document

__all__ = ["asks_collection", "describe"]

# The documents as a set: how many, which, each one's issuer — matched on the normalised
# (Simplified) question. A question naming one document (「紅十字會那份文件的文號」) is not one.
_SET = r"(?:几|哪几|哪些|多少|一共|总共|所有|全部|每|各|这几|这些|那几)"
_DOCS = r"(?:份|个|篇|部)?(?:文件|指引|意见|文档)"
# A count of documents (「這五篇文件」, 「5份文件」; 「第五篇」 is one of them), or a set word, then a
# document classifier and a short description before the noun (「這幾份組織建設文件」). Only the
# classifiers of documents: 「每個村的意見」 is no question about the collection.
_COUNT = rf"(?:(?<!第)(?:[两二三四五六七八九十]|\d+)|{_SET})"
_DESCRIBED = rf"{_COUNT}(?:份|篇|部)[^的，,。?？!！]{{0,6}}?(?:文件|指引|意见|文档)"
_COLLECTION = re.compile(
    rf"{_SET}{_DOCS}|{_DESCRIBED}|{_DOCS}(?:清单|列表|目录|名单)|收(?:录|了|入)(?:哪|几|多少|什么)|(?:有|是)哪些{_DOCS}"
)


def asks_collection(normalized_question: str) -> bool:
    """Does the question ask about the set of documents rather than what one of them says?"""
    return bool(_COLLECTION.search(normalized_question))


def describe(documents: Sequence[Document]) -> str:
    """How many documents, then one line per document: 《title》, issuer, date, 文號 and status
    (what is known), in corpus order."""
    lines = []
    for d in documents:
        known = [x for x in (d.issuer, d.date, d.doc_number, d.status) if x]
        lines.append(f"《{d.title}》" + (f"({','.join(known)})" if known else ""))
    return f"共{len(lines)}份文件:" + ";".join(lines)
