"""Fully connected layers."""

from __future__ import annotations

from math import prod

from .base import Attr, Layer, Weight, bias_ops, bias_term, bias_weight, register
from .formula import Factor, elements, formula


@register("dense")
class Dense(Layer):
    doc = "Fully connected layer on the last axis."
    attrs = (Attr("units", "size", doc="output features"), Attr("bias", "bool", True, "add a bias per unit"))

    def output_shape(self, shapes):
        return (*shapes[0][:-1], self.units)

    def weights(self, shapes):
        w = {"kernel": Weight((shapes[0][-1], self.units))}
        if self.bias:
            w["bias"] = bias_weight(self.units)
        return w

    def macs(self, shapes, out):
        # (..., C_in) -> (..., units): every output element sums C_in products
        return prod(out) * shapes[0][-1]

    def other_ops(self, shapes, out):
        return bias_ops(self, out)

    def params_formula(self, shapes):
        n = Factor("units", self.units)
        return formula([Factor("C_in", shapes[0][-1]), n], [n] if self.bias else [])

    def macs_formula(self, shapes, out):
        return formula([*elements(out), Factor("C_in", shapes[0][-1])])

    def other_ops_formula(self, shapes, out):
        return formula(bias_term(self, out))

    def forward(self, xs, w, k):
        return k.dense(xs[0], w["kernel"], w.get("bias"))
