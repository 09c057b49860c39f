"""HTML of the chat and 瀏覽條文: answers, citation cards, the table of contents, search hits.

Pure functions, testable without gradio. Every string that reaches the browser — questions,
answers, corpus text — is HTML-escaped here, and the chatbot renders HTML without markdown, so
user or corpus text can never become markup.
"""

import html
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from assistant.apps.web.conversations import answer_text
from assistant.apps.web.script import SIMPLIFIED, to_script

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


def highlight(text: str, quote: str = "", answer: str = "", script: str | None = None) -> str:
    """Escaped *text* with the answering sentence in ``<mark>`` and, inside it, the short
    answer in ``<strong>`` — both located by position in the original, so nothing is re-typed;
    each piece is then shown in *script*."""
    z = lambda s: esc(to_script(s, script))  # noqa: E731
    start = text.find(quote) if quote else -1
    if start < 0:
        return z(text)
    end = start + len(quote)
    inner = z(quote)
    a = quote.find(answer) if answer and answer != quote else -1
    if a >= 0:
        inner = (
            z(quote[:a]) + f"<strong>{z(answer)}</strong>" + z(quote[a + len(answer):])
        )
    return f"{z(text[:start])}<mark>{inner}</mark>{z(text[end:])}"


def clause_link(clause_id: str, text: str) -> str:
    """A link that opens the clause in 瀏覽條文 (the page script keeps the chat; a new tab or a
    copied URL works through the ``?clause=`` query). The id stays in the URL, never on screen."""
    return f'<a class="clause-link" href="?clause={esc(clause_id)}">{esc(text)}</a>'


def copy_button(text: str, script: str | None = None) -> str:
    """「複製引用」: the page script copies the title (the original wording, whatever the page
    shows), which also previews the string on hover."""
    return f'<button type="button" class="copy-cite" title="{esc(text)}">{esc(to_script("複製引用", script))}</button>'


def converted_note(script: str | None) -> str:
    """Said on a card whose text is shown converted (issue 13): copying gives the original."""
    if script != SIMPLIFIED:
        return ""
    return f'<div class="converted">{esc(to_script("條文以簡體顯示;「複製引用」複製的是原文。", script))}</div>'


def render_card(c: "Citation", *, answer: str = "", related: bool = False, number: int | None = None,
                script: str | None = None) -> str:
    """One citation card: document, section path, clause number, verbatim text, actions.
    A *related* card (a refusal's 相關條文) highlights and offers to copy nothing — nothing in
    it is the answer — and clamps its text to two lines so the refusal itself stays in view.
    Everything visible is shown in *script*; the copy string and the link are the original."""
    z = lambda s: esc(to_script(s, script))  # noqa: E731
    *head, ref = citation_path(c)
    crumbs = "".join(f'<span class="crumb">{z(p)}</span>' for p in head)
    where = f'{crumbs}<span class="cite-no">{z(ref)}</span>'
    if related:
        return (
            f'<div class="cite-card related"><div class="cite-doc">《{z(c.doc_title)}》</div>'
            f'<div class="cite-path">{where}{clause_link(c.id, to_script("查看條文", script))}</div>'
            f'<blockquote class="cite-text">{z(c.text)}</blockquote></div>'
        )
    return (
        f'<div class="cite-card"><div class="cite-doc">{f"[{number}] " if number else ""}《{z(c.doc_title)}》</div>'
        f'<div class="cite-path">{where}</div>'
        f'<blockquote class="cite-text">{highlight(c.text, c.quote, answer, script)}</blockquote>'
        f'{converted_note(script)}'
        f'<div class="cite-actions">{copy_button(citation_string(c), script)}'
        f'{clause_link(c.id, to_script("在瀏覽條文中查看", script))}</div></div>'
    )


def shown_question(question: str) -> str:
    """The question as shown: control characters (a paste from a PDF or a terminal) dropped,
    line breaks and tabs kept — nothing is drawn as a box."""
    return "".join(ch for ch in question if ch in "\n\t" or ch.isprintable())


def render_question(question: str) -> str:
    """The user's own words, shown as text (pre-wrap keeps their line breaks)."""
    return f'<div class="user-q">{esc(shown_question(question))}</div>'


def render_pending(script: str | None = None) -> str:
    return f'<div class="pending">{esc(to_script("正在查找相關條文……", script))}</div>'


def list_items(answer: "Answer") -> list[tuple[str, int | None]]:
    """An enumeration answer's items, each with the number of the citation that quotes it (None:
    not a list). An answer is a list when three or more parts are separated by 「;」, as the
    guidelines separate the items of a list. A section's list is introduced by its heading (and the
    words that name the set, when the document has them): that is :func:`list_intro`, not an item."""
    parts = [p.strip().rstrip("。") for p in re.split(r"[;;]", answer.answer)]
    parts = [p for p in parts if p]
    if len(parts) < 3:
        return []
    intro = list_intro(answer)
    if intro:
        parts[0] = parts[0][len(intro) + 1:].strip()
    out = []
    for part in parts:  # (a subsection's item is its heading)
        n = next((i for i, c in enumerate(answer.citations, 1)
                  if part in c.text or (intro and part in (c.subsection or ""))), None)
        out.append((part, n))
    return out


def list_intro(answer: "Answer") -> str:
    """What comes before a section's items in an outline answer (「…(以下簡稱“四項工程”)。二、實施
    “四項工程”的主要內容和工作舉措」 before 「:實施“領頭雁”工程…;…」): up to the colon after a heading
    of a cited clause's section or subsection; "" for any other answer."""
    m = re.search(r"[:：]", answer.answer)
    head = answer.answer[: m.start()] if m else ""
    headings = {h for c in answer.citations for h in (c.section, c.subsection) if h}
    return head if head and any(head.endswith(h) for h in headings) else ""


def _note_shown(note: str) -> bool:
    """Notes meant for the reader are Chinese; an English one (a code for scripts) is not shown."""
    return any("\u4e00" <= ch <= "\u9fff" for ch in note)


def copy_answer_button(answer: "Answer", script: str | None = None) -> str:
    """「複製回答」: the answer with its citations, in the original wording (hidden in the button;
    the chatbot's sanitiser keeps no data-* attributes)."""
    return (f'<button type="button" class="copy-answer"><span class="label">{esc(to_script("複製回答", script))}</span>'
            f'<span class="copy-src">{esc(answer_text(answer))}</span></button>')


def render_followups(questions: Sequence[str], script: str | None = None, heading: str = "接下來可以問") -> str:
    """Follow-up questions as buttons; the page script asks the original wording (the title)."""
    if not questions:
        return ""
    buttons = "".join(f'<button type="button" class="followup" title="{esc(q)}">{esc(to_script(q, script))}</button>'
                      for q in questions)
    return (f'<div class="followups"><div class="cards-title">{esc(to_script(heading, script))}</div>'
            f"{buttons}</div>")


def render_answer(answer: "Answer", partial: str | None = None, *, script: str | None = None,
                  followups: Sequence[str] = ()) -> str:
    """The assistant's message: the short answer (or *partial*, while streaming), then cards,
    「複製回答」 and the follow-up suggestions; everything visible in *script*."""
    z = lambda s: esc(to_script(s, script))  # noqa: E731
    if partial is not None:
        return f'<div class="short-answer">{z(partial)}<span class="caret">▍</span></div>'
    parts = []
    if answer.refused:
        parts.append(f'<div class="refusal">{z(answer.answer)}</div>')
        if answer.note and _note_shown(answer.note):  # why: 「指引中沒有提到「獎金」。」
            parts.append(f'<div class="note">{z(answer.note)}</div>')
        if answer.see_also:
            parts.append(
                f'<div class="refusal-hint">{z("以下條文與問題最接近,但沒有直接回答,僅供參考。")}</div>'
                f'<div class="cards-title">{z("相關條文")}</div>'
            )
            parts += [render_card(c, related=True, script=script) for c in answer.see_also]
    else:
        items = list_items(answer)
        if items:
            mark = '<sup class="cite-mark">[{}]</sup>'.format
            if intro := list_intro(answer):  # the words naming the set (with their mark), the heading
                named = next(((i, q) for i, c in enumerate(answer.citations, 1)
                              if (q := c.quote.rstrip(",,;;。")) and intro.startswith(q + "。")), None)
                lead = f"{z(named[1])}{mark(named[0])}{z(intro[len(named[1]):])}" if named else z(intro)
                parts.append(f'<div class="list-intro">{lead}</div>')
            lis = "".join(f"<li>{z(text)}{mark(n) if n else ''}</li>" for text, n in items)
            parts.append(f'<ol class="short-answer answer-list">{lis}</ol>')
        else:
            parts.append(f'<div class="short-answer">{z(answer.answer)}</div>')
        parts.append(f'<div class="cards-title">{z("出處")}</div>')
        # The LLM's sentences cite [1], [2], and a list's items carry their card's number.
        numbered = answer.mode == "llm" or bool(items)
        parts += [render_card(c, answer=answer.answer, number=i if numbered else None, script=script)
                  for i, c in enumerate(answer.citations, 1)]
        if answer.see_also:
            links = "".join(
                f"<li>{clause_link(c.id, to_script(c.label, script))}</li>" for c in answer.see_also
            )
            parts.append(
                f'<details class="see-also"><summary>{z("另見相關條文")}({len(answer.see_also)})'
                f"</summary><ul>{links}</ul></details>"
            )
    if answer.note and not answer.refused and _note_shown(answer.note):
        parts.append(f'<div class="note">{z(answer.note)}</div>')
    if answer.citations or answer.see_also:
        parts.append(f'<div class="answer-actions">{copy_answer_button(answer, script)}</div>')
    parts.append(render_followups(followups, script, "可以這樣問" if answer.refused else "接下來可以問"))
    return f'<div class="answer">{"".join(parts)}</div>'


def _doc_meta(doc: Any, n_clauses: int, script: str | None = None) -> str:
    """「中國紅十字會總會 · 紅總字〔2010〕72號 · 2010-09-13 · 12條」 (missing fields skipped)."""
    bits = [doc.issuer, doc.doc_number, doc.date, doc.status, f"{n_clauses}條"]
    return " · ".join(esc(to_script(b, script)) for b in bits if b)


def doc_name(number: int) -> str:
    """「第四篇」: how a reader names a document (its id stays in URLs and the API)."""
    n = _CN_NUMERALS[number - 1] if 0 < number <= 10 else str(number)
    return f"第{n}篇"


def render_toc(corpus: "Corpus", script: str | None = None) -> str:
    """The documents as collapsible document → section → subsection → clause blocks, shown in
    *script* (what 「複製引用」 copies stays the original)."""
    z = lambda s: esc(to_script(s, script))  # noqa: E731
    out = [f'<div class="toc"><div class="cards-title">{z("目錄(點選篇名展開)")}</div>']
    if script == SIMPLIFIED:
        out.append(converted_note(script))
    for doc in corpus.documents:
        clauses = corpus.by_doc(doc.id)
        out.append(
            f'<details class="toc-doc" id="doc-{esc(doc.id)}"><summary>'
            f'<span class="doc-no">{z(doc_name(doc.number))}</span>'
            f'<span class="doc-title">《{z(doc.title)}》</span>'
            f'<span class="doc-meta">{_doc_meta(doc, len(clauses), script)}</span></summary>'
        )
        section = subsection = None
        for c in clauses:
            if c.section != section:
                section, subsection = c.section, None
                out.append(f'<h3 class="toc-section">{z(c.section)}</h3>')
            if c.subsection and c.subsection != subsection:
                subsection = c.subsection
                out.append(f'<h4 class="toc-subsection">{z(c.subsection)}</h4>')
            out.append(_toc_clause(c, script))
        out.append("</details>")
    out.append("</div>")
    return "".join(out)


def _toc_clause(c: "Clause", script: str | None = None) -> str:
    ref = c.ref if c.clause_no is not None else "正文"
    cite = f"《{c.doc_title}》{' '.join(c.path)}:“{c.text}”"
    return (
        f'<div class="toc-clause" id="clause-{esc(c.id)}" tabindex="-1">'
        f'<div class="toc-clause-head">{clause_link(c.id, to_script(ref, script))}'
        f'{copy_button(cite, script)}</div>'
        f'<p class="toc-clause-text">{esc(to_script(c.text, script))}</p></div>'
    )


def render_hits(query: str, hits: Sequence["Hit"], script: str | None = None) -> str:
    """Search results: label links into the table of contents plus the start of each clause."""
    z = lambda s: esc(to_script(s, script))  # noqa: E731
    if not query.strip():
        return ""
    if not hits:
        return f'<div class="search-empty">{z("沒有找到與")}「{esc(query)}」{z("相關的條文。")}</div>'
    rows = []
    for h in hits:
        c = h.clause
        snippet = c.text if len(c.text) <= 90 else c.text[:90] + "……"
        rows.append(
            f'<li>{clause_link(c.id, to_script(c.label, script))}<div class="hit-text">{z(snippet)}</div></li>'
        )
    return (
        f'<div class="search-results"><div class="cards-title">{z("與")}「{esc(query)}」{z("最相關的條文")}'
        f'</div><ol>{"".join(rows)}</ol></div>'
    )
