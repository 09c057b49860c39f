"""Optional LLM phrasing over the extractive core, with verified citations (issue 5).

Off by default. With ``ASSISTANT_LLM_URL`` set, :func:`wrap_from_env` wraps the extractive
:class:`~assistant.answer.Assistant` in an :class:`LLMAssistant` with the same
``ask(question, history, k) -> Answer`` plus ``stream(...)``. The guarantees of the extractive
mode are kept by construction, not by trusting the model:

* **Refusal stays with the evidence floor.** The extractive core answers first; when it refuses
  (or the question is empty) the model is never asked.
* **Every sentence shown carries a verified citation.** The model gets the core's top clauses,
  numbered (plus the core's extractive span as a hint), and must end each sentence with
  ``[n]「verbatim quote」``. Each quote must be verbatim (after :func:`text.normalize`, i.e.
  OpenCC t2s) in clause *n*. Repairs keep it verbatim, never fuzzy: punctuation or spacing
  differences, an ellipsis between verbatim parts, a quote that is verbatim in *another* given
  clause (re-pointed), and — kotaemon-style evidence matching — a quote that does not say what
  the sentence says is replaced by the sentence of the pointed-at clause that does. A sentence is
  dropped when no citation verifies, when its quote does not contain most of what it adds to the
  question (:func:`support`), or when it states a number its cited clause lacks.
* **Fallback, marked.** No verifiable sentence, a server error or a timeout (``timeout``
  seconds per model call, enforced as a hard deadline) → the extractive answer with
  ``mode="extractive-fallback"`` and a note. Never an uncited LLM answer.

Prompt injection: instruction-like fragments (「忽略以上指令」, 「你現在是…」) are removed from the
question before retrieval (:func:`strip_instructions` — left in, they moved the evidence floor);
the rest reaches the model only as delimited data in the answer prompt (the system prompt is
fixed text); and nothing the model writes can change what is cited — at worst its sentences fail
verification, which yields the extractive answer.

Prompts are versioned text files, ``prompts/{system,answer,rewrite}.v1.txt``, loaded by name.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from assistant.answering.extractive import Assistant
from assistant.answering.question import clean_question, is_followup, strip_instructions
from assistant.answering.records import Answer, Citation
from assistant.settings import DEFAULT_LLM_TIMEOUT, REPO, Settings
from assistant.text import bigrams, cn_to_int, converter, normalize, sentences

log = logging.getLogger(__name__)

PROMPTS_DIR = REPO / "prompts"
DEFAULT_TIMEOUT = DEFAULT_LLM_TIMEOUT
MODE_LLM = "llm"
MODE_FALLBACK = "extractive-fallback"

# --- configuration ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LLMConfig:
    """Where the OpenAI-compatible server is and how it is used (``ASSISTANT_LLM_*``)."""

    url: str  # base URL, e.g. http://127.0.0.1:8080/v1
    model: str = ""  # empty: the first model the server lists (GET /models), else "default"
    api_key: str = ""
    timeout: float = DEFAULT_TIMEOUT  # seconds per model call (rewrite, answer)
    max_tokens: int = 160
    context_clauses: int = 3  # clauses shown to the model
    context_chars: int = 200  # a longer clause is shown as a window around its best sentence
    prompt_version: str = "v1"

    @classmethod
    def from_settings(cls, settings: Settings) -> "LLMConfig | None":
        """None when no ``llm_url`` is set (LLM mode off)."""
        if not settings.llm_url:
            return None
        return cls(url=settings.llm_url, model=settings.llm_model, api_key=settings.llm_api_key,
                   timeout=settings.llm_timeout, prompt_version=settings.llm_prompts)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "LLMConfig | None":
        """The same from a mapping of ``ASSISTANT_LLM_*`` variables (see :class:`Settings`)."""
        return cls.from_settings(Settings.from_env(env))


@lru_cache(maxsize=32)
def load_prompt(name: str, version: str = "v1", directory: Path | None = None) -> str:
    """``prompts/{name}.{version}.txt`` — e.g. ``load_prompt("answer")`` → answer.v1.txt."""
    if not re.fullmatch(r"[a-z_]+", name) or not re.fullmatch(r"v[0-9]+[a-z0-9_]*", version):
        raise ValueError(f"bad prompt name {name!r}.{version!r}")
    path = (directory or PROMPTS_DIR) / f"{name}.{version}.txt"
    try:
        return path.read_text(encoding="utf-8").strip() + "\n"
    except FileNotFoundError as exc:
        raise RuntimeError(f"prompt file {path} not found") from exc


# --- script ----------------------------------------------------------------------------------


def user_script(text: str) -> str:
    """"simplified" when the text has more Simplified-only than Traditional-only characters,
    else "traditional" (also for script-neutral text: the guidelines are Traditional)."""
    t2s, s2t = converter("t2s"), converter("s2t")
    trad = sum(1 for ch in text if t2s.convert(ch) != ch)
    simp = sum(1 for ch in text if s2t.convert(ch) != ch)
    return "simplified" if simp > trad else "traditional"


def to_script(text: str, script: str, keep: str | set[str] = "") -> str:
    """Model output often mixes scripts: convert it wholly to the user's script. Characters in
    *keep* (the question's, and for Traditional the cited clauses') stay as they are, so a
    character both scripts use is not "converted" away from the guideline's own form
    (s2t turns 才 into 纔 and 干 into 幹)."""
    out = converter("t2s" if script == "simplified" else "s2tw").convert(text)
    if not keep or len(out) != len(text):
        return out
    return "".join(a if a in keep else b for a, b in zip(text, out))


# --- verification ----------------------------------------------------------------------------

MIN_QUOTE = 4  # significant characters; shorter quotes (「10年」) identify nothing
MIN_SUPPORT = 0.6  # share of what a sentence adds to the question that its quotes contain
MIN_SUPPORT_REPAIR = 0.75  # the same, for a sentence found in the clauses in place of a bad quote

_NUM = r"(\d{1,2})"
_MARK = rf"[\[【]\s*{_NUM}\s*[\]】]"
# A quote may hold other kinds of quotation marks (「…“三定”工作」), not its own closing one.
_QUOTE = r"(?:「([^」\n]{1,400})」|『([^』\n]{1,400})』|“([^”\n]{1,400})”|\"([^\"\n]{1,400})\")"
# Marker then quote (the asked-for form), quote then marker, a bare marker: searched in that
# order so 建設“四項工程”[1]「…」 reads as a claim with one citation, not a citation of 四項工程.
_PATTERNS = (
    ("mq", re.compile(rf"{_MARK}\s*[::]?\s*{_QUOTE}")),
    ("qm", re.compile(rf"{_QUOTE}\s*{_MARK}")),
    ("m", re.compile(_MARK)),
)
_LEAD = re.compile(r"^(?:[\s,,。;;::、!!??]|回答句|回答|答案|答|改寫)*[::]?\s*")
_TAIL_PUNCT = ",,、;;::。!!?? \t\r\n"
_ELLIPSIS = re.compile(r"…+|\.{3,}|⋯+")
_FENCE = re.compile(r"```[a-z]*")


@dataclass
class Claim:
    """One sentence of the model's answer and what it cites: (clause number, quote or "")."""

    text: str
    refs: list[tuple[int, str]] = field(default_factory=list)


def parse_claims(output: str) -> list[Claim]:
    """Split model output into sentences with their ``[n]「quote」`` citations. Text after the
    last citation that is more than punctuation becomes an uncited claim (dropped later)."""
    output = _FENCE.sub("", output)
    taken = [False] * len(output)
    spans: list[tuple[int, int, int, str, str]] = []  # start, end, n, quote, kind
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(output):
            if any(taken[m.start() : m.end()]):
                continue
            groups = m.groups()
            if kind == "mq":
                n, quote = groups[0], next(g for g in groups[1:] if g is not None)
            elif kind == "qm":
                quote, n = next(g for g in groups[:-1] if g is not None), groups[-1]
            else:
                n, quote = groups[0], ""
            spans.append((m.start(), m.end(), int(n), quote, kind))
            taken[m.start() : m.end()] = [True] * (m.end() - m.start())
    spans.sort()
    claims: list[Claim] = []

    def pending() -> bool:  # a quote-first citation still waiting for its sentence
        return bool(claims) and not claims[-1].text and bool(claims[-1].refs)

    def text_without_citation(text: str) -> None:
        if pending():
            claims[-1].text = text
        else:
            claims.append(Claim(text))

    pos = 0
    for start, end, n, quote, kind in spans:
        lines = output[pos:start].split("\n")
        first = _clean_claim(lines[0])
        if len(lines) > 1:  # the citation opens a new line: earlier lines are their own sentences
            for line in filter(None, map(_clean_claim, lines[:-1])):
                text_without_citation(line)
            claims.append(Claim(_clean_claim(lines[-1])))
        elif first and kind == "qm" and pending():
            claims[-1].text = first  # 「quote」[1]sentence「quote」[2]…
            claims.append(Claim(""))
        elif first:
            claims.append(Claim(first))
        elif not claims:
            claims.append(Claim(""))
        claims[-1].refs.append((n, quote.strip()))
        pos = end
    for line in filter(None, map(_clean_claim, output[pos:].split("\n"))):
        text_without_citation(line)
    return claims


# A long quotation inside a sentence is clause text pasted in, not the model's answer; it is
# neither shown nor counted as what the sentence says (short ones, 「四項工程」, stay).
_INLINE_QUOTE = re.compile(r"「[^」\n]{12,}」|『[^』\n]{12,}』|“[^”\n]{12,}”")


def _clean_claim(text: str) -> str:
    text = _INLINE_QUOTE.sub("", text.replace("<<<", "").replace(">>>", ""))
    text = _LEAD.sub("", text)
    return text.strip().strip(_TAIL_PUNCT).strip()


def _significant(ch: str) -> bool:
    return not (ch.isspace() or unicodedata.category(ch).startswith(("P", "S")))


def locate(quote: str, clause_text: str) -> tuple[int, int] | None:
    """Offsets of *quote* in *clause_text* if it is verbatim there after t2s normalisation;
    repairs that keep it verbatim: punctuation/spacing differences, and an ellipsis between
    verbatim parts. Fewer than MIN_QUOTE significant characters → None."""
    q = quote.strip().strip(_TAIL_PUNCT + "「」『』“”\"")
    parts = [p for p in _ELLIPSIS.split(q) if p.strip(_TAIL_PUNCT)]
    if len(parts) > 1:
        spans, at = [], 0
        for part in parts:
            span = locate(part, clause_text[at:])
            if span is None:
                return None
            spans.append((span[0] + at, span[1] + at))
            at = span[1] + at
        return spans[0][0], spans[-1][1]
    nq, nt = normalize(q), normalize(clause_text)
    if sum(map(_significant, nq)) < MIN_QUOTE:
        return None
    i = nt.find(nq)
    if i >= 0:
        return i, i + len(nq)
    # Same characters, other punctuation or spacing (,/,, a dropped 、, a line break).
    keep = [i for i, ch in enumerate(nt) if _significant(ch)]
    squeezed = "".join(nt[i] for i in keep)
    sq = "".join(ch for ch in nq if _significant(ch))
    j = squeezed.find(sq)
    if j < 0:
        return None
    return keep[j], keep[j + len(sq) - 1] + 1


_ARABIC = re.compile(r"\d+(?:\.\d+)?")
# A Chinese numeral counts as a number only before a measure word (一般, 统一 are not numbers).
_CN_NUMBER = re.compile(r"[零〇一二两三四五六七八九十百千万]+(?=[个名天年次岁届月季人份万元项条倍周日期批级类种分%])")


def _cn_value(s: str) -> int | None:
    try:
        return cn_to_int(s)
    except ValueError:
        return None


def numbers(text: str) -> set[str]:
    """Quantities in *text* (normalised), Arabic and Chinese numerals alike: 十年 → "10"."""
    norm = normalize(text)
    found = {str(int(float(m))) if "." not in m else m for m in _ARABIC.findall(norm)}
    for m in _CN_NUMBER.findall(norm):
        value = _cn_value(m)
        if value is not None:
            found.add(str(value))
    return found


def _arabic(text: str) -> str:
    """Normalised text with counted Chinese numerals as digits (任滿十年 → 任满10年)."""
    return _CN_NUMBER.sub(lambda m: str(v) if (v := _cn_value(m.group())) is not None else m.group(), normalize(text))


_LEAD_IN = re.compile(r"(?:是|為|为|包括|包含|如下|有|:|:)\s*$")


def _novel(claim: str, question: str) -> set[str]:
    """Bigrams of *claim* that are not in *question*: what the claim adds."""
    return set(bigrams(_arabic(claim))) - set(bigrams(_arabic(question)))


def _adds_little(claim: str, question: str) -> bool:
    """The claim is mostly the question's own words (a lead-in, 「…的基本原則是」)."""
    grams = set(bigrams(_arabic(claim)))
    return bool(grams) and len(_novel(claim, question)) <= len(grams) / 3


def support(claim: str, quotes: Sequence[str], question: str) -> float:
    """How much of what the claim *adds* to the question its quotes say: the share of the
    claim's bigrams that are not in the question but are in a quote. 0 for a claim that only
    restates the question. (「任滿一屆必須交流」 quoting 「新任鄉鎮紀委書記可異地交流任職」 adds
    一屆…必須, which the quote does not say: 0.)"""
    novel = _novel(claim, question)
    if not novel:
        return 0.0
    have: set[str] = set()
    for q in quotes:
        have |= set(bigrams(_arabic(q)))
    return len(novel & have) / len(novel)


@dataclass(frozen=True)
class ContextClause:
    """A clause shown to the model as [number]."""

    citation: Citation
    shown: str  # what the model saw (the clause, or a window of it)


@dataclass
class Verification:
    """The verified answer: sentences with renumbered markers, and the cited clauses in order
    with the longest verified quote of each."""

    sentences: list[str] = field(default_factory=list)
    cited: list[int] = field(default_factory=list)  # context indices, in order of citation
    quotes: dict[int, tuple[int, int]] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)  # why sentences were dropped
    repaired: int = 0

    @property
    def text(self) -> str:
        return "".join(self.sentences)


class Verifier:
    """Checks claims against the context clauses; keeps state so a streamed answer can be
    verified one line at a time with stable citation numbers."""

    def __init__(self, context: Sequence[ContextClause], question: str, script: str):
        self.context = list(context)
        self.question = question
        self.script = script
        self.result = Verification()
        self._keep = set(question) if script == "simplified" else set(question).union(*(c.citation.text for c in self.context))

    def _resolve(self, n: int, quote: str, claim: str) -> tuple[int, tuple[int, int], bool] | None:
        """(context index, quote span, repaired?) for one citation, or None."""
        texts = [c.citation.text for c in self.context]
        i = n - 1
        if not quote:  # a bare [n]: the claim itself may be a verbatim span of clause n
            if 0 <= i < len(texts) and (span := locate(claim, texts[i])):
                return i, span, True
            return None
        if 0 <= i < len(texts) and (span := locate(quote, texts[i])):
            return i, span, False
        for j, text in enumerate(texts):  # cited the wrong number: re-point to where it is
            if j != i and (span := locate(quote, text)):
                return j, span, True
        return None

    def _support(self, claim: str, found: Sequence[tuple[int, tuple[int, int]]]) -> float:
        texts = [self.context[i].citation.text[a:b] for i, (a, b) in found]
        return support(claim, texts, self.question) if texts else 0.0

    def _evidence(self, claim: str, pointed: set[int]) -> tuple[int, tuple[int, int]] | None:
        """The sentence of the given clauses that best supports *claim* — kotaemon-style
        evidence matching, on whole verbatim sentences — if it supports it well enough; on a
        tie, the clause the claim points at (by number or by a verbatim quote) wins."""
        best, best_score = None, MIN_SUPPORT_REPAIR - 1e-9
        order = sorted(pointed) + [i for i in range(len(self.context)) if i not in pointed]
        for i in order:
            c = self.context[i]
            for a, b in sentences(c.citation.text):
                b2 = b - len(c.citation.text[a:b]) + len(c.citation.text[a:b].rstrip("。;;!?!? "))
                score = support(claim, [c.citation.text[a:b2]], self.question)
                if score > best_score:
                    best, best_score = (i, (a, b2)), score
        return best

    def add(self, claim: Claim) -> str | None:
        """Verify one claim; the rendered sentence (user's script, renumbered markers) or None."""
        if not claim.text:
            if claim.refs:
                self.result.dropped.append("citation without a sentence")
            return None
        found: list[tuple[int, tuple[int, int]]] = []
        for n, quote in claim.refs:
            got = self._resolve(n, quote, claim.text)
            if got is None:
                continue
            i, span, repaired = got
            self.result.repaired += repaired
            if i not in [f[0] for f in found]:
                found.append((i, span))
        if not claim.refs:
            self.result.dropped.append(f"no citation: {claim.text[:40]}")
            return None
        score = self._support(claim.text, found)
        lead_in = ""
        if score < MIN_SUPPORT and found and _LEAD_IN.search(claim.text) and _adds_little(claim.text, self.question):
            # 「…的基本原則是[1]「…」」: the sentence leads into its quote, which holds the answer.
            # Show the verified quote itself, verbatim, as the end of the sentence.
            i, (a, b) = found[0]
            lead_in, found = "「" + self.context[i].citation.text[a:b] + "」", found[:1]
            score = 1.0
        if score < MIN_SUPPORT:
            # The sentence is cited but its quote does not say it (or is not verbatim): look for
            # the sentence of the given clauses that does, and cite that instead.
            pointed = {i for i, _ in found} | {n - 1 for n, _ in claim.refs if 0 < n <= len(self.context)}
            evidence = self._evidence(claim.text, pointed)
            if evidence is None:
                why = "quote not verbatim in any given clause" if not found else f"not supported by its quote ({score:.2f})"
                self.result.dropped.append(f"{why}: {claim.text[:40]}")
                return None
            found = [evidence]
            self.result.repaired += 1
        cited = [self.context[i].citation for i, _ in found]
        allowed = set()
        for c in cited:
            allowed |= numbers(c.text) | numbers(c.label)
        invented = numbers(claim.text) - allowed
        if invented:
            self.result.dropped.append(f"number not in the cited clause ({', '.join(sorted(invented))}): {claim.text[:40]}")
            return None
        marks = []
        for i, span in found:
            if i not in self.result.cited:
                self.result.cited.append(i)
            old = self.result.quotes.get(i)
            if old is None or span[1] - span[0] > old[1] - old[0]:
                self.result.quotes[i] = span
            marks.append(f"[{self.result.cited.index(i) + 1}]")
        sentence = to_script(claim.text, self.script, self._keep) + lead_in + "".join(marks) + "。"
        self.result.sentences.append(sentence)
        return sentence

    def feed(self, output: str) -> list[str]:
        """Verify every claim of *output* (one or more complete lines)."""
        return [s for c in parse_claims(output) if (s := self.add(c))]

    def citations(self) -> list[Citation]:
        out = []
        for i in self.result.cited:
            c = self.context[i].citation
            a, b = self.result.quotes[i]
            out.append(replace(c, quote=c.text[a:b]))
        return out


def verify(output: str, context: Sequence[ContextClause], question: str, script: str = "traditional") -> tuple[Verification, list[Citation]]:
    """Verify a whole model answer at once (what :meth:`LLMAssistant.ask` does line by line)."""
    v = Verifier(context, question, script)
    v.feed(output)
    return v.result, v.citations()


def build_context(citations: Sequence[Citation], limit: int = 200) -> list[ContextClause]:
    """The clauses as the model sees them: whole when short, else the sentences around the
    clause's best sentence (its ``quote``) up to *limit* characters. Quotes are verified
    against the whole clause, so a window loses nothing."""
    out = []
    for c in citations:
        text = c.text
        if len(text) > limit:
            spans = sentences(text)
            at = text.find(c.quote) if c.quote else 0
            best = next((k for k, (a, b) in enumerate(spans) if a <= max(at, 0) < b), 0)
            lo = hi = best
            while True:
                grown = False
                for cand in (hi + 1, lo - 1):
                    if 0 <= cand < len(spans):
                        a, b = spans[min(lo, cand)][0], spans[max(hi, cand)][1]
                        if b - a <= limit:
                            lo, hi = min(lo, cand), max(hi, cand)
                            grown = True
                if not grown:
                    break
            a, b = spans[lo][0], spans[hi][1]
            shown = ("……" if a > 0 else "") + text[a:b].strip() + ("……" if b < len(text) else "")
        else:
            shown = text
        out.append(ContextClause(c, shown))
    return out


def render_context(context: Sequence[ContextClause]) -> str:
    return "\n\n".join(f"[{i}] {c.citation.label}\n{c.shown}" for i, c in enumerate(context, 1))


# --- the model -------------------------------------------------------------------------------


class LLMError(RuntimeError):
    """The server failed, timed out, or is unreachable."""


class LLMTimeout(LLMError):
    pass


def discover_model(url: str, api_key: str = "", timeout: float = 3.0) -> str:
    """The first model id the server lists (``GET {url}/models``), or "default"."""
    import httpx

    try:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        r = httpx.get(f"{url.rstrip('/')}/models", headers=headers, timeout=timeout)
        r.raise_for_status()
        return r.json()["data"][0]["id"]
    except Exception as exc:  # any failure: the request itself will report the real problem
        log.warning("could not list models at %s (%s); using 'default'", url, exc)
        return "default"


def make_chat_model(config: LLMConfig) -> Any:
    """LangChain ``ChatOpenAI`` against the configured OpenAI-compatible server."""
    try:
        from langchain_openai import ChatOpenAI
    except ModuleNotFoundError as exc:
        raise RuntimeError(
            "ASSISTANT_LLM_URL is set but langchain-openai is not installed: "
            'pip install -e ".[llm]"'
        ) from exc
    return ChatOpenAI(
        base_url=config.url,
        api_key=config.api_key or "not-needed",
        model=config.model or discover_model(config.url, config.api_key, min(config.timeout, 3.0)),
        temperature=0.0,
        seed=0,
        max_tokens=config.max_tokens,
        timeout=config.timeout,
        max_retries=0,  # a retry would break the deadline; the extractive answer is the retry
        streaming=True,
    )


def _stream_with_deadline(chain: Any, inputs: dict, timeout: float) -> Iterator[str]:
    """Text chunks of *chain*, raising LLMTimeout when *timeout* seconds have passed since the
    call — a hard deadline even if the server stalls mid-stream (the stream runs in a worker
    that closes it, so the server stops generating, once the caller gave up)."""
    chunks: queue.Queue = queue.Queue()
    cancel = threading.Event()

    def work() -> None:
        stream = None
        try:
            stream = chain.stream(inputs)
            for chunk in stream:
                if cancel.is_set():
                    break
                chunks.put(("chunk", chunk))
            chunks.put(("done", None))
        except BaseException as exc:  # noqa: BLE001 — handed to the caller
            chunks.put(("error", exc))
        finally:
            if stream is not None:
                try:
                    stream.close()
                except Exception:  # noqa: BLE001
                    pass

    threading.Thread(target=work, name="llm-stream", daemon=True).start()
    deadline = time.monotonic() + timeout
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LLMTimeout(f"no complete answer within {timeout:g} s")
            try:
                kind, value = chunks.get(timeout=remaining)
            except queue.Empty:
                raise LLMTimeout(f"no complete answer within {timeout:g} s") from None
            if kind == "done":
                return
            if kind == "error":
                raise LLMError(f"{type(value).__name__}: {value}") from value
            yield value
    finally:
        cancel.set()


def _clean_rewrite(text: str, previous: str, question: str) -> str | None:
    """The rewritten question, if it looks like one about this conversation."""
    lines = [ln for ln in (_FENCE.sub("", text) or "").splitlines() if ln.strip()]
    if not lines:
        return None
    q = re.sub(r"^(?:改寫後?的?(?:獨立)?問題|改寫|問題)\s*[::]\s*", "", lines[0].strip())
    q = q.replace("<<<", "").replace(">>>", "").strip().strip("「」“”\"")
    if not (2 <= len(q) <= 120) or not re.search(r"[\u4e00-\u9fff]", q):
        return None
    # It must be about what was asked: share a word with the previous question or the follow-up.
    if not set(bigrams(normalize(q))) & set(bigrams(normalize(previous + " " + question))):
        return None
    return q


class LLMAssistant:
    """The extractive :class:`Assistant` with LLM phrasing on top; same ``ask`` contract, plus
    :meth:`stream`. Attributes it does not define (``searcher``, ``answerer``, ``k``) are the
    core's, so it drops in wherever an Assistant is used."""

    def __init__(self, core: Assistant, config: LLMConfig, *, chat_model: Any | None = None):
        from langchain_core.output_parsers import StrOutputParser
        from langchain_core.prompts import ChatPromptTemplate

        self.core = core
        self.config = config
        self.chat_model = chat_model if chat_model is not None else make_chat_model(config)
        v = config.prompt_version
        answer_prompt = ChatPromptTemplate.from_messages(
            [("system", load_prompt("system", v)), ("human", load_prompt("answer", v))]
        )
        rewrite_prompt = ChatPromptTemplate.from_messages([("human", load_prompt("rewrite", v))])
        self.answer_chain = answer_prompt | self.chat_model | StrOutputParser()
        self.rewrite_chain = rewrite_prompt | self.chat_model | StrOutputParser()

    def __getattr__(self, name: str) -> Any:
        if name == "core":
            raise AttributeError(name)
        return getattr(self.core, name)

    # -- follow-ups ---------------------------------------------------------------------------
    def rewrite(self, question: str, history: Sequence[str]) -> str | None:
        """A follow-up rewritten as a standalone question, or None (the core's context
        handling then applies)."""
        previous = clean_question(history[-1])
        try:
            out = "".join(_stream_with_deadline(
                self.rewrite_chain, {"history": previous, "question": clean_question(question)},
                self.config.timeout,
            ))
        except LLMError as exc:
            log.warning("follow-up rewrite failed: %s", exc)
            return None
        return _clean_rewrite(out, previous, question)

    # -- answering ----------------------------------------------------------------------------
    def ask(self, question: str, history: Sequence[str] = (), k: int | None = None) -> Answer:
        answer = None
        for event in self.stream(question, history, k):
            if isinstance(event, Answer):
                answer = event
        assert answer is not None
        return answer

    def stream(self, question: str, history: Sequence[str] = (), k: int | None = None) -> Iterator[str | Answer]:
        """Yield verified sentences (``str``, each once its citations checked out) as the model
        writes them, then the final :class:`Answer`. A fallback Answer replaces whatever was
        streamed (its ``mode`` says so); the final Answer is always what to show."""
        t0 = time.perf_counter()
        k_out = k or self.core.k
        query, core_history, notes = question, history, []
        stripped = strip_instructions(clean_question(question))
        if stripped != clean_question(question):
            query = stripped
            notes.append("已略去問題中要求改變系統行為的文字。")
        rewrite_ms = 0.0
        if history and query and is_followup(query):
            t = time.perf_counter()
            rewritten = self.rewrite(query, history)
            rewrite_ms = (time.perf_counter() - t) * 1000
            if rewritten:
                query, core_history = rewritten, ()
                notes.append(f"追問理解為:「{rewritten}」")
        base = self.core.ask(query, core_history, k=max(k_out, self.config.context_clauses))
        base.question = question
        timing = {**base.timing_ms, "rewrite": round(rewrite_ms, 2)}
        if base.refused or not base.citations:  # the evidence floor refused: never ask the model
            yield self._finish(base, k_out, base.mode, [*notes, base.note], timing, t0)
            return

        script = user_script(question)
        context = build_context((base.citations + base.see_also)[: self.config.context_clauses],
                                self.config.context_chars)
        verifier = Verifier(context, query, script)
        inputs = {"context": render_context(context), "question": clean_question(query), "hint": base.answer}
        t1 = time.perf_counter()
        buffer, raw = "", []
        try:
            for chunk in _stream_with_deadline(self.answer_chain, inputs, self.config.timeout):
                raw.append(chunk)
                buffer += chunk
                if "\n" in buffer:
                    done, buffer = buffer.rsplit("\n", 1)
                    yield from verifier.feed(done)
            yield from verifier.feed(buffer)
            failure = None
        except LLMTimeout:
            failure = f"語言模型逾時({self.config.timeout:g}秒),以下為原文摘錄。"
        except LLMError as exc:
            log.warning("LLM answer failed: %s", exc)
            failure = "語言模型服務無法連線或出錯,以下為原文摘錄。"
        timing["llm"] = round((time.perf_counter() - t1) * 1000, 2)
        result = verifier.result
        log.debug("LLM output %r → kept %d, dropped %s", "".join(raw), len(result.sentences), result.dropped)
        if failure is None and not result.sentences:
            failure = "語言模型的回答沒有可核對的引文,以下為原文摘錄。"
        if failure:
            yield self._finish(base, k_out, MODE_FALLBACK, [*notes, failure, base.note], timing, t0)
            return
        cited = verifier.citations()
        cited_ids = {c.id for c in cited}
        others = [c for c in base.citations + base.see_also if c.id not in cited_ids]
        note = "回答由語言模型依所引條文整理,引文已逐字核對。"
        if result.dropped:
            note += f"另有{len(result.dropped)}句無法核對,已刪去。"
        llm_answer = Answer(
            question=question,
            answer=result.text,
            refused=False,
            citations=cited,
            see_also=others,
            confidence=base.confidence,
            mode=MODE_LLM,
        )
        yield self._finish(llm_answer, k_out, MODE_LLM, [*notes, note, base.note], timing, t0)

    @staticmethod
    def _finish(answer: Answer, k: int, mode: str, notes: list[str], timing: dict, t0: float) -> Answer:
        answer.mode = mode
        answer.note = " ".join(n for n in notes if n)
        answer.see_also = answer.see_also[: max(0, k - len(answer.citations))]
        answer.timing_ms = {**timing, "total": round((time.perf_counter() - t0) * 1000, 2)}
        return answer


def wrap(core: Assistant, settings: Settings) -> Assistant | LLMAssistant:
    """The core as is when no LLM server is configured, else wrapped in LLM phrasing."""
    config = LLMConfig.from_settings(settings)
    return core if config is None else LLMAssistant(core, config)
