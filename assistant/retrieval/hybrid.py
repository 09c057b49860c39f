"""Question → ranked clauses: BM25 over script-normalised bigrams fused with dense (Chroma) hits.

Traditional and Simplified questions retrieve alike: BM25 compares :func:`text.normalize`d
(OpenCC ``t2s``) question and clause text; the embedding model sees the question in each
document's own script (:func:`text.in_script`: ``s2tw`` for the Traditional guidelines, ``t2s`` for
a Simplified law a user added) and the clauses as written.
(Measured on dev: t2s on both sides of the dense half lost hit@1 0.953 → 0.944; raw questions
gave 4 of 185 eval questions a different outcome in the other script; s2tw gives none and the
same metrics; evals/README.md.) The fused ranking is exposed to LangChain as
:class:`GuidelineRetriever`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import shutil
import sys
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
from cachetools import LRUCache

from assistant.corpus.records import Clause, Document
from assistant.index.store import ClauseStore, passage, sentence_id
from assistant.retrieval import segment
from assistant.text import TRADITIONAL, bigrams, in_script, normalize, script_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Hit:
    clause: Clause
    score: float  # fused score, higher is better
    bm25: float  # BM25 score normalised to [0, 1] by the best hit of this query
    dense: float  # cosine similarity of question and clause embeddings


@dataclass
class Stats:
    """Bigram document frequencies over a set of passages: the IDF weights of the answer step."""

    df: Counter[str]
    n: int  # passages counted
    _idf: dict[str, float] = field(default_factory=dict, repr=False, compare=False)  # memo

    def idf(self, term: str) -> float:
        """Smoothed IDF; a term absent weighs the most (it is what the guidelines would have to
        mention to answer). Memoised: the answer step asks the same terms many times per question."""
        if (v := self._idf.get(term)) is None:
            if len(self._idf) >= 200_000:  # a long-running server meets ever new terms
                self._idf.clear()
            v = self._idf[term] = math.log((self.n + 1) / (self.df.get(term, 0) + 0.5))
        return v

    def word_df(self, word: str) -> int:
        """How many passages contain *word*, bounded by its rarest bigram (exact for the words
        that matter, and O(1) at any corpus size)."""
        return min((self.df.get(g, 0) for g in bigrams(word)), default=0)

    def word_idf(self, word: str) -> float:
        return math.log((self.n + 1) / (self.word_df(word) + 0.5))


@dataclass
class Lexicon:
    """Bigram statistics of the clauses: BM25 index plus document frequencies for IDF weights,
    over the whole corpus and per source file (:meth:`scope`)."""

    clauses: Sequence[Clause]
    documents: Sequence[Document] = ()
    texts: dict[str, str] = field(init=False)  # clause id → normalised passage
    df: Counter[str] = field(init=False)
    bm25: bm25s.BM25 = field(init=False)
    words: bm25s.BM25 = field(init=False)  # the same passages as jieba words (search mode)
    stats: Stats = field(init=False)  # over every passage
    sources: dict[str, Stats] = field(init=False)  # per source file (guidelines.txt, an added law…)

    def __post_init__(self) -> None:
        docs = {d.id: d for d in self.documents}
        self.texts = {c.id: normalize(passage(c, docs.get(c.doc_id))) for c in self.clauses}
        # One string per distinct bigram (interned), not one per occurrence, and the token
        # lists dropped once indexed: 2.65 → 0.97 GB RSS at 100k clauses (bench: growth).
        terms = [[sys.intern(t) for t in bigrams(self.texts[c.id])] for c in self.clauses]
        self.df = Counter(t for ts in terms for t in set(ts))
        self.stats = Stats(self.df, len(self.clauses))
        self._source = {d.id: d.source for d in self.documents}
        per: dict[str, Counter[str]] = {}
        counts: Counter[str] = Counter()
        for c, ts in zip(self.clauses, terms):
            src = self._source.get(c.doc_id, "")
            per.setdefault(src, Counter()).update(set(ts))
            counts[src] += 1
        self.sources = {src: Stats(df, counts[src]) for src, df in per.items()}
        self.bm25 = bm25s.BM25(k1=1.2, b=0.75)
        self.bm25.index(terms, show_progress=False)
        del terms
        self.words = bm25s.BM25(k1=1.2, b=0.75)
        self.words.index([[sys.intern(w) for w in segment.search_words(self.texts[c.id])] for c in self.clauses],
                         show_progress=False)

    # -- persisted beside the embedded index (issue 16: 100k clauses took minutes at every start)
    def save(self, directory: Path) -> None:
        """Write this lexicon into *directory* (a new, empty one): the BM25 matrices, the word
        statistics and the :func:`lexicon_key` of the passages it was built from."""
        directory.mkdir(parents=True)
        self.bm25.save(str(directory / "bm25"), show_progress=False)
        self.words.save(str(directory / "words"), show_progress=False)
        stats = {"n": self.stats.n, "df": self.df,
                 "sources": {src: [st.n, st.df] for src, st in self.sources.items()}}
        with open(directory / STATS_FILE, "w", encoding="utf-8") as fh:
            json.dump(stats, fh, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def load(cls, directory: Path, clauses: Sequence[Clause], documents: Sequence[Document] = ()) -> Lexicon:
        """The lexicon saved in *directory* for *clauses* (BM25 memory-mapped; the normalised
        passages are computed when first asked for, as :meth:`__post_init__` computes them)."""
        with open(directory / STATS_FILE, encoding="utf-8") as fh:
            stats = json.load(fh)
        bm25 = bm25s.BM25.load(str(directory / "bm25"), mmap=True, show_progress=False)
        words = bm25s.BM25.load(str(directory / "words"), mmap=True, show_progress=False)
        if bm25.scores["num_docs"] != len(clauses) or words.scores["num_docs"] != len(clauses):
            raise ValueError("the saved BM25 index holds another number of passages")
        self = cls.__new__(cls)
        self.clauses, self.documents = clauses, documents
        self.texts = _Texts(clauses, documents)  # type: ignore[assignment]
        self.df = Counter(stats["df"])
        self.stats = Stats(self.df, stats["n"])
        self._source = {d.id: d.source for d in documents}
        self.sources = {src: Stats(Counter(df), n) for src, (n, df) in stats["sources"].items()}
        self.bm25, self.words = bm25, words
        return self

    def scope(self, clause: Clause) -> Stats:
        """The statistics a clause is weighed with: those of its own source file. A file is
        published as a whole (the seed record's five guidelines, one law), so how rare a word is
        there is what makes it distinctive, and adding other files changes nothing about it:
        the seed's answers do not drift when laws are added (the growth gate)."""
        return self.sources.get(self._source.get(clause.doc_id, ""), self.stats)

    def idf(self, term: str) -> float:
        return self.stats.idf(term)

    def word_df(self, word: str) -> int:
        return self.stats.word_df(word)

    def word_idf(self, word: str) -> float:
        return self.stats.word_idf(word)

    def scores(self, question_terms: list[str]) -> np.ndarray:
        """BM25 of every passage for the question's bigrams."""
        if not question_terms:
            return np.zeros(len(self.clauses), dtype=np.float32)
        return self.bm25.get_scores(question_terms)

    def word_scores(self, normalized_question: str) -> np.ndarray:
        """BM25 of every passage for the question's jieba words."""
        words = segment.search_words(normalized_question)
        if not words:
            return np.zeros(len(self.clauses), dtype=np.float32)
        return self.words.get_scores(words)


STATS_FILE = "stats.json"
LEXICON = "lexicon.json"  # in the index directory: {"key": lexicon_key, "dir": the files' directory}
LEXICON_FORMAT = 3  # bump when normalize/bigrams/search_words/BM25 parameters change what a saved lexicon holds


class _Texts(Mapping[str, str]):
    """Clause id → normalised passage, computed on first use (a loaded lexicon need not
    normalise 100k passages at start-up; the answer step reads a few per question)."""

    def __init__(self, clauses: Sequence[Clause], documents: Sequence[Document]):
        self._clauses = {c.id: c for c in clauses}
        self._docs = {d.id: d for d in documents}
        self._done: dict[str, str] = {}

    def __getitem__(self, key: str) -> str:
        if (text := self._done.get(key)) is None:
            c = self._clauses[key]
            text = self._done[key] = normalize(passage(c, self._docs.get(c.doc_id)))
        return text

    def __iter__(self) -> Iterator[str]:
        return iter(self._clauses)

    def __len__(self) -> int:
        return len(self._clauses)


_PROBE = "我想問一下,鄉鎮紀委書記任滿10年的是不是必須交流?「三會一課」每季度開幾次?"


def lexicon_key(clauses: Sequence[Clause], documents: Sequence[Document] = ()) -> str:
    """Content hash of what a lexicon is built from: each clause's id, source file and passage,
    in order (and the format). A saved lexicon with another key is stale."""
    docs = {d.id: d for d in documents}
    # The word-level BM25's terms of a probe sentence: a change to how passages are cut into
    # words (jieba, its dictionary, the stopwords) makes a saved lexicon stale by itself.
    probe = "/".join(segment.search_words(normalize(_PROBE)))
    h = hashlib.sha256(f"lexicon {LEXICON_FORMAT} {bm25s.__version__} {probe}\n".encode())
    for c in clauses:
        d = docs.get(c.doc_id)
        h.update(f"{c.id}\0{d.source if d else ''}\0{passage(c, d)}\0".encode())
    return h.hexdigest()


def _pointer(directory: Path) -> dict[str, str] | None:
    try:
        with open(directory / LEXICON, encoding="utf-8") as fh:
            got = json.load(fh)
        return got if isinstance(got, dict) else None
    except (OSError, ValueError):
        return None


def load_lexicon(directory: Path | None, clauses: Sequence[Clause], documents: Sequence[Document] = ()) -> Lexicon:
    """The lexicon saved in the index *directory* when it was built from exactly these passages;
    otherwise (none, stale, unreadable) one built in memory. Never writes."""
    ptr = _pointer(Path(directory)) if directory is not None else None
    if ptr and ptr.get("key") == lexicon_key(clauses, documents) and (name := ptr.get("dir")):
        with contextlib.suppress(Exception):  # a torn or foreign file: build it instead
            return Lexicon.load(Path(directory) / Path(str(name)).name, clauses, documents)
    if ptr:  # saved by another version or for another corpus: every start pays for building it
        log.warning("the BM25 index saved in %s is stale (another version or corpus): it is built "
                    "in memory at every start until `assistant index` saves it again", directory)
    return Lexicon(clauses, documents)


def _lexicon_current(directory: Path, key: str) -> bool:
    """Whether the index *directory* points at a saved lexicon with this :func:`lexicon_key`."""
    ptr = _pointer(Path(directory))
    return bool(ptr and ptr.get("key") == key and (Path(directory) / f"lexicon-{key[:16]}").is_dir())


def lexicon_saved(directory: Path, clauses: Sequence[Clause], documents: Sequence[Document] = ()) -> bool:
    """Whether the index *directory* holds the lexicon of exactly these passages, and the
    answer step's jieba dictionary (:mod:`assistant.retrieval.segment`) of the installed jieba."""
    segment.use_saved(Path(directory))  # the key cuts a probe sentence: on the saved table, no jieba load
    return _lexicon_current(directory, lexicon_key(clauses, documents)) and segment.words_saved(Path(directory)) and segment.verbs_saved(Path(directory))


def save_lexicon(directory: Path, clauses: Sequence[Clause], documents: Sequence[Document] = ()) -> bool:
    """Persist the lexicon of these passages in the index *directory* (the caller holds the
    index's write lock), unless the one there is already theirs. The files go to a new
    ``lexicon-<key>`` directory, then ``lexicon.json`` is replaced atomically to point at it, then
    older ones are removed. The jieba dictionary's table is saved beside it when missing or stale.
    True if anything was written."""
    directory = Path(directory)
    wrote = segment.save_words(directory)
    segment.use_saved(directory)  # the word-level BM25 below segments on it, no jieba load
    key = lexicon_key(clauses, documents)  # hashes every passage (~1 s at 100k): once
    if _lexicon_current(directory, key):
        return wrote
    name = f"lexicon-{key[:16]}"
    shutil.rmtree(directory / name, ignore_errors=True)
    Lexicon(clauses, documents).save(directory / name)
    tmp = directory / f".{LEXICON}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump({"key": key, "dir": name}, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, directory / LEXICON)
    for old in directory.glob("lexicon-*"):
        if old.name != name:
            shutil.rmtree(old, ignore_errors=True)
    return True


# Share of the lexical half taken by the word-level BM25 (the rest: bigrams). Fitted, not set:
# over {0, .25, .5, .75, 1} the 515 development questions (dev, heldout, fresh, dev2, dev4; with
# the three laws added dev2_laws, dev3_laws) are answered right 459/459/461/463/462 times; leaving
# one document out (9 folds: the five guidelines, the three laws, the unanswerables), every fold
# picks 0.75 on the others and the held-out questions get 463 right against 459 at 0 (the gold
# clause ranked first: 388 against 383).
WORD_WEIGHT = 0.75


class HybridSearcher:
    """BM25 + dense retrieval with a weighted fusion of per-query normalised scores."""

    def __init__(
        self,
        clauses: Sequence[Clause],
        store: ClauseStore | None,
        embedder: Any | None,
        documents: Sequence[Document] = (),
        *,
        # 0.5 and sentence_weight 0.5 are the cross-validated choice on the 944 development
        # questions of the seventh session (right answers, dense .4/.5/.6/.7: 809/810/810/808;
        # sentence .3/.5/.7: 803/810/810; leaving one document out, every fold but one picks .5/.5).
        dense_weight: float = 0.5,
        fusion: str = "weighted",
        rrf_k: int = 60,
        dense_k: int = 50,
        sentence_weight: float = 0.5,
        word_weight: float = WORD_WEIGHT,
        lexicon_dir: Path | None = None,
    ):
        self.clauses = list(clauses)
        self.by_id = {c.id: i for i, c in enumerate(self.clauses)}
        # Questions (and a lexicon built here) are segmented on the saved dictionary: no jieba load.
        segment.use_saved(lexicon_dir)
        # The index directory's saved lexicon when it is this corpus's (identical scores), else built.
        self.lexicon = load_lexicon(lexicon_dir, self.clauses, documents)
        self.store = store
        self.embedder = embedder
        self.dense_weight = dense_weight if store is not None else 0.0
        self.fusion = fusion
        self.rrf_k = rrf_k
        self.dense_k = dense_k
        # Share of the dense half taken by the clause's best sentence. Measured on dev, dev2 and
        # held-out at 0, .25, .5, .75: dev and held-out unchanged, dev2 hit@1 .894 → .903 → .912 →
        # .912, answer .767 → .776 (from .25 on); .5 is the middle of the plateau.
        self.sentence_weight = sentence_weight
        self.word_weight = word_weight
        # Sentence vectors are content-addressed (immutable per id): cache what was fetched.
        self._sentence_cache: LRUCache[str, np.ndarray] = LRUCache(maxsize=self.SENTENCE_CACHE)
        self._last_vectors: tuple[str, dict[str, np.ndarray]] | None = None
        self._owner_rows: tuple[list[str], np.ndarray] | None = None  # sentence row → clause index
        # The script each document is written in. The model gives a question in the other script
        # a lower cosine (a Traditional question against a Simplified law fell under the
        # off-topic floor), so each clause is compared with the question in its own script.
        texts: dict[str, list[str]] = {}
        for c in self.clauses:
            texts.setdefault(c.doc_id, []).append(c.text)
        doc_script = {d: script_of("".join(t)) for d, t in texts.items()}
        self._script = [doc_script.get(c.doc_id, TRADITIONAL) for c in self.clauses]
        self.scripts = sorted(set(self._script)) or [TRADITIONAL]
        # Per script, which clauses are written in it (built once: at 100k clauses turning the
        # list into an array took ~8 ms, twice per question).
        scripts = np.array(self._script)
        self._in_script = {s: scripts == s for s in self.scripts}

    def script(self, clause: Clause) -> str:
        """The script of the document *clause* belongs to."""
        i = self.by_id.get(clause.id)
        return self._script[i] if i is not None else TRADITIONAL

    def _query_vectors(self, question: str) -> dict[str, np.ndarray]:
        """The question's embedding in each script the corpus is written in (one when it is
        all one script, as the seed is: nothing changes for it)."""
        last = self._last_vectors  # one question asks for them three times (clauses, sentences, answer)
        if last is not None and last[0] == question:
            return last[1]
        vectors = {s: self.embedder.encode_queries([in_script(question, s)])[0] for s in self.scripts}
        for v in vectors.values():
            v.setflags(write=False)  # shared by the threads that ask the same question
        self._last_vectors = (question, vectors)
        return vectors

    def sentence_scores(self, question: str) -> np.ndarray | None:
        """Per clause, the cosine of the question with its best sentence among the nearest
        ``4 * dense_k`` sentences (others get the farthest of those): a paraphrase close to one
        sentence of a long clause is found even when the clause as a whole is not. None when
        the store holds no sentence vectors."""
        if self.store is None or self.embedder is None:
            return None
        sims = np.zeros(len(self.clauses), dtype=np.float32)
        if (exact := self.store.sentence_matrix()) is not None:
            return self._sentence_scores_exact(question, *exact, sims)
        found = False
        for s, vector in self._query_vectors(question).items():
            hits = self.store.query_sentences(vector, 4 * self.dense_k)
            found = found or bool(hits)
            mine = self._in_script[s]
            if hits:
                sims[mine] = hits[-1][1]
            best: dict[int, float] = {}
            for cid, sim in hits:
                i = self.by_id.get(cid)
                if i is not None and mine[i] and sim > best.get(i, -1.0):
                    best[i] = sim
            for i, sim in best.items():
                sims[i] = sim
        return sims if found else None

    def _sentence_scores_exact(self, question: str, owners: list[str], matrix: np.ndarray,
                               sims: np.ndarray) -> np.ndarray | None:
        """:meth:`sentence_scores` over a sentence matrix held in memory, in one product: the
        same numbers (a clause whose best sentence is among the ``4 * dense_k`` nearest gets its
        cosine, every other clause the farthest of those), ~0.4 ms less per question than
        listing the nearest sentences."""
        if not len(owners):
            return None
        if self._owner_rows is None or self._owner_rows[0] is not owners:
            self._owner_rows = (owners, np.array([self.by_id.get(c, -1) for c in owners], dtype=np.int64))
        rows = self._owner_rows[1]
        known = rows >= 0  # rows of this corpus's clauses
        rows_known = rows[known]
        k = min(4 * self.dense_k, len(owners))
        for s, vector in self._query_vectors(question).items():
            all_sims = matrix @ np.asarray(vector, dtype=np.float32).reshape(-1)
            kth = np.partition(all_sims, len(all_sims) - k)[len(all_sims) - k]  # the k-th nearest
            mine = self._in_script[s]
            sims[mine] = kth
            best = np.full(len(self.clauses), -np.inf, dtype=np.float32)
            np.maximum.at(best, rows_known, all_sims[known])
            near = mine & (best >= kth)
            sims[near] = best[near]
        return sims

    def dense_scores(self, question: str) -> np.ndarray:
        """Cosine similarity of the question with its ``dense_k`` nearest clauses; every other
        clause gets the k-th similarity, so it rescales to 0 in the fusion as the farthest clause
        did when all were fetched. (Fetching all N clauses from Chroma per question grows with N:
        ~3 s at 100k clauses; see evals/reports/bench.json.)"""
        sims = np.zeros(len(self.clauses), dtype=np.float32)
        if self.store is None or self.embedder is None:
            return sims
        for s, vector in self._query_vectors(question).items():
            hits = self.store.query(vector, k=min(self.dense_k, len(self.clauses)))
            mine = self._in_script[s]
            if hits:
                sims[mine] = hits[-1][1]
            for cid, sim in hits:
                i = self.by_id.get(cid)
                if i is not None and mine[i]:
                    sims[i] = sim
        return sims

    SENTENCE_CACHE = 20_000

    def sentence_similarity(self, question: str, sentences: Sequence[tuple[str, str]]) -> list[float | None]:
        """Cosine similarity of the question with each (clause id, sentence text), from the
        store's sentence collection; None where the store has no vector for it (a store synced
        without sentences, or no store at all)."""
        if self.store is None or self.embedder is None or not sentences:
            return [None] * len(sentences)
        ids = [sentence_id(cid, text) for cid, text in sentences]
        cache = self._sentence_cache
        missing = [i for i in dict.fromkeys(ids) if i not in cache]
        if missing:
            cache.update(self.store.sentence_vectors(missing))  # the least recently used go
        vectors = self._query_vectors(question)
        scripts = [self._script[self.by_id[cid]] if cid in self.by_id else TRADITIONAL for cid, _ in sentences]
        return [float(cache[i] @ vectors[s]) if i in cache else None for i, s in zip(ids, scripts)]

    def search(self, question: str, k: int = 5) -> list[Hit]:
        q = normalize(question)
        lex = self.lexicon.scores(bigrams(q))
        lex_norm = _over_best(lex)
        if self.word_weight > 0:
            # Bigrams match across word boundaries (「的村」) and miss nothing; words weigh what a
            # question names as a word. Each scaled by its best passage, then mixed.
            words = _over_best(self.lexicon.word_scores(q))
            lex_norm = (1 - self.word_weight) * lex_norm + self.word_weight * words
        dense = self.dense_scores(question)
        if self.fusion == "rrf":
            fused = _rrf(lex_norm, self.rrf_k) + (_rrf(dense, self.rrf_k) if self.dense_weight else 0)
        else:
            # Dense cosines of e5 sit in a narrow band (≈0.75–0.9): rescale against the best.
            d_norm = _minmax(dense)
            # Multi-granularity: the dense half also finds a clause by its best sentence.
            if self.sentence_weight > 0 and (sent := self.sentence_scores(question)) is not None:
                d_norm = (1 - self.sentence_weight) * d_norm + self.sentence_weight * _minmax(sent)
            fused = (1 - self.dense_weight) * lex_norm + self.dense_weight * d_norm
        order = top_k(fused, k)
        return [
            Hit(self.clauses[i], float(fused[i]), float(lex_norm[i]), float(dense[i])) for i in order
        ]


def _over_best(x: np.ndarray) -> np.ndarray:
    """Scores as a share of the best one (all zero when nothing scored): BM25 per query."""
    best = x.max()
    return x / best if best > 0 else x


def _minmax(x: np.ndarray) -> np.ndarray:
    """Rescale against the best (e5 cosines sit in a narrow band, ≈0.75–0.9)."""
    d = x - x.min() if x.max() > 0 else x
    return d / d.max() if d.max() > 0 else d


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the *k* highest scores, best first: exactly ``np.argsort(-scores,
    kind="stable")[:k]`` (ties in index order) without sorting every clause."""
    n = len(scores)
    if k >= n:
        return np.argsort(-scores, kind="stable")[:k]
    kth = np.partition(scores, n - k)[n - k]
    cand = np.flatnonzero(scores >= kth)
    return cand[np.argsort(-scores[cand], kind="stable")][:k]


def _rrf(scores: np.ndarray, k: int) -> np.ndarray:
    ranks = np.empty(len(scores), dtype=np.float32)
    ranks[np.argsort(-scores, kind="stable")] = np.arange(1, len(scores) + 1)
    return 1.0 / (k + ranks)


def _guideline_retriever() -> type:
    """Built on first use: importing langchain_core costs ~1 s of every cold start."""
    from langchain_core.callbacks import CallbackManagerForRetrieverRun
    from langchain_core.documents import Document as LCDocument
    from langchain_core.retrievers import BaseRetriever
    from pydantic import ConfigDict

    class GuidelineRetriever(BaseRetriever):
        """LangChain face of :class:`HybridSearcher`: clauses as ``Document``s with their citation
        metadata, for chains (e.g. the optional LLM answerer) that take a retriever."""

        model_config = ConfigDict(arbitrary_types_allowed=True)
        searcher: HybridSearcher
        k: int = 5

        def _get_relevant_documents(
            self, query: str, *, run_manager: CallbackManagerForRetrieverRun
        ) -> list[LCDocument]:
            return [
                LCDocument(
                    page_content=h.clause.text,
                    id=h.clause.id,
                    metadata={
                        "id": h.clause.id,
                        "label": h.clause.label,
                        "doc_id": h.clause.doc_id,
                        "score": h.score,
                        "bm25": h.bm25,
                        "dense": h.dense,
                    },
                )
                for h in self.searcher.search(query, self.k)
            ]
    return GuidelineRetriever


def __getattr__(name: str):
    if name == "GuidelineRetriever":  # `from assistant.retrieve import GuidelineRetriever` works
        cls = globals()["GuidelineRetriever"] = _guideline_retriever()
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
