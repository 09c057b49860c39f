"""Grading answer sheets: tolerant matching, per-trainee reports, item analysis."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from assistant.quiz.export import _FALSE, _TRUE
from assistant.quiz.facts import KIND_NAMES, LETTERS, canonical
from assistant.quiz.items import QuizItem, difficulty
from assistant.quiz.sampling import Quiz, _num
from assistant.text import (
    fold_width,
    normalize,
)


def parse_bool(response: Any) -> bool | None:
    """True/false answers as cadres write them: 對/錯, 正確/錯誤, 不正確, 對的, √/×, T/F,
    true/false. None when it cannot be read (「也許」): such an answer is flagged, not marked."""
    if isinstance(response, bool):
        return response
    key = normalize(str(response)).strip().strip("。.!!").replace(" ", "")
    return True if key in _TRUE else False if key in _FALSE else None


Status = Literal["correct", "wrong", "review"]


@dataclass(frozen=True)
class Verdict:
    """How an answer is graded: right, wrong, or 「待人工確認」 (*review*: the trainer decides)
    with the reason — a number without its unit (20万 for 20萬元), a synonym the document itself
    uses (縣級紀委 for 縣級紀檢監察機關), a 判斷 answer that cannot be read, a choice whose letter
    and text disagree."""

    status: Status
    reason: str = ""

    @property
    def correct(self) -> bool:
        return self.status == "correct"


# Organs the guidelines name in two ways (縣級紀委 and 縣級紀檢監察機關 both stand in 第4篇).
_SYNONYMS = (("纪检监察机关", "纪委"), ("组织部门", "组织部"), ("乡镇", "乡"), ("县级", "县"), ("市级", "市"),
             ("省级", "省"), ("党委", "委"))
_UNIT = re.compile(r"^(\d+(?:\.\d+)?(?:[-/:]\d+)?)(.*)$")
_LETTER = re.compile(r"^\s*([A-Ea-e])\s*(?:[.、.):,,]\s*|\s+|$)(.*)$")


def _synonym_key(text: str) -> str:
    t = canonical(text)
    for a, b in _SYNONYMS:
        t = t.replace(a, b)
    return t


def _letters(response: str, n: int) -> list[int] | None:
    """「ACD」, 「A、C、D」, 「a,c d」 → [0, 2, 3]; None unless every character is a letter or a
    separator."""
    t = fold_width(str(response)).upper()
    t = re.sub(r"[\s、,,;;/.。]+", "", t)
    if not t or any(ch not in LETTERS[:n] for ch in t):
        return None
    return [LETTERS.index(ch) for ch in t]


def judge_answer(item: QuizItem, response: Any) -> Verdict:
    """Grade one answer. Cloze answers are compared in :func:`canonical` form (script, width,
    numerals, punctuation); a choice may be answered by letter, option text or both (「B. 3-5個」
    as the key prints it); a multiple-answer item by its letters (「A、C、D」, 「ACD」) or texts."""
    if response is None or (isinstance(response, str) and not response.strip()):
        return Verdict("wrong", "未作答")
    if item.kind == "truefalse":
        got = parse_bool(response)
        if got is None:
            return Verdict("review", "無法識別的判斷答案")
        return Verdict("correct" if got is item.answer else "wrong")
    options = item.options or ()
    if item.kind == "choice":
        text = str(response).strip()
        m = _LETTER.match(fold_width(text))
        if m and LETTERS.index(m[1].upper()) < len(options):
            picked = options[LETTERS.index(m[1].upper())]
            rest = m[2].strip()
            if rest and canonical(rest) != canonical(picked):
                if any(canonical(rest) == canonical(o) for o in options):
                    return Verdict("review", "選項字母與文字不一致")
                if canonical(text) != canonical(str(item.answer)):
                    return Verdict("review", "選項字母後的文字不是該選項")
            return Verdict("correct" if picked == item.answer else "wrong")
        if canonical(text) == canonical(str(item.answer)):
            return Verdict("correct")
        if any(canonical(text) == canonical(o) for o in options):
            return Verdict("wrong")
        return _near_miss(str(item.answer), text)
    if item.kind == "multi":
        want = {options.index(a) for a in item.answer} if isinstance(item.answer, tuple) else set()
        picked = _letters(str(response), len(options))
        if picked is None:
            parts = [p for p in re.split(r"[、,,;;/\n]+", str(response)) if p.strip()]
            found = [next((k for k, o in enumerate(options) if canonical(o) == canonical(p)), None) for p in parts]
            if not parts or None in found:
                return Verdict("review", "無法識別的多選答案")
            picked = [k for k in found if k is not None]
        return Verdict("correct" if set(picked) == want else "wrong")
    if canonical(str(response)) == canonical(str(item.answer)):
        return Verdict("correct")
    return _near_miss(str(item.answer), str(response))


def _near_miss(answer: str, response: str) -> Verdict:
    """Wrong, unless it is the number without (all of) its unit or a synonym of the organ."""
    a, r = canonical(answer), canonical(response)
    ma, mr = _UNIT.match(a), _UNIT.match(r)
    if ma and mr and ma[1] == mr[1] and ma[2] and ma[2].startswith(mr[2]) and mr[2] != ma[2]:
        return Verdict("review", "缺少單位" if not mr[2] else "單位不完整")
    if _synonym_key(a) == _synonym_key(r) and a != r:
        return Verdict("review", "同義說法")
    return Verdict("wrong")


def check_answer(item: QuizItem, response: Any) -> bool:
    """Whether *response* is right (a 「待人工確認」 answer is not, until the trainer says so)."""
    return judge_answer(item, response).correct


@dataclass(frozen=True)
class ItemResult:
    item: QuizItem
    given: Any
    correct: bool
    status: Status = "wrong"
    reason: str = ""
    points: float = 1


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
        return [r for r in self.results if r.status == "wrong"]

    @property
    def review(self) -> list[ItemResult]:
        """「待人工確認」: answers the trainer must look at."""
        return [r for r in self.results if r.status == "review"]

    @property
    def points(self) -> float:
        return _num(sum(r.points for r in self.results if r.correct))

    @property
    def max_points(self) -> float:
        return _num(sum(r.points for r in self.results))

    def to_dict(self) -> dict[str, Any]:
        return {
            "trainee": self.trainee, "score": self.score, "total": self.total,
            "percent": round(100 * self.score / self.total, 1) if self.total else 0.0,
            "points": self.points, "max_points": self.max_points, "review": len(self.review),
            "results": [{"id": r.item.id, "kind": r.item.kind, "given": r.given, "correct": r.correct,
                         "status": r.status, "reason": r.reason, "points": r.points if r.correct else 0,
                         "answer": list(r.item.answer) if isinstance(r.item.answer, tuple) else r.item.answer,
                         "citation": asdict(r.item.citation), "knowledge_point": r.item.knowledge_point}
                        for r in self.results],
        }


def _by_number(quiz: Quiz, answers: Mapping[Any, Any]) -> dict[str, Any] | None:
    """A sheet keyed by question number (1…20), as on paper → keyed by item id."""
    keys = [str(k).strip().rstrip(".、") for k in answers]
    if not keys or not all(k.isdigit() for k in keys):
        return None
    out = {}
    for k, (raw, value) in zip(keys, answers.items()):
        no = int(k)
        if not 1 <= no <= len(quiz.items):
            raise ValueError(f"question {raw!r} is not in the quiz (1–{len(quiz.items)})")
        out[quiz.items[no - 1].id] = value
    return out


def grade(quiz: Quiz, answers: Mapping[Any, Any], trainee: str = "") -> GradeReport:
    """Grade one trainee's answers (item id → response, or question number → response).
    Unanswered items count as wrong; answers to ids not in the quiz are an error (a sheet for
    another quiz)."""
    ids = {it.id for it in quiz.items}
    if not set(map(str, answers)) & ids:
        answers = _by_number(quiz, answers) or answers
    answers = {str(k): v for k, v in answers.items()}
    stray = sorted(set(answers) - ids)
    if stray and len(stray) == len(answers):
        raise ValueError(f"none of the answers belong to this quiz (e.g. {stray[0]!r})")
    if stray:
        raise ValueError(f"answers for items not in the quiz: {', '.join(stray[:5])}")
    results = []
    for it in quiz.items:
        v = judge_answer(it, answers.get(it.id))
        results.append(ItemResult(it, answers.get(it.id), v.correct, v.status, v.reason, quiz.points(it)))
    return GradeReport(trainee, results)


def answer_sheet(quiz: Quiz, trainee: str = "") -> dict[str, Any]:
    """A blank answer sheet to fill in (JSON), in question order. Its ids are opaque: nothing on
    it says which clause, kind or answer an item has. A sheet keyed by question number
    (``{"1": "10年", "2": "B"}``) is graded as well."""
    sheet: dict[str, Any] = {"trainee": trainee}
    if quiz.quiz_id:
        sheet["quiz"] = quiz.quiz_id
    return sheet | {"answers": {it.id: "" for it in quiz.items}}


def load_answers(path: str | Path) -> tuple[str, dict[str, Any]]:
    """(trainee, answers) from an answer sheet: JSON {"trainee", "answers": {id: …}}, a bare
    JSON {id: …} or [{"id", "answer"}], or CSV with columns id,answer (or no,answer: question
    numbers). Ids may be question numbers throughout. The trainee defaults to the file name."""
    path = Path(path)
    raw = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".csv":
        rows = list(csv.DictReader(io.StringIO(raw)))
        col = next((c for c in ("id", "no", "題號") if rows and c in rows[0]), None)
        if rows and (col is None or "answer" not in rows[0]):
            raise ValueError(f"{path}: a CSV answer sheet needs the columns id,answer (or no,answer)")
        trainee = next((r.get("trainee") for r in rows if r.get("trainee")), None) or path.stem
        return trainee, {r[col]: r["answer"] for r in rows} if col else {}
    data = json.loads(raw)
    if isinstance(data, list):
        return path.stem, {str(r.get("id", r.get("no"))): r.get("answer") for r in data}
    if isinstance(data, dict) and isinstance(data.get("answers"), dict):
        return str(data.get("trainee") or path.stem), dict(data["answers"])
    if isinstance(data, dict) and isinstance(data.get("answers"), list):  # ["10年", "B", …] in order
        return str(data.get("trainee") or path.stem), {str(i): a for i, a in enumerate(data["answers"], 1)}
    if isinstance(data, dict):
        return path.stem, dict(data)
    raise ValueError(f"{path}: not an answer sheet")


def record(quiz: Quiz, reports: Sequence[GradeReport]) -> Quiz:
    """The quiz with these trainees' results recorded (by trainee, so grading the same sheets
    again changes nothing) and each item's correct rate in ``stats`` — stored with the quiz, it
    becomes the item's 難度 next time (``--history``)."""
    graded = {t: dict(v) for t, v in quiz.graded.items()}
    for rep in reports:
        graded[rep.trainee] = {r.item.key: r.status for r in rep.results}
    items = [replace(it, stats=_stats(it.key, graded)) for it in quiz.items]
    return replace(quiz, items=items, graded=graded)


def _stats(key: str, graded: Mapping[str, Mapping[str, str]]) -> dict[str, Any] | None:
    seen = [by_key[key] for by_key in graded.values() if key in by_key]
    if not seen:
        return None
    answered, correct = len(seen), sum(s == "correct" for s in seen)
    return {"answered": answered, "correct": correct, "review": sum(s == "review" for s in seen),
            "rate": round(correct / answered, 3)}


def load_history(paths: Sequence[str | Path]) -> dict[str, dict[str, Any]]:
    """Content key → recorded stats, pooled over graded quizzes (``--history``)."""
    pooled: dict[str, dict[str, Any]] = {}
    for path in paths:
        quiz = Quiz.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
        for it in quiz.items:
            if it.stats and it.stats.get("answered"):
                acc = pooled.setdefault(it.key, {"answered": 0, "correct": 0, "review": 0})
                for k in ("answered", "correct", "review"):
                    acc[k] += int(it.stats.get(k, 0))
    for acc in pooled.values():
        acc["rate"] = round(acc["correct"] / acc["answered"], 3)
    return pooled


def item_analysis(quiz: Quiz, reports: Sequence[GradeReport]) -> list[tuple[int, QuizItem, float]]:
    """(question number, item, share of trainees right), hardest first: what to re-teach."""
    rows = []
    for no, it in enumerate(quiz.items, 1):
        right = sum(r.correct for rep in reports for r in rep.results if r.item.id == it.id)
        rows.append((no, it, right / len(reports) if reports else 0.0))
    return sorted(rows, key=lambda r: (r[2], r[0]))


def format_reports(quiz: Quiz, reports: Sequence[GradeReport]) -> str:
    """The trainer's score sheet: one block per trainee (score, what was wrong, the right answer
    and its source, what waits for the trainer's decision) and, for a class, the items most
    often missed with their 難度 and 知識點."""
    number = {it.id: no for no, it in enumerate(quiz.items, 1)}
    out = [f"{quiz.title}:{len(reports)} 份答卷", ""]
    for rep in reports:
        pct = 100 * rep.score / rep.total if rep.total else 0
        pts = "" if rep.max_points == rep.total else f",得分 {rep.points}/{rep.max_points}"
        out.append(f"■ {rep.trainee}:{rep.score}/{rep.total}({pct:.0f}%){pts}")
        for r in rep.wrong:
            given = "(未作答)" if r.given in (None, "") else f"作答「{r.given}」"
            out.append(f"  第{number[r.item.id]}題 {KIND_NAMES[r.item.kind]} ✗ {given},"
                       f"正確答案「{r.item.answer_text}」 — {r.item.citation.label}")
        if rep.review:
            out.append(f"  待人工確認({len(rep.review)} 題,未計分):")
            for r in rep.review:
                out.append(f"  第{number[r.item.id]}題 {KIND_NAMES[r.item.kind]} ? 作答「{r.given}」:{r.reason},"
                           f"參考答案「{r.item.answer_text}」 — {r.item.citation.label}")
        out.append("")
    if len(reports) > 1:
        out.append("各題答對率(由低到高):")
        for no, it, share in item_analysis(quiz, reports):
            level = "易" if share >= 0.8 else "難" if share < 0.5 else "中"
            out.append(f"  第{no}題 {share:.0%} 難度{level}  知識點:{it.knowledge_point}  {it.stem[:30]}…")
    return "\n".join(out).rstrip() + "\n"


def item_rows(quiz: Quiz, reports: Sequence[GradeReport]) -> list[dict[str, Any]]:
    """Per item, in question order: correct rate in this grading, 難度, 知識點 (for --format json)."""
    rows = []
    for no, it in enumerate(quiz.items, 1):
        res = [r for rep in reports for r in rep.results if r.item.id == it.id]
        right = sum(r.correct for r in res)
        stats = {"answered": len(res), "correct": right}
        rows.append({"no": no, "id": it.id, "key": it.key, "kind": it.kind,
                     "correct_rate": round(right / len(res), 3) if res else None,
                     "review": sum(r.status == "review" for r in res),
                     "difficulty": difficulty(stats), "knowledge_point": it.knowledge_point})
    return rows


# --- coverage ------------------------------------------------------------------------------------
