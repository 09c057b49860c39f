"""The ``assistant`` command: index, ask, eval, chat.

Exit codes: 0 success (a refusal is a successful answer), 1 a real error (message on stderr in
one line), 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from assistant.settings import REPO, Settings


def _print_answer(answer, as_json: bool) -> None:
    if as_json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False), flush=True)
        return
    from rich.console import Console
    from rich.markup import escape

    con = Console(highlight=False, soft_wrap=True)
    con.print(f"[bold]{escape(answer.answer)}[/bold]")
    if answer.note:
        con.print(f"[yellow]{escape(answer.note)}[/yellow]")
    for c in answer.citations:
        con.print(f"  出處:{escape(c.label)}")
        con.print(f"  原文:「{escape(c.quote)}」")
    if answer.see_also:
        title = "相關條文" if answer.refused else "另見"
        for c in answer.see_also:
            con.print(f"  {title}:{escape(c.label)}", style="dim")


def cmd_index(args: argparse.Namespace) -> int:
    from assistant.services import rebuild_index, sync_index

    # --rebuild: embedded, build beside index/ and swap atomically; server, a new collection, renamed
    report, corpus = (rebuild_index if args.rebuild else sync_index)(settings=_settings(args))
    print(f"index: {len(corpus.clauses)} clauses from {len(corpus.documents)} documents; {report}")
    return 0


def _questions(args: argparse.Namespace):
    if args.question == "-":
        for raw in sys.stdin.buffer:
            line = raw.decode("utf-8", errors="replace").strip()
            if line:
                yield line
    else:
        yield args.question


def cmd_ask(args: argparse.Namespace) -> int:
    from assistant.services import load_assistant

    assistant = load_assistant(settings=_settings(args), progress=not args.json)
    for q in _questions(args):
        _print_answer(assistant.ask(q, k=args.k), args.json)
    return 0


def _gold_sources(args: argparse.Namespace, settings: Settings):
    """What gold strings are checked against: the corpus's clauses and records, and the law
    files given with --with-documents (else evals/laws of the checkout, for sets about laws)."""
    from assistant.corpus.store import load_corpus
    from assistant.evaluation import GoldSources, law_texts

    corpus = load_corpus(settings.corpus_dir)
    texts = tuple(c.text for c in corpus.clauses) + tuple(r.text for r in corpus.records)
    laws = args.with_documents or ([REPO / "evals" / "laws"] if (REPO / "evals" / "laws").is_dir() else [])
    return GoldSources(texts, law_texts(laws), frozenset(d.number for d in corpus.documents))


def cmd_validate(args: argparse.Namespace) -> int:
    """Check Q&A sets without running them: every problem with file:line; exit 2 if any. A frozen
    test set's problems are counted per check, never printed (its gold must not be read)."""
    from collections import Counter

    from assistant.evaluation import is_frozen, validate_records

    sources = _gold_sources(args, _settings(args))
    status = 0
    for path in args.file:
        items, problems = validate_records(path, sources)
        if problems:
            status = 2
            if is_frozen(path):
                counts = Counter(p.check for p in problems)
                print(f"{path}: {len(problems)} problem(s) (frozen set: counts only): "
                      + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())), file=sys.stderr)
            else:
                for p in problems:
                    print(p, file=sys.stderr)
        else:
            print(f"{path}: {len(items)} questions, valid")
    return status


def _run_info(args: argparse.Namespace, assistant, items: list, extra: dict | None = None) -> dict:
    """What a report was run with: commit, model, corpus hash, k, date, the set's hash …"""
    import datetime
    import hashlib
    import subprocess

    from assistant.evaluation import refusal_threshold

    def git(*cmd: str) -> str:
        try:
            return subprocess.run(["git", *cmd], cwd=REPO, capture_output=True, text=True, timeout=10, check=False).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    core = getattr(assistant, "core", assistant)
    searcher = getattr(core, "searcher", None)
    embedder = getattr(searcher, "embedder", None)
    clauses = getattr(searcher, "clauses", ()) or ()
    digest = hashlib.sha256()
    for c in sorted(clauses, key=lambda c: c.id):
        digest.update(f"{c.id}\t{c.text}\n".encode())
    info = {
        "name": args.run_name or Path(args.file).stem,
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commit": git("rev-parse", "HEAD") or None,
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")) if git("rev-parse", "HEAD") else None,
        "set": str(args.file),
        "set_sha256": hashlib.sha256(Path(args.file).read_bytes()).hexdigest()[:16],
        "questions": len(items),
        "k": args.k,
        "model": getattr(embedder, "name", None),
        "query_backend": getattr(embedder, "query_backend", None),
        "corpus_sha256": digest.hexdigest()[:16] if clauses else None,
        "clauses": len(clauses),
        "refuse_below": refusal_threshold(assistant),
        "mode": type(assistant).__name__,
    }
    return info | (extra or {})


def cmd_eval(args: argparse.Namespace) -> int:
    from assistant.evaluation import (
        SetError,
        comparison_json,
        dumps,
        evaluate,
        is_frozen,
        load_items,
        write_comparison,
        write_report,
    )
    from assistant.services import load_assistant, scratch_assistant

    if args.validate:
        return cmd_validate(args)
    if len(args.file) > 1:
        print("assistant eval: error: one set at a time (several only with --validate)", file=sys.stderr)
        return 2
    args.file = args.file[0]
    if args.compare_growth and not args.with_documents:
        print("assistant eval: error: --compare-growth needs --with-documents PATH …", file=sys.stderr)
        return 2
    if args.max_changed is not None and not args.compare_growth:
        print("assistant eval: error: --max-changed goes with --compare-growth", file=sys.stderr)
        return 2
    if args.check_growth and not args.compare_growth:
        print("assistant eval: error: --check-growth goes with --compare-growth (else use --check)", file=sys.stderr)
        return 2
    if args.compare and args.compare_growth:
        print("assistant eval: error: --compare OLD.json compares one run (not --compare-growth's two)", file=sys.stderr)
        return 2
    old = None
    if args.compare:
        try:
            old = json.loads(Path(args.compare).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            print(f"assistant eval: error: --compare {args.compare}: {exc}", file=sys.stderr)
            return 2
        if not isinstance(old, dict) or not isinstance(old.get("metrics"), dict):
            print(f"assistant eval: error: --compare {args.compare}: not the JSON report of one eval run "
                  "(NAME.json or runs/NAME-….json)", file=sys.stderr)
            return 2
    settings = _settings(args)
    try:
        items = load_items(args.file, _gold_sources(args, settings))
    except SetError as exc:
        print(f"assistant eval: error: {exc}", file=sys.stderr)
        return 2
    directory = Path(args.report or settings.reports_dir)
    name = Path(args.file).stem
    quiet = args.json
    checks: list[tuple[str, object, str | None]] = []  # (label, report, thresholds file)
    if not args.with_documents:
        assistant = load_assistant(settings=settings, progress=not quiet)
        report = evaluate(assistant, items, k=args.k, progress=not quiet)
        report.run = _run_info(args, assistant, items)
        paths = write_report(report, directory, name)
        asked = _ask_extra(assistant, args.ask, args.k)
        compared = _compared(args, old, report)
        if args.json:
            print(dumps(report.to_json() | ({"asked": asked} if args.ask else {}) | compared, indent=2))
        else:
            _print_report(report, f"{args.file}: {len(items)} questions", paths, asked)
            _print_compared(args, compared)
        checks.append(("", report, args.check))
        return _run_checks(checks, args.junit, name)

    base = None
    if args.compare_growth:
        assistant = load_assistant(settings=settings, progress=not quiet)
        base = evaluate(assistant, items, k=args.k, progress=not quiet)
        base.run = _run_info(args, assistant, items, {"with_documents": []})
        base_paths = write_report(base, directory, name)
        embedder = getattr(assistant, "core", assistant).searcher.embedder
    else:
        embedder = None
    with scratch_assistant(args.with_documents, settings=settings, progress=not quiet, embedder=embedder) as scratch:
        if not quiet:
            print("with documents (in a scratch copy of the corpus and index):\n  "
                  + "\n  ".join(scratch.added.lines()), flush=True)
        grown = evaluate(scratch.assistant, items, k=args.k, progress=not quiet)
        docs = [str(f.path) for f in scratch.added.files]
        grown.run = _run_info(args, scratch.assistant, items, {"with_documents": docs,
                                                                "name": f"{args.run_name or name}-with-documents"})
        asked = _ask_extra(scratch.assistant, args.ask, args.k)
    paths = write_report(grown, directory, f"{name}-with-documents")
    if base is None:
        compared = _compared(args, old, grown)
        if args.json:
            extra = {"documents": docs} | ({"asked": asked} if args.ask else {}) | compared
            print(dumps(grown.to_json() | extra, indent=2))
        else:
            _print_report(grown, f"{args.file} with {len(docs)} documents added: {len(items)} questions", paths, asked)
            _print_compared(args, compared)
        checks.append(("with documents: ", grown, args.check))
        return _run_checks(checks, args.junit, name)

    labels = ("without", "with_documents")
    cmp_paths = write_comparison(base, grown, directory, f"{name}-growth", labels)
    data = comparison_json(base, grown, labels)
    if args.json:
        shown = data
        if is_frozen(args.file):  # a frozen set's outcomes are never shown: how many changed, not which
            shown = data | {"changed": {"count": len(data["changed"]),
                                        "better": sum(1 for c in data["changed"] if c["after"])}}
        print(dumps(shown | {"documents": docs} | ({"asked": asked} if args.ask else {}), indent=2))
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"{args.file}: {len(items)} questions, without / with {len(docs)} documents")
        for col in ("metric", "without", "with documents", "delta"):
            table.add_column(col, justify="left" if col == "metric" else "right")
        for key, value in base.metrics.items():
            table.add_row(key, _shown(value), _shown(grown.metrics.get(key, "")), _signed(data["delta"].get(key)))
        Console().print(table)
        if is_frozen(args.file):  # its questions' outcomes are never shown: counts only
            better = sum(1 for c in data["changed"] if c["after"])
            print(f"correctness changed for {len(data['changed'])} questions ({better} better, "
                  f"{len(data['changed']) - better} worse; a frozen set: which ones is not shown)")
        else:
            print(f"correctness changed for {len(data['changed'])} questions:")
            for c in data["changed"]:
                print(f"  {c['id']} ({c['type']}): {'right' if c['before'] else 'wrong'} → {'right' if c['after'] else 'wrong'}"
                      f"  「{c['got_before']}」 → 「{c['got_after']}」")
        _print_asked(asked)
        print("report: " + ", ".join(str(p) for p in [*base_paths.values(), *paths.values(), *cmp_paths.values()]))
    checks += [("without documents: ", base, args.check), ("with documents: ", grown, args.check_growth or args.check)]
    status = _run_checks(checks, args.junit, name)
    if args.max_changed is not None and len(data["changed"]) > args.max_changed:
        print(f"with documents: correctness changed for {len(data['changed'])} questions "
              f"(at most {args.max_changed} allowed)", file=sys.stderr)
        status = 1
    return status


def _shown(value) -> str:
    """A metric as printed: 「n/a」 where a rate has no questions."""
    return "n/a" if isinstance(value, float) and value != value else str(value)  # noqa: PLR0124 (NaN test)


def _signed(value) -> str:
    if value is None:
        return ""
    return f"{value:+}" if isinstance(value, (int, float)) and value == value else str(value)


def _ask_extra(assistant, questions: list[str] | None, k: int) -> list[dict]:
    """Answers to --ask questions on the evaluated assistant (e.g. the README example)."""
    out = []
    for q in questions or []:
        a = assistant.ask(q, k=k)
        out.append({"question": q, "answer": a.answer, "refused": a.refused,
                    "cited": [c.label for c in a.citations]})
    return out


def _print_asked(asked: list[dict]) -> None:
    for a in asked:
        print(f"ask: {a['question']} → {a['answer']}" + (f"  ({a['cited'][0]})" if a["cited"] else "  (refused)" if a["refused"] else ""))


def _print_report(report, title: str, paths: dict, asked: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("95 % interval", justify="right")
    table.add_column("n", justify="right")
    for key, value in report.metrics.items():
        ci = report.intervals.get(key) or {}
        interval = f"[{ci['low']}, {ci['high']}]" if ci.get("low") is not None else ""
        table.add_row(key, _shown(value), interval, str(ci.get("n", "")))
    Console().print(table)
    enum = any(o.item.items for o in report.outcomes)
    cols = ["questions", "hit@1", "answer_accuracy", "citation_accuracy", "refusal_recall", "false_refusals"]
    by = Table(title="by type")
    for col in ("type", "n", "hit@1", "answer acc.", "citation acc.", "refusal recall", "false ref.") + (("enum. complete",) if enum else ()):
        by.add_column(col)
    for t, m in report.by_type.items():
        by.add_row(t, *(_shown(m[k]) for k in cols + (["enumeration_complete"] if enum else [])))
    Console().print(by)
    for f in report.failures():
        missing = f", missing {f['missing']}" if f.get("missing") else ""
        print(f"FAIL {f['id']} ({f['type']}): {f['question']} → {f['got']} (expected {f['expected']}{missing}, rank {f['rank']})")
    _print_asked(asked)
    print("report: " + ", ".join(str(p) for p in paths.values()))


def _compared(args: argparse.Namespace, old: dict | None, report) -> dict:
    """``{"compare": …}`` (what changed since --compare OLD.json), or nothing without --compare."""
    from assistant.evaluation import compare_runs

    if old is None:
        return {}
    return {"compare": compare_runs(old, report.to_json()) | {"old": str(args.compare)}}


def _print_compared(args: argparse.Namespace, compared: dict) -> None:
    from assistant.evaluation import format_comparison

    if compared:
        sys.stdout.write(format_comparison(compared["compare"], str(args.compare)))


def _run_checks(checks: list, junit: str | None = None, name: str = "eval") -> int:
    """Exit 1 if any report misses its thresholds file's bounds (each line says which run); with
    *junit*, every run's questions and bounds as JUnit XML test cases in that file."""
    from assistant.evaluation import check, junit_xml

    failed = False
    suites = []
    for label, report, thresholds in checks:
        bounds = json.loads(Path(thresholds).read_text(encoding="utf-8")) if thresholds else None
        suites.append((f"{name}{'-' + label.rstrip(': ').replace(' ', '-') if label else ''}", report, bounds))
        if not bounds:
            continue
        bad = check(report, bounds)
        for line in bad:
            print(f"{label}below threshold: {line}", file=sys.stderr)
        failed = failed or bool(bad)
    if junit:
        Path(junit).parent.mkdir(parents=True, exist_ok=True)
        Path(junit).write_text(junit_xml(suites), encoding="utf-8")
        print(f"eval: JUnit XML written to {junit}", file=sys.stderr)
    return 1 if failed else 0


def cmd_terminal_chat(args: argparse.Namespace) -> int:
    """Interactive terminal chat; follow-up questions lean on the previous question."""
    from assistant.services import load_assistant

    assistant = load_assistant(settings=_settings(args))
    history: list[str] = []
    print("請輸入問題(繁體或簡體均可),空行或 Ctrl-D 結束。")
    while True:
        try:
            q = input("問> ").strip()
        except EOFError:
            break
        if not q:
            break
        _print_answer(assistant.ask(q, history=history), False)
        history.append(q)
    return 0


def _args_add(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="guideline files: .txt .md .docx .pdf")
    parser.add_argument("--title", help="official title (default: detected from the text)")
    parser.add_argument("--issuer", help="issuing body (default: the signature line, if any)")
    parser.add_argument("--date", help="date, YYYY-MM-DD (default: the date line, if any)")
    parser.add_argument("--doc-number", help="document number, e.g. 云委發〔2011〕58號")
    parser.add_argument("--status", help="e.g. 征求意見稿 (default: detected)")
    parser.add_argument("--no-index", action="store_true", help="only add to the corpus; index later")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def cmd_add(args: argparse.Namespace) -> int:
    from assistant.services import add_files

    try:
        report = add_files(
            args.files, title=args.title, issuer=args.issuer, date=args.date,
            doc_number=args.doc_number, status=args.status, settings=_settings(args),
            sync=not args.no_index, progress=not args.json,
        )
    except ValueError as exc:
        print(f"assistant add: error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({
            "files": [{
                "path": f.path, "name": f.name, "status": f.status, "error": f.error, "code": f.code,
                "documents": [d.id for d in f.documents], "clauses": f.clauses,
            } for f in report.files],
            "index": None if report.sync is None else {
                "added": report.sync.added, "updated": report.sync.updated,
                "removed": report.sync.removed, "unchanged": report.sync.unchanged,
            },
            "corpus_errors": [str(e) for e in report.corpus_errors],
        }, ensure_ascii=False))
    else:
        for line in report.lines():
            print(line)
    for f in report.failed:
        print(f"assistant add: error: {f.path}: {f.error}", file=sys.stderr)
    return 0 if report.ok else 1


def _args_docs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the list as JSON")


def cmd_docs(args: argparse.Namespace) -> int:
    from assistant.services import list_documents

    report = list_documents(settings=_settings(args))
    if args.json:
        print(json.dumps({
            "documents": [{
                "id": r.document.id, "source": r.document.source, "part": r.part,
                "title": r.document.title, "issuer": r.document.issuer, "date": r.document.date,
                "doc_number": r.document.doc_number, "status": r.document.status,
                "clauses": r.clauses, "indexed": r.indexed,
            } for r in report.rows],
            "index": report.index, "orphans": report.orphans,
            "errors": [{"file": e.file, "reason": e.reason} for e in report.errors],
        }, ensure_ascii=False))
    else:
        for line in report.lines():
            print(line)
    return 0


def _args_remove(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("targets", nargs="+", metavar="DOC", help="document id (d6) or file name (x.docx)")
    parser.add_argument("--no-index", action="store_true", help="only remove from the corpus; index later")


def cmd_remove(args: argparse.Namespace) -> int:
    from assistant.services import remove_documents

    results, report = remove_documents(args.targets, sync=not args.no_index, progress=True, settings=_settings(args))
    for r in results:
        if r.error:
            print(f"assistant remove: error: {r.error}", file=sys.stderr)
        else:
            print(f"removed {', '.join(r.removed)} ({', '.join(r.doc_ids) or 'no documents'})")
    if report is not None:
        print(f"index: {report}")
    return 1 if any(r.error for r in results) else 0


def _args_feedback(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="feedback_command", required=True)
    s = sub.add_parser("export", help="write all feedback as CSV (stdout by default)")
    s.add_argument("--csv", action="store_true", help="CSV format (the only format; default)")
    s.add_argument("--out", help="write to this file (UTF-8 with BOM, so Excel shows Chinese)")
    s.add_argument("--db", help="feedback SQLite file (default: $ASSISTANT_FEEDBACK_DB or data/feedback.sqlite)")


def cmd_feedback(args: argparse.Namespace) -> int:
    from assistant.apps.feedback import FeedbackStore

    path = Path(args.db) if args.db else _settings(args).feedback_db
    if not path.is_file():
        raise FileNotFoundError(f"no feedback database at {path} (nothing has been rated yet?)")
    store = FeedbackStore(path)
    if args.out:
        with open(args.out, "w", encoding="utf-8-sig", newline="") as fh:
            n = store.export_csv(fh)
        print(f"{n} feedback rows written to {args.out}", file=sys.stderr)
    else:
        store.export_csv(sys.stdout)
    return 0


def _args_chat(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; 0.0.0.0 = all)")
    parser.add_argument("--port", type=int, default=7860, help="default 7860")
    parser.add_argument("--auth", help="require a login, user:password (or $ASSISTANT_AUTH)")
    parser.add_argument("--feedback-db",
                        help="feedback SQLite file (default $ASSISTANT_FEEDBACK_DB or data/feedback.sqlite)")


def cmd_chat(args: argparse.Namespace) -> int:
    from assistant.apps.api import API
    from assistant.apps.feedback import FeedbackStore
    from assistant.apps.web import _is_loopback, build_app, launch, parse_auth
    from assistant.corpus.store import load_corpus
    from assistant.services import load_assistant

    try:
        auth = parse_auth(args.auth or _settings(args).auth)
    except ValueError as exc:
        print(f"assistant: error: {exc}", file=sys.stderr)
        return 2
    if auth is None and not _is_loopback(args.host):
        print(f"警告 / warning: listening on {args.host} without a login: anyone who can reach "
              "this machine can use the chat and leave feedback. Add --auth user:password.",
              file=sys.stderr)
    assistant = load_assistant(settings=_settings(args))
    store = FeedbackStore(args.feedback_db or _settings(args).feedback_db)
    # The 管理 tab (upload / remove guidelines) exists only behind the login.
    demo = build_app(assistant, feedback_store=store, corpus=load_corpus(_settings(args).corpus_dir),
                     admin=auth is not None, corpus_dir=_settings(args).corpus_dir,
                     index_path=_settings(args).index_dir)
    # The JSON and OpenAI-compatible APIs on the same port (issue 17): behind the login or an API
    # key when either is set; otherwise only for this machine, unless --host opened the server.
    api = API(demo.live, auth=auth, api_key=_settings(args).api_key,
              allow_remote=not _is_loopback(args.host))
    launch(demo, host=args.host, port=args.port, auth=auth, prevent_thread_lock=True, quiet=True, api=api)
    shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    print(f"指引問答助手已啟動: http://{shown}:{args.port}  (Ctrl-C 結束)\n"
          f"API: http://{shown}:{args.port}/docs  (OpenAI 相容: http://{shown}:{args.port}/v1)\n"
          f"意見回饋存於 {store.path}"
          + ("\n已登入的使用者可在「管理」分頁加入或移除指引。" if auth else ""), file=sys.stderr)
    demo.block_thread()  # until Ctrl-C
    return 0


def _args_quiz(p: argparse.ArgumentParser) -> None:
    p.description = ("出題:assistant quiz --n 20 --doc 2 --format md --out quiz.md;"
                     "評分:assistant quiz --grade quiz.json --answers 張三.json 李四.json;"
                     "覆蓋率:assistant quiz --stats")
    p.add_argument("--n", type=int, default=20, help="number of items (default 20)")
    p.add_argument("--doc", help="document number or id (4 or d4); default: all five")
    p.add_argument("--section", help="section within --doc: 二, 2 or the start of its heading")
    p.add_argument("--kind", choices=["cloze", "choice", "multi", "truefalse", "mixed"], default="mixed",
                   help="mixed = 填空/單選/判斷 evenly; multi = 多選 (several right options)")
    p.add_argument("--kinds", metavar="SPEC",
                   help="count per kind, e.g. 填空=5,單選=5,多選=5,判斷=5 (then --n is their sum)")
    p.add_argument("--quota", metavar="SPEC",
                   help="items per document, e.g. d1=2,d2=6 (default for all documents: an even share)")
    p.add_argument("--points", metavar="SPEC",
                   help="points per kind, e.g. 填空=2,單選=2,多選=4,判斷=1 (default: 100/n each when whole, else 1)")
    p.add_argument("--history", nargs="+", metavar="QUIZ.json",
                   help="graded quizzes: their per-item correct rates become 難度 in this quiz's key and CSV")
    p.add_argument("--seed", type=int, default=7, help="same seed + same corpus = same quiz")
    p.add_argument("--format", choices=["json", "csv", "md", "text", "xlsx", "docx"],
                   help="json|csv|md|xlsx|docx for a quiz (default: from --out, else json); json|text|xlsx for "
                        "--grade (xlsx also when --out ends in .xlsx)")
    p.add_argument("--out", help="write to this file instead of stdout")
    p.add_argument("--sheet", action="store_true", help="also write a blank answer sheet OUT.answers.json "
                   "(with --format xlsx also OUT.answers.xlsx: a row per trainee, a column per question)")
    p.add_argument("--stats", action="store_true", help="print the coverage report and exit")
    p.add_argument("--grade", metavar="QUIZ.json", help="grade answer sheets against this quiz")
    p.add_argument("--answers", nargs="+", metavar="ANSWERS",
                   help="answer sheets (JSON, CSV id,answer, or .xlsx: a sheet or a row per trainee; ids or "
                        "question numbers 1…N)")
    p.add_argument("--no-record", action="store_true",
                   help="with --grade: do not store the per-item correct rates in QUIZ.json")


def _write(text: str | bytes, out: str | None, *, bom: bool = False) -> None:
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            Path(out).write_bytes(text)
        else:
            Path(out).write_text(text, encoding="utf-8-sig" if bom else "utf-8")
        print(f"quiz: wrote {out}", file=sys.stderr)
    elif isinstance(text, bytes):
        sys.stdout.buffer.write(text)
        sys.stdout.flush()
    else:
        sys.stdout.write(text)


def cmd_quiz(args: argparse.Namespace) -> int:
    from assistant.corpus.store import load_corpus
    from assistant.quiz.export import render, to_json
    from assistant.quiz.grading import (
        answer_sheet,
        format_reports,
        grade,
        item_rows,
        load_history,
        record,
    )
    from assistant.quiz.items import coverage, format_coverage
    from assistant.quiz.office import (
        BINARY_FORMATS,
        answer_sheet_xlsx,
        load_answer_sheets,
        render_binary,
        results_xlsx,
    )
    from assistant.quiz.sampling import build_quiz, load_quiz

    if args.grade or args.answers:
        if not (args.grade and args.answers):
            print("assistant quiz: error: --grade QUIZ.json needs --answers FILE …", file=sys.stderr)
            return 2
        if args.format == "docx":  # (csv and md print the text report, as they always did)
            print("assistant quiz: error: --grade writes json, text or xlsx, not docx", file=sys.stderr)
            return 2
        quiz = load_quiz(args.grade)
        reports = []
        for path in args.answers:
            for trainee, answers in load_answer_sheets(path):
                reports.append(grade(quiz, answers, trainee))
        if args.format == "xlsx" or (args.format is None and str(args.out or "").lower().endswith(".xlsx")):
            text = results_xlsx(quiz, reports)
        elif args.format == "json":
            text = json.dumps({"quiz": quiz.title, "reports": [r.to_dict() for r in reports],
                               "items": item_rows(quiz, reports)}, ensure_ascii=False, indent=2) + "\n"
        else:
            text = format_reports(quiz, reports)
        _write(text, args.out)
        if not args.no_record:
            Path(args.grade).write_text(to_json(record(quiz, reports)), encoding="utf-8")
            print(f"quiz: per-item correct rates recorded in {args.grade} (難度 next time: --history {args.grade})",
                  file=sys.stderr)
        return 0
    corpus = load_corpus(_settings(args).corpus_dir)
    if args.stats:
        _write(format_coverage(coverage(corpus)), args.out)
        return 0
    fmt = args.format or (Path(args.out).suffix.lstrip(".").lower() if args.out else "json")
    fmt = {"markdown": "md"}.get(fmt, fmt)
    if fmt not in ("json", "csv", "md", *BINARY_FORMATS):
        print(f"assistant quiz: error: cannot write a quiz as {fmt!r} (json, csv, md, xlsx or docx)", file=sys.stderr)
        return 2
    if args.section and not args.doc:
        print("assistant quiz: error: --section needs --doc (every document has a section 一)", file=sys.stderr)
        return 2
    try:
        history = load_history(args.history) if args.history else None
        quiz = build_quiz(corpus, args.n, doc=args.doc, section=args.section, kind=args.kind, seed=args.seed,
                          kinds=args.kinds, quota=args.quota, points=args.points, history=history)
    except ValueError as exc:
        if any(flag in str(exc) for flag in ("--kinds", "--quota", "--points")):
            print(f"assistant quiz: error: {exc}", file=sys.stderr)
            return 2
        raise
    asked = sum(int(float(v)) for v in quiz.blueprint["kinds"].values()) if args.kinds and quiz.blueprint else args.n
    if len(quiz.items) < asked:
        print(f"quiz: only {len(quiz.items)} items for this selection (asked for {asked})", file=sys.stderr)
    for s in quiz.shortfalls:
        if "doc" in s or "kind" in s:
            what = s.get("doc") or s.get("kind")
            print(f"quiz: {what}: {s['got']} of {s['quota']} items (the handout says so)", file=sys.stderr)
    if fmt in BINARY_FORMATS:
        _write(render_binary(quiz, fmt, corpus), args.out)
    else:
        _write(render(quiz, fmt, corpus), args.out, bom=fmt == "csv")
    if args.sheet:
        sheet = Path(args.out).with_suffix(".answers.json") if args.out else Path("answers.json")
        sheet.write_text(json.dumps(answer_sheet(quiz), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"quiz: wrote blank answer sheet {sheet}", file=sys.stderr)
        if fmt == "xlsx":
            sheet = sheet.with_suffix(".xlsx")
            sheet.write_bytes(answer_sheet_xlsx(quiz))
            print(f"quiz: wrote blank answer sheet {sheet}", file=sys.stderr)
    return 0


def _settings(args: argparse.Namespace) -> Settings:
    """The one settings root for a parsed command line (flags override the environment), built once."""
    if getattr(args, "settings", None) is None:
        args.settings = Settings.from_env(index_dir=args.index, chroma_url=args.chroma_url)
    return args.settings


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="assistant", description="指引問答助手:帶條文出處的回答")
    p.add_argument("--index", help="Chroma index directory (default: index/ or $ASSISTANT_INDEX)")
    p.add_argument(
        "--chroma-url", help="use a Chroma server (http://host:port) instead of the embedded index "
        "(or $ASSISTANT_CHROMA_URL)"
    )
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("index", help="build or update the clause index (only changed clauses are embedded)")
    s.add_argument("--rebuild", action="store_true", help="build a fresh index and swap it in")
    s.set_defaults(func=cmd_index)

    s = sub.add_parser("ask", help="answer a question with clause citations")
    s.add_argument("question", help='the question, or "-" to read one question per line from stdin')
    s.add_argument("--json", action="store_true", help="one JSON object per answer")
    s.add_argument("-k", type=int, default=5, help="citations plus related clauses to return")
    s.set_defaults(func=cmd_ask)

    s = sub.add_parser("eval", help="run a Q&A set and report metrics")
    s.add_argument("file", nargs="+", help="Q&A set: .jsonl, or .csv/.xlsx with the columns question, answers "
                                          "(separated by |), gold, answerable (several only with --validate)")
    s.add_argument("--validate", action="store_true",
                   help="only check the set(s): schema, unique ids, gold in the corpus; every problem with "
                        "file:line, exit 2 if any (nothing is asked)")
    s.add_argument("--run-name", help="name of this run in DIR/runs/ (default: the set's name; never overwritten)")
    s.add_argument("--json", action="store_true", help="print the report as JSON")
    s.add_argument("--report", help="directory for NAME.json/.md/.png (default evals/reports)")
    s.add_argument("--check", help="JSON of metric minimums (max_NAME for maximums); exit 1 if missed")
    s.add_argument("-k", type=int, default=5)
    s.add_argument("--with-documents", nargs="+", metavar="PATH",
                   help="evaluate as if these files (or folders of .md/.txt/.docx/.pdf) were added: in a scratch "
                        "copy of the corpus and index, removed afterwards; report NAME-with-documents")
    s.add_argument("--compare-growth", action="store_true",
                   help="run the set without and with --with-documents; side by side, delta, changed questions "
                        "(report NAME-growth); --check applies to both runs")
    s.add_argument("--max-changed", type=int, metavar="N",
                   help="with --compare-growth: fail when adding the documents changes whether more than N "
                        "questions are answered right")
    s.add_argument("--check-growth", metavar="THRESHOLDS",
                   help="with --compare-growth: bounds for the with-documents run instead of --check's")
    s.add_argument("--compare", metavar="OLD.json",
                   help="print what changed since an earlier run's JSON report: metric deltas, questions that "
                        "got better or worse")
    s.add_argument("--junit", metavar="FILE",
                   help="also write JUnit XML: one test case a question (and a bound of --check), so CI shows "
                        "eval failures as test failures")
    s.add_argument("--ask", action="append", metavar="QUESTION",
                   help="also print this question's answer from the evaluated assistant (repeatable)")
    s.set_defaults(func=cmd_eval)

    s = sub.add_parser("terminal", help="chat in the terminal instead of the browser")
    s.set_defaults(func=cmd_terminal_chat)

    for name, help_text, add_args, func in (
        ("chat", "web chat for cadres (Gradio, http://127.0.0.1:7860)", _args_chat, cmd_chat),
        ("feedback", "export the feedback left in the web chat", _args_feedback, cmd_feedback),
        ("quiz", "generate a graded training quiz from the clauses", _args_quiz, cmd_quiz),
        ("add", "add guideline files (.txt .md .docx .pdf) to the corpus and index them", _args_add, cmd_add),
        ("docs", "list the indexed documents with clause counts", _args_docs, cmd_docs),
        ("remove", "remove a document from the corpus and the index", _args_remove, cmd_remove),
    ):
        s = sub.add_parser(name, help=help_text)
        add_args(s)
        s.set_defaults(func=func)

    s = sub.add_parser("bench", help="latency, build and growth benchmarks (runs benchmarks/bench.py of a checkout)",
                       add_help=False)
    s.add_argument("bench_args", nargs=argparse.REMAINDER)
    s.set_defaults(func=cmd_bench)
    return p


def cmd_bench(args: argparse.Namespace) -> int:
    """Benchmarks are dev tooling: they live in the checkout's benchmarks/, not in the package."""
    import subprocess

    script = REPO / "benchmarks" / "bench.py"
    if not script.is_file():
        print(f"assistant: error: {script} not found (benchmarks run from a source checkout)", file=sys.stderr)
        return 1
    return subprocess.call([sys.executable, str(script), *args.bench_args])


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        _settings(args)
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"assistant: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
