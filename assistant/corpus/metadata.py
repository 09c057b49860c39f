"""Document metadata detected from a file's own lines: title, issuer, date, doc number, status."""

from __future__ import annotations

import re

from assistant.corpus.parse import (
    _CJK,
    ARTICLE_RE,
    CHAPTER_RE,
    CLAUSE_RE,
    SECTION_RE,
    SUBSECTION_RE,
    _is_preamble_prose,
    clean_text,
    cn_numeral,
    enactment_events,
    is_enactment,
)

# --- metadata detection ------------------------------------------------------------------------

META_FIELDS = ("title", "issuer", "date", "doc_number", "status")

# 「紅總字〔2010〕72號」, 「云委發[2011]58号」; the seed's transcoding turned 〔〕 into 「?」.
DOC_NUMBER_RE = re.compile(
    rf"(?P<prefix>[{_CJK}]{{1,12}})\s*[〔\[【((??]\s*(?P<year>(?:19|20)\d\d)\s*[〕\]】))??]"
    r"\s*(?P<no>\d{1,4})\s*(?P<hao>[號号])"
)
_CN_DATE_DIGITS = {ch: i for i, ch in enumerate("〇一二三四五六七八九")} | {"零": 0, "○": 0, "O": 0}
DATE_LINE_RE = re.compile(r"^(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日$")
CN_DATE_LINE_RE = re.compile(
    r"^(?P<y>[〇○零一二三四五六七八九]{4})年(?P<m>[一二三四五六七八九十]{1,2})月(?P<d>[一二三四五六七八九十]{1,3})日$"
)
# A web page's header: 「發布日期:2011-07-14」.
PUBLISHED_RE = re.compile(
    r"(?:發布|发布|印發|印发|成文)?日期\s*[::]\s*(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})"
)
STATUS_RE = re.compile(r"^[((](?P<status>征求意見稿|征求意见稿|討論稿|讨论稿|送審稿|送审稿|草案|試行|试行|暫行|暂行)[))]$")
_DRAFT_SUFFIX_RE = re.compile(r"[((](?P<status>征求意見稿|征求意见稿|討論稿|讨论稿|送審稿|送审稿|草案)[))]$")
TITLE_END_RE = re.compile(
    r"(意見|意见|通知|辦法|办法|規定|规定|決定|决定|方案|細則|细则|條例|条例|指引|規劃|规划|綱要|纲要"
    r"|準則|准则|制度|規則|规则|指南|章程|措施|計劃|计划|報告|报告|批復|批复|通報|通报|要點|要点|函"
    r"|標準|标准|守則|守则|辦法|決議|决议)(?:[((][^))]{1,8}[))])?$"
)
ISSUER_RE = re.compile(
    rf"^[{_CJK}()()]{{2,30}}(委|委員會|委员会|政府|總會|总会|辦公室|办公室|機關|机关|局|廳|厅|部|院|會|会"
    rf"|中心|處|处|辦|办|組|组|黨組|党组|支部|總支|总支)$"
)
_WEB_HEADER_RE = re.compile(r"來源|来源|點擊|点击|瀏覽|浏览|作者[::]|發布日期|发布日期|字號|字号|打印|關閉|关闭")
_HEADER_ZONE_MAX = 15  # lines looked at for title/doc number before the first heading or sentence


def _iso(y: int, m: int, d: int) -> str | None:
    import datetime

    try:
        return datetime.date(y, m, d).isoformat()
    except ValueError:
        return None


def _date_of(line: str) -> str | None:
    """ISO date of a line that is only a date (「2011年10月9日」, 「二〇一〇年九月十三日」)."""
    line = re.sub(r"\s+", "", line)
    if m := DATE_LINE_RE.match(line):
        return _iso(int(m["y"]), int(m["m"]), int(m["d"]))
    if m := CN_DATE_LINE_RE.match(line):
        year = int("".join(str(_CN_DATE_DIGITS[c]) for c in m["y"]))
        return _iso(year, cn_numeral(m["m"]), cn_numeral(m["d"]))
    return None


def _is_structure(line: str) -> bool:
    return bool(
        SECTION_RE.match(line) or SUBSECTION_RE.match(line) or CLAUSE_RE.match(line)
        or CHAPTER_RE.match(line) or ARTICLE_RE.match(line)
    )


def detect_metadata(lines: list[str]) -> dict[str, str | None]:
    """Title, issuer, date (ISO), doc number and status (征求意見稿…) as printed in a document's
    own lines, each None when the text does not show it. Looks at the header (the lines before
    the first heading or sentence) and the closing block (signature and date lines at the end)."""
    stripped = [ln.strip() for ln in lines if ln.strip()]
    header: list[str] = []
    for line in stripped[:_HEADER_ZONE_MAX]:
        if _is_structure(line) or _is_preamble_prose(line):
            break
        header.append(line)
    trailer: list[str] = []
    for line in reversed(stripped):
        if "。" in line or _is_structure(line) or len(trailer) >= 8:
            break
        trailer.insert(0, line)

    meta: dict[str, str | None] = dict.fromkeys(META_FIELDS)
    for line in header + trailer:
        if m := DOC_NUMBER_RE.search(line):
            meta["doc_number"] = f"{m['prefix']}〔{m['year']}〕{m['no']}{m['hao']}"
            break
    for line in reversed(trailer):  # the signing date closes the document
        if date := _date_of(line):
            meta["date"] = date
            break
    else:
        for line in header:
            if date := _date_of(line):
                meta["date"] = date
                break
            if m := PUBLISHED_RE.search(line):
                meta["date"] = _iso(int(m["y"]), int(m["m"]), int(m["d"]))
                break
        else:  # a law: the version in force dates from its latest enactment or amendment note
            events = [e for line in header + trailer if is_enactment(line) for e in enactment_events(line)]
            if events:
                meta["date"] = max(date for date, _ in events)
    signatures = [ln for ln in trailer if ISSUER_RE.match(re.sub(r"\s+", "", ln))]
    if signatures:
        meta["issuer"] = clean_text(signatures[-1])

    # Title: the first run of header lines that ends like a title (「…的意見」), lines joined
    # (a title may be set over several lines); an issuer line printed above it is not part of it.
    runs: list[list[str]] = [[]]
    for line in header:
        # 「…工作的意見 各高中、機關各股室:」: a title sharing its line with the addressees.
        if line.endswith((":", ":")) and (m := re.match(r"^(?P<title>\S+)\s+\S+[::]$", line)):
            if TITLE_END_RE.search(m["title"]):
                runs[-1].append(m["title"])
                runs.append([])
                continue
        if (
            DOC_NUMBER_RE.search(line) or _date_of(line) or STATUS_RE.match(line) or is_enactment(line)
            or _WEB_HEADER_RE.search(line) or line.endswith((":", ":")) or len(line) > 80
        ):
            if m := STATUS_RE.match(line):
                meta["status"] = m["status"]
            runs.append([])
        else:
            runs[-1].append(line)
    for run in filter(None, runs):
        while len(run) > 1 and ISSUER_RE.match(re.sub(r"\s+", "", run[0])):
            if meta["issuer"] is None:
                meta["issuer"] = clean_text(run[0])
            run = run[1:]
        # 「4關于…」: a web header's wrapped tail glued to the title.
        title = re.sub(r"^\d+(?=[關关])", "", clean_text("".join(run)))
        if m := _DRAFT_SUFFIX_RE.search(title):
            meta["status"] = meta["status"] or m["status"]
            title = title[: m.start()].rstrip()
        if TITLE_END_RE.search(title):
            meta["title"] = title
            break
    else:
        first = next((r[0] for r in runs if r), None)
        if first and not ISSUER_RE.match(first):
            meta["title"] = clean_text(first)
    return meta
