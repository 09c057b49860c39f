"""Adding guidelines: text extraction (.txt .md .docx .pdf), sidecars, ids, and the `add`,
`docs` and `remove` commands.

Flow of ``assistant add FILE``: extract the text (:func:`extract_text`) and parse it with the
same structure detection as the seed (:func:`assistant.clauses.parse_source`) — a file that
yields no clauses is refused before anything is written — then copy it into the corpus
directory, write its sidecar ``<file>.meta.json`` (:func:`register`: stable document ids and
metadata) and sync the index (:meth:`assistant.index.ClauseStore.sync` embeds only new or
changed clauses and deletes clauses that left the corpus).

Sidecar (one per added file; ``ids.json`` keeps the highest id ever assigned, so an id is never
reused after a remove)::

    {"file": "x.docx", "sha256": "…", "format": "docx", "registered": "…", "updated": "…",
     "documents": [{"id": "d6", "heading": "…", "title": "…", "issuer": null, "date": "2011-07-14",
                    "doc_number": null, "status": "征求意見稿", "detected": {…}}]}

A field of ``documents[i]`` wins over what the text shows; ``detected`` records what the text
showed when the file was registered, so a re-registration (the file changed) refreshes the
fields nobody edited and keeps the ones given by flags or edited by hand.

Extraction: .txt as UTF-8 (BOM or not, UTF-16 with BOM), else GB18030 or Big5 (whichever decodes
strictly with fewer odd characters); .md with the markup stripped and the heading text kept;
.docx paragraphs and table rows in body order, with Word's automatic numbering written out
(「1.」, 「一、」, 「(一)」); text .pdf via pypdf with page numbers and running headers/footers
(lines repeated at the same place on most pages) removed and lines broken by the page width
joined (no space between Chinese characters; a paragraph ends at a short line or before an
indented one). Heavy imports (python-docx, pypdf, chromadb, the embedding model) happen inside
the functions: importing this module is cheap.
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import math
import os
import re
import shutil
import sys
import tempfile
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .text import int_to_cn
from .clauses import (
    CORPUS_FILE,
    DOC_START_RE,
    IDS_FILE,
    META_FIELDS,
    METADATA_FILE,
    SIDECAR_SUFFIX,
    SOURCE_SUFFIXES,
    Document,
    SourceError,
    _CONTINUATION_START,
    _corpus_dir,
    _ends_sentence,
    _is_structure,
    detect_metadata,
    file_sha256,
    id_number,
    parse_source,
    read_sidecar,
    sidecar_path,
    source_files,
    split_blocks,
)

if TYPE_CHECKING:
    from .index import SyncReport

log = logging.getLogger(__name__)

RESERVED_NAMES = {CORPUS_FILE, METADATA_FILE, IDS_FILE}
SEED_IDS = 5  # d1–d5: the five documents of the seed record


class ExtractionError(ValueError):
    """A file whose text cannot be extracted; ``str()`` names the file and the reason."""

    def __init__(self, file: str | Path, reason: str):
        self.file = Path(file).name
        self.reason = reason
        super().__init__(f"{self.file}: {reason}")


# --- .txt ------------------------------------------------------------------------------------

_ODD = re.compile(
    r"[^\u0009\u000a\u000d\u0020-\u007e\u00a0-\u00ff\u2000-\u206f\u3000-\u303f"
    r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\u2460-\u24ff\u2500-\u257f]"
)


def decode_text(data: bytes, name: str | Path = "text") -> str:
    """Bytes of a Chinese text file → str: UTF-8/UTF-16 by BOM, UTF-8, then GB18030 or Big5."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data:
        raise ExtractionError(name, "binary data (NUL bytes), not a text file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    candidates = []
    for encoding in ("gb18030", "big5"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        # Big5 bytes read as GB18030 decode into kana, Cyrillic and private-use characters;
        # GB bytes rarely decode as Big5 at all.
        candidates.append((len(_ODD.findall(text)), encoding, text))
    if not candidates:
        raise ExtractionError(name, "not text in UTF-8, GB18030 or Big5")
    odd, _, text = min(candidates)
    if odd > max(20, len(text) // 20):
        raise ExtractionError(name, "does not decode to Chinese text in UTF-8, GB18030 or Big5")
    return text


# --- .md -------------------------------------------------------------------------------------

_MD_RULES = [
    (re.compile(r"<!--.*?-->", re.S), ""),
    (re.compile(r"^```.*$|^~~~.*$", re.M), ""),
    (re.compile(r"^\s{0,3}#{1,6}\s*(.*?)\s*#*\s*$", re.M), r"\1"),  # ATX headings: keep the text
    (re.compile(r"^\s{0,3}>\s?", re.M), ""),  # block quotes
    (re.compile(r"^\s{0,3}(?:[-*_]\s*){3,}$", re.M), ""),  # horizontal rules
    (re.compile(r"^\s*[-*+]\s+(?:\[[ xX]\]\s+)?", re.M), ""),  # bullets (numbered items stay: 1.)
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # images → alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # links → text
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),
    (re.compile(r"^\s*\[[^\]]+\]:\s*\S+.*$", re.M), ""),  # link definitions
    (re.compile(r"`([^`]*)`"), r"\1"),
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),
    (re.compile(r"(?<![A-Za-z0-9*])\*(?=\S)(.+?)(?<=\S)\*(?!\*)"), r"\1"),  # *…* (CJK neighbours ok)
    (re.compile(r"~~(.+?)~~"), r"\1"),
    (re.compile(r"</?[A-Za-z][^>]*>"), ""),  # inline HTML
    (re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~])"), r"\1"),  # backslash escapes
]
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")


def markdown_to_text(md: str) -> str:
    """Markdown → plain lines: markup stripped, heading text kept as its own line (so 「## 一、總則」
    is the section 「一、總則」), table rows as their cells separated by spaces."""
    md = md.replace("\r\n", "\n").replace("\r", "\n")
    if md.startswith("---\n") and (end := md.find("\n---", 4)) != -1:  # YAML front matter
        md = md[end + 4 :].lstrip("\n")
    lines = []
    for line in md.split("\n"):
        if _SETEXT.match(line) and lines and lines[-1].strip():
            continue  # the underline of a setext heading
        if _TABLE_SEP.match(line) and "|" in line:
            continue
        if line.lstrip().startswith("|"):
            line = " ".join(c.strip() for c in line.strip().strip("|").split("|") if c.strip())
        lines.append(line.rstrip())
    text = "\n".join(lines)
    for pattern, repl in _MD_RULES:
        text = pattern.sub(repl, text)
    return text


# --- .docx -----------------------------------------------------------------------------------

_HEAVENLY = "甲乙丙丁戊己庚辛壬癸"
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"


def _roman(n: int) -> str:
    out = ""
    for value, letters in ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
                           (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while n >= value:
            out, n = out + letters, n - value
    return out


def _letters(n: int) -> str:
    return chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1)


def format_number(n: int, fmt: str) -> str:
    """A Word list counter in its numFmt (decimal, chineseCounting, ideographTraditional, …)."""
    if fmt in ("decimal", "decimalHalfWidth", "ordinal", "cardinalText", "ordinalText"):
        return str(n)
    if fmt == "decimalZero":
        return f"{n:02d}"
    if fmt == "decimalFullWidth" or fmt == "decimalFullWidth2":
        return str(n).translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    if fmt in ("chineseCounting", "chineseCountingThousand", "japaneseCounting", "taiwaneseCounting",
               "taiwaneseCountingThousand", "ideographDigital", "koreanCounting"):
        return int_to_cn(n)
    if fmt in ("ideographTraditional",):
        return _HEAVENLY[(n - 1) % 10]
    if fmt in ("decimalEnclosedCircle", "decimalEnclosedCircleChinese", "ideographEnclosedCircle"):
        return _CIRCLED[n - 1] if 0 < n <= len(_CIRCLED) else str(n)
    if fmt in ("decimalEnclosedParen",):
        return f"({n})"
    if fmt == "lowerLetter":
        return _letters(n)
    if fmt == "upperLetter":
        return _letters(n).upper()
    if fmt == "lowerRoman":
        return _roman(n)
    if fmt == "upperRoman":
        return _roman(n).upper()
    return str(n)


class _WordNumbering:
    """Writes out Word's automatic list numbers (the text of 「1.」 is not in the paragraph)."""

    def __init__(self, document: Any):
        from docx.oxml.ns import qn

        self.qn = qn
        self.levels: dict[str, dict[int, tuple[str, str, int]]] = {}  # numId → ilvl → (fmt, text, start)
        self.counters: dict[str, dict[int, int]] = {}
        try:
            root = document.part.numbering_part.element
        except Exception:  # no numbering part
            return
        w = lambda tag: qn(f"w:{tag}")  # noqa: E731
        abstract: dict[str, dict[int, tuple[str, str, int]]] = {}
        for an in root.iter(w("abstractNum")):
            levels = {}
            for lvl in an.iter(w("lvl")):
                levels[int(lvl.get(w("ilvl"), "0"))] = self._level(lvl)
            abstract[an.get(w("abstractNumId"))] = levels
        for num in root.iter(w("num")):
            ref = num.find(w("abstractNumId"))
            levels = dict(abstract.get(ref.get(w("val")) if ref is not None else "", {}))
            for override in num.iter(w("lvlOverride")):
                ilvl = int(override.get(w("ilvl"), "0"))
                if (lvl := override.find(w("lvl"))) is not None:
                    levels[ilvl] = self._level(lvl)
                if (start := override.find(w("startOverride"))) is not None and ilvl in levels:
                    fmt, text, _ = levels[ilvl]
                    levels[ilvl] = (fmt, text, int(start.get(w("val"), "1")))
            self.levels[num.get(w("numId"))] = levels

    def _level(self, lvl: Any) -> tuple[str, str, int]:
        w = lambda tag: self.qn(f"w:{tag}")  # noqa: E731
        get = lambda tag, default: (lvl.find(w(tag)).get(w("val")) if lvl.find(w(tag)) is not None else default)  # noqa: E731
        return get("numFmt", "decimal"), get("lvlText", ""), int(get("start", "1"))

    def _num_pr(self, paragraph: Any) -> tuple[str, int] | None:
        w = lambda tag: self.qn(f"w:{tag}")  # noqa: E731
        num_id = ilvl = None
        ppr = paragraph._p.pPr
        if ppr is not None and ppr.numPr is not None:
            if ppr.numPr.numId is not None:
                num_id = str(ppr.numPr.numId.val)
            if ppr.numPr.ilvl is not None:
                ilvl = int(ppr.numPr.ilvl.val)
        style = paragraph.style
        while num_id is None and style is not None:  # numbering inherited from the style chain
            spp = style.element.find(w("pPr"))
            npr = spp.find(w("numPr")) if spp is not None else None
            if npr is not None and npr.find(w("numId")) is not None:
                num_id = npr.find(w("numId")).get(w("val"))
                if ilvl is None and npr.find(w("ilvl")) is not None:
                    ilvl = int(npr.find(w("ilvl")).get(w("val")))
            style = style.base_style
        if num_id is None or num_id == "0" or num_id not in self.levels:
            return None
        return num_id, ilvl or 0

    def label(self, paragraph: Any) -> str:
        """The list number of *paragraph* as Word shows it (「1.」, 「(一)」), or ""."""
        pr = self._num_pr(paragraph)
        if pr is None:
            return ""
        num_id, ilvl = pr
        levels = self.levels[num_id]
        if ilvl not in levels:
            return ""
        counters = self.counters.setdefault(num_id, {})
        counters[ilvl] = counters.get(ilvl, levels[ilvl][2] - 1) + 1
        for deeper in [k for k in counters if k > ilvl]:
            del counters[deeper]  # a higher level restarts the levels below it
        fmt, text, _ = levels[ilvl]
        if fmt in ("bullet", "none") or not text:
            return ""

        def sub(m: re.Match[str]) -> str:
            k = int(m[1]) - 1
            if k not in levels:
                return ""
            value = counters.get(k, levels[k][2])
            return format_number(value, levels[k][0])

        return re.sub(r"%(\d)", sub, text)


def docx_text(path: Path) -> str:
    """Paragraphs and table rows of a .docx in body order, automatic numbers written out."""
    try:
        import docx
        from docx.oxml.ns import qn
        from docx.table import Table
        from docx.text.paragraph import Paragraph
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise ExtractionError(path, f"python-docx is not installed ({exc})") from None
    try:
        document = docx.Document(str(path))
    except Exception as exc:  # PackageNotFoundError, BadZipFile, KeyError, XML errors
        raise ExtractionError(
            path, f"not a readable Word .docx file ({type(exc).__name__}: {exc}); "
            "an old .doc must be saved as .docx first"
        ) from None
    numbering = _WordNumbering(document)
    out: list[str] = []

    def paragraph_text(p: Any) -> str:
        text = p.text.replace("\t", " ").replace("\u00a0", " ")
        if text.strip():
            label = numbering.label(p)
            return label + text.strip() if label else text
        return ""

    def walk(parent: Any) -> None:
        for child in parent.iterchildren():
            if child.tag == qn("w:p"):
                out.append(paragraph_text(Paragraph(child, document)))
            elif child.tag == qn("w:tbl"):
                for row in Table(child, document).rows:
                    cells: list[str] = []
                    for cell in row.cells:
                        text = " ".join(p.text.strip() for p in cell.paragraphs if p.text.strip())
                        if text and (not cells or cells[-1] != text):  # merged cells repeat
                            cells.append(text)
                    out.append(" ".join(cells))
            elif child.tag == qn("w:sdt"):
                content = child.find(qn("w:sdtContent"))
                if content is not None:
                    walk(content)

    walk(document.element.body)
    # One paragraph per line, as in the seed record: a paragraph that stops mid-sentence (lines
    # typed with hard returns) is continued by the next one, as the parser does for the seed.
    return "\n".join(line for line in out if line.strip())


# --- .pdf ------------------------------------------------------------------------------------


@dataclass
class _Line:
    text: str
    x0: float
    x1: float
    y: float
    size: float
    page: int


def _width(text: str) -> float:
    """Width in em: CJK, full-width and ambiguous (“”·) characters 1, the rest ½."""
    return sum(1.0 if unicodedata.east_asian_width(c) in "WFA" else 0.5 for c in text)


PAGE_NUMBER_RE = re.compile(
    r"^[-–—\s]*(?:第\s*)?\d{1,4}(?:\s*[頁页])?(?:\s*[//]\s*\d{1,4}|\s*[,,]?\s*共\s*\d{1,4}\s*[頁页])?[-–—\s]*$"
    r"|^(?:page|Page|PAGE)\s*\d{1,4}(?:\s*of\s*\d{1,4})?$"
    r"|^[-–—\s]*[ivxlcIVXLC]{1,6}[-–—\s]*$"
)


def _page_lines(chunks: list[tuple[str, list[float], list[float], float]], page: int) -> list[_Line]:
    """Text chunks (from pypdf's visitor) → lines with their position and font size."""
    lines: list[_Line] = []
    cur: _Line | None = None
    for text, cm, tm, font_size in chunks:
        _, _, c, d, e, f = (  # full matrix product; only the scale (c, d) and origin (e, f) are used
            tm[0] * cm[0] + tm[1] * cm[2], tm[0] * cm[1] + tm[1] * cm[3],
            tm[2] * cm[0] + tm[3] * cm[2], tm[2] * cm[1] + tm[3] * cm[3],
            tm[4] * cm[0] + tm[5] * cm[2] + cm[4], tm[4] * cm[1] + tm[5] * cm[3] + cm[5],
        )
        size = abs(font_size * math.hypot(c, d)) or abs(font_size) or 10.0
        x, y = e, f
        for k, part in enumerate(text.split("\n")):
            if k and cur is not None:
                lines.append(cur)
                cur = None
            if not part or (cur is None and not part.strip()):
                continue
            if cur is not None and abs(y - cur.y) > 0.5 * max(size, cur.size):
                lines.append(cur)
                cur = None
            if cur is None:
                lead = len(part) - len(part.lstrip())
                part = part.lstrip()
                x0 = x + _width(" " * lead) * size
                cur = _Line(part, x0, x0 + _width(part) * size, y, size, page)
            else:
                start = x if x > cur.x1 - 0.5 * size else cur.x1
                cur.text += part
                cur.x1 = max(cur.x1, start + _width(part) * size)
    if cur is not None:
        lines.append(cur)
    return [ln for ln in lines if ln.text.strip()]


def _strip_page_furniture(pages: list[list[_Line]]) -> list[list[_Line]]:
    """Drop page numbers and running headers/footers: the top two and bottom two lines of a
    page when they are a page number, or when the same text (digits aside) stands at the same
    height on at least half of the pages."""
    n = len(pages)
    need = max(2, math.ceil(n / 2))

    def band(page: list[_Line]) -> set[int]:
        order = sorted(range(len(page)), key=lambda i: -page[i].y)
        return set(order[:2]) | set(order[-2:])

    def norm(text: str) -> str:
        return re.sub(r"\d+", "#", re.sub(r"\s+", "", text))

    bands = [band(p) for p in pages]
    marks = [[(norm(p[i].text), p[i].y) for i in b] for p, b in zip(pages, bands)]
    out = []
    for page, b in zip(pages, bands):
        keep = []
        for i, line in enumerate(page):
            if i in b:
                if PAGE_NUMBER_RE.match(line.text.strip()):
                    continue
                key = norm(line.text)
                same = sum(1 for m in marks if any(t == key and abs(y - line.y) <= 3 for t, y in m))
                if n >= 2 and same >= need:
                    continue
            keep.append(line)
        out.append(keep)
    return out


def _join_lines(pages: list[list[_Line]]) -> list[str]:
    """Body lines → paragraphs: a line that reaches the right margin continues on the next line
    (also across a page break) unless the next line is indented or set off by extra space, or
    the line ends a sentence and the next one starts a heading (or the document marks its
    paragraphs neither by indents nor by spacing, so a sentence end at the margin may end one)."""
    body = [ln for page in pages for ln in page]
    if not body:
        return []
    left: dict[int, float] = {}
    right: dict[int, float] = {}
    for ln in body:
        left[ln.page] = min(left.get(ln.page, ln.x0), ln.x0)
        right[ln.page] = max(right.get(ln.page, ln.x1), ln.x1)

    def indent(ln: _Line) -> float:
        return (ln.x0 - left[ln.page]) / ln.size

    uses_indent = any(0.8 < indent(ln) < 4.5 for ln in body)
    steps = sorted(a.y - b.y for a, b in zip(body, body[1:]) if a.page == b.page and a.y > b.y)
    leading = steps[len(steps) // 2] if steps else 0.0  # the usual distance between lines
    uses_gaps = any(1.2 * leading < step < 4 * leading for step in steps)  # space between paragraphs
    paragraphs: list[str] = []
    current = body[0].text.strip()
    for prev, line in zip(body, body[1:]):
        # CJK line breaking keeps 「“」 off a line end and 「”,。」 off a line start, so a full line
        # can stop up to ~3 characters short of the margin.
        full = prev.x1 >= right[prev.page] - 3.2 * prev.size
        ends = _ends_sentence(prev.text)
        gap = bool(leading) and line.page == prev.page and prev.y - line.y > 1.2 * leading
        join = line.text.strip()[:1] in _CONTINUATION_START or (  # 「”,」 never starts a paragraph
            full and indent(line) <= 0.8 and not gap
            and not (ends and (_is_structure(line.text.strip()) or not (uses_indent or uses_gaps)))
        )
        if join:
            a, b = current[-1:], line.text.strip()[:1]
            space = " " if a.isascii() and a.isalpha() and b.isascii() and b.isalpha() else ""
            current += space + line.text.strip()
        else:
            paragraphs.append(current)
            current = line.text.strip()
    paragraphs.append(current)
    return paragraphs


def pdf_text(path: Path) -> str:
    """The text of a text PDF as paragraphs (see :func:`_join_lines`), page furniture removed."""
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise ExtractionError(path, f"pypdf is not installed ({exc})") from None
    try:
        reader = PdfReader(str(path))
        encrypted = reader.is_encrypted
    except (PdfReadError, ValueError, OSError, KeyError, TypeError) as exc:
        raise ExtractionError(path, f"not a readable PDF ({type(exc).__name__}: {exc})") from None
    if encrypted:
        try:
            opened = reader.decrypt("")  # an owner password alone still lets anyone read
        except Exception as exc:  # e.g. AES without the cryptography package
            raise ExtractionError(path, f"encrypted PDF that cannot be opened here ({exc}); "
                                  "save an unprotected copy") from None
        if not opened:
            raise ExtractionError(path, "encrypted PDF (password-protected); save an unprotected copy")
    pages: list[list[_Line]] = []
    try:
        for number, page in enumerate(reader.pages, 1):
            chunks: list[tuple[str, list[float], list[float], float]] = []

            def visit(text, cm, tm, font_dict, font_size, _chunks=chunks):  # noqa: ANN001
                if text:
                    _chunks.append((text, list(cm), list(tm), float(font_size or 0)))

            page.extract_text(visitor_text=visit)
            pages.append(_page_lines(chunks, number))
    except ExtractionError:
        raise
    except Exception as exc:  # damaged content streams, unsupported fonts
        raise ExtractionError(path, f"text extraction failed ({type(exc).__name__}: {exc})") from None
    if not any(pages):
        raise ExtractionError(
            path, f"no text layer in {len(pages)} page(s): a scanned PDF? run OCR on it first "
            "(e.g. ocrmypdf) or add the text as .docx/.txt"
        )
    return "\n".join(_join_lines(_strip_page_furniture(pages)))


# --- dispatch --------------------------------------------------------------------------------


def extract_text(path: str | Path) -> str:
    """The plain text of a guideline file (.txt .md .docx .pdf), lines as paragraphs or source
    lines; ExtractionError (a ValueError) naming the file and the reason if it has none."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SOURCE_SUFFIXES:
        raise ExtractionError(
            path, f"unsupported file type {suffix or '(none)'!r} (supported: {' '.join(SOURCE_SUFFIXES)})"
        )
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ExtractionError(path, f"cannot be read ({exc.strerror or exc})") from None
    if size == 0:
        raise ExtractionError(path, "empty file (0 bytes)")
    try:
        if suffix == ".docx":
            text = docx_text(path)
        elif suffix == ".pdf":
            text = pdf_text(path)
        else:
            text = decode_text(path.read_bytes(), path)
            if suffix == ".md":
                text = markdown_to_text(text)
    except OSError as exc:
        raise ExtractionError(path, f"cannot be read ({exc.strerror or exc})") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    if not text.strip():
        raise ExtractionError(path, "no text in the file")
    return text


# --- sidecars and ids --------------------------------------------------------------------------


def _lock(directory: Path):
    """A cross-process lock per corpus directory (kept outside it, in the temp dir)."""
    import hashlib

    from filelock import FileLock

    digest = hashlib.sha1(str(directory.resolve()).encode()).hexdigest()[:16]
    return FileLock(str(Path(tempfile.gettempdir()) / f"guideline-assistant-corpus-{digest}.lock"), timeout=60)


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _used_ids(directory: Path) -> dict[str, str]:
    """Every document id in use in *directory* → the file that uses it."""
    used: dict[str, str] = {}
    seed = directory / CORPUS_FILE
    if seed.is_file():
        try:
            meta = json.loads((directory / METADATA_FILE).read_text(encoding="utf-8"))
            used.update((str(v["id"]), CORPUS_FILE) for v in meta.values() if isinstance(v, dict) and "id" in v)
        except (OSError, ValueError):
            pass
        try:
            from .clauses import cn_numeral

            for line in seed.read_text(encoding="utf-8").splitlines():
                if m := DOC_START_RE.match(line.strip()):
                    used.setdefault(f"d{cn_numeral(m['num'])}", CORPUS_FILE)
        except (OSError, ValueError, KeyError):
            pass
    for path in directory.glob(f"*{SIDECAR_SUFFIX}"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            for d in data.get("documents", []):
                used[str(d["id"])] = path.name[: -len(SIDECAR_SUFFIX)]
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            continue
    return used


def _next_ids(directory: Path, count: int, file: str) -> list[str]:
    """*count* fresh ids: above every id in use and every id ever assigned (ids.json)."""
    registry_path = directory / IDS_FILE
    try:
        registry = json.loads(registry_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        registry = {}
    # d1–d5 belong to the seed record even in a directory without it: an added file's id never
    # reads like a seed document's.
    last = max(int(registry.get("last", 0)), SEED_IDS)
    for doc_id in _used_ids(directory):
        try:
            last = max(last, id_number(doc_id))
        except ValueError:
            continue
    ids = [f"d{last + i}" for i in range(1, count + 1)]
    assigned = dict(registry.get("assigned", {}))
    assigned.update((i, file) for i in ids)
    _write_json(registry_path, {
        "about": "highest document id ever assigned; ids of removed files are never reused",
        "last": last + count, "assigned": assigned,
    })
    return ids


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).astimezone().isoformat(timespec="seconds")


def _build_entries(
    text: str, source: Path, old: Mapping[str, Any] | None, overrides: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    """Sidecar entries for *text*'s documents: ids from the old sidecar (None for new ones),
    fields: flags, else a value edited in the old sidecar, else what the text shows."""
    blocks = split_blocks(text)
    old_docs = list((old or {}).get("documents", []))
    by_heading = {d.get("heading"): d for d in old_docs}
    entries = []
    for i, (part, heading, lines) in enumerate(blocks):
        detected = detect_metadata(lines)
        heading = heading or detected["title"] or source.stem
        prev = by_heading.get(heading) or (old_docs[i] if len(old_docs) == len(blocks) else None)
        entry: dict[str, Any] = {"id": prev["id"] if prev else None}
        if part is not None:
            entry["part"] = part  # 第N篇
        entry["heading"] = heading
        for key in META_FIELDS:
            if overrides and overrides.get(key) is not None:
                entry[key] = overrides[key]
            elif prev is not None and key in prev and prev[key] != prev.get("detected", {}).get(key, object()):
                entry[key] = prev[key]  # given by a flag or edited by hand: kept
            else:
                entry[key] = detected[key]
        entry["detected"] = detected
        entries.append(entry)
    return entries


def _validate(text: str, name: str, entries: list[dict[str, Any]]) -> tuple[list[Document], int]:
    """Parse with provisional ids: ValueError if the file yields no usable document."""
    provisional = [{**e, "id": f"d{900000 + i}"} for i, e in enumerate(entries)]
    docs, clauses = parse_source(text, name, provisional)
    return docs, len(clauses)


def register(
    path: Path, overrides: Mapping[str, Any] | None = None, *, text: str | None = None
) -> dict[str, Any]:
    """Write (or refresh) the sidecar of the corpus file *path*; returns the sidecar.

    Raises ExtractionError/ValueError (nothing written) if the file yields no document."""
    path = Path(path)
    directory = path.parent
    with _lock(directory):
        if text is None:
            text = extract_text(path)
        old = read_sidecar(path)  # ValueError for a malformed sidecar: fix or delete it by hand
        entries = _build_entries(text, path, old, overrides)
        _validate(text, path.name, entries)
        missing = [e for e in entries if not e["id"]]
        for entry, new_id in zip(missing, _next_ids(directory, len(missing), path.name) if missing else []):
            entry["id"] = new_id
        side = {
            "file": path.name,
            "sha256": file_sha256(path),
            "format": path.suffix.lower().lstrip("."),
            "registered": (old or {}).get("registered") or _now(),
            "updated": _now(),
            "documents": entries,
        }
        same = old is not None and {k: v for k, v in old.items() if k != "updated"} == {
            k: v for k, v in side.items() if k != "updated"
        }
        if not same:
            _write_json(sidecar_path(path), side)
            return side
        return old


def register_pending(directory: Path, paths: Sequence[Path]) -> None:
    """Register files dropped into the corpus directory (called by load_corpus). A file that
    cannot be registered is left alone: the loader reports why."""
    for path in paths:
        try:
            register(path)
        except (OSError, ValueError) as exc:
            log.debug("not registered: %s", exc)
        except Exception as exc:  # a lock timeout must not stop the corpus from loading
            log.debug("not registered: %s: %s", path.name, exc)


# --- add / remove / docs -----------------------------------------------------------------------


def normalize_date(value: str | None) -> str | None:
    """「2011-7-14」, 「2011/07/14」, 「2011年7月14日」 → 「2011-07-14」; ValueError otherwise."""
    if value is None or not value.strip():
        return None
    m = re.match(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$", value)
    if m:
        try:
            return datetime.date(int(m[1]), int(m[2]), int(m[3])).isoformat()
        except ValueError:
            pass
    raise ValueError(f"not a date: {value!r} (use YYYY-MM-DD)")


@dataclass
class FileResult:
    path: str  # as given
    name: str  # file name in the corpus directory
    status: str  # added | updated | unchanged | duplicate | failed
    documents: list[Document] = field(default_factory=list)
    clauses: int = 0
    error: str | None = None  # the reason, when failed (or the duplicate's twin)

    def __str__(self) -> str:
        if self.status == "failed":
            return f"{'failed':<10}{self.path}: {self.error} — not added"
        if self.status == "duplicate":
            return f"{'skipped':<10}{self.path}: {self.error}"
        docs = "; ".join(_describe(d) for d in self.documents)
        return f"{self.status:<10}{self.name} → {docs} ({self.clauses} clauses)"


@dataclass
class AddReport:
    files: list[FileResult]
    sync: SyncReport | None = None  # None when the index was not synced
    corpus_errors: list[SourceError] = field(default_factory=list)  # other files' problems

    @property
    def ok(self) -> bool:
        return all(f.status != "failed" for f in self.files)

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "failed"]

    def lines(self) -> list[str]:
        out = [str(f) for f in self.files]
        if self.sync is not None:
            out.append(f"index: {self.sync}")
        out += [f"warning: {e} (left out of the corpus)" for e in self.corpus_errors]
        return out


def _describe(doc: Document) -> str:
    extra = " · ".join(x for x in (doc.issuer, doc.date, doc.doc_number, doc.status) if x)
    return f"{doc.id} 《{doc.title}》" + (f" {extra}" if extra else "")


def _safe_name(name: str) -> str:
    name = Path(name).name.strip()
    if not name or name.startswith((".", "~$")) or name.endswith(SIDECAR_SUFFIX) or name in RESERVED_NAMES:
        raise ValueError(f"cannot be stored under the name {name!r} in the corpus directory")
    return name


def sync_index(
    corpus_dir: str | Path | None = None, index_path: str | Path | None = None, *,
    progress: bool = True, store: Any = None, embedder: Any = None,
) -> tuple[SyncReport, Any]:
    """Make the index hold exactly the corpus's clauses (embedding only new/changed ones).
    Returns (report, corpus). Pass *store*/*embedder* to reuse a running assistant's."""
    from .clauses import load_corpus

    corpus = load_corpus(corpus_dir)
    if embedder is None:
        from .embed import get_embedder

        embedder = get_embedder()
    if store is None:
        from .index import ClauseStore, open_client

        store = ClauseStore(open_client(Path(index_path) if index_path else None), embedder.name)
    report = store.sync(corpus.clauses, embedder, corpus.documents, progress=progress)
    return report, corpus


def add_files(
    paths: Sequence[str | Path],
    *,
    title: str | None = None,
    issuer: str | None = None,
    date: str | None = None,
    doc_number: str | None = None,
    status: str | None = None,
    names: Sequence[str] | None = None,
    corpus_dir: str | Path | None = None,
    index_path: str | Path | None = None,
    sync: bool = True,
    progress: bool = False,
    store: Any = None,
    embedder: Any = None,
) -> AddReport:
    """Add guideline files to the corpus and sync the index; the web upload box calls this.

    Each file is extracted and parsed first; one that yields no document (scanned or encrypted
    PDF, empty, not the format its name says, no recognisable text) is reported as ``failed``
    with the reason and nothing is written for it. Good files are copied into the corpus
    directory (*names* optionally gives the name to store each under, e.g. an upload's original
    name), registered (sidecar, ids) and then the index is synced once — unless *sync* is False
    or no file was added or changed. Metadata arguments override what the text shows (title and
    doc_number only for a single file holding a single document). Never raises for a bad file;
    raises ValueError for bad arguments."""
    directory = _corpus_dir(corpus_dir)
    directory.mkdir(parents=True, exist_ok=True)
    overrides = {
        "title": title.strip() if title else None,
        "issuer": issuer.strip() if issuer else None,
        "date": normalize_date(date),
        "doc_number": doc_number.strip() if doc_number else None,
        "status": status.strip() if status else None,
    }
    if names is not None and len(names) != len(paths):
        raise ValueError("names must give one name per path")
    if (overrides["title"] or overrides["doc_number"]) and len(paths) > 1:
        raise ValueError("--title and --doc-number name one document: add one file at a time with them")
    results: list[FileResult] = []
    for i, given in enumerate(paths):
        src = Path(given)
        try:
            name = _safe_name(names[i] if names is not None else src.name)
        except ValueError as exc:
            results.append(FileResult(str(given), src.name, "failed", error=str(exc)))
            continue
        results.append(_add_one(src, name, directory, overrides, str(given)))
    report = AddReport(results)
    changed = any(r.status in ("added", "updated") for r in results)
    if sync and changed:
        report.sync, corpus = sync_index(directory, index_path, progress=progress, store=store, embedder=embedder)
        report.corpus_errors = list(corpus.errors)
    return report


def _add_one(src: Path, name: str, directory: Path, overrides: Mapping[str, Any], given: str) -> FileResult:
    def failed(reason: str) -> FileResult:
        return FileResult(given, name, "failed", error=reason)

    if src.suffix.lower() not in SOURCE_SUFFIXES:
        return failed(f"unsupported file type {src.suffix or '(none)'!r} (supported: {' '.join(SOURCE_SUFFIXES)})")
    if Path(name).suffix.lower() != src.suffix.lower():
        return failed(f"the stored name {name!r} must keep the file type {src.suffix!r}")
    if not src.is_file():
        return failed("no such file")
    try:
        text = extract_text(src)
        dst = directory / name
        old = read_sidecar(dst) if dst.exists() else None
        entries = _build_entries(text, dst, old, overrides)
        if len(entries) > 1 and (overrides.get("title") or overrides.get("doc_number")):
            return failed(
                f"holds {len(entries)} documents (第N篇 format): --title/--doc-number name one document; "
                f"edit {name}{SIDECAR_SUFFIX} after adding instead"
            )
        _validate(text, name, entries)
    except ExtractionError as exc:
        return failed(exc.reason)
    except ValueError as exc:
        return failed(str(exc))
    sha = file_sha256(src)
    for other in source_files(directory):
        if other.name != name and file_sha256(other) == sha:
            side = read_sidecar(other) or {}
            ids = ", ".join(d["id"] for d in side.get("documents", []))
            return FileResult(given, name, "duplicate", error=f"same content as {other.name} ({ids}), already in the corpus")
    existed = dst.exists()
    same_bytes = existed and file_sha256(dst) == sha
    if not same_bytes:
        tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    try:
        before = json.dumps(old, sort_keys=True) if old else None
        side = register(dst, overrides, text=text)
    except (OSError, ValueError) as exc:
        if not existed:
            dst.unlink(missing_ok=True)
        return failed(str(getattr(exc, "reason", exc)))
    docs, clauses = parse_source(text, name, side["documents"])
    if not existed or old is None:  # new, or dropped into the directory and not yet registered
        status = "added"
    elif same_bytes and before == json.dumps(side, sort_keys=True):
        status = "unchanged"
    else:
        status = "updated"
    return FileResult(given, name, status, docs, len(clauses))


@dataclass
class RemoveResult:
    target: str
    removed: list[str] = field(default_factory=list)  # file names removed
    doc_ids: list[str] = field(default_factory=list)
    error: str | None = None


def remove_documents(
    targets: Sequence[str], *, corpus_dir: str | Path | None = None, index_path: str | Path | None = None,
    sync: bool = True, progress: bool = False, store: Any = None, embedder: Any = None,
) -> tuple[list[RemoveResult], SyncReport | None]:
    """Remove added files (by document id or file name) with their sidecars, then sync the
    index. The seed record's documents and single documents of a multi-document file are
    refused (the message says why and what to do)."""
    from .clauses import load_corpus

    directory = _corpus_dir(corpus_dir)
    corpus = load_corpus(directory)
    results = []
    for target in targets:
        res = RemoveResult(target)
        results.append(res)
        doc = next((d for d in corpus.documents if d.id == target), None)
        name = doc.source if doc else Path(target).name
        if name == CORPUS_FILE:
            what = f"{target} is a document of" if doc else f"{target} is"
            res.error = (
                f"{what} the seed record {CORPUS_FILE} (d1–d5, metadata in {METADATA_FILE}), which is kept "
                "as published: its documents cannot be removed one by one"
            )
            continue
        path = directory / name
        if not path.is_file() or path.suffix.lower() not in SOURCE_SUFFIXES:
            known = ", ".join([d.id for d in corpus.documents] + [p.name for p in source_files(directory)])
            res.error = f"no document or added file {target!r} in the corpus (known: {known})"
            continue
        try:
            side = read_sidecar(path) or {}
        except ValueError:
            side = {}
        ids = [d["id"] for d in side.get("documents", [])]
        if doc is not None and len(ids) > 1:
            res.error = (
                f"{target} is one of {len(ids)} documents in {name} ({', '.join(ids)}); remove the whole "
                f"file with `assistant remove {name}`"
            )
            continue
        with _lock(directory):
            path.unlink()
            sidecar_path(path).unlink(missing_ok=True)
        res.removed, res.doc_ids = [name], ids
    report = None
    if sync and any(r.removed for r in results):
        report, _ = sync_index(directory, index_path, progress=progress, store=store, embedder=embedder)
    return results, report


@dataclass
class DocRow:
    document: Document
    part: int | None  # 第N篇 number inside its file, if the file holds several
    clauses: int
    indexed: int | None  # clauses stored with the current content hash (None: no index)


@dataclass
class DocsReport:
    rows: list[DocRow]
    errors: list[SourceError]
    index: str  # one line about the index
    orphans: int = 0  # stored clauses no longer in the corpus

    def lines(self) -> list[str]:
        out = []
        width = max((len(_source_label(r)) for r in self.rows), default=10)
        for r in self.rows:
            d = r.document
            if r.indexed is None:
                state = "-"
            elif r.indexed == r.clauses:
                state = "indexed"
            else:
                state = f"{r.indexed}/{r.clauses} indexed"
            extra = " · ".join(x for x in (d.issuer, d.date, d.doc_number, d.status) if x)
            out.append(
                f"{d.id:<4} {_source_label(r):<{width}} {r.clauses:>3} clauses  {state:<14} 《{d.title}》"
                + (f" {extra}" if extra else "")
            )
        total = sum(r.clauses for r in self.rows)
        out.append(f"{len(self.rows)} documents, {total} clauses; {self.index}")
        out += [f"not loaded: {e}" for e in self.errors]
        return out


def _source_label(row: DocRow) -> str:
    return row.document.source + (f" 第{row.part}篇" if row.part is not None else "")


def _expected_model() -> str:
    custom = os.environ.get("ASSISTANT_EMBED_MODEL")
    if custom:
        return f"st:{custom}"
    from .embed import default_model_name

    return default_model_name()


def list_documents(corpus_dir: str | Path | None = None, index_path: str | Path | None = None) -> DocsReport:
    """The corpus's documents with clause counts and how many of their clauses the index holds
    up to date (read-only: opens the index without creating or changing it)."""
    from .clauses import load_corpus
    from .index import passage_sha

    directory = _corpus_dir(corpus_dir)
    corpus = load_corpus(directory)
    parts: dict[str, int] = {}
    for path in source_files(directory):
        try:
            side = read_sidecar(path) or {}
        except ValueError:
            continue
        docs = side.get("documents", [])
        if len(docs) > 1:
            parts.update((d["id"], d.get("part")) for d in docs)
    stored: dict[str, str] | None = None
    index_line = "no index yet (run `assistant index`)"
    try:
        stored, model = _stored_hashes(index_path)
        if stored is not None:
            if model and model != _expected_model():
                index_line = f"index built with another model ({model}): the next `assistant index` rebuilds it"
                stored = {}
            else:
                index_line = f"index holds {len(stored)} clauses"
    except Exception as exc:  # noqa: BLE001 - an unreadable index must not hide the listing
        index_line = f"index unreadable ({exc})"
    rows, wanted = [], set()
    for doc in corpus.documents:
        clauses = corpus.by_doc(doc.id)
        wanted.update(c.id for c in clauses)
        indexed = None
        if stored is not None:
            indexed = sum(1 for c in clauses if stored.get(c.id) == passage_sha(c, doc))
        part = parts.get(doc.id) if doc.source != CORPUS_FILE else doc.number
        rows.append(DocRow(doc, part, len(clauses), indexed))
    orphans = len(set(stored or {}) - wanted)
    if stored is not None:
        behind = sum(r.clauses - (r.indexed or 0) for r in rows)
        if behind or orphans:
            index_line += f"; {behind} to embed, {orphans} to delete: run `assistant index`"
        else:
            index_line += ", up to date"
    return DocsReport(rows, list(corpus.errors), index_line, orphans)


def _stored_hashes(index_path: str | Path | None) -> tuple[dict[str, str] | None, str | None]:
    """(clause id → stored hash, embedding model name) of the index, or (None, None) if there is
    no index. Never creates a collection."""
    from . import config

    if not config.chroma_url():
        path = Path(index_path or config.index_dir())
        if not (path / "chroma.sqlite3").is_file():
            return None, None
    from .index import open_client

    client = open_client(Path(index_path) if index_path else None)
    try:
        col = client.get_collection(config.COLLECTION, embedding_function=None)
    except Exception:  # noqa: BLE001 - chroma raises NotFoundError / ValueError by version
        return None, None
    got = col.get(include=["metadatas"])
    hashes = {i: str((m or {}).get("sha", "")) for i, m in zip(got["ids"], got["metadatas"])}
    return hashes, (col.metadata or {}).get("embed_model")


# --- CLI -------------------------------------------------------------------------------------


def add_arguments_add(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="guideline files: .txt .md .docx .pdf")
    parser.add_argument("--title", help="official title (default: detected from the text)")
    parser.add_argument("--issuer", help="issuing body (default: the signature line, if any)")
    parser.add_argument("--date", help="date, YYYY-MM-DD (default: the date line, if any)")
    parser.add_argument("--doc-number", help="document number, e.g. 云委發〔2011〕58號")
    parser.add_argument("--status", help="e.g. 征求意見稿 (default: detected)")
    parser.add_argument("--no-index", action="store_true", help="only add to the corpus; index later")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def run_add(args: argparse.Namespace) -> int:
    try:
        report = add_files(
            args.files, title=args.title, issuer=args.issuer, date=args.date,
            doc_number=args.doc_number, status=args.status, index_path=args.index,
            sync=not args.no_index, progress=not args.json,
        )
    except ValueError as exc:
        print(f"assistant add: error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({
            "files": [{
                "path": f.path, "name": f.name, "status": f.status, "error": f.error,
                "documents": [d.id for d in f.documents], "clauses": f.clauses,
            } for f in report.files],
            "index": None if report.sync is None else {
                "added": report.sync.added, "updated": report.sync.updated,
                "removed": report.sync.removed, "unchanged": report.sync.unchanged,
            },
            "corpus_errors": [str(e) for e in report.corpus_errors],
        }, ensure_ascii=False))
    else:
        for line in report.lines():
            print(line)
    for f in report.failed:
        print(f"assistant add: error: {f.path}: {f.error}", file=sys.stderr)
    return 0 if report.ok else 1


def add_arguments_docs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the list as JSON")


def run_docs(args: argparse.Namespace) -> int:
    report = list_documents(index_path=args.index)
    if args.json:
        print(json.dumps({
            "documents": [{
                "id": r.document.id, "source": r.document.source, "part": r.part,
                "title": r.document.title, "issuer": r.document.issuer, "date": r.document.date,
                "doc_number": r.document.doc_number, "status": r.document.status,
                "clauses": r.clauses, "indexed": r.indexed,
            } for r in report.rows],
            "index": report.index, "orphans": report.orphans,
            "errors": [{"file": e.file, "reason": e.reason} for e in report.errors],
        }, ensure_ascii=False))
    else:
        for line in report.lines():
            print(line)
    return 0


def add_arguments_remove(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("targets", nargs="+", metavar="DOC", help="document id (d6) or file name (x.docx)")
    parser.add_argument("--no-index", action="store_true", help="only remove from the corpus; index later")


def run_remove(args: argparse.Namespace) -> int:
    results, report = remove_documents(args.targets, index_path=args.index, sync=not args.no_index, progress=True)
    for r in results:
        if r.error:
            print(f"assistant remove: error: {r.error}", file=sys.stderr)
        else:
            print(f"removed {', '.join(r.removed)} ({', '.join(r.doc_ids) or 'no documents'})")
    if report is not None:
        print(f"index: {report}")
    return 1 if any(r.error for r in results) else 0


def reload_assistant(assistant: Any, corpus_dir: str | Path | None = None) -> Any:
    """A new :class:`assistant.answer.Assistant` over the current corpus, sharing *assistant*'s
    index store and embedder (no model reload): what a long-running app (the web upload box)
    swaps in after :func:`add_files` / :func:`remove_documents`."""
    import copy

    from .clauses import load_corpus
    from .retrieve import HybridSearcher

    corpus = load_corpus(corpus_dir)
    old = assistant.searcher
    searcher = HybridSearcher(corpus.clauses, old.store, old.embedder, corpus.documents)
    answerer = copy.copy(assistant.answerer)  # same settings, new searcher
    answerer.searcher = searcher
    new = copy.copy(assistant)
    new.searcher, new.answerer = searcher, answerer
    return new
