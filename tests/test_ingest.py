"""Adding guidelines: real .docx and .pdf files made here from two seed documents (d4 as Word
with automatic list numbering, d2 as a several-page PDF with a running header and page numbers)
are added to a temporary corpus + index and must answer like the .txt record: same clause
text, same section and clause numbers. Plus incremental indexing, remove, unreadable files,
and the 第N條 (Traditional 條 / Simplified 条) structure with cross-references.

The embedding model is real, so the module shares one temporary index (two documents, 48
clauses) across its tests.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from assistant.corpus.extract import ExtractionError, decode_text, extract_text
from assistant.corpus.records import Corpus
from assistant.corpus.store import load_corpus, parse_source
from assistant.services import add_files, list_documents, remove_documents

REPO = Path(__file__).resolve().parent.parent
SEED = load_corpus(REPO / "corpus")

Q_D4 = "鄉鎮紀委書記任滿幾年必須交流?"
Q_D2 = "縣財政每年安排多少錢用於鄉鎮幹部和村兩委主要幹部的培訓?"
D2_TRAILER = ("中共云和縣委", "2011年10月9日")
D4_TRAILER = ("2011年7月14日",)


# --- fixtures made from the parsed seed ------------------------------------------------------


def blocks(corpus: Corpus, doc_id: str) -> list[tuple[str, str]]:
    """A seed document as (kind, text) paragraphs: title, status, section and subsection
    headings, numbered clauses (kind "item": the number is left to the writer) and paragraphs."""
    doc = corpus.document(doc_id)
    out = [("title", doc.title)]
    if doc.status:
        out.append(("status", f"({doc.status})"))
    section = subsection = None
    for c in corpus.by_doc(doc_id):
        if c.section_no and c.section != section:
            section, subsection = c.section, None
            out.append(("heading", c.section))
        if c.subsection and c.subsection != subsection:
            subsection = c.subsection
            if c.clause_no is None:  # a subsection whose body shares its line: 「(一)指導思想。…」
                out.append(("para", f"{c.subsection}。{c.text}"))
                continue
            out.append(("heading", f"{c.subsection}。"))
        if c.numbered:
            out.append(("item", f"{c.clause_no}|{c.text}"))
        else:
            out.append(("para", c.text))
    return out


def make_docx(path: Path, doc_id: str, trailer: tuple[str, ...], *, replace: tuple[str, str] | None = None) -> Path:
    """Word file: numbered clauses use the built-in 「List Number」 style (Word's automatic
    numbering, so 「6.」 is not in the paragraph text), headings use Heading styles."""
    import docx

    d = docx.Document()
    numbers = []
    for kind, text in blocks(SEED, doc_id):
        if replace:
            text = text.replace(*replace)
        if kind == "title":
            d.add_heading(text, level=0)
        elif kind == "status":
            d.add_paragraph(text)
        elif kind == "heading":
            d.add_heading(text, level=1)
        elif kind == "item":
            number, body = text.split("|", 1)
            numbers.append(int(number))
            d.add_paragraph(body, style="List Number")
        else:
            d.add_paragraph(text)
    assert numbers == list(range(1, len(numbers) + 1)), "List Number counts 1, 2, 3, … across the file"
    for line in trailer:
        d.add_paragraph(line)
    d.save(str(path))
    return path


PDF_HEADER = "云和縣委文件 · 內部資料"


def make_pdf(path: Path, doc_id: str, trailer: tuple[str, ...], *, pagesize=None) -> Path:
    """Several A5 pages with a running header, 「- N -」 page numbers, indented paragraphs
    wrapped at the page width (CJK wrapping, so lines break anywhere)."""
    from xml.sax.saxutils import escape

    from reportlab.lib.pagesizes import A5
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))  # built-in CID font: no font file
    size = pagesize or A5
    body = ParagraphStyle("body", fontName="STSong-Light", fontSize=10.5, leading=16, wordWrap="CJK", firstLineIndent=21)
    head = ParagraphStyle("head", parent=body, fontSize=11, firstLineIndent=0, spaceBefore=6)
    title = ParagraphStyle("title", parent=body, fontSize=15, leading=22, alignment=1, firstLineIndent=0, spaceAfter=10)
    right = ParagraphStyle("right", parent=body, alignment=2, firstLineIndent=0)

    def furniture(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont("STSong-Light", 8)
        canvas.drawString(doc.leftMargin, size[1] - 28, PDF_HEADER)
        canvas.drawCentredString(size[0] / 2, 22, f"- {doc.page} -")
        canvas.restoreState()

    story = []
    for kind, text in blocks(SEED, doc_id):
        if kind == "item":
            number, text = text.split("|", 1)
            text = f"{number}、{text}"
        style = {"title": title, "status": title, "heading": head}.get(kind, body)
        story.append(Paragraph(escape(text), style))
    story += [Paragraph(escape(line), right) for line in trailer]
    SimpleDocTemplate(str(path), pagesize=size, topMargin=48, bottomMargin=48).build(
        story, onFirstPage=furniture, onLaterPages=furniture
    )
    return path


# --- the shared temporary corpus and index ---------------------------------------------------


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory):
    """ASSISTANT_CORPUS / ASSISTANT_INDEX pointed at fresh directories for this module."""
    root = tmp_path_factory.mktemp("ingest")
    corpus_dir, index_dir, src = root / "corpus", root / "index", root / "src"
    for d in (corpus_dir, index_dir, src):
        d.mkdir()
    saved = {k: os.environ.get(k) for k in ("ASSISTANT_CORPUS", "ASSISTANT_INDEX", "ASSISTANT_CHROMA_URL")}
    os.environ["ASSISTANT_CORPUS"], os.environ["ASSISTANT_INDEX"] = str(corpus_dir), str(index_dir)
    os.environ.pop("ASSISTANT_CHROMA_URL", None)
    yield {"corpus": corpus_dir, "index": index_dir, "src": src}
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="module")
def added(env):
    """d4.docx and d2.pdf added through the CLI's code path; returns the AddReport."""
    docx_path = make_docx(env["src"] / "鄉鎮紀檢.docx", "d4", D4_TRAILER)
    pdf_path = make_pdf(env["src"] / "農村基層.pdf", "d2", D2_TRAILER)
    report = add_files([docx_path, pdf_path], progress=False)
    assert report.ok, report.lines()
    return report


def ask(question: str):
    from assistant.services import load_assistant

    return load_assistant(progress=False).ask(question)


def doc_of(report, name: str):
    (f,) = [f for f in report.files if f.name == name]
    (doc,) = f.documents
    return doc


# --- structure and metadata from .docx and .pdf ------------------------------------------------


@pytest.mark.parametrize("name, seed_id", [("鄉鎮紀檢.docx", "d4"), ("農村基層.pdf", "d2")])
def test_same_clauses_as_the_txt_record(env, added, name: str, seed_id: str) -> None:
    corpus = load_corpus(env["corpus"])
    doc = doc_of(added, name)
    got = corpus.by_doc(doc.id)
    want = SEED.by_doc(seed_id)
    strip = lambda cid: cid.split("-", 1)[1]  # noqa: E731 - 「d6-s2-c6」 → 「s2-c6」
    assert [strip(c.id) for c in got] == [strip(c.id) for c in want]
    for g, w in zip(got, want):
        assert (g.section, g.subsection, g.clause_no, g.numbered, g.text) == (
            w.section, w.subsection, w.clause_no, w.numbered, w.text
        ), g.id
        assert g.label.split("》", 1)[1] == w.label.split("》", 1)[1]
    assert PDF_HEADER not in "".join(c.text for c in got)


def test_metadata_detected_and_ids_assigned(env, added) -> None:
    d4, d2 = doc_of(added, "鄉鎮紀檢.docx"), doc_of(added, "農村基層.pdf")
    assert (d4.id, d2.id) == ("d6", "d7")  # after the seed's d1–d5, even in an empty directory
    assert (d4.title, d4.status, d4.date) == (SEED.document("d4").title, "征求意見稿", "2011-07-14")
    assert (d2.title, d2.issuer, d2.date) == (SEED.document("d2").title, "中共云和縣委", "2011-10-09")
    side = json.loads((env["corpus"] / "農村基層.pdf.meta.json").read_text(encoding="utf-8"))
    assert side["documents"][0]["id"] == "d7" and side["documents"][0]["issuer"] == "中共云和縣委"
    assert {p.name for p in env["corpus"].iterdir()} >= {"鄉鎮紀檢.docx", "農村基層.pdf", "ids.json"}


def test_pdf_page_furniture_removed_and_lines_joined(env, added) -> None:
    text = extract_text(env["corpus"] / "農村基層.pdf")
    assert PDF_HEADER not in text and "- 2 -" not in text
    lines = text.splitlines()
    for c in SEED.by_doc("d2"):  # every clause is one unbroken line, whatever the page breaks
        assert any(c.text in line for line in lines), c.id


# --- answers --------------------------------------------------------------------------------


@pytest.mark.parametrize("question, seed_clause, answer", [
    (Q_D4, "d4-s2-c6", "任滿10年的必須交流"),
    (Q_D2, "d2-s2-ss3-c2", "30萬元"),
])
def test_same_answers_and_citations_as_the_txt_record(env, added, question, seed_clause, answer) -> None:
    got = ask(question)
    want = SEED.clause(seed_clause)
    assert not got.refused and answer in got.answer
    cite = got.citations[0]
    assert cite.id.split("-", 1)[1] == want.id.split("-", 1)[1]
    assert (cite.section, cite.clause, cite.text) == (
        want.section, want.label.rsplit(" › ", 1)[-1], want.text
    )
    assert cite.doc_title == SEED.document(want.doc_id).title


# --- incremental indexing -----------------------------------------------------------------------


def test_readding_unchanged_file_embeds_nothing(env, added) -> None:
    report = add_files([env["src"] / "鄉鎮紀檢.docx"])
    assert [f.status for f in report.files] == ["unchanged"]
    assert report.sync is None or report.sync.embedded == 0
    report = add_files([env["src"] / "鄉鎮紀檢.docx", env["src"] / "農村基層.pdf"])
    assert {f.status for f in report.files} == {"unchanged"}


def test_changed_clause_reembeds_only_that_clause(env, added) -> None:
    path = make_docx(env["src"] / "鄉鎮紀檢.docx", "d4", D4_TRAILER, replace=("任滿10年的必須交流", "任滿8年的必須交流"))
    report = add_files([path])
    assert [f.status for f in report.files] == ["updated"]
    assert (report.sync.added, report.sync.updated, report.sync.removed) == (0, 1, 0)
    assert "任滿8年的必須交流" in ask(Q_D4).answer
    report = add_files([make_docx(path, "d4", D4_TRAILER)])  # back to the original
    assert (report.sync.embedded, report.sync.removed) == (1, 0)


def test_docs_lists_documents_with_counts_and_index_status(env, added, capsys) -> None:
    from assistant.apps.cli import main

    report = list_documents()
    rows = {r.document.id: r for r in report.rows}
    assert (rows["d6"].clauses, rows["d6"].indexed) == (23, 23)
    assert (rows["d7"].clauses, rows["d7"].indexed) == (25, 25)
    assert main(["docs"]) == 0
    out = capsys.readouterr().out
    assert "d6" in out and "鄉鎮紀檢.docx" in out and "23 clauses" in out and "up to date" in out


# --- files that cannot be added ---------------------------------------------------------------


def _scanned_pdf(path: Path) -> Path:
    from PIL import Image, ImageDraw
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    img = Image.new("L", (300, 400), 255)
    draw = ImageDraw.Draw(img)
    for y in range(40, 360, 18):
        draw.rectangle([30, y, 270, y + 8], fill=0)  # "lines of text" as pixels only
    c = canvas.Canvas(str(path))
    c.drawImage(ImageReader(img), 50, 300, width=300, height=400)
    c.showPage()
    c.save()
    return path


def _encrypted_pdf(path: Path) -> Path:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(path), encrypt="secret")
    c.setFont("STSong-Light", 12)
    c.drawString(72, 720, "一、總則")
    c.drawString(72, 700, "1、這是加密文件中的一條規定。")
    c.showPage()
    c.save()
    return path


BAD_FILES = {
    "scan.pdf": (_scanned_pdf, "no text layer"),
    "locked.pdf": (_encrypted_pdf, "encrypted"),
    "empty.txt": (lambda p: (p.write_bytes(b""), p)[1], "empty file"),
    "garbage.docx": (lambda p: (p.write_bytes(os.urandom(2048)), p)[1], "not a readable Word .docx"),
    "notes.txt": (lambda p: (p.write_text("會議紀要\n張三 李四\n", encoding="utf-8"), p)[1], "no guideline text"),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_unparseable_file_is_refused_and_nothing_touched(env, added, name, capsys) -> None:
    from assistant.apps.cli import main
    from assistant.index.store import ClauseStore, open_client

    make, reason = BAD_FILES[name]
    path = make(env["src"] / name)
    before = sorted(p.name for p in env["corpus"].iterdir())
    store = ClauseStore(open_client(env["index"]), _model_name())
    hashes = store.stored_hashes()
    assert main(["add", str(path)]) == 1
    err = capsys.readouterr().err
    assert name in err and reason in err, err
    assert sorted(p.name for p in env["corpus"].iterdir()) == before
    assert ClauseStore(open_client(env["index"]), _model_name()).stored_hashes() == hashes


def _model_name() -> str:
    from assistant.index.embed import get_embedder

    return get_embedder().name


def test_dropped_broken_file_is_reported_and_others_still_load(env, added, capsys, caplog) -> None:
    from assistant.apps.cli import main

    bad = env["corpus"] / "dropped.pdf"
    _encrypted_pdf(bad)
    try:
        corpus = load_corpus(env["corpus"])
        assert {d.id for d in corpus.documents} == {"d6", "d7"}
        (err,) = corpus.errors
        assert err.file == "dropped.pdf" and "encrypted" in err.reason
        report = list_documents()
        assert any("dropped.pdf" in line and "encrypted" in line for line in report.lines())
        assert not (env["corpus"] / "dropped.pdf.meta.json").exists()
        assert main(["index"]) == 0  # the other documents stay indexed, nothing re-embedded
        # 48 clauses and the two documents' 「文件資訊」 records
        assert "0 added, 0 re-embedded, 0 removed, 50 unchanged" in capsys.readouterr().out
        assert any("dropped.pdf" in r.getMessage() and "encrypted" in r.getMessage() for r in caplog.records)
    finally:
        bad.unlink()
    assert not load_corpus(env["corpus"]).errors


def test_dropped_file_and_assistant_index(env, added, capsys) -> None:
    """A GB18030 .txt dropped into corpus/: `assistant index` registers it (sidecar, next id)
    and embeds its three clauses only; deleting it and indexing again removes them."""
    from assistant.apps.cli import main

    dropped = env["corpus"] / "規定.txt"
    dropped.write_text(ARTICLES_SIMPLIFIED, encoding="gb18030")
    last = json.loads((env["corpus"] / "ids.json").read_text(encoding="utf-8"))["last"]
    try:
        assert main(["index"]) == 0
        assert "4 added, 0 re-embedded, 0 removed, 50 unchanged" in capsys.readouterr().out  # 3 clauses + its record
        corpus = load_corpus(env["corpus"])
        (doc,) = [d for d in corpus.documents if d.source == "規定.txt"]
        assert doc.id == f"d{last + 1}" and doc.title == "村务公开管理规定"
        assert (env["corpus"] / "規定.txt.meta.json").is_file()
        assert load_corpus(env["corpus"]).document(doc.id) == doc  # stable: registered once
        got = ask("村务公开多久至少一次?")
        assert got.citations[0].id == f"{doc.id}-s1-c2" and "每季度至少一次" in got.answer
    finally:
        dropped.unlink()
        (env["corpus"] / "規定.txt.meta.json").unlink()
    assert main(["index"]) == 0
    assert "0 added, 0 re-embedded, 4 removed, 50 unchanged" in capsys.readouterr().out


# --- remove -----------------------------------------------------------------------------------


def test_seed_documents_cannot_be_removed(env, added, tmp_path) -> None:
    for name in ("guidelines.txt", "documents.json"):
        shutil.copy(REPO / "corpus" / name, tmp_path / name)
    results, report = remove_documents(["d4"], corpus_dir=tmp_path, sync=False)
    assert "seed record" in results[0].error and report is None
    assert (tmp_path / "guidelines.txt").read_bytes() == (REPO / "corpus" / "guidelines.txt").read_bytes()


def test_remove_makes_clauses_disappear(env, added, capsys) -> None:
    from assistant.apps.cli import main
    from assistant.services import load_assistant, reload_assistant

    running = load_assistant(progress=False)  # e.g. the web app's
    assert "30萬元" in running.ask(Q_D2).answer
    assert main(["remove", "d7"]) == 0
    assert "removed 農村基層.pdf (d7)" in capsys.readouterr().out
    assert not (env["corpus"] / "農村基層.pdf").exists()
    assert not (env["corpus"] / "農村基層.pdf.meta.json").exists()
    for got in (ask(Q_D2), reload_assistant(running).ask(Q_D2)):
        assert all(not c.id.startswith("d7-") for c in got.citations + got.see_also)
        assert "30萬元" not in got.answer
    assert all(r.document.id != "d7" for r in list_documents().rows)
    assert main(["remove", "d7"]) == 1  # gone
    # a new file never gets the removed id back
    last = json.loads((env["corpus"] / "ids.json").read_text(encoding="utf-8"))["last"]
    assert last >= 7
    report = add_files([make_pdf(env["src"] / "again.pdf", "d2", D2_TRAILER)], sync=False)
    assert report.files[0].documents[0].id == f"d{last + 1}"
    (env["corpus"] / "again.pdf").unlink()
    (env["corpus"] / "again.pdf.meta.json").unlink()


# --- 第N條 / 第N条 and cross-references ---------------------------------------------------------

ARTICLES_TRADITIONAL = """\
中共測試縣委辦公室
關于規范村級組織運轉的辦法
測辦發〔2012〕15號
第一章 總則
第一條 為規范村級組織運轉,根據有關規定,制定本辦法。
第二條　本辦法適用于全縣各行政村。
第二章 任職管理
第三條 村黨組織書記任期五年。任滿兩屆的應當交流,具體辦法依照
第十七條規定執行。
第四條:村級組織應當履行下列職責:
(一)宣傳黨的路線方針政策;
(二)按照本辦法第三條規定做好換屆工作。
第五條 違反本辦法第四條的,予以批評教育。
第三條規定的情形除外。
第十七條 交流任職由縣委組織部統一安排,按照本意見第三條規定執行。
第十八條 本辦法自印發之日起施行。
中共測試縣委辦公室
2012年3月1日
"""

ARTICLES_SIMPLIFIED = """\
村务公开管理规定
第一条 为推进村务公开,制定本规定。
第二条 村务公开每季度至少一次,依照第五条规定的程序进行。
第三条 财务收支每月公开一次。
"""


def test_articles_traditional_with_cross_references() -> None:
    docs, clauses = parse_source(ARTICLES_TRADITIONAL, "辦法.txt", [{"id": "d9"}])
    (doc,) = docs
    assert (doc.title, doc.issuer, doc.date, doc.doc_number) == (
        "關于規范村級組織運轉的辦法", "中共測試縣委辦公室", "2012-03-01", "測辦發〔2012〕15號"
    )
    by_id = {c.id: c for c in clauses}
    assert list(by_id) == ["d9-s1-c1", "d9-s1-c2", "d9-s2-c3", "d9-s2-c4", "d9-s2-c5", "d9-s2-c17", "d9-s2-c18"]
    assert by_id["d9-s1-c1"].section == "第一章 總則"
    # the article keeps its own numeral and script (issue 14): 第三條, not 第3條
    assert by_id["d9-s2-c3"].label == "《關于規范村級組織運轉的辦法》第二章 任職管理 › 第三條"
    assert by_id["d9-s2-c3"].text == "村黨組織書記任期五年。任滿兩屆的應當交流,具體辦法依照第十七條規定執行。"
    assert by_id["d9-s2-c4"].text == "村級組織應當履行下列職責:(一)宣傳黨的路線方針政策;(二)按照本辦法第三條規定做好換屆工作。"
    assert by_id["d9-s2-c5"].text == "違反本辦法第四條的,予以批評教育。第三條規定的情形除外。"
    assert by_id["d9-s2-c17"].text == "交流任職由縣委組織部統一安排,按照本意見第三條規定執行。"
    assert by_id["d9-s2-c18"].text == "本辦法自印發之日起施行。"  # 「印發」 in a sentence is no trailer


def test_articles_simplified_without_chapters() -> None:
    docs, clauses = parse_source(ARTICLES_SIMPLIFIED, "规定.txt", [{"id": "d9"}])
    assert docs[0].title == "村务公开管理规定"
    assert [(c.id, c.clause_no) for c in clauses] == [("d9-s1-c1", 1), ("d9-s1-c2", 2), ("d9-s1-c3", 3)]
    assert clauses[1].text == "村务公开每季度至少一次,依照第五条规定的程序进行。"
    assert clauses[1].label == "《村务公开管理规定》 › 第二条"


# --- text formats ------------------------------------------------------------------------------


def test_txt_encodings() -> None:
    text = "第一條 鄉鎮紀委書記任滿10年的必須交流。"
    for encoding in ("utf-8", "utf-8-sig", "gb18030", "big5", "utf-16"):
        assert decode_text(text.encode(encoding)) == text, encoding
    simplified = "第一条 乡镇纪委书记任满10年的必须交流。"
    assert decode_text(simplified.encode("gb18030")) == simplified
    with pytest.raises(ExtractionError, match="binary"):
        decode_text(b"\x00\x01\x02garbage")


def test_markdown_keeps_structure(tmp_path) -> None:
    md = tmp_path / "意見.md"
    md.write_text(
        "# 關于加強測試工作的意見\n\n> 為做好**測試**工作,現提出如下[意見](http://x)。\n\n"
        "## 一、總體要求\n\n1. 堅持`以人為本`。\n2. 全面推進\n工作。\n\n---\n\n* 附:本意見由*測試辦*負責解釋。\n",
        encoding="utf-8",
    )
    text = extract_text(md)
    assert "#" not in text and "**" not in text and "](" not in text and "`" not in text
    docs, clauses = parse_source(text, md.name, [{"id": "d9"}])
    assert docs[0].title == "關于加強測試工作的意見"
    assert [(c.id, c.text) for c in clauses] == [
        ("d9-s0-c1", "為做好測試工作,現提出如下意見。"),
        ("d9-s1-c1", "堅持以人為本。"),
        ("d9-s1-c2", "全面推進工作。"),
        ("d9-s1-c3", "附:本意見由測試辦負責解釋。"),
    ]
