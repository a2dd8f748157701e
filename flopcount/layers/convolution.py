"""Convolutions: standard (optionally grouped) and depthwise."""

from __future__ import annotations

from math import prod

from ..errors import ShapeError, spec_error
from .base import Attr, Weight, bias_ops, bias_weight, fan_in, register
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
        w = {"kernel": Weight((*self.kernel, c // self.groups, self.filters))}
        if self.bias:
            w["bias"] = bias_weight(self.filters)
        return w

    def macs(self, shapes, out):
        # (H, W, M) -> (D_G, D_G, N): N x D_G^2 x D_K^2 x M / groups
        kh, kw = self.kernel
        return prod(out) * kh * kw * (shapes[0][2] // self.groups)

    def other_ops(self, shapes, out):
        return bias_ops(self, out)

    def scratch(self, shapes, out, batch, k):
        # the im2col patches, in chunks (see kernels.conv2d)
        oh, ow, _ = out
        cols = k.im2col_bytes(batch, oh, ow, *self.kernel, shapes[0][2], k.ITEMSIZE, stride=self.stride, groups=self.groups)
        return {**super().scratch(shapes, out, batch, k), "cols": cols}

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
        # each output sums the products of its own channel's window only
        w = {"kernel": Weight((*self.kernel, shapes[0][2], self.multiplier), init=fan_in(prod(self.kernel)))}
        if self.bias:
            w["bias"] = bias_weight(shapes[0][2] * self.multiplier)
        return w

    def macs(self, shapes, out):
        # (H, W, M) -> (D_G, D_G, M x multiplier): M x multiplier x D_G^2 x D_K^2
        kh, kw = self.kernel
        return prod(out) * kh * kw

    def other_ops(self, shapes, out):
        return bias_ops(self, out)

    def scratch(self, shapes, out, batch, k):
        # one tap's products, added into the output
        return {**super().scratch(shapes, out, batch, k), "products": k.ITEMSIZE * batch * prod(out)}

    def forward(self, xs, w, k):
        pads = self.pads([x.shape[1:] for x in xs])
        return k.depthwise_conv2d(xs[0], w["kernel"], w.get("bias"), self.stride, pads, self.dilation)
