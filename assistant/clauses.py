"""Corpus → clauses: split the guideline record into citable clauses with stable ids.

The record (``corpus/guidelines.txt``) holds five documents, each opened by a 「第N篇:…」 line.
Structure: document → section (一、) → subsection ((一)) → clause (1、 / 1.) → paragraph.
Unnumbered paragraphs are clauses too, numbered by position (label 「第N段」); the text before
the first section is the preamble (section 0, 「前言」). Document metadata (official title,
issuer, date, …) comes from the hand-checked ``corpus/documents.json``; metadata lines in the
record (titles, addressees, doc numbers, web-page header, signatures, 主題詞/印發 trailers)
are recognised by pattern and kept out of the clauses.

The source file is never edited; every repair happens in :func:`clean_text`, and
``Clause.original`` keeps the verbatim source lines for provenance. Repairs:

* page numbers left mid-sentence by the PDF extraction (「自身建 1 設」, 「村、11 企業」) are
  removed; real numbers (2012年, 80%, 1/3, 3-5個, 12371, 1:1, 4+2+4) are never set off by spaces,
  so they are untouched;
* stray spaces between Chinese characters (「召 開」, 「以 獎代補」) are removed — a join never
  inserts a space, Chinese has no hyphenation;
* lines broken mid-sentence (「…其他」 / 「工作任務。」, 「…來源」 / 「。同時,…」) are joined;
* a lone 「?」 between commas (「要加大外出培訓力度,?,即:」, doc 3 clause 4) is a transcoding
  artefact — the same one that turned 〔〕 into 「?」 in 「紅總字?2010?72號」 — so 「?,」 is
  dropped; the lost word (if any) cannot be recovered;
* the variant 臵 is written 置. Simplified leftovers (干部, 關于, 規范) stay as printed; script
  normalisation happens at retrieval time.

Beyond the seed record, the corpus directory may hold added guideline files (``.txt``, ``.md``,
``.docx``, ``.pdf``; text extraction lives in :mod:`assistant.ingest`), each with a sidecar
``<file>.meta.json`` holding its documents' stable ids (``d6``, ``d7``, … assigned once, never
reused — ``ids.json`` keeps the high-water mark) and metadata (detected from the text by
:func:`detect_metadata`, overridable). Added documents use the same structure detection, plus
regulation style: 第N章 (section) / 第N節 (subsection) / 第N條 or 第N条 (clause; the paragraphs and
(一)/1、 items after it belong to it). A 第N條 at a line start is a cross-reference, not a heading,
when the previous line broke mid-sentence, when it does not advance the numbering, or when
「規定」「的」… follow it directly (「第十七條規定的情形」). A file that cannot be read or parsed is
reported in :attr:`Corpus.errors`; the other files still load.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from .text import cn_to_int

log = logging.getLogger(__name__)

CORPUS_FILE = "guidelines.txt"
METADATA_FILE = "documents.json"
CORPUS_ENV = "ASSISTANT_CORPUS"
PREAMBLE = "前言"
LABEL_SEP = " › "

# --- character classes -----------------------------------------------------------------------

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# The record mixes CJK punctuation (、。《》“”) with ASCII stand-ins for full-width marks
# (,;:()?!), so both count as "Chinese context" when deciding whether a space is stray.
# Of the full-width block only the punctuation counts (full-width digits/letters do not).
_FULLWIDTH_PUNCT = "\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65"
_PUNCT = f"\u3000-\u303f{_FULLWIDTH_PUNCT}“”‘’,;:()?!"  # used inside [...]: no escaping needed
_CONTEXT = f"[{_CJK}{_PUNCT}]"
_PUNCT_CLASS = f"[{_PUNCT}]"
_CN_DIGITS = "〇零一二三四五六七八九十"
_CN_NUM = "[一二三四五六七八九十]+"
# Characters that follow a real quantity (3 個, 30 萬元): a number before them is never a page.
_UNITS = "年月日號号個个名萬万元%歲岁天次人份條条款項项倍期屆届"

# --- structure ---------------------------------------------------------------------------------

# 「第四篇:鄉鎮紀檢組織建設指導意見」 opens a document; the rest of the line is its heading.
DOC_START_RE = re.compile(rf"^第(?P<num>{_CN_NUM})篇[::](?P<heading>.+)$")
# 「二、進一步健全鄉鎮紀檢組織」: Chinese numeral + 、 opens a section.
SECTION_RE = re.compile(rf"^(?P<num>{_CN_NUM})、(?P<rest>.+)$")
# 「(三)建設生態班子,…」 with ASCII or full-width parentheses opens a subsection.
SUBSECTION_RE = re.compile(rf"^(?P<open>[((])(?P<num>{_CN_NUM})(?P<close>[))])(?P<rest>.*)$")
# A subsection that starts on its section's heading line: 「一、…主要目標(一)指導思想。…」.
INLINE_SUBSECTION_RE = re.compile(rf"[((]{_CN_NUM}[))]")
# 「1、」「1.」「10、」 open a numbered clause; the look-ahead keeps decimals (「3.5%」) out.
CLAUSE_RE = re.compile(r"^(?P<num>\d{1,2})[、.．](?!\d)(?P<body>.+)$")
# Regulation style: 「第三章 監督管理」 (section), 「第二節 …」 (subsection), 「第十七條 …」/「第17条:…」
# (clause). Numbers in Chinese (up to 百) or Arabic digits.
_ART_NUM = "[〇零一二三四五六七八九十百两兩]+|\\d{1,3}"
CHAPTER_RE = re.compile(rf"^第(?P<num>{_ART_NUM})章(?P<rest>.*)$")
PART_RE = re.compile(rf"^第(?P<num>{_ART_NUM})[節节](?P<rest>.*)$")
ARTICLE_RE = re.compile(rf"^第(?P<num>{_ART_NUM})[條条](?P<sep>[\s\u3000::、.．]*)(?P<body>.*)$")
# What follows 「第十七條」 directly when it is a reference, not a heading: 「第十七條規定的」,
# 「第三條第二款」, 「第五條、第六條」 (a heading puts a space or a colon after the number).
_HEAD_STRIP = " \u3000::"  # between 「第三章」 and its name
_REFERENCE_TAIL = re.compile(
    r"^(?:規定|规定|所|的|之|中|第|款|項|项|和|或|至|及|與|与|以|明確|明确|要求|有關|有关|[,,。;;、)」”])"
)

# --- metadata lines ----------------------------------------------------------------------------

# Closing block of a document: 主題詞/抄送/印發/校對人 lines and bare dates (Arabic or 〇-style).
TRAILER_RE = re.compile(
    rf"^(主題詞|主题词|抄送|抄報|校對人|校对人)|印發|印发"
    rf"|^\d{{4}}年\d{{1,2}}月\d{{1,2}}日$"
    rf"|^[{_CN_DIGITS}]{{4}}年[{_CN_DIGITS}]{{1,2}}月[{_CN_DIGITS}]{{1,3}}日$"
)
# A signature: a short organisation name on its own line (「中共云和縣委」), no punctuation.
SIGNATURE_RE = re.compile(
    rf"^[{_CJK}]{{2,24}}(委|委員會|委员会|政府|總會|总会|辦公室|办公室|機關|机关|局|廳|厅|部)$"
)
# Before the first section, a line is preamble prose only if it has a sentence in it; a short
# line ending in 「:」 is an addressee list (「各高中、機關各股室:」), not prose.
ADDRESSEE_MAX_LEN = 40

# --- cleaning ----------------------------------------------------------------------------------

# Page numbers: a 1–3 digit run set off by whitespace inside a sentence (「自身建 1 設」). The
# extraction sometimes drops the space next to punctuation (「村、11 企業」), so one-sided
# spacing counts when the other side is punctuation. Real numbers are never space-separated
# here; the unit guard protects 「共 3 個」-style quantities anyway.
PAGE_NUMBER_RE = re.compile(
    rf"(?:(?<={_CONTEXT})\s+\d{{1,3}}\s+(?={_CONTEXT})"
    rf"|(?<={_PUNCT_CLASS})\d{{1,3}}\s+(?={_CONTEXT})"
    rf"|(?<={_CONTEXT})\s+\d{{1,3}}(?={_PUNCT_CLASS}))"
    rf"(?![{_UNITS}])"
)
# Whitespace with Chinese on both sides is an extraction artefact (「召 開」, 「等制度, 按照」).
STRAY_SPACE_RE = re.compile(rf"(?<={_CONTEXT})\s+(?={_CONTEXT})")
# 「力度,?,即」: a question mark between commas stands for a character lost in transcoding.
QUESTION_ARTEFACT_RE = re.compile(r"(?<=[,,、])[??][,,、]")
VARIANTS = str.maketrans({"臵": "置"})

# A line ending (after closing quotes/brackets) in one of these ends its sentence; otherwise
# the next line continues it.
_SENTENCE_END = "。!?;:!?;:"
_CLOSERS = "”’」』))》"
# A line cannot start a paragraph with these: it continues the previous line (「。同時,…」).
_CONTINUATION_START = "。,、;:!?)”,;:!?)"


# --- public data types -------------------------------------------------------------------------


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

    @property
    def sha(self) -> str:
        """sha256 hex of id + text: changes exactly when the clause must be re-embedded."""
        return hashlib.sha256((self.id + self.text).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SourceError:
    """A corpus file that could not be loaded, and why (its documents are left out)."""

    file: str  # file name inside the corpus directory
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.reason}"


@dataclass(frozen=True)
class Corpus:
    documents: tuple[Document, ...]
    clauses: tuple[Clause, ...]
    errors: tuple[SourceError, ...] = ()  # files left out; the other documents still load

    def document(self, doc_id: str) -> Document:
        for d in self.documents:
            if d.id == doc_id:
                return d
        known = ", ".join(d.id for d in self.documents)
        raise KeyError(f"no document {doc_id!r} in the corpus (known: {known})")

    @cached_property
    def _by_id(self) -> dict[str, Clause]:
        return {c.id: c for c in self.clauses}

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


# --- cleaning ----------------------------------------------------------------------------------


def clean_text(text: str) -> str:
    """Clean form of source text: artefacts, page numbers and stray spaces removed, 臵→置."""
    text = QUESTION_ARTEFACT_RE.sub("", text)
    text = PAGE_NUMBER_RE.sub("", text)
    text = STRAY_SPACE_RE.sub("", text)
    return text.translate(VARIANTS).strip()


def cn_numeral(text: str) -> int:
    """「三」→3, 「十」→10, 「十二」→12, 「二十一」→21 (the range headings use)."""
    return cn_to_int(text)


def to_number(text: str) -> int:
    """「17」→17, 「十七」→17, 「一百零二」→102, 「兩」→2: the numbers of chapters and articles."""
    return int(text) if text.isdigit() else cn_to_int(text)


def _ends_sentence(line: str) -> bool:
    stripped = line.rstrip().rstrip(_CLOSERS)
    return bool(stripped) and stripped[-1] in _SENTENCE_END


def _is_preamble_prose(line: str) -> bool:
    """Before the first section: prose has a sentence; titles, numbers and addressees do not."""
    if "。" in line:
        return True
    return line.endswith((":", ":")) and len(line) > ADDRESSEE_MAX_LEN


def _is_trailer(line: str) -> bool:
    """A line of the closing block (signature, date, 主題詞, 印發): never a sentence, so
    「本意見自印發之日起施行。」 stays a clause."""
    return "。" not in line and bool(TRAILER_RE.search(line) or SIGNATURE_RE.match(line))


def _split_section_line(rest: str) -> tuple[str, str]:
    """Split what follows 「二、」 into (heading, body on the same line).

    The heading ends where an inline subsection starts (「…主要目標(一)指導思想。」) or at the
    first space when a sentence follows it (「…基層紅十字會建設 努力完成規劃目標。…」).
    """
    cuts: list[int] = []
    if m := INLINE_SUBSECTION_RE.search(rest):
        cuts.append(m.start())
    if (m := re.search(r"\s+", rest)) and "。" in rest[m.end():]:
        cuts.append(m.start())
    cut = min((c for c in cuts if c > 0), default=None)
    if cut is None:
        return rest, ""
    return rest[:cut], rest[cut:].strip()


def _split_subsection_rest(rest: str) -> tuple[str, str]:
    """Split what follows 「(一)」 into (heading, body): the heading is the first sentence."""
    heading, stop, body = rest.partition("。")
    if stop and body.strip():
        return heading, body.strip()
    return rest.rstrip("。"), ""


# --- parsing -----------------------------------------------------------------------------------


@dataclass
class _Draft:
    """A clause being collected: verbatim lines plus the body pieces to be cleaned."""

    section_no: int
    section: str
    subsection_no: int | None
    subsection: str | None
    clause_no: int | None
    numbered: bool
    lines: list[str]  # verbatim source lines
    pieces: list[str]  # body text per line, before cleaning


class _DocumentParser:
    """Line-by-line state machine for one document's lines (after its 第N篇 line)."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.section_no, self.section = 0, PREAMBLE
        self.subsection_no: int | None = None
        self.subsection: str | None = None
        self.in_trailer = False
        self.open: _Draft | None = None
        self.drafts: list[_Draft] = []
        # Regulation style: the article (第N條) that following paragraphs and items belong to.
        self.article: _Draft | None = None
        self.last_article = 0

    def feed(self, raw: str) -> None:
        line = raw.strip()
        if not line:
            self.open = None  # a blank line ends a paragraph
        elif self.in_trailer:
            pass
        elif m := SECTION_RE.match(line):
            self._start_section(m, raw)
        elif (m := CHAPTER_RE.match(line)) and self._is_heading(m):
            self._start_chapter(m, raw)
        elif (m := PART_RE.match(line)) and self._is_heading(m):
            self._start_part(m, raw)
        elif (m := ARTICLE_RE.match(line)) and self._is_article(m):
            self._start_article(m, raw)
        elif self.article is not None:
            self._feed_article(line, raw)
        elif SUBSECTION_RE.match(line) or CLAUSE_RE.match(line):
            self._start_unit(line, raw)
        elif self.open and self._continues(line):
            self.open.lines.append(raw)
            self.open.pieces.append(line)
        elif self.section_no == 0 and not _is_preamble_prose(line):
            self.open = None  # title, doc number, addressees, web-page header: metadata
        elif self.section_no and _is_trailer(line):
            self.open, self.in_trailer = None, True  # signature/date/印發 block closes the body
        else:
            # An unnumbered paragraph belongs to the section (and subsection) it follows. This
            # is also where document 1's closing paragraph (「加強市、縣兩級紅十字會組織建設,
            # 理順…,是一項具有全局性…」) lands: nothing in the text marks it off from section 三,
            # so it becomes 三's last paragraph rather than an invented 「結語」 section.
            self._new_draft(None, line, raw)

    # -- regulation style (第N章 / 第N節 / 第N條) ---------------------------------------------
    def _broke_off(self) -> bool:
        """The open paragraph's last line stops mid-sentence (「…依照」 / 「第十七條規定…」)."""
        return bool(self.open) and not _ends_sentence(self.open.lines[-1])

    def _is_heading(self, m: re.Match[str]) -> bool:
        rest = m["rest"]
        return not self._broke_off() and not _REFERENCE_TAIL.match(rest.lstrip())

    def _is_article(self, m: re.Match[str]) -> bool:
        """A 第N條 line opens an article unless it is a cross-reference that happens to start a
        line: mid-sentence, not advancing the numbering, or with 「規定」「的」… right after."""
        if self._broke_off() or to_number(m["num"]) <= self.last_article:
            return False
        return bool(m["sep"]) or not _REFERENCE_TAIL.match(m["body"])

    def _start_chapter(self, m: re.Match[str], raw: str) -> None:
        self.section_no = to_number(m["num"])
        num = m["num"]
        self.section = f"第{num}章 {clean_text(m['rest'].strip(_HEAD_STRIP))}".rstrip()
        self.subsection_no = self.subsection = None
        self.open = self.article = None

    def _start_part(self, m: re.Match[str], raw: str) -> None:
        self.subsection_no = to_number(m["num"])
        self.subsection = f"第{m['num']}節 {clean_text(m['rest'].strip(_HEAD_STRIP))}".rstrip()
        self.open = self.article = None

    def _start_article(self, m: re.Match[str], raw: str) -> None:
        number = to_number(m["num"])
        if self.section_no == 0:  # articles without chapters: one unnamed body section
            self.section_no, self.section = 1, ""
            self.subsection_no = self.subsection = None
        self.last_article = number
        self._new_draft(number, m["body"] or "", raw)
        self.article = self.open

    def _feed_article(self, line: str, raw: str) -> None:
        """Inside an article every paragraph and (一)/1、 item belongs to it, up to the next
        article, chapter or the closing signature/date block."""
        assert self.article is not None
        if not (self.open and self._continues(line)) and _is_trailer(line):
            self.open = self.article = None
            self.in_trailer = True
            return
        self.article.lines.append(raw)
        self.article.pieces.append(line)
        self.open = self.article

    def _continues(self, line: str) -> bool:
        """A line continues the open clause if that clause broke off mid-sentence."""
        assert self.open is not None
        return line[0] in _CONTINUATION_START or not _ends_sentence(self.open.lines[-1])

    def _start_section(self, m: re.Match[str], raw: str) -> None:
        heading, body = _split_section_line(m["rest"])
        self.section_no = cn_numeral(m["num"])
        self.section = f"{m['num']}、{clean_text(heading).rstrip('。')}"
        self.subsection_no = self.subsection = None
        self.open = self.article = None
        if body:
            self._start_unit(body, raw)

    def _start_unit(self, line: str, raw: str) -> None:
        """Start a subsection, a numbered clause or an unnumbered paragraph from *line*."""
        if m := SUBSECTION_RE.match(line):
            heading, body = _split_subsection_rest(m["rest"])
            self.subsection_no = cn_numeral(m["num"])
            self.subsection = f"{m['open']}{m['num']}{m['close']}{clean_text(heading)}"
            self.open = None
            if body:
                self._new_draft(None, body, raw, subsection_body=True)
        elif m := CLAUSE_RE.match(line):
            self._new_draft(int(m["num"]), m["body"], raw)
        else:
            self._new_draft(None, line, raw)

    def _new_draft(
        self, number: int | None, body: str, raw: str, *, subsection_body: bool = False
    ) -> None:
        if subsection_body:
            clause_no = None
        elif number is not None:
            clause_no = number
        else:  # unnumbered: its position among the paragraphs of the current container
            clause_no = 1 + sum(
                1
                for d in self.drafts
                if (d.section_no, d.subsection_no) == (self.section_no, self.subsection_no)
            )
        self.open = _Draft(
            self.section_no, self.section, self.subsection_no, self.subsection,
            clause_no, number is not None, [raw], [body.strip()],
        )
        self.drafts.append(self.open)

    def clauses(self, first_order: int) -> list[Clause]:
        return [self._finish(d, first_order + i) for i, d in enumerate(self.drafts)]

    def _finish(self, d: _Draft, order: int) -> Clause:
        doc = self.doc
        clause_id = f"{doc.id}-s{d.section_no}"
        # Articles outside any chapter sit in an unnamed section: 「《…》 › 第3條」.
        label = [f"《{doc.title}》{d.section}"]
        if d.subsection_no is not None:
            clause_id += f"-ss{d.subsection_no}"
            label.append(d.subsection)
        if d.clause_no is not None:
            clause_id += f"-c{d.clause_no}"
            label.append(f"第{d.clause_no}{'條' if d.numbered else '段'}")
        text = clean_text("".join(d.pieces))
        if not text:
            raise ValueError(f"{clause_id}: empty clause text from {d.lines!r}")
        return Clause(
            id=clause_id, doc_id=doc.id, doc_title=doc.title,
            section_no=d.section_no, section=d.section,
            subsection_no=d.subsection_no, subsection=d.subsection,
            clause_no=d.clause_no, numbered=d.numbered,
            label=LABEL_SEP.join(label), text=text,
            original="\n".join(d.lines), order=order,
        )


def _split_documents(lines: list[str]) -> Iterator[tuple[int, str, list[str]]]:
    """Yield (number, heading, body lines) per 「第N篇:…」 block."""
    current: tuple[int, str, list[str]] | None = None
    for n, raw in enumerate(lines, 1):
        if m := DOC_START_RE.match(raw.strip()):
            if current:
                yield current
            current = (cn_numeral(m["num"]), clean_text(m["heading"]), [])
        elif current:
            current[2].append(raw)
        elif raw.strip():
            raise ValueError(f"line {n} precedes the first 「第N篇:」 line: {raw!r}")
    if current:
        yield current


def _make_document(
    number: int, heading: str, metadata: Mapping[str, Any], source: str
) -> Document:
    meta = metadata.get(str(number), {})
    if meta.get("heading") not in (None, heading):
        raise ValueError(
            f"{METADATA_FILE} document {number}: heading {meta['heading']!r} does not match "
            f"the text's 第N篇 line {heading!r}"
        )
    return Document(
        id=meta.get("id", f"d{number}"),
        number=number,
        title=meta.get("title") or heading,
        heading=heading,
        issuer=meta.get("issuer"),
        date=meta.get("date"),
        doc_number=meta.get("doc_number"),
        status=meta.get("status"),
        source=source,
    )


def parse_text(
    text: str, metadata: Mapping[str, Any], source: str
) -> tuple[list[Document], list[Clause]]:
    """Parse the record *text* into documents and clauses (pure: no I/O).

    *metadata* is the content of documents.json (keyed by the document number as a string,
    "1".."5"; other keys are ignored); documents missing
    from it get their 第N篇 heading as title and no issuer/date.
    """
    documents: list[Document] = []
    clauses: list[Clause] = []
    for number, heading, lines in _split_documents(text.splitlines()):
        doc = _make_document(number, heading, metadata, source)
        parser = _DocumentParser(doc)
        for raw in lines:
            parser.feed(raw)
        documents.append(doc)
        clauses.extend(parser.clauses(first_order=len(clauses)))
    _check_unique(documents, clauses)
    return documents, clauses


def _check_unique(documents: list[Document], clauses: list[Clause]) -> None:
    for kind, ids in (("document", [d.id for d in documents]), ("clause", [c.id for c in clauses])):
        dupes = sorted(i for i, n in Counter(ids).items() if n > 1)
        if dupes:
            raise ValueError(f"duplicate {kind} ids (check the numbering in the text): {dupes}")


# --- metadata detection ------------------------------------------------------------------------

META_FIELDS = ("title", "issuer", "date", "doc_number", "status")

# 「紅總字〔2010〕72號」, 「云委發[2011]58号」; the seed's transcoding turned 〔〕 into 「?」.
DOC_NUMBER_RE = re.compile(
    rf"(?P<prefix>[{_CJK}]{{1,12}})\s*[〔\[【((??]\s*(?P<year>(?:19|20)\d\d)\s*[〕\]】))??]"
    r"\s*(?P<no>\d{1,4})\s*(?P<hao>[號号])"
)
_CN_DATE_DIGITS = {ch: i for i, ch in enumerate("〇一二三四五六七八九")} | {"零": 0, "○": 0, "O": 0}
DATE_LINE_RE = re.compile(r"^(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日$")
CN_DATE_LINE_RE = re.compile(
    r"^(?P<y>[〇○零一二三四五六七八九]{4})年(?P<m>[一二三四五六七八九十]{1,2})月(?P<d>[一二三四五六七八九十]{1,3})日$"
)
# A web page's header: 「發布日期:2011-07-14」.
PUBLISHED_RE = re.compile(
    r"(?:發布|发布|印發|印发|成文)?日期\s*[::]\s*(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})"
)
STATUS_RE = re.compile(r"^[((](?P<status>征求意見稿|征求意见稿|討論稿|讨论稿|送審稿|送审稿|草案|試行|试行|暫行|暂行)[))]$")
_DRAFT_SUFFIX_RE = re.compile(r"[((](?P<status>征求意見稿|征求意见稿|討論稿|讨论稿|送審稿|送审稿|草案)[))]$")
TITLE_END_RE = re.compile(
    r"(意見|意见|通知|辦法|办法|規定|规定|決定|决定|方案|細則|细则|條例|条例|指引|規劃|规划|綱要|纲要"
    r"|準則|准则|制度|規則|规则|指南|章程|措施|計劃|计划|報告|报告|批復|批复|通報|通报|要點|要点|函"
    r"|標準|标准|守則|守则|辦法|決議|决议)(?:[((][^))]{1,8}[))])?$"
)
ISSUER_RE = re.compile(
    rf"^[{_CJK}()()]{{2,30}}(委|委員會|委员会|政府|總會|总会|辦公室|办公室|機關|机关|局|廳|厅|部|院|會|会"
    rf"|中心|處|处|辦|办|組|组|黨組|党组|支部|總支|总支)$"
)
_WEB_HEADER_RE = re.compile(r"來源|来源|點擊|点击|瀏覽|浏览|作者[::]|發布日期|发布日期|字號|字号|打印|關閉|关闭")
_HEADER_ZONE_MAX = 15  # lines looked at for title/doc number before the first heading or sentence


def _iso(y: int, m: int, d: int) -> str | None:
    import datetime

    try:
        return datetime.date(y, m, d).isoformat()
    except ValueError:
        return None


def _date_of(line: str) -> str | None:
    """ISO date of a line that is only a date (「2011年10月9日」, 「二〇一〇年九月十三日」)."""
    line = re.sub(r"\s+", "", line)
    if m := DATE_LINE_RE.match(line):
        return _iso(int(m["y"]), int(m["m"]), int(m["d"]))
    if m := CN_DATE_LINE_RE.match(line):
        year = int("".join(str(_CN_DATE_DIGITS[c]) for c in m["y"]))
        return _iso(year, cn_numeral(m["m"]), cn_numeral(m["d"]))
    return None


def _is_structure(line: str) -> bool:
    return bool(
        SECTION_RE.match(line) or SUBSECTION_RE.match(line) or CLAUSE_RE.match(line)
        or CHAPTER_RE.match(line) or ARTICLE_RE.match(line)
    )


def detect_metadata(lines: list[str]) -> dict[str, str | None]:
    """Title, issuer, date (ISO), doc number and status (征求意見稿…) as printed in a document's
    own lines, each None when the text does not show it. Looks at the header (the lines before
    the first heading or sentence) and the closing block (signature and date lines at the end)."""
    stripped = [ln.strip() for ln in lines if ln.strip()]
    header: list[str] = []
    for line in stripped[:_HEADER_ZONE_MAX]:
        if _is_structure(line) or _is_preamble_prose(line):
            break
        header.append(line)
    trailer: list[str] = []
    for line in reversed(stripped):
        if "。" in line or _is_structure(line) or len(trailer) >= 8:
            break
        trailer.insert(0, line)

    meta: dict[str, str | None] = dict.fromkeys(META_FIELDS)
    for line in header + trailer:
        if m := DOC_NUMBER_RE.search(line):
            meta["doc_number"] = f"{m['prefix']}〔{m['year']}〕{m['no']}{m['hao']}"
            break
    for line in reversed(trailer):  # the signing date closes the document
        if date := _date_of(line):
            meta["date"] = date
            break
    else:
        for line in header:
            if date := _date_of(line):
                meta["date"] = date
                break
            if m := PUBLISHED_RE.search(line):
                meta["date"] = _iso(int(m["y"]), int(m["m"]), int(m["d"]))
                break
    signatures = [ln for ln in trailer if ISSUER_RE.match(re.sub(r"\s+", "", ln))]
    if signatures:
        meta["issuer"] = clean_text(signatures[-1])

    # Title: the first run of header lines that ends like a title (「…的意見」), lines joined
    # (a title may be set over several lines); an issuer line printed above it is not part of it.
    runs: list[list[str]] = [[]]
    for line in header:
        # 「…工作的意見 各高中、機關各股室:」: a title sharing its line with the addressees.
        if line.endswith((":", ":")) and (m := re.match(r"^(?P<title>\S+)\s+\S+[::]$", line)):
            if TITLE_END_RE.search(m["title"]):
                runs[-1].append(m["title"])
                runs.append([])
                continue
        if (
            DOC_NUMBER_RE.search(line) or _date_of(line) or STATUS_RE.match(line)
            or _WEB_HEADER_RE.search(line) or line.endswith((":", ":")) or len(line) > 80
        ):
            if m := STATUS_RE.match(line):
                meta["status"] = m["status"]
            runs.append([])
        else:
            runs[-1].append(line)
    for run in filter(None, runs):
        while len(run) > 1 and ISSUER_RE.match(re.sub(r"\s+", "", run[0])):
            if meta["issuer"] is None:
                meta["issuer"] = clean_text(run[0])
            run = run[1:]
        # 「4關于…」: a web header's wrapped tail glued to the title.
        title = re.sub(r"^\d+(?=[關关])", "", clean_text("".join(run)))
        if m := _DRAFT_SUFFIX_RE.search(title):
            meta["status"] = meta["status"] or m["status"]
            title = title[: m.start()].rstrip()
        if TITLE_END_RE.search(title):
            meta["title"] = title
            break
    else:
        first = next((r[0] for r in runs if r), None)
        if first and not ISSUER_RE.match(first):
            meta["title"] = clean_text(first)
    return meta


# --- added files -------------------------------------------------------------------------------

SOURCE_SUFFIXES = (".txt", ".md", ".docx", ".pdf")
SIDECAR_SUFFIX = ".meta.json"
IDS_FILE = "ids.json"  # high-water mark of assigned document ids: removed ids are never reused
_ID_RE = re.compile(r"^d(\d+)$")


def split_blocks(text: str) -> list[tuple[int | None, str | None, list[str]]]:
    """(第N篇 number, heading, lines) per document: several for a file in the seed's 「第N篇:」
    format, else one block (None, None, all lines)."""
    lines = text.splitlines()
    if any(DOC_START_RE.match(line.strip()) for line in lines):
        return list(_split_documents(lines))
    return [(None, None, lines)]


def id_number(doc_id: str) -> int:
    m = _ID_RE.match(doc_id)
    if not m:
        raise ValueError(f"document id {doc_id!r} is not of the form d<N>")
    return int(m[1])


def parse_source(
    text: str, source: str, entries: list[Mapping[str, Any]], *, first_order: int = 0
) -> tuple[list[Document], list[Clause]]:
    """Parse an added file's *text* (pure: no I/O) into documents and clauses.

    *entries* come from the file's sidecar, one per document (``id`` plus any of
    :data:`META_FIELDS`; a field absent from an entry is taken from :func:`detect_metadata`).
    """
    blocks = split_blocks(text)
    if len(blocks) != len(entries):
        raise ValueError(
            f"the file holds {len(blocks)} documents but its sidecar lists {len(entries)}; "
            f"add it again (`assistant add`) to refresh the sidecar"
        )
    documents: list[Document] = []
    clauses: list[Clause] = []
    for (number, heading, lines), entry in zip(blocks, entries):
        detected = detect_metadata(lines)
        heading = heading or detected["title"] or Path(source).stem
        meta = {k: entry[k] if k in entry else detected[k] for k in META_FIELDS}
        doc = Document(
            id=entry["id"],
            number=id_number(entry["id"]) if _ID_RE.match(entry["id"]) else (number or 0),
            title=meta["title"] or heading,
            heading=heading,
            issuer=meta["issuer"],
            date=meta["date"],
            doc_number=meta["doc_number"],
            status=meta["status"],
            source=source,
        )
        parser = _DocumentParser(doc)
        for raw in lines:
            parser.feed(raw)
        found = parser.clauses(first_order=first_order + len(clauses))
        if not found:
            raise ValueError(
                f"no guideline text found in document {heading!r}: no sentences, numbered sections "
                "(一、), items (1、) or articles (第N條)"
            )
        documents.append(doc)
        clauses.extend(found)
    _check_unique(documents, clauses)
    return documents, clauses


def sidecar_path(source: Path) -> Path:
    return source.with_name(source.name + SIDECAR_SUFFIX)


def read_sidecar(source: Path) -> dict[str, Any] | None:
    """The sidecar of *source* (None if it has none); ValueError if it is malformed."""
    path = sidecar_path(source)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"sidecar {path.name} is not valid JSON ({exc})") from None
    docs = data.get("documents") if isinstance(data, dict) else None
    if not isinstance(docs, list) or not all(isinstance(d, dict) and _ID_RE.match(str(d.get("id", ""))) for d in docs):
        raise ValueError(f"sidecar {path.name} has no valid \"documents\" list of {{\"id\": \"d<N>\", …}}")
    return data


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def source_files(directory: Path) -> list[Path]:
    """Added guideline files in *directory* (the seed record, hidden files, Office lock files
    「~$…」 and READMEs excluded), by name."""
    out = []
    for path in sorted(directory.iterdir()):
        name = path.name
        if (
            path.is_file() and path.suffix.lower() in SOURCE_SUFFIXES and name != CORPUS_FILE
            and not name.startswith((".", "~$")) and not name.upper().startswith("README")
        ):
            out.append(path)
    return out


def needs_registration(source: Path) -> bool:
    """No sidecar yet, or the file changed since its sidecar was written."""
    try:
        side = read_sidecar(source)
    except ValueError:
        return False  # malformed sidecar: reported by the loader, never silently rewritten
    return side is None or side.get("sha256") != file_sha256(source)


# --- loading -----------------------------------------------------------------------------------


def _corpus_dir(corpus_dir: Path | str | None) -> Path:
    if corpus_dir is None:
        corpus_dir = os.environ.get(CORPUS_ENV) or Path(__file__).resolve().parent.parent / "corpus"
    return Path(corpus_dir).expanduser().resolve()


def _state(directory: Path) -> tuple[tuple[str, int, int], ...]:
    """What the parse depends on: name, mtime and size of every relevant file."""
    out = []
    for path in directory.iterdir():
        name = path.name
        if name in (CORPUS_FILE, METADATA_FILE) or name.endswith(SIDECAR_SUFFIX) or (
            path.suffix.lower() in SOURCE_SUFFIXES
        ):
            try:
                st = path.stat()
            except OSError:
                continue
            out.append((name, st.st_mtime_ns, st.st_size))
    return tuple(sorted(out))


def load_corpus(corpus_dir: Path | str | None = None, *, register: bool = True) -> Corpus:
    """Load and parse the corpus in *corpus_dir* (default: $ASSISTANT_CORPUS or the repo's
    corpus/ directory): the seed record plus every added file. Cached per directory and file
    modification times.

    With *register* (the default), a supported file dropped into the directory without a
    sidecar (or changed since) is registered first: metadata detected, new ids assigned and
    the sidecar written (see :func:`assistant.ingest.register`). A file that cannot be read or
    parsed is left out and reported in :attr:`Corpus.errors` (and logged once per change)."""
    directory = _corpus_dir(corpus_dir)
    if not directory.is_dir():
        raise FileNotFoundError(f"corpus directory not found: {directory} (set ${CORPUS_ENV}?)")
    if register:
        pending = [p for p in source_files(directory) if needs_registration(p)]
        if pending:
            from .ingest import register_pending

            register_pending(directory, pending)
    corpus = _load(directory, _state(directory))
    return corpus


@lru_cache(maxsize=8)
def _load(directory: Path, state: tuple[tuple[str, int, int], ...]) -> Corpus:
    documents: list[Document] = []
    clauses: list[Clause] = []
    errors: list[SourceError] = []
    owner: dict[str, str] = {}  # document id → file

    def take(name: str, docs: list[Document], cls: list[Clause]) -> None:
        for d in docs:
            if d.id in owner:
                raise ValueError(
                    f"document id {d.id} is already used by {owner[d.id]}; delete this file's "
                    f"sidecar ({name}{SIDECAR_SUFFIX}) and run `assistant index` to give it a new id"
                )
        owner.update((d.id, name) for d in docs)
        documents.extend(docs)
        clauses.extend(cls)

    seed = directory / CORPUS_FILE
    if seed.is_file():
        try:
            meta_path = directory / METADATA_FILE
            metadata = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
            docs, cls = parse_text(seed.read_text(encoding="utf-8"), metadata, CORPUS_FILE)
            take(CORPUS_FILE, docs, cls)
        except (OSError, ValueError) as exc:  # UnicodeDecodeError and JSONDecodeError included
            errors.append(SourceError(CORPUS_FILE, str(exc)))

    added: list[tuple[int, Path, dict[str, Any] | None, str | None]] = []
    for path in source_files(directory):
        try:
            side = read_sidecar(path)
        except ValueError as exc:
            errors.append(SourceError(path.name, str(exc)))
            continue
        first = min((id_number(d["id"]) for d in side["documents"]), default=0) if side else 1 << 30
        added.append((first, path, side, None))
    for _, path, side, _ in sorted(added, key=lambda t: (t[0], t[1].name)):
        from .ingest import extract_text

        try:
            text = extract_text(path)
            if side is None:
                provisional = [{"id": f"d{i}"} for i in range(len(split_blocks(text)))]
                parse_source(text, path.name, provisional)
                raise ValueError(
                    f"not registered: no sidecar {path.name}{SIDECAR_SUFFIX} (read-only corpus "
                    "directory?); run `assistant add` on it"
                )
            docs, cls = parse_source(text, path.name, side["documents"], first_order=len(clauses))
            take(path.name, docs, cls)
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or str(exc)
            errors.append(SourceError(path.name, reason))
    for err in errors:
        log.warning("corpus: %s (left out; the other documents are loaded)", err)
    return Corpus(tuple(documents), tuple(clauses), tuple(errors))
