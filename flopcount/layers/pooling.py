"""Pooling: sliding max and average of rank 1, 2 and 3, global, PyTorch's adaptive average, and a mean over chosen axes."""

from __future__ import annotations

from math import gcd, prod
from typing import ClassVar

from ..errors import ShapeError, spec_error
from .base import Attr, Layer, axis_index, fmt_shape, register
from .formula import Factor, axes, elements, formula
from .kinds import AXES, Axes, Padding, Sizes
from .window import Sliding, spatial, whole_map


def _pool_attrs(rank, average=False):
    axes = "[" + ", ".join(AXES[rank]) + "]"
    attrs = (
        Attr("pool", Sizes(rank), doc=f"window size, or {axes}"),
        Attr("stride", Sizes(rank), None, "step of the window (default: the pool size)"),
        Attr("padding", Padding(rank), "valid", "'same', 'valid' or explicit amounts"),
        Attr(
            "ceil_mode",
            "bool",
            False,
            "round the output size up, as PyTorch's ceil_mode: a last, partial window "
            "counts when it starts inside the input or its left padding",
        ),
    )
    if average:
        attrs += (
            Attr(
                "count_include_pad",
                "bool",
                False,
                "divide by the window including its padding (PyTorch's "
                "default) rather than by the input elements it covers (Keras, TensorFlow)",
            ),
        )
    return attrs


class _Pool(Sliding):
    mode: ClassVar[str]
    size_attr = "pool"
    count_include_pad = False  # an attribute of average pooling only

    def check(self):
        if self.stride is None:
            self.stride = self.pool

    def output_shape(self, shapes):
        out = self.spatial_out(shapes)
        for (before, after), k in zip(self.pads(shapes), self.extent()):
            if max(before, after) >= k:
                raise ShapeError(
                    f"padding of {max(before, after)} on a window of {k} leaves windows that see only "
                    "padding; pooling padding must be smaller than the window.",
                    attribute="padding",
                )
        return (*out, shapes[0][-1])

    def other_ops(self, shapes, out):
        # k - 1 comparisons (max) or k - 1 additions and a division (avg) per output element
        window = prod(self.pool)
        return prod(out) * (window - 1 if self.mode == "max" else window)

    def other_ops_formula(self, shapes, out):
        # max: the window's taps less one comparisons; average: as many additions and a division
        taps = axes(self.pool, "k")
        return formula([*elements(out), *taps], [Factor("-1", -1), *elements(out)] if self.mode == "max" else [])

    def scratch(self, shapes, out, batch, k):
        return k.pool_scratch((batch, *shapes[0]), self.mode, self.pool, self.stride, self.pads(shapes), self.ceil_mode)

    def forward(self, xs, w, k):
        pads = self.pads([x.shape[1:] for x in xs])
        return k.pool(xs[0], self.mode, self.pool, self.stride, pads, self.ceil_mode, self.count_include_pad)


@register("max_pool")
class MaxPool(_Pool):
    doc = "Max pooling over a sliding window."
    mode = "max"
    attrs = _pool_attrs(2)


@register("max_pool1d")
class MaxPool1D(_Pool):
    doc = "Max pooling over a sliding window on (L, C)."
    mode = "max"
    rank = 1
    attrs = _pool_attrs(1)


@register("max_pool3d")
class MaxPool3D(_Pool):
    doc = "Max pooling over a sliding window on (D, H, W, C)."
    mode = "max"
    rank = 3
    attrs = _pool_attrs(3)


@register("avg_pool")
class AvgPool(_Pool):
    doc = "Average pooling over a sliding window (padding excluded from the average unless count_include_pad)."
    mode = "avg"
    attrs = _pool_attrs(2, average=True)


@register("avg_pool1d")
class AvgPool1D(_Pool):
    doc = (
        "Average pooling over a sliding window on (L, C) (padding excluded from the average unless count_include_pad)."
    )
    mode = "avg"
    rank = 1
    attrs = _pool_attrs(1, average=True)


@register("avg_pool3d")
class AvgPool3D(_Pool):
    doc = "Average pooling over a sliding window on (D, H, W, C) (padding excluded from the average unless count_include_pad)."
    mode = "avg"
    rank = 3
    attrs = _pool_attrs(3, average=True)


class _GlobalPool(Layer):
    """A reduction over every position of (L, C), (H, W, C) or (D, H, W, C) to (C,)."""

    mode: ClassVar[str]

    def output_shape(self, shapes):
        if not 2 <= len(shapes[0]) <= 4:
            raise ShapeError(
                f"{self.type} needs an (L, C), (H, W, C) or (D, H, W, C) input, but its input has shape "
                f"{fmt_shape(shapes[0])}.",
                attribute="inputs",
            )
        return (shapes[0][-1],)

    def other_ops(self, shapes, out):
        # max: positions - 1 comparisons per channel; average: positions - 1 additions and a division
        *size, c = shapes[0]
        return c * (prod(size) - 1 if self.mode == "max" else prod(size))

    def other_ops_formula(self, shapes, out):
        *size, c = shapes[0]
        channels = Factor("C", c)
        names = {1: "L", 2: "HW", 3: "DHW"}[len(size)]
        return formula(
            [channels, *(Factor(f"{a}_in", n) for a, n in zip(names, size))],
            [Factor("-1", -1), channels] if self.mode == "max" else [],
        )

    def window(self, shapes):
        return whole_map(shapes[0])

    def forward(self, xs, w, k):
        return k.global_pool(xs[0], self.mode)


@register("global_avg_pool")
class GlobalAvgPool(_GlobalPool):
    doc = "Average over all positions: (H, W, C) -> (C,), and likewise (L, C) or (D, H, W, C)."
    mode = "avg"


@register("global_max_pool")
class GlobalMaxPool(_GlobalPool):
    doc = "Maximum over all positions: (H, W, C) -> (C,), and likewise (L, C) or (D, H, W, C)."
    mode = "max"


@register("adaptive_avg_pool")
class AdaptiveAvgPool(Layer):
    doc = "PyTorch's adaptive average pooling to a fixed output size."
    attrs = (Attr("size", "sizes", doc="output size, or [height, width]"),)

    def output_shape(self, shapes):
        spatial(shapes[0], self)
        return (*self.size, shapes[0][2])

    def other_ops(self, shapes, out):
        # each output averages its own bin: bin size additions-and-division
        h, w, c = shapes[0]
        (total_h, _), (total_w, _) = (_bin_sizes(n, o) for n, o in zip((h, w), self.size))
        return c * total_h * total_w

    def other_ops_formula(self, shapes, out):
        # the bins' sizes summed along each axis (bins overlap when the size does not divide)
        h, w, c = shapes[0]
        (total_h, _), (total_w, _) = (_bin_sizes(n, o) for n, o in zip((h, w), self.size))
        return formula([Factor("C", c), Factor("Σ bin_h", total_h), Factor("Σ bin_w", total_w)])

    def window(self, shapes):
        h, w, _ = shapes[0]
        # bins are uniform only when o divides n; otherwise the widest bin and the widest
        # step between bins, so the field is the largest over output positions
        return tuple((_bin_sizes(n, o)[1], -(-n // o), 0) for n, o in zip((h, w), self.size))

    def scratch(self, shapes, out, batch, k):
        return k.adaptive_avg_pool_scratch((batch, *shapes[0]), self.size)

    def forward(self, xs, w, k):
        return k.adaptive_avg_pool(xs[0], self.size)


def _bin_sizes(n, o):
    """Sum and largest of the sizes of PyTorch's adaptive bins [floor(i n / o), ceil((i + 1) n / o)).

    In closed form, since o may be huge: with g = gcd(n, o), bin i has size ceil((r + n) / o)
    where r = i n mod o runs over the multiples of g below o, so the sizes sum to n + o - g
    and the largest is ceil((o - g + n) / o).
    """
    g = gcd(n, o)
    return n + o - g, -(-(o - g + n) // o)


@register("mean")
class Mean(Layer):
    doc = "Mean over chosen axes (without the batch axis): (L, C) over axis 0 -> (C,)."
    attrs = (
        Attr("axes", Axes(), doc="the axes averaged over, e.g. 0 or [0, 1]; negative counts from the end"),
        Attr("keepdims", "bool", False, "keep each averaged axis with size 1"),
    )

    def reduced(self, shape):
        """The averaged axes as sorted indices into shape, each once."""
        axes = sorted({axis_index(shape, a, "axes") for a in self.axes})
        if len(axes) != len(self.axes):
            raise spec_error("names an axis twice.", attribute="axes", received=list(self.axes))
        if len(axes) == len(shape) and not self.keepdims:
            raise ShapeError(
                f"averaging every axis of {fmt_shape(shape)} leaves no axis; keep one or set keepdims.",
                attribute="axes",
            )
        return axes

    def output_shape(self, shapes):
        axes = self.reduced(shapes[0])
        if self.keepdims:
            return tuple(1 if i in axes else n for i, n in enumerate(shapes[0]))
        return tuple(n for i, n in enumerate(shapes[0]) if i not in axes)

    def other_ops(self, shapes, out):
        # each output averages its k elements: k - 1 additions and a division, as average pooling
        return prod(out) * prod(shapes[0][i] for i in self.reduced(shapes[0]))

    def other_ops_formula(self, shapes, out):
        averaged = [Factor(f"n_{i}", shapes[0][i]) for i in self.reduced(shapes[0])]
        return formula([*elements(out), *averaged] if out else averaged)

    def window(self, shapes):
        # the averaged positions all reach every output; the others pass through
        axes = self.reduced(shapes[0])
        return tuple((n if i in axes else 1, 1, 0) for i, n in enumerate(shapes[0][:-1]))

    def forward(self, xs, w, k):
        return k.mean(xs[0], self.reduced(xs[0].shape[1:]), self.keepdims)
