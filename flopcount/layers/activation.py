"""Element-wise activations and softmax."""

from __future__ import annotations

from fractions import Fraction
from math import prod

from .base import Attr, Layer, register
from .formula import Factor, elements, formula

ACTIVATIONS = (
    "relu",
    "relu6",
    "leaky_relu",
    "elu",
    "sigmoid",
    "hard_sigmoid",
    "tanh",
    "swish",
    "silu",
    "hard_swish",
    "gelu",
    "gelu_tanh",
    "linear",
)


@register("activation")
class Activation(Layer):
    doc = "Element-wise activation function."
    attrs = (
        Attr(
            "fn",
            "choice",
            doc="the function (gelu is the exact erf form, gelu_tanh its tanh approximation; silu is swish)",
            choices=ACTIVATIONS,
        ),
        Attr("alpha", "number", None, "slope of leaky_relu for x < 0 (default 0.01), scale of elu (default 1)"),
    )
    ALPHA = {"leaky_relu": Fraction(1, 100), "elu": Fraction(1)}  # PyTorch's defaults

    def other_ops(self, shapes, out):
        return 0 if self.fn == "linear" else prod(out)

    def other_ops_formula(self, shapes, out):
        return formula([] if self.fn == "linear" else elements(out))

    def forward(self, xs, w, k):
        alpha = self.ALPHA.get(self.fn, 0) if self.alpha is None else self.alpha
        return k.activation(xs[0], self.fn, float(alpha))


@register("softmax")
class Softmax(Layer):
    doc = "Softmax over the last axis."

    def other_ops(self, shapes, out):
        # exponential, running sum and division per element
        return 3 * prod(out)

    def other_ops_formula(self, shapes, out):
        return formula([Factor("3", 3), *elements(out)])

    def forward(self, xs, w, k):
        return k.softmax(xs[0])
