"""The network's input."""

from __future__ import annotations

from .base import Attr, Layer, register


@register("input")
class Input(Layer):
    doc = "The network's input tensor."
    attrs = (
        Attr("shape", "shape", doc="shape without batch, e.g. [224, 224, 3]"),
        Attr("tokens", "size", None, "integer token ids in [0, tokens) instead of real values, for an embedding"),
    )
    inputs = (0, 0)
    source = True
    free = True

    def output_shape(self, shapes):
        return self.shape

    def output_tokens(self, tokens):
        return self.tokens
