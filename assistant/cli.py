"""The ``assistant`` command: index, ask, eval, chat.

Exit codes: 0 success (a refusal is a successful answer), 1 a real error (message on stderr in
one line), 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from . import config


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
    from .clauses import load_corpus
    from .embed import get_embedder
    from .index import ClauseStore, open_client, rebuild

    corpus = load_corpus()
    embedder = get_embedder()
    if args.rebuild:  # embedded: build beside index/, swap atomically; server: new collection, renamed
        report = rebuild(args.index, corpus.clauses, embedder, corpus.documents)
    else:
        report = ClauseStore(open_client(args.index), embedder.name).sync(corpus.clauses, embedder, corpus.documents)
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
    from .answer import load_assistant

    assistant = load_assistant(args.index, progress=not args.json)
    for q in _questions(args):
        _print_answer(assistant.ask(q, k=args.k), args.json)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from .answer import load_assistant
    from .evaluate import check, evaluate, load_items, write_report

    items = load_items(args.file)
    assistant = load_assistant(args.index, progress=not args.json)
    report = evaluate(assistant, items, k=args.k, progress=not args.json)
    name = Path(args.file).stem
    paths = write_report(report, Path(args.report or config.reports_dir()), name)
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"{args.file}: {len(items)} questions")
        table.add_column("metric")
        table.add_column("value", justify="right")
        for key, value in report.metrics.items():
            table.add_row(key, str(value))
        Console().print(table)
        by = Table(title="by type")
        for col in ("type", "n", "hit@1", "answer acc.", "citation acc.", "refusal recall", "false ref."):
            by.add_column(col)
        for t, m in report.by_type.items():
            by.add_row(t, *(str(m[k]) for k in ("questions", "hit@1", "answer_accuracy", "citation_accuracy", "refusal_recall", "false_refusals")))
        Console().print(by)
        for f in report.failures():
            print(f"FAIL {f['id']} ({f['type']}): {f['question']} → {f['got']} (expected {f['expected']}, rank {f['rank']})")
        print("report: " + ", ".join(str(p) for p in paths.values()))
    if args.check:
        bad = check(report, json.loads(Path(args.check).read_text(encoding="utf-8")))
        for line in bad:
            print(f"below threshold: {line}", file=sys.stderr)
        return 1 if bad else 0
    return 0


def cmd_terminal_chat(args: argparse.Namespace) -> int:
    """Interactive terminal chat; follow-up questions lean on the previous question."""
    from .answer import load_assistant

    assistant = load_assistant(args.index)
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


# Commands that live in their own modules. A module offers add_arguments(parser) and
# run(args) -> int for its command (or add_arguments_NAME / run_NAME when it serves several);
# module top levels stay light (gradio, torch are imported inside run) so a cold `ask` is fast.
PLUGINS = {
    "chat": ("web", "web chat for cadres (Gradio, http://127.0.0.1:7860)"),
    "feedback": ("feedback", "export the feedback left in the web chat"),
    "quiz": ("quiz", "generate a graded training quiz from the clauses"),
    "bench": ("bench", "latency, build and growth benchmarks → evals/reports/bench.json"),
    "add": ("ingest", "add guideline files (.txt .md .docx .pdf) to the corpus and index them"),
    "docs": ("ingest", "list the indexed documents with clause counts"),
    "remove": ("ingest", "remove a document from the corpus and the index"),
}


def _plugin(module: str):
    import importlib

    return importlib.import_module(f"assistant.{module}")


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
    s.add_argument("file", help="JSONL Q&A set, e.g. evals/dev.jsonl")
    s.add_argument("--json", action="store_true", help="print the report as JSON")
    s.add_argument("--report", help="directory for NAME.json/.md/.png (default evals/reports)")
    s.add_argument("--check", help="JSON of metric minimums (max_NAME for maximums); exit 1 if missed")
    s.add_argument("-k", type=int, default=5)
    s.set_defaults(func=cmd_eval)

    s = sub.add_parser("terminal", help="chat in the terminal instead of the browser")
    s.set_defaults(func=cmd_terminal_chat)

    for name, (module, help_text) in PLUGINS.items():
        s = sub.add_parser(name, help=help_text)
        try:
            mod = _plugin(module)
        except Exception as exc:  # a broken optional module must not take every command down
            s.set_defaults(func=lambda a, m=module, e=exc: _missing(m, e))
            continue
        (getattr(mod, f"add_arguments_{name}", None) or mod.add_arguments)(s)
        s.set_defaults(func=getattr(mod, f"run_{name}", None) or mod.run)
    return p


def _missing(module: str, exc: Exception) -> int:
    print(f"assistant: error: assistant.{module} cannot be loaded ({type(exc).__name__}: {exc})",
          file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.chroma_url:
        os.environ["ASSISTANT_CHROMA_URL"] = args.chroma_url
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"assistant: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
