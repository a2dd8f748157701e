"""NumPy kernels that the layers' ``forward`` methods call, and the meter that counts their MACs.

Arrays are float32, channels last, with a leading batch axis: (N, L, C), (N, H, W, C)
or (N, D, H, W, C) for 1 to 3 spatial axes S, vectors (N, C). Padding amounts are
((before, after), ...) per spatial axis. Convolution kernels are (*K, C / groups, F)
and depthwise kernels (*K, C, multiplier), whose output channel c x multiplier + m
comes from input channel c (Keras order). A kernel that uses scratch buffers has a
``*_scratch`` companion giving their bytes per role, for the layers' memory rules.

Every multiply-accumulate goes through the current :class:`Meter`, which counts it
from the shapes of the operands it is handed: m x k x n for each matrix product,
one per element for each element-wise multiply-add. Nothing here knows the
analyzer's formulas.
"""

from __future__ import annotations

import itertools
import math
from contextlib import contextmanager
from math import prod

import numpy as np
from numpy.lib.stride_tricks import as_strided

DTYPE = np.float32
TOKEN_DTYPE = np.int32  # integer token ids fed to embeddings
ITEMSIZE = np.dtype(DTYPE).itemsize


class Meter:
    """Runs every contraction and counts its multiply-accumulates from the operand shapes."""

    def __init__(self):
        self.macs = 0
        self.statistics = []  # arrays a kernel consumed as running statistics, not as trained values

    def running_statistics(self, *arrays):
        """Note arrays used as statistics gathered in training (batch norm's moving mean and variance)."""
        self.statistics.extend(a for a in arrays if a is not None)

    def matmul(self, a, b, out=None):
        """a @ b for (..., m, k) by (..., k, n): batch x m x k x n MACs."""
        out = np.matmul(a, b, out=out)
        *batch, m, k = a.shape
        n = b.shape[-1]
        self.macs += prod(np.broadcast_shapes(tuple(batch), b.shape[:-2])) * m * k * n
        return out

    def multiply_add(self, acc, a, b, scratch=None):
        """acc += a * b element-wise (acc=None starts a sum); one MAC per product."""
        shape = np.broadcast_shapes(a.shape, b.shape)
        if acc is None:
            acc = np.multiply(a, b)
        else:
            if shape != acc.shape:
                raise ValueError(f"products of shape {shape} cannot accumulate into {acc.shape}")
            acc += np.multiply(a, b, out=scratch)
        self.macs += prod(shape)
        return acc


_meter = Meter()  # a throw-away meter when nothing is metering


@contextmanager
def metering():
    """Route the kernels' contractions through a fresh Meter for the duration of the block."""
    global _meter
    outer, _meter = _meter, Meter()
    try:
        yield _meter
    finally:
        _meter = outer


# ---------------------------------------------------------------- scratch buffers

_buffers: dict | None = None  # name -> flat array while reusing_buffers() is active


@contextmanager
def reusing_buffers():
    """Keep scratch buffers (padded inputs, im2col patches) for reuse by every call in the block.

    A fresh large array costs a page fault per page on first touch; reusing one buffer
    per role across layers pays that once per run instead of once per layer.
    """
    global _buffers
    outer, _buffers = _buffers, {}
    try:
        yield
    finally:
        _buffers = outer


_batch = 1  # the batch of the run in progress, for tensors that have no input to take it from


@contextmanager
def batch_of(n: int):
    """Set the batch that batched() broadcasts to for the duration of the block."""
    global _batch
    outer, _batch = _batch, n
    try:
        yield
    finally:
        _batch = outer


def batched(array):
    """A read-only view of array repeated along a new leading batch axis of the current batch."""
    return np.broadcast_to(array, (_batch, *array.shape))


def scratch(role, shape, dtype=DTYPE):
    """An uninitialised array for temporary use inside one kernel call; never returned to a caller.

    Reused per role while reusing_buffers() is active; a layer states each role's bytes in
    its scratch() rule so the runner's memory estimate counts them.
    """
    if _buffers is None:
        return np.empty(shape, dtype)
    size = prod(shape)
    buf = _buffers.get(role)
    if buf is None or buf.size < size:
        _buffers.pop(role, None)
        buf = _buffers[role] = np.empty(size, dtype)
    return buf[:size].reshape(shape)


# ---------------------------------------------------------------- sliding windows of any rank


def _padded_shape(shape, pads) -> tuple:
    """(N, *S, C) grown by ((before, after), ...) on each spatial axis."""
    return (shape[0], *(size + b + a for size, (b, a) in zip(shape[1:-1], pads)), shape[-1])


def _along(axis, part) -> tuple:
    """An index that takes part (a slice) on axis and everything on the axes before it."""
    return (slice(None),) * axis + (part,)


def _padded(x, pads, value=0.0, reuse=True):
    """(N, *S, C) -> (N, *S padded, C) with the border filled with value; x itself without padding."""
    if not any(b or a for b, a in pads):
        return x
    shape = _padded_shape(x.shape, pads)
    out = scratch("padded", shape, x.dtype) if reuse else np.empty(shape, x.dtype)
    for axis, (size, (b, _)) in enumerate(zip(x.shape[1:-1], pads), start=1):
        out[_along(axis, slice(0, b))] = value
        out[_along(axis, slice(b + size, None))] = value
    out[(slice(None), *(slice(b, b + size) for size, (b, _) in zip(x.shape[1:-1], pads)))] = x
    return out


def _out_size(size, k, stride, dilation):
    span = dilation * (k - 1) + 1
    if size < span:
        raise ValueError(f"a window of {span} does not fit in {size}")
    return (size - span) // stride + 1


def _out_sizes(padded, kernel, stride, dilation) -> tuple:
    """Output size per spatial axis of a padded (N, *S, C) shape."""
    return tuple(_out_size(*a) for a in zip(padded[1:-1], kernel, stride, dilation))


def _windows(xp, kernel, stride, dilation):
    """Read-only view (N, *O, *K, C) of every window of the padded input; no copy."""
    out = _out_sizes(xp.shape, kernel, stride, dilation)
    bn, *bs, bc = xp.strides
    steps = tuple(b * s for b, s in zip(bs, stride))
    taps = tuple(b * d for b, d in zip(bs, dilation))
    return as_strided(xp, (xp.shape[0], *out, *kernel, xp.shape[-1]), (bn, *steps, *taps, bc), writeable=False)


def _taps(xp, kernel, stride, dilation, out):
    """Yield (tap index, view) per kernel tap: the (N, *O, C) inputs that tap meets."""
    for tap in itertools.product(*(range(k) for k in kernel)):
        parts = (slice(i * d, i * d + (o - 1) * s + 1, s) for i, d, o, s in zip(tap, dilation, out, stride))
        yield tap, xp[(slice(None), *parts)]


def _add_bias(out, bias):
    if bias is not None:
        if bias.shape != (out.shape[-1],):
            raise ValueError(f"bias of shape {bias.shape} does not match {out.shape[-1]} output channels")
        out += bias
    return out


CHUNK_BYTES = 16 * 2**20  # im2col patches per GEMM: small enough to be in cache when BLAS reads them


def _chunks(n, oh, row_bytes):
    """(image slice, output-row slice) pieces of at most about CHUNK_BYTES of patches, covering (n, oh) in order.

    A row is one position of the first spatial axis: all outputs along the others.
    """
    if n * oh * row_bytes <= CHUNK_BYTES:
        yield slice(0, n), slice(0, oh)
    elif oh * row_bytes <= CHUNK_BYTES:
        step = CHUNK_BYTES // (oh * row_bytes)
        for i in range(0, n, step):
            yield slice(i, min(n, i + step)), slice(0, oh)
    else:
        step = max(1, CHUNK_BYTES // row_bytes)
        for i in range(n):
            for y in range(0, oh, step):
                yield slice(i, i + 1), slice(y, min(oh, y + step))


def _largest_chunk(n, oh, row_bytes) -> int:
    """Bytes of the largest piece _chunks yields, in closed form (a layer may have billions of rows)."""
    if n * oh * row_bytes <= CHUNK_BYTES:
        return n * oh * row_bytes
    if oh * row_bytes <= CHUNK_BYTES:
        return min(n, CHUNK_BYTES // (oh * row_bytes)) * oh * row_bytes
    return min(oh, max(1, CHUNK_BYTES // row_bytes)) * row_bytes


def im2col_bytes(n, out, kernel, c, itemsize=ITEMSIZE, stride=None, groups=1) -> int:
    """Bytes of the largest im2col chunk conv builds for n images, output sizes out and a kernel of
    sizes kernel over c channels (0 where it needs none: a 1x1 kernel at stride 1, ungrouped)."""
    if prod(kernel) == 1 and all(s == 1 for s in stride or ()) and groups == 1:
        return 0
    return _largest_chunk(n, out[0], prod(out[1:]) * prod(kernel) * c * itemsize)


def conv(x, kernel, bias, stride, pads, dilation, groups):
    """(N, *S, C) conv (*K, C / groups, F) -> (N, *O, F) as GEMMs over im2col patches, any rank.

    The patch matrix (N prod(O), prod(K) C) is the strided windows view copied out, in
    chunks of whole output rows (see CHUNK_BYTES) so each chunk is still in cache for
    its GEMM; a 1x1 kernel at stride 1 needs no copy. With groups > 1 each chunk is
    regrouped to (groups, rows, prod(K) C / groups) for one batched matmul.
    """
    n, c = x.shape[0], x.shape[-1]
    *ks, cg, f = kernel.shape
    if cg * groups != c or f % groups or x.ndim != len(ks) + 2:
        raise ValueError(f"kernel {kernel.shape} with {groups} group(s) does not fit an input of {c} channels")
    if bias is not None and bias.shape != (f,):
        raise ValueError(f"bias of shape {bias.shape} does not match {f} output channels")
    r, taps = len(ks), prod(ks)
    xp = _padded(x, pads)
    win = _windows(xp, ks, stride, dilation)
    out_sizes = win.shape[1 : 1 + r]
    out = np.empty((n, *out_sizes, f), dtype=x.dtype)
    fg = f // groups
    weights = kernel.reshape(taps * cg, groups, fg).transpose(1, 0, 2)  # (groups, prod(K) cg, fg)
    if groups == 1 and taps == 1 and all(s == 1 for s in stride):
        # every input position is one patch: the padded input is already the patch matrix
        _meter.matmul(xp.reshape(-1, c), weights[0], out=out.reshape(-1, f))
        return _add_bias(out, bias)
    for images, rows in _chunks(n, out_sizes[0], prod(out_sizes[1:]) * taps * c * x.itemsize):
        src, dst = win[images, rows], out[images, rows]
        m = prod(src.shape[: 1 + r])
        if groups == 1:
            cols = scratch("cols", src.shape, x.dtype)
            np.copyto(cols, src)
            _meter.matmul(cols.reshape(m, taps * c), weights[0], out=dst.reshape(m, f))
        else:
            cols = scratch("cols", (groups, *src.shape[:-1], cg), x.dtype)
            np.copyto(cols, np.moveaxis(src.reshape(*src.shape[:-1], groups, cg), -2, 0))
            # each group's product lands in its own channel range of the output
            _meter.matmul(
                cols.reshape(groups, m, taps * cg), weights, out=dst.reshape(m, groups, fg).transpose(1, 0, 2)
            )
        _add_bias(dst, bias)
    return out


def conv_scratch(shape, kernel, stride, pads, dilation, groups) -> dict[str, int]:
    """Bytes per scratch role conv needs for an input of shape (N, *S, C) and a kernel of shape (*K, C / groups, F)."""
    *ks, _, _ = kernel
    padded = _padded_shape(shape, pads)
    need = {"padded": ITEMSIZE * prod(padded)} if padded != tuple(shape) else {}
    out = _out_sizes(padded, ks, stride, dilation)
    need["cols"] = im2col_bytes(shape[0], out, ks, shape[-1], ITEMSIZE, stride, groups)
    return need


TAP_LOOP = 64  # depthwise kernels up to this many taps loop over taps; larger ones go through GEMMs


def depthwise_conv(x, kernel, bias, stride, pads, dilation):
    """(N, *S, C) depthwise (*K, C, mult) -> (N, *O, C x mult), vectorised over channels, any rank.

    Up to TAP_LOOP taps, one multiply-add over the whole (N, *O, C, mult) output per tap.
    A larger window (a 2500 x 2500 one, say) is one batched GEMM per chunk of im2col
    patches instead, (C, rows, prod(K)) @ (C, prod(K), mult), so Python never loops per tap.
    """
    n, c = x.shape[0], x.shape[-1]
    *ks, kc, mult = kernel.shape
    if kc != c or x.ndim != len(ks) + 2:
        raise ValueError(f"depthwise kernel {kernel.shape} does not fit an input of {c} channels")
    r, taps = len(ks), prod(ks)
    xp = _padded(x, pads)
    out_sizes = _out_sizes(xp.shape, ks, stride, dilation)
    if taps <= TAP_LOOP:
        acc = products = None
        for tap, view in _taps(xp, ks, stride, dilation, out_sizes):
            acc = _meter.multiply_add(acc, view[..., None], kernel[tap], products)
            if products is None:
                products = scratch("products", acc.shape, acc.dtype)
        return _add_bias(acc.reshape(n, *out_sizes, c * mult), bias)
    win = _windows(xp, ks, stride, dilation)
    out = np.empty((n, *out_sizes, c * mult), dtype=x.dtype)
    weights = kernel.reshape(taps, c, mult).transpose(1, 0, 2)  # (C, prod(K), mult)
    for images, rows in _chunks(n, out_sizes[0], prod(out_sizes[1:]) * taps * c * x.itemsize):
        src, dst = win[images, rows], out[images, rows]
        m = prod(src.shape[: 1 + r])
        cols = scratch("cols", (c, *src.shape[:-1]), x.dtype)
        np.copyto(cols, np.moveaxis(src, -1, 0))
        _meter.matmul(cols.reshape(c, m, taps), weights, out=dst.reshape(m, c, mult).transpose(1, 0, 2))
    return _add_bias(out, bias)


def depthwise_conv_scratch(shape, kernel, stride, pads, dilation) -> dict[str, int]:
    """Bytes per scratch role depthwise_conv needs for an input of shape (N, *S, C) and a kernel of shape (*K, C, mult)."""
    *ks, c, mult = kernel
    padded = _padded_shape(shape, pads)
    need = {"padded": ITEMSIZE * prod(padded)} if padded != tuple(shape) else {}
    out = _out_sizes(padded, ks, stride, dilation)
    if prod(ks) <= TAP_LOOP:
        need["products"] = ITEMSIZE * shape[0] * prod(out) * c * mult
    else:
        need["cols"] = _largest_chunk(shape[0], out[0], prod(out[1:]) * prod(ks) * c * ITEMSIZE)
    return need


def dense(x, kernel, bias):
    """(N, ..., C_in) @ (C_in, units) -> (N, ..., units).

    kernel is an array, or a weight too large to hold whole that yields (row slice,
    block) pieces from row_blocks() (the runner's TiledWeight): then the product is
    summed over row blocks; or (column slice, block) pieces from column_blocks() (a
    tiled weight read transposed): then each block gives its own output columns.
    """
    c_in, units = kernel.shape
    if x.shape[-1] != c_in:
        raise ValueError(f"dense kernel {kernel.shape} does not fit an input of {x.shape[-1]} features")
    a = x.reshape(-1, c_in)
    if isinstance(kernel, np.ndarray):
        out = _meter.matmul(a, kernel)
    elif hasattr(kernel, "column_blocks"):  # a large weight read transposed: its column blocks
        out = np.empty((a.shape[0], units), dtype=a.dtype)
        for cols, block in kernel.column_blocks():
            _meter.matmul(a, block, out=out[:, cols])
    else:
        out = np.zeros((a.shape[0], units), dtype=a.dtype)
        for rows, block in kernel.row_blocks():
            out += _meter.matmul(a[:, rows], block)
    return _add_bias(out, bias).reshape(*x.shape[:-1], units)


# ---------------------------------------------------------------- pooling
#
# A pooling window is a box, so max and sum go one spatial axis at a time. Along an axis,
# a window of up to SMALL_WINDOW taps is that many strided passes; a longer one is a
# difference of running sums (avg, in float64 so long axes lose nothing) or log2(k)
# doubling passes (max), so Python never loops per tap of a huge window.

SMALL_WINDOW = 16


def pool_output_size(size, k, stride, before, after, ceil_mode=False):
    """PyTorch's pooling output length: floor or ceil rounding; in ceil mode the last window
    must start inside the input or its left padding, else it is dropped."""
    span = size + before + after - k
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + before:
        out -= 1
    return out


def _counts(size, k, stride, before, after, out, include_pad):
    """Per output position along one axis, the elements an average divides by: those inside the
    input, or with include_pad those inside the input and its padding (PyTorch's count_include_pad;
    what ceil mode adds past the padding never counts)."""
    start = np.arange(out) * stride - before
    if include_pad:
        return np.minimum(start + k, size + after) - start
    return np.maximum(np.minimum(start + k, size) - np.maximum(start, 0), 1)


def _pool_geometry(size, pool, stride, pads, ceil_mode):
    """(output sizes, padding per axis) for pooling; ceil mode's last window may overhang the
    padding after the input, which is then padded too, with the same neutral value."""
    outs = []
    for i, k, s, (b, a) in zip(size, pool, stride, pads):
        if i + b + a < k:
            raise ValueError(f"a window of {k} does not fit in {i + b + a}")
        outs.append(pool_output_size(i, k, s, b, a, ceil_mode))
    fill = tuple((b, max(a, (o - 1) * s + k - i - b)) for i, k, s, (b, a), o in zip(size, pool, stride, pads, outs))
    return outs, fill


def _with(shape, axis, size) -> tuple:
    return (*shape[:axis], size, *shape[axis + 1 :])


def _strided(a, axis, start, step, count):
    """count positions start, start + step, ... of a along axis."""
    return a[_along(axis, slice(start, start + (count - 1) * step + 1, step))]


def _running_sum(src, axis):
    """float64 sums of src along axis from its start, with a leading zero: S[i] = src[0] + ... + src[i - 1]."""
    cum = scratch("cumsum", _with(src.shape, axis, src.shape[axis] + 1), np.float64)
    cum[_along(axis, slice(0, 1))] = 0
    rest = cum[_along(axis, slice(1, None))]
    np.copyto(rest, src)  # widened first and summed in place: a cumsum that casts makes a float64 copy of src
    np.cumsum(rest, axis=axis, out=rest)
    return cum


def _pool_axis(src, dst, axis, mode, k, s):
    """dst = max or sum of src over windows of k along axis, at stride s."""
    o = dst.shape[axis]
    if k <= SMALL_WINDOW:
        np.copyto(dst, _strided(src, axis, 0, s, o))
        for j in range(1, k):
            (np.maximum if mode == "max" else np.add)(dst, _strided(src, axis, j, s, o), out=dst)
    elif mode == "avg":
        cum = _running_sum(src, axis)
        np.subtract(_strided(cum, axis, k, s, o), _strided(cum, axis, 0, s, o), out=dst, casting="same_kind")
    else:
        # sparse table: after each pass span[i] is the max of the width values from i
        span, width, flip = src, 1, 0
        while 2 * width <= k:
            length = span.shape[axis] - width
            nxt = scratch(f"span{flip}", _with(span.shape, axis, length), src.dtype)
            np.maximum(_strided(span, axis, 0, 1, length), _strided(span, axis, width, 1, length), out=nxt)
            span, width, flip = nxt, 2 * width, 1 - flip
        # a window of k is two spans of width (a power of two, at most k) from its two ends
        np.maximum(_strided(span, axis, 0, s, o), _strided(span, axis, k - width, s, o), out=dst)


def pool(x, mode, pool, stride, pads, ceil_mode=False, include_pad=False):
    """Max or average over (N, *S, C) windows of any rank -> (N, *O, C).

    Padding never wins a max. An average divides by the window's elements inside the input,
    or with include_pad inside the input and its padding; ceil_mode rounds the output size
    up (see pool_output_size).
    """
    r = x.ndim - 2
    outs, fill = _pool_geometry(x.shape[1:-1], pool, stride, pads, ceil_mode)
    src = _padded(x, fill, -np.inf if mode == "max" else 0.0)
    for axis in range(1, r + 1):
        shape = _with(src.shape, axis, outs[axis - 1])
        dst = np.empty(shape, x.dtype) if axis == r else scratch(f"pooled{axis % 2}", shape, x.dtype)
        _pool_axis(src, dst, axis, mode, pool[axis - 1], stride[axis - 1])
        src = dst
    if mode == "avg":
        for axis, (size, k, s, (b, a), o) in enumerate(zip(x.shape[1:-1], pool, stride, pads, outs), start=1):
            counts = _counts(size, k, s, b, a, o, include_pad).astype(x.dtype)
            dst /= counts.reshape((-1,) + (1,) * (r + 1 - axis))
    return dst


def pool_scratch(shape, mode, pool, stride, pads, ceil_mode=False) -> dict[str, int]:
    """Bytes per scratch role pool needs for an input of shape (N, *S, C)."""
    outs, fill = _pool_geometry(shape[1:-1], pool, stride, pads, ceil_mode)
    padded = _padded_shape(shape, fill)
    need = {"padded": ITEMSIZE * prod(padded)} if padded != tuple(shape) else {}
    r = len(pool)
    src = padded

    def hold(role, size):
        need[role] = max(need.get(role, 0), size)

    for axis in range(1, r + 1):
        k, length = pool[axis - 1], src[axis]
        rest = prod(src) // length
        if k > SMALL_WINDOW and mode == "avg":
            hold("cumsum", 8 * rest * (length + 1))
        elif k > SMALL_WINDOW:
            hold("span0", ITEMSIZE * rest * (length - 1))
            hold("span1", ITEMSIZE * rest * (length - 3))
        src = _with(src, axis, outs[axis - 1])
        if axis < r:
            hold(f"pooled{axis % 2}", ITEMSIZE * prod(src))
    return need


def global_pool(x, mode):
    """(N, *S, C) -> (N, C): mean or max over all positions."""
    axes = tuple(range(1, x.ndim - 1))
    return x.max(axis=axes) if mode == "max" else x.mean(axis=axes, dtype=x.dtype)


def adaptive_avg_pool(x, size):
    """(N, *S, C) -> (N, *size, C) with PyTorch's bins [floor(i n / o), ceil((i + 1) n / o)) on each axis.

    Axis by axis, each bin's sum is a difference of running sums (float64), so a huge
    output size costs no Python loop per bin.
    """
    r = len(size)
    src = x
    for axis, o in enumerate(size, start=1):
        n = src.shape[axis]
        i = np.arange(o, dtype=np.int64)
        starts, ends = (i * n) // o, -((-(i + 1) * n) // o)
        cum = _running_sum(src, axis)
        shape = _with(src.shape, axis, o)
        sums = np.take(cum, ends, axis=axis, out=scratch("bin_end", shape, np.float64), mode="clip")
        sums -= np.take(cum, starts, axis=axis, out=scratch("bin_start", shape, np.float64), mode="clip")
        sums /= (ends - starts).reshape((-1,) + (1,) * (r + 1 - axis))
        dst = np.empty(shape, x.dtype) if axis == r else scratch(f"pooled{axis % 2}", shape, x.dtype)
        np.copyto(dst, sums, casting="same_kind")
        src = dst
    return src


def adaptive_avg_pool_scratch(shape, size) -> dict[str, int]:
    """Bytes per scratch role adaptive_avg_pool needs for an input of shape (N, *S, C)."""
    need: dict[str, int] = {}
    src = tuple(shape)
    for axis, o in enumerate(size, start=1):
        rest = prod(src) // src[axis]
        need["cumsum"] = max(need.get("cumsum", 0), 8 * rest * (src[axis] + 1))
        src = _with(src, axis, o)
        for role in ("bin_end", "bin_start"):
            need[role] = max(need.get(role, 0), 8 * prod(src))
        need["bin_index"] = max(need.get("bin_index", 0), 4 * 8 * o)  # the int64 bin bounds and their temporaries
        if axis < len(size):
            need[f"pooled{axis % 2}"] = max(need.get(f"pooled{axis % 2}", 0), ITEMSIZE * prod(src))
    return need


# ---------------------------------------------------------------- element-wise and structural


def flatten(x):
    """(N, H, W, C) -> (N, H x W x C) in row-major (H, W, C) order."""
    return x.reshape(x.shape[0], -1)


def rescale(x, scale, offset):
    """x * scale + offset with constants (Keras' Rescaling)."""
    out = x * np.float32(scale)
    if offset:
        out += np.float32(offset)
    return out


def normalize(x, mean, variance, count, eps):
    """(x - mean) / max(sqrt(variance), eps) per channel (Keras' Normalization); count is its bookkeeping."""
    c = x.shape[-1]
    for name, w in (("mean", mean), ("variance", variance)):
        if w.shape != (c,):
            raise ValueError(f"normalize {name} of shape {w.shape} does not match {c} channels")
    if count.shape != ():
        raise ValueError(f"normalize count of shape {count.shape} is not a scalar")
    _meter.running_statistics(mean, variance, count)
    return (x - mean) / np.maximum(np.sqrt(variance), np.float32(eps))


def batch_norm(x, gamma, beta, mean, var, eps):
    """Inference form: (x - mean) / sqrt(var + eps) x gamma + beta, folded to one scale and shift."""
    c = x.shape[-1]
    for name, w in (("gamma", gamma), ("beta", beta), ("moving_mean", mean), ("moving_variance", var)):
        if w is not None and w.shape != (c,):
            raise ValueError(f"batch norm {name} of shape {w.shape} does not match {c} channels")
    _meter.running_statistics(mean, var)
    scale = 1.0 / np.sqrt(var + eps)
    if gamma is not None:
        scale = scale * gamma
    shift = -mean * scale
    if beta is not None:
        shift = shift + beta
    out = x * scale
    out += shift
    return out


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # = 1 / (1 + e^-x) without overflow


def _relu6(x):
    return np.clip(x, 0.0, 6.0)


def _gelu(x):
    """x Phi(x) = 0.5 x (1 + erf(x / sqrt 2)), erf by Abramowitz and Stegun 7.1.26 (|error| < 1.5e-7).

    |x| / sqrt 2 is clipped at 4, where erf is 1 to float32 precision, so exp(-a^2) never
    reaches the subnormal floats that make arithmetic a hundred times slower; the
    polynomial runs in place on two buffers.
    """
    a = np.abs(x) * np.float32(1 / math.sqrt(2))
    np.minimum(a, 4, out=a)
    t = a * np.float32(0.3275911)
    t += 1
    np.reciprocal(t, out=t)
    poly = t * np.float32(1.061405429)
    for c in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
        poly += np.float32(c)
        poly *= t
    np.square(a, out=a)
    np.negative(a, out=a)
    np.exp(a, out=a)
    poly *= a
    np.subtract(1, poly, out=poly)  # erf(|x| / sqrt 2)
    np.copysign(poly, x, out=poly)  # erf(x / sqrt 2)
    poly *= np.float32(0.5)
    poly += np.float32(0.5)  # Phi(x)
    poly *= x
    return poly


def _gelu_tanh(x):
    """0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))), GPT-2's form; x^3 as products, not a power."""
    inner = x * x
    inner *= np.float32(0.044715)
    inner += 1
    inner *= x
    inner *= np.float32(math.sqrt(2 / math.pi))
    np.tanh(inner, out=inner)
    inner += 1
    inner *= x
    inner *= np.float32(0.5)
    return inner


_ACTIVATIONS = {
    "relu": lambda x, alpha: np.maximum(x, 0.0),
    "relu6": lambda x, alpha: _relu6(x),
    "leaky_relu": lambda x, alpha: np.where(x > 0, x, alpha * x),
    "elu": lambda x, alpha: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0))),
    "sigmoid": lambda x, alpha: _sigmoid(x),
    "hard_sigmoid": lambda x, alpha: _relu6(x + 3.0) / 6.0,
    "tanh": lambda x, alpha: np.tanh(x),
    "swish": lambda x, alpha: x * _sigmoid(x),
    "hard_swish": lambda x, alpha: x * (_relu6(x + 3.0) / 6.0),
    "gelu": lambda x, alpha: _gelu(x),
    "gelu_tanh": lambda x, alpha: _gelu_tanh(x),
    "silu": lambda x, alpha: x * _sigmoid(x),
    "linear": lambda x, alpha: x,
}


def activation(x, fn, alpha):
    """Element-wise fn; alpha is leaky_relu's negative slope and elu's scale.

    hard_sigmoid is relu6(x + 3) / 6 (Keras 3, PyTorch); gelu is the exact erf form.
    A function of several passes runs over pieces of ACTIVATION_CHUNK elements, so its
    temporaries stay in cache between passes.
    """
    f, alpha = _ACTIVATIONS[fn], float(alpha)
    if fn in _ONE_PASS or x.size <= ACTIVATION_CHUNK:
        return f(x, alpha).astype(x.dtype, copy=False)
    flat = np.ascontiguousarray(x).reshape(-1)
    out = np.empty_like(flat)
    for i in range(0, flat.size, ACTIVATION_CHUNK):
        out[i : i + ACTIVATION_CHUNK] = f(flat[i : i + ACTIVATION_CHUNK], alpha)
    return out.reshape(x.shape)


ACTIVATION_CHUNK = 65536  # 256 KiB of float32: a few such temporaries fit in L2
_ONE_PASS = ("relu", "linear")


def pad(x, pads):
    """Zero-pad every spatial axis of (N, *S, C) by ((before, after), ...)."""
    return _padded(x, pads, reuse=False)


def add(xs):
    """Element-wise sum of arrays whose per-sample shapes broadcast (a residual shortcut: equal shapes)."""
    xs = _aligned(xs)
    out = xs[0] + xs[1]
    for y in xs[2:]:
        out = out + y
    return out


def subtract(xs):
    """xs[0] - xs[1], per-sample shapes broadcasting."""
    a, b = _aligned(xs)
    return a - b


def divide(xs):
    """xs[0] / xs[1], per-sample shapes broadcasting."""
    a, b = _aligned(xs)
    return a / b


def _aligned(xs):
    """Arrays with the batch first given equal rank, so NumPy broadcasts their per-sample axes trailing-aligned."""
    rank = max(x.ndim for x in xs)
    return [x.reshape(x.shape[0], *(1,) * (rank - x.ndim), *x.shape[1:]) for x in xs]


def concat(xs, axis):
    """Join along axis, counted with the batch axis."""
    return np.concatenate(xs, axis=axis)


def softmax(x):
    """Softmax over the last axis, shifted by the maximum so exp never overflows."""
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    e /= e.sum(axis=-1, keepdims=True)
    return e


# ---------------------------------------------------------------- sequences, normalisation and attention


def layer_norm(x, gamma, beta, axes, eps):
    """Normalise over the last ``axes`` axes to zero mean and unit variance, then scale by gamma and shift by beta.

    gamma and beta (or None) have the shape of those axes, x.shape[-axes:].
    """
    shape = x.shape[-axes:]
    for name, w in (("gamma", gamma), ("beta", beta)):
        if w is not None and w.shape != shape:
            raise ValueError(f"layer norm {name} of shape {w.shape} does not match the normalised axes {shape}")
    over = tuple(range(x.ndim - axes, x.ndim))
    centred = x - x.mean(axis=over, keepdims=True, dtype=x.dtype)
    variance = np.mean(np.square(centred), axis=over, keepdims=True, dtype=x.dtype)
    centred *= 1.0 / np.sqrt(variance + np.float32(eps))
    if gamma is not None:
        centred *= gamma
    if beta is not None:
        centred += beta
    return centred


def rms_norm(x, gamma, eps):
    """x / sqrt(mean(x^2) + eps) over the last axis, times gamma (or None) of shape (C,)."""
    if gamma is not None and gamma.shape != x.shape[-1:]:
        raise ValueError(f"RMS norm gamma of shape {gamma.shape} does not match {x.shape[-1]} features")
    out = x * (1.0 / np.sqrt(np.mean(np.square(x), axis=-1, keepdims=True, dtype=x.dtype) + np.float32(eps)))
    if gamma is not None:
        out *= gamma
    return out


def embedding(ids, table):
    """Integer ids (N, ...) -> rows of table (vocab, dim): (N, ..., dim).

    table is an array, or a weight too large to hold whole that yields (row slice, block)
    pieces from row_blocks(): then each block serves the ids that fall in its rows.
    """
    if not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"embedding ids must be integers, not {ids.dtype}")
    vocab, dim = table.shape
    if ids.size and (ids.min() < 0 or ids.max() >= vocab):
        raise ValueError(f"token ids must lie in [0, {vocab}), got {ids.min()} to {ids.max()}")
    if isinstance(table, np.ndarray):
        return table[ids]
    flat = ids.reshape(-1)
    out = np.empty((flat.size, dim), dtype=table.dtype)
    for rows, block in table.row_blocks():
        hit = (flat >= rows.start) & (flat < rows.stop)
        out[hit] = block[flat[hit] - rows.start]
    return out.reshape(*ids.shape, dim)


def matmul(a, b, transpose_a=False, transpose_b=False):
    """(N, ..., m, k) @ (N, ..., k, n) -> (N, ..., m, n), either operand read transposed; batch axes broadcast."""
    if transpose_a:
        a = np.swapaxes(a, -1, -2)
    if transpose_b:
        b = np.swapaxes(b, -1, -2)
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(f"cannot multiply (..., {a.shape[-2]}, {a.shape[-1]}) by (..., {b.shape[-2]}, {b.shape[-1]})")
    return _meter.matmul(a, b)


def cache_values(n, positions, kv_heads, head_dim):
    """Keys and values (N, positions, kv_heads, head_dim) standing for a cache of earlier positions: seeded random."""
    rng = np.random.default_rng(positions)
    shape = (n, positions, kv_heads, head_dim)
    return rng.standard_normal(shape, dtype=DTYPE), rng.standard_normal(shape, dtype=DTYPE)


def rotary(x, positions, base):
    """Rotary position embedding (RoPE) in the rotate-half form of GPT-NeoX and Llama.

    x is (N, heads, L, head_dim) with head_dim even; positions (L,) are absolute. Feature i
    and i + head_dim / 2 rotate by the angle position x base^(-2i / head_dim).
    """
    half = x.shape[-1] // 2
    freq = base ** (-np.arange(half, dtype=np.float64) * 2 / x.shape[-1])
    angle = np.asarray(positions, dtype=np.float64)[:, None] * freq  # (L, half)
    cos, sin = np.cos(angle).astype(x.dtype), np.sin(angle).astype(x.dtype)
    x1, x2 = x[..., :half], x[..., half:]
    return np.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin], axis=-1)


def attention(x, memory, w, heads, kv_heads, head_dim, causal=False, cache=None, rotary_base=None):
    """Multi-head attention with grouped key/value heads: (N, Lq, D) -> (N, Lq, D_out).

    w holds the projections as (in, out) kernels and optional biases: self attention
    (memory None) reads "qkv_kernel" (D, (heads + 2 kv_heads) head_dim) and "qkv_bias";
    cross attention reads "q_kernel" from x and "kv_kernel" (D_kv, 2 kv_heads head_dim) from
    memory (N, Lm, D_kv); both end with "out_kernel" (heads head_dim, D_out) and "out_bias".
    cache, if given, is (past keys, past values), each (N, P, kv_heads, head_dim): the keys and
    values of P earlier positions, already projected (and rotated). The new keys follow them,
    so query i sits at position P + i; causal masks the keys after it. Scores are scaled by
    1 / sqrt(head_dim) and normalised by a softmax over the keys; the products QK^T and AV are
    batched matrix products, metered like every projection.
    """
    n, lq, _ = x.shape
    group = heads // kv_heads
    kv_width = kv_heads * head_dim
    if memory is None:
        qkv = dense(x, w["qkv_kernel"], w.get("qkv_bias"))
        q, kv = qkv[..., : heads * head_dim], qkv[..., heads * head_dim :]
    else:
        q = dense(x, w["q_kernel"], w.get("q_bias"))
        kv = dense(memory, w["kv_kernel"], w.get("kv_bias"))
    if kv.shape[-1] != 2 * kv_width or q.shape[-1] != heads * head_dim:
        raise ValueError(
            f"projections of width {q.shape[-1]} and {kv.shape[-1]} do not fit {heads} heads and {kv_heads} key/value heads of {head_dim}"
        )
    lk = kv.shape[1]
    # (N, L, heads, head_dim) -> (N, heads, L, head_dim)
    q = q.reshape(n, lq, heads, head_dim).transpose(0, 2, 1, 3)
    k = kv[..., :kv_width].reshape(n, lk, kv_heads, head_dim).transpose(0, 2, 1, 3)
    v = kv[..., kv_width:].reshape(n, lk, kv_heads, head_dim).transpose(0, 2, 1, 3)
    past = 0 if cache is None else cache[0].shape[1]
    if rotary_base is not None:
        q = rotary(q, np.arange(past, past + lq), rotary_base)
        k = rotary(k, np.arange(past, past + lk), rotary_base)
    if cache is not None:
        k = np.concatenate([cache[0].transpose(0, 2, 1, 3), k], axis=2)
        v = np.concatenate([cache[1].transpose(0, 2, 1, 3), v], axis=2)
    keys = k.shape[2]
    # the heads of one group share their key and value head: (N, kv_heads, group x Lq, head_dim);
    # the copy also scales the queries, which scales the scores by 1 / sqrt(head_dim)
    q = np.multiply(q, np.float32(1.0 / math.sqrt(head_dim)), out=np.empty(q.shape, q.dtype))
    q = q.reshape(n, kv_heads, group * lq, head_dim)
    scores = _meter.matmul(q, np.swapaxes(k, -1, -2))  # (N, kv_heads, group x Lq, keys)
    if causal:
        # query i at position past + i sees keys 0 .. past + i
        hidden = np.arange(keys)[None, :] > past + np.arange(lq)[:, None]
        scores.reshape(n, kv_heads, group, lq, keys)[..., hidden] = -np.inf
    weights = _softmax_in_place(scores)
    mixed = _meter.matmul(weights, v)  # (N, kv_heads, group x Lq, head_dim)
    mixed = mixed.reshape(n, heads, lq, head_dim).transpose(0, 2, 1, 3).reshape(n, lq, heads * head_dim)
    return dense(mixed, w["out_kernel"], w.get("out_bias"))


def _softmax_in_place(x):
    """softmax over the last axis, overwriting x (an attention's own scores)."""
    x -= x.max(axis=-1, keepdims=True)
    np.exp(x, out=x)
    x /= x.sum(axis=-1, keepdims=True)
    return x


def reshape(x, shape):
    """(N, ...) -> (N, *shape), row-major."""
    return x.reshape(x.shape[0], *shape)


def transpose(x, perm):
    """Permute the axes after the batch axis: output axis i is input axis perm[i]."""
    return x.transpose(0, *(p + 1 for p in perm))


def slice_axis(x, axis, start, stop, step=1):
    """Positions start, start + step, ... below stop along axis (counted without the batch axis)."""
    index = [slice(None)] * x.ndim
    index[axis + 1] = slice(start, stop, step)
    return x[tuple(index)]


def select(x, axis, index):
    """One position along axis (counted without the batch axis), which disappears: BERT's first token."""
    return np.take(x, index, axis=axis + 1)


def mean(x, axes, keepdims=False):
    """Mean over the given axes (counted without the batch axis)."""
    return x.mean(axis=tuple(a + 1 for a in axes), keepdims=keepdims, dtype=x.dtype)


# ---------------------------------------------------------------- any rank: decoders, norms, routing
# Arrays here are channels-last with any number of spatial axes: (N, *S, C), S of length 1 to 3.
# Padding and cropping amounts are one (before, after) pair per spatial axis.


def conv_transpose(x, kernel, bias, stride, pads, dilation, groups, output_padding):
    """(N, *S, C) transposed convolution with kernel (*k, C, F / groups) -> (N, *O, F).

    O = (S - 1) stride - before - after + dilation (k - 1) + output_padding + 1 per axis.
    Scatter form (col2im): one product per group multiplies every input position by every
    kernel tap, (N S, C / groups) @ (C / groups, taps F / groups), and the products are added
    into the output at position i stride + t dilation - before. No inserted zero is ever
    multiplied, so the meter counts N S x taps x C x F / groups. The adds loop over kernel
    taps or over input positions, whichever is fewer.
    """
    n, *size, c = x.shape
    r = len(size)
    *k, cin, fg = kernel.shape
    if len(k) != r or cin != c or c % groups:
        raise ValueError(
            f"transposed kernel {kernel.shape} with {groups} group(s) does not fit an input of shape {x.shape[1:]}"
        )
    f, cg, taps, m = fg * groups, c // groups, prod(k), n * prod(size)
    if bias is not None and bias.shape != (f,):
        raise ValueError(f"bias of shape {bias.shape} does not match {f} output channels")
    full = [(i - 1) * s + d * (kk - 1) + 1 for i, s, d, kk in zip(size, stride, dilation, k)]
    out = [fl - b - a + op for fl, (b, a), op in zip(full, pads, output_padding)]
    if min(out) < 1:
        raise ValueError(f"transposed convolution output {tuple(out)} is empty")
    if _regroups(fg):
        # (g, m, cg) @ (g, cg, taps fg): one wide product per group from a regrouped copy of the
        # kernel, so that few output channels (an image's 3) still make a wide product
        w = kernel.reshape(taps, groups, cg, fg).transpose(1, 2, 0, 3).reshape(groups, cg, taps * fg)
        cols = _meter.matmul(x.reshape(m, groups, cg).transpose(1, 0, 2), w).reshape(groups, n, prod(size), taps, fg)
    else:
        # (g, 1, m, cg) @ (g, taps, cg, fg): a product per group and tap, the kernel read in place
        w = kernel.reshape(taps, groups, cg, fg).transpose(1, 0, 2, 3)
        cols = _meter.matmul(x.reshape(m, groups, cg).transpose(1, 0, 2)[:, None], w)
        cols = cols.reshape(groups, taps, n, prod(size), fg).transpose(0, 2, 3, 1, 4)
    # buffer holding every position the scatter reaches and every output position
    span = [max(fl, o + b) for fl, o, (b, _) in zip(full, out, pads)]
    buf = np.zeros((n, *span, f), dtype=x.dtype)
    if taps <= prod(size):
        for i, t in enumerate(np.ndindex(*k)):
            at = tuple(
                slice(tt * d, tt * d + (s_ - 1) * st + 1, st) for tt, d, s_, st in zip(t, dilation, size, stride)
            )
            # this tap's products for every position, output channel g fg + j as a grouped convolution orders them
            buf[(slice(None), *at)] += cols[:, :, :, i].transpose(1, 2, 0, 3).reshape(n, *size, f)
    else:
        for j, p in enumerate(np.ndindex(*size)):
            at = tuple(slice(pp * st, pp * st + (kk - 1) * d + 1, d) for pp, st, kk, d in zip(p, stride, k, dilation))
            buf[(slice(None), *at)] += cols[:, :, j].transpose(1, 2, 0, 3).reshape(n, *k, f)
    result = buf[(slice(None), *(slice(b, b + o) for o, (b, _) in zip(out, pads)))]
    result = np.ascontiguousarray(result)
    return _add_bias(result, bias)


def _regroups(fg) -> bool:
    """Whether conv_transpose copies its kernel into one wide product: when each group has few outputs."""
    return fg < 128


def conv_transpose_scratch(shape, kernel, stride, pads, dilation, groups, output_padding) -> dict[str, int]:
    """Bytes conv_transpose holds beside its input and output: the products, their sum, maybe the regrouped kernel."""
    n, *size, c = shape
    *k, _, fg = kernel
    full = [
        max((i - 1) * s + d * (kk - 1) + 1, (i - 1) * s + d * (kk - 1) + 1 - a + op)
        for i, s, d, kk, (_, a), op in zip(size, stride, dilation, k, pads, output_padding)
    ]
    need = {
        "transposed_products": ITEMSIZE * n * prod(size) * prod(k) * fg * groups,
        "transposed_sums": ITEMSIZE * n * prod(full) * fg * groups,
    }
    if _regroups(fg):
        need["transposed_kernel"] = ITEMSIZE * prod(k) * c * fg
    return need


def _source_index(out_size, in_size, scale, align_corners, nearest):
    """PyTorch's source coordinate of every output position along one axis, in exact arithmetic.

    scale is the user's scale factor (a Fraction) or None when an output size was given;
    the coordinate step is 1 / scale, or in / out. Nearest takes floor(o x step);
    linear takes (o + 1/2) step - 1/2 clamped at 0, or o (in - 1) / (out - 1) with
    align_corners. Returns (lower index, upper index, weight of the upper) as arrays.
    """
    from fractions import Fraction

    if nearest:
        step = 1 / Fraction(scale) if scale else Fraction(in_size, out_size)
        lower = [min(int(o * step), in_size - 1) for o in range(out_size)]
        return np.array(lower), None, None
    if align_corners:
        step = Fraction(in_size - 1, out_size - 1) if out_size > 1 else Fraction(0)
        src = [o * step for o in range(out_size)]
    else:
        step = 1 / Fraction(scale) if scale else Fraction(in_size, out_size)
        src = [max((o + Fraction(1, 2)) * step - Fraction(1, 2), Fraction(0)) for o in range(out_size)]
    lower = [min(int(s), in_size - 1) for s in src]
    upper = [min(i + 1, in_size - 1) for i in lower]
    weight = [float(s - i) for s, i in zip(src, lower)]
    return np.array(lower), np.array(upper), np.array(weight, dtype=DTYPE)


def upsample(x, size, mode, align_corners=False, scales=None):
    """(N, *S, C) -> (N, *size, C) by nearest or linear interpolation, one spatial axis at a time.

    Linear interpolation is separable: bilinear and trilinear are the 1-D rule applied
    along each axis in turn. scales holds the scale factor per axis when the layer was
    given one (PyTorch then steps by 1 / scale), else None.
    """
    nearest = mode == "nearest"
    for axis, (o, i) in enumerate(zip(size, x.shape[1:-1]), start=1):
        scale = scales[axis - 1] if scales else None
        lower, upper, weight = _source_index(o, i, scale, align_corners, nearest)
        if nearest:
            x = np.take(x, lower, axis=axis)
            continue
        shape = [1] * x.ndim
        shape[axis] = o
        weight = weight.reshape(shape)
        below = np.take(x, lower, axis=axis)
        x = below + (np.take(x, upper, axis=axis) - below) * weight
    return x.astype(DTYPE, copy=False)


def pixel_shuffle(x, block, order="CRD"):
    """(N, H, W, C b^2) -> (N, H b, W b, C): depth to space.

    CRD (PyTorch's pixel_shuffle, ONNX DepthToSpace mode CRD): output (h b + i, w b + j, c)
    is input channel c b^2 + i b + j. DCR (TensorFlow's depth_to_space, ONNX's default):
    input channel (i b + j) C + c.
    """
    n, h, w, cb = x.shape
    c = cb // (block * block)
    if order == "CRD":
        y = x.reshape(n, h, w, c, block, block).transpose(0, 1, 4, 2, 5, 3)
    else:
        y = x.reshape(n, h, w, block, block, c).transpose(0, 1, 3, 2, 4, 5)
    return y.reshape(n, h * block, w * block, c)


def group_norm(x, groups, gamma, beta, eps):
    """(N, *S, C): normalise each sample's channel groups over positions and the group's channels.

    Statistics come from the input itself (no running averages): mean and biased variance
    per (sample, group); then the per-channel affine gamma, beta when given.
    """
    n, c = x.shape[0], x.shape[-1]
    for name, v in (("gamma", gamma), ("beta", beta)):
        if v is not None and v.shape != (c,):
            raise ValueError(f"group norm {name} of shape {v.shape} does not match {c} channels")
    g = x.reshape(n, -1, groups, c // groups)
    mean = g.mean(axis=(1, 3), keepdims=True, dtype=np.float64)
    centred = g - mean
    var = np.square(centred).mean(axis=(1, 3), keepdims=True)
    y = (centred / np.sqrt(var + eps)).reshape(x.shape).astype(DTYPE)
    if gamma is not None:
        y *= gamma
    if beta is not None:
        y += beta
    return y


def multiply(xs):
    """Element-wise product of arrays whose per-sample shapes broadcast (NumPy's rules: trailing axes
    align, a size-1 axis repeats); the batch axis stays first."""
    xs = _aligned(xs)
    out = xs[0] * xs[1]
    for y in xs[2:]:
        out = out * y
    return out


def channel_shuffle(x, groups):
    """(..., C) -> (..., C): output channel j groups + i is input channel i (C / groups) + j."""
    *lead, c = x.shape
    return x.reshape(*lead, groups, c // groups).swapaxes(-1, -2).reshape(*lead, c)


def crop(x, amounts):
    """(N, *S, C) without amounts[a] = (before, after) positions on each spatial axis a."""
    index = tuple(slice(b, x.shape[i + 1] - a) for i, (b, a) in enumerate(amounts))
    return x[(slice(None), *index)]


# ---------------------------------------------------------------- recurrent


def recurrent(x, cell, kernel, recurrent_kernel, bias, reverse=False, reset_after=True, sequences=True):
    """One direction of a recurrent layer over (N, T, D) -> (N, T, H), or (N, H) for the last step.

    cell is 'rnn' (1 gate), 'lstm' (4: input, forget, cell, output, Keras' and PyTorch's
    order) or 'gru' (3: reset, update, new, PyTorch's order). kernel is (D, gates H), recurrent_kernel
    (H, gates H), bias (b, gates H) with b = 0, 1 or 2 bias vectors per gate (2: one
    for the input product and one for the recurrent product, as PyTorch), or None.
    The input products of all steps are one GEMM; each step adds one (N, H) @ (H, gates H)
    product. A GRU with reset_after (PyTorch, Keras' default) applies the reset gate to
    the recurrent product of the new gate; without it (Keras' reset_after=False, the
    2014 paper) to the state before that product.
    """
    n, steps, d = x.shape
    h_units = recurrent_kernel.shape[0]
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    if kernel.shape != (d, gates * h_units) or recurrent_kernel.shape != (h_units, gates * h_units):
        raise ValueError(f"{cell} weights {kernel.shape}, {recurrent_kernel.shape} do not fit {d} features")
    xw = _meter.matmul(x.reshape(n * steps, d), kernel).reshape(n, steps, gates * h_units)
    # biases added once to the input products, all but a reset-after GRU's new-gate recurrent bias,
    # which the reset gate scales
    inside = 0
    if bias is not None:
        xw += bias[0]
        if len(bias) == 2:
            inside = 2 * h_units if cell == "gru" and reset_after else gates * h_units
            xw[..., :inside] += bias[1][:inside]
    b_new = bias[1][inside:] if bias is not None and len(bias) == 2 and inside < gates * h_units else None
    h = np.zeros((n, h_units), DTYPE)
    c = np.zeros((n, h_units), DTYPE)
    outs = np.empty((n, steps, h_units), DTYPE) if sequences else None
    order = range(steps - 1, -1, -1) if reverse else range(steps)
    two = 2 * h_units
    for t in order:
        if cell == "gru" and not reset_after:
            rz = _meter.matmul(h, recurrent_kernel[:, :two])
            rz += xw[:, t, :two]
            rz = _sigmoid(rz)
            u_n = _meter.matmul(rz[:, :h_units] * h, recurrent_kernel[:, two:])
            u_n += xw[:, t, two:]
            new = np.tanh(u_n)
            h = new + rz[:, h_units:] * (h - new)
        elif cell == "gru":
            hu = _meter.matmul(h, recurrent_kernel)
            rz = hu[:, :two]
            rz += xw[:, t, :two]
            rz = _sigmoid(rz)
            hn = hu[:, two:]
            if b_new is not None:
                hn += b_new
            hn *= rz[:, :h_units]
            hn += xw[:, t, two:]
            new = np.tanh(hn)
            h = new + rz[:, h_units:] * (h - new)
        else:
            z = _meter.matmul(h, recurrent_kernel)
            z += xw[:, t]
            if cell == "rnn":
                h = np.tanh(z)
            else:
                g = np.tanh(z[:, two : 3 * h_units])
                z = _sigmoid(z)  # the input, forget and output gates (the cell gate's column is unused)
                c *= z[:, h_units:two]
                g *= z[:, :h_units]
                c += g
                h = np.tanh(c)
                h *= z[:, 3 * h_units :]
        h = h.astype(DTYPE, copy=False)
        if sequences:
            outs[:, t] = h
    return outs if sequences else h
