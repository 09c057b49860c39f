"""Grading answer sheets: tolerant matching, per-trainee reports, item analysis."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from assistant.quiz.export import _FALSE, _TRUE
from assistant.quiz.facts import KIND_NAMES, LETTERS, canonical
from assistant.quiz.items import QuizItem
from assistant.quiz.sampling import Quiz
from assistant.text import (
    fold_width,
    normalize,
)


def parse_bool(response: Any) -> bool | None:
    """True/false answers as cadres write them: 對/錯, 正確/錯誤, √/×, T/F, true/false."""
    if isinstance(response, bool):
        return response
    key = normalize(str(response)).strip().strip("。.!!")
    return True if key in _TRUE else False if key in _FALSE else None


def check_answer(item: QuizItem, response: Any) -> bool:
    """Whether *response* is right. Cloze answers are compared in :func:`canonical` form
    (script, width, numerals, punctuation); a choice may be answered by letter or option text."""
    if response is None or (isinstance(response, str) and not response.strip()):
        return False
    if item.kind == "truefalse":
        return parse_bool(response) is item.answer
    if item.kind == "choice":
        text = str(response).strip()
        letter = fold_width(text).upper().rstrip(".、. ")
        if len(letter) == 1 and letter in LETTERS[: len(item.options or ())]:
            return (item.options or ())[LETTERS.index(letter)] == item.answer
        return canonical(text) == canonical(str(item.answer))
    return canonical(str(response)) == canonical(str(item.answer))


@dataclass(frozen=True)
class ItemResult:
    item: QuizItem
    given: Any
    correct: bool


@dataclass
class GradeReport:
    trainee: str
    results: list[ItemResult] = field(default_factory=list)

    @property
    def score(self) -> int:
        return sum(r.correct for r in self.results)

    @property
    def total(self) -> int:
        return len(self.results)

    @property
    def wrong(self) -> list[ItemResult]:
        return [r for r in self.results if not r.correct]

    def to_dict(self) -> dict[str, Any]:
        return {
            "trainee": self.trainee, "score": self.score, "total": self.total,
            "percent": round(100 * self.score / self.total, 1) if self.total else 0.0,
            "results": [{"id": r.item.id, "kind": r.item.kind, "given": r.given, "correct": r.correct,
                         "answer": r.item.answer, "citation": asdict(r.item.citation)}
                        for r in self.results],
        }


def grade(quiz: Quiz, answers: Mapping[str, Any], trainee: str = "") -> GradeReport:
    """Grade one trainee's answers (item id → response). Unanswered items count as wrong;
    answers to ids not in the quiz are an error (a sheet for another quiz)."""
    ids = {it.id for it in quiz.items}
    stray = sorted(set(answers) - ids)
    if stray and len(stray) == len(answers):
        raise ValueError(f"none of the answers belong to this quiz (e.g. {stray[0]!r})")
    if stray:
        raise ValueError(f"answers for items not in the quiz: {', '.join(stray[:5])}")
    return GradeReport(trainee, [ItemResult(it, answers.get(it.id), check_answer(it, answers.get(it.id)))
                                 for it in quiz.items])


def answer_sheet(quiz: Quiz, trainee: str = "") -> dict[str, Any]:
    """A blank answer sheet to fill in (JSON), in question order."""
    return {"trainee": trainee, "answers": {it.id: "" for it in quiz.items}}


def load_answers(path: str | Path) -> tuple[str, dict[str, Any]]:
    """(trainee, answers) from an answer sheet: JSON {"trainee", "answers": {id: …}}, a bare
    JSON {id: …} or [{"id", "answer"}], or CSV with columns id,answer. The trainee defaults to
    the file name."""
    path = Path(path)
    raw = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".csv":
        rows = list(csv.DictReader(io.StringIO(raw)))
        if rows and not {"id", "answer"} <= set(rows[0]):
            raise ValueError(f"{path}: a CSV answer sheet needs the columns id,answer")
        trainee = next((r.get("trainee") for r in rows if r.get("trainee")), None) or path.stem
        return trainee, {r["id"]: r["answer"] for r in rows}
    data = json.loads(raw)
    if isinstance(data, list):
        return path.stem, {r["id"]: r.get("answer") for r in data}
    if isinstance(data, dict) and isinstance(data.get("answers"), dict):
        return str(data.get("trainee") or path.stem), dict(data["answers"])
    if isinstance(data, dict):
        return path.stem, dict(data)
    raise ValueError(f"{path}: not an answer sheet")


def item_analysis(quiz: Quiz, reports: Sequence[GradeReport]) -> list[tuple[int, QuizItem, float]]:
    """(question number, item, share of trainees right), hardest first: what to re-teach."""
    rows = []
    for no, it in enumerate(quiz.items, 1):
        right = sum(r.correct for rep in reports for r in rep.results if r.item.id == it.id)
        rows.append((no, it, right / len(reports) if reports else 0.0))
    return sorted(rows, key=lambda r: (r[2], r[0]))


def format_reports(quiz: Quiz, reports: Sequence[GradeReport]) -> str:
    """The trainer's score sheet: one block per trainee (score, what was wrong, the right answer
    and its source) and, for a class, the items most often missed."""
    number = {it.id: no for no, it in enumerate(quiz.items, 1)}
    out = [f"{quiz.title}:{len(reports)} 份答卷", ""]
    for rep in reports:
        pct = 100 * rep.score / rep.total if rep.total else 0
        out.append(f"■ {rep.trainee}:{rep.score}/{rep.total}({pct:.0f}%)")
        for r in rep.wrong:
            given = "(未作答)" if r.given in (None, "") else f"作答「{r.given}」"
            out.append(f"  第{number[r.item.id]}題 {KIND_NAMES[r.item.kind]} ✗ {given},"
                       f"正確答案「{r.item.answer_text}」 — {r.item.citation.label}")
        out.append("")
    if len(reports) > 1:
        out.append("各題答對率(由低到高):")
        for no, it, share in item_analysis(quiz, reports):
            out.append(f"  第{no}題 {share:.0%}  {it.stem[:30]}…")
    return "\n".join(out).rstrip() + "\n"


# --- coverage ------------------------------------------------------------------------------------
