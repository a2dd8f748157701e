"""Convolutions of rank 1, 2 and 3: standard (optionally grouped) and depthwise.

One class per kind holds the rules for every rank; a registered type only fixes the rank.
The 2-D type registers first, so a misspelt name suggests it before its 1-D and 3-D kin.
"""

from __future__ import annotations

from math import prod

from ..errors import ShapeError, spec_error
from .base import Attr, Weight, bias_ops, bias_weight, fan_in, register
from .window import Sliding, spatial, window_attrs


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
            raise ShapeError(
                f"input channels ({c}) must be divisible by groups ({self.groups}).", attribute="groups"
            )
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
