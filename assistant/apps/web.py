"""The web chat for cadres (``assistant chat``): a Gradio 6 app on http://127.0.0.1:7860.

* **問答** — the short answer first (streamed), then a citation card per cited clause: document,
  section path, clause number, the verbatim clause with the answering sentence highlighted, and a
  one-click citation string. A refusal says so plainly and lists the 相關條文. Follow-up
  questions lean on the earlier questions of the conversation. 👍/👎 and a comment are stored
  in SQLite (:mod:`assistant.feedback`).
* **瀏覽條文** — the five documents as document → section → clause, with a search box that uses
  the chat's retrieval. ``?clause=d4-s2-c6`` (what the card links point to) opens a clause.
* **測驗** — mounted from :mod:`assistant.quiz_ui` when that module is installed.
* ``/ask`` API — one question in, the JSON of ``assistant ask --json`` out (gradio_client).

Every string that reaches the browser — questions, answers, corpus text — is HTML-escaped here,
and the chatbot renders HTML without markdown, so user or corpus text can never become markup.
Every limit of the page (question, comment, search, 管理 fields) is applied again by its handler,
and :class:`HTTPGuard` sits in front of Gradio: no upload route without the 管理 tab, bounded
request bodies, per-client throttling of failed logins, and security headers on every response.
The module top level stays light (no gradio import): the CLI imports it to build its parser.
"""

import html
import ipaddress
import json
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant import settings as config  # noqa: F401  (sets GRADIO_ANALYTICS_ENABLED=False before gradio loads)

if TYPE_CHECKING:
    import gradio as gr

    from assistant.answering.extractive import Assistant
    from assistant.answering.records import Answer, Citation
    from assistant.apps.feedback import FeedbackStore
    from assistant.corpus.records import Clause, Corpus
    from assistant.retrieval.hybrid import Hit


log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
AUTH_ENV = "ASSISTANT_AUTH"
TITLE = "指引問答助手"

# Shown on the empty chat; both scripts, each with a known answer in the guidelines.
EXAMPLES = [
    "鄉鎮紀委書記任滿幾年必須交流?",
    "乡镇纪委书记任满几年必须交流?",
    "縣財政每年安排多少萬元用於村主要干部基本報酬?",
    "乡镇纪委书记以多大年龄的干部为主体?",
    "市、縣兩級紅十字會的“三定”工作要配合哪個部門來做?",
    "党员人数达到多少的村应建立党总支?",
]

_CN_NUMERALS = "一二三四五六七八九十"

# --- limits the server enforces (issue 14) -------------------------------------------------------
# The page's own limits (a textbox's max_length) hold in the browser only: a raw queue or API call
# skips them, so every handler applies them again here.
MAX_QUESTION = 500  # characters of a question (chat and /ask); the rest is not read
MAX_COMMENT = 1000  # characters of a feedback comment
MAX_QUERY = 200  # characters of a 瀏覽條文 search
ADMIN_FIELDS = {"title": ("標題", 200), "issuer": ("發文機關", 100), "date": ("日期", 20),
                "doc_number": ("文號", 100)}
MAX_BODY_BYTES = 4 * 2**20  # any request but an upload (a long conversation's chat history fits)
MAX_UPLOAD_FILES = 20  # files in one upload request (each at most corpus.extract.MAX_FILE_BYTES)
CACHE_SWEEP = (600, 1800)  # Gradio's delete_cache: every 10 min, uploads older than 30 min
# Failed logins: LOGIN_FREE_FAILURES in a row from one client, then it waits LOGIN_LOCKOUT
# seconds, doubled for every further failure up to LOGIN_MAX_LOCKOUT; a success resets.
LOGIN_FREE_FAILURES = 5
LOGIN_LOCKOUT = 60.0
LOGIN_MAX_LOCKOUT = 900.0
# What every response says about itself. The CSP is as tight as Gradio's page allows: its
# config and our page script are inline, gr.HTML renders its template through `new Function`
# ('unsafe-eval'), its components set inline styles, images and fonts come from the app or
# data:/blob: URLs. What it does hold: nothing is loaded from or fetched at another origin, no
# plugins, no <base>, forms post only here, and no other site may frame the app.
_CSP_DIRECTIVES = (
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "media-src 'self' data: blob:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "frame-src 'self'",
    "frame-ancestors 'self'",
    "form-action 'self'",
    "base-uri 'self'",
    "object-src 'none'",
)
CSP = "; ".join(_CSP_DIRECTIVES)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": CSP,
}

# --- HTML rendering (pure functions: everything escaped, testable without gradio) ----------


def esc(text: object) -> str:
    """HTML-escape *text*, quotes included (it also goes into attribute values)."""
    return html.escape(str(text), quote=True)


def citation_path(c: "Citation") -> list[str]:
    """Section, subsection and clause of a citation, from its structured fields."""
    parts = [c.section, c.subsection or "", c.clause]
    return [p for i, p in enumerate(parts) if p and p not in parts[:i]]


def citation_string(citation: "Citation") -> str:
    """The one-line citation a cadre pastes into a report:
    《…》二、進一步健全鄉鎮紀檢組織 第6條:“任滿一屆的應適當交流,任滿10年的必須交流。”"""
    return f"《{citation.doc_title}》{' '.join(citation_path(citation))}:“{citation.quote}”"


def highlight(text: str, quote: str = "", answer: str = "") -> str:
    """Escaped *text* with the answering sentence in ``<mark>`` and, inside it, the short
    answer in ``<strong>`` — both located by position, so nothing is re-typed."""
    start = text.find(quote) if quote else -1
    if start < 0:
        return esc(text)
    end = start + len(quote)
    inner = esc(quote)
    a = quote.find(answer) if answer and answer != quote else -1
    if a >= 0:
        inner = (
            esc(quote[:a]) + f"<strong>{esc(answer)}</strong>" + esc(quote[a + len(answer):])
        )
    return f"{esc(text[:start])}<mark>{inner}</mark>{esc(text[end:])}"


def clause_link(clause_id: str, text: str) -> str:
    """A link that opens the clause in 瀏覽條文 (the page script keeps the chat; a new tab or a
    copied URL works through the ``?clause=`` query)."""
    return f'<a class="clause-link" href="?clause={esc(clause_id)}">{esc(text)}</a>'


def copy_button(text: str) -> str:
    """「複製引用」: the page script copies the title, which also previews the string on hover."""
    return f'<button type="button" class="copy-cite" title="{esc(text)}">複製引用</button>'


def render_card(c: "Citation", *, answer: str = "", related: bool = False, number: int | None = None) -> str:
    """One citation card: document, section path, clause number, verbatim text, actions.
    A *related* card (a refusal's 相關條文) highlights and offers to copy nothing — nothing in
    it is the answer — and clamps its text to two lines so the refusal itself stays in view."""
    *head, ref = citation_path(c)
    crumbs = "".join(f'<span class="crumb">{esc(p)}</span>' for p in head)
    where = f'{crumbs}<span class="cite-no">{esc(ref)}</span>'
    if related:
        return (
            f'<div class="cite-card related"><div class="cite-doc">《{esc(c.doc_title)}》</div>'
            f'<div class="cite-path">{where}{clause_link(c.id, f"查看 {c.id}")}</div>'
            f'<blockquote class="cite-text">{esc(c.text)}</blockquote></div>'
        )
    return (
        f'<div class="cite-card"><div class="cite-doc">{f"[{number}] " if number else ""}《{esc(c.doc_title)}》</div>'
        f'<div class="cite-path">{where}</div>'
        f'<blockquote class="cite-text">{highlight(c.text, c.quote, answer)}</blockquote>'
        f'<div class="cite-actions">{copy_button(citation_string(c))}'
        f'{clause_link(c.id, f"在條文瀏覽中查看 {c.id}")}</div></div>'
    )


def render_question(question: str) -> str:
    """The user's own words, shown as text (pre-wrap keeps their line breaks)."""
    return f'<div class="user-q">{esc(question)}</div>'


def render_pending() -> str:
    return '<div class="pending">正在查找相關條文……</div>'


def render_answer(answer: "Answer", partial: str | None = None) -> str:
    """The assistant's message: the short answer (or *partial*, while streaming), then cards."""
    if partial is not None:
        return f'<div class="short-answer">{esc(partial)}<span class="caret">▍</span></div>'
    parts = []
    if answer.refused:
        parts.append(f'<div class="refusal">{esc(answer.answer)}</div>')
        if answer.note:  # why: 「指引中沒有提到「獎金」。」
            parts.append(f'<div class="note">{esc(answer.note)}</div>')
        if answer.see_also:
            parts.append(
                '<div class="refusal-hint">以下條文與問題最接近,但沒有直接回答,僅供參考。</div>'
                '<div class="cards-title">相關條文</div>'
            )
            parts += [render_card(c, related=True) for c in answer.see_also]
    else:
        parts.append(f'<div class="short-answer">{esc(answer.answer)}</div>')
        parts.append('<div class="cards-title">出處</div>')
        numbered = answer.mode == "llm"  # the LLM's sentences cite [1], [2]: number the cards
        parts += [render_card(c, answer=answer.answer, number=i if numbered else None)
                  for i, c in enumerate(answer.citations, 1)]
        if answer.see_also:
            items = "".join(
                f"<li>{clause_link(c.id, c.label)}</li>" for c in answer.see_also
            )
            parts.append(
                f'<details class="see-also"><summary>另見相關條文({len(answer.see_also)})'
                f"</summary><ul>{items}</ul></details>"
            )
    if answer.note and not answer.refused:
        parts.append(f'<div class="note">{esc(answer.note)}</div>')
    return f'<div class="answer">{"".join(parts)}</div>'


def _doc_meta(doc: Any, n_clauses: int) -> str:
    """「中國紅十字會總會 · 紅總字〔2010〕72號 · 2010-09-13 · 12條」 (missing fields skipped)."""
    bits = [doc.issuer, doc.doc_number, doc.date, doc.status, f"{n_clauses}條"]
    return " · ".join(esc(b) for b in bits if b)


def render_toc(corpus: "Corpus") -> str:
    """The five documents as collapsible document → section → subsection → clause blocks."""
    out = ['<div class="toc"><div class="cards-title">目錄(點選篇名展開)</div>']
    for doc in corpus.documents:
        clauses = corpus.by_doc(doc.id)
        n = _CN_NUMERALS[doc.number - 1] if 0 < doc.number <= 10 else str(doc.number)
        out.append(
            f'<details class="toc-doc" id="doc-{esc(doc.id)}"><summary>'
            f'<span class="doc-no">第{n}篇</span>'
            f'<span class="doc-title">《{esc(doc.title)}》</span>'
            f'<span class="doc-meta">{_doc_meta(doc, len(clauses))}</span></summary>'
        )
        section = subsection = None
        for c in clauses:
            if c.section != section:
                section, subsection = c.section, None
                out.append(f'<h3 class="toc-section">{esc(c.section)}</h3>')
            if c.subsection and c.subsection != subsection:
                subsection = c.subsection
                out.append(f'<h4 class="toc-subsection">{esc(c.subsection)}</h4>')
            out.append(_toc_clause(c))
        out.append("</details>")
    out.append("</div>")
    return "".join(out)


def _toc_clause(c: "Clause") -> str:
    ref = c.ref if c.clause_no is not None else "正文"
    cite = f"《{c.doc_title}》{' '.join(c.path)}:“{c.text}”"
    return (
        f'<div class="toc-clause" id="clause-{esc(c.id)}" tabindex="-1">'
        f'<div class="toc-clause-head">{clause_link(c.id, ref)}'
        f'<span class="clause-id">{esc(c.id)}</span>{copy_button(cite)}</div>'
        f'<p class="toc-clause-text">{esc(c.text)}</p></div>'
    )


def render_hits(query: str, hits: Sequence["Hit"]) -> str:
    """Search results: label links into the table of contents plus the start of each clause."""
    if not query.strip():
        return ""
    if not hits:
        return f'<div class="search-empty">沒有找到與「{esc(query)}」相關的條文。</div>'
    rows = []
    for h in hits:
        c = h.clause
        snippet = c.text if len(c.text) <= 90 else c.text[:90] + "……"
        rows.append(
            f'<li>{clause_link(c.id, c.label)}<div class="hit-text">{esc(snippet)}</div></li>'
        )
    return (
        f'<div class="search-results"><div class="cards-title">與「{esc(query)}」最相關的條文'
        f'</div><ol>{"".join(rows)}</ol></div>'
    )


# --- 管理 (admin): adding and removing guidelines (only in an app that runs with a login) -----

ADMIN_SUFFIXES = (".txt", ".md", ".docx", ".pdf")


def zh_problem(code: str | None, detail: str | None = None, values: dict[str, Any] | None = None) -> str:
    """The Chinese message of a refusal's *code* (:mod:`assistant.corpus.errors`) with *values*
    filled in, not escaped; without a code, 「無法處理(原因不明)」 and the English *detail*."""
    from assistant.corpus.errors import UNKNOWN, zh

    if code:
        return zh(code, **{"detail": detail or "", **(values or {})})
    return f"{UNKNOWN}:{detail}" if detail else UNKNOWN


def zh_reason(result: Any) -> str:
    """Why a file was refused (a :class:`~assistant.services.FileResult`) or left out of the
    corpus (a :class:`~assistant.corpus.records.SourceError`), in Traditional Chinese (not escaped)."""
    detail = getattr(result, "error", None) or getattr(result, "reason", None)
    code = getattr(result, "code", None)
    return zh_problem(code, detail, getattr(result, "values", None))


def _doc_line(doc: Any) -> str:
    """「d6《標題》 · 發文機關 · 日期 · 文號」, escaped."""
    extra = " · ".join(esc(x) for x in (doc.issuer, doc.date, doc.doc_number, doc.status) if x)
    return f'<span class="doc-id">{esc(doc.id)}</span>《{esc(doc.title)}》' + (
        f'<span class="doc-extra"> · {extra}</span>' if extra else "")


def render_add_report(report: Any) -> str:
    """Per-file results of :func:`assistant.ingest.add_files`: added with N clauses, refused with
    the reason, then the index line and other files' problems."""
    items = []
    for f in report.files:
        name = f'<span class="file-name">{esc(f.name)}</span>'
        if f.status in ("added", "updated"):
            verb = "已加入" if f.status == "added" else "已更新"
            docs = "、".join(_doc_line(d) for d in f.documents)
            items.append(f'<li class="ok"><strong>{verb}</strong> {name} → {docs},共 {f.clauses} 條</li>')
        elif f.status == "unchanged":
            items.append(f'<li class="same"><strong>未變更</strong> {name}:與已收錄的版本相同'
                         f'({esc("、".join(d.id for d in f.documents))})</li>')
        elif f.status == "duplicate":
            items.append(f'<li class="same"><strong>略過</strong> {name}:{esc(zh_reason(f))}</li>')
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


def zh_remove_error(result: Any) -> str:
    """Why a :func:`assistant.services.remove_documents` target was not removed, in Traditional
    Chinese (not escaped)."""
    code = getattr(result, "code", None)
    if code:
        return zh_problem(code, result.error, {"target": result.target})
    return f"{result.target}:{zh_problem(None, result.error)}"


def render_remove_results(results: Sequence[Any], sync: Any) -> str:
    items = []
    for r in results:
        if r.error:
            items.append(f'<li class="failed"><strong>未移除</strong> {esc(zh_remove_error(r))}</li>')
        else:
            ids = "、".join(r.doc_ids) or "無文件"
            items.append(f'<li class="ok"><strong>已移除</strong> <span class="file-name">'
                         f'{esc("、".join(r.removed))}</span>({esc(ids)})及其條文</li>')
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


def render_documents(report: Any) -> str:
    """The corpus's documents (id, file, clause count, index status) as an escaped table."""
    from assistant.corpus.parse import CORPUS_FILE

    rows = []
    for r in report.rows:
        d = r.document
        source = d.source + (f" 第{r.part}篇" if r.part is not None else "")
        kind = "原始指引" if d.source == CORPUS_FILE else "已加入"
        state = _index_state(r)
        cls = "ok" if state == "已建立索引" else "pending"
        rows.append(
            f'<tr><td class="doc-id">{esc(d.id)}</td><td>{esc(source)}<div class="doc-kind">{kind}</div></td>'
            f"<td>《{esc(d.title)}》</td><td class=\"num\">{r.clauses}</td>"
            f'<td class="{cls}">{esc(state)}</td></tr>'
        )
    total = sum(r.clauses for r in report.rows)
    out = [
        '<table class="doc-table"><thead><tr><th>編號</th><th>檔案</th><th>標題</th><th>條數</th>'
        f'<th>索引狀態</th></tr></thead><tbody>{"".join(rows)}</tbody></table>',
        f'<div class="admin-note">共 {len(report.rows)} 份文件、{total} 條條文。</div>',
    ]
    for e in report.errors:
        out.append(f'<div class="admin-note">無法載入 {esc(e.file)}:{esc(zh_reason(e))}</div>')
    return f'<div class="admin-docs">{"".join(out)}</div>'


def removable_choices(report: Any) -> list[tuple[str, str]]:
    """Dropdown choices for the remove action: one per added file (label, file name); the seed
    record's documents are not offered. A multi-document file is removed as a whole."""
    from assistant.corpus.parse import CORPUS_FILE

    by_file: dict[str, list[Any]] = {}
    for r in report.rows:
        if r.document.source != CORPUS_FILE:
            by_file.setdefault(r.document.source, []).append(r.document)
    return [
        (f"{'、'.join(d.id for d in docs)} · {name} 《{docs[0].title}》"
         + (f" 等 {len(docs)} 篇" if len(docs) > 1 else ""), name)
        for name, docs in by_file.items()
    ]


class LiveAssistant:
    """The assistant (and corpus) every handler answers from.

    A handler reads :attr:`assistant` once per request and uses that object to the end. An admin
    add/remove (serialised by :attr:`lock`) builds the successor completely — index synced, new
    searcher over the new corpus — and then replaces the one ``(assistant, corpus)`` tuple in a
    single attribute store (atomic in CPython). A request that is queued or running during the
    swap is therefore answered wholly by the old or wholly by the new assistant, never a mix, and
    the app itself is never rebuilt."""

    def __init__(self, assistant: "Assistant", corpus: "Corpus", *,
                 corpus_dir: str | os.PathLike | None = None, index_path: str | os.PathLike | None = None):
        import threading

        self._current = (assistant, corpus)
        self.initial_corpus = corpus
        self.corpus_dir = corpus_dir
        self.index_path = index_path
        self.lock = threading.Lock()

    @property
    def assistant(self) -> "Assistant":
        return self._current[0]

    @property
    def corpus(self) -> "Corpus":
        return self._current[1]

    def _reload(self, old: "Assistant") -> None:
        """Swap in an assistant over the corpus as it now is on disk (caller holds the lock)."""
        from assistant.corpus.store import load_corpus
        from assistant.services import reload_assistant

        new = reload_assistant(old, self.corpus_dir)
        self._current = (new, load_corpus(self.corpus_dir))

    def documents(self) -> Any:
        from assistant.services import list_documents

        return list_documents(self.corpus_dir, self.index_path)

    def add(self, uploads: Sequence[Any], *, title: str = "", issuer: str = "", date: str = "",
            doc_number: str = "") -> tuple[bool, str]:
        """Add uploaded files — (path, original name) pairs or plain paths — with
        :func:`assistant.ingest.add_files`; returns (corpus changed, result HTML)."""
        from assistant.services import add_files, normalize_date

        pairs = [u if isinstance(u, (tuple, list)) else (str(u), os.path.basename(str(u))) for u in uploads or []]
        if not pairs:
            return False, '<div class="admin-result failed">請先選擇要加入的檔案。</div>'
        if (title.strip() or doc_number.strip()) and len(pairs) > 1:
            return False, ('<div class="admin-result failed">標題和文號只能指定給單一檔案:'
                           "請一次上傳一個檔案,或留空這兩欄。</div>")
        try:
            normalize_date(date)
        except ValueError:
            return False, '<div class="admin-result failed">日期格式不正確,請用 YYYY-MM-DD(例如 2012-03-01)。</div>'
        paths = [str(p) for p, _ in pairs]
        names = [_upload_name(n, p) for p, n in pairs]
        with self.lock:
            old = self.assistant
            try:
                report = add_files(
                    paths, names=names, title=title or None, issuer=issuer or None, date=date or None,
                    doc_number=doc_number or None, corpus_dir=self.corpus_dir, index_path=self.index_path,
                    store=old.searcher.store, embedder=old.searcher.embedder,
                )
            except Exception:  # noqa: BLE001 - index/lock failures: report, and follow the disk
                log.exception("adding %s failed", names)
                self._try_reload(old)
                return True, ('<div class="admin-result failed">加入或建立索引時發生錯誤,詳情見伺服器日誌;'
                              "請用文件清單確認索引狀態。</div>")
            changed = any(f.status in ("added", "updated") for f in report.files)
            if changed:
                self._try_reload(old)
        log.info("admin add: %s", "; ".join(report.lines()))
        return changed, render_add_report(report)

    def remove(self, target: str) -> tuple[bool, str]:
        """Remove an added file (or document id) and its clauses; returns (changed, HTML)."""
        from assistant.services import remove_documents

        target = (target or "").strip()
        if not target:
            return False, '<div class="admin-result failed">請先選擇要移除的文件。</div>'
        with self.lock:
            old = self.assistant
            try:
                results, sync = remove_documents(
                    [target], corpus_dir=self.corpus_dir, index_path=self.index_path,
                    store=old.searcher.store, embedder=old.searcher.embedder,
                )
            except Exception:  # noqa: BLE001
                log.exception("removing %s failed", target)
                self._try_reload(old)
                return True, '<div class="admin-result failed">移除時發生錯誤,詳情見伺服器日誌。</div>'
            changed = any(r.removed for r in results)
            if changed:
                self._try_reload(old)
        log.info("admin remove %s: %s", target, [(r.removed, r.error) for r in results])
        return changed, render_remove_results(results, sync)

    def _try_reload(self, old: "Assistant") -> None:
        try:
            self._reload(old)
        except Exception:  # noqa: BLE001 - keep answering from the old assistant
            log.exception("reloading the corpus failed; still answering from the previous one")


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


# --- page style and behaviour -------------------------------------------------------------

CSS = """
.gradio-container { max-width: 1080px !important; width: 100%; margin: 0 auto !important; }
.app-header h1 { font-size: 1.6rem; margin: .2rem 0; }
.app-header p { color: var(--body-text-color-subdued); margin: 0 0 .4rem; }
#chat .user-q { white-space: pre-wrap; }
.short-answer { font-size: 1.2rem; font-weight: 600; line-height: 1.6; }
.caret { opacity: .5; }
.pending { color: var(--body-text-color-subdued); }
.refusal { font-size: 1.1rem; font-weight: 600; color: var(--color-accent); }
.cite-path .clause-link { margin-left: .8rem; font-size: .85rem; }
.refusal-hint, .note { color: var(--body-text-color-subdued); font-size: .92rem; margin: .3rem 0; }
.cards-title { font-weight: 600; margin: .8rem 0 .3rem; color: var(--body-text-color-subdued); }
.cite-card { border: 1px solid var(--border-color-primary); border-left: 4px solid var(--color-accent);
  border-radius: 6px; padding: .6rem .8rem; margin: .4rem 0; background: var(--background-fill-primary); }
.cite-doc { font-weight: 600; }
.cite-path { font-size: .9rem; color: var(--body-text-color-subdued); margin: .1rem 0 .4rem; }
.cite-path .crumb::after { content: " › "; }
.cite-no { font-weight: 600; color: var(--body-text-color); }
.cite-text { margin: 0; padding: 0; border: 0; line-height: 1.8; font-size: 1rem; }
.cite-card.related { border-left-color: var(--border-color-primary); }
.cite-card.related .cite-text { display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical;
  overflow: hidden; color: var(--body-text-color-subdued); }
.cite-text mark { background: #fde68a; color: #1f2937; padding: 0 .1em; border-radius: 2px; }
.cite-text mark strong { text-decoration: underline; text-underline-offset: 3px; }
.cite-actions { display: flex; gap: .8rem; align-items: center; margin-top: .5rem; font-size: .9rem; }
.copy-cite { border: 1px solid var(--border-color-primary); border-radius: 4px; padding: .1rem .6rem;
  background: var(--button-secondary-background-fill); cursor: pointer; font-size: .85rem; }
.copy-cite:hover { border-color: var(--color-accent); }
.see-also { margin-top: .5rem; font-size: .92rem; }
.see-also summary { cursor: pointer; color: var(--body-text-color-subdued); }
.toc-doc { border: 1px solid var(--border-color-primary); border-radius: 6px; margin: .5rem 0;
  padding: .4rem .8rem; }
.toc-doc > summary { cursor: pointer; font-size: 1.05rem; line-height: 1.8; }
.doc-no { font-weight: 600; margin-right: .4rem; color: var(--color-accent); }
.doc-title { font-weight: 600; }
.doc-meta { display: block; font-size: .85rem; color: var(--body-text-color-subdued); }
.toc-section { font-size: 1.05rem; margin: 1rem 0 .3rem; }
.toc-subsection { font-size: .98rem; margin: .6rem 0 .2rem; color: var(--body-text-color-subdued); }
.toc-clause { padding: .35rem .6rem; margin: .2rem 0; border-radius: 4px; scroll-margin-top: 30vh; }
.toc-clause.is-target { background: #fef3c7; color: #1f2937; outline: 2px solid #f59e0b; }
.toc-clause-head { display: flex; gap: .6rem; align-items: center; }
.toc-clause-head .clause-link { font-weight: 600; }
.clause-id { font-family: var(--font-mono); font-size: .8rem; color: var(--body-text-color-subdued); }
.toc-clause-text { margin: .2rem 0 0; line-height: 1.8; }
.search-results ol { padding-left: 1.4rem; }
.search-results li { margin: .4rem 0; }
.hit-text { font-size: .9rem; color: var(--body-text-color-subdued); }
.admin-intro, .admin-note { color: var(--body-text-color-subdued); font-size: .92rem; margin: .3rem 0; }
.admin-report { list-style: none; padding: 0; margin: .4rem 0; }
.admin-report li { padding: .35rem .6rem; margin: .25rem 0; border-radius: 4px; line-height: 1.7;
  border-left: 4px solid var(--border-color-primary); background: var(--background-fill-secondary); }
.admin-report li.ok { border-left-color: #16a34a; }
.admin-report li.failed, .admin-result.failed { border-left-color: var(--color-accent); color: var(--color-accent); }
.admin-result.failed { padding: .35rem .6rem; border-left: 4px solid; }
.file-name { font-family: var(--font-mono); font-size: .92rem; }
.doc-id { font-family: var(--font-mono); font-weight: 600; }
.doc-table { width: 100%; border-collapse: collapse; font-size: .92rem; }
.doc-table th, .doc-table td { border: 0; border-bottom: 1px solid var(--border-color-primary);
  padding: .3rem .5rem; text-align: left; vertical-align: top; }
.doc-table td.num { text-align: right; }
.doc-table td.pending { color: var(--color-accent); }
.doc-kind { font-size: .8rem; color: var(--body-text-color-subdued); }
"""

# Event delegation on the document: chat messages are re-rendered while streaming, so handlers
# are never bound to the cards themselves. The chatbot's sanitiser drops data-* attributes, so a
# card's copy text rides in the button's title (also its tooltip) and the clause id in the link's
# ?clause= query. Copy falls back to execCommand because the Clipboard API exists only in secure
# contexts (plain http on a LAN address is not one).
HEAD = """
<script>
(() => {
  const copyText = async (text) => {
    try { await navigator.clipboard.writeText(text); return true; } catch (e) {}
    const ta = document.createElement("textarea");
    ta.value = text; ta.setAttribute("readonly", ""); ta.style.position = "fixed"; ta.style.opacity = "0";
    document.body.appendChild(ta); ta.select();
    let ok = false; try { ok = document.execCommand("copy"); } catch (e) {}
    ta.remove(); return ok;
  };
  const browseTab = () => document.getElementById("tab-browse-button")
    || [...document.querySelectorAll("button[role=tab]")].find((b) => b.textContent.trim() === "瀏覽條文");
  // Open clause *id* in 瀏覽條文: select the tab, unfold its document, scroll to and mark it.
  const showClause = (id, tries = 0) => {
    const tab = browseTab();
    if (tab && tab.getAttribute("aria-selected") !== "true") tab.click();
    const el = document.getElementById("clause-" + id);
    if (el) {
      let p = el.parentElement;
      for (; p; p = p.parentElement) if (p.tagName === "DETAILS") p.open = true;
    }
    if (!el || !el.offsetParent) {  // tab still rendering, or the app not mounted yet
      if (tries < 100) setTimeout(() => showClause(id, tries + 1), 50);
      return;
    }
    document.querySelectorAll(".toc-clause.is-target").forEach((e) => e.classList.remove("is-target"));
    el.classList.add("is-target");
    el.scrollIntoView({ block: "center" });
    el.focus({ preventScroll: true });
    const url = new URL(location.href);
    url.searchParams.set("clause", id);
    history.replaceState(null, "", url);
  };
  document.addEventListener("click", async (ev) => {
    const copy = ev.target.closest("button.copy-cite");
    if (copy) {
      ev.preventDefault();
      const ok = await copyText(copy.dataset.copy || copy.title);
      copy.textContent = ok ? "已複製" : "複製失敗,請手動選取";
      setTimeout(() => { copy.textContent = "複製引用"; }, 1600);
      return;
    }
    const link = ev.target.closest("a.clause-link");
    const id = link && new URL(link.href, location.href).searchParams.get("clause");
    if (id && !(ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button)) {
      ev.preventDefault(); ev.stopPropagation();  // stay in this tab: the chat is kept
      showClause(id);
    }
  }, true);
  const wanted = new URLSearchParams(location.search).get("clause");
  if (wanted && /^[a-z0-9-]{1,40}$/.test(wanted)) showClause(wanted);
})();
</script>
"""

# Gradio's login form shows nothing when the server throttles failed logins (HTTP 429), and the
# login page carries no `head` (Gradio adds it once logged in): HTTPGuard puts this script into
# the page itself, so the form says why and for how long.
LOGIN_SCRIPT = """<script>
(() => {
  const fetchOriginal = window.fetch;
  window.fetch = async (...args) => {
    const response = await fetchOriginal(...args);
    try {
      const url = new URL(typeof args[0] === "string" ? args[0] : args[0].url, location.href);
      if (response.status === 429 && url.pathname.split("/").filter(Boolean).pop() === "login") {
        const wait = response.headers.get("Retry-After") || "60";
        const field = document.querySelector("input[type=password]");
        const where = field && (field.closest("form") || field.parentElement.parentElement);
        let note = document.getElementById("login-throttled");
        if (!note && where) {
          note = document.createElement("p");
          note.id = "login-throttled";
          note.setAttribute("role", "alert");
          note.style.color = "#b91c1c";
          where.appendChild(note);
        }
        if (note) note.textContent = `登入失敗次數過多,請於 ${wait} 秒後再試。`;
      }
    } catch (e) {}
    return response;
  };
})();
</script>"""


def theme() -> "gr.themes.Base":
    """System CJK fonts only (no web-font download), a restrained red accent."""
    import gradio as gr

    cjk = ["Noto Sans CJK TC", "Noto Sans TC", "PingFang TC", "Microsoft JhengHei",
           "Source Han Sans TC", "Noto Sans CJK SC", "sans-serif"]
    return gr.themes.Default(
        primary_hue="red", neutral_hue="stone", font=cjk, font_mono=["ui-monospace", "monospace"]
    )


# --- the app ----------------------------------------------------------------------------------


def clip_question(question: str | None) -> tuple[str, bool]:
    """The question as processed: stripped, at most :data:`MAX_QUESTION` characters; and
    whether it was cut."""
    question = (question or "").strip()
    return question[:MAX_QUESTION], len(question) > MAX_QUESTION


def with_clip_note(answer: "Answer", clipped: bool) -> "Answer":
    """*answer*, saying in its note that only the question's first characters were read."""
    if not clipped:
        return answer
    note = f"問題超過 {MAX_QUESTION} 字,只依前 {MAX_QUESTION} 字作答。"
    return replace(answer, note=f"{answer.note} {note}" if answer.note else note)


def _rating(liked: Any) -> str | None:
    """gr.LikeData.liked: True/False for 👍/👎 (or the option names); anything else un-rates."""
    if liked is True or liked == "Like":
        return "up"
    if liked is False or liked == "Dislike":
        return "down"
    return None


def _stream_steps(text: str, steps: int = 4) -> Iterator[str]:
    """Growing prefixes of *text* for the streamed short answer (it is computed at once, so a
    few steps are enough to show it arriving before the cards)."""
    size = max(1, -(-len(text) // steps))
    for end in range(size, len(text), size):
        yield text[:end]


def build_app(
    assistant: "Assistant",
    *,
    feedback_store: "FeedbackStore",
    corpus: "Corpus",
    admin: bool = False,
    corpus_dir: str | os.PathLike | None = None,
    index_path: str | os.PathLike | None = None,
) -> "gr.Blocks":
    """The Gradio Blocks app (queue on). Launch it with :func:`launch` so theme, CSS and the page
    script apply (Gradio 6 takes those at launch time).

    *admin* adds the 管理 tab (upload, document list, remove) over *corpus_dir* / *index_path*
    (default: ``$ASSISTANT_CORPUS`` / ``$ASSISTANT_INDEX``); such an app must be launched with a
    login (:func:`launch` refuses otherwise). Without *admin* the tab and its events do not
    exist at all. ``demo.live`` is the :class:`LiveAssistant` the handlers answer from."""
    import gradio as gr

    live = LiveAssistant(assistant, corpus, corpus_dir=corpus_dir, index_path=index_path)

    def ask_api(question: str) -> dict:
        """Answer one question; returns the JSON object of `assistant ask --json`."""
        question = question or ""
        clipped = len(question) > MAX_QUESTION  # answered and echoed as read: its first characters
        return with_clip_note(live.assistant.ask(question[:MAX_QUESTION]), clipped).to_dict()

    def respond(question: str, chat: list, records: dict, history: list):
        """Stream one turn: the question, a placeholder, the growing short answer, then cards."""
        question, clipped = clip_question(question)
        if not question:
            yield gr.skip(), chat, records, history
            return
        chat = [*chat, {"role": "user", "content": render_question(question)},
                {"role": "assistant", "content": render_pending()}]
        yield "", chat, records, history
        stream = getattr(live.assistant, "stream", None)  # LLM mode: verified sentences as they come
        try:
            if stream is None:
                answer = live.assistant.ask(question, history=history)
            else:
                partial = ""
                for event in stream(question, history=history):
                    if isinstance(event, str):
                        partial += event
                        chat[-1] = {"role": "assistant", "content": render_answer(None, partial=partial)}
                        yield "", chat, records, history
                    else:
                        answer = event
        except Exception:  # keep the conversation usable; the traceback goes to the server log
            log.exception("answering %r failed", question)
            chat[-1] = {"role": "assistant", "content": '<div class="refusal">系統暫時無法作答,'
                        "請稍後再試;如持續出現,請聯絡管理員。</div>"}
            yield "", chat, records, history
            return
        answer = with_clip_note(answer, clipped)
        if stream is None and not answer.refused:
            for part in _stream_steps(answer.answer):
                chat[-1] = {"role": "assistant", "content": render_answer(answer, partial=part)}
                yield "", chat, records, history
                time.sleep(0.03)
        chat[-1] = {"role": "assistant", "content": render_answer(answer)}
        records = {**records, len(chat) - 1: {
            "question": question,
            "answer": answer.answer,
            "citations": [c.id for c in answer.citations],
            "refused": answer.refused,
        }}
        yield "", chat, records, [*history, question]

    def store_feedback(rec: dict, row: int | None, **change: Any) -> int:
        """Create the answer's feedback row on first contact, then update that same row."""
        if row is None:
            return feedback_store.add(rec["question"], rec["answer"], rec["citations"],
                                      refused=rec["refused"], **change)
        feedback_store.update(row, **change)
        return row

    def on_like(data: gr.LikeData, records: dict, rows: dict):
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        if index not in records:
            return rows, gr.skip()
        rating = _rating(data.liked)
        rows = {**rows, index: store_feedback(records[index], rows.get(index), rating=rating)}
        msg = {"up": "已記錄 👍,謝謝。", "down": "已記錄 👎,謝謝。"}.get(rating, "已取消評價。")
        return rows, msg + "如有補充,可在下方留言。"

    def on_comment(comment: str, records: dict, rows: dict):
        comment = (comment or "").strip()
        if not comment:
            return gr.skip(), rows, "請先輸入意見內容。"
        if len(comment) > MAX_COMMENT:  # the box stops at MAX_COMMENT; a raw call does not
            return gr.skip(), rows, f"意見最多 {MAX_COMMENT} 字(目前 {len(comment)} 字),請精簡後再送出。"
        if not records:
            return gr.skip(), rows, "請先提問,再對回答留言。"
        index = max(records)  # the comment is about the latest answer
        rows = {**rows, index: store_feedback(records[index], rows.get(index), comment=comment)}
        return "", rows, "意見已記錄,謝謝。"

    def pick_example(ev: gr.SelectData) -> str:
        return ev.value["text"]

    def search(query: str) -> str:
        query = (query or "").strip()[:MAX_QUERY]
        return render_hits(query, live.assistant.searcher.search(query, k=8) if query else [])

    def refresh_toc():
        """On page load: the table of contents of the corpus as it is now (unchanged unless the
        管理 tab has added or removed documents since start-up)."""
        current = live.corpus
        return gr.skip() if current is live.initial_corpus else render_toc(current)

    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        # Per-session state. records is written only by the chat turn and rows only by the
        # feedback handlers, so a rating given while the next answer streams is never lost.
        records = gr.State({})  # assistant-message index → question, answer, cited ids
        rows = gr.State({})  # assistant-message index → its feedback row id
        history = gr.State([])  # earlier questions, for follow-ups
        gr.HTML(
            f'<div class="app-header"><h1>{TITLE}</h1><p>依據五份組織建設指引作答,'
            "每個答案都附原文條款;指引沒有規定的,會如實說明。繁體、簡體提問均可。</p></div>"
        )
        with gr.Tabs(selected="chat", elem_id="main-tabs"):
            with gr.Tab("問答", id="chat", elem_id="tab-chat"):
                chatbot = gr.Chatbot(
                    label="對話",
                    elem_id="chat",
                    height="64vh",
                    render_markdown=False,  # messages are escaped HTML built above
                    sanitize_html=True,  # …and still sanitised, as a second line of defence
                    allow_tags=False,
                    latex_delimiters=[],
                    buttons=[],  # the stock copy button would copy raw HTML
                    placeholder="<b>請輸入關於指引內容的問題</b><br>回答只摘錄指引原文並註明條款;"
                    "也可以點選下面的例題。",
                    examples=[{"text": q} for q in EXAMPLES],
                )
                with gr.Row(equal_height=True):
                    box = gr.Textbox(
                        show_label=False, placeholder="輸入問題,按 Enter 送出(繁體或簡體均可)",
                        max_lines=4, max_length=MAX_QUESTION, scale=8, elem_id="question", autofocus=True,
                    )
                    send = gr.Button("提問", variant="primary", scale=1, elem_id="ask")
                with gr.Accordion("對最新的回答留言(選填)", open=False, elem_id="feedback-box"):
                    comment = gr.Textbox(
                        show_label=False, placeholder="例如:答案不完整、引用的條文不對……",
                        lines=2, max_length=MAX_COMMENT, elem_id="comment",
                    )
                    send_comment = gr.Button("送出意見", elem_id="send-comment")
                status = gr.Markdown(elem_id="feedback-status")
            with gr.Tab("瀏覽條文", id="browse", elem_id="tab-browse"):
                with gr.Row(equal_height=True):
                    query = gr.Textbox(show_label=False, placeholder="搜尋條文,例如:紀委書記 交流",
                                       max_length=MAX_QUERY, scale=8, elem_id="browse-query")
                    find = gr.Button("搜尋", scale=1, elem_id="browse-search")
                results = gr.HTML(elem_id="browse-results")
                toc = gr.HTML(render_toc(corpus), elem_id="toc")
            try:
                from assistant.apps.quiz_tab import build_quiz_tab
            except ModuleNotFoundError as exc:
                if exc.name != "assistant.quiz_ui":
                    raise
            else:
                with gr.Tab("測驗", id="quiz", elem_id="tab-quiz"):
                    build_quiz_tab(corpus)
            if admin:
                with gr.Tab("管理", id="admin", elem_id="tab-admin") as admin_tab:
                    ui = _admin_tab(live)

        turn = dict(fn=respond, inputs=[box, chatbot, records, history],
                    outputs=[box, chatbot, records, history], show_progress="hidden",
                    concurrency_id="assistant", api_visibility="private")
        box.submit(**turn)
        send.click(**turn)
        chatbot.example_select(pick_example, None, box, queue=False,
                               api_visibility="private").then(**turn)
        chatbot.like(on_like, [records, rows], [rows, status], api_visibility="private")
        send_comment.click(on_comment, [comment, records, rows], [comment, rows, status],
                           api_visibility="private")
        # The chatbot's own 清空對話 button: forget the conversation for follow-ups, too.
        chatbot.clear(lambda: ({}, {}, [], ""), None, [records, rows, history, status],
                      queue=False, api_visibility="private")
        query.submit(search, query, results, concurrency_id="assistant", api_visibility="private")
        find.click(search, query, results, concurrency_id="assistant", api_visibility="private")
        gr.api(ask_api, api_name="ask", concurrency_id="assistant",
               api_description="回答一個問題;傳回與 `assistant ask --json` 相同的 JSON。")
        demo.load(refresh_toc, None, toc, queue=False, show_progress="hidden", api_visibility="private")
        if admin:
            _wire_admin(live, ui, admin_tab, toc)
    demo.live = live
    demo.admin = admin
    # Retrieval is CPU-bound on a small machine: a few at a time keeps latency fair under load.
    demo.queue(default_concurrency_limit=4)
    return demo


def _admin_tab(live: LiveAssistant) -> dict[str, Any]:
    """The 管理 tab's components (inside ``gr.Tab``); wired by :func:`_wire_admin`."""
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
        ui["date"] = gr.Textbox(label="日期(選填)", placeholder="YYYY-MM-DD", max_lines=1, max_length=20, elem_id="admin-date")
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


def _wire_admin(live: LiveAssistant, ui: dict[str, Any], tab: Any, toc: Any) -> None:
    """Events of the 管理 tab: page-only (``api_visibility="private"``: neither listed in the API
    nor callable by the Gradio clients), one at a time (concurrency id ``admin``, limit 1)."""
    import gradio as gr

    def listing() -> tuple[str, Any]:
        report = live.documents()
        return render_documents(report), gr.update(choices=removable_choices(report), value=None)

    def new_toc(changed: bool) -> Any:
        return render_toc(live.corpus) if changed else gr.skip()

    def admin_add(files, title, issuer, date, doc_number):
        fields = {"title": title or "", "issuer": issuer or "", "date": date or "", "doc_number": doc_number or ""}
        too_long = [(label, limit) for key, (label, limit) in ADMIN_FIELDS.items() if len(fields[key]) > limit]
        if too_long:  # the boxes stop there; a raw call does not
            label, limit = too_long[0]
            return (f'<div class="admin-result failed">{esc(label)}最多 {limit} 字,請縮短後再加入;未加入任何檔案。</div>',
                    *(gr.skip(),) * 8)
        changed, html_out = live.add(files or [], **fields)
        docs, target = listing()
        cleared = None if changed else gr.skip()
        if changed:  # the box is cleared: its uploads are done with (the rest: Gradio's cache sweep)
            _drop_uploads(files or [])
        return (html_out, docs, target, new_toc(changed), cleared, *(("" if changed else gr.skip()),) * 4)

    def admin_ask_remove(target):
        if not target:
            return gr.update(visible=False), "", '<div class="admin-result failed">請先選擇要移除的文件。</div>'
        return (gr.update(visible=True),
                f'<div class="admin-confirm">確定要移除 <strong>{esc(target)}</strong> 嗎?檔案及其條文會從語料庫和索引中刪除。</div>',
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


# --- the HTTP guard: uploads, request size, login throttling, security headers (issue 14) -------


class LoginThrottle:
    """Failed logins per client address: after :data:`LOGIN_FREE_FAILURES` failures in a row
    the client is locked out for :data:`LOGIN_LOCKOUT` seconds, doubling with every further
    failure (at most :data:`LOGIN_MAX_LOCKOUT`); while locked out every attempt — the right
    password included — is refused unread. A success resets the client; failures older than
    an hour are forgotten. Thread-safe; at most *max_clients* addresses are remembered."""

    def __init__(self, free: int = LOGIN_FREE_FAILURES, lockout: float = LOGIN_LOCKOUT,
                 max_lockout: float = LOGIN_MAX_LOCKOUT, *, clock: Callable[[], float] = time.monotonic,
                 forget_after: float = 3600.0, max_clients: int = 10_000):
        self.free, self.lockout, self.max_lockout = free, lockout, max_lockout
        self.clock, self.forget_after, self.max_clients = clock, forget_after, max_clients
        self._clients: dict[str, tuple[int, float, float]] = {}  # → (failures, locked until, last failure)
        self._lock = threading.Lock()

    def _get(self, client: str, now: float) -> tuple[int, float, float]:
        failures, until, last = self._clients.get(client, (0, 0.0, 0.0))
        if failures and now - last > self.forget_after and now >= until:
            self._clients.pop(client, None)
            return 0, 0.0, 0.0
        return failures, until, last

    def retry_after(self, client: str) -> float:
        """Seconds *client* must still wait before its next attempt (0: it may try now)."""
        with self._lock:
            now = self.clock()
            return max(0.0, self._get(client, now)[1] - now)

    def failed(self, client: str) -> float:
        """Record a failed login; returns the lockout it starts (0 while attempts are free)."""
        with self._lock:
            now = self.clock()
            failures = self._get(client, now)[0] + 1
            wait = 0.0
            if failures >= self.free:
                wait = min(self.lockout * 2 ** (failures - self.free), self.max_lockout)
            if client not in self._clients and len(self._clients) >= self.max_clients:
                oldest = min(self._clients, key=lambda c: self._clients[c][2])
                del self._clients[oldest]
            self._clients[client] = (failures, now + wait, now)
            return wait

    def failures(self, client: str) -> int:
        """Failed logins in a row from *client*."""
        with self._lock:
            return self._get(client, self.clock())[0]

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._clients.pop(client, None)


_UPLOAD_ROUTES = ("/gradio_api/upload", "/gradio_api/upload_progress", "/gradio_api/process_recording")


class _Refuse(Exception):
    """A request refused by the guard before the app saw it (status, Chinese reason)."""

    def __init__(self, status: int, reason: str, headers: dict[str, str] | None = None):
        super().__init__(reason)
        self.status, self.reason, self.headers = status, reason, headers or {}


class HTTPGuard:
    """ASGI middleware in front of the Gradio app (:func:`launch` installs it):

    * adds :data:`SECURITY_HEADERS` to every response;
    * refuses every upload route (and any multipart body but the login form) where the app has
      no upload component (*uploads* False: the app without the 管理 tab) — Gradio would store
      what anyone posts in its cache and serve it back from the app's address;
    * refuses bodies over *max_body* bytes (*max_upload* for an upload), by Content-Length
      before reading, or by counting a body sent without one;
    * throttles failed logins per client (:class:`LoginThrottle`): HTTP 429 with Retry-After,
      each lockout logged, and puts :data:`LOGIN_SCRIPT` into the page so the login form says so.
    Behind a reverse proxy every client has the proxy's address: the throttle then holds for all."""

    def __init__(self, app: Any, *, uploads: bool, throttle: LoginThrottle, max_body: int = MAX_BODY_BYTES,
                 max_upload: int = 0):
        self.app, self.uploads, self.throttle = app, uploads, throttle
        self.max_body, self.max_upload = max_body, max_upload

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message: dict) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k.lower().encode("latin-1"), v.encode("latin-1"))
                         for k, v in SECURITY_HEADERS.items() if k.lower().encode("latin-1") not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        respond = send_with_headers
        if scope.get("method") == "GET" and scope.get("path", "").rstrip("/") == "":
            respond = self._with_login_script(send_with_headers)
        try:
            await self._guarded(scope, receive, respond)
        except _Refuse as refused:
            if started:  # the app already answered: nothing more can be said
                return
            body = json.dumps({"error": refused.reason}, ensure_ascii=False).encode("utf-8")
            await send_with_headers({
                "type": "http.response.start", "status": refused.status,
                "headers": [(b"content-type", b"application/json; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()),
                            *((k.lower().encode(), v.encode()) for k, v in refused.headers.items())],
            })
            await send_with_headers({"type": "http.response.body", "body": body})

    async def _guarded(self, scope: dict, receive: Callable, send: Callable) -> None:
        path = scope.get("path", "").rstrip("/")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        multipart = headers.get("content-type", "").lower().startswith("multipart/")
        upload = any(path.endswith(route) for route in _UPLOAD_ROUTES)
        login = scope.get("method") == "POST" and path.endswith("/login")
        if (upload or (multipart and not login)) and not self.uploads:  # the login page posts a form
            raise _Refuse(403, "此服務不接受上傳檔案。")
        limit = self.max_upload if upload else self.max_body
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            raise _Refuse(413, f"請求內容太大(上限 {limit // 2**20} MB)。")
        if scope.get("method") in ("POST", "PUT", "PATCH") and not length.isdigit():
            receive = self._counting(receive, limit)
        if login:
            await self._login(scope, receive, send)
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _with_login_script(send: Callable) -> Callable:
        """*send* for the app's page: :data:`LOGIN_SCRIPT` goes in before ``</head>``."""
        start: dict | None = None
        chunks: list[bytes] = []

        async def inject(message: dict) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                kind = dict(message.get("headers", [])).get(b"content-type", b"")
                if not kind.startswith(b"text/html"):
                    await send(message)
                    return
                start = message
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            page = b"".join(chunks).replace(b"</head>", LOGIN_SCRIPT.encode("utf-8") + b"</head>", 1)
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            await send({**start, "headers": [*headers, (b"content-length", str(len(page)).encode())]})
            await send({"type": "http.response.body", "body": page})

        return inject

    @staticmethod
    def _counting(receive: Callable, limit: int) -> Callable:
        seen = 0

        async def counted() -> dict:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _Refuse(413, f"請求內容太大(上限 {limit // 2**20} MB)。")
            return message

        return counted

    async def _login(self, scope: dict, receive: Callable, send: Callable) -> None:
        client = (scope.get("client") or ("unknown",))[0]
        wait = self.throttle.retry_after(client)
        if wait > 0:  # logged when the lockout starts; not per attempt (a flood would flood the log)
            log.debug("login from %s refused unread: locked out for another %.0f s", client, wait)
            raise _Refuse(429, f"登入失敗次數過多,請於 {math.ceil(wait)} 秒後再試。",
                          {"Retry-After": str(math.ceil(wait))})

        async def watch(message: dict) -> None:
            if message["type"] == "http.response.start":
                status = message["status"]
                if status == 200:
                    self.throttle.succeeded(client)
                elif 400 <= status < 500:
                    lockout = self.throttle.failed(client)
                    if lockout:
                        log.warning("failed login from %s (%d in a row): locked out for %.0f s", client,
                                    self.throttle.failures(client), lockout)
                    else:
                        log.info("failed login from %s", client)
            await send(message)

        await self.app(scope, receive, watch)


def launch(
    demo: "gr.Blocks",
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    auth: tuple[str, str] | None = None,
    prevent_thread_lock: bool = False,
    quiet: bool = False,
) -> Any:
    """Serve *demo* locally (never a share link), with the theme, CSS and page script. An app
    built with the 管理 tab is only ever served behind a login."""
    from starlette.middleware import Middleware

    from assistant.corpus.extract import MAX_FILE_BYTES

    admin = bool(getattr(demo, "admin", False))
    if admin and not auth:
        raise ValueError("the 管理 (admin) tab adds and removes guidelines: launch it with auth")
    # Only the 管理 tab takes files: without it no upload route answers (HTTPGuard); with it an
    # upload is at most MAX_FILE_BYTES per file, and Gradio's cache is swept of old uploads.
    demo.delete_cache = CACHE_SWEEP
    guard = Middleware(HTTPGuard, uploads=admin, throttle=LoginThrottle(),
                       max_upload=MAX_UPLOAD_FILES * MAX_FILE_BYTES if admin else 0)
    return demo.launch(
        server_name=host,
        server_port=port,
        auth=auth,
        auth_message="請輸入帳號和密碼。",
        share=False,
        ssr_mode=False,
        prevent_thread_lock=prevent_thread_lock,
        quiet=quiet,
        show_error=False,
        max_file_size=MAX_FILE_BYTES if admin else 1,
        app_kwargs={"middleware": [guard]},
        footer_links=["api"],
        theme=theme(),
        css=CSS,
        head=HEAD,
    )


# --- CLI: assistant chat ----------------------------------------------------------------------


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """「user:password」 → (user, password); empty → no auth."""
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not (sep and user and password):
        raise ValueError("--auth / $ASSISTANT_AUTH must look like user:password")
    return user, password


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


