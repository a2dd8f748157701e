"""Layers that change the spatial resolution without weights: pixel shuffle (and upsampling)."""

from __future__ import annotations

from ..errors import ShapeError
from .base import Attr, Layer, fmt_shape, register
from .window import spatial


@register("pixel_shuffle")
class PixelShuffle(Layer):
    doc = "Depth to space: (H, W, C x b^2) -> (H b, W b, C) (PyTorch's PixelShuffle, TensorFlow's depth_to_space)."
    attrs = (
        Attr("factor", "size", doc="upscale factor b (PyTorch's upscale_factor, TensorFlow's block_size)"),
        Attr("order", "choice", "CRD", "channel order: CRD (PyTorch, ONNX mode CRD) or DCR (TensorFlow, ONNX default)",
             choices=("CRD", "DCR")),
    )
    free = True

    def output_shape(self, shapes):
        h, w, c = spatial(shapes[0], self)
        if c % (self.factor * self.factor):
            raise ShapeError(
                f"the {c} channels of the input {fmt_shape(shapes[0])} are not a multiple of factor^2 = "
                f"{self.factor * self.factor}.",
                attribute="factor", received=self.factor, has_received=True,
            )
        return (h * self.factor, w * self.factor, c // (self.factor * self.factor))

    def forward(self, xs, w, k):
        return k.pixel_shuffle(xs[0], self.factor, self.order)
