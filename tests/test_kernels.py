"""Each fast kernel against a plain loop implementation kept here, on small seeded random inputs."""

import itertools
import math
import zlib
from math import prod

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from flopcount import kernels
from flopcount.layers import ACTIVATIONS, resolve_pads

RTOL, ATOL = 1e-4, 1e-5  # float32 kernels against float64 loops


def rand(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


def close(fast, slow):
    assert fast.dtype == np.float32
    np.testing.assert_allclose(fast, np.asarray(slow), rtol=RTOL, atol=ATOL)


# ---------------------------------------------------------------- loop references


def padded_lists(x, pads, value=0.0):
    """x (N, H, W, C) as nested lists with the padding written out element by element."""
    n, h, w, c = x.shape
    (t, b), (l, r) = pads
    return [
        [
            [
                [float(x[i, y - t, z - l, k]) if t <= y < t + h and l <= z < l + w else value for k in range(c)]
                for z in range(w + l + r)
            ]
            for y in range(h + t + b)
        ]
        for i in range(n)
    ]


def loop_conv2d(x, kernel, bias, stride, pads, dilation, groups):
    n, h, w, c = x.shape
    kh, kw, cg, f = kernel.shape
    (t, b), (l, r) = pads
    (sh, sw), (dh, dw) = stride, dilation
    xp, k = padded_lists(x, pads), kernel.tolist()
    oh = (h + t + b - dh * (kh - 1) - 1) // sh + 1
    ow = (w + l + r - dw * (kw - 1) - 1) // sw + 1
    fg = f // groups
    out = np.zeros((n, oh, ow, f))
    for i in range(n):
        for y in range(oh):
            for z in range(ow):
                for o in range(f):
                    g = o // fg
                    total = 0.0 if bias is None else float(bias[o])
                    for p in range(kh):
                        for q in range(kw):
                            for ci in range(cg):
                                total += xp[i][y * sh + p * dh][z * sw + q * dw][g * cg + ci] * k[p][q][ci][o]
                    out[i, y, z, o] = total
    return out


def loop_depthwise(x, kernel, bias, stride, pads, dilation):
    n, h, w, c = x.shape
    kh, kw, _, mult = kernel.shape
    (t, b), (l, r) = pads
    (sh, sw), (dh, dw) = stride, dilation
    xp, k = padded_lists(x, pads), kernel.tolist()
    oh = (h + t + b - dh * (kh - 1) - 1) // sh + 1
    ow = (w + l + r - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, oh, ow, c * mult))
    for i in range(n):
        for y in range(oh):
            for z in range(ow):
                for ch in range(c):
                    for m in range(mult):
                        total = 0.0 if bias is None else float(bias[ch * mult + m])
                        for p in range(kh):
                            for q in range(kw):
                                total += xp[i][y * sh + p * dh][z * sw + q * dw][ch] * k[p][q][ch][m]
                        out[i, y, z, ch * mult + m] = total
    return out


def loop_pool(x, mode, pool, stride, pads):
    """Max or mean over the window elements that lie inside the input (padding never counts)."""
    n, h, w, c = x.shape
    (t, b), (l, r) = pads
    oh = (h + t + b - pool[0]) // stride[0] + 1
    ow = (w + l + r - pool[1]) // stride[1] + 1
    out = np.zeros((n, oh, ow, c))
    for i in range(n):
        for y in range(oh):
            for z in range(ow):
                for ch in range(c):
                    inside = [
                        float(x[i, yy, zz, ch])
                        for yy in range(y * stride[0] - t, y * stride[0] - t + pool[0])
                        for zz in range(z * stride[1] - l, z * stride[1] - l + pool[1])
                        if 0 <= yy < h and 0 <= zz < w
                    ]
                    out[i, y, z, ch] = max(inside) if mode == "max" else sum(inside) / len(inside)
    return out


def loop_adaptive_avg_pool(x, size):
    n, h, w, c = x.shape
    out = np.zeros((n, *size, c))
    for i in range(n):
        for y in range(size[0]):
            for z in range(size[1]):
                rows = range(math.floor(y * h / size[0]), math.ceil((y + 1) * h / size[0]))
                cols = range(math.floor(z * w / size[1]), math.ceil((z + 1) * w / size[1]))
                for ch in range(c):
                    values = [float(x[i, yy, zz, ch]) for yy in rows for zz in cols]
                    out[i, y, z, ch] = sum(values) / len(values)
    return out


def loop_dense(x, kernel, bias):
    n, c_in = x.shape
    units = kernel.shape[1]
    out = np.zeros((n, units))
    for i in range(n):
        for u in range(units):
            out[i, u] = sum(float(x[i, k]) * float(kernel[k, u]) for k in range(c_in)) + (
                0.0 if bias is None else float(bias[u])
            )
    return out


def scalar_activation(v, fn, alpha):
    sigmoid = 1 / (1 + math.exp(-v))
    relu6 = min(max(v, 0.0), 6.0)
    return {
        "relu": max(v, 0.0),
        "relu6": relu6,
        "leaky_relu": v if v > 0 else alpha * v,
        "elu": v if v > 0 else alpha * (math.exp(v) - 1),
        "sigmoid": sigmoid,
        "hard_sigmoid": min(max(v + 3, 0.0), 6.0) / 6,
        "tanh": math.tanh(v),
        "swish": v * sigmoid,
        "silu": v * sigmoid,
        "hard_swish": v * min(max(v + 3, 0.0), 6.0) / 6,
        "gelu": 0.5 * v * (1 + math.erf(v / math.sqrt(2))),
        "gelu_tanh": 0.5 * v * (1 + math.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v**3))),
        "linear": v,
    }[fn]


# ---------------------------------------------------------------- convolutions


def tf_same_pads(hw, k_eff, stride):
    """TensorFlow's 'same' padding as its docs state it (tf.nn, "Notes on padding"), per axis (before, after).

    pad = max(k - s, 0) when s divides the size, else max(k - size % s, 0); the odd one goes after.
    """
    out = []
    for size, k, s in zip(hw, k_eff, stride):
        total = max(k - s, 0) if size % s == 0 else max(k - size % s, 0)
        out.append((total // 2, total - total // 2))
    return tuple(out)


def both_pads(name, hw, k_eff, stride):
    """(pads the layers hand their kernel, pads the loop reference uses); 'same' from each side's own rule."""
    if name != "same":
        return PADS[name], PADS[name]
    ours = resolve_pads("same", hw, k_eff, stride)
    theirs = tf_same_pads(hw, k_eff, stride)
    # 'same' keeps ceil(size / stride) outputs
    assert [(n + a + b - k) // s + 1 for n, (a, b), k, s in zip(hw, theirs, k_eff, stride)] == [
        -(-n // s) for n, s in zip(hw, stride)
    ]
    return ours, theirs


def test_tf_same_pads_by_hand():
    # 7 wide, 3 taps, stride 2: outputs at 0, 2, 4, 6 need one column each side; 6 wide: one at the end only
    assert tf_same_pads((7, 6), (3, 3), (2, 2)) == ((1, 1), (0, 1))
    assert tf_same_pads((7, 6), (5, 2), (1, 1)) == ((2, 2), (0, 1))


PADS = {
    "valid": ((0, 0), (0, 0)),
    "p1": ((1, 1), (1, 1)),
    "asym": ((0, 2), (1, 0)),
    "same": "same",
}


def conv_cases():
    for kernel, stride, dilation, groups, pads in itertools.product(
        [(1, 1), (3, 3), (2, 3)], [(1, 1), (2, 2), (2, 1)], [(1, 1), (2, 1)], [1, 2, 3], PADS
    ):
        yield pytest.param(
            kernel, stride, dilation, groups, pads, id=f"k{kernel}-s{stride}-d{dilation}-g{groups}-{pads}"
        )


@pytest.mark.parametrize("kernel, stride, dilation, groups, pads", list(conv_cases()))
def test_conv2d(kernel, stride, dilation, groups, pads):
    rng = np.random.default_rng(zlib.crc32(repr((kernel, stride, dilation, groups, pads)).encode()))
    x = rand(rng, 2, 7, 6, 6)
    f = 6
    w = rand(rng, *kernel, 6 // groups, f)
    bias = rand(rng, f)
    k_eff = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    ours, theirs = both_pads(pads, (7, 6), k_eff, stride)
    with kernels.metering() as meter:
        out = kernels.conv(x, w, bias, stride, ours, dilation, groups)
    close(out, loop_conv2d(x, w, bias, stride, theirs, dilation, groups))
    n, oh, ow, _ = out.shape
    assert meter.macs == n * oh * ow * f * kernel[0] * kernel[1] * (6 // groups)


@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize("chunk", [1, 3 * 864, 2 * 7 * 864], ids=["row-by-row", "3-rows", "2-images"])
def test_conv2d_in_chunks(monkeypatch, chunk, groups):
    """Patches for (3, 7, 6, 4) -> 3x3 'same' take 864 bytes per output row (6 x 3 x 3 x 4 floats)."""
    monkeypatch.setattr(kernels, "CHUNK_BYTES", chunk)
    rng = np.random.default_rng(2)
    x, w, b = rand(rng, 3, 7, 6, 4), rand(rng, 3, 3, 4 // groups, 6), rand(rng, 6)
    with kernels.metering() as meter, kernels.reusing_buffers():
        out = kernels.conv(x, w, b, (1, 1), PADS["p1"], (1, 1), groups)
    close(out, loop_conv2d(x, w, b, (1, 1), PADS["p1"], (1, 1), groups))
    assert meter.macs == 3 * 7 * 6 * 6 * 3 * 3 * (4 // groups)
    assert kernels.im2col_bytes(3, (7, 6), (3, 3), 4) == {1: 864, 3 * 864: 3 * 864, 2 * 7 * 864: 2 * 7 * 864}[chunk]


def test_conv2d_without_bias_and_pointwise_view():
    rng = np.random.default_rng(1)
    x, w = rand(rng, 1, 4, 5, 3), rand(rng, 1, 1, 3, 2)
    close(
        kernels.conv(x, w, None, (1, 1), PADS["valid"], (1, 1), 1),
        loop_conv2d(x, w, None, (1, 1), PADS["valid"], (1, 1), 1),
    )


@settings(max_examples=40, deadline=None)
@given(
    h=st.integers(3, 8),
    w=st.integers(3, 8),
    cg=st.integers(1, 3),
    groups=st.integers(1, 3),
    fg=st.integers(1, 3),
    k=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    s=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    d=st.tuples(st.integers(1, 2), st.integers(1, 2)),
    p=st.tuples(st.tuples(st.integers(0, 2), st.integers(0, 2)), st.tuples(st.integers(0, 2), st.integers(0, 2))),
    seed=st.integers(0, 2**16),
)
def test_conv2d_random_configurations(h, w, cg, groups, fg, k, s, d, p, seed):
    (t, b), (l, r) = p
    assume(h + t + b >= d[0] * (k[0] - 1) + 1 and w + l + r >= d[1] * (k[1] - 1) + 1)
    rng = np.random.default_rng(seed)
    x, kern, bias = rand(rng, 1, h, w, cg * groups), rand(rng, *k, cg, fg * groups), rand(rng, fg * groups)
    close(kernels.conv(x, kern, bias, s, p, d, groups), loop_conv2d(x, kern, bias, s, p, d, groups))


@pytest.mark.parametrize("mult", [1, 3])
@pytest.mark.parametrize("stride, dilation", [((1, 1), (1, 1)), ((2, 2), (1, 1)), ((1, 2), (2, 1))])
@pytest.mark.parametrize("pads", ["valid", "p1", "asym", "same"])
@pytest.mark.parametrize("kernel", [(3, 3), (2, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_depthwise_conv2d(mult, stride, dilation, pads, kernel, bias):
    rng = np.random.default_rng(7)
    x = rand(rng, 2, 7, 6, 4)
    w = rand(rng, *kernel, 4, mult)
    b = rand(rng, 4 * mult) if bias else None
    k_eff = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    ours, theirs = both_pads(pads, (7, 6), k_eff, stride)
    with kernels.metering() as meter:
        out = kernels.depthwise_conv(x, w, b, stride, ours, dilation)
    close(out, loop_depthwise(x, w, b, stride, theirs, dilation))
    n, oh, ow, _ = out.shape
    assert meter.macs == n * oh * ow * 4 * mult * kernel[0] * kernel[1]


@pytest.mark.parametrize("bias", [True, False])
def test_dense(bias):
    rng = np.random.default_rng(3)
    x, w = rand(rng, 3, 7), rand(rng, 7, 5)
    b = rand(rng, 5) if bias else None
    with kernels.metering() as meter:
        out = kernels.dense(x, w, b)
    close(out, loop_dense(x, w, b))
    assert meter.macs == 3 * 7 * 5


def test_dense_on_the_last_axis_of_an_image():
    rng = np.random.default_rng(4)
    x, w, b = rand(rng, 2, 3, 3, 4), rand(rng, 4, 6), rand(rng, 6)
    close(kernels.dense(x, w, b), loop_dense(x.reshape(-1, 4), w, b).reshape(2, 3, 3, 6))


def zeros(*shape):
    return np.zeros(shape, np.float32)


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: kernels.conv(zeros(1, 4, 4, 3), zeros(3, 3, 2, 4), None, (1, 1), PADS["valid"], (1, 1), 1),
            r"kernel \(3, 3, 2, 4\) with 1 group\(s\) does not fit an input of 3 channels",
        ),
        # channels fit (2 x 2 = 4) but 3 filters do not split into 2 groups
        (
            lambda: kernels.conv(zeros(1, 4, 4, 4), zeros(3, 3, 2, 3), None, (1, 1), PADS["valid"], (1, 1), 2),
            r"kernel \(3, 3, 2, 3\) with 2 group\(s\) does not fit an input of 4 channels",
        ),
        (
            lambda: kernels.conv(zeros(1, 4, 4, 4), zeros(3, 3, 2, 4), zeros(3), (1, 1), PADS["valid"], (1, 1), 2),
            r"bias of shape \(3,\) does not match 4 output channels",
        ),
        (
            lambda: kernels.conv(zeros(1, 2, 4, 3), zeros(3, 3, 3, 4), None, (1, 1), PADS["valid"], (1, 1), 1),
            "a window of 3 does not fit in 2",
        ),
        (
            lambda: kernels.depthwise_conv(zeros(1, 4, 4, 3), zeros(3, 3, 2, 1), None, (1, 1), PADS["valid"], (1, 1)),
            r"depthwise kernel \(3, 3, 2, 1\) does not fit an input of 3 channels",
        ),
        (
            lambda: kernels.depthwise_conv(
                zeros(1, 4, 4, 3), zeros(3, 3, 3, 2), zeros(3), (1, 1), PADS["valid"], (1, 1)
            ),
            r"bias of shape \(3,\) does not match 6 output channels",
        ),
        (
            lambda: kernels.depthwise_conv(zeros(1, 4, 4, 3), zeros(3, 3, 3, 1), None, (1, 1), PADS["valid"], (3, 1)),
            "a window of 7 does not fit in 4",
        ),
        (
            lambda: kernels.dense(zeros(1, 6), zeros(3, 4), None),
            r"dense kernel \(3, 4\) does not fit an input of 6 features",
        ),
        (
            lambda: kernels.dense(zeros(1, 3), zeros(3, 4), zeros(5)),
            r"bias of shape \(5,\) does not match 4 output channels",
        ),
        (
            lambda: kernels.pool(zeros(1, 4, 2, 3), "max", (3, 3), (1, 1), PADS["valid"]),
            "a window of 3 does not fit in 2",
        ),
        (
            lambda: kernels._meter.multiply_add(zeros(2, 3), zeros(2, 1), zeros(1, 4)),
            r"products of shape \(2, 4\) cannot accumulate into \(2, 3\)",
        ),
    ],
    ids=[
        "conv-channels",
        "conv-filters-per-group",
        "conv-bias",
        "conv-window",
        "depthwise-channels",
        "depthwise-bias",
        "depthwise-dilated-window",
        "dense-features",
        "dense-bias",
        "pool-window",
        "meter-accumulator",
    ],
)
def test_kernels_refuse_weights_that_do_not_fit(call, message):
    # the kernel's own message: without its check NumPy raises a ValueError of its own, or none at all
    with pytest.raises(ValueError, match=message):
        call()


# ---------------------------------------------------------------- pooling


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize(
    "pool, stride, pads",
    [
        ((2, 2), (2, 2), "valid"),
        ((3, 3), (2, 2), "p1"),
        ((3, 3), (2, 2), "same"),
        ((3, 2), (1, 2), "asym"),
        ((3, 3), (3, 3), "valid"),
    ],
)
def test_pool(mode, pool, stride, pads):
    rng = np.random.default_rng(5)
    x = rand(rng, 2, 7, 6, 3)
    ours, theirs = both_pads(pads, (7, 6), pool, stride)
    with kernels.metering() as meter:
        out = kernels.pool(x, mode, pool, stride, ours)
    close(out, loop_pool(x, mode, pool, stride, theirs))
    assert meter.macs == 0


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_global_pool(mode):
    x = rand(np.random.default_rng(6), 2, 5, 4, 3)
    close(kernels.global_pool(x, mode), loop_pool(x, mode, (5, 4), (1, 1), PADS["valid"]).reshape(2, 3))


@pytest.mark.parametrize("size", [(1, 1), (2, 2), (3, 2), (5, 4), (6, 6), (7, 3)])
def test_adaptive_avg_pool(size):
    x = rand(np.random.default_rng(8), 2, 5, 4, 3)
    close(kernels.adaptive_avg_pool(x, size), loop_adaptive_avg_pool(x, size))


# ---------------------------------------------------------------- element-wise and structural


@pytest.mark.parametrize("fn", ACTIVATIONS)
def test_activation(fn):
    x = rand(np.random.default_rng(9), 2, 3, 4, 5) * 4
    x[0, 0, 0, :3] = [-100.0, 100.0, 0.0]  # far tails must stay finite
    alpha = 0.3
    out = kernels.activation(x, fn, alpha)
    expected = np.vectorize(lambda v: scalar_activation(float(v), fn, alpha))(x)
    close(out, expected)


@pytest.mark.parametrize("gamma, beta", [(True, True), (False, True), (True, False), (False, False)])
def test_batch_norm(gamma, beta):
    rng = np.random.default_rng(10)
    x = rand(rng, 2, 3, 3, 4)
    g, b, mean = rand(rng, 4), rand(rng, 4), rand(rng, 4)
    var = np.abs(rand(rng, 4)) + 0.5
    out = kernels.batch_norm(x, g if gamma else None, b if beta else None, mean, var, 0.001)
    expected = np.zeros(x.shape)
    for idx in np.ndindex(*x.shape):
        c = idx[-1]
        v = (float(x[idx]) - float(mean[c])) / math.sqrt(float(var[c]) + 0.001)
        expected[idx] = v * (float(g[c]) if gamma else 1.0) + (float(b[c]) if beta else 0.0)
    close(out, expected)


def test_softmax():
    x = rand(np.random.default_rng(11), 3, 7) * 30
    out = kernels.softmax(x)
    for i in range(3):
        exps = [math.exp(float(v) - max(map(float, x[i]))) for v in x[i]]
        close(out[i], [e / sum(exps) for e in exps])


def test_pad():
    x = rand(np.random.default_rng(12), 1, 2, 3, 2)
    out = kernels.pad(x, ((1, 0), (0, 2)))
    close(out, np.asarray(padded_lists(x, ((1, 0), (0, 2)))))


def test_add_concat_flatten():
    rng = np.random.default_rng(13)
    a, b, c = rand(rng, 2, 3, 3, 2), rand(rng, 2, 3, 3, 2), rand(rng, 2, 3, 3, 2)
    close(kernels.add([a, b, c]), a.astype(np.float64) + b + c)
    joined = kernels.concat([a, b], 3)
    assert joined.shape == (2, 3, 3, 4)
    close(joined[..., 2:], b)
    flat = kernels.flatten(a)
    assert flat.shape == (2, 18)
    # row-major (H, W, C): element (h, w, c) lands at (h x W + w) x C + c
    assert flat[1, (2 * 3 + 1) * 2 + 1] == a[1, 2, 1, 1]


def test_meter_counts_batched_matmul():
    rng = np.random.default_rng(14)
    with kernels.metering() as meter:
        kernels._meter.matmul(rand(rng, 4, 5, 6), rand(rng, 4, 6, 7))
    assert meter.macs == 4 * 5 * 6 * 7


def test_metering_is_scoped():
    with kernels.metering() as outer:
        kernels.dense(np.ones((1, 2), np.float32), np.ones((2, 3), np.float32), None)
        with kernels.metering() as inner:
            kernels.dense(np.ones((1, 4), np.float32), np.ones((4, 5), np.float32), None)
    assert (outer.macs, inner.macs) == (1 * 2 * 3, 1 * 4 * 5)


@pytest.mark.parametrize(
    "n, oh, ow, c", [(1, 7, 7, 3), (4, 224, 224, 64), (64, 56, 56, 256), (1, 10**6, 10**6, 3), (3, 5000, 900, 8)]
)
def test_im2col_bytes_is_the_largest_chunk(n, oh, ow, c):
    row = ow * 3 * 3 * c * 4
    if n * oh < 10**5:
        largest = max((s.stop - s.start) * (r.stop - r.start) * row for s, r in kernels._chunks(n, oh, row))
        assert kernels.im2col_bytes(n, (oh, ow), (3, 3), c) == largest
    assert kernels.im2col_bytes(n, (oh, ow), (3, 3), c) <= max(kernels.CHUNK_BYTES, row)


def test_batch_norm_refuses_statistics_of_the_wrong_size():
    x = np.ones((1, 2, 2, 3), np.float32)
    one = np.ones((1,), np.float32)
    with pytest.raises(ValueError, match=r"batch norm gamma of shape \(1,\) does not match 3 channels"):
        kernels.batch_norm(x, one, None, np.zeros(3, np.float32), np.ones(3, np.float32), 1e-3)


@pytest.mark.parametrize("stride, groups, needs_cols", [((1, 1), 1, False), ((2, 2), 1, True), ((1, 1), 2, True)])
def test_im2col_estimate_matches_whether_a_1x1_conv_copies(stride, groups, needs_cols):
    assert (kernels.im2col_bytes(1, (32, 32), (1, 1), 8, 4, stride=stride, groups=groups) > 0) == needs_cols


# ---------------------------------------------------------------- any rank: 1-D and 3-D windows


def loop_window(x, kernel_sizes, stride, pads, dilation, combine):
    """For every output position of (N, *S, C), combine(n, out position, inside) where inside lists
    (tap index, input position) of the window's taps that fall inside the input (padding left out)."""
    n, *sizes = x.shape[:-1]
    out = [
        (s + b + a - d * (k - 1) - 1) // st + 1
        for s, (b, a), k, st, d in zip(sizes, pads, kernel_sizes, stride, dilation)
    ]
    result = {}
    for i in range(n):
        for o in itertools.product(*(range(v) for v in out)):
            inside = []
            for tap in itertools.product(*(range(k) for k in kernel_sizes)):
                pos = tuple(oo * st + t * d - b for oo, st, t, d, (b, _) in zip(o, stride, tap, dilation, pads))
                if all(0 <= p < s for p, s in zip(pos, sizes)):
                    inside.append((tap, pos))
            result[(i, *o)] = combine(i, inside)
    return out, result


def loop_conv_nd(x, kernel, bias, stride, pads, dilation, groups):
    *ks, cg, f = kernel.shape
    fg = f // groups

    def combine(i, inside):
        return [
            sum(
                float(x[(i, *pos, (o // fg) * cg + ci)]) * float(kernel[(*tap, ci, o)])
                for tap, pos in inside
                for ci in range(cg)
            )
            + (0.0 if bias is None else float(bias[o]))
            for o in range(f)
        ]

    out, values = loop_window(x, ks, stride, pads, dilation, combine)
    return np.array([values[k] for k in sorted(values)]).reshape(x.shape[0], *out, f)


def loop_depthwise_nd(x, kernel, bias, stride, pads, dilation):
    *ks, c, mult = kernel.shape

    def combine(i, inside):
        return [
            sum(float(x[(i, *pos, ch)]) * float(kernel[(*tap, ch, m)]) for tap, pos in inside)
            + (0.0 if bias is None else float(bias[ch * mult + m]))
            for ch in range(c)
            for m in range(mult)
        ]

    out, values = loop_window(x, ks, stride, pads, dilation, combine)
    return np.array([values[k] for k in sorted(values)]).reshape(x.shape[0], *out, c * mult)


def loop_pool_nd(x, mode, pool, stride, pads):
    c = x.shape[-1]

    def combine(i, inside):
        values = [[float(x[(i, *pos, ch)]) for _, pos in inside] for ch in range(c)]
        return [max(v) if mode == "max" else sum(v) / len(v) for v in values]

    out, values = loop_window(x, pool, stride, pads, (1,) * len(pool), combine)
    return np.array([values[k] for k in sorted(values)]).reshape(x.shape[0], *out, c)


ND = [
    # (input shape without batch, kernel, stride, dilation, pads)
    ((9, 4), (3,), (1,), (1,), ((1, 1),)),
    ((11, 4), (4,), (2,), (2,), ((0, 3),)),
    ((4, 5, 6, 4), (3, 3, 3), (1, 1, 1), (1, 1, 1), ((1, 1), (1, 1), (1, 1))),
    ((5, 6, 5, 4), (2, 3, 1), (2, 1, 2), (1, 2, 1), ((0, 1), (2, 0), (0, 0))),
]


@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize("shape, kernel, stride, dilation, pads", ND)
def test_conv_of_rank_1_and_3(shape, kernel, stride, dilation, pads, groups):
    rng = np.random.default_rng(21)
    x, w, b = rand(rng, 2, *shape), rand(rng, *kernel, shape[-1] // groups, 6), rand(rng, 6)
    with kernels.metering() as meter:
        out = kernels.conv(x, w, b, stride, pads, dilation, groups)
    close(out, loop_conv_nd(x, w, b, stride, pads, dilation, groups))
    assert meter.macs == prod(out.shape) * prod(kernel) * (shape[-1] // groups)


@pytest.mark.parametrize("shape, kernel, stride, dilation, pads", ND)
def test_depthwise_conv_of_rank_1_and_3(shape, kernel, stride, dilation, pads):
    rng = np.random.default_rng(22)
    x, w, b = rand(rng, 2, *shape), rand(rng, *kernel, shape[-1], 2), rand(rng, shape[-1] * 2)
    with kernels.metering() as meter:
        out = kernels.depthwise_conv(x, w, b, stride, pads, dilation)
    close(out, loop_depthwise_nd(x, w, b, stride, pads, dilation))
    assert meter.macs == prod(out.shape) * prod(kernel)


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize(
    "shape, pool, stride, pads",
    [
        ((9, 3), (3,), (2,), ((1, 1),)),
        ((4, 5, 6, 2), (2, 2, 2), (2, 2, 2), ((0, 0), (0, 1), (1, 0))),
        ((5, 4, 5, 2), (3, 1, 2), (1, 2, 1), ((1, 1), (0, 0), (0, 1))),
    ],
)
def test_pool_of_rank_1_and_3(mode, shape, pool, stride, pads):
    x = rand(np.random.default_rng(23), 2, *shape)
    close(kernels.pool(x, mode, pool, stride, pads), loop_pool_nd(x, mode, pool, stride, pads))


def test_large_depthwise_windows_take_the_gemm_form():
    """A window of more than TAP_LOOP taps goes through batched GEMMs and still agrees with the loop."""
    rng = np.random.default_rng(24)
    x, w, b = rand(rng, 2, 14, 13, 3), rand(rng, 9, 9, 3, 2), rand(rng, 6)
    assert 9 * 9 > kernels.TAP_LOOP
    pads = ((4, 4), (3, 5))
    with kernels.metering() as meter:
        out = kernels.depthwise_conv(x, w, b, (2, 1), pads, (1, 1))
    close(out, loop_depthwise_nd(x, w, b, (2, 1), pads, (1, 1)))
    assert meter.macs == prod(out.shape) * 9 * 9


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize(
    "pool, stride, pads", [((20, 17), (3, 1), ((0, 1), (2, 2))), ((19, 2), (19, 2), ((0, 0), (0, 0)))]
)
def test_large_pool_windows_take_running_sums_and_doubling(mode, pool, stride, pads):
    """Axes of more than SMALL_WINDOW taps: a difference of running sums (avg) or doubling passes (max)."""
    assert max(pool) > kernels.SMALL_WINDOW
    x = rand(np.random.default_rng(25), 2, 25, 18, 2) + 5  # away from zero, as after a ReLU
    close(kernels.pool(x, mode, pool, stride, pads), loop_pool_nd(x, mode, pool, stride, pads))


@pytest.mark.parametrize("size", [(3,), (2, 3, 4)])
def test_adaptive_avg_pool_of_rank_1_and_3(size):
    shape = (7, 3) if len(size) == 1 else (5, 7, 6, 2)
    x = rand(np.random.default_rng(26), 2, *shape)
    sizes = shape[:-1]

    def mean_of_bins(i, o):
        bins = [range(math.floor(j * n / s), math.ceil((j + 1) * n / s)) for j, n, s in zip(o, sizes, size)]
        return [
            sum(float(x[(i, *pos, ch)]) for pos in itertools.product(*bins)) / prod(len(b) for b in bins)
            for ch in range(shape[-1])
        ]

    expected = [mean_of_bins(i, o) for i in range(2) for o in itertools.product(*(range(s) for s in size))]
    close(kernels.adaptive_avg_pool(x, size), np.array(expected).reshape(2, *size, shape[-1]))
