"""Preprocessing layers that models carry inside them (Keras' Rescaling and Normalization)."""

from __future__ import annotations

from fractions import Fraction
from math import prod

from .base import NEAR_ONE, NEAR_ZERO, POSITIVE, Attr, Layer, Weight, register
from .formula import Factor, elements, formula


@register("rescale")
class Rescale(Layer):
    doc = "x × scale + offset with constants, such as 1/255 for pixels (Keras' Rescaling)."
    attrs = (
        Attr("scale", "number", doc="the factor"),
        Attr("offset", "number", 0, "added after scaling"),
    )

    def other_ops(self, shapes, out):
        # a multiply per element, and an add when there is an offset
        return prod(out) * (2 if self.offset else 1)

    def other_ops_formula(self, shapes, out):
        return formula(elements(out), elements(out) if self.offset else [])

    def forward(self, xs, w, k):
        return k.rescale(xs[0], float(self.scale), float(self.offset))


@register("normalize")
class Normalize(Layer):
    doc = "(x - mean) / max(sqrt(variance), 1e-7) per channel with stored statistics (Keras' Normalization)."

    def weights(self, shapes):
        c = (shapes[0][-1],)
        # Keras keeps the number of samples the statistics came from, a non-trainable scalar it counts
        return {
            "mean": Weight(c, trainable=False, init=NEAR_ZERO),
            "variance": Weight(c, trainable=False, init=POSITIVE),
            "count": Weight((), trainable=False, init=NEAR_ONE),
        }

    def other_ops(self, shapes, out):
        # a subtraction and a division per element
        return 2 * prod(out)

    def other_ops_formula(self, shapes, out):
        return formula([Factor("2", 2), *elements(out)])

    def forward(self, xs, w, k):
        return k.normalize(xs[0], w["mean"], w["variance"], w["count"], float(EPSILON))


EPSILON = Fraction(1, 10**7)  # Keras' backend epsilon, the floor of the standard deviation
