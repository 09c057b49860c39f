"""Corpus → clauses: the full structure of the seed corpus is pinned, plus the cleaning rules."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import pytest

from assistant.corpus.parse import parse_text
from assistant.corpus.records import Clause, Corpus
from assistant.corpus.store import load_corpus

CORPUS_DIR = Path(__file__).resolve().parent.parent / "corpus"
SOURCE_LINES = (CORPUS_DIR / "guidelines.txt").read_text(encoding="utf-8").splitlines()

# (sections, subsections, clauses incl. preamble) per document, checked by hand against the text.
STRUCTURE = {"d1": (3, 0, 12), "d2": (3, 10, 25), "d3": (3, 6, 23), "d4": (6, 0, 23), "d5": (4, 0, 10)}

CLAUSE_IDS = {
    "d1": [
        "d1-s0-c1", "d1-s0-c2", "d1-s1-c1", "d1-s1-c2", "d1-s1-c3",
        "d1-s2-c1", "d1-s2-c2", "d1-s2-c3", "d1-s3-c1", "d1-s3-c2",
        "d1-s3-c3", "d1-s3-c4",
    ],
    "d2": [
        "d2-s0-c1", "d2-s1-ss1", "d2-s1-ss2", "d2-s2-ss3-c1", "d2-s2-ss3-c2",
        "d2-s2-ss3-c3", "d2-s2-ss3-c4", "d2-s2-ss3-c5", "d2-s2-ss4-c1", "d2-s2-ss4-c2",
        "d2-s2-ss4-c3", "d2-s2-ss4-c4", "d2-s2-ss5-c1", "d2-s2-ss5-c2", "d2-s2-ss5-c3",
        "d2-s2-ss6-c1", "d2-s2-ss6-c2", "d2-s2-ss6-c3", "d2-s2-ss7-c1", "d2-s2-ss7-c2",
        "d2-s2-ss7-c3", "d2-s2-ss7-c4", "d2-s3-ss8", "d2-s3-ss9", "d2-s3-ss10",
    ],
    "d3": [
        "d3-s0-c1", "d3-s1-ss1", "d3-s1-ss2", "d3-s2-ss1-c1", "d3-s2-ss1-c2",
        "d3-s2-ss1-c3", "d3-s2-ss2-c4", "d3-s2-ss2-c5", "d3-s2-ss2-c6", "d3-s2-ss2-c7",
        "d3-s2-ss2-c8", "d3-s2-ss2-c9", "d3-s2-ss3-c10", "d3-s2-ss3-c11", "d3-s2-ss3-c12",
        "d3-s2-ss3-c13", "d3-s2-ss3-c14", "d3-s2-ss4-c15", "d3-s2-ss4-c16", "d3-s2-ss4-c17",
        "d3-s3-c1", "d3-s3-c2", "d3-s3-c3",
    ],
    "d4": [
        "d4-s0-c1", "d4-s1-c1", "d4-s1-c2", "d4-s1-c3", "d4-s2-c4",
        "d4-s2-c5", "d4-s2-c6", "d4-s3-c7", "d4-s3-c8", "d4-s3-c9",
        "d4-s3-c10", "d4-s4-c11", "d4-s4-c12", "d4-s4-c13", "d4-s4-c14",
        "d4-s5-c15", "d4-s5-c16", "d4-s5-c17", "d4-s5-c18", "d4-s6-c19",
        "d4-s6-c20", "d4-s6-c21", "d4-s6-c22",
    ],
    "d5": [
        "d5-s0-c1", "d5-s1-c1", "d5-s2-c1", "d5-s3-c1", "d5-s3-c2",
        "d5-s3-c3", "d5-s3-c4", "d5-s4-c1", "d5-s4-c2", "d5-s4-c3",
    ],
}

# Source lines (1-based) that belong to no clause: document metadata …
METADATA_LINES = {
    1, 2, 3, 4, 18, 19, 20, 21,  # d1: heading, doc number, title, addressees, 主題詞…校對人
    22, 23, 56, 57,  # d2: heading, title, signature, date
    58, 59, 60, 61, 62,  # d3: heading, issuer, title over three lines
    94, 95, 96, 97, 98,  # d4: heading, web-page header, title, (征求意見稿)
    131, 132,  # d5: heading, title + addressees
}
# … and section/subsection headings standing on their own line.
HEADING_LINES = {
    7, 27, 28, 34, 39, 43, 47, 52, 64, 67, 68, 72, 79, 85, 89,
    100, 104, 108, 114, 120, 126, 134, 136, 138, 143,
}

# A page number left between Chinese characters: 「自身建 1 設」, 「村、11 企業」.
PAGE_ARTEFACT = re.compile(r"[\u4e00-\u9fff、,。]\s*\d{1,3}\s+[\u4e00-\u9fff]|[\u4e00-\u9fff]\s+\d{1,3}\s*[\u4e00-\u9fff]")
CJK_SPACE = re.compile(r"[\u4e00-\u9fff]\s+[\u4e00-\u9fff]")
ID_RE = re.compile(r"^d(\d+)-s(\d+)(?:-ss(\d+))?(?:-c(\d+))?$")


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return load_corpus(CORPUS_DIR)


def _line_numbers(clause: Clause) -> list[int]:
    return [SOURCE_LINES.index(line) + 1 for line in clause.original.split("\n")]


# --- structure ---------------------------------------------------------------------------------


def test_documents(corpus: Corpus) -> None:
    docs = {d.id: d for d in corpus.documents}
    assert list(docs) == ["d1", "d2", "d3", "d4", "d5"]
    assert [d.number for d in corpus.documents] == [1, 2, 3, 4, 5]
    assert docs["d1"].title == "關于進一步加強市、縣級紅十字會組織建設的指導意見"
    assert docs["d1"].heading == "關于進一步加強市縣紅十字組織建設的指導意見"
    assert docs["d1"].doc_number == "紅總字〔2010〕72號"
    assert docs["d1"].date == "2010-09-13"
    assert docs["d2"].issuer == "中共云和縣委" and docs["d2"].date == "2011-10-09"
    assert docs["d3"].title == "關于實施“四項工程”進一步加強黨的基層組織建設的意見"
    assert docs["d3"].issuer == "中共三河市委" and docs["d3"].date is None
    assert docs["d4"].title == "關于加強鄉鎮紀檢組織建設的指導意見"
    assert docs["d4"].heading == "鄉鎮紀檢組織建設指導意見"
    assert docs["d4"].status == "征求意見稿" and docs["d4"].date == "2011-07-14"
    assert all(d.source == "guidelines.txt" for d in corpus.documents)


def test_metadata_file_matches_text() -> None:
    meta = json.loads((CORPUS_DIR / "documents.json").read_text(encoding="utf-8"))
    headings = [line.split(":", 1)[1] for line in SOURCE_LINES if re.match(r"^第.篇:", line)]
    assert [meta[str(n)]["heading"] for n in range(1, 6)] == headings
    assert all(meta[str(n)]["id"] == f"d{n}" and meta[str(n)]["notes"] for n in range(1, 6))


@pytest.mark.parametrize("doc_id", list(STRUCTURE))
def test_structure_per_document(corpus: Corpus, doc_id: str) -> None:
    clauses = corpus.by_doc(doc_id)
    sections = {c.section_no for c in clauses if c.section_no}
    subsections = {(c.section_no, c.subsection_no) for c in clauses if c.subsection_no}
    assert (len(sections), len(subsections), len(clauses)) == STRUCTURE[doc_id]
    assert [c.id for c in clauses] == CLAUSE_IDS[doc_id]


def test_total_and_order(corpus: Corpus) -> None:
    assert len(corpus.clauses) == 93 == sum(n for *_, n in STRUCTURE.values())
    assert [c.order for c in corpus.clauses] == list(range(93))
    assert [c.id for c in corpus.clauses] == [i for ids in CLAUSE_IDS.values() for i in ids]


def test_ids_agree_with_fields(corpus: Corpus) -> None:
    for c in corpus.clauses:
        m = ID_RE.match(c.id)
        assert m, c.id
        assert f"d{m[1]}" == c.doc_id and int(m[2]) == c.section_no
        assert (int(m[3]) if m[3] else None) == c.subsection_no
        assert (int(m[4]) if m[4] else None) == c.clause_no
        assert (c.section == "前言") == (c.section_no == 0)


def test_ids_unique_and_stable(corpus: Corpus) -> None:
    ids = [c.id for c in corpus.clauses]
    assert len(ids) == len(set(ids))
    text = "\n".join(SOURCE_LINES)
    meta = json.loads((CORPUS_DIR / "documents.json").read_text(encoding="utf-8"))
    assert parse_text(text, meta, "guidelines.txt") == parse_text(text, meta, "guidelines.txt")
    assert list(corpus.clauses) == parse_text(text, meta, "guidelines.txt")[1]


def test_numbering_kinds(corpus: Corpus) -> None:
    # doc 1 and the single-paragraph sections of doc 5 are unnumbered paragraphs (第N段)
    assert not any(c.numbered for c in corpus.by_doc("d1"))
    assert [c.numbered for c in corpus.by_doc("d5")] == [False] * 3 + [True] * 7
    body = corpus.clause("d2-s1-ss1")
    assert (body.clause_no, body.numbered, body.subsection) == (None, False, "(一)指導思想")
    # doc 3 numbering runs 1–17 across the subsections of 二, printed numbers kept
    assert [c.clause_no for c in corpus.by_doc("d3") if c.section_no == 2] == list(range(1, 18))


# --- labels ------------------------------------------------------------------------------------


def test_labels(corpus: Corpus) -> None:
    assert corpus.clause("d4-s2-c6").label == (
        "《關于加強鄉鎮紀檢組織建設的指導意見》二、進一步健全鄉鎮紀檢組織 › 第6條"
    )
    assert corpus.clause("d2-s2-ss3-c1").label == (
        "《關于進一步加強農村基層組織建設的意見》二、進一步加強農村基層組織建設的具體舉措"
        " › (三)建設生態班子,選好配強新農村建設帶頭人隊伍 › 第1條"
    )
    assert corpus.clause("d2-s1-ss1").label == (
        "《關于進一步加強農村基層組織建設的意見》一、進一步加強農村基層組織建設的指導思想和主要目標"
        " › (一)指導思想"
    )
    assert corpus.clause("d1-s3-c4").label == (
        "《關于進一步加強市、縣級紅十字會組織建設的指導意見》"
        "三、采取有效措施,推動理順管理體制工作取得成效 › 第4段"
    )
    assert corpus.clause("d1-s0-c2").label.endswith("》前言 › 第2段")


# --- text --------------------------------------------------------------------------------------


def test_clause_boundaries(corpus: Corpus) -> None:
    c6 = corpus.clause("d4-s2-c6").text
    assert "任滿10年的必須交流" in c6
    assert "督促農村基層黨組織" not in c6 and "鄉鎮紀檢組織主要職責" not in c6
    c7 = corpus.clause("d4-s3-c7").text
    assert c7.startswith("鄉鎮紀檢組織主要職責。")
    assert c7.endswith("完成上級紀檢監察機關交給的其他工作任務。")
    assert corpus.clause("d4-s4-c12").text.endswith("促進鄉鎮紀檢組織和紀檢干部認真履行職責。")
    assert "切實發揮紀律檢查和行政監察兩項職能" in corpus.clause("d4-s5-c17").text
    assert "建立穩固充足的黨建經費來源。同時,市委還將" in corpus.clause("d3-s3-c2").text


def test_headings_sharing_a_line(corpus: Corpus) -> None:
    c = corpus.clause("d1-s2-c1")
    assert c.section == "二、完成目標任務,積極推動基層紅十字會建設"
    assert c.text.startswith("努力完成規劃目標。要按照")
    c = corpus.clause("d1-s3-c1")
    assert c.section == "三、采取有效措施,推動理順管理體制工作取得成效"
    assert c.text.startswith("大力開展宣傳工作。")
    c = corpus.clause("d2-s1-ss1")
    assert c.section == "一、進一步加強農村基層組織建設的指導思想和主要目標"
    assert c.text.startswith("全面貫徹黨的十七大")
    assert corpus.clause("d2-s3-ss10").subsection == "(十)不斷深化“三級聯創”和“先鋒工程”創建活動"
    assert corpus.clause("d3-s1-ss1").text.startswith("黨的基層組織是黨的全部工作")


def test_no_headings_or_neighbours_in_text(corpus: Corpus) -> None:
    for c in corpus.clauses:
        assert not re.match(r"^(\d{1,2}[、.]|[一二三四五六七八九十]+、|[((][一二三四五六七八九十]+[))])", c.text), c.id
        if c.section_no:
            assert not c.text.startswith(c.section.split("、", 1)[1]), c.id
        if c.subsection:
            assert not c.text.startswith(c.subsection[3:]), c.id
        for other in corpus.clauses:
            if other is not c:
                assert other.text[:20] not in c.text, (c.id, other.id)


def test_clean_text(corpus: Corpus) -> None:
    for c in corpus.clauses:
        assert c.text and c.text == c.text.strip(), c.id
        assert not PAGE_ARTEFACT.search(c.text), c.id
        assert not CJK_SPACE.search(c.text), c.id
        assert "臵" not in c.text and "?" not in c.text, c.id
    d3 = "".join(c.text for c in corpus.by_doc("d3"))
    for fixed in ("自身建設", "有能人可選", "建立聯系", "村、企業", "其他干部", "進行獎勵", "抓基層黨建",
                  "集聚優勢", "全程監督", "工作崗位", "周期性", "領導干部", "經批準", "設置"):
        assert fixed in d3, fixed
    assert "要加大外出培訓力度,即:組織1/3" in corpus.clause("d3-s2-ss2-c4").text
    d2 = "".join(c.text for c in corpus.by_doc("d2"))
    for fixed in ("召開會議", "以獎代補", "深化村兩委", "集中上一次黨課", "等制度,按照"):
        assert fixed in d2, fixed


def test_real_numbers_kept(corpus: Corpus) -> None:
    d3 = "".join(c.text for c in corpus.by_doc("d3"))
    for number in ("1/3", "3-5個", "12371", "4+2+4", "1:1", "30萬元", "2010年", "80%", "100名"):
        assert number in d3, number
    d2 = "".join(c.text for c in corpus.by_doc("d2"))
    for number in ("2012年", "80%", "106萬元", "12天", "50名"):
        assert number in d2, number
    assert "2010-2014" in corpus.clause("d1-s1-c3").text
    assert "任職不到2年" in corpus.clause("d4-s2-c6").text


def test_simplified_leftovers_kept(corpus: Corpus) -> None:
    text = "".join(c.text for c in corpus.clauses)
    assert "干部" in text and "關于" in text and "規范" in text


def test_metadata_not_in_clauses(corpus: Corpus) -> None:
    text = "".join(c.text for c in corpus.clauses)
    for meta in ("紅總字", "主題詞", "印發", "校對人", "文章來源", "發布日期", "征求意見稿",
                 "各省、自治區、直轄市紅十字會,新疆", "各高中、機關各股室", "中共云和縣委"):
        assert meta not in text, meta


# --- provenance --------------------------------------------------------------------------------


def test_original_is_verbatim_and_covers_every_body_line(corpus: Corpus) -> None:
    covered: dict[int, str] = {}
    for c in corpus.clauses:
        for line in c.original.split("\n"):
            assert line in SOURCE_LINES, c.id  # verbatim
        for n in _line_numbers(c):
            assert n not in covered, f"line {n} in both {covered[n]} and {c.id}"
            covered[n] = c.id
    uncovered = set(range(1, len(SOURCE_LINES) + 1)) - set(covered)
    assert uncovered == METADATA_LINES | HEADING_LINES
    headings = {c.section for c in corpus.clauses} | {c.subsection for c in corpus.clauses}
    for n in HEADING_LINES:  # heading-only lines surface as a clause's section/subsection
        assert SOURCE_LINES[n - 1].rstrip("。") in headings, n
    assert _line_numbers(corpus.clause("d4-s3-c7")) == [109, 110]
    assert _line_numbers(corpus.clause("d3-s3-c2")) == [91, 92]
    assert corpus.clause("d1-s2-c1").original == SOURCE_LINES[10]  # heading kept in provenance


def test_sha(corpus: Corpus) -> None:
    c = corpus.clause("d4-s2-c6")
    assert c.sha == hashlib.sha256((c.id + c.text).encode("utf-8")).hexdigest()
    assert len({c.sha for c in corpus.clauses}) == len(corpus.clauses)


# --- API ---------------------------------------------------------------------------------------


def test_lookup_errors(corpus: Corpus) -> None:
    with pytest.raises(KeyError, match="d9-s1-c1"):
        corpus.clause("d9-s1-c1")
    with pytest.raises(KeyError, match="d9"):
        corpus.by_doc("d9")


def test_load_corpus_cache_and_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.settings import Settings

    assert load_corpus() is load_corpus(CORPUS_DIR)  # default dir is the repo's corpus/
    for name in ("guidelines.txt", "documents.json"):
        shutil.copy(CORPUS_DIR / name, tmp_path / name)
    monkeypatch.setenv("ASSISTANT_CORPUS", str(tmp_path))
    assert load_corpus() is load_corpus(CORPUS_DIR)  # the corpus layer never reads the environment
    where = Settings.from_env().corpus_dir  # the settings root does
    assert where == tmp_path
    copy = load_corpus(where)
    assert copy is load_corpus(where) and copy.clauses == load_corpus(CORPUS_DIR).clauses
    text = tmp_path / "guidelines.txt"
    text.write_text(text.read_text(encoding="utf-8").replace("任滿10年", "任滿8年"), encoding="utf-8")
    os.utime(text, ns=(text.stat().st_atime_ns, text.stat().st_mtime_ns + 10**9))
    assert "任滿8年" in load_corpus(where).clause("d4-s2-c6").text  # mtime change → re-parsed


# --- rules beyond the seed ---------------------------------------------------------------------

SYNTHETIC = """\
第一篇:測試意見
測試機關
關于加強測試工作的 意見
各單位、各部門:
為做好測試工作,現提出如下意見。
一、總體要求(一)指導思想。堅持以人為本,全面 推進工作。
(二)主要目標。到2012年完成80%的任務。
二、主要措施 加強組織領導。各單位要高度重視。
建立健全制度,完善工作機制,確保 3 落實到位。
(三)強化保障
1、加大投入,設臵專項經費。市財政每年安排30萬元,用于
開展培訓
。同時,各單位要配套資金,?,確保專款專用。
2.完善考核。按1/3比例、12 人次抽查,每年3-5個單位,村、7 企業。
三、組織 實施
1、落實責任。各級黨組織要抓好落實。
主題詞:測試 意見
2011年10月9日
第二篇:另一份意見
一、唯一一節
10、只有一條。
測試機關
"""


def test_synthetic_document() -> None:
    meta = {"1": {"id": "d1", "title": "關于加強測試工作的意見", "heading": "測試意見"}}
    docs, clauses = parse_text(SYNTHETIC, meta, "synthetic.txt")
    assert [(d.id, d.title, d.source) for d in docs] == [
        ("d1", "關于加強測試工作的意見", "synthetic.txt"),
        ("d2", "另一份意見", "synthetic.txt"),  # no metadata: heading is the title
    ]
    by_id = {c.id: c for c in clauses}
    assert list(by_id) == [
        "d1-s0-c1", "d1-s1-ss1", "d1-s1-ss2", "d1-s2-c1", "d1-s2-c2",
        "d1-s2-ss3-c1", "d1-s2-ss3-c2", "d1-s3-c1", "d2-s1-c10",
    ]
    assert by_id["d1-s1-ss1"].section == "一、總體要求"
    assert by_id["d1-s1-ss1"].subsection == "(一)指導思想"
    assert by_id["d1-s1-ss1"].text == "堅持以人為本,全面推進工作。"
    assert by_id["d1-s2-c1"].section == "二、主要措施"
    assert by_id["d1-s2-c1"].text == "加強組織領導。各單位要高度重視。"
    assert by_id["d1-s2-c2"].text == "建立健全制度,完善工作機制,確保落實到位。"
    assert by_id["d1-s2-c2"].label == "《關于加強測試工作的意見》二、主要措施 › 第2段"
    assert by_id["d1-s2-ss3-c1"].text == (
        "加大投入,設置專項經費。市財政每年安排30萬元,用于開展培訓。同時,各單位要配套資金,確保專款專用。"
    )
    assert by_id["d1-s2-ss3-c1"].original.count("\n") == 2
    assert by_id["d1-s2-ss3-c2"].text == "完善考核。按1/3比例、12 人次抽查,每年3-5個單位,村、企業。"
    assert by_id["d1-s3-c1"].section == "三、組織實施"
    assert by_id["d1-s3-c1"].text == "落實責任。各級黨組織要抓好落實。"  # trailer not appended
    assert by_id["d2-s1-c10"].label == "《另一份意見》一、唯一一節 › 第10條"


def test_metadata_heading_mismatch_is_an_error() -> None:
    with pytest.raises(ValueError, match="heading"):
        parse_text(SYNTHETIC, {"1": {"heading": "別的意見"}}, "synthetic.txt")


def test_duplicate_numbers_are_an_error() -> None:
    with pytest.raises(ValueError, match="duplicate clause ids"):
        parse_text("第一篇:甲\n一、節\n1、第一條。\n1、又一條。\n", {}, "dup.txt")
