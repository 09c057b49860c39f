"""管理 (admin): adding and removing guidelines, only in an app that runs with a login — the
tab's builder and events, its renderers (per-file reports, the document list) and upload helpers."""

import logging
import os
import re
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from assistant.apps.web.limits import ADMIN_FIELDS
from assistant.apps.web.render import doc_name, esc, render_toc

log = logging.getLogger(__name__)

ADMIN_SUFFIXES = (".txt", ".md", ".docx", ".pdf")


# A document id (d6) or clause id (d6-s1-c2): the 管理 tab shows none (issue 13), only
# 第六篇《標題》 and file names; ids stay in the dropdown's values, URLs and the API.
DOC_ID = re.compile(r"^d\d+(?:-[a-z]+\d+)*$")

# The web's wording of codes whose shared message (assistant.corpus.errors, which the CLI
# also uses) names document ids.
_WEB_MESSAGES = {
    "seed_document": "{target} 屬於原始的五份指引(第一至第五篇),不能個別移除",
}


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def doc_label(doc: Any) -> str:
    """「第六篇《標題》」: how the 管理 tab names a document (not escaped)."""
    return f"{doc_name(doc.number)}《{doc.title}》"


def doc_labels(documents: Sequence[Any]) -> dict[str, str]:
    """Document id → :func:`doc_label`, for the reports that know only ids."""
    return {d.id: doc_label(d) for d in documents}


def _shown_ids(ids: str | Sequence[str], labels: Mapping[str, str] | None) -> str:
    """Document ids (a list, or 「d6, d7」 as a refusal gives them) as their labels; an id
    without a label is left out (never shown)."""
    if isinstance(ids, str):
        ids = [i.strip() for i in re.split(r"[,、]", ids)]
    return "、".join((labels or {})[i] for i in ids if i and i in (labels or {}))


def _shown_target(target: str, labels: Mapping[str, str] | None) -> str:
    """A remove target as shown: a file name as it is, a document id as its label."""
    target = target or ""
    if target in (labels or {}):
        return (labels or {})[target]
    return "所選的文件" if DOC_ID.match(target) else target


def zh_problem(code: str | None, detail: str | None = None, values: dict[str, Any] | None = None) -> str:
    """The Chinese message of a refusal's *code* (:mod:`assistant.corpus.errors`) with *values*
    filled in, not escaped; without a code, 「無法處理(原因不明)」 and the English *detail*."""
    from assistant.corpus.errors import UNKNOWN, zh

    if code in _WEB_MESSAGES:
        filled = {"detail": detail or "", **(values or {})}
        return _WEB_MESSAGES[code].format_map(_Blank(filled)).replace("()", "")
    if code:
        return zh(code, **{"detail": detail or "", **(values or {})})
    return f"{UNKNOWN}:{detail}" if detail else UNKNOWN


def zh_reason(result: Any, labels: Mapping[str, str] | None = None) -> str:
    """Why a file was refused (a :class:`~assistant.services.FileResult`) or left out of the
    corpus (a :class:`~assistant.corpus.records.SourceError`), in Traditional Chinese (not
    escaped); document ids in its values are shown as their *labels* (id → 第N篇《…》)."""
    detail = getattr(result, "error", None) or getattr(result, "reason", None)
    code = getattr(result, "code", None)
    values = dict(getattr(result, "values", None) or {})
    if "ids" in values:
        values["ids"] = _shown_ids(values["ids"], labels)
    return zh_problem(code, detail, values)


def _doc_line(doc: Any) -> str:
    """「第六篇《標題》 · 發文機關 · 日期 · 文號」, escaped."""
    extra = " · ".join(esc(x) for x in (doc.issuer, doc.date, doc.doc_number, doc.status) if x)
    return f'<span class="doc-no">{esc(doc_name(doc.number))}</span>《{esc(doc.title)}》' + (
        f'<span class="doc-extra"> · {extra}</span>' if extra else "")


def render_add_report(report: Any, labels: Mapping[str, str] | None = None) -> str:
    """Per-file results of :func:`assistant.ingest.add_files`: added with N clauses, refused with
    the reason, then the index line and other files' problems. *labels* (document id →
    第N篇《…》) names the documents a refusal gives by id."""
    items = []
    for f in report.files:
        name = f'<span class="file-name">{esc(f.name)}</span>'
        if f.status in ("added", "updated"):
            verb = "已加入" if f.status == "added" else "已更新"
            docs = "、".join(_doc_line(d) for d in f.documents)
            items.append(f'<li class="ok"><strong>{verb}</strong> {name} → {docs},共 {f.clauses} 條</li>')
        elif f.status == "unchanged":
            items.append(f'<li class="same"><strong>未變更</strong> {name}:與已收錄的版本相同'
                         f'({esc("、".join(doc_label(d) for d in f.documents))})</li>')
        elif f.status == "duplicate":
            items.append(f'<li class="same"><strong>略過</strong> {name}:{esc(zh_reason(f, labels))}</li>')
        else:
            items.append(f'<li class="failed"><strong>未加入</strong> {name}:{esc(zh_reason(f))}</li>')
    out = [f'<ul class="admin-report">{"".join(items)}</ul>']
    if report.sync is not None:
        s = report.sync
        out.append(f'<div class="admin-note">索引已更新:新嵌入 {s.added} 條、重新嵌入 {s.updated} 條、'
                   f"刪除 {s.removed} 條({s.seconds:.1f} 秒)。問答與瀏覽條文已改用新的語料。</div>")
    elif report.files and not report.ok and not any(f.status in ("added", "updated") for f in report.files):
        out.append('<div class="admin-note">沒有加入任何檔案,語料與索引均未變更。</div>')
    for e in report.corpus_errors:
        out.append(f'<div class="admin-note">注意:語料庫中的 {esc(e.file)} 無法載入:{esc(zh_reason(e))}</div>')
    return f'<div class="admin-result">{"".join(out)}</div>'


def zh_remove_error(result: Any, labels: Mapping[str, str] | None = None) -> str:
    """Why a :func:`assistant.services.remove_documents` target was not removed, in Traditional
    Chinese (not escaped); a target given by document id is named by its label."""
    code = getattr(result, "code", None)
    target = _shown_target(result.target, labels)
    if code:
        return zh_problem(code, result.error, {"target": target})
    return f"{target}:{zh_problem(None, result.error)}"


def render_remove_results(results: Sequence[Any], sync: Any, labels: Mapping[str, str] | None = None) -> str:
    """What a remove did; *labels* (document id → 第N篇《…》, taken before the removal) names
    the documents removed."""
    items = []
    for r in results:
        if r.error:
            items.append(f'<li class="failed"><strong>未移除</strong> {esc(zh_remove_error(r, labels))}</li>')
        else:
            docs = _shown_ids(r.doc_ids, labels)
            items.append(f'<li class="ok"><strong>已移除</strong> <span class="file-name">'
                         f'{esc("、".join(r.removed))}</span>' + (f"({esc(docs)})" if docs else "") + "及其條文</li>")
    out = [f'<ul class="admin-report">{"".join(items)}</ul>']
    if sync is not None:
        out.append(f'<div class="admin-note">索引已更新:刪除 {sync.removed} 條。'
                   "問答與瀏覽條文已改用新的語料。</div>")
    return f'<div class="admin-result">{"".join(out)}</div>'


def _index_state(row: Any) -> str:
    if row.indexed is None:
        return "未建立索引"
    if row.indexed == row.clauses:
        return "已建立索引"
    return f"{row.indexed}/{row.clauses} 已索引"


PROGRESS_EVERY = 1.0  # seconds between the status lines of a running add


def render_add_progress(names: Sequence[str], seconds: float) -> str:
    """The status shown while an add runs: which files, what is being done, seconds so far."""
    shown = "、".join(names[:3]) + (f" 等 {len(names)} 個檔案" if len(names) > 3 else "")
    what = f"正在加入 {shown}" if names else "正在檢查"
    return (f'<div class="admin-result admin-progress" role="status"><strong>處理中</strong> {esc(what)}:'
            f"擷取文字、切分條文並更新索引…已 {int(seconds)} 秒。檔案較大時可能需要幾分鐘,請勿關閉頁面。</div>")


def render_documents(report: Any) -> str:
    """The corpus's documents (第N篇《標題》, file, clause count, index status) as an escaped table."""
    from assistant.corpus.parse import CORPUS_FILE

    rows = []
    for r in report.rows:
        d = r.document
        source = d.source + (f"(檔內第{r.part}篇)" if r.part is not None else "")
        kind = "原始指引" if d.source == CORPUS_FILE else "已加入"
        state = _index_state(r)
        cls = "ok" if state == "已建立索引" else "pending"
        rows.append(
            f'<tr><td class="doc-no">{esc(doc_name(d.number))}</td><td>{esc(source)}<div class="doc-kind">{kind}</div></td>'
            f"<td>《{esc(d.title)}》</td><td class=\"num\">{r.clauses}</td>"
            f'<td class="{cls}">{esc(state)}</td></tr>'
        )
    total = sum(r.clauses for r in report.rows)
    out = [
        '<table class="doc-table"><thead><tr><th>篇次</th><th>檔案</th><th>標題</th><th>條數</th>'
        f'<th>索引狀態</th></tr></thead><tbody>{"".join(rows)}</tbody></table>',
        f'<div class="admin-note">共 {len(report.rows)} 份文件、{total} 條條文。</div>',
    ]
    for e in report.errors:
        out.append(f'<div class="admin-note">無法載入 {esc(e.file)}:{esc(zh_reason(e))}</div>')
    return f'<div class="admin-docs">{"".join(out)}</div>'


def removable_choices(report: Any) -> list[tuple[str, str]]:
    """Dropdown choices for the remove action: one per added file (label 「第六篇《標題》 · 檔名」,
    value the file name — never shown); the seed record's documents are not offered. A
    multi-document file is removed as a whole."""
    from assistant.corpus.parse import CORPUS_FILE

    by_file: dict[str, list[Any]] = {}
    for r in report.rows:
        if r.document.source != CORPUS_FILE:
            by_file.setdefault(r.document.source, []).append(r.document)
    return [
        (f"{doc_label(docs[0])}" + (f" 等 {len(docs)} 篇" if len(docs) > 1 else "") + f" · {name}", name)
        for name, docs in by_file.items()
    ]


def _drop_uploads(uploads: Sequence[Any]) -> None:
    """Delete uploaded files from Gradio's upload cache once added (only files inside it)."""
    from gradio.utils import get_upload_folder

    root = Path(get_upload_folder()).resolve()
    for u in uploads:
        path = Path(u[0] if isinstance(u, (tuple, list)) else u).resolve()
        if root in path.parents:
            try:
                path.unlink(missing_ok=True)
                if path.parent != root:
                    path.parent.rmdir()  # Gradio keeps each upload in a folder of its own
            except OSError:
                pass  # not empty, or already gone: the sweep takes care of it


def _upload_name(name: str | None, path: str) -> str:
    """The name an upload is stored under: the browser's original file name (control
    characters and path separators dropped), else the uploaded file's own name."""
    clean = "".join(ch for ch in (name or "") if ch.isprintable() and ch not in "/\\").strip()
    return clean or os.path.basename(path)


def _upload_box_class() -> type:
    """gr.File whose value reaches the handler as (path, original file name) pairs — the stock
    component passes only the cached path — and whose file types are left to
    :func:`assistant.ingest.add_files`, so a wrong one is refused per file with its reason."""
    import gradio as gr
    from gradio.data_classes import FileData

    class UploadBox(gr.File):
        is_template = True  # rendered by the stock File frontend

        def preprocess(self, payload: Any) -> list[tuple[str, str]] | None:
            if payload is None:
                return None
            files = [payload] if isinstance(payload, FileData) else list(payload)
            return [(f.path, f.orig_name or os.path.basename(f.path)) for f in files]

    return UploadBox


def build_admin_tab(live: Any) -> dict[str, Any]:
    """The 管理 tab's components (inside ``gr.Tab``) over *live*, the app's
    :class:`~assistant.apps.web.live.LiveAssistant`; wired by :func:`wire_admin_tab`."""
    import gradio as gr

    report = live.documents()
    ui: dict[str, Any] = {}
    gr.HTML('<div class="admin-intro">加入新的指引檔案(.txt .md .docx .pdf,可一次多個):系統會擷取文字、'
            "依章節與條號切分條文並建立索引,完成後問答與瀏覽條文立即改用新的語料。"
            "掃描檔、加密或無法辨識的檔案會被拒絕並說明原因,其餘內容不受影響。</div>")
    ui["files"] = _upload_box_class()(
        label="指引檔案", file_count="multiple", file_types=list(ADMIN_SUFFIXES), type="filepath",
        height=140, elem_id="admin-files",
    )
    with gr.Row():
        ui["title"] = gr.Textbox(label="標題(選填,僅限單一檔案)", max_lines=1, max_length=200, elem_id="admin-title")
        ui["issuer"] = gr.Textbox(label="發文機關(選填)", max_lines=1, max_length=100, elem_id="admin-issuer")
        ui["date"] = gr.Textbox(label="日期(選填)", placeholder="例如:2011年7月14日", max_lines=1, max_length=20, elem_id="admin-date")
        ui["doc_number"] = gr.Textbox(label="文號(選填,僅限單一檔案)", max_lines=1, max_length=100, elem_id="admin-doc-number")
    ui["add"] = gr.Button("加入並建立索引", variant="primary", elem_id="admin-add")
    ui["add_result"] = gr.HTML(elem_id="admin-result")
    gr.HTML('<div class="cards-title">文件清單</div>')
    ui["docs"] = gr.HTML(render_documents(report), elem_id="admin-docs")
    with gr.Row(equal_height=True):
        ui["target"] = gr.Dropdown(label="移除已加入的文件(原始五份指引不能移除)", choices=removable_choices(report),
                                   value=None, scale=6, elem_id="admin-remove-target")
        ui["remove"] = gr.Button("移除…", variant="stop", scale=1, elem_id="admin-remove")
    with gr.Row(visible=False, elem_id="admin-confirm") as confirm_row:
        ui["confirm_text"] = gr.HTML()
        ui["confirm"] = gr.Button("確認移除", variant="stop", elem_id="admin-remove-confirm")
        ui["cancel"] = gr.Button("取消", elem_id="admin-remove-cancel")
    ui["confirm_row"] = confirm_row
    ui["remove_result"] = gr.HTML(elem_id="admin-remove-result")
    return ui


def wire_admin_tab(live: Any, ui: dict[str, Any], tab: Any, toc: Any) -> None:
    """Events of the 管理 tab: page-only (``api_visibility="private"``: neither listed in the API
    nor callable by the Gradio clients), one at a time (concurrency id ``admin``, limit 1)."""
    import gradio as gr

    def listing() -> tuple[str, Any]:
        report = live.documents()
        return render_documents(report), gr.update(choices=removable_choices(report), value=None)

    def new_toc(changed: bool) -> Any:
        return render_toc(live.corpus) if changed else gr.skip()

    def admin_add(files, title, issuer, date, doc_number):
        """Streams a status (which files, seconds so far) while the files are added and the
        index synced in a worker thread, then yields the report; the last yield is the result."""
        fields = {"title": title or "", "issuer": issuer or "", "date": date or "", "doc_number": doc_number or ""}
        too_long = [(label, limit) for key, (label, limit) in ADMIN_FIELDS.items() if len(fields[key]) > limit]
        if too_long:  # the boxes stop there; a raw call does not
            label, limit = too_long[0]
            yield (f'<div class="admin-result failed">{esc(label)}最多 {limit} 字,請縮短後再加入;未加入任何檔案。</div>',
                   *(gr.skip(),) * 8)
            return
        files = files or []
        done = threading.Event()
        outcome: dict[str, Any] = {}

        def work() -> None:
            try:
                outcome["result"] = live.add(files, **fields)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the handler
                outcome["error"] = exc
            finally:
                done.set()

        started = time.monotonic()
        threading.Thread(target=work, name="admin-add", daemon=True).start()
        names = [_upload_name(u[1] if isinstance(u, (tuple, list)) else None,
                              str(u[0] if isinstance(u, (tuple, list)) else u)) for u in files]
        while True:
            yield (render_add_progress(names, time.monotonic() - started), *(gr.skip(),) * 8)
            if done.wait(PROGRESS_EVERY):
                break
        if "error" in outcome:
            raise outcome["error"]
        changed, html_out = outcome["result"]
        docs, target = listing()
        cleared = None if changed else gr.skip()
        if changed:  # the box is cleared: its uploads are done with (the rest: Gradio's cache sweep)
            _drop_uploads(files)
        yield (html_out, docs, target, new_toc(changed), cleared, *(("" if changed else gr.skip()),) * 4)

    def admin_ask_remove(target):
        if not target:
            return gr.update(visible=False), "", '<div class="admin-result failed">請先選擇要移除的文件。</div>'
        shown = _shown_target(target, doc_labels(live.corpus.documents))
        return (gr.update(visible=True),
                f'<div class="admin-confirm">確定要移除 <strong>{esc(shown)}</strong> 嗎?檔案及其條文會從語料庫和索引中刪除。</div>',
                "")

    def admin_remove(target):
        changed, html_out = live.remove(target or "")
        docs, choices = listing()
        return html_out, docs, choices, new_toc(changed), gr.update(visible=False)

    def admin_cancel_remove():
        return gr.update(visible=False), '<div class="admin-result">已取消,未移除任何文件。</div>'

    def admin_refresh():
        return listing()

    private = dict(api_visibility="private")
    meta = [ui["title"], ui["issuer"], ui["date"], ui["doc_number"]]
    ui["add"].click(admin_add, [ui["files"], *meta],
                    [ui["add_result"], ui["docs"], ui["target"], toc, ui["files"], *meta],
                    concurrency_id="admin", concurrency_limit=1, **private)
    ui["remove"].click(admin_ask_remove, ui["target"], [ui["confirm_row"], ui["confirm_text"], ui["remove_result"]],
                       queue=False, **private)
    ui["confirm"].click(admin_remove, ui["target"],
                        [ui["remove_result"], ui["docs"], ui["target"], toc, ui["confirm_row"]],
                        concurrency_id="admin", concurrency_limit=1, **private)
    ui["cancel"].click(admin_cancel_remove, None, [ui["confirm_row"], ui["remove_result"]], queue=False, **private)
    tab.select(admin_refresh, None, [ui["docs"], ui["target"]], queue=False, show_progress="hidden", **private)

