"""Normalisation layers."""

from __future__ import annotations

from fractions import Fraction
from math import prod

from ..errors import ShapeError
from .base import (
    NEAR_ONE,
    NEAR_ZERO,
    POSITIVE,
    Attr,
    Layer,
    Weight,
    fmt_shape,
    register,
)
from .formula import Factor, elements, formula
from .kinds import Number


@register("batch_norm")
class BatchNorm(Layer):
    doc = "Batch normalisation on the last axis (inference form)."
    attrs = (
        Attr("epsilon", Number(0), Fraction(1, 1000), "added to the variance"),
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

    def other_ops_formula(self, shapes, out):
        return formula([Factor("2", 2), *elements(out)])

    def forward(self, xs, w, k):
        return k.batch_norm(
            xs[0], w.get("gamma"), w.get("beta"), w["moving_mean"], w["moving_variance"], float(self.epsilon)
        )


def statistics_ops(elements: int, affine: bool) -> int:
    """Other ops of a norm that computes its statistics from the input, per element normalised.

    Mean: 1 add. Variance: subtract the mean, square, add: 3. Normalise: multiply the
    centred value by 1 / sqrt(variance + epsilon): 1. Affine: a scale and a shift, 2 more.
    The per-group divisions and square roots are not counted (they are not per element).
    """
    return elements * (5 + (2 if affine else 0))


class _StatisticsNorm(Layer):
    """A norm whose statistics come from each sample's own values over positions and channel groups."""

    def groups_of(self, shapes) -> int:
        raise NotImplementedError

    def output_shape(self, shapes):
        if len(shapes[0]) < 2:
            raise ShapeError(
                f"{self.type} needs positions and channels, e.g. (H, W, C) or (L, C); its input has shape "
                f"{fmt_shape(shapes[0])}.",
                attribute="inputs",
            )
        self.groups_of(shapes)
        return shapes[0]

    def weights(self, shapes):
        if not self.affine:
            return {}
        c = (shapes[0][-1],)
        return {"gamma": Weight(c, init=NEAR_ONE), "beta": Weight(c, init=NEAR_ZERO)}

    def other_ops(self, shapes, out):
        return statistics_ops(prod(out), self.affine)

    def other_ops_formula(self, shapes, out):
        # mean 1, variance 3, normalise 1; the affine scale and shift 2 more
        return formula([Factor("(5 + 2 affine)", 5 + 2 * self.affine), *elements(out)])

    def forward(self, xs, w, k):
        groups = self.groups_of([x.shape[1:] for x in xs])
        return k.group_norm(xs[0], groups, w.get("gamma"), w.get("beta"), float(self.epsilon))


@register("group_norm")
class GroupNorm(_StatisticsNorm):
    doc = "Group normalisation: each sample's channels in groups, normalised over positions and the group's channels."
    attrs = (
        Attr("groups", "size", doc="channel groups, dividing the channels"),
        Attr("epsilon", Number(0), Fraction(1, 100000), "added to the variance"),
        Attr("affine", "bool", True, "learn a scale gamma and a shift beta per channel"),
    )

    def groups_of(self, shapes):
        c = shapes[0][-1]
        if c % self.groups:
            raise ShapeError(
                f"the groups do not divide the {c} channels of the input {fmt_shape(shapes[0])}.",
                attribute="groups",
                received=self.groups,
                has_received=True,
            )
        return self.groups


@register("instance_norm")
class InstanceNorm(_StatisticsNorm):
    doc = "Instance normalisation: each sample's channels normalised over positions (group norm with a group per channel)."
    attrs = (
        Attr("epsilon", Number(0), Fraction(1, 100000), "added to the variance"),
        Attr("affine", "bool", False, "learn a scale gamma and a shift beta per channel (PyTorch's default: no)"),
    )

    def groups_of(self, shapes):
        return shapes[0][-1]


@register("layer_norm")
class LayerNorm(Layer):
    doc = "Layer normalisation over the last axes: statistics of each position, computed at inference."
    attrs = (
        Attr("axes", "size", 1, "how many trailing axes are normalised together"),
        Attr("epsilon", Number(0), Fraction(1, 10**5), "added to the variance"),
        Attr("scale", "bool", True, "learn a scale gamma per normalised element"),
        Attr("center", "bool", True, "learn a shift beta per normalised element (a bias)"),
    )

    def output_shape(self, shapes):
        if self.axes > len(shapes[0]):
            raise ShapeError(
                f"cannot normalise the last {self.axes} axes of an input of shape {fmt_shape(shapes[0])}.",
                attribute="axes",
            )
        return shapes[0]

    def weights(self, shapes):
        normalised = shapes[0][-self.axes :]
        w = {}
        if self.scale:
            w["gamma"] = Weight(normalised, init=NEAR_ONE)
        if self.center:
            w["beta"] = Weight(normalised, init=NEAR_ZERO)
        return w

    def other_ops(self, shapes, out):
        # as group norm: 5 per element for the statistics and the normalisation, then one each for
        # scale and shift
        return statistics_ops(prod(out), False) + (self.scale + self.center) * prod(out)

    def other_ops_formula(self, shapes, out):
        return formula([Factor("(5 + scale + center)", 5 + self.scale + self.center), *elements(out)])

    def forward(self, xs, w, k):
        return k.layer_norm(xs[0], w.get("gamma"), w.get("beta"), self.axes, float(self.epsilon))


@register("rms_norm")
class RMSNorm(Layer):
    doc = "Root-mean-square normalisation over the last axis (Llama's): x / sqrt(mean(x^2) + epsilon) x gamma."
    attrs = (
        Attr("epsilon", Number(0), Fraction(1, 10**6), "added to the mean square"),
        Attr("scale", "bool", True, "learn a scale gamma per feature"),
    )

    def weights(self, shapes):
        return {"gamma": Weight((shapes[0][-1],), init=NEAR_ONE)} if self.scale else {}

    def other_ops(self, shapes, out):
        # per element: a square and an add for the mean square, a multiplication by
        # 1 / sqrt(mean square + epsilon), and the scale; per-position divisions and roots are not counted
        return (3 + self.scale) * prod(out)

    def other_ops_formula(self, shapes, out):
        return formula([Factor("(3 + scale)", 3 + self.scale), *elements(out)])

    def forward(self, xs, w, k):
        return k.rms_norm(xs[0], w.get("gamma"), float(self.epsilon))
