"""The 瀏覽條文 tab: the documents as document → section → clause, with a search box that uses
the chat's retrieval. ``?clause=d4-s2-c6`` (what the card links point to) opens a clause."""

from typing import TYPE_CHECKING, Any

from assistant.apps.web.limits import MAX_QUERY
from assistant.apps.web.render import render_hits, render_toc

if TYPE_CHECKING:
    import gradio as gr

    from assistant.corpus.records import Corpus


def build_browse_tab(demo: "gr.Blocks", live: Any, corpus: "Corpus") -> Any:
    """The 瀏覽條文 tab's components and events (inside ``gr.Tab``), searching *live* (the app's
    :class:`~assistant.apps.web.live.LiveAssistant`); returns the table of contents, which the
    管理 tab redraws after a change."""
    import gradio as gr

    def search(query: str) -> str:
        query = (query or "").strip()[:MAX_QUERY]
        return render_hits(query, live.assistant.searcher.search(query, k=8) if query else [])

    def refresh_toc():
        """On page load: the table of contents of the corpus as it is now (unchanged unless the
        管理 tab has added or removed documents since start-up)."""
        current = live.corpus
        return gr.skip() if current is live.initial_corpus else render_toc(current)

    with gr.Row(equal_height=True):
        query = gr.Textbox(show_label=False, placeholder="搜尋條文,例如:紀委書記 交流",
                           max_length=MAX_QUERY, scale=8, elem_id="browse-query")
        find = gr.Button("搜尋", scale=1, elem_id="browse-search")
    results = gr.HTML(elem_id="browse-results")
    toc = gr.HTML(render_toc(corpus), elem_id="toc")

    query.submit(search, query, results, concurrency_id="assistant", api_visibility="private")
    find.click(search, query, results, concurrency_id="assistant", api_visibility="private")
    demo.load(refresh_toc, None, toc, queue=False, show_progress="hidden", api_visibility="private")
    return toc
