"""Layers that only move, drop or pad values: flatten, dropout, zero padding."""

from __future__ import annotations

from fractions import Fraction
from math import prod

from .base import Attr, Layer, register
from .window import spatial


@register("flatten")
class Flatten(Layer):
    doc = "Flatten (H, W, C) to (H x W x C,) in row-major (H, W, C) order."
    free = True

    def output_shape(self, shapes):
        return (prod(shapes[0]),)

    def window(self, shapes):
        if len(shapes[0]) == 3:
            h, w, _ = shapes[0]
            return ((h, 1, 0), (w, 1, 0))
        return None

    def forward(self, xs, w, k):
        return k.flatten(xs[0])


@register("dropout")
class Dropout(Layer):
    doc = "Dropout; the identity at inference."
    attrs = (Attr("rate", "fraction", Fraction(1, 2), "fraction dropped in training"),)
    free = True


@register("zero_pad")
class ZeroPad(Layer):
    doc = "Pad height and width with zeros."
    attrs = (Attr("padding", "pad_amount", doc="p, [p_h, p_w] or [[top, bottom], [left, right]]"),)
    free = True

    def output_shape(self, shapes):
        h, w, c = spatial(shapes[0], self)
        (t, b), (l, r) = self.padding
        return (h + t + b, w + l + r, c)

    def forward(self, xs, w, k):
        return k.pad(xs[0], self.padding)
