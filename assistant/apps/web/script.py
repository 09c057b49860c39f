"""Traditional or Simplified for display (issue 13, item 2): the guidelines are mainland documents
transcribed into Traditional, so a Simplified reader sees them converted with OpenCC ``t2s``; what
is copied (「複製引用」, 「複製回答」, the exports) stays the original wording."""

from __future__ import annotations

from functools import lru_cache

from assistant.text import converter, is_cjk

TRADITIONAL, SIMPLIFIED = "繁", "简"
SCRIPTS = (TRADITIONAL, SIMPLIFIED)


def to_script(text: str, script: str | None) -> str:
    """*text* as shown in *script*: Simplified converts with OpenCC ``t2s``; Traditional is the
    original (the corpus and the interface are written in Traditional)."""
    return converter("t2s").convert(text) if script == SIMPLIFIED and text else text


def question_script(question: str) -> str | None:
    """The script *question* is written in, or None when its characters are the same in both
    (「干部」) or it has none."""
    if not any(is_cjk(ch) for ch in question):
        return None
    if converter("t2s").convert(question) != question:
        return TRADITIONAL
    if converter("s2t").convert(question) != question:
        return SIMPLIFIED
    return None


@lru_cache(maxsize=1)
def char_table() -> dict[str, str]:
    """Every CJK character OpenCC ``t2s`` writes differently on its own: the page script converts
    the fixed interface (labels, buttons) with it; answers, cards, 瀏覽條文 and the 測驗 tab's
    quiz are converted here, phrase by phrase (:func:`to_script`)."""
    t2s = converter("t2s")
    table = {}
    for code in range(0x4E00, 0xA000):
        ch = chr(code)
        out = t2s.convert(ch)
        if out != ch and len(out) == 1 and ord(out) < 0x10000:
            table[ch] = out
    return table
