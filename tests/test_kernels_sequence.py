"""Sequence kernels (normalisation, embedding, matmul, attention, reshaping) against plain loops, on seeded random shapes."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_kernels import close, rand

from flopcount import kernels

# ---------------------------------------------------------------- loop references


def loop_layer_norm(x, gamma, beta, axes, eps):
    rows = x.reshape(-1, math.prod(x.shape[-axes:])).tolist()
    g = None if gamma is None else gamma.reshape(-1).tolist()
    b = None if beta is None else beta.reshape(-1).tolist()
    out = []
    for row in rows:
        mu = sum(row) / len(row)
        var = sum((v - mu) ** 2 for v in row) / len(row)
        normed = [(v - mu) / math.sqrt(var + eps) for v in row]
        out.append([v * (g[i] if g else 1.0) + (b[i] if b else 0.0) for i, v in enumerate(normed)])
    return np.array(out).reshape(x.shape)


def loop_rms_norm(x, gamma, eps):
    out = []
    for row in x.reshape(-1, x.shape[-1]).tolist():
        rms = math.sqrt(sum(v * v for v in row) / len(row) + eps)
        out.append([v / rms * (1.0 if gamma is None else float(gamma[i])) for i, v in enumerate(row)])
    return np.array(out).reshape(x.shape)


def loop_matmul(a, b):
    """(B, m, k) @ (B, k, n) with plain sums."""
    out = np.zeros((a.shape[0], a.shape[1], b.shape[2]))
    for i, r, c in itertools.product(range(a.shape[0]), range(a.shape[1]), range(b.shape[2])):
        out[i, r, c] = sum(float(a[i, r, t]) * float(b[i, t, c]) for t in range(a.shape[2]))
    return out


def loop_rotate(vec, position, base):
    """One head vector rotated pair by pair: feature i with feature i + d/2."""
    d = len(vec)
    half = d // 2
    out = list(vec)
    for i in range(half):
        angle = position * base ** (-2 * i / d)
        c, s = math.cos(angle), math.sin(angle)
        out[i] = vec[i] * c - vec[i + half] * s
        out[i + half] = vec[i + half] * c + vec[i] * s
    return out


def loop_attention(x, memory, w, heads, kv_heads, head_dim, causal, cache, rotary_base):
    """Attention written out: one query, one head, one key at a time."""
    n, lq, _ = x.shape
    x64 = x.astype(np.float64)
    src = x64 if memory is None else memory.astype(np.float64)
    lk = src.shape[1]

    def project(a, kernel, bias):
        out = a @ kernel.astype(np.float64)
        return out if bias is None else out + bias

    if memory is None:
        qkv = project(x64, w["qkv_kernel"], w.get("qkv_bias"))
        q, kv = qkv[..., : heads * head_dim], qkv[..., heads * head_dim :]
    else:
        q = project(x64, w["q_kernel"], w.get("q_bias"))
        kv = project(src, w["kv_kernel"], w.get("kv_bias"))
    k, v = kv[..., : kv_heads * head_dim], kv[..., kv_heads * head_dim :]
    past = 0 if cache is None else cache[0].shape[1]
    group = heads // kv_heads
    out = np.zeros((n, lq, heads * head_dim))
    for b in range(n):
        for h in range(heads):
            g = h // group  # the key/value head this head reads
            keys, values = [], []
            if cache is not None:
                for p in range(past):
                    keys.append([float(t) for t in cache[0][b, p, g]])
                    values.append([float(t) for t in cache[1][b, p, g]])
            for j in range(lk):
                key = list(k[b, j, g * head_dim : (g + 1) * head_dim])
                keys.append(loop_rotate(key, past + j, rotary_base) if rotary_base else key)
                values.append(list(v[b, j, g * head_dim : (g + 1) * head_dim]))
            for i in range(lq):
                query = list(q[b, i, h * head_dim : (h + 1) * head_dim])
                if rotary_base:
                    query = loop_rotate(query, past + i, rotary_base)
                seen = range(len(keys)) if not causal else range(min(len(keys), past + i + 1))
                scores = [sum(a * c for a, c in zip(query, keys[j])) / math.sqrt(head_dim) for j in seen]
                top = max(scores)
                exps = [math.exp(s - top) for s in scores]
                for t in range(head_dim):
                    out[b, i, h * head_dim + t] = sum(e * values[j][t] for e, j in zip(exps, seen)) / sum(exps)
    return project(out, w["out_kernel"], w.get("out_bias"))


# ---------------------------------------------------------------- normalisation


@pytest.mark.parametrize("axes", [1, 2])
@pytest.mark.parametrize("gamma, beta", [(True, True), (True, False), (False, False)])
def test_layer_norm(axes, gamma, beta):
    rng = np.random.default_rng(20 + axes)
    x = rand(rng, 2, 5, 3, 4) * 3 + 1
    shape = x.shape[-axes:]
    g, b = (rand(rng, *shape) if gamma else None), (rand(rng, *shape) if beta else None)
    close(kernels.layer_norm(x, g, b, axes, 1e-5), loop_layer_norm(x, g, b, axes, 1e-5))


@pytest.mark.parametrize("gamma", [True, False])
def test_rms_norm(gamma):
    rng = np.random.default_rng(22)
    x = rand(rng, 2, 6, 8) * 2
    g = rand(rng, 8) if gamma else None
    close(kernels.rms_norm(x, g, 1e-6), loop_rms_norm(x, g, 1e-6))


def test_norms_refuse_weights_that_do_not_fit():
    x = np.ones((1, 3, 4), np.float32)
    with pytest.raises(ValueError, match=r"layer norm gamma of shape \(3,\)"):
        kernels.layer_norm(x, np.ones(3, np.float32), None, 1, 1e-5)
    with pytest.raises(ValueError, match="RMS norm gamma"):
        kernels.rms_norm(x, np.ones(5, np.float32), 1e-5)


# ---------------------------------------------------------------- embedding


def test_embedding_looks_up_rows():
    rng = np.random.default_rng(23)
    table = rand(rng, 11, 4)
    ids = rng.integers(0, 11, (2, 5)).astype(np.int32)
    out = kernels.embedding(ids, table)
    expected = [[[float(table[ids[b, i], d]) for d in range(4)] for i in range(5)] for b in range(2)]
    close(out, expected)


class RowBlocks:
    """A table handed over in row blocks, as the runner's TiledWeight does for large weights."""

    def __init__(self, table, step):
        self.table, self.step, self.shape, self.dtype = table, step, table.shape, table.dtype

    def row_blocks(self):
        for r in range(0, self.shape[0], self.step):
            yield slice(r, min(r + self.step, self.shape[0])), self.table[r : r + self.step]


def test_embedding_from_row_blocks_equals_the_whole_table():
    rng = np.random.default_rng(24)
    table = rand(rng, 23, 3)
    ids = rng.integers(0, 23, (3, 7)).astype(np.int64)
    close(kernels.embedding(ids, RowBlocks(table, 5)), table[ids])


@pytest.mark.parametrize(
    "ids, message", [(np.zeros((1, 2), np.float32), "must be integers"), (np.array([[0, 9]]), r"\[0, 9\)")]
)
def test_embedding_refuses_floats_and_ids_outside_the_vocabulary(ids, message):
    with pytest.raises(ValueError, match=message):
        kernels.embedding(ids, np.zeros((9, 2), np.float32))


# ---------------------------------------------------------------- matmul


@pytest.mark.parametrize("transpose_a, transpose_b", list(itertools.product([False, True], repeat=2)))
def test_matmul_either_operand_transposed(transpose_a, transpose_b):
    rng = np.random.default_rng(25)
    a, b = rand(rng, 3, 4, 5), rand(rng, 3, 5, 2)  # (batch, m, k) and (batch, k, n)
    a_in = np.ascontiguousarray(np.swapaxes(a, 1, 2)) if transpose_a else a
    b_in = np.ascontiguousarray(np.swapaxes(b, 1, 2)) if transpose_b else b
    with kernels.metering() as meter:
        out = kernels.matmul(a_in, b_in, transpose_a, transpose_b)
    close(out, loop_matmul(a, b))
    assert meter.macs == 3 * 4 * 5 * 2


@settings(max_examples=25, deadline=None)
@given(
    batch=st.lists(st.integers(1, 3), max_size=2),
    m=st.integers(1, 4),
    k=st.integers(1, 4),
    n=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_matmul_random_batched_shapes(batch, m, k, n, seed):
    rng = np.random.default_rng(seed)
    a, b = rand(rng, *batch, m, k), rand(rng, *batch, k, n)
    with kernels.metering() as meter:
        out = kernels.matmul(a, b)
    flat = loop_matmul(a.reshape(-1, m, k), b.reshape(-1, k, n))
    close(out, flat.reshape(*batch, m, n))
    assert meter.macs == math.prod(batch) * m * k * n


def test_matmul_refuses_inner_sizes_that_differ():
    with pytest.raises(ValueError, match="cannot multiply"):
        kernels.matmul(np.zeros((1, 2, 3), np.float32), np.zeros((1, 2, 3), np.float32))


# ---------------------------------------------------------------- attention


def attention_weights(rng, d, heads, kv_heads, head_dim, d_out, bias, cross_width=None):
    w = {}
    if cross_width is None:
        w["qkv_kernel"] = rand(rng, d, (heads + 2 * kv_heads) * head_dim) / math.sqrt(d)
        if bias:
            w["qkv_bias"] = rand(rng, (heads + 2 * kv_heads) * head_dim)
    else:
        w["q_kernel"] = rand(rng, d, heads * head_dim) / math.sqrt(d)
        w["kv_kernel"] = rand(rng, cross_width, 2 * kv_heads * head_dim) / math.sqrt(cross_width)
        if bias:
            w["q_bias"], w["kv_bias"] = rand(rng, heads * head_dim), rand(rng, 2 * kv_heads * head_dim)
    w["out_kernel"] = rand(rng, heads * head_dim, d_out) / math.sqrt(heads * head_dim)
    if bias:
        w["out_bias"] = rand(rng, d_out)
    return w


ATTENTION = {
    # id: (heads, kv_heads, head_dim, causal, cache length, rotary, cross width, bias)
    "mha": (2, 2, 3, False, 0, False, None, True),
    "gqa-causal": (4, 2, 2, True, 0, False, None, False),
    "mqa-causal": (3, 1, 4, True, 0, False, None, True),
    "decode-cache": (2, 2, 2, True, 4, False, None, True),
    "gqa-cache-rotary": (4, 2, 4, True, 3, True, None, False),
    "rotary": (2, 1, 6, False, 0, True, None, True),
    "cross": (2, 1, 3, False, 0, False, 5, True),
}


@pytest.mark.parametrize("config", ATTENTION.values(), ids=ATTENTION)
def test_attention(config):
    heads, kv_heads, head_dim, causal, past, rotary, cross, bias = config
    rng = np.random.default_rng(26 + heads + past)
    n, lq, d, d_out = 2, 3, 5, 4
    x = rand(rng, n, lq, d)
    memory = None if cross is None else rand(rng, n, 6, cross)
    w = attention_weights(rng, d, heads, kv_heads, head_dim, d_out, bias, cross)
    cache = (rand(rng, n, past, kv_heads, head_dim), rand(rng, n, past, kv_heads, head_dim)) if past else None
    base = 10000.0 if rotary else None
    with kernels.metering() as meter:
        out = kernels.attention(x, memory, w, heads, kv_heads, head_dim, causal, cache, base)
    close(out, loop_attention(x, memory, w, heads, kv_heads, head_dim, causal, cache, base))
    lk = lq if memory is None else memory.shape[1]
    keys = past + lk
    projections = lq * d * heads * head_dim + lk * (d if cross is None else cross) * 2 * kv_heads * head_dim
    # QK^T and AV: every head multiplies its queries with every key, the full product even when causal
    assert meter.macs == n * (projections + 2 * heads * lq * keys * head_dim + lq * heads * head_dim * d_out)


def test_causal_attention_ignores_later_positions():
    """Changing the last position's input leaves every earlier output unchanged."""
    rng = np.random.default_rng(27)
    x = rand(rng, 1, 5, 4)
    w = attention_weights(rng, 4, 2, 1, 2, 4, True)
    y = x.copy()
    y[0, -1] += 10
    a, b = (kernels.attention(v, None, w, 2, 1, 2, causal=True) for v in (x, y))
    close(a[:, :-1], b[:, :-1].astype(np.float64))
    assert not np.allclose(a[:, -1], b[:, -1])


# ---------------------------------------------------------------- reshaping, slicing, mean, activations


def test_reshape_and_transpose_follow_row_major_order():
    rng = np.random.default_rng(28)
    x = rand(rng, 2, 3, 4, 5)
    r = kernels.reshape(x, (12, 5))
    t = kernels.transpose(x, (2, 0, 1))
    for b, i, j, c in itertools.product(range(2), range(3), range(4), range(5)):
        assert r[b, i * 4 + j, c] == x[b, i, j, c]
        assert t[b, c, i, j] == x[b, i, j, c]


@pytest.mark.parametrize("axis, start, stop, step", [(0, 0, 1, 1), (1, 1, 4, 2), (2, 2, 5, 1), (0, 1, 3, 1)])
def test_slice(axis, start, stop, step):
    x = rand(np.random.default_rng(29), 2, 3, 4, 5)
    out = kernels.slice_axis(x, axis, start, stop, step)
    picked = list(range(start, stop, step))
    assert out.shape[axis + 1] == len(picked)
    for pos, src in enumerate(picked):
        close(np.take(out, pos, axis=axis + 1), np.take(x, src, axis=axis + 1))


def test_select_takes_one_position_and_drops_its_axis():
    x = rand(np.random.default_rng(30), 2, 7, 3)
    out = kernels.select(x, 0, 0)
    assert out.shape == (2, 3)
    close(out, [[float(x[b, 0, c]) for c in range(3)] for b in range(2)])


@pytest.mark.parametrize("axes, keepdims", [((0,), False), ((0, 1), False), ((1,), True), ((0, 2), True)])
def test_mean(axes, keepdims):
    x = rand(np.random.default_rng(31), 2, 3, 4, 5)
    out = kernels.mean(x, axes, keepdims)
    kept = [i for i in range(3) if i not in axes]
    expected = np.zeros((2, *(x.shape[i + 1] for i in kept)))
    for idx in itertools.product(*(range(s) for s in expected.shape)):
        values = [
            float(x[(idx[0], *full)])
            for full in itertools.product(*(range(x.shape[i + 1]) for i in range(3)))
            if all(full[a] == idx[1 + kept.index(a)] for a in kept)
        ]
        expected[idx] = sum(values) / len(values)
    if keepdims:
        expected = np.expand_dims(expected, tuple(a + 1 for a in axes))
    close(out, expected)


@pytest.mark.parametrize("fn", ["gelu", "gelu_tanh", "silu", "elu", "relu"])
def test_activations_in_pieces_equal_the_whole(monkeypatch, fn):
    from test_kernels import scalar_activation

    x = rand(np.random.default_rng(33), 3, 5, 4) * 4
    x[0, 0, :3] = [-100.0, 100.0, 0.0]
    monkeypatch.setattr(kernels, "ACTIVATION_CHUNK", 7)  # 60 elements in 9 pieces, the last one short
    out = kernels.activation(x, fn, 0.5)
    assert out.shape == x.shape
    close(out, np.vectorize(lambda v: scalar_activation(float(v), fn, 0.5))(x))
