"""Hostile and odd input files for the hardening tests and the ``hostile`` benchmark (issue 14).

Everything is generated: the paragraph-bomb .docx (246 KB on disk, a 72 MB ``word/document.xml``
of 2,000,000 one-character paragraphs), structure-less text of any size, a .docx whose table is
one long vertical merge, and a PDF whose text layer spells CJK ideographs with Kangxi-radical
code points (⼀⼯⼆⾒), as some PDF producers do.
"""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_CHARS = (
    "的一是在不了有和人這中大為上個國我以要他時來用們生到作地於出就分對成會可主發年動同工也能下過子說"
    "產種面而方後多定行學法所民得經十三之進著等部度家電力裡如水化高自二理起小物現實加量都兩體制機當使點"
)


def _replace_body(path: Path, body_xml: str) -> Path:
    """A real python-docx package (styles, numbering, settings) whose document body is *body_xml*."""
    import docx

    buf = io.BytesIO()
    docx.Document().save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for info in src.infolist():
            if info.filename == "word/document.xml":
                head = src.read(info).decode("utf-8").partition("<w:body>")[0]
                out.writestr(info.filename, f"{head}<w:body>{body_xml}</w:body></w:document>")
            else:
                out.writestr(info, src.read(info))
    return path


def paragraph_bomb_docx(path: Path, paragraphs: int = 2_000_000) -> Path:
    """The probe's file: *paragraphs* one-character paragraphs (2,000,000 → 246 KB zipped,
    72 MB of XML), every one in the default paragraph style."""
    return _replace_body(path, "<w:p><w:r><w:t>字</w:t></w:r></w:p>" * paragraphs)


def big_paragraph_docx(path: Path, chars: int) -> Path:
    """One paragraph of *chars* characters: a small file that inflates to a huge part."""
    return _replace_body(path, f"<w:p><w:r><w:t>{'字' * chars}</w:t></w:r></w:p>")


def vmerge_table_docx(path: Path, rows: int) -> Path:
    """A title, a clause, then a two-column table whose first cell is merged down all *rows*
    rows (python-docx resolves each continued cell by recursing through the rows above)."""
    def p(text: str) -> str:
        return f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>"

    def row(i: int) -> str:
        first = "<w:vMerge w:val=\"restart\"/>" if i == 0 else "<w:vMerge/>"
        merged = p("類別甲") if i == 0 else "<w:p/>"
        return (f"<w:tr><w:tc><w:tcPr>{first}</w:tcPr>{merged}</w:tc>"
                f"<w:tc>{p(f'第{i + 1}項')}</w:tc></w:tr>")

    grid = "<w:tblGrid><w:gridCol w:w=\"2000\"/><w:gridCol w:w=\"2000\"/></w:tblGrid>"
    body = (p("測試縣表格管理辦法") + p("一、總則") + p("1、本辦法適用於全縣。")
            + f"<w:tbl><w:tblPr/>{grid}{''.join(row(i) for i in range(rows))}</w:tbl>")
    return _replace_body(path, body)


def flat_text(nbytes: int, *, line_chars: int = 40, seed: int = 0) -> str:
    """Structure-less prose: lines of *line_chars* characters, each one sentence ending in 。,
    no headings or numbers, about *nbytes* bytes in UTF-8."""
    rnd = random.Random(seed)
    lines: list[str] = []
    size = 0
    while size < nbytes:
        line = "".join(rnd.choice(_CHARS) for _ in range(line_chars - 1)) + "。"
        lines.append(line)
        size += len(line.encode("utf-8")) + 1
    return "\n".join(lines) + "\n"


def text_layer_pdf(path: Path, lines: list[str], *, size: float = 12.0) -> Path:
    """A one-page PDF whose text layer is exactly *lines* (one text line each, top to bottom):
    a Type0 font whose ToUnicode map sends each glyph to the character given — radicals and
    compatibility ideographs included, as a PDF producer with such a font map writes them."""
    chars = sorted({ch for line in lines for ch in line})
    cid = {ch: i + 1 for i, ch in enumerate(chars)}
    cmap_entries = "\n".join(
        f"<{cid[ch]:04X}> <{ch.encode('utf-16-be').hex().upper()}>" for ch in chars
    )
    to_unicode = (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        f"{len(chars)} beginbfchar\n{cmap_entries}\nendbfchar\n"
        "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    )
    ops = []
    y = 800.0
    for line in lines:
        hexed = "".join(f"{cid[ch]:04X}" for ch in line)
        ops.append(f"BT /F1 {size:g} Tf 72 {y:.1f} Td <{hexed}> Tj ET")
        y -= size * 1.8
    content = "\n".join(ops).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>"
        ),
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        (
            b"<< /Type /Font /Subtype /Type0 /BaseFont /TestCJK /Encoding /Identity-H "
            b"/DescendantFonts [6 0 R] /ToUnicode 7 0 R >>"
        ),
        (
            b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /TestCJK /DW 1000 "
            b"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
            b"/FontDescriptor 8 0 R >>"
        ),
        b"<< /Length %d >>\nstream\n" % len(to_unicode.encode("ascii")) + to_unicode.encode("ascii") + b"\nendstream",
        (
            b"<< /Type /FontDescriptor /FontName /TestCJK /Flags 4 /FontBBox [0 -200 1000 900] "
            b"/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 700 /StemV 80 >>"
        ),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    Path(path).write_bytes(bytes(out))
    return Path(path)


def text_docx(path: Path, lines: list[str]) -> Path:
    """A plain .docx, one paragraph per line."""
    import docx

    d = docx.Document()
    for line in lines:
        d.add_paragraph(line)
    d.save(str(path))
    return Path(path)
