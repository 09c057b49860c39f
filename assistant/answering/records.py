"""What an answer is: the short answer, its verbatim citations, and how it was made."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Citation:
    id: str
    label: str
    doc_title: str
    section: str
    clause: str  # 「第6條」, 「第2段」 or the subsection heading
    text: str  # the whole clause, verbatim (clean text)
    quote: str  # the sentence that answers, a substring of text
    score: float
    subsection: str | None = None  # the subsection heading, when the clause sits in one


@dataclass
class Answer:
    question: str
    answer: str
    refused: bool
    citations: list[Citation]
    see_also: list[Citation] = field(default_factory=list)
    confidence: float = 0.0
    mode: str = "extractive"
    note: str = ""
    timing_ms: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)
