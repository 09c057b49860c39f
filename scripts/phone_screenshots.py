"""Phone-view screenshots of the web chat (issue 13): what a cadre sees at 390×844 right after an
answer and after a refusal. Not part of the test suite (tests never write tracked files); run

    HF_HUB_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False .venv/bin/python scripts/phone_screenshots.py \\
        --out evals/reports/screenshots --prefix after

to refresh evals/reports/screenshots/after-phone-*.png. It answers from the index as it is
(`assistant index` first) and drives Debian's /usr/bin/chromium; nothing is downloaded."""

from __future__ import annotations

import argparse
import socket
import tempfile
from pathlib import Path

QUESTIONS = {
    "answer": "乡镇纪委书记任满几年必须交流?",
    "refusal": "公務員的年終獎金怎麼算?",
    "list": "鄉鎮紀委的主要職責有哪些?",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="evals/reports/screenshots")
    parser.add_argument("--prefix", default="after")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import sync_playwright

    from assistant.apps import web
    from assistant.apps.feedback import FeedbackStore
    from assistant.corpus.store import load_corpus
    from assistant.services import load_assistant

    with tempfile.TemporaryDirectory() as tmp:
        demo = web.build_app(load_assistant(progress=False), feedback_store=FeedbackStore(Path(tmp) / "fb.sqlite"),
                             corpus=load_corpus())
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        web.launch(demo, port=port, prevent_thread_lock=True, quiet=True)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                            args=["--no-sandbox", "--disable-gpu"])
                for name, question in QUESTIONS.items():
                    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=1,
                                            is_mobile=True, has_touch=True)
                    page.goto(f"http://127.0.0.1:{port}/")
                    page.locator("#question textarea").wait_for()
                    page.locator("#question textarea").fill(question)
                    page.locator("#question textarea").press("Enter")
                    page.locator("#chat .answer").last.wait_for(timeout=60_000)
                    page.wait_for_timeout(1500)  # streaming done, scrolled
                    path = out / f"{args.prefix}-phone-{name}.png"
                    page.screenshot(path=str(path))
                    print(path)
                    page.close()
                browser.close()
        finally:
            demo.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
