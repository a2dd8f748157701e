"""Layers that join several inputs."""

from __future__ import annotations

from math import prod

from ..errors import ShapeError
from .base import Attr, Layer, axis_index, fmt_shape, register


@register("add")
class Add(Layer):
    doc = "Element-wise sum of two or more inputs of the same shape (residual shortcut)."
    inputs = (2, None)

    def output_shape(self, shapes):
        for s in shapes[1:]:
            if s != shapes[0]:
                listed = ", ".join(fmt_shape(x) for x in shapes)
                raise ShapeError(f"cannot add inputs of different shapes: {listed}.", attribute="inputs")
        return shapes[0]

    def other_ops(self, shapes, out):
        return (len(shapes) - 1) * prod(out)

    def forward(self, xs, w, k):
        return k.add(xs)


@register("concat")
class Concat(Layer):
    doc = "Join two or more inputs along an axis (default: channels)."
    attrs = (Attr("axis", "axis", -1, "axis to join along, without the batch axis"),)
    inputs = (2, None)
    free = True

    def output_shape(self, shapes):
        rank = len(shapes[0])
        axis = axis_index(shapes[0], self.axis)
        for s in shapes[1:]:
            if len(s) != rank or any(a != b for i, (a, b) in enumerate(zip(s, shapes[0])) if i != axis):
                listed = ", ".join(fmt_shape(x) for x in shapes)
                raise ShapeError(
                    f"cannot concatenate shapes {listed} on axis {self.axis}: the other axes differ.",
                    attribute="inputs",
                )
        out = list(shapes[0])
        out[axis] = sum(s[axis] for s in shapes)
        return tuple(out)

    def forward(self, xs, w, k):
        return k.concat(xs, self.axis % len(xs[0].shape[1:]) + 1)


@register("multiply")
class Multiply(Layer):
    doc = "Element-wise product of two or more inputs whose shapes broadcast (squeeze-and-excitation, gating)."
    inputs = (2, None)

    def output_shape(self, shapes):
        # NumPy's rule: trailing axes align, and on each axis the sizes agree or are 1
        rank = max(len(s) for s in shapes)
        out = []
        for axis in range(1, rank + 1):
            sizes = {s[-axis] for s in shapes if len(s) >= axis} - {1}
            if len(sizes) > 1:
                listed = ", ".join(fmt_shape(x) for x in shapes)
                raise ShapeError(
                    f"cannot multiply inputs of shapes {listed}: axis {rank - axis} has sizes "
                    f"{sorted(sizes)}; sizes must agree or be 1 (trailing axes aligned).",
                    attribute="inputs",
                )
            out.append(sizes.pop() if sizes else 1)
        return tuple(reversed(out))

    def other_ops(self, shapes, out):
        # one multiplication per output element for each input after the first
        return (len(shapes) - 1) * prod(out)

    def forward(self, xs, w, k):
        return k.multiply(xs)
