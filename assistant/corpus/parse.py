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

import logging
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from assistant.corpus.errors import Problem
from assistant.corpus.records import Clause, Document, record_clause
from assistant.text import cn_to_int

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
PART_RE = re.compile(rf"^第(?P<num>{_ART_NUM})(?P<unit>[節节])(?P<rest>.*)$")
ARTICLE_RE = re.compile(rf"^第(?P<num>{_ART_NUM})(?P<unit>[條条])(?P<sep>[\s\u3000::、.．]*)(?P<body>.*)$")
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
# A law's enactment and amendment notes, one per line or several in one parenthesised line:
# 「1992年4月3日 第七届全国人民代表大会第五次会议通过」, 「(2016年3月16日第十二届…通过　根据2023年
# 12月29日…《关于修改〈…〉的决定》修正)」. A line is such a note when it starts with a date and ends
# with what happened on it (通过/修正/修订, or the 公布/施行 that may follow), with no sentence in
# it — 「本法自2016年9月1日起施行。」 is a clause.
_NOTE_DATE = (
    r"(?:\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日"
    r"|[〇○零一二三四五六七八九]{4}\s*年\s*[一二三四五六七八九十]{1,2}\s*月\s*[一二三四五六七八九十]{1,3}\s*日)"
)
_NOTE_EVENT = "通过|通過|修正|修订|修訂"
ENACTMENT_RE = re.compile(
    rf"^(?:根据|根據)?\s*{_NOTE_DATE}[^。]*?(?:{_NOTE_EVENT}|公布|公佈|施行)$"
)
_EVENT_RE = re.compile(
    rf"(?:根据|根據)?\s*(?P<date>{_NOTE_DATE})\s*(?P<what>[^。]*?(?:{_NOTE_EVENT}))"
)
_NOTE_BRACKETS = "()\uff08\uff09[]【】〔〕 \u3000"
_CN_YEAR_DIGITS = {ch: str(i) for i, ch in enumerate("〇一二三四五六七八九")} | {"○": "0", "零": "0"}
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


def is_enactment(line: str) -> bool:
    """A law's enactment/amendment note (see :data:`ENACTMENT_RE`)."""
    return bool(ENACTMENT_RE.match(line.strip(_NOTE_BRACKETS)))


def note_date(text: str) -> str | None:
    """「1992年4月3日」, 「二〇一八年十二月二十九日」 → ISO date (None if not a valid date)."""
    import datetime

    m = re.fullmatch(r"(?P<y>\S{4})年(?P<m>\S{1,2})月(?P<d>\S{1,3})日", re.sub(r"\s+", "", text))
    if not m:
        return None
    try:
        year = int(m["y"]) if m["y"].isdigit() else int("".join(_CN_YEAR_DIGITS[c] for c in m["y"]))
        return datetime.date(year, to_number(m["m"]), to_number(m["d"])).isoformat()
    except (KeyError, ValueError):
        return None


def enactment_events(line: str) -> list[tuple[str, str]]:
    """(ISO date, what happened) of each 通过/修正/修订 in an enactment note, in order."""
    out = []
    for m in _EVENT_RE.finditer(line.strip(_NOTE_BRACKETS)):
        if date := note_date(m["date"]):
            out.append((date, " ".join(m["what"].split())))
    return out


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
    printed: str | None = None  # an article's number as printed: 「第十一条」


class _DocumentParser:
    """Line-by-line state machine for one document's lines (after its 第N篇 line)."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.section_no, self.section = 0, PREAMBLE
        self.subsection_no: int | None = None
        self.subsection: str | None = None
        self.in_trailer = False
        self.record: list[str] = []  # metadata lines, verbatim (Document.record)
        self.history: list[tuple[str, str]] = []  # enactment/amendment events (Document.history)
        self.open: _Draft | None = None
        self.drafts: list[_Draft] = []
        # Drafts so far per (section, subsection): an unnumbered paragraph's position in its
        # container, kept as a running count so parsing stays linear in the number of lines.
        self.per_container: Counter[tuple[int, int | None]] = Counter()
        # Regulation style: the article (第N條) that following paragraphs and items belong to.
        self.article: _Draft | None = None
        self.last_article = 0

    def feed(self, raw: str) -> None:
        line = raw.strip()
        if not line:
            self.open = None  # a blank line ends a paragraph
        elif self.in_trailer:
            self.record.append(raw)
            self.history += enactment_events(line) if is_enactment(line) else []
        elif is_enactment(line) and not (self.open and self._continues(line)):
            self.open = None  # a law's 「…通过」「…修正」 note: the document's history, not a clause
            self.record.append(raw)
            self.history += enactment_events(line)
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
            self.record.append(raw)
        elif self.section_no and _is_trailer(line):
            self.open, self.in_trailer = None, True  # signature/date/印發 block closes the body
            self.record.append(raw)
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
        self.subsection = f"第{m['num']}{m['unit']} {clean_text(m['rest'].strip(_HEAD_STRIP))}".rstrip()
        self.open = self.article = None

    def _start_article(self, m: re.Match[str], raw: str) -> None:
        number = to_number(m["num"])
        if self.section_no == 0:  # articles without chapters: one unnamed body section
            self.section_no, self.section = 1, ""
            self.subsection_no = self.subsection = None
        self.last_article = number
        self._new_draft(number, m["body"] or "", raw, printed=f"第{m['num']}{m['unit']}")
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
        self, number: int | None, body: str, raw: str, *, subsection_body: bool = False,
        printed: str | None = None,
    ) -> None:
        if subsection_body:
            clause_no = None
        elif number is not None:
            clause_no = number
        else:  # unnumbered: its position among the paragraphs of the current container
            clause_no = 1 + self.per_container[(self.section_no, self.subsection_no)]
        self.open = _Draft(
            self.section_no, self.section, self.subsection_no, self.subsection,
            clause_no, number is not None, [raw], [body.strip()], printed,
        )
        self.drafts.append(self.open)
        self.per_container[(self.section_no, self.subsection_no)] += 1

    def document(self) -> Document:
        """The document with its metadata lines and history (call after feeding every line); a
        law's date, when nothing else gives one, is its latest enactment or amendment."""
        history = tuple(sorted(self.history, key=lambda e: e[0]))
        return replace(self.doc, record=tuple(line.strip() for line in self.record), history=history,
                       date=self.doc.date or (history[-1][0] if history else None))

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
            label.append(d.printed or f"第{d.clause_no}{'條' if d.numbered else '段'}")
        text = clean_text("".join(d.pieces))
        if not text:
            raise ValueError(f"{clause_id}: empty clause text from {d.lines!r}")
        return Clause(
            id=clause_id, doc_id=doc.id, doc_title=doc.title,
            section_no=d.section_no, section=d.section,
            subsection_no=d.subsection_no, subsection=d.subsection,
            clause_no=d.clause_no, numbered=d.numbered,
            label=LABEL_SEP.join(label), text=text,
            original="\n".join(d.lines), order=order, printed=d.printed,
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
        documents.append(parser.document())
        clauses.extend(parser.clauses(first_order=len(clauses)))
    _check_unique(documents, clauses)
    return documents, clauses


def document_records(documents: list[Document], first_order: int) -> tuple[Clause, ...]:
    """The 「文件資訊」 passages of *documents*, ordered from *first_order*: the document's
    card (標題, 文號, 發文機關, 日期, 狀態 from its metadata, which repairs what the print garbled:
    紅總字〔2010〕72號), then its metadata lines, one per sentence, verbatim but for runs of
    spaces; the addressee line (「…:」 before the body) is named 主送機關. The lines are not
    cleaned like clause text: a space there separates fields (「校對人:吳新利 印發份數:55份」)."""
    return tuple(
        record_clause(d, "\n".join(_card(d)), first_order + i) for i, d in enumerate(documents)
    )


def _card(d: Document) -> list[str]:
    # The card's field names are records.CARD_FIELDS: the answerer tells its lines from the document's.
    lines = [f"標題:{d.title}"]
    if d.doc_number:
        lines.append(f"文號:{d.doc_number}")
    if d.issuer:
        lines.append(f"發文機關:{d.issuer}")
    if d.date and (m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", d.date)):
        lines.append(f"日期:{int(m[1])}年{int(m[2])}月{int(m[3])}日")
    if d.status:
        lines.append(f"狀態:{d.status}")
    values = {line.split(":", 1)[1] for line in lines}
    for raw in _rejoin_numbers(d.record):
        line = " ".join(raw.split())
        for title in (d.title, d.heading):  # 「…的意見各高中、機關各股室:」: title and addressees
            line = line.removeprefix(title).strip() if line != title else line
        bare = line.replace(" ", "")
        if not bare or bare in values or bare in d.title:  # the card has it (a title's lines too)
            continue
        if re.fullmatch(r"[^::]+[::]", line):  # 「各省、…紅十字會:」 opens the body: addressees
            line = f"主送機關:{line[:-1]}"
        lines.append(line)
    return lines


def _rejoin_numbers(lines: Sequence[str]) -> list[str]:
    """Metadata lines with numbers put back together where a line break cut one: a web page's
    header copied line by line ends 「點擊次數 :」 / 「504發布日期:2011-07-1」 / 「4關于…」, and the
    digits opening a line belong to the field value the line before left open (a label's colon,
    a date's hyphen, or a number cut short)."""
    out = [line.strip() for line in lines]
    for i in range(1, len(out)):
        m = re.match(r"\d+", out[i])
        if m and re.search(r"[\d::-]\s*$", out[i - 1]):
            out[i - 1] += m[0]
            out[i] = out[i][m.end():].strip()
    return [line for line in out if line]


def _check_unique(documents: list[Document], clauses: list[Clause]) -> None:
    for kind, ids in (("document", [d.id for d in documents]), ("clause", [c.id for c in clauses])):
        dupes = sorted(i for i, n in Counter(ids).items() if n > 1)
        if dupes:
            raise Problem(f"duplicate {kind} ids (check the numbering in the text): {dupes}", code="duplicate_ids")
