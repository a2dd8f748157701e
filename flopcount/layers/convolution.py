"""Convolutions: standard (optionally grouped) and depthwise."""

from __future__ import annotations

from math import prod

from ..errors import ShapeError, spec_error
from .base import Attr, bias_ops, register
from .window import Sliding, spatial

_CONV_COMMON = (
    Attr("kernel", "sizes", doc="window size D_K, or [height, width]"),
    Attr("stride", "sizes", 1, "step of the window, or [height, width]"),
    Attr("padding", "padding", "valid", "'same', 'valid', p, [p_h, p_w] or [[top, bottom], [left, right]]"),
    Attr("dilation", "sizes", 1, "spacing between kernel taps"),
)


@register("conv2d")
class Conv2D(Sliding):
    doc = "Standard 2-D convolution, optionally grouped."
    attrs = (
        (Attr("filters", "size", doc="output channels N"),)
        + _CONV_COMMON
        + (Attr("groups", "size", 1, "channel groups"), Attr("bias", "bool", True, "add a bias per filter"))
    )

    def check(self):
        if self.filters % self.groups:
            raise spec_error(
                f"filters ({self.filters}) must be divisible by groups ({self.groups}).",
                attribute="groups",
                received=self.groups,
            )

    def output_shape(self, shapes):
        h, w, c = spatial(shapes[0], self)
        if c % self.groups:
            raise ShapeError(
                f"input channels ({c}) must be divisible by groups ({self.groups}).", attribute="groups"
            )
        return (*self.spatial_out(shapes), self.filters)

    def weights(self, shapes):
        c = shapes[0][2]
        w = {"kernel": ((*self.kernel, c // self.groups, self.filters), True)}
        if self.bias:
            w["bias"] = ((self.filters,), True)
        return w

    def macs(self, shapes, out):
        # (H, W, M) -> (D_G, D_G, N): N x D_G^2 x D_K^2 x M / groups
        kh, kw = self.kernel
        return prod(out) * kh * kw * (shapes[0][2] // self.groups)

    def other_ops(self, shapes, out):
        return bias_ops(self, out)

    def forward(self, xs, w, k):
        pads = self.pads([x.shape[1:] for x in xs])
        return k.conv2d(xs[0], w["kernel"], w.get("bias"), self.stride, pads, self.dilation, self.groups)


@register("depthwise_conv2d")
class DepthwiseConv2D(Sliding):
    doc = "Depthwise 2-D convolution: one D_K x D_K filter per input channel (times multiplier)."
    attrs = (
        _CONV_COMMON
        + (
            Attr("multiplier", "size", 1, "output channels per input channel"),
            Attr("bias", "bool", True, "add a bias per output channel"),
        )
    )

    def output_shape(self, shapes):
        return (*self.spatial_out(shapes), shapes[0][2] * self.multiplier)

    def weights(self, shapes):
        w = {"kernel": ((*self.kernel, shapes[0][2], self.multiplier), True)}
        if self.bias:
            w["bias"] = ((shapes[0][2] * self.multiplier,), True)
        return w

    def macs(self, shapes, out):
        # (H, W, M) -> (D_G, D_G, M x multiplier): M x multiplier x D_G^2 x D_K^2
        kh, kw = self.kernel
        return prod(out) * kh * kw

    def other_ops(self, shapes, out):
        return bias_ops(self, out)

    def forward(self, xs, w, k):
        pads = self.pads([x.shape[1:] for x in xs])
        return k.depthwise_conv2d(xs[0], w["kernel"], w.get("bias"), self.stride, pads, self.dilation)
