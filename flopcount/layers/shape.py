"""Layers that only move, drop, pad or pick values: flatten, dropout, zero padding, split, channel shuffle, crop."""

from __future__ import annotations

from fractions import Fraction
from math import prod

from ..errors import ShapeError, spec_error
from .base import Attr, Layer, fmt_shape, register
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
            raise spec_error("split needs either parts or sizes, not both or neither.", attribute="sizes",
                             received=self.sizes)
        count = self.parts if self.sizes is None else len(self.sizes)
        if self.index >= count:
            raise spec_error(f"must be below the number of parts ({count}).", attribute="index", received=self.index)

    def bounds(self, shapes):
        """(axis, start, stop) of the part along the axis, counted without the batch axis."""
        shape = shapes[0]
        rank = len(shape)
        if not -rank <= self.axis < rank:
            raise spec_error(f"axis is out of range for rank {rank}.", attribute="axis", received=self.axis)
        axis = self.axis % rank
        size = shape[axis]
        if self.sizes is None:
            if size % self.parts:
                raise ShapeError(
                    f"cannot split axis {self.axis} of size {size} (input {fmt_shape(shape)}) into {self.parts} "
                    "equal parts.",
                    attribute="parts", received=self.parts, has_received=True,
                )
            step = size // self.parts
            return axis, self.index * step, (self.index + 1) * step
        if sum(self.sizes) != size:
            raise ShapeError(
                f"split sizes add up to {sum(self.sizes)}, but axis {self.axis} of the input {fmt_shape(shape)} "
                f"has {size}.",
                attribute="sizes", received=list(self.sizes), has_received=True,
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
                attribute="groups", received=self.groups, has_received=True,
            )
        return shapes[0]

    def forward(self, xs, w, k):
        return k.channel_shuffle(xs[0], self.groups)


@register("crop")
class Crop(Layer):
    doc = "Crop (H, W, C) by amounts, or, given a second input, centrally to its size (the U-Net's skip connections)."
    attrs = (Attr("cropping", "pad_amount", None, "p, [p_h, p_w] or [[top, bottom], [left, right]] removed"),)
    inputs = (1, 2)
    free = True

    def amounts(self, shapes):
        """((top, bottom), (left, right)) removed from the first input."""
        size = spatial(shapes[0], self)[:-1]
        if len(shapes) == 2:
            if self.cropping is not None:
                raise spec_error("give cropping or a second input to crop to, not both.", attribute="cropping",
                                 received=self.cropping)
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
        for axis, s, (b, a) in zip(("height", "width"), size, self.cropping):
            if b + a >= s:
                raise ShapeError(
                    f"cropping {b} + {a} leaves nothing of the input {axis} of {s} (input {fmt_shape(shapes[0])}).",
                    attribute="cropping", received=[list(p) for p in self.cropping], has_received=True,
                )
        return self.cropping

    def output_shape(self, shapes):
        return (*(s - b - a for s, (b, a) in zip(shapes[0], self.amounts(shapes))), shapes[0][-1])

    def window(self, shapes):
        # output position o is input position o + before: a window of 1 that starts before positions late
        return tuple((1, 1, -b) for b, _ in self.amounts(shapes))

    def forward(self, xs, w, k):
        return k.crop(xs[0], self.amounts([x.shape[1:] for x in xs]))
