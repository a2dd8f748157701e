"""Recurrent layers over a (T, D) sequence: simple RNN, LSTM and GRU.

A cell with g gates keeps H units. Per step and direction it multiplies the step's input
by a (D, g H) kernel and the previous state by an (H, g H) recurrent kernel, so
MACs = directions x T x g x H x (D + H), whether every step's output is kept or only
the last. The two frameworks differ in biases: Keras adds one bias vector per gate,
PyTorch two (one to each product), so a PyTorch LSTM has 4 H more parameters per
direction. ``biases`` says which (0, 1 or 2); the defaults are Keras'.
"""

from __future__ import annotations

from typing import ClassVar

from ..errors import ShapeError, spec_error
from .base import NEAR_ZERO, Attr, Layer, Weight, fan_in, fmt_shape, register
from .formula import Factor, formula
from .window import Reads

_COMMON = (
    Attr("units", "size", doc="hidden units H"),
    Attr("return_sequences", "bool", False, "output every step (T, H) rather than the last (H,)"),
    Attr("bidirectional", "bool", False, "also run backwards over the sequence and join both outputs (2 H)"),
)


class _Recurrent(Layer):
    """A recurrent layer: gates x units per direction, run over every step of a (T, D) input."""

    cell: ClassVar[str]
    gates: ClassVar[int]
    step_ops: ClassVar[int]  # other ops per unit and step, bias adds apart

    def check(self):
        if self.biases > 2:
            raise spec_error(
                "must be 0, 1 (Keras) or 2 (PyTorch) bias vectors per gate.", attribute="biases", received=self.biases
            )

    def directions(self):
        return ("forward", "backward") if self.bidirectional else ("forward",)

    def output_shape(self, shapes):
        if len(shapes[0]) != 2:
            raise ShapeError(
                f"{self.type} needs a (T, D) sequence input (steps, features), but its input has shape "
                f"{fmt_shape(shapes[0])}; flatten or reshape it first.",
                attribute="inputs",
            )
        width = len(self.directions()) * self.units
        return (shapes[0][0], width) if self.return_sequences else (width,)

    def weights(self, shapes):
        d, h, g = shapes[0][-1], self.units, self.gates
        w = {}
        for way in self.directions():
            w[f"{way}/kernel"] = Weight((d, g * h), init=fan_in(d + h))
            w[f"{way}/recurrent_kernel"] = Weight((h, g * h), init=fan_in(d + h))
            if self.biases:
                w[f"{way}/bias"] = Weight((self.biases, g * h), init=NEAR_ZERO)
        return w

    def macs(self, shapes, out):
        # (T, D) -> (T, H) per direction: every step, g gates x H units, each summing D + H products
        steps, d = shapes[0]
        return len(self.directions()) * steps * self.gates * self.units * (d + self.units)

    def other_ops(self, shapes, out):
        steps = shapes[0][0]
        per_unit = self.gates * self.biases + self.step_ops
        return len(self.directions()) * steps * self.units * per_unit

    def _symbols(self, shapes):
        return (
            Factor("directions", len(self.directions())),
            Factor("T", shapes[0][0]),
            Factor("g", self.gates),
            Factor("H", self.units),
            Factor("D", shapes[0][-1]),
        )

    def params_formula(self, shapes):
        ways, _, g, h, d = self._symbols(shapes)
        return formula(
            [ways, g, d, h], [ways, g, h, h], [ways, Factor("biases", self.biases), g, h] if self.biases else []
        )

    def macs_formula(self, shapes, out):
        ways, t, g, h, d = self._symbols(shapes)
        return formula([ways, t, g, h, d], [ways, t, g, h, h])

    def other_ops_formula(self, shapes, out):
        ways, t, g, h, _ = self._symbols(shapes)
        return formula(
            [ways, t, h, g, Factor("biases", self.biases)] if self.biases else [],
            [ways, t, h, Factor("cell ops", self.step_ops)],
        )

    def scratch(self, shapes, out, batch, k):
        # per direction, the input products of every step (N, T, gates H) and a step's few (N, gates H) temporaries
        width = self.gates * self.units
        return {"input_products": k.ITEMSIZE * batch * shapes[0][0] * width, "step": 8 * k.ITEMSIZE * batch * width}

    def window(self, shapes):
        # the last step (and, both ways, every step) has read the whole sequence: the largest field is T
        return (Reads(0, 1, 0, shapes[0][0] - 1),)

    def forward(self, xs, w, k):
        outs = [
            k.recurrent(
                xs[0],
                self.cell,
                w[f"{way}/kernel"],
                w[f"{way}/recurrent_kernel"],
                w.get(f"{way}/bias"),
                reverse=way == "backward",
                reset_after=getattr(self, "reset_after", True),
                sequences=self.return_sequences,
            )
            for way in self.directions()
        ]
        return outs[0] if len(outs) == 1 else k.concat(outs, -1)


@register("simple_rnn")
class SimpleRNN(_Recurrent):
    doc = "Elman RNN: h = tanh(x W + h U + b) at every step (Keras SimpleRNN, PyTorch RNN)."
    attrs = _COMMON + (Attr("biases", "count", 1, "bias vectors per gate: 0, 1 (Keras) or 2 (PyTorch)"),)
    cell, gates = "rnn", 1
    step_ops = 1  # tanh


@register("lstm")
class LSTM(_Recurrent):
    doc = "Long short-term memory: input, forget, cell and output gates (Keras' and PyTorch's order)."
    attrs = _COMMON + (Attr("biases", "count", 1, "bias vectors per gate: 0, 1 (Keras) or 2 (PyTorch)"),)
    cell, gates = "lstm", 4
    # 3 sigmoids and 2 tanh; c = f c + i g: 2 multiplications and an add; h = o tanh(c): 1 multiplication
    step_ops = 5 + 3 + 1


@register("gru")
class GRU(_Recurrent):
    doc = "Gated recurrent unit: reset, update and new gates (PyTorch's order)."
    attrs = _COMMON + (
        Attr("biases", "count", 2, "bias vectors per gate: 0, 1 or 2 (Keras' default reset_after, PyTorch)"),
        Attr("reset_after", "bool", True, "apply the reset gate after the recurrent product (PyTorch, Keras' default)"),
    )
    cell, gates = "gru", 3
    # 2 sigmoids and a tanh; the reset multiplication; h = n + z (h - n): 3
    step_ops = 3 + 1 + 3
