"""Fit the candidate ranker (assistant/answering/ranking.py) on labelled Q&A sets, cross-validated
leaving one document out, and write ``assistant/answering/ranker.json``.

    python evals/fit_ranker.py evals/dev.jsonl evals/dev2.jsonl [--with-documents evals/laws \\
        --laws evals/dev2_laws.jsonl] [--check evals/heldout.jsonl] [--dry-run]

For every answerable question with a gold passage, the answerer's candidates (the same ones
``assistant ask`` weighs) become rows of :data:`ranking.FEATURES`, labelled 1 when the clause
holds a gold passage. A logistic regression (scikit-learn, standardised features, balanced
classes) is fitted; its quality is the share of questions whose top-ranked candidate is a gold
clause, for each document held out in turn, beside the hand-set formula it replaces. The file is
written only from the full fit, with a header naming the sets, the command and the CV numbers:
never edit it by hand, and never fit it on the frozen test sets.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from assistant.answering.question import clean_question, strip_instructions  # noqa: E402
from assistant.answering.ranking import FEATURES, RANKER_FILE, Ranker  # noqa: E402
from assistant.evaluation import holds_gold, load_items  # noqa: E402

FROZEN = {"test.jsonl", "test_laws.jsonl", "fresh2.jsonl", "fresh2_laws.jsonl"}


def rows_for(assistant, items, group_prefix: str = "") -> tuple[list, list, list, list]:
    """(features, labels, groups, hand scores) per candidate; one group per document."""
    answerer = assistant.answerer
    X, y, g, hand, qid = [], [], [], [], []
    for n, it in enumerate(items):
        if not it.answerable or not it.gold or it.doc is None:
            continue
        q = strip_instructions(clean_question(it.question))
        hits = assistant.searcher.search(q, k=max(assistant.k, answerer.candidates))
        ranker, answerer.ranker = answerer.ranker, None
        try:
            ev = answerer.evidence(q, hits[: answerer.candidates])
        finally:
            answerer.ranker = ranker
        for e in ev:
            X.append(e.features)
            y.append(int(holds_gold(e.hit.clause.text, it.gold)))
            g.append(f"{group_prefix}{it.doc}")
            hand.append(e.rank_score)
            qid.append(f"{group_prefix}{n}")
    return X, y, g, hand, qid


def top1(scores, y, qid) -> float:
    """Share of questions whose best-scored candidate is a gold clause."""
    best: dict[str, tuple[float, int]] = {}
    for s, lab, q in zip(scores, y, qid):
        if q not in best or s > best[q][0]:
            best[q] = (s, lab)
    return sum(lab for _, lab in best.values()) / len(best) if best else float("nan")


def fit(X, y, qid, C: float = 1.0):
    """A pairwise logistic regression (RankNet-style, linear): within each question, every gold
    candidate against every other, on feature differences. It learns to order one question's
    candidates, which is what the answerer needs, not to score clauses across questions."""
    from sklearn.linear_model import LogisticRegression

    X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
    by_q: dict[str, list[int]] = defaultdict(list)
    for i, q in enumerate(qid):
        by_q[q].append(i)
    diffs = []
    for rows in by_q.values():
        pos = [i for i in rows if y[i]]
        neg = [i for i in rows if not y[i]]
        diffs += [X[p] - X[n] for p in pos for n in neg]
    D = np.array(diffs)
    scale = D.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    both = np.vstack([D / scale, -D / scale])
    labels = np.r_[np.ones(len(D)), np.zeros(len(D))]
    model = LogisticRegression(C=C, fit_intercept=False, max_iter=2000).fit(both, labels)
    w = model.coef_[0] / scale  # the shipped ranker is a plain dot product on raw features
    return Ranker(tuple(float(x) for x in w), 0.0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sets", nargs="+", help="labelled JSONL sets on the configured corpus")
    ap.add_argument("--with-documents", nargs="*", default=[], help="documents added (scratch copy) for --laws")
    ap.add_argument("--laws", nargs="*", default=[], help="sets on the added documents")
    ap.add_argument("--check", nargs="*", default=[], help="sets scored with the final fit, not trained on")
    ap.add_argument("--dry-run", action="store_true", help="report, do not write ranker.json")
    ap.add_argument("-C", type=float, default=1.0, help="inverse L2 strength of the regression")
    args = ap.parse_args(argv)
    for path in [*args.sets, *args.laws, *args.check]:
        if Path(path).name in FROZEN:
            ap.error(f"{path} is a frozen test set: it is reported once, never fitted on")

    from assistant.services import load_assistant, scratch_assistant

    X, y, g, hand, qid = [], [], [], [], []
    assistant = load_assistant(progress=False)
    for path in args.sets:
        r = rows_for(assistant, load_items(path), f"{Path(path).stem}:")
        for acc, part in zip((X, y, g, hand, qid), r):
            acc.extend(part)
    if args.laws:
        with scratch_assistant(args.with_documents, embedder=assistant.searcher.embedder) as scratch:
            for path in args.laws:
                r = rows_for(scratch.assistant, load_items(path), f"{Path(path).stem}:")
                for acc, part in zip((X, y, g, hand, qid), r):
                    acc.extend(part)
    X_, y_ = np.array(X), np.array(y)
    # Groups: one per document (the sets' doc field), so each fold holds out a whole document.
    docs = sorted({grp.split(":", 1)[1] for grp in g})
    doc_of = np.array([grp.split(":", 1)[1] for grp in g])
    folds = []
    for d in docs:
        test = doc_of == d
        if y_[~test].sum() == 0 or test.sum() == 0:
            continue
        ranker = fit(X_[~test], y_[~test], [q for q, t in zip(qid, test) if not t], args.C)
        qs = [q for q, t in zip(qid, test) if t]
        folds.append({
            "held_out": d, "questions": len(set(qs)),
            "hand": round(top1(np.array(hand)[test], y_[test], qs), 4),
            "learned": round(top1(ranker.score(X_[test]), y_[test], qs), 4),
        })
    n = sum(f["questions"] for f in folds)
    reachable = {q for q, lab in zip(qid, y) if lab}
    print(f"questions with a gold clause among the candidates: {len(reachable)} of {len(set(qid))}")
    cv = {
        "hand": round(sum(f["hand"] * f["questions"] for f in folds) / n, 4),
        "learned": round(sum(f["learned"] * f["questions"] for f in folds) / n, 4),
        "questions": n, "folds": folds,
    }
    print(json.dumps(cv, ensure_ascii=False, indent=1))
    final = fit(X_, y_, qid, args.C)
    checks = {}
    for path in args.check:
        Xc, yc, _, hc, qc = rows_for(assistant, load_items(path), "check:")
        checks[Path(path).name] = {"hand": round(top1(hc, yc, qc), 4),
                                   "learned": round(top1(final.score(np.array(Xc)), yc, qc), 4)}
    if checks:
        print("check sets (not trained on):", json.dumps(checks, ensure_ascii=False))
    print("weights:", dict(zip(FEATURES, (round(w, 3) for w in final.weights))), "bias", round(final.bias, 3))
    if args.dry_run:
        return 0
    header = {
        "written_by": "python " + " ".join([Path(sys.argv[0]).as_posix(), *(argv or sys.argv[1:])]),
        "date": datetime.date.today().isoformat(),
        "embedding_model": getattr(assistant.searcher.embedder, "name", None),
        "sets": [*args.sets, *args.laws], "with_documents": args.with_documents,
        "cv_leave_one_document_out": {k: v for k, v in cv.items() if k != "folds"},
        "checks": checks, "note": "Fitted, never edited by hand; not fitted on evals/test*.jsonl.",
    }
    RANKER_FILE.write_text(json.dumps({"header": header, **final.to_json()}, ensure_ascii=False, indent=1) + "\n",
                           encoding="utf-8")
    print(f"wrote {RANKER_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
