"""The sliding-window rule shared by convolutions and pooling: padding, output size, window."""

from __future__ import annotations

from math import prod
from typing import ClassVar

from ..errors import ShapeError
from .base import Layer, fmt_shape


def spatial(shape, layer):
    """The (H, W, C) input shape, or a ShapeError naming the layer type."""
    if len(shape) != 3:
        raise ShapeError(
            f"{layer.type} needs an (H, W, C) input, but its input has shape {fmt_shape(shape)}."
        )
    return shape


def resolve_pads(padding, hw, k_eff, stride):
    """Explicit ((top, bottom), (left, right)) for a window of k_eff with stride over hw.

    'same' follows TensorFlow: output ceil(in / stride); an odd total padding puts the
    extra row/column at the bottom/right.
    """
    if padding == "valid":
        return ((0, 0), (0, 0))
    if padding == "same":
        pads = []
        for size, k, s in zip(hw, k_eff, stride):
            out = -(-size // s)
            total = max((out - 1) * s + k - size, 0)
            pads.append((total // 2, total - total // 2))
        return tuple(pads)
    return padding


class Sliding(Layer):
    """A layer that slides a window of ``size`` (its kernel or pool) with stride, dilation and padding."""

    size_attr: ClassVar[str] = "kernel"
    dilation = (1, 1)

    def extent(self):
        """Window extent per axis, dilation included: d x (k - 1) + 1."""
        return tuple(d * (k - 1) + 1 for k, d in zip(getattr(self, self.size_attr), self.dilation))

    def pads(self, shapes):
        """Explicit ((top, bottom), (left, right)) padding for these input shapes."""
        return resolve_pads(self.padding, shapes[0][:2], self.extent(), self.stride)

    def spatial_out(self, shapes):
        """Output (H, W) by the floor rule; an error when the window exceeds the padded input."""
        spatial(shapes[0], self)
        out = []
        extent = self.extent()
        for axis, size, k, s, (p0, p1) in zip(("height", "width"), shapes[0], extent, self.stride, self.pads(shapes)):
            padded = size + p0 + p1
            if padded < k:
                dilated = "dilated " if extent != tuple(getattr(self, self.size_attr)) else ""
                raise ShapeError(
                    f"the {dilated}window of {k} is larger than the padded input {axis} of {padded}.",
                    attribute=self.size_attr,
                )
            out.append((padded - k) // s + 1)
        return tuple(out)

    def scratch(self, shapes, out, batch, k):
        # the padded copy of the input the kernels slide over
        pads = self.pads(shapes)
        if not any(p for pair in pads for p in pair):
            return {}
        padded = [size + before + after for size, (before, after) in zip(shapes[0], pads)]
        return {"padded": k.ITEMSIZE * batch * prod(padded) * shapes[0][-1]}

    def window(self, shapes):
        return tuple(zip(self.extent(), self.stride, (before for before, _ in self.pads(shapes))))
