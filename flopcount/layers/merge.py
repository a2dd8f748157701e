"""Layers that join several inputs."""

from __future__ import annotations

from math import prod

from ..errors import ShapeError, spec_error
from .base import Attr, Layer, fmt_shape, register


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
        if not -rank <= self.axis < rank:
            raise spec_error(f"axis is out of range for rank {rank}.", attribute="axis", received=self.axis)
        axis = self.axis % rank
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
