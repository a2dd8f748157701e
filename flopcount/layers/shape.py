"""Layers that only move, drop, pad or pick values: flatten, reshape, slice, select, dropout, zero padding, split, channel shuffle, crop."""

from __future__ import annotations

from fractions import Fraction
from math import prod
from typing import ClassVar

from ..errors import ShapeError, spec_error
from .base import Attr, Layer, axis_index, fmt_shape, register
from .kinds import AXES, Axes, NewShape, PadAmount
from .window import spatial, whole_map


@register("flatten")
class Flatten(Layer):
    doc = "Flatten (H, W, C) to (H x W x C,) in row-major (H, W, C) order."
    free = True

    def output_shape(self, shapes):
        return (prod(shapes[0]),)

    def window(self, shapes):
        # every output element may come from any position: the field is the whole map
        return whole_map(shapes[0]) if len(shapes[0]) > 1 else None

    def forward(self, xs, w, k):
        return k.flatten(xs[0])


@register("dropout")
class Dropout(Layer):
    doc = "Dropout; the identity at inference."
    attrs = (Attr("rate", "fraction", Fraction(1, 2), "fraction dropped in training"),)
    free = True


class ZeroPad(Layer):
    """Zeros added at the ends of each spatial axis."""

    rank: ClassVar[int] = 2
    free = True

    def output_shape(self, shapes):
        *size, c = spatial(shapes[0], self, self.rank)
        return (*(n + b + a for n, (b, a) in zip(size, self.padding)), c)

    def forward(self, xs, w, k):
        return k.pad(xs[0], self.padding)


@register("zero_pad")
class ZeroPad2D(ZeroPad):
    doc = "Pad height and width with zeros."
    attrs = (Attr("padding", "pad_amount", doc="p, [p_h, p_w] or [[top, bottom], [left, right]]"),)


@register("zero_pad1d")
class ZeroPad1D(ZeroPad):
    doc = "Pad the length of (L, C) with zeros."
    rank = 1
    attrs = (Attr("padding", PadAmount(1), doc="p or [[before, after]]"),)


@register("zero_pad3d")
class ZeroPad3D(ZeroPad):
    doc = "Pad depth, height and width of (D, H, W, C) with zeros."
    rank = 3
    attrs = (Attr("padding", PadAmount(3), doc="p, [p_d, p_h, p_w] or a [before, after] pair per axis"),)


@register("split")
class Split(Layer):
    doc = "One part of an input split along an axis: torch.split / chunk, tf.split (ShuffleNet's channel split)."
    attrs = (
        Attr("parts", "size", None, "split into this many equal parts"),
        Attr("sizes", "shape", None, "or: the size of each part, e.g. [58, 58]"),
        Attr("index", "count", doc="which part this layer passes on, from 0"),
        Attr("axis", "axis", -1, "axis to split, without the batch axis (default: channels)"),
    )
    free = True

    def check(self):
        if (self.parts is None) == (self.sizes is None):
            raise spec_error(
                "split needs either parts or sizes, not both or neither.", attribute="sizes", received=self.sizes
            )
        count = self.parts if self.sizes is None else len(self.sizes)
        if self.index >= count:
            raise spec_error(f"must be below the number of parts ({count}).", attribute="index", received=self.index)

    def bounds(self, shapes):
        """(axis, start, stop) of the part along the axis, counted without the batch axis."""
        shape = shapes[0]
        axis = axis_index(shape, self.axis)
        size = shape[axis]
        if self.sizes is None:
            if size % self.parts:
                raise ShapeError(
                    f"cannot split axis {self.axis} of size {size} (input {fmt_shape(shape)}) into {self.parts} "
                    "equal parts.",
                    attribute="parts",
                    received=self.parts,
                    has_received=True,
                )
            step = size // self.parts
            return axis, self.index * step, (self.index + 1) * step
        if sum(self.sizes) != size:
            raise ShapeError(
                f"split sizes add up to {sum(self.sizes)}, but axis {self.axis} of the input {fmt_shape(shape)} "
                f"has {size}.",
                attribute="sizes",
                received=list(self.sizes),
                has_received=True,
            )
        start = sum(self.sizes[: self.index])
        return axis, start, start + self.sizes[self.index]

    def output_shape(self, shapes):
        axis, start, stop = self.bounds(shapes)
        out = list(shapes[0])
        out[axis] = stop - start
        return tuple(out)

    def forward(self, xs, w, k):
        return k.slice_axis(xs[0], *self.bounds([x.shape[1:] for x in xs]))


@register("channel_shuffle")
class ChannelShuffle(Layer):
    doc = "ShuffleNet's channel shuffle: channels viewed as (groups, C / groups), transposed and flattened."
    attrs = (Attr("groups", "size", doc="channel groups"),)
    free = True

    def output_shape(self, shapes):
        c = shapes[0][-1]
        if c % self.groups:
            raise ShapeError(
                f"the groups do not divide the {c} channels of the input {fmt_shape(shapes[0])}.",
                attribute="groups",
                received=self.groups,
                has_received=True,
            )
        return shapes[0]

    def forward(self, xs, w, k):
        return k.channel_shuffle(xs[0], self.groups)


class Crop(Layer):
    """Remove positions at the ends of each spatial axis: by amounts, or centrally down to a second input's size."""

    rank: ClassVar[int] = 2
    inputs = (1, 2)
    free = True
    shape_inputs = (1,)

    @classmethod
    def with_rank(cls, rank):
        return (Attr("cropping", PadAmount(rank), None, PadAmount(rank).describe() + " removed"),)

    def amounts(self, shapes):
        """(before, after) removed from the first input on each spatial axis."""
        size = spatial(shapes[0], self, self.rank)[:-1]
        if len(shapes) == 2:
            if self.cropping is not None:
                raise spec_error(
                    "give cropping or a second input to crop to, not both.",
                    attribute="cropping",
                    received=[list(p) for p in self.cropping],
                )
            target = shapes[1][:-1]
            if len(shapes[1]) != len(shapes[0]) or any(t > s for t, s in zip(target, size)):
                raise ShapeError(
                    f"cannot crop {fmt_shape(shapes[0])} to the size of {fmt_shape(shapes[1])}: the target must "
                    "have as many axes and be no larger on any of them.",
                    attribute="inputs",
                )
            # centred; an odd difference leaves the extra row or column at the end
            return tuple(((s - t) // 2, s - t - (s - t) // 2) for s, t in zip(size, target))
        if self.cropping is None:
            raise spec_error("crop needs cropping amounts or a second input to crop to.", attribute="cropping")
        for axis, s, (b, a) in zip(AXES[self.rank], size, self.cropping):
            if b + a >= s:
                raise ShapeError(
                    f"cropping {b} + {a} leaves nothing of the input {axis} of {s} (input {fmt_shape(shapes[0])}).",
                    attribute="cropping",
                    received=[list(p) for p in self.cropping],
                    has_received=True,
                )
        return self.cropping

    def output_shape(self, shapes):
        return (*(s - b - a for s, (b, a) in zip(shapes[0], self.amounts(shapes))), shapes[0][-1])

    def window(self, shapes):
        # output position o is input position o + before: a window of 1 that starts before positions late
        return tuple((1, 1, -b) for b, _ in self.amounts(shapes))

    def forward(self, xs, w, k):
        return k.crop(xs[0], self.amounts([x.shape[1:] for x in xs]))


@register("crop")
class Crop2D(Crop):
    doc = "Crop (H, W, C) by amounts, or, given a second input, centrally to its size (the U-Net's skip connections)."
    rank = 2
    attrs = Crop.with_rank(2)


@register("crop1d")
class Crop1D(Crop):
    doc = "Crop (L, C) by amounts, or, given a second input, centrally to its length."
    rank = 1
    attrs = Crop.with_rank(1)


@register("crop3d")
class Crop3D(Crop):
    doc = "Crop (D, H, W, C) by amounts, or, given a second input, centrally to its size."
    rank = 3
    attrs = Crop.with_rank(3)


class _Rearrange(Layer):
    """A free layer that only moves or picks values, so integer token ids pass through it unchanged."""

    free = True
    takes_tokens = True

    def output_tokens(self, tokens):
        return tokens[0]


@register("reshape")
class Reshape(_Rearrange):
    doc = "Read the input in row-major order into a new shape with the same number of elements: (14, 14, 768) -> (196, 768)."
    attrs = (Attr("shape", NewShape(), doc="the new shape without batch, e.g. [196, 768]; one size may be -1"),)

    def output_shape(self, shapes):
        total, known = prod(shapes[0]), -prod(self.shape)  # the product of the sizes given, when one is -1
        if -1 in self.shape and total % known == 0:
            return tuple(total // known if n == -1 else n for n in self.shape)
        if prod(self.shape) != total:
            wanted = f"a multiple of {known:,} elements" if -1 in self.shape else f"{prod(self.shape):,} elements"
            raise ShapeError(
                f"cannot reshape {fmt_shape(shapes[0])} ({total:,} elements) to {fmt_shape(self.shape)} ({wanted}).",
                attribute="shape",
            )
        return self.shape

    # positions move to other axes: as after flatten, any output element may come from anywhere in the map
    window = Flatten.window

    def forward(self, xs, w, k):
        return k.reshape(xs[0], self.output_shape([xs[0].shape[1:]]))


@register("transpose")
class Transpose(_Rearrange):
    doc = "Permute the axes (without the batch axis): output axis i is input axis axes[i]; (L, heads, d) -> (heads, L, d) is [1, 0, 2]."
    attrs = (
        Attr("axes", Axes(), doc="every axis once, in the output's order, e.g. [1, 0, 2] (NumPy's transpose axes)"),
    )

    def order(self, shape):
        """axes as indices into shape, checked to name every axis once."""
        order = tuple(axis_index(shape, a, "axes") for a in self.axes)
        if sorted(order) != list(range(len(shape))):
            raise ShapeError(
                f"axes must name each of the {len(shape)} axes of the input {fmt_shape(shape)} once. "
                f"Received: axes={list(self.axes)}",
                attribute="axes",
            )
        return order

    def output_shape(self, shapes):
        return tuple(shapes[0][a] for a in self.order(shapes[0]))

    window = Flatten.window

    def forward(self, xs, w, k):
        return k.transpose(xs[0], self.order(xs[0].shape[1:]))


@register("slice")
class Slice(_Rearrange):
    doc = (
        "Positions start, start + step, ... before stop along one axis (GPT-2's first positions of its position table)."
    )
    attrs = (
        Attr("axis", "axis", 0, "the axis, without the batch axis; negative counts from the end"),
        Attr("start", "axis", 0, "first position; negative counts from the end"),
        Attr("stop", "axis", None, "position to stop before (default: the end); negative counts from the end"),
        Attr("step", "size", 1, "distance between the positions taken"),
    )

    def bounds(self, shape):
        """(axis, start, stop) as indices into the input, checked to select at least one position."""
        axis = axis_index(shape, self.axis)
        size = shape[axis]
        start = self.start + size if self.start < 0 else self.start
        stop = size if self.stop is None else self.stop + size if self.stop < 0 else self.stop
        if not 0 <= start < stop <= size:
            raise ShapeError(
                f"cannot slice [{self.start}:{'' if self.stop is None else self.stop}] from an axis of {size} "
                f"(input {fmt_shape(shape)}): start and stop must lie in it, start before stop.",
                attribute="stop" if stop > size else "start",
            )
        return axis, start, stop

    def output_shape(self, shapes):
        axis, start, stop = self.bounds(shapes[0])
        out = list(shapes[0])
        out[axis] = len(range(start, stop, self.step))
        return tuple(out)

    def forward(self, xs, w, k):
        axis, start, stop = self.bounds(xs[0].shape[1:])
        return k.slice_axis(xs[0], axis, start, stop, self.step)


@register("select")
class Select(_Rearrange):
    doc = "One position along an axis, which disappears: (L, C) -> (C,) (BERT's pooler reads the first token)."
    attrs = (
        Attr("axis", "axis", 0, "the axis, without the batch axis; negative counts from the end"),
        Attr("index", "axis", 0, "the position; negative counts from the end"),
    )

    def position(self, shape):
        """(axis, index) as indices into the input."""
        axis = axis_index(shape, self.axis)
        if not -shape[axis] <= self.index < shape[axis]:
            raise ShapeError(
                f"position {self.index} is outside an axis of {shape[axis]} (input {fmt_shape(shape)}).",
                attribute="index",
            )
        return axis, self.index % shape[axis]

    def output_shape(self, shapes):
        if len(shapes[0]) < 2:
            raise ShapeError(
                f"selecting a position would leave no axis of an input of shape {fmt_shape(shapes[0])}.",
                attribute="axis",
            )
        axis, _ = self.position(shapes[0])
        return shapes[0][:axis] + shapes[0][axis + 1 :]

    def forward(self, xs, w, k):
        return k.select(xs[0], *self.position(xs[0].shape[1:]))
