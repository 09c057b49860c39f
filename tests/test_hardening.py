"""Issue 14, hardening: hostile files, anonymous uploads, login throttling, security headers and
input limits. Each test reproduces one finding of the probe (run only against 127.0.0.1).

Files: a paragraph-bomb .docx is refused at once by its paragraph count, a part that inflates
past the cap by its declared size, an over-large or over-long file of any format by its size,
text or paragraph count, and extraction has a time budget — each refusal with its code and
Chinese message, nothing written. Structure-less text parses in linear time. Radicals and
compatibility ideographs in a text layer (⼀⼯⾒) are read as the ideographs they stand for.
Law-style files keep their enactment/amendment lines as metadata and their own 第X條 labels.

Web: the login-less app takes no uploads at all; the admin app caps them and cleans Gradio's
cache; wrong passwords are throttled per client (HTTP 429 + Retry-After, logged); every limit
of the page holds on the server too; every response carries the security headers. (The browser
check that the CSP raises no violation on any tab is in test_browser.py.)
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest

from assistant.corpus import extract
from assistant.corpus.errors import MESSAGES, zh
from assistant.corpus.extract import ExtractionError, extract_text
from assistant.corpus.store import load_corpus, parse_source
from assistant.services import add_files
from tests import hostile_files as hostile

REPO = Path(__file__).resolve().parent.parent
LAWS = REPO / "evals" / "laws"


def _refused(tmp_path: Path, path: Path) -> tuple[str, str]:
    """Add *path* to an empty scratch corpus (no index); return (code, Chinese message) of the
    refusal after checking that nothing was written."""
    corpus = tmp_path / "corpus"
    corpus.mkdir(exist_ok=True)
    before = sorted(p.name for p in corpus.iterdir())
    report = add_files([path], corpus_dir=corpus, sync=False)
    (result,) = report.files
    assert result.status == "failed", (result.status, result.error)
    assert sorted(p.name for p in corpus.iterdir()) == before  # nothing stored, no sidecar, no ids
    assert result.code in MESSAGES, result.code
    return result.code, zh(result.code, **result.values)


# --- 1. the paragraph bomb and other oversized files ---------------------------------------------


def test_paragraph_bomb_docx_is_refused_at_once(tmp_path):
    bomb = hostile.paragraph_bomb_docx(tmp_path / "bomb.docx")
    assert bomb.stat().st_size < 300_000  # 246 KB on disk, 72 MB of XML inside
    started = time.monotonic()
    code, message = _refused(tmp_path, bomb)
    print(f"paragraph bomb refused in {time.monotonic() - started:.2f} s: {message}")
    assert code == "docx_too_large" and "MB" in message  # by the declared size: nothing inflated
    # a smaller bomb (3.6 MB of XML, under the part limit) is refused by its paragraph count,
    # streamed: the count stops at the limit
    code, message = _refused(tmp_path, hostile.paragraph_bomb_docx(tmp_path / "bomb2.docx", 100_000))
    assert code == "too_many_paragraphs"
    assert f"{extract.MAX_XML_PARAGRAPHS:,}" in message and "分成" in message


def test_docx_part_that_inflates_past_the_cap_is_refused_unread(tmp_path, monkeypatch):
    big = hostile.big_paragraph_docx(tmp_path / "big.docx", chars=8_000_000)  # 24 MB of XML
    assert big.stat().st_size < 200_000
    # never parsed: the declared size of word/document.xml is enough
    monkeypatch.setattr("docx.Document", lambda *a, **k: pytest.fail("the package was opened"))
    code, message = _refused(tmp_path, big)
    assert code == "docx_too_large" and "MB" in message


def test_docx_numbering_without_resolving_each_paragraphs_style(tmp_path, monkeypatch):
    """The bomb's cost was python-docx's ``paragraph.style`` looking up the default style per
    paragraph; numbering inherited from a style is still written out without it."""
    import docx
    from docx.text.paragraph import Paragraph

    d = docx.Document()
    d.add_paragraph("測試縣村級檔案管理辦法")
    d.add_paragraph("一、總則")
    for text in ("各村應當建立檔案室。", "村檔案由村文書負責管理。", "每年年底整理歸檔。"):
        d.add_paragraph(text, style="List Number")
    d.save(str(tmp_path / "list.docx"))
    monkeypatch.setattr(Paragraph, "style", property(lambda self: pytest.fail("per-paragraph style lookup")))
    assert extract_text(tmp_path / "list.docx").splitlines() == [
        "測試縣村級檔案管理辦法", "一、總則", "1.各村應當建立檔案室。", "2.村檔案由村文書負責管理。", "3.每年年底整理歸檔。",
    ]


def test_long_vertical_merge_in_a_table_is_read_in_one_pass(tmp_path):
    """python-docx resolves a continued merged cell by recursing through every row above it:
    3,000 rows overflowed the stack (RecursionError, an unexplained crash of the upload)."""
    path = hostile.vmerge_table_docx(tmp_path / "table.docx", rows=3000)
    lines = extract_text(path).splitlines()
    assert lines[:4] == ["測試縣表格管理辦法", "一、總則", "1、本辦法適用於全縣。", "類別甲 第1項"]
    assert lines[-1] == "類別甲 第3000項" and len(lines) == 3003  # the merged cell repeats per row


def _written(path, lines, sep):
    """*lines* as a file of *path*'s kind: a Word document, a PDF text layer, or text joined by *sep*."""
    if path.suffix == ".docx":
        hostile.text_docx(path, lines)
    elif path.suffix == ".pdf":
        hostile.text_layer_pdf(path, lines)
    else:
        path.write_text(sep.join(lines), encoding="utf-8")
    return path


@pytest.mark.parametrize("kind", ["txt", "md", "docx", "pdf"])
def test_extraction_has_a_time_budget(tmp_path, kind):
    lines = ["測試縣村級檔案管理辦法", "一、總則", "1、各村應當建立檔案室。"]
    path = _written(tmp_path / f"slow.{kind}", lines, "\n")
    assert "1、各村應當建立檔案室。" in extract_text(path)  # within the default budget
    with pytest.raises(ExtractionError) as err:
        extract_text(path, budget=0.0)
    assert err.value.code == "extract_timeout" and "秒" in zh(err.value.code, **err.value.values)


def test_caps_hold_for_every_format(tmp_path):
    huge = tmp_path / "huge.pdf"
    with huge.open("wb") as fh:  # sparse: 1 byte over the cap costs no disk
        fh.truncate(extract.MAX_FILE_BYTES + 1)
    assert _refused(tmp_path, huge)[0] == "too_large"

    many_lines = tmp_path / "lines.txt"
    many_lines.write_text("各村應當建立檔案室。\n" * (extract.MAX_LINES + 1), encoding="utf-8")
    assert _refused(tmp_path, many_lines)[0] == "too_many_paragraphs"

    long_text = tmp_path / "long.md"
    long_text.write_text("# 測試\n\n" + "各村應當建立檔案室。" * (extract.MAX_TEXT_CHARS // 10 + 1), encoding="utf-8")
    assert _refused(tmp_path, long_text)[0] == "too_much_text"

    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(extract.MAX_PDF_PAGES + 1):
        writer.add_blank_page(100, 100)
    with (tmp_path / "pages.pdf").open("wb") as fh:
        writer.write(fh)
    assert _refused(tmp_path, tmp_path / "pages.pdf")[0] == "too_many_pages"


# --- 2. structure-less text: linear parsing, and a 6 MB file is refused --------------------------


def _parse_seconds(text: str) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        parse_source(text, "flat.txt", [{"id": "d9"}])
        best = min(best, time.perf_counter() - started)
    return best


def test_structure_less_text_parses_in_linear_time():
    """Each unnumbered paragraph used to count all earlier paragraphs (quadratic: 2 MB ≈ 11–24 s)."""
    small, large = hostile.flat_text(150_000), hostile.flat_text(600_000)  # 1,240 and 4,960 lines
    t_small, t_large = _parse_seconds(small), _parse_seconds(large)
    print(f"flat text: {t_small:.3f} s for 150 KB, {t_large:.3f} s for 600 KB")
    assert t_large < 6 * t_small + 0.05, (t_small, t_large)  # 4× the lines: ~4× the time, not ~16×


def test_six_megabyte_structure_less_file_is_refused(tmp_path):
    flat = tmp_path / "flat.txt"
    flat.write_text(hostile.flat_text(6_000_000), encoding="utf-8")
    code, message = _refused(tmp_path, flat)
    assert code == "too_much_text" and "分成" in message


def test_markdown_inline_rules_take_linear_time():
    """The lazy inline patterns rescanned the rest of the line from every opener: 60,000
    characters of 「*a 」 took 25 s, a 1 MB line would take hours."""
    from assistant.corpus.extract import markdown_to_text

    started = time.perf_counter()
    for piece in ("*a ", "__a ", "~~a ", "[a", "<a", "![a](", "<!--a", "# " + " " * 50):
        markdown_to_text(piece * (200_000 // len(piece)))
    assert time.perf_counter() - started < 10  # linear: ~1 s in all; quadratic: hours
    assert markdown_to_text("## 一、總則 ##\n**粗**、*斜*、~~刪~~、[連結](http://x)、<b>b</b><!-- 註 -->") == (
        "一、總則\n粗、斜、刪、連結、b")


# --- 7. radicals and compatibility ideographs in a text layer ------------------------------------

RADICAL_LINES = ["關于做好防護⼯作的意⾒", "⼀、總體要求", "1、各單位要落實防護責任,做到「早發現、早報告」。",
                 "⼆、⼯作措施", "1、加強監測,每⽇報告⼀次(節假日照常)。"]


@pytest.mark.parametrize("kind", ["txt", "md", "docx", "pdf"])
def test_radicals_in_the_text_layer_become_ideographs(tmp_path, kind):
    path = _written(tmp_path / f"radicals.{kind}", RADICAL_LINES, "\n\n")
    text = extract_text(path)
    assert not any("\u2e80" <= ch <= "\u2fdf" for ch in text), text
    docs, clauses = parse_source(text, path.name, [{"id": "d9"}])
    assert docs[0].title == "關于做好防護工作的意見"
    assert [(c.section, c.text) for c in clauses] == [
        ("一、總體要求", "各單位要落實防護責任,做到「早發現、早報告」。"),  # full-width punctuation kept
        ("二、工作措施", "加強監測,每日報告一次(節假日照常)。"),
    ]


def test_normalisation_keeps_what_the_parser_relies_on():
    kept = "(一)第1條:「甲」、乙;丙!?１２３ＡＢ~〔2010〕①⑵㎡"
    assert extract.normalize_compatibility(kept) == kept
    assert extract.normalize_compatibility("⼀⼆⼯⾒⽇\uf9d1\u2f08") == "一二工見日六人"


# --- 8. law-style files: enactment and amendment lines, the document's own 第X條 ------------------


def _law(name: str):
    path = next(LAWS.glob(f"{name}*.md"))
    docs, clauses = parse_source(extract_text(path), path.name, [{"id": "d9"}])
    return docs[0], {c.id: c for c in clauses}


def _record_text(doc) -> str:
    """The document's 「文件資訊」 passage, as indexed and cited."""
    from assistant.corpus.parse import document_records

    return document_records([doc], 0)[0].text


def test_law_enactment_and_amendment_lines_become_metadata():
    doc, _ = _law("工会法")
    assert doc.date == "2021-12-24"  # the version in force: the latest amendment
    assert doc.history == (
        ("1992-04-03", "第七届全国人民代表大会第五次会议通过"),
        ("2001-10-27", "第九届全国人民代表大会常务委员会第二十四次会议《关于修改〈中华人民共和国工会法〉的决定》第一次修正"),
        ("2009-08-27", "第十一届全国人民代表大会常务委员会第十次会议《关于修改部分法律的决定》第二次修正"),
        ("2021-12-24", "第十三届全国人民代表大会常务委员会第三十二次会议《关于修改〈中华人民共和国工会法〉的决定》第三次修正"),
    )
    assert "1992年4月3日 第七届全国人民代表大会第五次会议通过" in doc.record  # cited verbatim
    card = _record_text(doc)
    assert "日期:2021年12月24日" in card and "1992年4月3日 第七届全国人民代表大会第五次会议通过" in card
    doc, _ = _law("慈善法")
    assert doc.date == "2023-12-29" and [d for d, _ in doc.history] == ["2016-03-16", "2023-12-29"]
    doc, _ = _law("公务员法")
    assert doc.date == "2018-12-29" and doc.history[-1] == ("2018-12-29", "第十三届全国人民代表大会常务委员会第七次会议修订")


def test_one_line_enactment_note_in_parentheses():
    text = (
        "中华人民共和国测试法\n"
        "(2016年3月16日第十二届全国人民代表大会第四次会议通过　根据2023年12月29日第十四届全国人民代表大会"
        "常务委员会第七次会议《关于修改〈中华人民共和国测试法〉的决定》修正)\n"
        "第一章 总则\n第一条 为了规范测试工作,制定本法。\n第二条 本法自2024年1月1日起施行。\n"
    )
    docs, clauses = parse_source(text, "测试法.txt", [{"id": "d9"}])
    assert docs[0].date == "2023-12-29"
    assert [d for d, _ in docs[0].history] == ["2016-03-16", "2023-12-29"]
    assert docs[0].history[1][1].endswith("修正") and len(clauses) == 2
    assert clauses[1].text == "本法自2024年1月1日起施行。"  # a sentence naming a date stays a clause


def test_law_metadata_detected_for_the_sidecar():
    from assistant.corpus.metadata import detect_metadata

    path = next(LAWS.glob("工会法*.md"))
    meta = detect_metadata(extract_text(path).splitlines())
    assert (meta["title"], meta["date"]) == ("中华人民共和国工会法", "2021-12-24")


def test_article_labels_keep_the_documents_numeral_and_script():
    _, by_id = _law("工会法")
    c = by_id["d9-s2-c11"]
    assert c.ref == "第十一条" and c.label == "《中华人民共和国工会法》第二章 工会组织 › 第十一条"
    _, clauses = parse_source(
        "测试办法\n第一章 总则\n第一节 一般规定\n第1条 为了测试,制定本办法。\n第17条 本办法自发布之日起施行。\n",
        "办法.txt", [{"id": "d9"}])
    assert [c.ref for c in clauses] == ["第1条", "第17条"]
    assert clauses[0].subsection == "第一节 一般规定"  # 节 as printed, not 節
    _, clauses = parse_source("測試辦法\n第一條 為了測試,制定本辦法。\n第十二條 本辦法自發布之日起施行。\n",
                                 "辦法.txt", [{"id": "d9"}])
    assert [c.ref for c in clauses] == ["第一條", "第十二條"]
    assert [c.id for c in clauses] == ["d9-s1-c1", "d9-s1-c12"]  # ids stay numeric


def test_seed_clauses_are_unchanged():
    """The seed record's clauses (labels, text, ids) do not move with any of the above."""
    import hashlib

    seed = load_corpus(REPO / "corpus")
    assert len(seed.clauses) == 93
    for passages, want in ((seed.clauses, SEED_CLAUSES), (seed.records, SEED_RECORDS)):
        digest = json.dumps([(c.id, c.label, c.text) for c in passages], ensure_ascii=False)
        assert hashlib.sha256(digest.encode()).hexdigest() == want


# sha256 of [(id, label, text)] of the seed's clauses (as parsed before issue 14) and records (since
# d109a36 rejoined document 4's 「發布日期:2011-07-1」/「4…」, a date a line break had cut).
SEED_CLAUSES = "a6af781333497109ec1aeb15790fe62b4b443b825b38fe0409006a457d0ab41d"
SEED_RECORDS = "84ca1f3b4c43ebb05dccfeb89cf97f3768dcbc07c4f8e5065324f1e9a22ef912"


# === the web app =================================================================================

ROTATION = "鄉鎮紀委書記任滿幾年必須交流?"


@pytest.fixture(scope="module")
def public_app(launch_web_app, tmp_path_factory):
    """The app as `assistant chat` runs it without --auth: no 管理 tab, no upload component."""
    db = tmp_path_factory.mktemp("hardening-fb") / "fb.sqlite"
    demo, url = launch_web_app(db)
    yield demo, url, db
    demo.close()


def _fn(demo, name: str):
    (fn,) = {f.fn for f in demo.fns.values() if f.name == name}
    return fn


def _cached_files() -> set[Path]:
    from gradio.utils import get_upload_folder

    root = Path(get_upload_folder())
    return {p for p in root.rglob("*") if p.is_file()} if root.is_dir() else set()


# --- 3. uploads ---------------------------------------------------------------------------------


def test_app_without_login_takes_no_uploads(public_app):
    import httpx

    _, url, _ = public_app
    before = _cached_files()
    r = httpx.post(url + "gradio_api/upload", files={"files": ("x.txt", "任意內容".encode() * 10_000)})
    assert r.status_code == 403 and "不接受上傳" in r.json()["error"], r.text
    r = httpx.post(url + "gradio_api/component_server", files={"files": ("x.bin", b"\0" * 1000)},
                   data={"data": "{}"})
    assert r.status_code == 403
    assert httpx.get(url + "gradio_api/upload_progress?upload_id=x").status_code == 403
    assert _cached_files() == before  # nothing stored, nothing to serve back


def test_admin_uploads_are_capped_and_removed_once_added(admin_web_app, tmp_path):
    import httpx

    from assistant.apps import web

    with admin_web_app() as app:
        assert app.demo.delete_cache == web.CACHE_SWEEP  # Gradio sweeps its cache of old uploads
        with httpx.Client(base_url=app.url, timeout=60) as http:
            assert http.post("login", data=dict(zip(("username", "password"), app.auth))).status_code == 200
            r = http.post("gradio_api/upload", files={"files": ("big.txt", b"x" * (extract.MAX_FILE_BYTES + 1))})
            assert r.status_code == 413, r.text
            text = "測試縣村級檔案管理辦法\n第一條 為規范村級檔案管理,制定本辦法。\n第二條 村級會計檔案保管期限不少於30年。\n"
            r = http.post("gradio_api/upload", files={"files": ("a.txt", text.encode())})
            assert r.status_code == 200, r.text
            (cached,) = r.json()
        assert Path(cached).is_file()
        steps = list(_fn(app.demo, "admin_add")([(cached, "村級檔案管理辦法.txt")], "", "", "", ""))
        # while it runs, a status naming the file (not a silent wait); the report last
        assert len(steps) >= 2 and "處理中" in steps[0][0] and "村級檔案管理辦法.txt" in steps[0][0], steps
        assert all(len(s) == len(steps[-1]) for s in steps)  # every step fills every output
        result, *_ = steps[-1]
        assert "已加入" in result and "共 2 條" in result and "處理中" not in result
        assert not Path(cached).exists()  # done with: out of the cache
        assert (app.corpus / "村級檔案管理辦法.txt").read_text(encoding="utf-8") == text


# --- 4. login throttling -------------------------------------------------------------------------


def test_login_throttle_backs_off_and_forgives():
    from assistant.apps.web import LoginThrottle

    now = [0.0]
    t = LoginThrottle(free=3, lockout=10, max_lockout=25, clock=lambda: now[0])
    assert [t.failed("a") for _ in range(3)] == [0, 0, 10] and t.retry_after("a") == 10
    assert t.retry_after("b") == 0  # per client
    now[0] = 10
    assert t.retry_after("a") == 0 and t.failed("a") == 20 and t.retry_after("a") == 20
    now[0] = 30
    assert t.failed("a") == 25  # capped
    now[0] = 55
    t.succeeded("a")
    assert t.failed("a") == 0  # a success starts over
    now[0] = 55 + 3601
    assert [t.failed("a") for _ in range(2)] == [0, 0]  # an hour later old failures are forgotten


def test_failed_logins_are_throttled_per_client(launch_web_app, tmp_path, caplog):
    import httpx

    from assistant.apps import web

    caplog.set_level(logging.INFO, logger="assistant.apps.web")
    demo, url = launch_web_app(tmp_path / "fb.sqlite", auth=("cadre", "s3cret"))
    wrong, right = {"username": "cadre", "password": "wrong"}, {"username": "cadre", "password": "s3cret"}
    try:
        with httpx.Client(base_url=url) as http:
            codes = [http.post("login", data=wrong).status_code for _ in range(web.LOGIN_FREE_FAILURES)]
            assert codes == [400] * web.LOGIN_FREE_FAILURES
            r = http.post("login", data=right)  # the right password no longer helps
            assert r.status_code == 429 and "秒後再試" in r.json()["error"]
            assert 0 < int(r.headers["Retry-After"]) <= web.LOGIN_LOCKOUT
            assert http.post("login/", data=wrong).status_code == 429
        # another client (address) is not affected
        other = httpx.HTTPTransport(local_address="127.0.0.2")
        with httpx.Client(base_url=url, transport=other) as http:
            assert http.post("login", data=right).status_code == 200
        assert any("locked out" in r.getMessage() and "127.0.0.1" in r.getMessage() for r in caplog.records)
    finally:
        demo.close()


# --- 5. limits hold on the server ------------------------------------------------------------------


def test_ask_api_reads_and_echoes_the_question_as_processed(public_app):
    import httpx
    from gradio_client import Client

    from assistant.apps import web

    _, url, _ = public_app
    padded = ROTATION + " " * 20_000
    got = Client(url, verbose=False).predict(padded, api_name="/ask")
    assert got["question"] == padded[: web.MAX_QUESTION] and "10年" in got["answer"]
    assert f"只依前 {web.MAX_QUESTION} 字作答" in got["note"]
    # 10,000,000 characters (30 MB): refused before Gradio parses the request
    r = httpx.post(url + "gradio_api/call/ask", json={"data": ["問" * 10_000_000]}, timeout=60)
    assert r.status_code == 413 and len(r.content) < 1000


def test_chat_feedback_and_search_limits_hold_on_the_server(public_app):
    from assistant.apps import web
    from assistant.apps.feedback import FeedbackStore

    demo, _, db = public_app
    *_, (_box, chat, store, *_shown) = list(_fn(demo, "respond")(ROTATION + "甲" * 5_000_000, None))
    shown = chat[0]["content"]
    assert len(shown) < web.MAX_QUESTION + 100 and f"只依前 {web.MAX_QUESTION} 字作答" in chat[-1]["content"]
    assert len(store["conversations"][0]["turns"][0]["q"]) == web.MAX_QUESTION  # kept (and asked next) as read
    before = len(FeedbackStore(db).all())
    _kept, rows, message = _fn(demo, "on_comment")("意" * 5_000_000, store, {})
    assert rows == {} and f"最多 {web.MAX_COMMENT} 字" in message and len(FeedbackStore(db).all()) == before
    _kept, rows, message = _fn(demo, "on_comment")("很清楚", store, {})
    assert message == "意見已記錄,謝謝。" and len(FeedbackStore(db).all()) == before + 1
    html_out = _fn(demo, "search")("紀委書記 交流" + "乙" * 1_000_000)
    assert "d4-s2-c6" in html_out and len(html_out) < 20_000


def test_admin_fields_and_quiz_answers_are_limited_on_the_server(admin_web_app):
    from assistant.apps import web

    with admin_web_app() as app:
        state = sorted(p.name for p in app.corpus.iterdir())
        for i, (key, (label, limit)) in enumerate(web.ADMIN_FIELDS.items()):
            fields = ["", "", "", ""]
            fields[i] = "字" * (limit + 1)
            result, *_ = list(_fn(app.demo, "admin_add")([], *fields))[-1]
            assert f"{label}最多 {limit} 字" in result, (key, result)
        assert sorted(p.name for p in app.corpus.iterdir()) == state
        start, submit = _fn(app.demo, "on_start"), _fn(app.demo, "on_submit")
        session = start("all", "cloze", 3)[0]
        from assistant.apps.web.quiz_tab import MAX_ANSWER

        out = submit(session, None, "答" * (MAX_ANSWER + 1))
        assert f"答案最多 {MAX_ANSWER} 字" in out[5] and out[0] is session  # not graded


# --- 6. security headers ---------------------------------------------------------------------------


def test_every_response_carries_the_security_headers(public_app, launch_web_app, tmp_path):
    import httpx

    from assistant.apps import web

    _, url, _ = public_app
    demo, login_url = launch_web_app(tmp_path / "fb.sqlite", auth=("cadre", "s3cret"))
    try:
        for base, path in [(url, ""), (url, "config"), (url, "gradio_api/info"), (url, "theme.css"),
                           (url, "no-such-page"), (url, "gradio_api/upload"), (login_url, ""),
                           (login_url, "config")]:
            r = httpx.get(base + path)
            for name, value in web.SECURITY_HEADERS.items():
                assert r.headers.get(name) == value, (path, name, r.status_code)
        assert "frame-ancestors 'self'" in web.CSP and "object-src 'none'" in web.CSP
    finally:
        demo.close()
