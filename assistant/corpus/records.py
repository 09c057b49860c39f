"""The corpus records: documents, clauses, and the files that could not be loaded."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache

from assistant.text import int_to_cn, normalize

__all__ = [
    "CARD_FIELDS", "RECORD_FIELDS", "RECORD_SECTION", "Clause", "Corpus", "Document", "SourceError", "body_kinds",
    "opens_with_field_word", "ordinal_words", "record_clause", "record_field_mentions", "record_field_words",
    "record_fields_asked", "record_vocabulary",
]


@dataclass(frozen=True)
class Document:
    id: str
    number: int
    title: str  # official title (from documents.json; the 第N篇 heading if unknown)
    heading: str  # the 第N篇 line's own title
    issuer: str | None
    date: str | None  # ISO date
    doc_number: str | None
    status: str | None  # e.g. 征求意見稿
    source: str  # source file name
    # The document's own metadata lines, verbatim and in order: title, 文號, addressees, web-page
    # header, signature, date, 主題詞/印發/份數 trailer. Kept out of the clauses; cited as the
    # document's 「文件資訊」 record (:func:`record_clause`) so 「文號是多少」 has a source.
    record: tuple[str, ...] = ()
    # A law's enactment and amendment notes (「1992年4月3日 第七届全国人民代表大会第五次会议通过」,
    # 「根据2023年12月29日…修正」) as (ISO date, what happened), oldest first. The lines themselves
    # are in ``record``; ``date`` is the latest of them when nothing else gives one.
    history: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Clause:
    id: str  # "d4-s2-c6", "d2-s2-ss3-c1", subsection body "d2-s1-ss1", preamble "d1-s0-c1"
    doc_id: str
    doc_title: str
    section_no: int  # 0 for the preamble
    section: str  # "二、進一步健全鄉鎮紀檢組織" or "前言"
    subsection_no: int | None
    subsection: str | None  # heading only: "(三)建設生態班子,選好配強新農村建設帶頭人隊伍"
    clause_no: int | None  # None when the clause is a subsection body
    numbered: bool  # printed number (第N條) vs position (第N段)
    label: str  # citation label
    text: str  # clean body, without number prefix or headings
    original: str  # verbatim source line(s), joined with "\n"
    order: int  # position in corpus order
    # The article number as the document prints it (「第十一条」, 「第17條」), for articles (第N條)
    # only; None for the seed's 「1、」 items and paragraphs. The id keeps the number (…-c11).
    printed: str | None = None

    @property
    def ref(self) -> str:
        """The clause's own reference: an article's as printed (「第十一条」), 「第6條」, 「第2段」,
        else its subsection or section heading."""
        if self.printed:
            return self.printed
        if self.clause_no is not None:
            return f"第{self.clause_no}{'條' if self.numbered else '段'}"
        return self.subsection or self.section

    @property
    def is_record(self) -> bool:
        """The document's 「文件資訊」 record (its metadata lines), not a clause of its body."""
        return self.section == RECORD_SECTION

    @property
    def path(self) -> tuple[str, ...]:
        """Section, subsection (if any) and clause reference: the label without its document."""
        parts = [self.section, self.subsection or "", self.ref]
        return tuple(p for i, p in enumerate(parts) if p and p not in parts[:i])

    @property
    def sha(self) -> str:
        """sha256 hex of id + text: changes exactly when the clause must be re-embedded."""
        return hashlib.sha256((self.id + self.text).encode("utf-8")).hexdigest()


RECORD_SECTION = "文件資訊"
# The lines a record's card opens with, written from documents.json rather than copied from the
# document (assistant.corpus.parse._card): 「日期:2010年9月13日」 is ours, 「二〇一〇年九月十三日」 the document's.
CARD_FIELDS = ("標題:", "文號:", "發文機關:", "日期:", "狀態:")

# The elements of an official document's header and closing block (GB/T 9704《黨政機關公文格式》)
# that a record may name, each with the words people use for it. Asked 「文件發給了誰」, the
# line 「主送機關:…」 shares no word with the question; its field's words do. Keys are matched in
# a record line (either script); the words are searched with it, never shown.
RECORD_FIELDS: dict[str, str] = {
    "文號": "發文字號 字號 文件號 編號 文號",
    "標題": "標題 名稱 題目 全稱 文件名 名字 叫什麼",
    "發文機關": "發文機關 發文單位 制發 發布 出台 制定 下發 落款 署名",
    "日期": "成文日期 發文日期 發布日期 日期 時間 落款 簽發日期 出台",
    "主送機關": "主送 發給 下發 發往 送達 對象 收文",
    "主題詞": "主題詞 關鍵詞",
    "印發": "印發機關 印發日期 印發 印製",
    "印發份數": "印發份數 份數 印數",
    "校對人": "校對",
    "狀態": "狀態 草稿 正式 定稿",
    "發布日期": "發布日期 發布 網站",
    # Elements a document may print and these do not: asked of a record without them, refused.
    "抄送": "抄送 抄報",
    "簽發人": "簽發人 簽批人",
    "附件": "附件",
    "密級": "密級 保密期限",
    "緊急程度": "緊急程度 特急 加急",
}


# What people call a body by its kind rather than its name: 「哪個黨委出的」 of 中共三河市委
# (a party committee, 中共X委, is a 黨委), 「哪個部門」 of 鄂城區教育局. Matched against each
# field value of a record line (the text after a 「:」, up to a space or bracket).
BODY_KINDS: tuple[tuple[str, str], ...] = (
    # Either script: the index passes a record's lines as written, the answer step normalised.
    (r"^(?:中共|中[國国]共[產产][黨党]).+委(?:[員员][會会])?$", "黨委 黨委會"),
    (r"政府$", "政府"),
    (r"(?:局|[廳厅]|部|委[員员][會会]|[辦办]公室|[辦办]公[廳厅])$", "部門"),
    # Schools by kind (「發給學校的」: 各高中), listed as a whole item, in either script.
    (r"(?:^|[、,,])各?(?:高中|中[學学]|小[學学]|[學学]校|[學学]院|大[學学])(?=$|[、,,])", "學校"),
)


def record_fields_asked(normalized_question: str) -> set[str]:
    """The record fields a question names by one of their words (「抄送了哪些單位」 → 抄送)."""
    return {key for key, n in record_field_mentions(normalized_question).items() if n}


def record_field_mentions(normalized_question: str) -> dict[str, int]:
    """Per record field, how many of its words the question holds (「落款日期」: 日期 2, 發文機關 1)."""
    return {key: sum(w in normalized_question for w in words) for key, words in _normalized_fields()}


def opens_with_field_word(normalized_text: str) -> bool:
    """Does *normalized_text* open with a word asking a record field (「發文日期…」, 「文號」)?"""
    return any(normalized_text.startswith(w) for _, words in _normalized_fields() for w in words)


@lru_cache(maxsize=1)
def _normalized_fields() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """RECORD_FIELDS with each word normalised, once (asked of every question, twice)."""
    return tuple((key, tuple(normalize(w) for w in words.split())) for key, words in RECORD_FIELDS.items())


@lru_cache(maxsize=1)
def record_vocabulary() -> str:
    """Every word a question may ask a record's field with, and the kinds of body a record names
    (normalised, space-separated): a word inside it (單位 of 發文單位) asks about the record."""
    return normalize(" ".join([*RECORD_FIELDS.values(), *(kind for _, kind in BODY_KINDS)]))


def record_field_words(line: str) -> str:
    """The words of the fields a record line names (「主送機關:…」 → 「主送 發給 …」), and the
    kind of each body it names (「發文機關:中共云和縣委」 → 黨委)."""
    words = [w for key, w in RECORD_FIELDS.items() if normalize(key) in normalize(line)]
    return " ".join([*words, body_kinds(line)]).strip()


def body_kinds(line: str) -> str:
    """The kind of each body a record line names (「主送機關:各高中、機關各股室」 → 學校)."""
    kinds: list[str] = []
    for value in re.findall(r"[::]\s*([^\s((::]+)", line):
        kinds += [kind for pattern, kind in BODY_KINDS if re.search(pattern, value)]
    return " ".join(kinds)


def ordinal_words(number: int) -> str:
    """How a question points at the *number*-th document of the collection: 「第四篇」,
    「第4份文件」 (the seed record opens each document with 「第N篇:」)."""
    cn = int_to_cn(number)
    return " ".join(f"第{n}{unit}" for n in (cn, str(number)) for unit in ("篇", "份", "個文件"))


def record_clause(doc: Document, text: str, order: int) -> Clause:
    """*doc*'s metadata lines as one citable passage (id ``d1-info``), one line per sentence:
    *text* is the cleaned lines joined by newlines, ``original`` the verbatim ones."""
    return Clause(
        id=f"{doc.id}-info", doc_id=doc.id, doc_title=doc.title,
        section_no=0, section=RECORD_SECTION, subsection_no=None, subsection=None,
        clause_no=None, numbered=False, label=f"《{doc.title}》{RECORD_SECTION}",
        text=text, original="\n".join(doc.record), order=order,
    )


@dataclass(frozen=True)
class SourceError:
    """A corpus file that could not be loaded, and why (its documents are left out)."""

    file: str  # file name inside the corpus directory
    reason: str  # in English
    code: str | None = None  # which problem: a key of assistant.corpus.errors.MESSAGES

    def __str__(self) -> str:
        return f"{self.file}: {self.reason}"


@dataclass(frozen=True)
class Corpus:
    documents: tuple[Document, ...]
    clauses: tuple[Clause, ...]
    errors: tuple[SourceError, ...] = ()  # files left out; the other documents still load
    # One 「文件資訊」 passage per document with metadata lines (:func:`record_clause`), ordered
    # after every clause. Retrieved and cited like clauses but not part of the body: clause
    # counts, quizzes and structure are unaffected.
    records: tuple[Clause, ...] = ()

    @property
    def passages(self) -> tuple[Clause, ...]:
        """What is indexed, retrieved and cited: the clauses, then the documents' records."""
        return self.clauses + self.records

    def document(self, doc_id: str) -> Document:
        for d in self.documents:
            if d.id == doc_id:
                return d
        known = ", ".join(d.id for d in self.documents)
        raise KeyError(f"no document {doc_id!r} in the corpus (known: {known})")

    @cached_property
    def _by_id(self) -> dict[str, Clause]:
        return {c.id: c for c in self.passages}

    def clause(self, id: str) -> Clause:
        try:
            return self._by_id[id]
        except KeyError:
            raise KeyError(f"no clause {id!r} in the corpus (ids look like 'd4-s2-c6')") from None

    def by_doc(self, doc_id: str) -> list[Clause]:
        if doc_id not in {d.id for d in self.documents}:
            known = ", ".join(d.id for d in self.documents)
            raise KeyError(f"no document {doc_id!r} in the corpus (known: {known})")
        return [c for c in self.clauses if c.doc_id == doc_id]


