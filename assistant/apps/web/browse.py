"""The 瀏覽條文 tab: the documents as document → section → clause, with a search box that uses
the chat's retrieval. ``?clause=d4-s2-c6`` (what the card links point to) opens a clause."""

from typing import TYPE_CHECKING, Any

from assistant.apps.web.conversations import clean_store
from assistant.apps.web.limits import MAX_QUERY
from assistant.apps.web.render import render_hits, render_toc
from assistant.apps.web.script import SIMPLIFIED

if TYPE_CHECKING:
    import gradio as gr

    from assistant.corpus.records import Corpus


def build_browse_tab(demo: "gr.Blocks", live: Any, corpus: "Corpus", store: Any) -> dict[str, Any]:
    """The 瀏覽條文 tab's components and events (inside ``gr.Tab``), searching *live* (the app's
    :class:`~assistant.apps.web.live.LiveAssistant`), shown in the script kept in *store* (the
    chat's ``gr.BrowserState``). Returns the table of contents (the 管理 tab redraws it after a
    change), the search box and results, and ``show(script, query)``, which draws both."""
    import gradio as gr

    def search(query: str, raw_store: Any = None) -> str:
        query = (query or "").strip()[:MAX_QUERY]
        script = clean_store(raw_store)["script"]
        return render_hits(query, live.assistant.searcher.search(query, k=8) if query else [], script)

    def show(script: str | None, query: str) -> tuple[str, str]:
        return render_toc(live.corpus, script), search(query, {"script": script})

    def refresh_toc(raw_store: Any):
        """On page load: the table of contents of the corpus as it is now (unchanged unless the
        管理 tab has added or removed documents since start-up), in the reader's script."""
        current, script = live.corpus, clean_store(raw_store)["script"]
        return gr.skip() if current is live.initial_corpus and script != SIMPLIFIED else render_toc(current, script)

    with gr.Row(equal_height=True):
        query = gr.Textbox(label="搜尋條文", show_label=False, placeholder="搜尋條文,例如:紀委書記 交流",
                           max_length=MAX_QUERY, scale=8, elem_id="browse-query")
        find = gr.Button("搜尋", scale=1, elem_id="browse-search")
    results = gr.HTML(elem_id="browse-results")
    toc = gr.HTML(render_toc(corpus), elem_id="toc")

    query.submit(search, [query, store], results, concurrency_id="assistant", api_visibility="private")
    find.click(search, [query, store], results, concurrency_id="assistant", api_visibility="private")
    demo.load(refresh_toc, store, toc, queue=False, show_progress="hidden", api_visibility="private")
    return {"toc": toc, "query": query, "results": results, "show": show}
