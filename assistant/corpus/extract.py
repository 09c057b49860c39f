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

import logging
import math
import re
import time
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.corpus.errors import Problem
from assistant.corpus.metadata import _is_structure
from assistant.corpus.parse import _CONTINUATION_START, _ends_sentence
from assistant.text import int_to_cn

SOURCE_SUFFIXES = (".txt", ".md", ".docx", ".pdf")

# --- limits on any file (issue 14) ------------------------------------------------------------
# A guideline is small: the three laws in evals/laws/ hold 296 articles, 1,900 lines and 90,000
# characters between them. Past a limit the file is refused with its reason before the parser or
# the index see it: a hostile or broken file must not tie up ingestion or memory.
MAX_FILE_BYTES = 30 * 2**20  # the file as uploaded (also the web app's upload limit)
MAX_TEXT_CHARS = 1_000_000  # extracted text
MAX_LINES = 10_000  # non-empty lines (paragraphs) of extracted text
MAX_PDF_PAGES = 1_000
MAX_PACKAGE_ENTRIES = 2_000  # .docx: parts in the zip
MAX_PACKAGE_BYTES = 100 * 2**20  # .docx: all parts, uncompressed (as the zip declares them)
MAX_PART_BYTES = 20 * 2**20  # .docx: one XML part, uncompressed
MAX_XML_PARAGRAPHS = 50_000  # .docx: <w:p> elements of the body (table cells and empty ones too)
EXTRACT_SECONDS = 20.0  # time budget of one file's extraction

log = logging.getLogger(__name__)



class ExtractionError(Problem):
    """A file whose text cannot be extracted (a ValueError); ``str()`` names the file and the
    reason (English), ``code`` says which problem it is (a key of
    :data:`assistant.corpus.errors.MESSAGES`) and ``values`` what its message names. ``reason``
    is the English text without the file name (the corpus loader's SourceError keeps it with
    the code)."""

    def __init__(self, file: str | Path, reason: str, code: str | None = None, **values: str):
        self.file = Path(file).name
        self.reason = reason
        super().__init__(f"{self.file}: {reason}", code, **values)


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n < 10 * 2**20 else f"{n / 2**20:.0f} MB"


class _Budget:
    """The time budget of one extraction: :meth:`check` between units of work (paragraphs,
    table rows, pages, text chunks) raises ``extract_timeout`` once it is spent."""

    def __init__(self, path: Path, seconds: float):
        self.path, self.seconds = path, seconds
        self.end = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() >= self.end:
            raise ExtractionError(
                self.path, f"text extraction took longer than {self.seconds:g} s (a very large or "
                "malformed file?); split it or save it again", code="extract_timeout", seconds=f"{self.seconds:g}",
            )


# --- compatibility code points ---------------------------------------------------------------

# Some PDF producers map CJK glyphs to Kangxi radicals (⼀ U+2F00 for 一, ⼯ for 工, ⾒ for 見) or
# to compatibility ideographs (U+F900 block); Word files copied from such PDFs carry them too.
# They look right and match nothing: 「⼀、」 opens no section. NFKC maps them to the unified
# ideographs; it runs on these blocks only, because on the rest of the text it would rewrite
# what the parser and the citations rely on (full-width ,:;() and digits, ①, 〔〕, ㎡).
_COMPAT_RE = re.compile("[\u2e80-\u2eff\u2f00-\u2fdf\u3038-\u303a\uf900-\ufaff\U0002f800-\U0002fa1f]")
# Radicals-supplement forms with no NFKC mapping that stand for a whole (mostly simplified)
# character in such text layers.
_SUPPLEMENT = {
    "⺠": "民", "⻄": "西", "⻅": "见", "⻆": "角", "⻋": "车", "⻓": "长", "⻔": "门", "⻚": "页",
    "⻛": "风", "⻜": "飞", "⻢": "马", "⻩": "黄", "⻬": "齐", "⻮": "齿", "⻰": "龙", "⺼": "月",
}


def normalize_compatibility(text: str) -> str:
    """Kangxi radicals, CJK radicals and compatibility ideographs → the ideographs they stand
    for (NFKC, plus :data:`_SUPPLEMENT`); every other character is left exactly as it is."""
    return _COMPAT_RE.sub(lambda m: _SUPPLEMENT.get(m[0]) or unicodedata.normalize("NFKC", m[0]), text)


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
        raise ExtractionError(name, "binary data (NUL bytes), not a text file", code="binary")
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
        raise ExtractionError(name, "not text in UTF-8, GB18030 or Big5", code="undecodable")
    odd, _, text = min(candidates)
    if odd > max(20, len(text) // 20):
        raise ExtractionError(name, "does not decode to Chinese text in UTF-8, GB18030 or Big5",
                              code="undecodable")
    return text


# --- .md -------------------------------------------------------------------------------------

# Every inline pattern is bounded by the next delimiter ([^*\n], [^\[\]], (?!~~)…), so a hostile
# line (「*a *a *a …」, 「[a[a[a …」) costs linear time: the lazy 「.+?」 forms rescanned the rest of
# the line from every opener (60,000 characters ≈ 25 s, a 1 MB line hours). Comments are cut
# with str.find (:func:`_strip_comments`) for the same reason.
_MD_RULES = [
    (re.compile(r"^```.*$|^~~~.*$", re.M), ""),
    (re.compile(r"^\s{0,3}#{1,6}[ \t]*(.*)$", re.M), lambda m: m[1].rstrip().rstrip("#").rstrip()),  # ATX headings: keep the text
    (re.compile(r"^\s{0,3}>\s?", re.M), ""),  # block quotes
    (re.compile(r"^\s{0,3}(?:[-*_]\s*){3,}$", re.M), ""),  # horizontal rules
    (re.compile(r"^\s*[-*+]\s+(?:\[[ xX]\]\s+)?", re.M), ""),  # bullets (numbered items stay: 1.)
    (re.compile(r"!\[([^\[\]\n]*)\]\([^()\n]*\)"), r"\1"),  # images → alt text
    (re.compile(r"\[([^\[\]\n]+)\]\([^()\n]*\)"), r"\1"),  # links → text
    (re.compile(r"\[([^\[\]\n]+)\]\[[^\[\]\n]*\]"), r"\1"),
    (re.compile(r"^\s*\[[^\]\n]+\]:\s*\S+.*$", re.M), ""),  # link definitions
    (re.compile(r"`([^`]*)`"), r"\1"),
    (re.compile(r"(\*\*|__)(?=\S)((?:(?!\1)[^\n])+?)(?<=\S)\1"), r"\2"),
    (re.compile(r"(?<![A-Za-z0-9*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?!\*)"), r"\1"),  # *…* (CJK neighbours ok)
    (re.compile(r"~~((?:(?!~~)[^\n])+?)~~"), r"\1"),
    (re.compile(r"</?[A-Za-z][^<>\n]*>"), ""),  # inline HTML
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
    text = _strip_comments("\n".join(lines))
    for pattern, repl in _MD_RULES:
        text = pattern.sub(repl, text)
    return text


def _strip_comments(text: str) -> str:
    """Drop <!-- … --> (an unclosed one runs to the end), in one pass."""
    out, pos = [], 0
    while (start := text.find("<!--", pos)) != -1:
        out.append(text[pos:start])
        end = text.find("-->", start + 4)
        pos = len(text) if end == -1 else end + 3
    out.append(text[pos:])
    return "".join(out)


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
        self.document = document
        self.style_numbering: dict[str | None, tuple[str | None, int | None]] = {}  # per style id
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

    def _style_numbering(self, style_id: str | None) -> tuple[str | None, int | None]:
        """(numId, ilvl) a paragraph style (or the default one, for None) passes on through its
        basedOn chain — looked up once per style: resolving the style per paragraph (python-docx's
        ``paragraph.style``) searched the styles part for every paragraph, which made a file of
        2,000,000 empty paragraphs take hours."""
        if style_id in self.style_numbering:
            return self.style_numbering[style_id]
        from docx.enum.style import WD_STYLE_TYPE

        w = lambda tag: self.qn(f"w:{tag}")  # noqa: E731
        num_id: str | None = None
        ilvl: int | None = None
        try:
            style = self.document.part.get_style(style_id, WD_STYLE_TYPE.PARAGRAPH)
        except Exception:  # noqa: BLE001 - a broken styles part: no inherited numbering
            style = None
        seen: set[int] = set()
        while num_id is None and style is not None and id(style.element) not in seen:  # basedOn may loop
            seen.add(id(style.element))
            spp = style.element.find(w("pPr"))
            npr = spp.find(w("numPr")) if spp is not None else None
            if npr is not None and npr.find(w("numId")) is not None:
                num_id = npr.find(w("numId")).get(w("val"))
                if npr.find(w("ilvl")) is not None:
                    ilvl = int(npr.find(w("ilvl")).get(w("val")))
            style = style.base_style
        self.style_numbering[style_id] = (num_id, ilvl)
        return num_id, ilvl

    def _num_pr(self, paragraph: Any) -> tuple[str, int] | None:
        num_id = ilvl = None
        ppr = paragraph._p.pPr
        if ppr is not None and ppr.numPr is not None:
            if ppr.numPr.numId is not None:
                num_id = str(ppr.numPr.numId.val)
            if ppr.numPr.ilvl is not None:
                ilvl = int(ppr.numPr.ilvl.val)
        if num_id is None:  # numbering inherited from the paragraph's style chain
            num_id, style_ilvl = self._style_numbering(paragraph._p.style)
            ilvl = style_ilvl if ilvl is None else ilvl
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


_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_MAX_GRID = 64


def _check_package(path: Path, budget: _Budget) -> None:
    """Refuse a .docx by what its zip declares, before anything is parsed: too many parts, parts
    that inflate past :data:`MAX_PART_BYTES` / :data:`MAX_PACKAGE_BYTES` (zipfile never inflates
    a part past its declared size), or more than :data:`MAX_XML_PARAGRAPHS` paragraphs in the
    main document part (counted by a streaming parser that stops at the limit)."""
    from lxml import etree

    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_PACKAGE_ENTRIES:
                raise ExtractionError(path, f"a .docx of {len(infos)} parts (limit {MAX_PACKAGE_ENTRIES}): "
                                      "damaged or built to exhaust the server", code="docx_too_large",
                                      size=f"{len(infos):,} 個部分", limit=f"{MAX_PACKAGE_ENTRIES:,} 個")
            total = sum(i.file_size for i in infos)
            xml_parts = [i for i in infos if i.filename.lower().endswith((".xml", ".rels"))]
            biggest = max(xml_parts, key=lambda i: i.file_size, default=None)
            if total > MAX_PACKAGE_BYTES or (biggest is not None and biggest.file_size > MAX_PART_BYTES):
                size, limit = ((biggest.file_size, MAX_PART_BYTES) if biggest is not None
                               and biggest.file_size > MAX_PART_BYTES else (total, MAX_PACKAGE_BYTES))
                raise ExtractionError(path, f"inflates to {_mb(size)} (limit {_mb(limit)}): damaged or "
                                      "built to exhaust the server", code="docx_too_large",
                                      size=_mb(size), limit=_mb(limit))
            main = _main_part(zf)
            if main is None:
                return  # no main document part: python-docx refuses the file with its reason
            count = 0
            with zf.open(main) as fh:
                for _, element in etree.iterparse(fh, events=("end",), tag=f"{{{_W}}}p",
                                                  resolve_entities=False, no_network=True, huge_tree=False):
                    count += 1
                    if count > MAX_XML_PARAGRAPHS:
                        raise ExtractionError(
                            path, f"more than {MAX_XML_PARAGRAPHS:,} paragraphs; split the file",
                            code="too_many_paragraphs", limit=f"{MAX_XML_PARAGRAPHS:,}",
                        )
                    if count % 1024 == 0:
                        budget.check()
                    element.clear(keep_tail=True)
                    while element.getprevious() is not None:  # keep the tree from growing
                        del element.getparent()[0]
    except ExtractionError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, etree.XMLSyntaxError, OSError, EOFError,
            ValueError, NotImplementedError, RuntimeError) as exc:  # RuntimeError: an encrypted zip
        raise ExtractionError(
            path, f"not a readable Word .docx file ({type(exc).__name__}: {exc}); "
            "an old .doc must be saved as .docx first", code="docx_unreadable",
        ) from None


def _main_part(zf: zipfile.ZipFile) -> str | None:
    """The name of the package's main document part, as its relationships say (usually
    word/document.xml)."""
    from lxml import etree

    names = set(zf.namelist())
    if "_rels/.rels" in names:
        root = etree.fromstring(zf.read("_rels/.rels"), etree.XMLParser(resolve_entities=False, no_network=True))
        for rel in root:
            if str(rel.get("Type", "")).endswith("/officeDocument"):
                target = str(rel.get("Target", "")).lstrip("/")
                return target if target in names else None
    return "word/document.xml" if "word/document.xml" in names else None


def docx_text(path: Path, budget: _Budget | None = None) -> str:
    """Paragraphs and table rows of a .docx in body order, automatic numbers written out."""
    budget = budget or _Budget(path, EXTRACT_SECONDS)
    try:
        import docx
        from docx.oxml.ns import qn
        from docx.text.paragraph import Paragraph
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise ExtractionError(path, f"python-docx is not installed ({exc})", code="missing_dependency",
                              kind=".docx") from None
    _check_package(path, budget)
    try:
        document = docx.Document(str(path))
    except Exception as exc:  # PackageNotFoundError, BadZipFile, KeyError, XML errors
        raise ExtractionError(
            path, f"not a readable Word .docx file ({type(exc).__name__}: {exc}); "
            "an old .doc must be saved as .docx first", code="docx_unreadable",
        ) from None
    numbering = _WordNumbering(document)
    out: list[str] = []
    w_p, w_tbl, w_sdt, w_tr, w_tc = (qn(f"w:{t}") for t in ("p", "tbl", "sdt", "tr", "tc"))

    def paragraph_text(p: Any) -> str:
        text = p.text.replace("\t", " ").replace("\u00a0", " ")
        if text.strip():
            label = numbering.label(p)
            return label + text.strip() if label else text
        return ""

    def row_texts(tbl: Any) -> None:
        """One line per row: its cells' text, a cell merged across columns or down from the row
        above (vMerge) counted once per row, read in one pass (python-docx's ``row.cells``
        recurses through every row above a merged cell)."""
        above: dict[int, str] = {}  # grid column → text of the cell there in the row above
        for tr in tbl.iterchildren(w_tr):
            budget.check()
            cells: list[str] = []
            col = min(max(tr.grid_before, 0), _MAX_GRID)
            for tc in tr.iterchildren(w_tc):
                span = min(max(tc.grid_span, 1), _MAX_GRID)  # Word tables have at most 63 columns
                if tc.vMerge == "continue":
                    text = above.get(col, "")
                else:
                    text = " ".join(t for t in (Paragraph(p, document).text.strip()
                                                for p in tc.iterchildren(w_p)) if t)
                for k in range(span):
                    above[col + k] = text
                col += span
                if text and (not cells or cells[-1] != text):  # merged cells repeat
                    cells.append(text)
            out.append(" ".join(cells))

    def walk(parent: Any) -> None:
        for child in parent.iterchildren():
            budget.check()
            if child.tag == w_p:
                out.append(paragraph_text(Paragraph(child, document)))
            elif child.tag == w_tbl:
                row_texts(child)
            elif child.tag == w_sdt:
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


def pdf_text(path: Path, budget: _Budget | None = None) -> str:
    """The text of a text PDF as paragraphs (see :func:`_join_lines`), page furniture removed."""
    budget = budget or _Budget(path, EXTRACT_SECONDS)
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise ExtractionError(path, f"pypdf is not installed ({exc})", code="missing_dependency",
                              kind="PDF") from None
    try:
        reader = PdfReader(str(path))
        encrypted = reader.is_encrypted
    except (PdfReadError, ValueError, OSError, KeyError, TypeError) as exc:
        raise ExtractionError(path, f"not a readable PDF ({type(exc).__name__}: {exc})",
                              code="pdf_unreadable") from None
    if encrypted:
        try:
            opened = reader.decrypt("")  # an owner password alone still lets anyone read
        except Exception as exc:  # e.g. AES without the cryptography package
            raise ExtractionError(path, f"encrypted PDF that cannot be opened here ({exc}); "
                                  "save an unprotected copy", code="pdf_encrypted") from None
        if not opened:
            raise ExtractionError(path, "encrypted PDF (password-protected); save an unprotected copy",
                                  code="pdf_encrypted")
    try:
        n_pages = len(reader.pages)
    except Exception as exc:  # noqa: BLE001 - a broken page tree
        raise ExtractionError(path, f"not a readable PDF ({type(exc).__name__}: {exc})",
                              code="pdf_unreadable") from None
    if n_pages > MAX_PDF_PAGES:
        raise ExtractionError(path, f"{n_pages} pages (limit {MAX_PDF_PAGES}); split the file",
                              code="too_many_pages", pages=f"{n_pages:,}", limit=f"{MAX_PDF_PAGES:,}")
    pages: list[list[_Line]] = []
    try:
        for number, page in enumerate(reader.pages, 1):
            budget.check()
            chunks: list[tuple[str, list[float], list[float], float]] = []

            def visit(text, cm, tm, font_dict, font_size, _chunks=chunks):  # noqa: ANN001
                budget.check()  # a page's content stream can be long: the budget holds inside it
                if text:
                    _chunks.append((text, list(cm), list(tm), float(font_size or 0)))

            page.extract_text(visitor_text=visit)
            pages.append(_page_lines(chunks, number))
    except ExtractionError:
        raise
    except Exception as exc:  # damaged content streams, unsupported fonts
        raise ExtractionError(path, f"text extraction failed ({type(exc).__name__}: {exc})",
                              code="pdf_extract_failed") from None
    if not any(pages):
        raise ExtractionError(
            path, f"no text layer in {len(pages)} page(s): a scanned PDF? run OCR on it first "
            "(e.g. ocrmypdf) or add the text as .docx/.txt", code="pdf_no_text",
        )
    return "\n".join(_join_lines(_strip_page_furniture(pages)))


# --- dispatch --------------------------------------------------------------------------------


def extract_text(path: str | Path, *, budget: float | None = None) -> str:
    """The plain text of a guideline file (.txt .md .docx .pdf), lines as paragraphs or source
    lines; ExtractionError (a ValueError) naming the file and the reason if it has none.

    Limits (issue 14): the file's size (:data:`MAX_FILE_BYTES`), a .docx package's inflated size
    and paragraph count, a PDF's page count, the text's length (:data:`MAX_TEXT_CHARS`) and
    lines (:data:`MAX_LINES`), and *budget* seconds of work (default :data:`EXTRACT_SECONDS`);
    past one the file is refused with its reason. Radicals and compatibility ideographs in the
    text are written as the ideographs they stand for (:func:`normalize_compatibility`)."""
    path = Path(path)
    clock = _Budget(path, EXTRACT_SECONDS if budget is None else budget)
    suffix = path.suffix.lower()
    if suffix not in SOURCE_SUFFIXES:
        raise ExtractionError(
            path, f"unsupported file type {suffix or '(none)'!r} (supported: {' '.join(SOURCE_SUFFIXES)})",
            code="unsupported_type",
        )
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ExtractionError(path, f"cannot be read ({exc.strerror or exc})", code="unreadable") from None
    if size == 0:
        raise ExtractionError(path, "empty file (0 bytes)", code="empty_file")
    if size > MAX_FILE_BYTES:
        raise ExtractionError(path, f"{_mb(size)} (limit {_mb(MAX_FILE_BYTES)}); split the file",
                              code="too_large", size=_mb(size), limit=_mb(MAX_FILE_BYTES))
    clock.check()
    try:
        if suffix == ".docx":
            text = docx_text(path, clock)
        elif suffix == ".pdf":
            text = pdf_text(path, clock)
        else:
            text = decode_text(path.read_bytes(), path)
            _check_length(path, text)
            clock.check()
            if suffix == ".md":
                text = markdown_to_text(text)
    except OSError as exc:
        raise ExtractionError(path, f"cannot be read ({exc.strerror or exc})", code="unreadable") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    _check_length(path, text)
    text = normalize_compatibility(text)
    if not text.strip():
        raise ExtractionError(path, "no text in the file", code="no_text")
    lines = sum(1 for line in text.split("\n") if line.strip())
    if lines > MAX_LINES:
        raise ExtractionError(path, f"{lines:,} paragraphs (limit {MAX_LINES:,}); split the file",
                              code="too_many_paragraphs", limit=f"{MAX_LINES:,}")
    clock.check()
    return text


def _check_length(path: Path, text: str) -> None:
    if len(text) > MAX_TEXT_CHARS:
        raise ExtractionError(path, f"{len(text):,} characters of text (limit {MAX_TEXT_CHARS:,}); split the file",
                              code="too_much_text", size=f"{len(text):,}", limit=f"{MAX_TEXT_CHARS:,}")
