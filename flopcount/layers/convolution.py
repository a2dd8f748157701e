"""Convolutions of rank 1, 2 and 3: standard (optionally grouped), depthwise and transposed.

One class per kind holds the rules for every rank; a registered type only fixes the rank.
The 2-D type registers first, so a misspelt name suggests it before its 1-D and 3-D kin.
"""

from __future__ import annotations

from math import prod
from typing import ClassVar

from ..errors import ShapeError, spec_error
from .base import (
    Attr,
    Layer,
    Weight,
    bias_ops,
    bias_term,
    bias_weight,
    fan_in,
    register,
)
from .formula import Factor, axes, elements, formula
from .kinds import AXES, Padding, Sizes
from .window import Reads, Sliding, spatial, window_attrs


def _conv_attrs(rank):
    return (
        (Attr("filters", "size", doc="output channels N"),)
        + window_attrs(rank, "kernel", "window size D_K")
        + (Attr("groups", "size", 1, "channel groups"), Attr("bias", "bool", True, "add a bias per filter"))
    )


def _depthwise_attrs(rank):
    return window_attrs(rank, "kernel", "window size D_K") + (
        Attr("multiplier", "size", 1, "output channels per input channel"),
        Attr("bias", "bool", True, "add a bias per output channel"),
    )


class Conv(Sliding):
    """A standard convolution over rank spatial axes, optionally grouped."""

    def check(self):
        if self.filters % self.groups:
            raise spec_error(
                f"filters ({self.filters}) must be divisible by groups ({self.groups}).",
                attribute="groups",
                received=self.groups,
            )

    def output_shape(self, shapes):
        c = spatial(shapes[0], self, self.rank)[-1]
        if c % self.groups:
            raise ShapeError(f"input channels ({c}) must be divisible by groups ({self.groups}).", attribute="groups")
        return (*self.spatial_out(shapes), self.filters)

    def weights(self, shapes):
        c = shapes[0][-1]
        w = {"kernel": Weight((*self.kernel, c // self.groups, self.filters))}
        if self.bias:
            w["bias"] = bias_weight(self.filters)
        return w

    def macs(self, shapes, out):
        # (*S, M) -> (*O, N): N x prod(O) x prod(K) x M / groups (N x D_G^2 x D_K^2 x M in 2-D)
        return prod(out) * prod(self.kernel) * (shapes[0][-1] // self.groups)

    def _m(self, shapes):
        return Factor("M" if self.groups == 1 else "M/g", shapes[0][-1] // self.groups)

    def params_formula(self, shapes):
        n = Factor("N", self.filters)
        return formula([*axes(self.kernel, "k"), self._m(shapes), n], [n] if self.bias else [])

    def macs_formula(self, shapes, out):
        return formula([*axes(out[:-1], "out"), Factor("N", self.filters), *axes(self.kernel, "k"), self._m(shapes)])

    def other_ops_formula(self, shapes, out):
        return formula(bias_term(self, out))

    def other_ops(self, shapes, out):
        return bias_ops(self, out)

    def scratch(self, shapes, out, batch, k):
        kernel = (*self.kernel, shapes[0][-1] // self.groups, self.filters)
        return k.conv_scratch((batch, *shapes[0]), kernel, self.stride, self.pads(shapes), self.dilation, self.groups)

    def forward(self, xs, w, k):
        pads = self.pads([x.shape[1:] for x in xs])
        return k.conv(xs[0], w["kernel"], w.get("bias"), self.stride, pads, self.dilation, self.groups)


@register("conv2d")
class Conv2D(Conv):
    doc = "Standard 2-D convolution, optionally grouped."
    rank = 2
    attrs = _conv_attrs(2)


@register("conv1d")
class Conv1D(Conv):
    doc = "Standard 1-D convolution over (L, C), optionally grouped."
    rank = 1
    attrs = _conv_attrs(1)


@register("conv3d")
class Conv3D(Conv):
    doc = "Standard 3-D convolution over (D, H, W, C), optionally grouped."
    rank = 3
    attrs = _conv_attrs(3)


class DepthwiseConv(Sliding):
    """A depthwise convolution over rank spatial axes: one filter per input channel (times multiplier)."""

    def output_shape(self, shapes):
        return (*self.spatial_out(shapes), shapes[0][-1] * self.multiplier)

    def weights(self, shapes):
        # each output sums the products of its own channel's window only
        w = {"kernel": Weight((*self.kernel, shapes[0][-1], self.multiplier), init=fan_in(prod(self.kernel)))}
        if self.bias:
            w["bias"] = bias_weight(shapes[0][-1] * self.multiplier)
        return w

    def macs(self, shapes, out):
        # (*S, M) -> (*O, M x multiplier): M x multiplier x prod(O) x prod(K) (M x D_G^2 x D_K^2 in 2-D)
        return prod(out) * prod(self.kernel)

    def params_formula(self, shapes):
        m, x = Factor("M", shapes[0][-1]), Factor("multiplier", self.multiplier)
        return formula([*axes(self.kernel, "k"), m, x], [m, x] if self.bias else [])

    def macs_formula(self, shapes, out):
        return formula([*elements(out), *axes(self.kernel, "k")])

    def other_ops_formula(self, shapes, out):
        return formula(bias_term(self, out))

    def other_ops(self, shapes, out):
        return bias_ops(self, out)

    def scratch(self, shapes, out, batch, k):
        kernel = (*self.kernel, shapes[0][-1], self.multiplier)
        return k.depthwise_conv_scratch((batch, *shapes[0]), kernel, self.stride, self.pads(shapes), self.dilation)

    def forward(self, xs, w, k):
        pads = self.pads([x.shape[1:] for x in xs])
        return k.depthwise_conv(xs[0], w["kernel"], w.get("bias"), self.stride, pads, self.dilation)


@register("depthwise_conv2d")
class DepthwiseConv2D(DepthwiseConv):
    doc = "Depthwise 2-D convolution: one D_K x D_K filter per input channel (times multiplier)."
    rank = 2
    attrs = _depthwise_attrs(2)


@register("depthwise_conv1d")
class DepthwiseConv1D(DepthwiseConv):
    doc = "Depthwise 1-D convolution over (L, C): one filter per input channel (times multiplier)."
    rank = 1
    attrs = _depthwise_attrs(1)


@register("depthwise_conv3d")
class DepthwiseConv3D(DepthwiseConv):
    doc = "Depthwise 3-D convolution over (D, H, W, C): one filter per input channel (times multiplier)."
    rank = 3
    attrs = _depthwise_attrs(3)


class ConvTranspose(Layer):
    """A transposed convolution over rank spatial axes: each input position adds its kernel-weighted copy to the output.

    Per axis the output has (size - 1) stride - before - after + dilation (k - 1) + output_padding + 1
    positions (PyTorch's rule). 'same' gives size x stride, cropping k_eff - stride positions
    (the odd one at the end, as TensorFlow); 'valid' crops none.
    """

    rank: ClassVar[int] = 2

    @classmethod
    def with_rank(cls, rank):
        axes = "[" + ", ".join(AXES[rank]) + "]"
        return (
            Attr("filters", "size", doc="output channels N"),
            Attr("kernel", Sizes(rank), doc=f"window size D_K, or {axes}"),
            Attr("stride", Sizes(rank), 1, f"upsampling step, or {axes}"),
            Attr(
                "padding",
                Padding(rank),
                "valid",
                "'same' (output size x stride), 'valid' or positions cropped from the full output, as PyTorch's padding",
            ),
            Attr(
                "output_padding",
                Sizes(rank, minimum=0),
                0,
                "positions added at the end of each axis, smaller than the stride or the dilation",
            ),
            Attr("dilation", Sizes(rank), 1, "spacing between kernel taps"),
            Attr("groups", "size", 1, "channel groups"),
            Attr("bias", "bool", True, "add a bias per filter"),
        )

    def check(self):
        if self.filters % self.groups:
            raise spec_error(
                f"filters ({self.filters}) must be divisible by groups ({self.groups}).",
                attribute="groups",
                received=self.groups,
            )
        for op, s, d in zip(self.output_padding, self.stride, self.dilation):
            if op >= max(s, d):
                raise spec_error(
                    f"must be smaller than the stride or the dilation on each axis (stride {list(self.stride)}, "
                    f"dilation {list(self.dilation)}), or it would add positions no input reaches.",
                    attribute="output_padding",
                    received=list(self.output_padding),
                )
        if self.padding == "same" and any(self.output_padding):
            raise spec_error(
                "needs explicit padding; 'same' fixes the output at size x stride.",
                attribute="output_padding",
                received=list(self.output_padding),
            )

    def extent(self):
        return tuple(d * (k - 1) + 1 for k, d in zip(self.kernel, self.dilation))

    def pads(self, shapes):
        """Positions cropped from the full output, (before, after) per axis."""
        if self.padding == "valid":
            return ((0, 0),) * self.rank
        if self.padding == "same":
            pads = []
            for k, s, axis in zip(self.extent(), self.stride, AXES[self.rank]):
                if k < s:
                    raise ShapeError(
                        f"'same' padding needs a window of at least the stride on each axis; the {axis} window is {k}, "
                        f"the stride {s}.",
                        attribute="padding",
                    )
                pads.append(((k - s) // 2, k - s - (k - s) // 2))
            return tuple(pads)
        return self.padding

    def output_shape(self, shapes):
        c = spatial(shapes[0], self, self.rank)[-1]
        if c % self.groups:
            raise ShapeError(f"input channels ({c}) must be divisible by groups ({self.groups}).", attribute="groups")
        out = []
        for axis, size, k, s, (b, a), op in zip(
            AXES[self.rank], shapes[0], self.extent(), self.stride, self.pads(shapes), self.output_padding
        ):
            n = (size - 1) * s + k + op - b - a
            if n < 1:
                raise ShapeError(
                    f"cropping {b} + {a} positions leaves nothing of the {axis}: the full output has {n + b + a}.",
                    attribute="padding",
                )
            out.append(n)
        return (*out, self.filters)

    def weights(self, shapes):
        c = shapes[0][-1]
        # each output sums about C / groups x taps / stride^rank products
        reach = max(1, c // self.groups * prod(self.kernel) // prod(self.stride))
        w = {"kernel": Weight((*self.kernel, c, self.filters // self.groups), init=fan_in(reach))}
        if self.bias:
            w["bias"] = bias_weight(self.filters)
        return w

    def macs(self, shapes, out):
        # (*S, M) -> (*O, N): every input position times every tap: prod(S) x prod(K) x M x N / groups
        return prod(shapes[0][:-1]) * prod(self.kernel) * shapes[0][-1] * self.filters // self.groups

    def _n(self):
        return Factor("N" if self.groups == 1 else "N/g", self.filters // self.groups)

    def params_formula(self, shapes):
        return formula(
            [*axes(self.kernel, "k"), Factor("M", shapes[0][-1]), self._n()],
            [Factor("N", self.filters)] if self.bias else [],
        )

    def macs_formula(self, shapes, out):
        return formula([*axes(shapes[0][:-1], "in"), *axes(self.kernel, "k"), Factor("M", shapes[0][-1]), self._n()])

    def other_ops_formula(self, shapes, out):
        return formula(bias_term(self, out))

    def other_ops(self, shapes, out):
        return bias_ops(self, out)

    def window(self, shapes):
        # output o gathers the input positions i with i s + t d - before = o for a tap t < k:
        # ceil((o + before - k_eff + 1) / s) to floor((o + before) / s)
        return tuple(Reads(1, s, b - k + s, b) for k, s, (b, _) in zip(self.extent(), self.stride, self.pads(shapes)))

    def scratch(self, shapes, out, batch, k):
        kernel = (*self.kernel, shapes[0][-1], self.filters // self.groups)
        return k.conv_transpose_scratch(
            (batch, *shapes[0]), kernel, self.stride, self.pads(shapes), self.dilation, self.groups, self.output_padding
        )

    def forward(self, xs, w, k):
        pads = self.pads([x.shape[1:] for x in xs])
        return k.conv_transpose(
            xs[0], w["kernel"], w.get("bias"), self.stride, pads, self.dilation, self.groups, self.output_padding
        )


@register("conv2d_transpose")
class Conv2DTranspose(ConvTranspose):
    doc = "Transposed 2-D convolution (PyTorch's ConvTranspose2d, Keras' Conv2DTranspose): upsamples in decoders."
    rank = 2
    attrs = ConvTranspose.with_rank(2)


@register("conv1d_transpose")
class Conv1DTranspose(ConvTranspose):
    doc = "Transposed 1-D convolution over (L, C): the gradient of conv1d, used to upsample."
    rank = 1
    attrs = ConvTranspose.with_rank(1)


@register("conv3d_transpose")
class Conv3DTranspose(ConvTranspose):
    doc = "Transposed 3-D convolution over (D, H, W, C)."
    rank = 3
    attrs = ConvTranspose.with_rank(3)
