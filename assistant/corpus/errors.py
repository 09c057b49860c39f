"""Stable codes for the problems that adding or removing a guideline can report, and their
wording in Traditional Chinese (what the web app's 管理 tab shows).

Each refusal carries an English text (for the CLI, ``assistant add --json`` and logs) and a
code from :data:`MESSAGES`; apps translate the code, never the English text, so rewording an
English message cannot break the Chinese one. A code's message may name values
(``{target}``, ``{file}``, …) that the refusal supplies (see :func:`zh`).
"""

from __future__ import annotations

from typing import Any

__all__ = ["MESSAGES", "UNKNOWN", "Problem", "zh"]

MESSAGES: dict[str, str] = {
    # the file given (assistant.services.add_files)
    "unsupported_type": "不支援的檔案類型(只接受 .txt .md .docx .pdf)",
    "bad_name": "這個檔名不能存入語料庫(以「.」開頭,或是保留的檔名)",
    "type_changed": "檔名必須保留原本的副檔名",
    "no_such_file": "找不到上傳的檔案,請重新上傳",
    "unreadable": "無法讀取檔案",
    # extracting its text (assistant.corpus.extract)
    "empty_file": "空白檔案(0 位元組)",
    "no_text": "檔案中沒有文字",
    "binary": "不是文字檔(含二進位資料)",
    "undecodable": "無法以 UTF-8、GB18030 或 Big5 讀成中文文字",
    "docx_unreadable": "不是可讀取的 Word .docx 檔案;舊版 .doc 請先另存為 .docx",
    "pdf_unreadable": "不是可讀取的 PDF 檔案",
    "pdf_encrypted": "PDF 已加密(有密碼保護),請另存一份未加密的版本",
    "pdf_extract_failed": "無法從 PDF 擷取文字",
    "pdf_no_text": "PDF 沒有文字層(可能是掃描檔),請先做文字辨識(OCR),或改用 .docx/.txt",
    "missing_dependency": "伺服器缺少讀取 {kind} 檔案所需的元件,請聯絡系統管理員",
    # limits on any file (assistant.corpus.extract, issue 14)
    "too_large": "檔案太大({size},上限 {limit}),請分成幾個較小的檔案再加入",
    "docx_too_large": "Word 檔解壓縮後太大({size},上限 {limit}),可能已損壞或是刻意構造的檔案;請另存新檔後再加入",
    "too_many_paragraphs": "段落太多(超過 {limit} 段),請分成幾個較小的檔案再加入",
    "too_much_text": "文字太多({size} 字,上限 {limit} 字),請分成幾個較小的檔案再加入",
    "too_many_pages": "PDF 頁數太多({pages} 頁,上限 {limit} 頁),請分成幾個較小的檔案再加入",
    "extract_timeout": "擷取文字超過 {seconds} 秒仍未完成,檔案可能過大或結構異常;請分成較小的檔案或另存新檔後再加入",
    # parsing it into documents and clauses
    "no_guideline_text": "找不到指引條文:沒有句子、章節編號(一、)、條目(1、)或條文(第N條)",
    "multi_doc_title": "檔案含多篇文件(第N篇格式),標題與文號只能指定給單篇文件;請留空這兩欄再加入",
    "sidecar_mismatch": "檔案的篇數與其中繼資料不符,請重新加入",
    "duplicate_ids": "條文編號重複,請檢查文中的編號",
    "invalid": "無法處理({detail})",  # a parsing ValueError without a code of its own
    # storing it
    "duplicate_content": "內容與已收錄的 {file}({ids}) 相同,未重複加入",
    "store_failed": "無法存入語料庫(寫入檔案失敗或語料庫正在更新),請稍後再試",
    # removing (assistant.services.remove_documents)
    "seed_document": "{target} 屬於原始的五份指引(d1–d5),不能個別移除",
    "part_of_file": "{target} 是多篇文件檔中的一篇,只能整個檔案一起移除",
    "unknown_document": "找不到 {target}(可能已被移除),請重新整理清單",
}

UNKNOWN = "無法處理(原因不明)"  # a problem without a code (apps add the English text)


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def zh(code: str | None, **values: Any) -> str:
    """The Chinese message of *code* with *values* filled in (a value not given is left blank,
    and a 「()」 left empty by a blank value is dropped); :data:`UNKNOWN` for no or an unknown code."""
    template = MESSAGES.get(code or "")
    if template is None:
        return UNKNOWN
    return template.format_map(_Blank(values)).replace("()", "")


class Problem(ValueError):
    """A refusal with its code: ``str()`` is the English text, ``code`` a key of
    :data:`MESSAGES` and ``values`` what that message names. Raise it (or a subclass, such as
    :class:`assistant.corpus.extract.ExtractionError`) where a file is refused, so that
    :func:`assistant.services.add_files` reports the code; a plain ValueError is reported as
    ``invalid`` with its English text."""

    def __init__(self, message: str, code: str | None = None, **values: str):
        super().__init__(message)
        self.code = code
        self.values = values
