"""The assistant every handler answers from, swapped whole after a 管理 add or remove."""

import logging
import os
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from assistant.apps.web.admin import (
    _upload_name,
    doc_labels,
    render_add_report,
    render_remove_results,
)

if TYPE_CHECKING:
    from assistant.answering.extractive import Assistant
    from assistant.corpus.records import Corpus

log = logging.getLogger(__name__)


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
            old, old_corpus = self.assistant, self.corpus
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
        labels = {**doc_labels(old_corpus.documents), **doc_labels(self.corpus.documents)}
        return changed, render_add_report(as_uploaded(report, dict(zip(paths, names))), labels)

    def remove(self, target: str) -> tuple[bool, str]:
        """Remove an added file (or document id) and its clauses; returns (changed, HTML)."""
        from assistant.services import remove_documents

        target = (target or "").strip()
        if not target:
            return False, '<div class="admin-result failed">請先選擇要移除的文件。</div>'
        with self.lock:
            old = self.assistant
            labels = doc_labels(self.corpus.documents)  # before: the removed ones are gone after
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
        return changed, render_remove_results(results, sync, labels)

    def _try_reload(self, old: "Assistant") -> None:
        try:
            self._reload(old)
        except Exception:  # noqa: BLE001 - keep answering from the old assistant
            log.exception("reloading the corpus failed; still answering from the previous one")


def as_uploaded(report: Any, names: dict[str, str]) -> Any:
    """*report* with each refused file named as it was uploaded (*names*: path → upload name),
    not as the corpus would have stored it: 「../../evil.txt」 is reported as 「....evil.txt」 with
    the reason that name is refused (it starts with 「.」), never as a name the reason contradicts."""
    files = [replace(f, name=names.get(f.path, f.name)) if f.status == "failed" else f for f in report.files]
    return replace(report, files=files)
