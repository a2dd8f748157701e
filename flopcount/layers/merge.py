"""Layers that join several inputs."""

from __future__ import annotations

from math import prod

from ..errors import ShapeError
from .base import Attr, Layer, axis_index, fmt_shape, register
from .formula import Factor, elements, formula


def broadcast(shapes, verb):
    """The shape NumPy broadcasting gives: trailing axes align, and on each axis the sizes agree or are 1."""
    rank = max(len(s) for s in shapes)
    out = []
    for axis in range(1, rank + 1):
        sizes = {s[-axis] for s in shapes if len(s) >= axis} - {1}
        if len(sizes) > 1:
            listed = ", ".join(fmt_shape(x) for x in shapes)
            raise ShapeError(
                f"cannot {verb} inputs of shapes {listed}: axis {rank - axis} has sizes "
                f"{sorted(sizes)}; sizes must agree or be 1 (trailing axes aligned).",
                attribute="inputs",
            )
        out.append(sizes.pop() if sizes else 1)
    return tuple(reversed(out))


class _Many(Layer):
    """An element-wise operation of two or more inputs that broadcast, named by its kernel (kernels.add, ...)."""

    inputs = (2, None)
    verb = ""

    def output_shape(self, shapes):
        return broadcast(shapes, self.verb)

    def other_ops(self, shapes, out):
        # one addition or multiplication per output element for each input after the first
        return (len(shapes) - 1) * prod(out)

    def other_ops_formula(self, shapes, out):
        return formula([Factor("(inputs - 1)", len(shapes) - 1), *elements(out)])

    def forward(self, xs, w, k):
        return getattr(k, self.verb)(xs)


@register("add")
class Add(_Many):
    doc = "Element-wise sum of two or more inputs whose shapes broadcast (residual shortcut: equal shapes)."
    verb = "add"

    def output_shape(self, shapes):
        try:
            return super().output_shape(shapes)
        except ShapeError:
            listed = ", ".join(fmt_shape(x) for x in shapes)
            raise ShapeError(f"cannot add inputs of different shapes: {listed}.", attribute="inputs") from None


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
class Multiply(_Many):
    doc = "Element-wise product of two or more inputs whose shapes broadcast (squeeze-and-excitation, gating)."
    verb = "multiply"


class _Pair(Layer):
    """An element-wise operation of two inputs that broadcast, named by its kernel (kernels.subtract, ...)."""

    inputs = (2, 2)
    verb = ""

    def output_shape(self, shapes):
        return broadcast(shapes, self.verb)

    def other_ops(self, shapes, out):
        # one subtraction or division per output element
        return prod(out)

    def other_ops_formula(self, shapes, out):
        return formula(elements(out))

    def forward(self, xs, w, k):
        return getattr(k, self.verb)(xs)


@register("subtract")
class Subtract(_Pair):
    doc = "Element-wise difference of two inputs whose shapes broadcast: the first minus the second."
    verb = "subtract"


@register("divide")
class Divide(_Pair):
    doc = "Element-wise quotient of two inputs whose shapes broadcast: the first divided by the second."
    verb = "divide"
