"""The sliding-window rule of convolutions and pooling, for any number of spatial axes.

Inputs are channels last: (L, C) for rank 1, (H, W, C) for rank 2, (D, H, W, C) for
rank 3. Per axis, a window of k taps with dilation d spans k_eff = d (k - 1) + 1
positions; with padding (before, after) and stride s the output size is

    floor((size + before + after - k_eff) / s) + 1      (ceil with ceil_mode)

'same' padding follows TensorFlow: output ceil(size / s), total padding
max((out - 1) s + k_eff - size, 0), the odd one at the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..errors import ShapeError
from .base import Attr, Layer, fmt_shape
from .kinds import AXES, Padding, Sizes

LAYOUT = {1: "(L, C)", 2: "(H, W, C)", 3: "(D, H, W, C)"}


def spatial(shape, layer, rank: int = 2):
    """The input shape, checked to be channels last with rank spatial axes."""
    if len(shape) != rank + 1:
        article = "a" if LAYOUT[rank].startswith("(D") else "an"
        raise ShapeError(
            f"{layer.type} needs {article} {LAYOUT[rank]} input, but its input has shape {fmt_shape(shape)}."
        )
    return shape


def resolve_pads(padding, sizes, k_eff, stride):
    """Explicit ((before, after), ...) per spatial axis for a window of k_eff with stride over sizes."""
    if padding == "valid":
        return tuple((0, 0) for _ in sizes)
    if padding == "same":
        pads = []
        for size, k, s in zip(sizes, k_eff, stride):
            out = -(-size // s)
            total = max((out - 1) * s + k - size, 0)
            pads.append((total // 2, total - total // 2))
        return tuple(pads)
    return padding


def out_size(size, k_eff, stride, before, after, ceil_mode=False) -> int | None:
    """Output positions along one axis; None when the window exceeds the padded input.

    With ceil_mode the last, partial window counts too, unless it would start in the
    padding after the input (PyTorch's rule).
    """
    padded = size + before + after
    if padded < k_eff:
        return None
    if not ceil_mode:
        return (padded - k_eff) // stride + 1
    out = -(-(padded - k_eff) // stride) + 1
    if (out - 1) * stride >= size + before:
        out -= 1
    return out


def window_attrs(rank: int, size: str, size_doc: str) -> tuple[Attr, ...]:
    """kernel (or pool), stride, padding and dilation attributes for a window of this rank."""
    axes = "[" + ", ".join(AXES[rank]) + "]"
    return (
        Attr(size, Sizes(rank), doc=f"{size_doc}, or {axes}"),
        Attr("stride", Sizes(rank), 1, f"step of the window, or {axes}"),
        Attr("padding", Padding(rank), "valid", _padding_doc(rank)),
        Attr("dilation", Sizes(rank), 1, "spacing between kernel taps"),
    )


def _padding_doc(rank: int) -> str:
    if rank == 2:
        return "'same', 'valid', p, [p_h, p_w] or [[top, bottom], [left, right]]"
    return "'same', 'valid', p, one p per axis or a [before, after] pair per axis"


class Sliding(Layer):
    """A layer that slides a window (its kernel or pool) with stride, dilation and padding.

    rank is the number of spatial axes; size_attr names the attribute holding the window.
    """

    rank: ClassVar[int] = 2
    size_attr: ClassVar[str] = "kernel"
    ceil_mode: ClassVar[bool] = False  # the floor rule; ceil rounding is a hook for pooling
    dilation = None  # taps are adjacent unless the type has a dilation attribute

    def taps(self) -> tuple[int, ...]:
        """Window size per spatial axis, dilation excluded."""
        return getattr(self, self.size_attr)

    def extent(self) -> tuple[int, ...]:
        """Window extent per axis, dilation included: d x (k - 1) + 1."""
        return tuple(d * (k - 1) + 1 for k, d in zip(self.taps(), self.dilation or (1,) * self.rank))

    def pads(self, shapes):
        """Explicit ((before, after), ...) padding per spatial axis for these input shapes."""
        return resolve_pads(self.padding, shapes[0][: self.rank], self.extent(), self.stride)

    def spatial_out(self, shapes):
        """Output size per spatial axis; an error when the window exceeds the padded input."""
        spatial(shapes[0], self, self.rank)
        out = []
        extent = self.extent()
        for axis, size, k, s, (p0, p1) in zip(AXES[self.rank], shapes[0], extent, self.stride, self.pads(shapes)):
            n = out_size(size, k, s, p0, p1, self.ceil_mode)
            if n is None:
                dilated = "dilated " if extent != tuple(self.taps()) else ""
                raise ShapeError(
                    f"the {dilated}window of {k} is larger than the padded input {axis} of {size + p0 + p1}.",
                    attribute=self.size_attr,
                )
            out.append(n)
        return tuple(out)

    def window(self, shapes):
        return tuple(zip(self.extent(), self.stride, (before for before, _ in self.pads(shapes))))


def whole_map(shape):
    """The window of a layer that reads every position: (size, 1, 0) per spatial axis of a channels-last shape."""
    return tuple((n, 1, 0) for n in shape[:-1])


@dataclass(frozen=True)
class Reads:
    """Which input positions each output reads along one axis: floor((a o + lo) / b) to floor((a o + hi) / b).

    A sliding window of extent k, stride s and padding p before is Reads(s, 1, -p, k - 1 - p);
    an upsampling layer has b > 1 (nearest by 2 reads floor(o / 2): Reads(1, 2, 0, 0)).
    """

    a: int
    b: int
    lo: int
    hi: int
