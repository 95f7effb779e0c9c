"""shardbench's index-addressable generator (harness/core/generator.h) and the paths' definitions
(docs/semantics.md), written in PyTorch so tools/torch-run feeds a Python implementation exactly
shardbench's inputs and checks its outputs bit for bit.

The hash is splitmix64 on 64-bit integers. PyTorch has no unsigned 64-bit arithmetic, so the values
live in int64 tensors: additions, multiplications and XORs wrap the same way on the two's-complement
bits, and the logical right shift is an arithmetic shift with the sign bits masked off. Large tensors
are generated in row blocks, so the int64 intermediates stay small."""
from dataclasses import dataclass

import torch

MASK64 = (1 << 64) - 1
# Logits are generated this many elements at a time (each int64 intermediate is 8 bytes an element).
BLOCK_ELEMENTS = 1 << 24

LOGITS, HIDDEN, INPUT_IDS, ATTENTION_MASK, LOSS_MASK, POSITION = range(6)  # gen::source's order

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}


@dataclass
class Shape:
    """One point's shape, as shardbench's (harness/core/shape.h); dtype is w, the LM head's."""
    dtype: str = "bf16"
    tp: int = 1
    sp_ulysses: int = 1
    sp_ring: int = 1
    batch: int = 1
    seq: int = 1024
    vocab: int = 32000
    vocab_pad: int = 64
    hidden: int = 4096
    ttt: int = 7
    seed: int = 1

    @property
    def sp(self):
        return self.sp_ulysses * self.sp_ring

    @property
    def tokens(self):
        return self.batch * self.seq

    @property
    def vocab_padded(self):
        return -(-self.vocab // self.vocab_pad) * self.vocab_pad

    @property
    def vocab_local(self):
        return self.vocab_padded // self.tp


def _s64(u):
    """An unsigned 64-bit constant as the int64 with the same bits."""
    u &= MASK64
    return u - (1 << 64) if u >= 1 << 63 else u


def _srl(x, k):
    """Logical right shift of int64 bits."""
    return (x >> k) & ((1 << (64 - k)) - 1)


_M1, _M2 = _s64(0xBF58476D1CE4E5B9), _s64(0x94D049BB133111EB)


def mix64(x):
    x = x ^ _srl(x, 30)
    x = x * _M1
    x = x ^ _srl(x, 27)
    x = x * _M2
    return x ^ _srl(x, 31)


def _mix64_int(x):
    x &= MASK64
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & MASK64
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & MASK64
    return x ^ (x >> 31)


def hash_grid(seed, source, a, b):
    """gen::hash(seed, source, a, b) for int64 tensors a and b (broadcast against each other)."""
    h0 = _mix64_int(seed * 0x9E3779B97F4A7C15 + source + 1)
    h = mix64(a + _s64(0x632BE59BD9B4E019) ^ _s64(h0))
    return mix64(h ^ (b * 0x85EBCA6B + _s64(0x27D4EB2F165667C5)))


_SCALE = [2.0 ** -e for e in range(11)]


def small_exact(h):
    """m·2^-e, |m| <= 128, 0 <= e <= 10, as float32 (exact in bf16, fp16 and fp32)."""
    m = (h & 0xFF) - 128
    e = _srl(h, 8) % 11
    scale = torch.tensor(_SCALE, dtype=torch.float32, device=h.device)
    return m.to(torch.float32) * scale[e]


def logits_block(seed, vocab, tokens, cols):
    """L[t, c] for int64 tensors tokens [R] and cols [C]: float32 [R, C], 0 on columns >= vocab."""
    v = small_exact(hash_grid(seed, LOGITS, tokens[:, None], cols[None, :]))
    return torch.where(cols[None, :] < vocab, v, torch.zeros((), dtype=torch.float32, device=v.device))


def _row_blocks(rows, cols):
    step = max(1, BLOCK_ELEMENTS // max(1, cols))
    for r0 in range(0, rows, step):
        yield r0, min(rows, r0 + step)


def input_shard(shape, rank, device):
    """Rank `rank`'s input L_rank [T, Vl] in the shape's dtype w."""
    T, Vl = shape.tokens, shape.vocab_local
    out = torch.empty(T, Vl, dtype=DTYPES[shape.dtype], device=device)
    cols = torch.arange(rank * Vl, (rank + 1) * Vl, dtype=torch.int64, device=device)
    for r0, r1 in _row_blocks(T, Vl):
        tokens = torch.arange(r0, r1, dtype=torch.int64, device=device)
        out[r0:r1] = logits_block(shape.seed, shape.vocab, tokens, cols)
    return out


class window:
    """Rows of an output definition (harness/core/layout_ops.h expected_spec): `windows` windows of
    `win_len` rows; row j of window w holds token tok_base + w·win_tok_stride + j + shift while
    j + shift < valid_len, else zeros."""

    def __init__(self, windows, win_len, tok_base, win_tok_stride, valid_len, shift, cols):
        self.windows, self.win_len, self.tok_base = windows, win_len, tok_base
        self.win_tok_stride, self.valid_len, self.shift, self.cols = win_tok_stride, valid_len, shift, cols

    def rows(self):
        return self.windows * self.win_len

    def tokens(self, r0, r1, device):
        """The token of each output row in [r0, r1), -1 for a zero row."""
        i = torch.arange(r0, r1, dtype=torch.int64, device=device)
        w, j = i // self.win_len, i % self.win_len
        t = self.tok_base + w * self.win_tok_stride + j + self.shift
        return torch.where(j + self.shift < self.valid_len, t, torch.full_like(t, -1))


def output_window(shape, path, rank):
    """The definition of rank `rank`'s output of `path` (docs/semantics.md)."""
    S = shape.seq
    if path == "baseline":
        return window(shape.batch, S, 0, S, S, 1, shape.vocab)
    if path == "batch":
        spr = -(-shape.batch // shape.tp)
        first = rank * spr
        n = max(0, min(shape.batch - first, spr))
        return window(n, S, first * S, S, S, 1, shape.vocab_padded)
    sp = shape.sp
    s, b = rank % sp, rank // sp
    chunk = S // sp
    lloc = chunk + shape.ttt
    return window(1, lloc, b * S + s * chunk, 0, min(lloc, S - s * chunk), 1, shape.vocab_padded)


def output_dims(shape, path, rank):
    """The output's shape: [B, S, V] (baseline), [n_r, S, Vp] (batch), [Lloc, Vp] (usp)."""
    w = output_window(shape, path, rank)
    return [w.win_len, w.cols] if path == "usp" else [w.windows, w.win_len, w.cols]


def expected_blocks(shape, path, rank, device):
    """The definition of the output, as (first flat row, float32 [rows, cols]) blocks in order."""
    w = output_window(shape, path, rank)
    cols = torch.arange(w.cols, dtype=torch.int64, device=device)
    for r0, r1 in _row_blocks(w.rows(), w.cols):
        t = w.tokens(r0, r1, device)
        v = logits_block(shape.seed, shape.vocab, t.clamp(min=0), cols)
        yield r0, torch.where(t[:, None] >= 0, v, torch.zeros((), dtype=torch.float32, device=device))


def compare(out, shape, path, rank):
    """(mismatches, first flat index, expected, actual) of out against the definition, bitwise
    (a NaN never matches); (0, -1, 0, 0) when it is the definition."""
    want = output_dims(shape, path, rank)
    if list(out.shape) != want or out.dtype != torch.float32:
        return 1, -1, f"float32 {want}", f"{str(out.dtype).replace('torch.', '')} {list(out.shape)}"
    flat = out.reshape(-1, out.shape[-1])
    count, first = 0, None
    for r0, exp in expected_blocks(shape, path, rank, out.device):
        got = flat[r0:r0 + exp.shape[0]]
        bad = got != exp  # NaN != NaN: a NaN never matches
        n = int(bad.sum())
        if n and first is None:
            k = int(bad.reshape(-1).nonzero()[0])
            first = (r0 * exp.shape[1] + k, float(exp.reshape(-1)[k]), float(got.reshape(-1)[k]))
        count += n
    return (count,) + first if count else (0, -1, 0.0, 0.0)
