"""Normalisation layers."""

from __future__ import annotations

from fractions import Fraction
from math import prod

from .base import NEAR_ONE, NEAR_ZERO, POSITIVE, Attr, Layer, Weight, register


@register("batch_norm")
class BatchNorm(Layer):
    doc = "Batch normalisation on the last axis (inference form)."
    attrs = (
        Attr("epsilon", "number", Fraction(1, 1000), "added to the variance"),
        Attr("center", "bool", True, "learn a shift beta"),
        Attr("scale", "bool", True, "learn a scale gamma"),
    )

    def weights(self, shapes):
        c = (shapes[0][-1],)
        w = {}
        if self.scale:
            w["gamma"] = Weight(c, init=NEAR_ONE)
        if self.center:
            w["beta"] = Weight(c, init=NEAR_ZERO)
        w["moving_mean"] = Weight(c, trainable=False, init=NEAR_ZERO)
        w["moving_variance"] = Weight(c, trainable=False, init=POSITIVE)
        return w

    def other_ops(self, shapes, out):
        # folded into one scale and one shift per element
        return 2 * prod(out)

    def forward(self, xs, w, k):
        return k.batch_norm(
            xs[0], w.get("gamma"), w.get("beta"), w["moving_mean"], w["moving_variance"], float(self.epsilon)
        )
