"""HTML of the chat and 瀏覽條文: answers, citation cards, the table of contents, search hits.

Pure functions, testable without gradio. Every string that reaches the browser — questions,
answers, corpus text — is HTML-escaped here, and the chatbot renders HTML without markdown, so
user or corpus text can never become markup.
"""

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.answering.records import Answer, Citation
    from assistant.corpus.records import Clause, Corpus
    from assistant.retrieval.hybrid import Hit

_CN_NUMERALS = "一二三四五六七八九十"


def esc(text: object) -> str:
    """HTML-escape *text*, quotes included (it also goes into attribute values)."""
    return html.escape(str(text), quote=True)


def citation_path(c: "Citation") -> list[str]:
    """Section, subsection and clause of a citation, from its structured fields."""
    parts = [c.section, c.subsection or "", c.clause]
    return [p for i, p in enumerate(parts) if p and p not in parts[:i]]


def citation_string(citation: "Citation") -> str:
    """The one-line citation a cadre pastes into a report:
    《…》二、進一步健全鄉鎮紀檢組織 第6條:“任滿一屆的應適當交流,任滿10年的必須交流。”"""
    return f"《{citation.doc_title}》{' '.join(citation_path(citation))}:“{citation.quote}”"


def highlight(text: str, quote: str = "", answer: str = "") -> str:
    """Escaped *text* with the answering sentence in ``<mark>`` and, inside it, the short
    answer in ``<strong>`` — both located by position, so nothing is re-typed."""
    start = text.find(quote) if quote else -1
    if start < 0:
        return esc(text)
    end = start + len(quote)
    inner = esc(quote)
    a = quote.find(answer) if answer and answer != quote else -1
    if a >= 0:
        inner = (
            esc(quote[:a]) + f"<strong>{esc(answer)}</strong>" + esc(quote[a + len(answer):])
        )
    return f"{esc(text[:start])}<mark>{inner}</mark>{esc(text[end:])}"


def clause_link(clause_id: str, text: str) -> str:
    """A link that opens the clause in 瀏覽條文 (the page script keeps the chat; a new tab or a
    copied URL works through the ``?clause=`` query)."""
    return f'<a class="clause-link" href="?clause={esc(clause_id)}">{esc(text)}</a>'


def copy_button(text: str) -> str:
    """「複製引用」: the page script copies the title, which also previews the string on hover."""
    return f'<button type="button" class="copy-cite" title="{esc(text)}">複製引用</button>'


def render_card(c: "Citation", *, answer: str = "", related: bool = False, number: int | None = None) -> str:
    """One citation card: document, section path, clause number, verbatim text, actions.
    A *related* card (a refusal's 相關條文) highlights and offers to copy nothing — nothing in
    it is the answer — and clamps its text to two lines so the refusal itself stays in view."""
    *head, ref = citation_path(c)
    crumbs = "".join(f'<span class="crumb">{esc(p)}</span>' for p in head)
    where = f'{crumbs}<span class="cite-no">{esc(ref)}</span>'
    if related:
        return (
            f'<div class="cite-card related"><div class="cite-doc">《{esc(c.doc_title)}》</div>'
            f'<div class="cite-path">{where}{clause_link(c.id, f"查看 {c.id}")}</div>'
            f'<blockquote class="cite-text">{esc(c.text)}</blockquote></div>'
        )
    return (
        f'<div class="cite-card"><div class="cite-doc">{f"[{number}] " if number else ""}《{esc(c.doc_title)}》</div>'
        f'<div class="cite-path">{where}</div>'
        f'<blockquote class="cite-text">{highlight(c.text, c.quote, answer)}</blockquote>'
        f'<div class="cite-actions">{copy_button(citation_string(c))}'
        f'{clause_link(c.id, f"在條文瀏覽中查看 {c.id}")}</div></div>'
    )


def render_question(question: str) -> str:
    """The user's own words, shown as text (pre-wrap keeps their line breaks)."""
    return f'<div class="user-q">{esc(question)}</div>'


def render_pending() -> str:
    return '<div class="pending">正在查找相關條文……</div>'


def render_answer(answer: "Answer", partial: str | None = None) -> str:
    """The assistant's message: the short answer (or *partial*, while streaming), then cards."""
    if partial is not None:
        return f'<div class="short-answer">{esc(partial)}<span class="caret">▍</span></div>'
    parts = []
    if answer.refused:
        parts.append(f'<div class="refusal">{esc(answer.answer)}</div>')
        if answer.note:  # why: 「指引中沒有提到「獎金」。」
            parts.append(f'<div class="note">{esc(answer.note)}</div>')
        if answer.see_also:
            parts.append(
                '<div class="refusal-hint">以下條文與問題最接近,但沒有直接回答,僅供參考。</div>'
                '<div class="cards-title">相關條文</div>'
            )
            parts += [render_card(c, related=True) for c in answer.see_also]
    else:
        parts.append(f'<div class="short-answer">{esc(answer.answer)}</div>')
        parts.append('<div class="cards-title">出處</div>')
        numbered = answer.mode == "llm"  # the LLM's sentences cite [1], [2]: number the cards
        parts += [render_card(c, answer=answer.answer, number=i if numbered else None)
                  for i, c in enumerate(answer.citations, 1)]
        if answer.see_also:
            items = "".join(
                f"<li>{clause_link(c.id, c.label)}</li>" for c in answer.see_also
            )
            parts.append(
                f'<details class="see-also"><summary>另見相關條文({len(answer.see_also)})'
                f"</summary><ul>{items}</ul></details>"
            )
    if answer.note and not answer.refused:
        parts.append(f'<div class="note">{esc(answer.note)}</div>')
    return f'<div class="answer">{"".join(parts)}</div>'


def _doc_meta(doc: Any, n_clauses: int) -> str:
    """「中國紅十字會總會 · 紅總字〔2010〕72號 · 2010-09-13 · 12條」 (missing fields skipped)."""
    bits = [doc.issuer, doc.doc_number, doc.date, doc.status, f"{n_clauses}條"]
    return " · ".join(esc(b) for b in bits if b)


def render_toc(corpus: "Corpus") -> str:
    """The five documents as collapsible document → section → subsection → clause blocks."""
    out = ['<div class="toc"><div class="cards-title">目錄(點選篇名展開)</div>']
    for doc in corpus.documents:
        clauses = corpus.by_doc(doc.id)
        n = _CN_NUMERALS[doc.number - 1] if 0 < doc.number <= 10 else str(doc.number)
        out.append(
            f'<details class="toc-doc" id="doc-{esc(doc.id)}"><summary>'
            f'<span class="doc-no">第{n}篇</span>'
            f'<span class="doc-title">《{esc(doc.title)}》</span>'
            f'<span class="doc-meta">{_doc_meta(doc, len(clauses))}</span></summary>'
        )
        section = subsection = None
        for c in clauses:
            if c.section != section:
                section, subsection = c.section, None
                out.append(f'<h3 class="toc-section">{esc(c.section)}</h3>')
            if c.subsection and c.subsection != subsection:
                subsection = c.subsection
                out.append(f'<h4 class="toc-subsection">{esc(c.subsection)}</h4>')
            out.append(_toc_clause(c))
        out.append("</details>")
    out.append("</div>")
    return "".join(out)


def _toc_clause(c: "Clause") -> str:
    ref = c.ref if c.clause_no is not None else "正文"
    cite = f"《{c.doc_title}》{' '.join(c.path)}:“{c.text}”"
    return (
        f'<div class="toc-clause" id="clause-{esc(c.id)}" tabindex="-1">'
        f'<div class="toc-clause-head">{clause_link(c.id, ref)}'
        f'<span class="clause-id">{esc(c.id)}</span>{copy_button(cite)}</div>'
        f'<p class="toc-clause-text">{esc(c.text)}</p></div>'
    )


def render_hits(query: str, hits: Sequence["Hit"]) -> str:
    """Search results: label links into the table of contents plus the start of each clause."""
    if not query.strip():
        return ""
    if not hits:
        return f'<div class="search-empty">沒有找到與「{esc(query)}」相關的條文。</div>'
    rows = []
    for h in hits:
        c = h.clause
        snippet = c.text if len(c.text) <= 90 else c.text[:90] + "……"
        rows.append(
            f'<li>{clause_link(c.id, c.label)}<div class="hit-text">{esc(snippet)}</div></li>'
        )
    return (
        f'<div class="search-results"><div class="cards-title">與「{esc(query)}」最相關的條文'
        f'</div><ol>{"".join(rows)}</ol></div>'
    )

