#!/usr/bin/env python3
"""Validate the Q&A sets in evals/: the validator of `assistant eval --validate` (pydantic).

    .venv/bin/python evals/check_sets.py              # every evals/*.jsonl
    .venv/bin/python evals/check_sets.py FILE …       # these sets

Per line: valid JSON; the schema (id, question, answers: list, gold: list, answerable: bool,
type: one of the known types, doc: a number, a law's name or null, optional items: list and
polarity: yes/no; no other keys); answerable ⇔ type ≠ unanswerable; an answerable question has
answers or items, and gold unless it is about a whole document or the collection; ids unique;
every gold string where the judge looks for it (a clause's or 「文件資訊」 record's text of
corpus/, a law's gold in evals/laws/). An empty file is an error. Every problem is printed with
file:line at once; exit status 2 if there is any, else 0.

The frozen test sets (test.jsonl, test_laws.jsonl) are checked the same way, but their problems
are only counted per check: a message would show a question's gold.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.apps.cli import main as assistant
from assistant.evaluation import is_frozen, load_items


def main(argv: list[str]) -> int:
    files = argv or [str(p) for p in sorted((ROOT / "evals").glob("*.jsonl"))]
    status = assistant(["eval", "--validate", *files])
    for f in files:  # the mix of each valid set (types and documents: no answers)
        try:
            items = load_items(f)
        except ValueError:
            continue
        types = Counter(it.type for it in items)
        docs = Counter(str(it.doc) for it in items)
        print(f"  {Path(f).name}: " + ", ".join(f"{t} {n}" for t, n in sorted(types.items()))
              + ("" if is_frozen(f) else " | doc " + ", ".join(f"{d} {n}" for d, n in sorted(docs.items()))))
    print("OK" if status == 0 else "FAILED")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
