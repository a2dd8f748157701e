"""Layers that change the spatial resolution without weights: upsampling and pixel shuffle."""

from __future__ import annotations

from math import floor, prod
from typing import ClassVar

from ..errors import ShapeError, spec_error
from .base import Attr, Layer, fmt_shape, register
from .formula import Factor, elements, formula
from .kinds import AXES, Scales, Sizes
from .window import Reads, spatial

_LINEAR = {1: "linear", 2: "bilinear", 3: "trilinear"}


class Upsample(Layer):
    """Nearest or (bi/tri)linear interpolation to a size, or by a scale, over rank spatial axes (PyTorch's rules)."""

    rank: ClassVar[int] = 2

    @classmethod
    def with_rank(cls, rank):
        axes = "[" + ", ".join(AXES[rank]) + "]"
        return (
            Attr("size", Sizes(rank), None, f"output size, or {axes}"),
            Attr(
                "scale",
                Scales(rank),
                None,
                f"or: scale factor (at least 1), or {axes}; the output is floor(size x scale)",
            ),
            Attr(
                "mode",
                "choice",
                "nearest",
                f"'nearest', or linear interpolation: 'linear' or '{_LINEAR[rank]}'",
                choices=("nearest", "linear", _LINEAR[rank]),
            ),
            Attr("align_corners", "bool", False, "linear modes: the corner samples of input and output coincide"),
        )

    def check(self):
        if (self.size is None) == (self.scale is None):
            raise spec_error(
                "upsampling needs either size or scale, not both or neither.",
                attribute="scale",
                received=None if self.scale is None else [str(v) for v in self.scale],
            )
        if self.scale is not None and min(self.scale) < 1:
            raise spec_error(
                "must be at least 1 on every axis: an upsample does not shrink (use size to resize).",
                attribute="scale",
                received=[float(v) for v in self.scale],
            )
        if self.align_corners and self.mode == "nearest":
            raise spec_error(
                "applies to linear interpolation only, not to 'nearest'.", attribute="align_corners", received=True
            )

    def output_shape(self, shapes):
        shape = spatial(shapes[0], self, self.rank)
        if self.size is not None:
            return (*self.size, shape[-1])
        return (*(floor(n * s) for n, s in zip(shape, self.scale)), shape[-1])

    def other_ops(self, shapes, out):
        # nearest copies; linear: each output is a weighted sum of its 2^rank neighbours,
        # 2^rank multiplications and 2^rank - 1 additions
        return 0 if self.mode == "nearest" else prod(out) * (2 ** (self.rank + 1) - 1)

    def other_ops_formula(self, shapes, out):
        ops = Factor("(2^(r+1) - 1)", 2 ** (self.rank + 1) - 1)
        return formula([] if self.mode == "nearest" else [ops, *elements(out)])

    def window(self, shapes):
        reads = []
        for n, o, scale in zip(shapes[0], self.output_shape(shapes), self.scale or (None,) * self.rank):
            # the source coordinate's step: 1 / scale when given, else n / o (PyTorch)
            step = 1 / scale if scale is not None else None
            a, b = (step.numerator, step.denominator) if step is not None else (n, o)
            if self.mode == "nearest":
                reads.append(Reads(a, b, 0, 0))  # floor(o x step)
            elif self.align_corners:
                # o (n - 1) / (o_size - 1) and the next position
                reads.append(Reads(n - 1, o - 1, 0, o - 1) if o > 1 else Reads(0, 1, 0, 1))
            else:
                # (o + 1/2) step - 1/2 and the next position: floor((2 a o + a - b) / 2 b), + 1
                reads.append(Reads(2 * a, 2 * b, a - b, a + b))
        return tuple(reads)

    def forward(self, xs, w, k):
        out = self.output_shape([x.shape[1:] for x in xs])[:-1]
        return k.upsample(xs[0], out, "nearest" if self.mode == "nearest" else "linear", self.align_corners, self.scale)


@register("upsample")
class Upsample2D(Upsample):
    doc = "Upsampling of (H, W, C): nearest or bilinear, to a size or by a scale (PyTorch's Upsample, Keras' UpSampling2D)."
    rank = 2
    attrs = Upsample.with_rank(2)


@register("upsample1d")
class Upsample1D(Upsample):
    doc = "Upsampling of (L, C): nearest or linear, to a size or by a scale."
    rank = 1
    attrs = Upsample.with_rank(1)


@register("upsample3d")
class Upsample3D(Upsample):
    doc = "Upsampling of (D, H, W, C): nearest or trilinear, to a size or by a scale."
    rank = 3
    attrs = Upsample.with_rank(3)


@register("pixel_shuffle")
class PixelShuffle(Layer):
    doc = "Depth to space: (H, W, C x b^2) -> (H b, W b, C) (PyTorch's PixelShuffle, TensorFlow's depth_to_space)."
    attrs = (
        Attr("factor", "size", doc="upscale factor b (PyTorch's upscale_factor, TensorFlow's block_size)"),
        Attr(
            "order",
            "choice",
            "CRD",
            "channel order: CRD (PyTorch, ONNX mode CRD) or DCR (TensorFlow, ONNX default)",
            choices=("CRD", "DCR"),
        ),
    )
    free = True

    def output_shape(self, shapes):
        h, w, c = spatial(shapes[0], self)
        if c % (self.factor * self.factor):
            raise ShapeError(
                f"the {c} channels of the input {fmt_shape(shapes[0])} are not a multiple of factor^2 = "
                f"{self.factor * self.factor}.",
                attribute="factor",
                received=self.factor,
                has_received=True,
            )
        return (h * self.factor, w * self.factor, c // (self.factor * self.factor))

    def window(self, shapes):
        # output position o comes from input position floor(o / b)
        return (Reads(1, self.factor, 0, 0),) * 2

    def forward(self, xs, w, k):
        return k.pixel_shuffle(xs[0], self.factor, self.order)
