"""What the page looks like and what it says about itself: CSS, the page script (HEAD), the
login-page script, the theme, and the security headers (CSP) every response carries."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import gradio as gr

# What every response says about itself. The CSP is as tight as Gradio's page allows: its
# config and our page script are inline, gr.HTML renders its template through `new Function`
# ('unsafe-eval'), its components set inline styles, images and fonts come from the app or
# data:/blob: URLs. What it does hold: nothing is loaded from or fetched at another origin, no
# plugins, no <base>, forms post only here, and no other site may frame the app.
_CSP_DIRECTIVES = (
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "media-src 'self' data: blob:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "frame-src 'self'",
    "frame-ancestors 'self'",
    "form-action 'self'",
    "base-uri 'self'",
    "object-src 'none'",
)
CSP = "; ".join(_CSP_DIRECTIVES)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": CSP,
}

CSS = """
.gradio-container { max-width: 1080px !important; width: 100%; margin: 0 auto !important; }
.app-header h1 { font-size: 1.6rem; margin: .2rem 0; }
.app-header p { color: var(--body-text-color-subdued); margin: 0 0 .4rem; }
#chat .user-q { white-space: pre-wrap; }
.short-answer { font-size: 1.2rem; font-weight: 600; line-height: 1.6; }
.caret { opacity: .5; }
.pending { color: var(--body-text-color-subdued); }
.refusal { font-size: 1.1rem; font-weight: 600; color: var(--color-accent); }
.cite-path .clause-link { margin-left: .8rem; font-size: .85rem; }
.refusal-hint, .note { color: var(--body-text-color-subdued); font-size: .92rem; margin: .3rem 0; }
.cards-title { font-weight: 600; margin: .8rem 0 .3rem; color: var(--body-text-color-subdued); }
.cite-card { border: 1px solid var(--border-color-primary); border-left: 4px solid var(--color-accent);
  border-radius: 6px; padding: .6rem .8rem; margin: .4rem 0; background: var(--background-fill-primary); }
.cite-doc { font-weight: 600; }
.cite-path { font-size: .9rem; color: var(--body-text-color-subdued); margin: .1rem 0 .4rem; }
.cite-path .crumb::after { content: " › "; }
.cite-no { font-weight: 600; color: var(--body-text-color); }
.cite-text { margin: 0; padding: 0; border: 0; line-height: 1.8; font-size: 1rem; }
.cite-card.related { border-left-color: var(--border-color-primary); }
.cite-card.related .cite-text { display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical;
  overflow: hidden; color: var(--body-text-color-subdued); }
.cite-text mark { background: #fde68a; color: #1f2937; padding: 0 .1em; border-radius: 2px; }
.cite-text mark strong { text-decoration: underline; text-underline-offset: 3px; }
.cite-actions { display: flex; gap: .8rem; align-items: center; margin-top: .5rem; font-size: .9rem; }
.copy-cite { border: 1px solid var(--border-color-primary); border-radius: 4px; padding: .1rem .6rem;
  background: var(--button-secondary-background-fill); cursor: pointer; font-size: .85rem; }
.copy-cite:hover { border-color: var(--color-accent); }
.see-also { margin-top: .5rem; font-size: .92rem; }
.see-also summary { cursor: pointer; color: var(--body-text-color-subdued); }
.toc-doc { border: 1px solid var(--border-color-primary); border-radius: 6px; margin: .5rem 0;
  padding: .4rem .8rem; }
.toc-doc > summary { cursor: pointer; font-size: 1.05rem; line-height: 1.8; }
.doc-no { font-weight: 600; margin-right: .4rem; color: var(--color-accent); }
.doc-title { font-weight: 600; }
.doc-meta { display: block; font-size: .85rem; color: var(--body-text-color-subdued); }
.toc-section { font-size: 1.05rem; margin: 1rem 0 .3rem; }
.toc-subsection { font-size: .98rem; margin: .6rem 0 .2rem; color: var(--body-text-color-subdued); }
.toc-clause { padding: .35rem .6rem; margin: .2rem 0; border-radius: 4px; scroll-margin-top: 30vh; }
.toc-clause.is-target { background: #fef3c7; color: #1f2937; outline: 2px solid #f59e0b; }
.toc-clause-head { display: flex; gap: .6rem; align-items: center; }
.toc-clause-head .clause-link { font-weight: 600; }
.clause-id { font-family: var(--font-mono); font-size: .8rem; color: var(--body-text-color-subdued); }
.toc-clause-text { margin: .2rem 0 0; line-height: 1.8; }
.search-results ol { padding-left: 1.4rem; }
.search-results li { margin: .4rem 0; }
.hit-text { font-size: .9rem; color: var(--body-text-color-subdued); }
.admin-intro, .admin-note { color: var(--body-text-color-subdued); font-size: .92rem; margin: .3rem 0; }
.admin-report { list-style: none; padding: 0; margin: .4rem 0; }
.admin-report li { padding: .35rem .6rem; margin: .25rem 0; border-radius: 4px; line-height: 1.7;
  border-left: 4px solid var(--border-color-primary); background: var(--background-fill-secondary); }
.admin-report li.ok { border-left-color: #16a34a; }
.admin-report li.failed, .admin-result.failed { border-left-color: var(--color-accent); color: var(--color-accent); }
.admin-result.failed { padding: .35rem .6rem; border-left: 4px solid; }
.file-name { font-family: var(--font-mono); font-size: .92rem; }
.doc-id { font-family: var(--font-mono); font-weight: 600; }
.doc-table { width: 100%; border-collapse: collapse; font-size: .92rem; }
.doc-table th, .doc-table td { border: 0; border-bottom: 1px solid var(--border-color-primary);
  padding: .3rem .5rem; text-align: left; vertical-align: top; }
.doc-table td.num { text-align: right; }
.doc-table td.pending { color: var(--color-accent); }
.doc-kind { font-size: .8rem; color: var(--body-text-color-subdued); }
"""

# Event delegation on the document: chat messages are re-rendered while streaming, so handlers
# are never bound to the cards themselves. The chatbot's sanitiser drops data-* attributes, so a
# card's copy text rides in the button's title (also its tooltip) and the clause id in the link's
# ?clause= query. Copy falls back to execCommand because the Clipboard API exists only in secure
# contexts (plain http on a LAN address is not one).
HEAD = """
<script>
(() => {
  const copyText = async (text) => {
    try { await navigator.clipboard.writeText(text); return true; } catch (e) {}
    const ta = document.createElement("textarea");
    ta.value = text; ta.setAttribute("readonly", ""); ta.style.position = "fixed"; ta.style.opacity = "0";
    document.body.appendChild(ta); ta.select();
    let ok = false; try { ok = document.execCommand("copy"); } catch (e) {}
    ta.remove(); return ok;
  };
  const browseTab = () => document.getElementById("tab-browse-button")
    || [...document.querySelectorAll("button[role=tab]")].find((b) => b.textContent.trim() === "瀏覽條文");
  // Open clause *id* in 瀏覽條文: select the tab, unfold its document, scroll to and mark it.
  const showClause = (id, tries = 0) => {
    const tab = browseTab();
    if (tab && tab.getAttribute("aria-selected") !== "true") tab.click();
    const el = document.getElementById("clause-" + id);
    if (el) {
      let p = el.parentElement;
      for (; p; p = p.parentElement) if (p.tagName === "DETAILS") p.open = true;
    }
    if (!el || !el.offsetParent) {  // tab still rendering, or the app not mounted yet
      if (tries < 100) setTimeout(() => showClause(id, tries + 1), 50);
      return;
    }
    document.querySelectorAll(".toc-clause.is-target").forEach((e) => e.classList.remove("is-target"));
    el.classList.add("is-target");
    el.scrollIntoView({ block: "center" });
    el.focus({ preventScroll: true });
    const url = new URL(location.href);
    url.searchParams.set("clause", id);
    history.replaceState(null, "", url);
  };
  document.addEventListener("click", async (ev) => {
    const copy = ev.target.closest("button.copy-cite");
    if (copy) {
      ev.preventDefault();
      const ok = await copyText(copy.dataset.copy || copy.title);
      copy.textContent = ok ? "已複製" : "複製失敗,請手動選取";
      setTimeout(() => { copy.textContent = "複製引用"; }, 1600);
      return;
    }
    const link = ev.target.closest("a.clause-link");
    const id = link && new URL(link.href, location.href).searchParams.get("clause");
    if (id && !(ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button)) {
      ev.preventDefault(); ev.stopPropagation();  // stay in this tab: the chat is kept
      showClause(id);
    }
  }, true);
  const wanted = new URLSearchParams(location.search).get("clause");
  if (wanted && /^[a-z0-9-]{1,40}$/.test(wanted)) showClause(wanted);
})();
</script>
"""

# Gradio's login form shows nothing when the server throttles failed logins (HTTP 429), and the
# login page carries no `head` (Gradio adds it once logged in): HTTPGuard puts this script into
# the page itself, so the form says why and for how long.
LOGIN_SCRIPT = """<script>
(() => {
  const fetchOriginal = window.fetch;
  window.fetch = async (...args) => {
    const response = await fetchOriginal(...args);
    try {
      const url = new URL(typeof args[0] === "string" ? args[0] : args[0].url, location.href);
      if (response.status === 429 && url.pathname.split("/").filter(Boolean).pop() === "login") {
        const wait = response.headers.get("Retry-After") || "60";
        const field = document.querySelector("input[type=password]");
        const where = field && (field.closest("form") || field.parentElement.parentElement);
        let note = document.getElementById("login-throttled");
        if (!note && where) {
          note = document.createElement("p");
          note.id = "login-throttled";
          note.setAttribute("role", "alert");
          note.style.color = "#b91c1c";
          where.appendChild(note);
        }
        if (note) note.textContent = `登入失敗次數過多,請於 ${wait} 秒後再試。`;
      }
    } catch (e) {}
    return response;
  };
})();
</script>"""


def theme() -> "gr.themes.Base":
    """System CJK fonts only (no web-font download), a restrained red accent."""
    import gradio as gr

    cjk = ["Noto Sans CJK TC", "Noto Sans TC", "PingFang TC", "Microsoft JhengHei",
           "Source Han Sans TC", "Noto Sans CJK SC", "sans-serif"]
    return gr.themes.Default(
        primary_hue="red", neutral_hue="stone", font=cjk, font_mono=["ui-monospace", "monospace"]
    )

