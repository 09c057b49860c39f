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
#app-header-row { align-items: center; }
#script-switch { flex-grow: 0 !important; }
.list-intro { margin: .2rem 0 .1rem; }
.answer-list { margin: .2rem 0; padding-left: 1.6rem; font-size: 1.05rem; font-weight: 500; }
.answer-list li { margin: .15rem 0; }
.cite-mark { color: var(--color-accent); font-size: .75em; margin-left: .15em; }
.converted { font-size: .82rem; color: var(--body-text-color-subdued); margin-top: .3rem; }
.answer-actions { margin-top: .5rem; }
.copy-answer, .followup { border: 1px solid var(--border-color-primary); border-radius: 4px; padding: .15rem .6rem;
  background: var(--button-secondary-background-fill); cursor: pointer; font-size: .88rem; }
.copy-answer:hover, .followup:hover { border-color: var(--color-accent); }
.copy-src { display: none !important; }
.followups { margin-top: .4rem; }
.followups .followup { display: block; text-align: left; margin: .3rem 0; line-height: 1.5; white-space: normal; }
.see-also ul { padding-left: 1.2rem; margin: .3rem 0; }
.see-also li { overflow-wrap: anywhere; margin: .2rem 0; }
#chat .message { max-width: 100%; overflow-wrap: anywhere; }
#chat [data-testid=bot] { scroll-margin-top: 8px; }
/* The chatbot's stock clear button (its only top-panel button: buttons=[]): 新對話 and 刪除 keep the
   conversations. Its label follows Gradio's language (「清空對話」), so it is not matched by name. */
#chat .icon-button-wrapper.top-panel { display: none !important; }
.deep-link-missing { padding: .5rem .8rem; border-left: 4px solid var(--color-accent); margin: .5rem 0;
  background: var(--background-fill-secondary); }
#export-row { gap: .5rem; }
/* Gradio's progress overlay writes 「processing | 0.4s」 and 「queue: 1/3 |」 in English, words its
   translations do not cover: the spinner stays, the words go (the chat and 管理 show their own
   Chinese status). */
.progress-text { display: none !important; }
@media (max-width: 640px) {
  .app-header h1 { font-size: 1.3rem; }
  .app-header p { font-size: .85rem; }
  #chat { height: 72vh !important; }
}
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
  const zh = (text) => (window.assistantConvert ? window.assistantConvert(text) : text);
  const browseTab = () => document.getElementById("tab-browse-button")
    || [...document.querySelectorAll("button[role=tab]")].find((b) => b.textContent.trim() === "瀏覽條文");
  // Open clause *id* in 瀏覽條文: select the tab, unfold its document, scroll to and mark it. The
  // URL is left as it is: a reload opens the page the reader came to, not this clause.
  // Tried again every 50 ms until the clause is drawn, for up to a minute: a slow phone or a busy
  // server may take many seconds to mount the app and draw the contents (a fixed 5 s failed).
  // A newer link, or the reader leaving the tab once it is open, ends the wait.
  let linkTurn = 0;
  const showClause = (id, since = Date.now(), turn = ++linkTurn, opened = false) => {
    if (turn !== linkTurn) return;
    const waited = Date.now() - since;
    const tab = browseTab();
    const onTab = !!tab && tab.getAttribute("aria-selected") === "true";
    if (opened && !onTab) return;
    if (tab && !onTab) tab.click();
    const later = () => {
      if (waited < 60000) setTimeout(() => showClause(id, since, turn, opened || onTab), 50);
    };
    const el = document.getElementById("clause-" + id);
    if (el) unfold(el);
    // The contents are there, the clause is not (after a moment: on load the contents may still be
    // redrawn with documents added since start-up).
    if (!el && document.querySelector("#toc .toc-doc") && waited >= 2000) {
      const toc = document.getElementById("toc");
      if (!document.getElementById("clause-missing")) {
        const note = document.createElement("div");
        note.id = "clause-missing"; note.className = "deep-link-missing"; note.setAttribute("role", "alert");
        note.textContent = zh("連結所指的條文不存在(可能已被移除,或連結有誤)。請從下面的目錄查找。");
        toc.prepend(note);
      }
      later();
      return;
    }
    if (!el || !el.offsetParent) {  // tab still rendering, or the app not mounted yet
      later();
      return;
    }
    document.getElementById("clause-missing")?.remove();
    document.querySelectorAll(".toc-clause.is-target").forEach((e) => e.classList.remove("is-target"));
    el.classList.add("is-target");
    el.scrollIntoView({ block: "center" });
    el.focus({ preventScroll: true });
    marked = { id, at: Date.now() };
  };
  const unfold = (el) => {  // every folded document or section around *el*
    for (let p = el.parentElement; p; p = p.parentElement) if (p.tagName === "DETAILS") p.open = true;
  };
  // The contents are redrawn after a page load restores the reader's script (繁/简) or documents
  // change: the clause a link marked is marked again in the new drawing (and, within a few seconds
  // of following the link, shown again), or the mark would vanish under the reader's eyes.
  let marked = null;
  const remark = () => {
    const el = marked && document.getElementById("clause-" + marked.id);
    if (!el || el.classList.contains("is-target")) return;
    unfold(el);
    el.classList.add("is-target");
    if (Date.now() - marked.at < 10000 && el.offsetParent) el.scrollIntoView({ block: "center" });
  };
  const flash = (button, text, back) => {
    const label = button.querySelector(".label") || button;
    label.textContent = text;
    setTimeout(() => { label.textContent = back; }, 1600);
  };
  document.addEventListener("click", async (ev) => {
    const copy = ev.target.closest("button.copy-cite");
    if (copy) {
      ev.preventDefault();
      const back = copy.textContent;
      const ok = await copyText(copy.dataset.copy || copy.title);
      flash(copy, ok ? zh("已複製") : zh("複製失敗,請手動選取"), back);
      return;
    }
    const whole = ev.target.closest("button.copy-answer");
    if (whole) {  // 「複製回答」: the answer and its citations, as written in the guidelines
      ev.preventDefault();
      const label = whole.querySelector(".label");
      const back = label ? label.textContent : "";
      const ok = await copyText(whole.querySelector(".copy-src")?.textContent || "");
      flash(whole, ok ? zh("已複製") : zh("複製失敗,請手動選取"), back);
      return;
    }
    const follow = ev.target.closest("button.followup");
    if (follow) {  // a suggested question: asked as it stands in the guidelines
      ev.preventDefault();
      const box = document.querySelector("#question textarea");
      if (box) {
        box.value = follow.title || follow.textContent;
        box.dispatchEvent(new Event("input", { bubbles: true }));
        setTimeout(() => document.getElementById("ask")?.click(), 60);
      }
      return;
    }
    const link = ev.target.closest("a.clause-link");
    const id = link && new URL(link.href, location.href).searchParams.get("clause");
    if (id && !(ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button)) {
      ev.preventDefault(); ev.stopPropagation();  // stay in this tab: the chat is kept
      showClause(id);
    }
  }, true);
  // After each answer the start of the new reply is in view (the chatbot's own autoscroll is off:
  // on a phone it left the short answer above the screen and showed the tail of the cards).
  let replies = 0, finished = 0;
  const reveal = () => {
    const bots = document.querySelectorAll("#chat [data-testid=bot]");
    if (bots.length < replies) { replies = bots.length; finished = Math.min(finished, replies); }
    const last = bots[bots.length - 1];
    if (!last) return;
    const done = !!last.querySelector(".answer");
    if (bots.length > replies || (done && finished < bots.length)) {
      replies = bots.length;
      if (done) finished = bots.length;
      last.scrollIntoView({ block: "start" });
    }
  };
  // Words Gradio writes in English whatever its language: a rated answer's 👍/👎 tooltip.
  const GRADIO_WORDS = new Map([["Liked", "已按讚"], ["Disliked", "已按不讚"]]);
  const gradioWords = () => {
    for (const [english, chinese] of GRADIO_WORDS) {
      for (const name of ["title", "aria-label"]) {
        document.querySelectorAll(`[${name}="${english}"]`).forEach((el) => el.setAttribute(name, chinese));
      }
    }
  };
  let queued = false;
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; reveal(); remark(); gradioWords(); window.assistantConvertPage?.(); });
  }).observe(document.documentElement, { childList: true, subtree: true, characterData: true,
                                         attributes: true, attributeFilter: ["title", "aria-label"] });
  const wanted = new URLSearchParams(location.search).get("clause");
  if (wanted && /^[a-z0-9-]{1,40}$/.test(wanted)) showClause(wanted);
  else if (wanted) setTimeout(() => showClause("-"), 0);
})();
</script>
"""

# 繁/简 for the rest of the page: answers, cards, 瀏覽條文 and the 測驗 tab's quiz come from the
# server already in the reader's script (OpenCC, phrase by phrase; the quiz marks them .in-script);
# the fixed labels and buttons are converted here, character by character with OpenCC's table,
# and put back on 繁. A reader's own words (their questions, what they type) are never converted.
SCRIPT_JS = """
<script>
(() => {
  const from = Array.from("__FROM__"), to = Array.from("__TO__");
  const table = new Map();
  if (from.length === to.length) for (let i = 0; i < from.length; i++) table.set(from[i], to[i]);
  const convert = (text) => { let out = ""; for (const ch of text) out += table.get(ch) || ch; return out; };
  let script = "繁";
  const shown = new WeakMap(), titles = new WeakMap();  // node → [original, converted]
  const SERVER = ".answer, .user-q, .pending, .short-answer, .toc, .search-results, .search-empty, .in-script, textarea, input, script, style";
  const swap = (node, value, set, memo = shown) => {
    const seen = memo.get(node);
    if (script === "简") {
      if (seen && value === seen[1]) return;
      const out = convert(value);
      if (out !== value) { memo.set(node, [value, out]); set(out); }
    } else if (seen) {
      memo.delete(node);
      if (value === seen[1]) set(seen[0]);
    }
  };
  const convertPage = () => {
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!el || el.closest(SERVER) || !n.data.trim()) continue;
      swap(n, n.data, (v) => { n.data = v; });
    }
    document.querySelectorAll("textarea[placeholder], input[placeholder]").forEach((el) => {
      swap(el, el.placeholder, (v) => { el.placeholder = v; });
    });
    document.querySelectorAll("[title]").forEach((el) => {  // tooltips; a copy button's stays the original
      if (!el.closest(SERVER)) swap(el, el.title, (v) => { el.title = v; }, titles);
    });
    swap(document, document.title, (v) => { document.title = v; }, titles);  // the browser tab's name
  };
  window.assistantConvert = (text) => (script === "简" ? convert(text) : text);
  window.assistantConvertPage = () => { if (script === "简" || document.documentElement.dataset.script === "简") convertPage(); };
  window.assistantScript = (s) => {
    if (s !== "繁" && s !== "简") return;
    script = s;
    document.documentElement.dataset.script = s;
    document.documentElement.lang = s === "简" ? "zh-CN" : "zh-TW";
    convertPage();
    if (s === "繁") document.documentElement.dataset.script = "繁";
  };
})();
</script>
"""


def page_head() -> str:
    """The page's <head> additions: :data:`HEAD` and the 繁/简 script with OpenCC's table."""
    from assistant.apps.web.script import char_table

    table = char_table()
    return HEAD + SCRIPT_JS.replace("__FROM__", "".join(table)).replace("__TO__", "".join(table.values()))


# Gradio words its own controls (the login form, the upload area, 「載入中」, error toasts) in the
# browser's language, read once from navigator.language before any `head` script of ours runs;
# an English browser got 「Drop File Here」 and 「Login」. This page is Chinese whatever the browser
# says: Gradio is told the browser is zh-TW (its Traditional wording), which the 繁/简 switch then
# converts like every other interface label. HTTPGuard puts it into the page ahead of Gradio's
# own (deferred) module script.
LOCALE_SCRIPT = """<script>
(() => {
  try {
    Object.defineProperty(navigator, "language", { get: () => "zh-TW", configurable: true });
    Object.defineProperty(navigator, "languages", { get: () => ["zh-TW", "zh"], configurable: true });
  } catch (e) {}
})();
</script>"""

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

