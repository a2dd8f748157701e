"""Learned tables and tensors: token embeddings and parameters that are not a layer's weights on an input."""

from __future__ import annotations

from ..errors import ShapeError
from .base import NEAR_ZERO, Attr, Layer, Weight, register


@register("embedding")
class Embedding(Layer):
    doc = "Looks up a learned vector for each integer token id: (...) -> (..., dim); a copy, no arithmetic."
    attrs = (
        Attr("vocab", "size", doc="number of distinct ids, the rows of the table"),
        Attr("dim", "size", doc="length of each vector"),
    )
    takes_tokens = True
    free = True

    def output_shape(self, shapes):
        return (*shapes[0], self.dim)

    def output_tokens(self, tokens):
        if tokens[0] is None:
            raise ShapeError(
                "an embedding looks up integer token ids, but its input holds real values; declare the "
                "input with 'tokens' (the vocabulary size).",
                attribute="inputs",
            )
        if tokens[0] > self.vocab:
            raise ShapeError(
                f"its input holds token ids up to {tokens[0] - 1}, beyond a vocabulary of {self.vocab}. "
                f"Received: vocab={self.vocab}, tokens={tokens[0]}",
                attribute="vocab",
            )
        # the output holds vectors, real values: the default None

    def weights(self, shapes):
        return {"table": Weight((self.vocab, self.dim))}

    def forward(self, xs, w, k):
        return k.embedding(xs[0], w["table"])


@register("parameter")
class Parameter(Layer):
    doc = (
        "A learned tensor of the given shape with no input, such as ViT's class token and position "
        "embedding or ConvNeXt's layer scale; feed it to add, multiply or concat. With trainable false, "
        "a fixed tensor training leaves alone (an attention mask), counted as non-trainable."
    )
    attrs = (
        Attr("shape", "shape", doc="shape without batch, e.g. [1, 768]"),
        Attr("trainable", "bool", True, "false for a fixed tensor (a mask, a buffer): a non-trainable parameter"),
    )
    inputs = (0, 0)
    free = True

    def output_shape(self, shapes):
        return self.shape

    def weights(self, shapes):
        return {"value": Weight(self.shape, trainable=self.trainable, init=NEAR_ZERO)}

    def forward(self, xs, w, k):
        return k.batched(w["value"])
