"""The decoder, normalisation, routing, recurrent and any-rank pooling kernels against plain loops."""

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from test_kernels import close, rand

from flopcount import kernels


def positions(shape):
    return itertools.product(*(range(s) for s in shape))


# ---------------------------------------------------------------- transposed convolution


def loop_conv_transpose(x, kernel, bias, stride, pads, dilation, groups, output_padding):
    """The definition: input position i and tap t add x[i] w[t] to output i s + t d - before."""
    n, *size, c = x.shape
    *k, _, fg = kernel.shape
    f, cg = fg * groups, c // groups
    out_size = [
        (i - 1) * s - b - a + d * (kk - 1) + op + 1
        for i, s, (b, a), d, kk, op in zip(size, stride, pads, dilation, k, output_padding)
    ]
    out = np.zeros((n, *out_size, f))
    if bias is not None:
        out += bias.astype(np.float64)
    for b in range(n):
        for i in positions(size):
            for t in positions(k):
                o = tuple(ii * s + tt * d - p for ii, tt, s, d, (p, _) in zip(i, t, stride, dilation, pads))
                if not all(0 <= oo < sz for oo, sz in zip(o, out_size)):
                    continue
                for ch in range(c):
                    g = ch // cg
                    for j in range(fg):
                        out[(b, *o, g * fg + j)] += float(x[(b, *i, ch)]) * float(kernel[(*t, ch, j)])
    return out


@settings(max_examples=60, deadline=None)
@given(
    rank=st.integers(1, 3),
    data=st.data(),
    groups=st.integers(1, 2),
    cg=st.integers(1, 2),
    fg=st.integers(1, 3),
    bias=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_conv_transpose_random_configurations(rank, data, groups, cg, fg, bias, seed):
    axes = st.integers(1, 4 if rank < 3 else 3)
    size = data.draw(st.tuples(*[axes] * rank))
    k = data.draw(st.tuples(*[st.integers(1, 3)] * rank))
    s = data.draw(st.tuples(*[st.integers(1, 3)] * rank))
    d = data.draw(st.tuples(*[st.integers(1, 2)] * rank))
    pads = data.draw(st.tuples(*[st.tuples(st.integers(0, 2), st.integers(0, 2))] * rank))
    op = data.draw(st.tuples(*[st.integers(0, 2)] * rank))
    assume(all(o < max(ss, dd) for o, ss, dd in zip(op, s, d)))
    out = [(i - 1) * ss - b - a + dd * (kk - 1) + o + 1 for i, ss, (b, a), dd, kk, o in zip(size, s, pads, d, k, op)]
    assume(min(out) >= 1)
    rng = np.random.default_rng(seed)
    x = rand(rng, 2, *size, cg * groups)
    w = rand(rng, *k, cg * groups, fg)
    b = rand(rng, fg * groups) if bias else None
    with kernels.metering() as meter:
        fast = kernels.conv_transpose(x, w, b, s, pads, d, groups, op)
    close(fast, loop_conv_transpose(x, w, b, s, pads, d, groups, op))
    # every input position times every tap, nothing for inserted zeros
    assert meter.macs == 2 * math.prod(size) * math.prod(k) * cg * groups * fg


@pytest.mark.parametrize(
    "size, k", [((1, 1), (4, 4)), ((6, 5), (2, 3)), ((2, 2), (5, 5))], ids=["positions", "taps", "square"]
)
def test_conv_transpose_scatters_over_taps_or_positions(size, k):
    """The loop runs over taps or positions, whichever is fewer; both give the definition."""
    rng = np.random.default_rng(3)
    x, w, b = rand(rng, 1, *size, 3), rand(rng, *k, 3, 2), rand(rng, 2)
    close(
        kernels.conv_transpose(x, w, b, (2, 1), ((1, 0), (0, 1)), (1, 2), 1, (1, 0)),
        loop_conv_transpose(x, w, b, (2, 1), ((1, 0), (0, 1)), (1, 2), 1, (1, 0)),
    )


def test_dcgan_first_layer_meters_its_products_only():
    """A 1x1 code through a 4x4 transposed kernel: 1 position x 16 taps x 100 x 512 products."""
    rng = np.random.default_rng(4)
    x, w = rand(rng, 1, 1, 1, 100), rand(rng, 4, 4, 100, 512)
    with kernels.metering() as meter:
        out = kernels.conv_transpose(x, w, None, (1, 1), ((0, 0), (0, 0)), (1, 1), 1, (0, 0))
    assert out.shape == (1, 4, 4, 512)
    assert meter.macs == 1 * 16 * 100 * 512
    close(out, np.einsum("c,ijcf->ijf", x[0, 0, 0].astype(np.float64), w.astype(np.float64))[None])


def test_huge_transposed_window_is_not_a_loop_over_its_taps():
    """A 1x1 input and a 1000x1000 kernel: one position, so one add of a kernel-sized block."""
    x, w = np.ones((1, 1, 1, 1), np.float32), np.full((1000, 1000, 1, 1), 2.0, np.float32)
    out = kernels.conv_transpose(x, w, None, (1, 1), ((0, 0), (0, 0)), (1, 1), 1, (0, 0))
    assert out.shape == (1, 1000, 1000, 1) and float(out.sum()) == 2.0 * 10**6


# ---------------------------------------------------------------- upsampling


def loop_source(o, in_size, out_size, scale, align_corners, nearest):
    """One output coordinate's source, in exact arithmetic, as PyTorch's rules state it."""
    step = (1 / Fraction(scale)) if scale else Fraction(in_size, out_size)
    if nearest:
        return min(math.floor(o * step), in_size - 1)
    if align_corners:
        return o * Fraction(in_size - 1, out_size - 1) if out_size > 1 else Fraction(0)
    return max((o + Fraction(1, 2)) * step - Fraction(1, 2), Fraction(0))


def loop_upsample(x, size, mode, align_corners, scales):
    """Every output element as the weighted sum of its 2^rank neighbours (not axis by axis)."""
    n, *in_size, c = x.shape
    out = np.zeros((n, *size, c))
    nearest = mode == "nearest"
    for b in range(n):
        for o in positions(size):
            src = [
                loop_source(oo, i, s, sc, align_corners, nearest)
                for oo, i, s, sc in zip(o, in_size, size, scales or [None] * len(size))
            ]
            if nearest:
                out[(b, *o)] = x[(b, *src)]
                continue
            for corner in itertools.product((0, 1), repeat=len(size)):
                weight, index = 1.0, []
                for up, s, i in zip(corner, src, in_size):
                    lo = min(math.floor(s), i - 1)
                    frac = float(s - lo)
                    index.append(min(lo + up, i - 1))
                    weight *= frac if up else 1 - frac
                out[(b, *o)] += weight * x[(b, *index)].astype(np.float64)
    return out


UPSAMPLES = [
    ("nearest", (4,), (8,), False, (2,)),
    ("nearest", (3, 5), (7, 9), False, None),
    ("nearest", (5, 4), (12, 10), False, (Fraction(5, 2), Fraction(5, 2))),
    ("nearest", (2, 3, 2), (4, 6, 4), False, (2, 2, 2)),
    ("linear", (5,), (11,), False, None),
    ("linear", (5,), (11,), True, None),
    ("linear", (3, 4), (6, 8), False, (2, 2)),
    ("linear", (3, 4), (7, 5), True, None),
    ("linear", (3, 4), (2, 3), False, None),
    ("linear", (2, 3, 2), (4, 5, 3), False, None),
    ("linear", (2, 3, 2), (4, 5, 3), True, None),
    ("linear", (1, 3), (1, 6), True, None),
]


@pytest.mark.parametrize(
    "mode, size, out, align, scales",
    UPSAMPLES,
    ids=[f"{m}-{s}-{o}-{'ac' if a else 'hp'}" for m, s, o, a, _ in UPSAMPLES],
)
def test_upsample(mode, size, out, align, scales):
    x = rand(np.random.default_rng(5), 2, *size, 3)
    close(kernels.upsample(x, out, mode, align, scales), loop_upsample(x, out, mode, align, scales))


# ---------------------------------------------------------------- rearrangements


@pytest.mark.parametrize("order", ["CRD", "DCR"])
@pytest.mark.parametrize("block", [2, 3])
def test_pixel_shuffle(order, block):
    n, h, w, c = 2, 3, 2, 2
    x = rand(np.random.default_rng(6), n, h, w, c * block * block)
    out = np.zeros((n, h * block, w * block, c), np.float32)
    for b, y, z, ch, i, j in itertools.product(range(n), range(h), range(w), range(c), range(block), range(block)):
        src = ch * block * block + i * block + j if order == "CRD" else (i * block + j) * c + ch
        out[b, y * block + i, z * block + j, ch] = x[b, y, z, src]
    assert np.array_equal(kernels.pixel_shuffle(x, block, order), out)


@pytest.mark.parametrize("groups", [1, 2, 3, 6])
def test_channel_shuffle(groups):
    x = rand(np.random.default_rng(7), 2, 3, 3, 6)
    per = 6 // groups
    out = np.zeros_like(x)
    for i, j in itertools.product(range(groups), range(per)):
        out[..., j * groups + i] = x[..., i * per + j]
    assert np.array_equal(kernels.channel_shuffle(x, groups), out)


def test_crop():
    x = rand(np.random.default_rng(8), 1, 6, 5, 2)
    cropped = kernels.crop(x, ((1, 2), (0, 3)))
    assert cropped.shape == (1, 3, 2, 2)
    for y, z in positions((3, 2)):
        assert np.array_equal(cropped[0, y, z], x[0, y + 1, z])


@pytest.mark.parametrize(
    "shapes",
    [
        [(2, 4, 4, 3), (2, 1, 1, 3)],
        [(2, 4, 4, 3), (2, 3)],
        [(2, 5), (2, 5), (2, 1)],
        [(2, 1, 3), (2, 4, 1)],
    ],
    ids=["se-map", "se-vector", "three-way", "both-ways"],
)
def test_multiply_broadcasts(shapes):
    rng = np.random.default_rng(9)
    xs = [rand(rng, *s) for s in shapes]
    out_shape = (2, *np.broadcast_shapes(*[s[1:] for s in shapes]))
    fast = kernels.multiply(xs)
    assert fast.shape == out_shape
    slow = np.zeros(out_shape)
    for index in positions(out_shape):
        value = 1.0
        for x in xs:
            # per sample, NumPy broadcasting: align trailing axes; a size-1 axis repeats
            own = index[len(index) - (x.ndim - 1) :]
            value *= float(x[(index[0], *(i if s > 1 else 0 for i, s in zip(own, x.shape[1:])))])
        slow[index] = value
    close(fast, slow)


@pytest.mark.parametrize(
    "fn, op",
    [(kernels.subtract, float.__sub__), (kernels.divide, float.__truediv__), (kernels.add, float.__add__)],
    ids=["subtract", "divide", "add"],
)
@pytest.mark.parametrize(
    "shapes",
    [[(2, 4, 4, 3), (2, 1, 1, 3)], [(2, 3), (2, 4, 3)], [(2, 1, 3), (2, 4, 1)]],
    ids=["map-channel", "rank-up", "both-ways"],
)
def test_binary_elementwise_broadcasts(fn, op, shapes):
    rng = np.random.default_rng(11)
    xs = [rand(rng, *s) + 2.0 for s in shapes]  # away from zero, for the divisor
    out_shape = (2, *np.broadcast_shapes(*[s[1:] for s in shapes]))
    fast = fn(xs)
    assert fast.shape == out_shape
    slow = np.zeros(out_shape)
    for index in positions(out_shape):
        a, b = (
            float(x[(index[0], *(i if s > 1 else 0 for i, s in zip(index[len(index) - (x.ndim - 1) :], x.shape[1:])))])
            for x in xs
        )
        slow[index] = op(a, b)
    close(fast, slow)


# ---------------------------------------------------------------- group and instance norm


@pytest.mark.parametrize(
    "shape, groups",
    [((2, 4, 3, 6), 3), ((2, 4, 3, 6), 1), ((2, 4, 3, 6), 6), ((2, 7, 4), 2), ((1, 2, 2, 2, 4), 2)],
    ids=["groups3", "layer-like", "instance", "rank1", "rank3"],
)
@pytest.mark.parametrize("affine", [True, False])
def test_group_norm(shape, groups, affine):
    rng = np.random.default_rng(10)
    x = rand(rng, *shape) * 3 + 1
    c = shape[-1]
    gamma, beta = (rand(rng, c), rand(rng, c)) if affine else (None, None)
    fast = kernels.group_norm(x, groups, gamma, beta, 1e-5)
    slow = np.zeros(shape)
    per = c // groups
    for b in range(shape[0]):
        for g in range(groups):
            members = [idx for idx in positions(shape[1:]) if idx[-1] // per == g]
            values = [float(x[(b, *idx)]) for idx in members]
            mean = sum(values) / len(values)
            var = sum((v - mean) ** 2 for v in values) / len(values)
            for idx, v in zip(members, values):
                y = (v - mean) / math.sqrt(var + 1e-5)
                if affine:
                    y = y * float(gamma[idx[-1]]) + float(beta[idx[-1]])
                slow[(b, *idx)] = y
    close(fast, slow)


# ---------------------------------------------------------------- recurrent


def sigmoid(v):
    return 1 / (1 + math.exp(-v))


def loop_recurrent(x, cell, kernel, recurrent_kernel, bias, reverse, reset_after, sequences):
    """Each unit of each step written out from the cell's equations, in float64."""
    n, steps, d = x.shape
    h_units = recurrent_kernel.shape[0]
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    W, U = kernel.astype(np.float64), recurrent_kernel.astype(np.float64)
    b_in = bias[0].astype(np.float64) if bias is not None else np.zeros(gates * h_units)
    b_rec = bias[1].astype(np.float64) if bias is not None and len(bias) == 2 else np.zeros(gates * h_units)
    outs = np.zeros((n, steps, h_units))
    last = np.zeros((n, h_units))
    for b in range(n):
        h, c = [0.0] * h_units, [0.0] * h_units
        for t in reversed(range(steps)) if reverse else range(steps):
            xt = [float(v) for v in x[b, t]]

            def inp(col, xt=xt):
                return sum(xt[i] * W[i, col] for i in range(d)) + b_in[col]

            def rec(col, state):
                return sum(state[i] * U[i, col] for i in range(h_units)) + b_rec[col]

            if cell == "rnn":
                h = [math.tanh(inp(u) + rec(u, h)) for u in range(h_units)]
            elif cell == "lstm":
                z = [inp(col) + rec(col, h) for col in range(4 * h_units)]
                c = [
                    sigmoid(z[h_units + u]) * c[u] + sigmoid(z[u]) * math.tanh(z[2 * h_units + u])
                    for u in range(h_units)
                ]
                h = [sigmoid(z[3 * h_units + u]) * math.tanh(c[u]) for u in range(h_units)]
            else:
                r = [sigmoid(inp(u) + rec(u, h)) for u in range(h_units)]
                zz = [sigmoid(inp(h_units + u) + rec(h_units + u, h)) for u in range(h_units)]
                if reset_after:
                    new = [math.tanh(inp(2 * h_units + u) + r[u] * rec(2 * h_units + u, h)) for u in range(h_units)]
                else:
                    reset = [r[i] * h[i] for i in range(h_units)]
                    new = [math.tanh(inp(2 * h_units + u) + rec(2 * h_units + u, reset)) for u in range(h_units)]
                h = [(1 - zz[u]) * new[u] + zz[u] * h[u] for u in range(h_units)]
            outs[b, t] = h
        last[b] = h
    return outs if sequences else last


RECURRENT = list(itertools.product(["rnn", "lstm", "gru"], [0, 1, 2], [False, True]))


@pytest.mark.parametrize(
    "cell, biases, reverse", RECURRENT, ids=[f"{c}-b{b}-{'rev' if r else 'fwd'}" for c, b, r in RECURRENT]
)
@pytest.mark.parametrize("sequences", [True, False], ids=["sequences", "last"])
def test_recurrent(cell, biases, reverse, sequences):
    rng = np.random.default_rng(11)
    n, steps, d, h = 2, 5, 3, 4
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    x = rand(rng, n, steps, d)
    w, u = rand(rng, d, gates * h) * 0.5, rand(rng, h, gates * h) * 0.5
    b = rand(rng, biases, gates * h) if biases else None
    for reset_after in [True, False] if cell == "gru" else [True]:
        with kernels.metering() as meter:
            fast = kernels.recurrent(x, cell, w, u, b, reverse, reset_after, sequences)
        close(fast, loop_recurrent(x, cell, w, u, b, reverse, reset_after, sequences))
        # every step multiplies the input and the state by their matrices: gates x H x (D + H)
        assert meter.macs == n * steps * gates * h * (d + h)


# ---------------------------------------------------------------- pooling of any rank


def loop_pool_nd(x, mode, window, stride, pads, ceil_mode, include_pad):
    n, *size, c = x.shape
    outs = []
    for i, k, s, (b, a) in zip(size, window, stride, pads):
        o = (i + b + a - k + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (o - 1) * s >= i + b:  # the last window must start inside the input or left padding
            o -= 1
        outs.append(o)
    out = np.zeros((n, *outs, c))
    for bb in range(n):
        for o in positions(outs):
            starts = [oo * s - b for oo, s, (b, _) in zip(o, stride, pads)]
            inside = [tuple(st + t for st, t in zip(starts, tap)) for tap in positions(window)]
            inside = [p for p in inside if all(0 <= q < i for q, i in zip(p, size))]
            if include_pad:
                # PyTorch: the window clipped to the input and its padding, not what ceil mode adds past it
                count = math.prod(min(st + k, i + a) - st for st, k, i, (_, a) in zip(starts, window, size, pads))
            else:
                count = len(inside)
            for ch in range(c):
                values = [float(x[(bb, *p, ch)]) for p in inside]
                out[(bb, *o, ch)] = max(values) if mode == "max" else sum(values) / count
    return out


@settings(max_examples=80, deadline=None)
@given(
    rank=st.integers(1, 3),
    data=st.data(),
    mode=st.sampled_from(["max", "avg"]),
    ceil_mode=st.booleans(),
    include_pad=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_pool_nd_random_configurations(rank, data, mode, ceil_mode, include_pad, seed):
    size = data.draw(st.tuples(*[st.integers(1, 7 if rank < 3 else 4)] * rank))
    window = data.draw(st.tuples(*[st.integers(1, 4)] * rank))
    stride = data.draw(st.tuples(*[st.integers(1, 3)] * rank))
    pads = data.draw(st.tuples(*[st.tuples(st.integers(0, 2), st.integers(0, 2))] * rank))
    assume(all(max(b, a) < k and i + b + a >= k for i, k, (b, a) in zip(size, window, pads)))
    x = rand(np.random.default_rng(seed), 2, *size, 2)
    fast = kernels.pool(x, mode, window, stride, pads, ceil_mode, include_pad)
    close(fast, loop_pool_nd(x, mode, window, stride, pads, ceil_mode, include_pad))


@pytest.mark.parametrize(
    "size, k, s, p, out",
    [
        (112, 3, 2, 0, 56),  # GoogLeNet's maxpool1: floor would give 55
        (56, 3, 2, 0, 28),
        (28, 3, 2, 0, 14),
        (14, 2, 2, 0, 7),
        (5, 2, 2, 1, 3),  # ceil gives 4 windows, but the fourth would start in the right padding
        (6, 3, 3, 1, 3),
    ],
)
def test_ceil_mode_output_size(size, k, s, p, out):
    assert kernels.pool_output_size(size, k, s, p, p, ceil_mode=True) == out


def test_large_pool_window_is_one_reduction():
    """A 2500 x 2500 window would be 6.25 million taps; separable reductions take a moment."""
    x = np.ones((1, 2500, 2500, 1), np.float32)
    x[0, 1234, 2345, 0] = 7.0
    assert float(kernels.pool(x, "max", (2500, 2500), (1, 1), ((0, 0), (0, 0)))[0, 0, 0, 0]) == 7.0
    assert float(kernels.pool(x, "avg", (2500, 2500), (1, 1), ((0, 0), (0, 0)))[0, 0, 0, 0]) == pytest.approx(
        1 + 6 / 2500**2
    )
