"""Refusals carry stable codes with their Chinese wording at the source
(:mod:`assistant.corpus.errors`); the web app translates the code, never the English text."""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import pytest

from assistant.corpus.errors import MESSAGES, UNKNOWN, zh

REPO = Path(__file__).resolve().parent.parent
SOURCES = [REPO / "assistant" / "corpus" / "extract.py", REPO / "assistant" / "services.py"]

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
# Latin words a Chinese message may hold: file types, encodings, OCR, the seed's ids, 第N條.
ALLOWED_LATIN = {"txt", "md", "doc", "docx", "pdf", "PDF", "Word", "OCR", "UTF-8", "GB18030", "Big5",
                 "d1", "d5", "N"}

GUIDELINE = (
    "測試縣村級檔案管理辦法\n"
    "一、總則\n"
    "1、各村應當建立檔案室,妥善保管村級檔案。\n"
    "2、村檔案由村文書負責管理,每年年底整理歸檔。\n"
    "二、附則\n"
    "本辦法自發布之日起施行。\n"
)
TWO_DOCS = (
    "第一篇:測試縣村級檔案管理辦法\n一、總則\n1、各村應當建立檔案室,妥善保管村級檔案。\n"
    "第二篇:測試縣村級財務管理辦法\n一、總則\n1、各村應當按月公開財務收支情況。\n"
)


# --- the registry ------------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_every_code_has_a_chinese_message(code):
    message = MESSAGES[code]
    assert re.fullmatch(r"[a-z][a-z0-9_]*", code), code
    assert CJK.search(message), message
    latin = re.findall(r"[A-Za-z][A-Za-z0-9-]*", re.sub(r"\{\w+\}", "", message))
    assert set(latin) <= ALLOWED_LATIN, (code, latin)
    filled = zh(code, **{k: "X" for k in re.findall(r"\{(\w+)\}", message)})
    assert "{" not in filled and "}" not in filled and filled != UNKNOWN, filled


def test_zh_fills_values_and_falls_back():
    assert zh("seed_document", target="d2") == "d2 屬於原始的五份指引(d1–d5),不能個別移除"
    assert zh("duplicate_content", file="a.txt", ids="d6") == "內容與已收錄的 a.txt(d6) 相同,未重複加入"
    assert zh("duplicate_content", file="a.txt", ids="") == "內容與已收錄的 a.txt 相同,未重複加入"
    assert zh(None) == UNKNOWN == "無法處理(原因不明)"
    assert zh("no_such_code") == UNKNOWN


def _codes_in(path: Path) -> list[tuple[int, str]]:
    """Every code a source file sets: ``code="…"`` keyword arguments and ``x.code = "…"``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.keyword) and node.arg == "code":
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                found.append((node.value.lineno, node.value.value))
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            if any(isinstance(t, ast.Attribute) and t.attr == "code" for t in node.targets):
                found.append((node.lineno, node.value.value))
    return found


def _calls(path: Path, name: str) -> list[ast.Call]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call)
            and getattr(n.func, "id", getattr(n.func, "attr", None)) == name]


def test_every_code_used_in_the_source_is_registered():
    used = {path.name: _codes_in(path) for path in SOURCES}
    assert len(used["extract.py"]) >= 15 and len(used["services.py"]) >= 8, used
    unknown = [(f, line, code) for f, codes in used.items() for line, code in codes if code not in MESSAGES]
    assert not unknown, unknown


def test_every_refusal_site_sets_a_code():
    extract, services = SOURCES
    raises = _calls(extract, "ExtractionError")
    assert raises and all(any(k.arg == "code" for k in c.keywords) for c in raises), [
        c.lineno for c in raises if not any(k.arg == "code" for k in c.keywords)]
    failed = _calls(services, "failed")
    assert failed and all(any(k.arg == "code" for k in c.keywords) for c in failed)
    for call in _calls(services, "FileResult"):
        status = call.args[2] if len(call.args) > 2 else None
        if isinstance(status, ast.Constant) and status.value in ("failed", "duplicate"):
            assert any(k.arg == "code" for k in call.keywords), call.lineno
        if any(k.arg == "error" for k in call.keywords):
            assert any(k.arg == "code" for k in call.keywords), call.lineno
    # remove_documents: each `res.error = …` is followed by its `res.code = …`
    source = services.read_text(encoding="utf-8")
    body = source[source.index("def remove_documents("):source.index("class DocRow")]
    assert body.count("res.error =") == body.count("res.code =") >= 3


# --- behaviour: add / remove / list, and what the web shows ------------------------------------


@pytest.fixture()
def corpus_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "corpus"
    directory.mkdir()
    for name in ("guidelines.txt", "documents.json"):
        shutil.copyfile(REPO / "corpus" / name, directory / name)
    return directory


def _write(path: Path, data: str | bytes) -> Path:
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def test_add_refusals_have_codes_and_chinese_messages(tmp_path, corpus_dir):
    from assistant.apps import web
    from assistant.services import add_files

    up = tmp_path / "uploads"
    up.mkdir()
    files = [
        _write(up / "空白.txt", b""),
        _write(up / "二進位.txt", b"\x00\x01\x02PK\x00binary"),
        _write(up / "舊版.doc", b"\xd0\xcf\x11\xe0 old word"),
        _write(up / "辦法.txt", GUIDELINE),
        _write(up / "辦法副本.txt", GUIDELINE),  # the same bytes under another name
        _write(up / "無條文.txt", "……\n"),  # text, but no sentence, section, item or article
    ]
    report = add_files(files, corpus_dir=corpus_dir, index_path=tmp_path / "index", sync=False)
    by_name = {f.name: f for f in report.files}
    expected = {
        "空白.txt": ("failed", "empty_file", "空白檔案(0 位元組)"),
        "二進位.txt": ("failed", "binary", "不是文字檔(含二進位資料)"),
        "舊版.doc": ("failed", "unsupported_type", "不支援的檔案類型(只接受 .txt .md .docx .pdf)"),
        # The web names documents, never by id (issue 13): the CLI's message keeps the id.
        "辦法副本.txt": ("duplicate", "duplicate_content", "內容與已收錄的 辦法.txt 相同,未重複加入"),
    }
    html_out = web.render_add_report(report)
    assert by_name["空白.txt"].error == "empty file (0 bytes)"  # the English text stays for the CLI
    assert by_name["辦法副本.txt"].error == "same content as 辦法.txt (d6), already in the corpus"
    for name, (status, code, chinese) in expected.items():
        result = by_name[name]
        assert (result.status, result.code) == (status, code), result
        assert result.error and not CJK.search(result.error.replace(name, "").replace("辦法.txt", ""))
        assert web.esc(chinese) in html_out, (chinese, html_out)
    assert by_name["辦法.txt"].status == "added" and by_name["辦法.txt"].code is None
    # The parser's refusal (assistant.corpus.store) carries its own code too.
    no_text = by_name["無條文.txt"]
    assert no_text.status == "failed" and no_text.code == "no_guideline_text", no_text
    assert web.esc(zh("no_guideline_text")) in html_out
    assert "原因不明" not in html_out
    assert "已加入" in html_out and "第六篇" in html_out and not ID.search(html_out)


ID = re.compile(r"(?<![A-Za-z0-9_])d\d+(?:-[a-z]+\d+)*")  # an internal document / clause id


def test_add_argument_refusals(tmp_path, corpus_dir):
    from assistant.apps import web
    from assistant.services import add_files

    good = _write(tmp_path / "辦法.txt", GUIDELINE)
    two = _write(tmp_path / "兩篇.txt", TWO_DOCS)
    kw = {"corpus_dir": corpus_dir, "index_path": tmp_path / "index", "sync": False}
    cases = [
        (add_files([good], names=[".藏起來.txt"], **kw), "bad_name", "這個檔名不能存入語料庫"),
        (add_files([good], names=["辦法.md"], **kw), "type_changed", "檔名必須保留原本的副檔名"),
        (add_files([tmp_path / "沒有這個檔.txt"], **kw), "no_such_file", "找不到上傳的檔案"),
        (add_files([two], title="標題", **kw), "multi_doc_title", "檔案含多篇文件"),
    ]
    for report, code, chinese in cases:
        (result,) = report.files
        assert (result.status, result.code) == ("failed", code), result
        assert chinese in web.render_add_report(report)


def test_remove_refusals_have_codes(tmp_path, corpus_dir):
    from assistant.apps import web
    from assistant.services import add_files, remove_documents

    add_files([_write(tmp_path / "兩篇.txt", TWO_DOCS)], corpus_dir=corpus_dir, index_path=tmp_path / "index",
              sync=False)
    results, report = remove_documents(["d1", "d99", "d6"], corpus_dir=corpus_dir, sync=False)
    assert report is None
    assert [r.code for r in results] == ["seed_document", "unknown_document", "part_of_file"]
    assert "seed record" in results[0].error  # the English text is unchanged
    html_out = web.render_remove_results(results, None)
    for chinese in ("屬於原始的五份指引(第一至第五篇),不能個別移除", "(可能已被移除),請重新整理清單",
                    "是多篇文件檔中的一篇,只能整個檔案一起移除"):
        assert chinese in html_out, html_out
    assert not ID.search(html_out), html_out  # the web names documents, never by id
    (ok,), _ = remove_documents(["兩篇.txt"], corpus_dir=corpus_dir, sync=False)
    assert ok.removed == ["兩篇.txt"] and ok.error is None and ok.code is None


def test_seed_document_code(tmp_path, corpus_dir):
    from assistant.services import remove_documents

    (result,), _ = remove_documents(["d1"], corpus_dir=corpus_dir, sync=False)
    assert result.code == "seed_document" and not result.removed


def test_corpus_errors_keep_their_code(tmp_path, corpus_dir):
    """A file dropped into the corpus directory that cannot be read is reported with its code
    (carried by SourceError.reason), so the document list shows it in Chinese."""
    from assistant.apps import web
    from assistant.services import list_documents

    _write(corpus_dir / "掃描件.txt", b"")
    listing = list_documents(corpus_dir, tmp_path / "index")
    (error,) = [e for e in listing.errors if e.file == "掃描件.txt"]
    assert error.reason == "empty file (0 bytes)" and error.code == "empty_file"
    assert "無法載入 掃描件.txt:空白檔案(0 位元組)" in web.render_documents(listing)


def test_web_fallback_without_a_code():
    from types import SimpleNamespace

    from assistant.apps import web
    from assistant.services import AddReport, FileResult

    report = AddReport([FileResult("q", "x.pdf", "failed", error="something new went wrong")])
    assert "x.pdf</span>:無法處理(原因不明):something new went wrong" in web.render_add_report(report)
    removed = [SimpleNamespace(target="d9", removed=[], doc_ids=[], error="disk on fire")]
    assert "所選的文件:無法處理(原因不明):disk on fire" in web.render_remove_results(removed, None)
