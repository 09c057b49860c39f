"""Feedback left on answers in the web chat: a small SQLite store and ``assistant feedback``.

One row per rated answer: the question, the answer shown, the ids of the cited clauses, 👍/👎,
an optional comment and when it was given. The web app updates the row when a cadre changes
the rating or adds a comment, so an export has one line per answer, not one per click.

The default file is ``data/feedback.sqlite`` in the repository (``$ASSISTANT_FEEDBACK_DB`` or
``--feedback-db`` to move it): it holds what users wrote and is never meant for git.
This module is imported when the CLI parser is built, so it imports nothing heavy.
"""

from __future__ import annotations

import csv
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from assistant.settings import Settings

FEEDBACK_ENV = "ASSISTANT_FEEDBACK_DB"
RATINGS = ("up", "down")
KEEP: Any = object()  # "leave this field unchanged" in FeedbackStore.update

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    question   TEXT NOT NULL,
    answer     TEXT NOT NULL,
    citations  TEXT NOT NULL,          -- cited clause ids, space-separated (d4-s2-c6 …)
    refused    INTEGER NOT NULL DEFAULT 0,
    rating     TEXT CHECK (rating IN ('up', 'down')),
    comment    TEXT NOT NULL DEFAULT ''
)
"""


def default_path() -> Path:
    """``$ASSISTANT_FEEDBACK_DB`` or ``data/feedback.sqlite`` in the repository."""
    return Settings.from_env().feedback_db


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


@dataclass(frozen=True)
class FeedbackRecord:
    id: int
    created_at: str
    updated_at: str
    question: str
    answer: str
    citations: str
    refused: bool
    rating: str | None
    comment: str


class FeedbackStore:
    """Feedback rows in one SQLite file. Safe to share between the app's worker threads: every
    call opens its own short-lived connection (sqlite3 connections are per-thread)."""

    def __init__(self, path: Path | str | None = None):
        self.path = Path(path) if path else default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")  # readers (export) never block the app
            db.execute(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10)
        try:
            with db:  # commit on success, roll back on error
                yield db
        finally:
            db.close()

    def add(
        self,
        question: str,
        answer: str,
        citations: Sequence[str] = (),
        *,
        rating: str | None = None,
        comment: str = "",
        refused: bool = False,
    ) -> int:
        """Store one piece of feedback; returns its row id (for :meth:`update`)."""
        _check_rating(rating)
        now = _now()
        with self._connect() as db:
            cur = db.execute(
                "INSERT INTO feedback (created_at, updated_at, question, answer, citations,"
                " refused, rating, comment) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (now, now, question, answer, " ".join(citations), int(refused), rating, comment),
            )
            return int(cur.lastrowid)

    def update(self, row_id: int, *, rating: Any = KEEP, comment: Any = KEEP) -> None:
        """Change the rating (``None`` clears it) and/or the comment of a row; fields left at
        :data:`KEEP` stay as they are."""
        changes: dict[str, Any] = {}
        if rating is not KEEP:
            _check_rating(rating)
            changes["rating"] = rating
        if comment is not KEEP:
            changes["comment"] = comment
        changes["updated_at"] = _now()
        sets = ", ".join(f"{name} = ?" for name in changes)  # names are ours, never user input
        with self._connect() as db:
            db.execute(f"UPDATE feedback SET {sets} WHERE id = ?", (*changes.values(), row_id))

    def all(self) -> list[FeedbackRecord]:
        """Every row, oldest first."""
        names = ", ".join(f.name for f in fields(FeedbackRecord))
        with self._connect() as db:
            rows = db.execute(f"SELECT {names} FROM feedback ORDER BY id").fetchall()
        return [FeedbackRecord(*row[:6], bool(row[6]), *row[7:]) for row in rows]

    def export_csv(self, out: TextIO) -> int:
        """Write all rows as CSV (header first) to *out*; returns the number of rows."""
        records = self.all()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([f.name for f in fields(FeedbackRecord)])
        for r in records:
            writer.writerow([_cell(v) for v in asdict(r).values()])
        return len(records)


def _check_rating(rating: str | None) -> None:
    if rating is not None and rating not in RATINGS:
        raise ValueError(f"rating must be one of {RATINGS} or None, not {rating!r}")


def _cell(value: object) -> object:
    """Neutralise spreadsheet formulas: the export is opened in Excel/WPS, and a comment typed as
    ``=HYPERLINK(…)`` must stay text there (OWASP "CSV injection")."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


# --- CLI: assistant feedback export --csv -----------------------------------------------------


