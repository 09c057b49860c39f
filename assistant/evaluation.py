"""Q&A set → standard IR and answer metrics, written as JSON, Markdown and a PNG chart.

Input: JSONL records ``{"id","question","answers":[...],"gold":[...],"answerable":bool,"type"}``
with optional ``"doc"`` (a seed document number 1–5, a law's short name such as 「工会法」, or
null), ``"items":[...]`` (an enumeration: every item must be in the answer) and ``"polarity"``
(「yes」/「no」 on yes/no questions).

An answer is correct when it contains an accepted answer (any of ``answers``, if given) and every
one of ``items`` (if given), after t2s normalisation; a ranked clause is relevant when it
contains a gold substring. Unanswerable questions are right when refused. An answerable question
with ``gold: []`` (a fact about a whole document or the collection) has no single relevant
clause: it is left out of the retrieval metrics and citation accuracy, never counted as a miss.
Metrics follow sentence-transformers' InformationRetrievalEvaluator (hit@k, MRR, nDCG) plus
answer accuracy, citation accuracy, refusal precision/recall and enumeration completeness.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from assistant.answering.extractive import Assistant
from assistant.answering.records import Answer
from assistant.text import normalize

log = logging.getLogger(__name__)

KS = (1, 3, 5)
# The per-type table: the first six are the original columns (kept, in order).
TYPE_KEYS = ("questions", "hit@1", "answer_accuracy", "citation_accuracy", "refusal_recall", "false_refusals",
             "hit@3", "mrr", "enumeration_complete")


@dataclass(frozen=True)
class Item:
    id: str
    question: str
    answers: tuple[str, ...]
    gold: tuple[str, ...]
    answerable: bool
    type: str = "fact"
    doc: int | str | None = None  # seed document number, a law's short name (「工会法」), or None
    items: tuple[str, ...] = ()  # enumeration: the answer must hold every one
    polarity: str | None = None  # 「yes」/「no」 on yes/no questions

    @property
    def citable(self) -> bool:
        """Has a gold clause, so retrieval rank and citation can be judged."""
        return bool(self.gold)


@dataclass
class Outcome:
    item: Item
    answer: Answer
    rank: int | None  # 1-based rank of the first relevant clause in the ranked list
    answer_ok: bool
    citation_ok: bool | None  # None: not applicable (the item has no gold clause)
    missing: tuple[str, ...] = ()  # enumeration items the answer lacks

    @property
    def correct(self) -> bool:
        """Right answer with a right citation (where one can be judged); refused if unanswerable."""
        if not self.item.answerable:
            return self.answer.refused
        return self.answer_ok and self.citation_ok is not False


@dataclass
class Report:
    """One run of a set: metrics (rates rounded, ``nan`` where a rate has no questions — written
    as ``null``), per-type metrics, the refusal curve, every question's outcome, the 95 %
    Wilson interval and sample size of every rate (``intervals``), and what was run (``run``:
    commit, model, corpus hash, k, date …, filled in by the caller)."""

    metrics: dict[str, float]
    by_type: dict[str, dict[str, float]]
    curve: list[dict[str, float]]
    outcomes: list[Outcome] = field(repr=False)
    intervals: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_type_intervals: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    refusal_threshold: float | None = None
    run: dict[str, Any] = field(default_factory=dict)

    def failures(self) -> list[dict]:
        return [row for row, o in zip(self.results(), self.outcomes) if not o.correct]

    def results(self) -> list[dict]:
        """Every question's result (not only the failures), in set order."""
        out = []
        for o in self.outcomes:
            it = o.item
            row = {
                "id": it.id,
                "type": it.type,
                "question": it.question,
                "expected": list(it.answers) or list(it.items) or ("(refuse)" if not it.answerable else []),
                "got": o.answer.answer,
                "refused": o.answer.refused,
                "rank": o.rank,
                "cited": [c.id for c in o.answer.citations],
                "confidence": round(o.answer.confidence, 3),
            }
            if it.items:
                row["missing"] = list(o.missing)
            row |= {"correct": o.correct, "answer_ok": o.answer_ok, "citation_ok": o.citation_ok,
                    "latency_ms": o.answer.timing_ms.get("total")}
            out.append(row)
        return out

    def to_json(self) -> dict:
        """Strict JSON: ``null`` where a rate is not defined, never ``NaN``."""
        data = {"metrics": self.metrics, "by_type": self.by_type, "refusal_curve": self.curve,
                "failures": self.failures(), "results": self.results(), "intervals": self.intervals,
                "by_type_intervals": self.by_type_intervals, "refusal_threshold": self.refusal_threshold,
                "run": self.run, "definitions": DEFINITIONS}
        return strict(data)


def strict(value: Any) -> Any:
    """*value* with every NaN or infinity replaced by None (JSON ``null``), recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict(v) for v in value]
    return value


def dumps(data: Any, **kw: Any) -> str:
    """``json.dumps`` that refuses NaN (after :func:`strict` there is none)."""
    return json.dumps(strict(data), ensure_ascii=False, allow_nan=False, **kw)


# --- the set schema ---------------------------------------------------------------------------------

QuestionType = Literal["fact", "number", "list", "who", "condition", "yesno", "colloquial", "paraphrase",
                       "simplified", "followup", "document", "collection", "unanswerable", "traditional"]
QUESTION_TYPES: tuple[str, ...] = get_args(QuestionType)
GOLDLESS_TYPES = ("document", "collection")  # a fact about a whole document or the collection


class Record(BaseModel):
    """One line of a Q&A set, strictly: ``"answers": "3年"`` (a string, so any answer holding 3 or
    年 would pass) and ``"answerable": "false"`` (a string, read as true) are errors, not data."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    answers: list[str]
    gold: list[str]
    answerable: bool
    type: QuestionType
    doc: int | str | None = None
    items: list[str] | None = None
    polarity: Literal["yes", "no"] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Record:
        if any(not x.strip() for x in self.answers + self.gold + (self.items or [])):
            raise ValueError("answers, gold and items must not hold empty strings")
        if self.answerable == (self.type == "unanswerable"):
            raise ValueError('answerable must be false exactly when type is "unanswerable"')
        if self.answerable:
            if not self.answers and not self.items:
                raise ValueError("an answerable question needs answers (or items, for an enumeration)")
            if not self.gold and self.type not in GOLDLESS_TYPES:
                raise ValueError(f"gold may be empty only for {' / '.join(GOLDLESS_TYPES)} questions")
        elif self.answers or self.gold or self.items:
            raise ValueError("an unanswerable question has no answers, gold or items")
        if self.polarity is not None and self.type != "yesno":
            raise ValueError('polarity goes with type "yesno"')
        if isinstance(self.doc, int) and self.doc < 1:
            raise ValueError("doc must be a document number (1, 2, …), a law's name or null")
        return self


@dataclass(frozen=True)
class Problem:
    """One error in a set: where (file:line), which check, and the message."""

    path: str
    line: int
    check: str
    message: str
    unit: str = "line"  # "row" for a spreadsheet (.csv/.xlsx): the row number Excel shows

    def __str__(self) -> str:
        if self.unit == "row":
            return f"{self.path}: row {self.line}: {self.message}"
        return f"{self.path}:{self.line}: {self.message}"


class SetError(ValueError):
    """A set that does not validate: every problem, each with file:line."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(f"{len(self.problems)} problem(s) in the Q&A set:\n" + "\n".join(map(str, self.problems)))


@dataclass(frozen=True)
class GoldSources:
    """Texts a gold string must occur in: the corpus's clauses and 「文件資訊」 records, and the
    law files (``doc`` a law's name, evaluated with ``--with-documents``) by name."""

    texts: tuple[str, ...] = ()
    laws: Mapping[str, str] = field(default_factory=dict)
    doc_numbers: frozenset[int] = frozenset()


def law_texts(paths: Iterable[Path | str]) -> dict[str, str]:
    """Law files (``工会法(2021-12-24).md``, or folders of them) → {file name: text}."""
    out = {}
    for p in map(Path, paths):
        files = sorted(p.glob("*.md")) + sorted(p.glob("*.txt")) if p.is_dir() else [p]
        for f in files:
            if f.is_file() and f.name.lower() != "readme.md" and f.suffix.lower() in (".md", ".txt"):
                out[f.stem] = f.read_text(encoding="utf-8")
    return out




def validate_records(path: Path | str, sources: GoldSources | None = None) -> tuple[list[Item], list[Problem]]:
    """Read a Q&A set — JSONL, or a spreadsheet (.csv/.xlsx, see :func:`table_records`) — and check
    every record: JSON, the :class:`Record` schema, unique ids, and — with *sources* — that each
    gold string occurs in the corpus (a law's gold in that law). All problems at once, each with
    its file:line (a spreadsheet's: its row); an empty file is one."""
    path = Path(path)
    problems: list[Problem] = []
    items: list[Item] = []
    first_line: dict[str, int] = {}
    unit = "row" if path.suffix.lower() in TABLE_SUFFIXES else "line"
    if unit == "row":
        rows, read_problems = table_records(path)
    else:
        rows, read_problems = _jsonl_records(path)
    problems += read_problems
    corpus = tuple(normalize(t) for t in sources.texts) if sources else ()
    laws = {name: normalize(text) for name, text in (sources.laws if sources else {}).items()}
    for n, raw in rows:

        def bad(check: str, message: str, n: int = n) -> None:
            problems.append(Problem(str(path), n, check, message, unit))

        rid = raw.get("id")
        if isinstance(rid, str) and rid in first_line:
            bad("duplicate_id", f"duplicate id {rid!r} (first at {unit} {first_line[rid]})")
        if isinstance(rid, str):
            first_line.setdefault(rid, n)
        try:
            rec = Record.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors():
                where = ".".join(str(x) for x in err["loc"])
                msg = err["msg"].removeprefix("Value error, ")
                bad(err["type"] if where else "consistency", f"{where}: {msg}" if where else msg)
            continue
        if sources is not None:
            _check_gold(rec, sources, corpus, laws, bad)
        items.append(Item(id=rec.id, question=rec.question, answers=tuple(rec.answers), gold=tuple(rec.gold),
                          answerable=rec.answerable, type=rec.type, doc=rec.doc, items=tuple(rec.items or ()),
                          polarity=rec.polarity))
    if not items and not problems:
        problems.append(Problem(str(path), 0, "empty", "no questions in the file", unit))
    return items, problems


def _jsonl_records(path: Path) -> tuple[list[tuple[int, dict]], list[Problem]]:
    """(line number, JSON object) of every non-blank line; a line that is not a JSON object is a problem."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        return [], [Problem(str(path), 0, "file", f"cannot read the file ({exc})")]
    rows, problems = [], []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(f"{c} is not JSON")))
        except ValueError as exc:
            problems.append(Problem(str(path), n, "json", f"not JSON ({exc})"))
            continue
        if not isinstance(raw, dict):
            problems.append(Problem(str(path), n, "json", "not a JSON object"))
            continue
        rows.append((n, raw))
    return rows, problems


# --- Q&A sets kept as spreadsheets ------------------------------------------------------------------

TABLE_SUFFIXES = (".csv", ".xlsx")
LIST_SEPARATOR = "|"  # answers, gold and items in one cell: 「10年|十年」 (a full-width 「｜」 too)
LIST_COLUMNS = ("answers", "gold", "items")
SET_COLUMNS = ("id", "question", "answers", "gold", "answerable", "type", "doc", "items", "polarity")
REQUIRED_COLUMNS = ("question", "answers", "gold", "answerable")
# Header names as a training office writes them (compared after t2s, so either script works).
COLUMN_ALIASES = {"編號": "id", "題號": "id", "問題": "question", "答案": "answers", "依據": "gold", "原文": "gold",
                  "可回答": "answerable", "能否回答": "answerable", "類型": "type", "題型": "type", "文件": "doc",
                  "要點": "items", "列舉": "items", "正反": "polarity"}
_ALIASES = {normalize(k): v for k, v in COLUMN_ALIASES.items()}
_TRUE = {"true", "yes", "y", "t", "1", "是", "可", "能", "可以", "可回答", "對", "√"}
_FALSE = {"false", "no", "n", "f", "0", "否", "不可", "不能", "不可回答", "不", "×"}


def _column(name: Any) -> str | None:
    text = str(name if name is not None else "").strip()
    if not text:
        return None
    key = text.lower().replace(" ", "_")
    return key if key in SET_COLUMNS else _ALIASES.get(normalize(text), text)


def _cell_text(value: Any) -> str:
    """A cell as text: Excel's 4.0 is 「4」, an empty cell 「」."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _table_record(cells: Mapping[str, Any]) -> dict[str, Any]:
    """One spreadsheet row → the JSON record it stands for (then validated like a JSONL line):
    lists split on 「|」, answerable read from true/false/是/否/1/0 (anything else is left as it
    is, so the schema names it), doc a number where it is one, type defaulting to 「fact」
    (「unanswerable」 when answerable is false) and id to 「row<N>」 (set by the caller)."""
    raw: dict[str, Any] = {}
    for key, value in cells.items():
        text = _cell_text(value)
        if key in LIST_COLUMNS:
            if key == "items" and not text:
                continue
            raw[key] = [x.strip() for x in re.split(r"[|｜]", text) if x.strip()]
        elif key == "answerable":
            if isinstance(value, bool):
                raw[key] = value
            elif text.lower() in _TRUE:
                raw[key] = True
            elif text.lower() in _FALSE:
                raw[key] = False
            elif text:
                raw[key] = text  # the schema says: not a boolean
        elif key == "doc":
            if text:
                raw[key] = int(text) if text.isdigit() else text
        elif text:
            raw[key] = text
    if "type" not in raw and "answerable" in raw and isinstance(raw["answerable"], bool):
        raw["type"] = "fact" if raw["answerable"] else "unanswerable"
    return raw


def _sheet_rows(path: Path) -> list[tuple[int, list[Any]]]:
    """(row number as the spreadsheet shows it, cells) of the first sheet of a .xlsx or of a .csv
    (UTF-8 with or without BOM, else GB18030 — what Excel saves on a Chinese Windows)."""
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True, data_only=True)
        try:
            ws = wb.worksheets[0]
            return [(n, list(row)) for n, row in enumerate(ws.iter_rows(values_only=True), 1)]
        finally:
            wb.close()
    import csv
    import io

    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("gb18030")
    return list(enumerate(csv.reader(io.StringIO(text, newline="")), 1))


def table_records(path: Path | str) -> tuple[list[tuple[int, dict]], list[Problem]]:
    """A Q&A set kept as a spreadsheet (.csv, or the first sheet of a .xlsx): a header row naming
    the columns — ``question``, ``answers``, ``gold``, ``answerable`` required; ``id``, ``type``,
    ``doc``, ``items``, ``polarity`` optional; Chinese headers (問題, 答案, 依據, 可回答 …) too —
    then one question a row, lists separated by 「|」. Returns (row number, record) pairs for
    :func:`validate_records`; a problem names its row."""
    path = Path(path)
    try:
        rows = _sheet_rows(path)
    except Exception as exc:  # noqa: BLE001 — a broken workbook may raise anything: it is one problem
        return [], [Problem(str(path), 0, "file", f"cannot read the file ({exc})", "row")]
    rows = [(n, cells) for n, cells in rows if any(_cell_text(c) for c in cells)]
    if not rows:
        return [], []
    head_n, head = rows[0]
    columns = [_column(c) for c in head]
    problems = [Problem(str(path), head_n, "unknown_column",
                        f"unknown column {c!r} (columns: {', '.join(SET_COLUMNS)})", "row")
                for c in columns if c is not None and c not in SET_COLUMNS]
    seen = [c for c in columns if c is not None]
    problems += [Problem(str(path), head_n, "duplicate_column", f"column {c!r} appears twice", "row")
                 for c in sorted(set(seen)) if seen.count(c) > 1]
    missing = [c for c in REQUIRED_COLUMNS if c not in seen]
    if missing:
        problems.append(Problem(str(path), head_n, "missing_column", f"no column {', '.join(missing)} in the header "
                                f"row (required: {', '.join(REQUIRED_COLUMNS)})", "row"))
    if problems:
        return [], problems
    out = []
    for n, cells in rows[1:]:
        if len(cells) > len(columns) and any(_cell_text(c) for c in cells[len(columns):]):
            problems.append(Problem(str(path), n, "extra_cells", "cells beyond the last named column", "row"))
            continue
        raw = _table_record({c: v for c, v in zip(columns, cells) if c is not None})
        raw.setdefault("id", f"row{n}")
        out.append((n, raw))
    return out, problems


def write_table(items: Sequence[Item], path: Path | str) -> Path:
    """A set as a spreadsheet (.csv or .xlsx) with the columns :func:`table_records` reads: the
    same questions, read back as the same items."""
    path = Path(path)
    header = list(SET_COLUMNS)
    rows = [[it.id, it.question, LIST_SEPARATOR.join(it.answers), LIST_SEPARATOR.join(it.gold),
             "true" if it.answerable else "false", it.type, "" if it.doc is None else it.doc,
             LIST_SEPARATOR.join(it.items), it.polarity or ""] for it in items]
    for it in items:
        if any(LIST_SEPARATOR in x or "｜" in x for x in (*it.answers, *it.gold, *it.items)):
            raise ValueError(f"{it.id}: an answer, gold or item holds 「|」, which separates them in a cell")
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.title = "questions"
        for row in [header, *rows]:
            ws.append(row)
        wb.save(path)
    else:
        import csv

        with open(path, "w", encoding="utf-8-sig", newline="") as fh:
            csv.writer(fh).writerows([header, *rows])
    return path


def _check_gold(rec: Record, sources: GoldSources, corpus: Sequence[str], laws: Mapping[str, str], bad) -> None:
    """Each gold string must be where the judge looks for it: in a clause's or record's text
    (after t2s, its item number aside — what :func:`holds_gold` matches), a law's gold in the
    law's text. A heading, or a heading and a sentence joined, never matches a citation."""
    if isinstance(rec.doc, str):
        texts = [t for name, t in laws.items() if normalize(rec.doc) in normalize(name)]
        if not texts:
            if laws:
                bad("unknown_law", f"doc: no law named {rec.doc!r} among {', '.join(sorted(laws))}")
            return  # no law texts given: the law's gold cannot be checked here
    else:
        texts = list(corpus)
        if isinstance(rec.doc, int) and sources.doc_numbers and rec.doc not in sources.doc_numbers:
            bad("unknown_doc", f"doc: no document {rec.doc} in the corpus")
    for g in rec.gold:
        variants = {normalize(v) for v in (g, without_item_number(g)) if v.strip()}
        if not any(v in t for v in variants for t in texts):
            where = f"the law {rec.doc!r}" if isinstance(rec.doc, str) else "the corpus"
            bad("gold_not_in_corpus", f"gold {g!r} does not occur in {where}")


# Frozen test sets: validated for their schema only, and their problems are counted, never
# printed (a message would show a question's gold or answers).
FROZEN_SETS = ("test.jsonl", "test_laws.jsonl", "fresh2.jsonl", "fresh2_laws.jsonl")


def is_frozen(path: Path | str) -> bool:
    return Path(path).name in FROZEN_SETS


def load_items(path: Path | str, sources: GoldSources | None = None) -> list[Item]:
    """Read and validate a Q&A set (.jsonl, .csv or .xlsx); every problem is reported at once (:class:`SetError`,
    a ValueError listing file:line for each).

    A frozen test set is never edited and its problems are never printed (a message would show
    a question's gold): a schema problem still refuses it, by count; a gold string the judge
    cannot find (its question's citation will count as wrong) is only counted, in a warning."""
    items, problems = validate_records(path, sources)
    if problems and is_frozen(path):
        unmatched = [p for p in problems if p.check == "gold_not_in_corpus"]
        if len(unmatched) < len(problems):
            raise SetError([Problem(str(path), 0, "frozen", f"{len(problems) - len(unmatched)} schema problem(s), "
                                    "not shown: the set is frozen")])
        log.warning("%s: %d gold string(s) occur in no passage (not shown: the set is frozen); "
                    "those questions' citations count as wrong", Path(path).name, len(unmatched))
        return items
    if problems:
        raise SetError(problems)
    return items


# Quotation marks carry no content: 「實施“領頭雁”工程」 holds the item 「“領頭雁工程”」.
_QUOTES = str.maketrans("", "", "“”‘’「」『』\"'")


def _comparable(text: str) -> str:
    return normalize(text).translate(_QUOTES)


def contains_any(text: str, needles: Iterable[str]) -> bool:
    hay = _comparable(text)
    return any(_comparable(n) in hay for n in needles if n)


def missing_items(text: str, needles: Iterable[str]) -> tuple[str, ...]:
    """The needles *text* does not contain (after normalisation, quotation marks aside), in
    their order."""
    hay = _comparable(text)
    return tuple(n for n in needles if _comparable(n) not in hay)


# A gold passage copied as printed may keep its item number (「1、落實領導責任。」), which the
# clause text does not (the parser reads the number into the clause's id and label).
_ITEM_NUMBER = re.compile(r"^\s*(?:[0-9]+[、.]|[((][一二三四五六七八九十0-9]+[))]|[一二三四五六七八九十]+、)")


def without_item_number(text: str) -> str:
    """*text* without a leading printed item number (「1、」, 「(三)」, 「二、」)."""
    return _ITEM_NUMBER.sub("", text)


def holds_gold(text: str, gold: Iterable[str]) -> bool:
    """Does a clause's *text* hold a gold passage (its item number, if printed, set aside)?"""
    return contains_any(text, [g for p in gold for g in {p, without_item_number(p)} if g])


def judge(item: Item, answer: Answer) -> Outcome:
    ranked = [c.text for c in answer.citations + answer.see_also]
    rank = next((i for i, t in enumerate(ranked, 1) if holds_gold(t, item.gold)), None)
    missing = item.items if answer.refused else missing_items(answer.answer, item.items)
    if item.answerable:
        # any accepted answer (when answers are given) and every enumeration item (when given)
        has_answer = contains_any(answer.answer, item.answers) if item.answers else bool(item.items)
        answer_ok = not answer.refused and has_answer and not missing
    else:
        answer_ok = answer.refused
    citation_ok = None
    if item.citable:
        citation_ok = bool(answer.citations) and holds_gold(answer.citations[0].text, item.gold)
    return Outcome(item, answer, rank, answer_ok, citation_ok, missing)


def _ratio(num: float, den: float) -> float:
    return round(num / den, 4) if den else float("nan")


# What each metric means: printed in the Markdown report and stored in the JSON.
DEFINITIONS = {
    "hit@k": "share of answerable questions with a gold clause whose gold clause is among the first k "
             "clauses returned (citations, then related clauses)",
    "mrr": "mean of 1/rank of the first gold clause (0 when not returned), over answerable questions with a gold clause",
    "ndcg@5": "mean of 1/log2(rank+1) for a gold clause in the first 5 (one relevant clause per question)",
    "answer_accuracy": "share of answerable questions answered (not refused) with an accepted answer and every "
                       "enumeration item in the answer text (after t2s)",
    "citation_accuracy": "share of answerable questions with a gold clause whose first citation holds a gold "
                         "passage; a refusal counts as a wrong citation, so refusing more cannot raise it",
    "citation_accuracy_answered": "the same, over the answered questions only (the definition before issue 15)",
    "enumeration_complete": "share of enumeration questions answered with every item",
    "false_refusals": "answerable questions refused (count)",
    "refusal_precision": "share of refusals that were of unanswerable questions",
    "refusal_recall": "share of unanswerable questions refused",
    "overall_accuracy": "share of all questions judged right (answer right, or refused when unanswerable)",
    "latency_p50_ms": "median answer time in ms, the first (cold) question left out",
    "latency_p95_ms": "95th percentile answer time in ms, the first (cold) question left out",
    "interval": "95 % Wilson score interval for a rate k/n",
}


def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float | None, float | None]:
    """95 % Wilson score interval for k successes out of n (None, None when n is 0)."""
    if not n:
        return None, None
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4)


def _counts(outcomes: Sequence[Outcome]) -> dict[str, tuple[float, int]]:
    """(numerator, denominator) of every rate metric."""
    ans = [o for o in outcomes if o.item.answerable]
    unans = [o for o in outcomes if not o.item.answerable]
    answered = [o for o in ans if not o.answer.refused]
    refused = [o for o in outcomes if o.answer.refused]
    # Retrieval and citation are judged only where there is a gold clause.
    ranked = [o for o in ans if o.item.citable]
    cited = [o for o in answered if o.item.citable]
    enums = [o for o in ans if o.item.items]
    c: dict[str, tuple[float, int]] = {}
    for k in KS:
        c[f"hit@{k}"] = (sum(1 for o in ranked if o.rank and o.rank <= k), len(ranked))
    c["mrr"] = (sum(1 / o.rank for o in ranked if o.rank), len(ranked))
    c["ndcg@5"] = (sum(1 / math.log2(o.rank + 1) for o in ranked if o.rank and o.rank <= 5), len(ranked))
    c["answer_accuracy"] = (sum(o.answer_ok for o in ans), len(ans))
    c["citation_accuracy"] = (sum(bool(o.citation_ok) for o in ranked if not o.answer.refused), len(ranked))
    c["citation_accuracy_answered"] = (sum(bool(o.citation_ok) for o in cited), len(cited))
    c["enumeration_complete"] = (sum(1 for o in enums if not o.answer.refused and not o.missing), len(enums))
    c["refusal_precision"] = (sum(1 for o in refused if not o.item.answerable), len(refused))
    c["refusal_recall"] = (sum(1 for o in unans if o.answer.refused), len(unans))
    c["overall_accuracy"] = (sum(o.answer_ok for o in outcomes), len(outcomes))
    return c


MEANS = ("mrr", "ndcg@5")  # averages, not proportions: no Wilson interval, the sample size only


def intervals(outcomes: Sequence[Outcome]) -> dict[str, dict[str, Any]]:
    """Per rate metric: k, n and the 95 % Wilson interval (``low``/``high``; null when n is 0)."""
    out = {}
    for name, (k, n) in _counts(outcomes).items():
        if name in MEANS:
            out[name] = {"n": n}
        else:
            low, high = wilson(int(k), n)
            out[name] = {"k": int(k), "n": n, "low": low, "high": high}
    return out


def metrics(outcomes: Sequence[Outcome]) -> dict[str, float]:
    ans = [o for o in outcomes if o.item.answerable]
    unans = [o for o in outcomes if not o.item.answerable]
    ranked = [o for o in ans if o.item.citable]
    enums = [o for o in ans if o.item.items]
    c = _counts(outcomes)
    m: dict[str, float] = {"questions": len(outcomes), "answerable": len(ans), "unanswerable": len(unans)}
    if len(ranked) < len(ans):  # only sets that have them: the shape of older reports is kept
        m["answerable_without_gold"] = len(ans) - len(ranked)
    if enums:
        m["enumerations"] = len(enums)
    for name in (*(f"hit@{k}" for k in KS), "mrr", "ndcg@5", "answer_accuracy", "citation_accuracy",
                 "citation_accuracy_answered", "enumeration_complete"):
        m[name] = _ratio(*c[name])
    m["false_refusals"] = sum(1 for o in ans if o.answer.refused)
    for name in ("refusal_precision", "refusal_recall", "overall_accuracy"):
        m[name] = _ratio(*c[name])
    # The first question pays for warming up (model, caches): it is left out of the latencies.
    totals = [o.answer.timing_ms.get("total", 0.0) for o in outcomes[1:]] or \
        [o.answer.timing_ms.get("total", 0.0) for o in outcomes]
    if totals:
        m["latency_p50_ms"] = round(float(np.percentile(totals, 50)), 2)
        m["latency_p95_ms"] = round(float(np.percentile(totals, 95)), 2)
    return m


def refusal_curve(outcomes: Sequence[Outcome], steps: int = 41) -> list[dict[str, float]]:
    """Trade-off of the refusal threshold over the confidence (evidence coverage) the answerer
    computed: at each threshold, how many answerable questions would be refused and what share
    of unanswerable ones would be."""
    ans = [o.answer.confidence for o in outcomes if o.item.answerable]
    unans = [o.answer.confidence for o in outcomes if not o.item.answerable]
    curve = []
    for t in np.linspace(0, 1, steps):
        curve.append(
            {
                "threshold": round(float(t), 3),
                "false_refusals": int(sum(c < t for c in ans)),
                "unanswerable_refused": _ratio(sum(c < t for c in unans), len(unans)),
            }
        )
    return curve


def evaluate(assistant: Assistant, items: Sequence[Item], k: int = 5, progress: bool = False) -> Report:
    from tqdm.auto import tqdm

    outcomes = [judge(it, assistant.ask(it.question, k=k)) for it in tqdm(items, disable=not progress, desc="eval")]
    return report_of(outcomes, refusal_threshold(assistant))


def refusal_threshold(assistant: object) -> float | None:
    """The confidence below which *assistant* refuses (an LLM-phrased one: its core's)."""
    core = getattr(assistant, "core", assistant)
    value = getattr(getattr(core, "answerer", core), "refuse_below", None)
    return float(value) if isinstance(value, (int, float)) else None


def report_of(outcomes: list[Outcome], refusal_threshold: float | None = None) -> Report:
    """Metrics, per-type metrics, intervals and the refusal curve of judged outcomes."""
    by_type: dict[str, dict[str, float]] = {}
    by_type_ci: dict[str, dict[str, dict[str, Any]]] = {}
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        groups[o.item.type].append(o)
    for name, group in sorted(groups.items()):
        g = metrics(group)
        by_type[name] = {key: g[key] for key in TYPE_KEYS}
        ci = intervals(group)
        by_type_ci[name] = {key: ci[key] for key in TYPE_KEYS if key in ci}
    return Report(metrics(outcomes), by_type, refusal_curve(outcomes), outcomes, intervals(outcomes), by_type_ci,
                  refusal_threshold)


def compare(before: Report, after: Report) -> dict:
    """Two runs of one set (e.g. without and with added documents): per-metric delta (after −
    before; nan where either is nan) and the questions whose correctness changed."""
    delta = {}
    for key, a in before.metrics.items():
        b = after.metrics.get(key)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            delta[key] = round(b - a, 4) if not (math.isnan(a) or math.isnan(b)) else float("nan")
    then = {o.item.id: o for o in before.outcomes}
    changed = []
    for o in after.outcomes:
        old = then.get(o.item.id)
        if old is not None and old.correct != o.correct:
            changed.append({"id": o.item.id, "type": o.item.type, "before": old.correct, "after": o.correct,
                            "got_before": old.answer.answer, "got_after": o.answer.answer})
    return {"delta": delta, "changed": changed,
            "answers_changed": sum(1 for o in after.outcomes
                                   if o.item.id in then and then[o.item.id].answer.answer != o.answer.answer)}


def check(report: Report, thresholds: dict[str, float]) -> list[str]:
    """Metrics below their minimum (or, for keys starting ``max_``, above their maximum)."""
    bad = []
    for key, bound in thresholds.items():
        if key.startswith("max_"):
            value = report.metrics.get(key[4:], float("inf"))
            if not value <= bound:
                bad.append(f"{key[4:]} = {value} > {bound}")
        else:
            value = report.metrics.get(key, float("nan"))
            if not value >= bound:
                bad.append(f"{key} = {value} < {bound}")
    return bad


def run_path(directory: Path, name: str, run: Mapping[str, Any] | None = None) -> Path:
    """``DIR/runs/NAME-<date>-<commit>.json``, numbered (-2, -3 …) rather than overwriting a run."""
    run = run or {}
    stamp = str(run.get("date") or "").replace(":", "").replace("-", "")[:15] or "run"
    commit = str(run.get("commit") or "")[:7]
    base = "-".join(x for x in (str(run.get("name") or name), stamp, commit) if x)
    runs = directory / "runs"
    path, n = runs / f"{base}.json", 1
    while path.exists():
        n += 1
        path = runs / f"{base}-{n}.json"
    return path


def write_report(report: Report, directory: Path, name: str) -> dict[str, Path]:
    """``NAME.json``, ``NAME.md`` and ``NAME.png`` (the latest run of NAME: per-type bars and the
    refusal trade-off), and the run kept under its own name, ``runs/NAME-<date>-<commit>.json``
    (with ``.md``), which no later run overwrites."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {ext: directory / f"{name}.{ext}" for ext in ("json", "md", "png")}
    text = dumps(report.to_json(), indent=2)
    paths["json"].write_text(text, encoding="utf-8")
    _plot(report, paths["png"])
    md = _markdown(report, name, paths["png"].name)
    paths["md"].write_text(md, encoding="utf-8")
    run = run_path(directory, name, report.run)
    run.parent.mkdir(parents=True, exist_ok=True)
    run.write_text(text, encoding="utf-8")
    run.with_suffix(".md").write_text(md.replace(f"]({paths['png'].name})", f"](../{paths['png'].name})"),
                                      encoding="utf-8")
    paths["run"] = run
    return paths


CHART_METRICS = (("hit@1", "hit@1"), ("answer_accuracy", "answer_accuracy"))


def figure(report: Report):
    """The report's chart: per question type, hit@1 and answer accuracy with n on every bar
    («n/a» where a rate does not apply, never a zero bar); the refusal trade-off with the
    threshold in use marked. Both panels have both axes labelled."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.6))
    types = list(report.by_type)
    x = np.arange(len(types))
    width = 0.38
    for i, (key, label) in enumerate(CHART_METRICS):
        pos = x + (i - 0.5) * width
        for j, t in enumerate(types):
            value = report.by_type[t][key]
            n = report.by_type_intervals.get(t, {}).get(key, {}).get("n", 0)
            if value is None or (isinstance(value, float) and math.isnan(value)) or not n:
                left.bar(pos[j], 1.0, width=width, color="none", edgecolor="0.7", hatch="//", linewidth=0.5)
                left.text(pos[j], 0.5, "n/a", ha="center", va="center", rotation=90, fontsize=7, color="0.4")
                continue
            left.bar(pos[j], value, width=width, color=f"C{i}", label=label if j == 0 or not left.containers else None)
            left.text(pos[j], value + 0.01, f"n={n}", ha="center", va="bottom", rotation=90, fontsize=7)
    handles = [matplotlib.patches.Patch(color=f"C{i}", label=label) for i, (_, label) in enumerate(CHART_METRICS)]
    handles.append(matplotlib.patches.Patch(facecolor="none", edgecolor="0.7", hatch="//", label="not applicable"))
    left.legend(handles=handles, loc="lower right", fontsize=8)
    left.set_xticks(x, types, rotation=30, ha="right")
    left.set_ylim(0, 1.25)
    left.set_xlabel("question type")
    left.set_ylabel("share right (n = questions judged)")
    left.set_title("by question type")
    thr = [c["threshold"] for c in report.curve]
    right.plot(thr, [c["unanswerable_refused"] for c in report.curve], label="unanswerable refused (share)")
    right.set_ylabel("unanswerable questions refused (share)")
    right.set_ylim(0, 1.05)
    ax2 = right.twinx()
    ax2.plot(thr, [c["false_refusals"] for c in report.curve], color="tab:red", label="false refusals (count)")
    ax2.set_ylabel("answerable questions refused (count)")
    if report.refusal_threshold is not None:
        right.axvline(report.refusal_threshold, color="0.3", linestyle="--", linewidth=1,
                      label=f"threshold in use ({report.refusal_threshold:g})")
    right.set_xlabel("refusal threshold on evidence coverage (confidence)")
    right.set_title("refusal trade-off")
    right.legend(loc="center left", fontsize=8)
    ax2.legend(loc="center right", fontsize=8)
    fig.tight_layout()
    return fig


def _plot(report: Report, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig = figure(report)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _fmt_ci(value: Any, ci: Mapping[str, Any] | None) -> str:
    """「0.9533 [0.89, 0.98] n=107」; 「n/a (n=0)」 where the rate is not defined."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return f"n/a (n={ci.get('n', 0)})" if ci else "n/a"
    if not ci:
        return str(value)
    if ci.get("low") is None:
        return f"{value} (n={ci['n']})"
    return f"{value} [{ci['low']}, {ci['high']}] n={ci['n']}"


def _markdown(report: Report, name: str, png: str) -> str:
    lines = [f"# Evaluation: {name}", ""]
    if report.run:
        lines += ["Run: " + ", ".join(f"{k} `{v}`" for k, v in report.run.items() if v not in (None, "", [])), ""]
    lines += ["| metric | value [95 % Wilson interval] n |", "|---|---|"]
    lines += [f"| {k} | {_fmt_ci(strict(v), report.intervals.get(k))} |" for k, v in report.metrics.items()]
    enum = any(o.item.items for o in report.outcomes)
    head = "| type | n | hit@1 | answer acc. | citation acc. | refusal recall | false refusals |" + (" enumeration complete |" if enum else "")
    lines += ["", "## By question type", "", head, "|---" * (head.count("|") - 1) + "|"]
    for t, m in report.by_type.items():
        ci = report.by_type_intervals.get(t, {})
        cells = [_fmt_ci(strict(m[k]), ci.get(k)) for k in ("hit@1", "answer_accuracy", "citation_accuracy", "refusal_recall")]
        lines.append(f"| {t} | {m['questions']} | " + " | ".join(cells) + f" | {m['false_refusals']} |"
                     + (f" {_fmt_ci(strict(m['enumeration_complete']), ci.get('enumeration_complete'))} |" if enum else ""))
    lines += ["", f"![metrics]({png})", "", "## Definitions", ""]
    lines += [f"- **{k}**: {v}" for k, v in DEFINITIONS.items()]
    if report.refusal_threshold is not None:
        lines.append(f"- **refusal threshold in use**: {report.refusal_threshold:g} (the answerer refuses below it)")
    lines += ["", "## Failures", ""]
    fails = report.failures()
    if not fails:
        lines.append("None.")
    for f in fails:
        missing = f" missing {f['missing']}," if f.get("missing") else ""
        lines.append(f"- `{f['id']}` ({f['type']}) {f['question']} — expected {f['expected']},{missing} got 「{f['got']}」 (refused={f['refused']}, rank={f['rank']}, cited={f['cited']}, conf={f['confidence']})")
    lines += ["", f"Every question's result is in the JSON report (`results`, {len(report.outcomes)} rows)."]
    return "\n".join(lines) + "\n"


def comparison_json(before: Report, after: Report, labels: tuple[str, str] = ("without", "with_documents")) -> dict:
    """Both reports, side by side, with :func:`compare`'s delta and changed questions (strict JSON)."""
    return strict({labels[0]: before.to_json(), labels[1]: after.to_json(), **compare(before, after)})


def write_comparison(before: Report, after: Report, directory: Path, name: str,
                     labels: tuple[str, str] = ("without", "with_documents")) -> dict[str, Path]:
    """``NAME.json`` (both reports, delta, changed questions) and ``NAME.md`` (a side-by-side table)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {ext: directory / f"{name}.{ext}" for ext in ("json", "md")}
    data = comparison_json(before, after, labels)
    paths["json"].write_text(dumps(data, indent=2), encoding="utf-8")
    lines = [f"# Evaluation: {name}", "", f"| metric | {labels[0]} | {labels[1]} | delta |", "|---|---|---|---|"]
    for key, value in before.metrics.items():
        lines.append(f"| {key} | {strict(value)} | {strict(after.metrics.get(key, ''))} | {data['delta'].get(key, '')} |")
    lines += ["", f"## Questions whose correctness changed ({len(data['changed'])})", ""]
    if not data["changed"]:
        lines.append("None.")
    for c in data["changed"]:
        lines.append(f"- `{c['id']}` ({c['type']}) {'right' if c['before'] else 'wrong'} → {'right' if c['after'] else 'wrong'}:"
                     f" 「{c['got_before']}」 → 「{c['got_after']}」")
    lines.append(f"\nAnswers whose text changed: {data['answers_changed']}.")
    paths["md"].write_text("\n".join(lines) + "\n", encoding="utf-8")
    return paths


# --- what changed since an earlier run (--compare) -------------------------------------------------


def compare_runs(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict:
    """An earlier run's JSON report (*old*, ``NAME.json`` or a kept ``runs/…json``) against this
    run's (*new*, :meth:`Report.to_json`): per-metric delta (new − old; ``None`` where either is
    undefined), the questions that got better (wrong → right) and worse (right → wrong) by id,
    how many answers changed their text, and the ids only one run has. A report written before
    every result was kept (no ``results``) gives the metric delta only."""
    if not isinstance(old, Mapping) or not isinstance(old.get("metrics"), Mapping):
        raise TypeError("not the JSON report of one eval run (no \"metrics\"): give NAME.json or runs/NAME-….json")
    delta = {}
    for key, b in new["metrics"].items():
        a = old["metrics"].get(key)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
            delta[key] = round(b - a, 4) if math.isfinite(a) and math.isfinite(b) else None
        elif key in old["metrics"]:
            delta[key] = None
    out: dict[str, Any] = {"old_run": dict(old.get("run") or {}), "delta": delta, "per_question": "results" in old,
                           "better": [], "worse": [], "answers_changed": 0, "only_old": [], "only_new": []}
    if "results" not in old:
        return strict(out)
    then = {r["id"]: r for r in old["results"]}
    now_ids = set()
    for r in new["results"]:
        now_ids.add(r["id"])
        o = then.get(r["id"])
        if o is None:
            out["only_new"].append(r["id"])
            continue
        out["answers_changed"] += o.get("got") != r.get("got")
        if bool(o.get("correct")) != bool(r["correct"]):
            row = {"id": r["id"], "type": r.get("type"), "question": r.get("question"),
                   "got_before": o.get("got"), "got_after": r.get("got"),
                   "rank_before": o.get("rank"), "rank_after": r.get("rank")}
            out["better" if r["correct"] else "worse"].append(row)
    out["only_old"] = [i for i in then if i not in now_ids]
    return strict(out)


def format_comparison(data: Mapping[str, Any], old_name: str) -> str:
    """:func:`compare_runs` as the terminal prints it."""
    run = data.get("old_run") or {}
    what = ", ".join(f"{k} {str(run[k])[:12]}" for k in ("commit", "date") if run.get(k))
    lines = [f"compared with {old_name}" + (f" ({what})" if what else "") + ":"]
    moved = {k: v for k, v in data["delta"].items() if v}
    lines.append("  metrics changed: " + (", ".join(f"{k} {v:+}" for k, v in moved.items()) if moved else "none"))
    if not data["per_question"]:
        lines.append("  (the old report has no per-question results: metric changes only)")
        return "\n".join(lines) + "\n"
    for key, title in (("better", "better (wrong → right)"), ("worse", "worse (right → wrong)")):
        lines.append(f"  {title}: {len(data[key])}")
        lines += [f"    {c['id']} ({c['type']}): {c['question']}  「{c['got_before']}」 → 「{c['got_after']}」"
                  for c in data[key]]
    lines.append(f"  answers whose text changed: {data['answers_changed']}")
    for key, title in (("only_new", "only in this run"), ("only_old", f"only in {old_name}")):
        if data[key]:
            lines.append(f"  {title}: {', '.join(data[key])}")
    return "\n".join(lines) + "\n"


# --- JUnit XML (--junit): any CI shows eval failures as test failures -------------------------------


def _failure_kind(o: Outcome) -> str:
    if not o.item.answerable:
        return "not_refused"
    if o.answer.refused:
        return "false_refusal"
    return "wrong_answer" if not o.answer_ok else "wrong_citation"


def junit_xml(suites: Sequence[tuple[str, Report, Mapping[str, float] | None]]) -> str:
    """JUnit XML of eval runs: one ``<testsuite>`` a run (name, its report, its thresholds or
    None), one ``<testcase>`` a question (classname ``SET.type``, failed when the question is
    judged wrong: wrong answer or citation, a false refusal, an unanswerable one answered) and
    one a threshold (failed below its bound)."""
    import xml.etree.ElementTree as ET

    root = ET.Element("testsuites", name="assistant eval")
    total = failed = 0
    for name, report, thresholds in suites:
        cases = []
        for row, o in zip(report.results(), report.outcomes):
            case = ET.Element("testcase", classname=f"{name}.{o.item.type}", name=f"{o.item.id}: {o.item.question}",
                              time=f"{(row['latency_ms'] or 0) / 1000:.3f}")
            if not o.correct:
                kind = _failure_kind(o)
                message = f"{kind}: expected {row['expected']}, got 「{row['got']}」"
                fail = ET.SubElement(case, "failure", message=message, type=kind)
                fail.text = dumps({k: row[k] for k in ("expected", "got", "refused", "rank", "cited", "missing")
                                   if k in row}, indent=1)
            cases.append(case)
        for key, bound in (thresholds or {}).items():
            case = ET.Element("testcase", classname=f"{name}.thresholds", name=key, time="0")
            for line in check(report, {key: bound}):
                ET.SubElement(case, "failure", message=f"below threshold: {line}", type="threshold")
            cases.append(case)
        fails = sum(1 for c in cases if c.find("failure") is not None)
        suite = ET.SubElement(root, "testsuite", name=name, tests=str(len(cases)), failures=str(fails), errors="0",
                              skipped="0", timestamp=str(report.run.get("date") or ""))
        suite.extend(cases)
        total += len(cases)
        failed += fails
    root.set("tests", str(total))
    root.set("failures", str(failed))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
