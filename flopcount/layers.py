"""The registry of layer types: each class holds one type's attributes and all of its rules.

Counting conventions (mirrored in the README):

* ``macs``: multiply-accumulates of convolutions and dense layers, one per product
  that is summed (N x D_G^2 x D_K^2 x M for a standard convolution). Nothing else
  is a MAC.
* ``other_ops``: every other floating-point operation at inference, counted per
  output element: a bias add is 1, batch norm is 2 (one scale, one shift once folded),
  an activation is 1 whatever its function, an n-way add is n - 1, a pooling window
  of k elements is k - 1 comparisons (max) or k - 1 additions plus 1 division (avg),
  softmax is 3 (exponential, sum, division). FLOPs = 2 x macs + other_ops.
* ``params``: sizes of the weight arrays a layer declares in ``weights``; batch
  norm's moving mean and variance are non-trainable, as in Keras.
* Free layers (input, flatten, dropout, zero_pad, concat) are listed in FREE with
  zero cost on purpose.

Shapes are tuples without the batch axis: (H, W, C) for images as in the seed's
(D_F, D_F, M), (C,) for vectors. ``forward`` receives arrays with a leading batch
axis, a mapping of weights and ``k``, the runner's kernel module; this module never
imports NumPy.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import gcd, prod
from typing import Callable, ClassVar

from .errors import ShapeError, SpecError, spec_error, suggest
from .expr import ExprError, exact

REGISTRY: dict[str, type["Layer"]] = {}
FREE = ("input", "flatten", "dropout", "zero_pad", "concat")

REQUIRED = object()


def register(name: str):
    """Class decorator that adds a layer type to the registry under name."""

    def add(cls):
        cls.type = name
        cls.known = {a.name: a for a in cls.attrs}
        # defaults are literals, so they are converted once here rather than per layer
        cls.defaults = {
            a.name: a.default if a.default is None else a.convert(a.default, None)
            for a in cls.attrs
            if a.default is not REQUIRED
        }
        REGISTRY[name] = cls
        return cls

    return add


# ---------------------------------------------------------------- attributes


@dataclass(frozen=True)
class Attr:
    """One JSON attribute of a layer type: its kind, default and meaning."""

    name: str
    kind: str  # size, sizes, count, bool, number, fraction, choice, padding, pad_amount, shape, axis
    default: object = REQUIRED
    doc: str = ""
    choices: tuple = ()

    def convert(self, raw, evaluate: Callable):
        """Turn a raw JSON value into this attribute's typed value."""
        return _CONVERTERS[self.kind](self, raw, evaluate)


# Every integer attribute and dimension is at most MAX_INTEGER and a shape has at most MAX_RANK
# axes, so every count stays far inside a float's range and str()'s 4300 digits.
MAX_INTEGER = 10**15
MAX_RANK = 8
_LIMIT = f"10^15 ({MAX_INTEGER:,})"


def _bad(attr, what, raw):
    return spec_error(f"must be {what}.", attribute=attr.name, received=raw)


def _integer(attr, raw, evaluate, minimum):
    value = evaluate(raw) if isinstance(raw, str) else raw
    if isinstance(value, float):
        raise _bad(attr, "an integer, not a decimal number", raw)
    if isinstance(value, bool) or not isinstance(value, (int, Fraction)):
        raise _bad(attr, "an integer" if minimum is None else f"an integer >= {minimum}", raw)
    if not -MAX_INTEGER <= value <= MAX_INTEGER:
        if value > 0:
            raise _bad(attr, f"at most {_LIMIT}", raw)
        raise _bad(attr, f"an integer >= {minimum}" if minimum is not None else f"at least -10^15 (-{MAX_INTEGER:,})", raw)
    if isinstance(value, Fraction):
        if value.denominator != 1:
            raise spec_error(
                f"must be an integer, but the expression gives {float(value):g}; wrap it in floor(), "
                "round() or int().",
                attribute=attr.name,
                received=raw,
            )
        value = value.numerator
    if minimum is not None and value < minimum:
        raise _bad(attr, f"an integer >= {minimum}", raw)
    return int(value)


def _size(attr, raw, evaluate):
    return _integer(attr, raw, evaluate, 1)


def _count(attr, raw, evaluate):
    return _integer(attr, raw, evaluate, 0)


def _axis(attr, raw, evaluate):
    return _integer(attr, raw, evaluate, None)


def _each(attr, raw, convert):
    """Convert every item of a list; an error shows the whole list as received."""
    try:
        return tuple(convert(v) for v in raw)
    except SpecError as err:
        err.received, err.has_received = raw, True
        raise


def _sizes(attr, raw, evaluate):
    """An int for both spatial axes, or a pair [height, width]."""
    if isinstance(raw, list):
        if len(raw) != 2:
            raise _bad(attr, "a positive integer or a pair [height, width]", raw)
        return _each(attr, raw, lambda v: _integer(attr, v, evaluate, 1))
    v = _integer(attr, raw, evaluate, 1)
    return (v, v)


def _pad_amount(attr, raw, evaluate):
    """p, [p_h, p_w] or [[top, bottom], [left, right]] -> ((top, bottom), (left, right))."""
    what = "an integer >= 0, a pair [p_h, p_w] or [[top, bottom], [left, right]]"
    if isinstance(raw, list):
        if len(raw) != 2:
            raise _bad(attr, what, raw)
        out = []
        for item in raw:
            if isinstance(item, list):
                if len(item) != 2:
                    raise _bad(attr, what, raw)
                out.append(tuple(_integer(attr, v, evaluate, 0) for v in item))
            else:
                p = _integer(attr, item, evaluate, 0)
                out.append((p, p))
        return tuple(out)
    p = _integer(attr, raw, evaluate, 0)
    return ((p, p), (p, p))


def _padding(attr, raw, evaluate):
    if raw in ("same", "valid"):
        return raw
    try:
        return _pad_amount(attr, raw, evaluate)
    except ExprError as err:
        # a bare word that is no variable is most likely a misspelt mode
        if isinstance(raw, str) and raw.isidentifier() and "undefined variable" in err.message:
            raise spec_error(
                f"must be 'same', 'valid' or explicit amounts.{suggest(raw, ('same', 'valid'))}",
                attribute=attr.name,
                received=raw,
            ) from None
        raise


def _bool(attr, raw, evaluate):
    value = evaluate(raw) if isinstance(raw, str) else raw
    if not isinstance(value, bool):
        raise _bad(attr, "true or false", raw)
    return value


def _number(attr, raw, evaluate):
    value = evaluate(raw) if isinstance(raw, str) else exact(raw)
    if isinstance(value, bool) or not isinstance(value, (int, Fraction)):
        raise _bad(attr, "a number", raw)
    if abs(value) > MAX_INTEGER:
        raise _bad(attr, f"a number of magnitude at most {_LIMIT}", raw)
    return Fraction(value)


def _fraction(attr, raw, evaluate):
    value = _number(attr, raw, evaluate)
    if not 0 <= value < 1:
        raise _bad(attr, "a number in [0, 1)", raw)
    return value


def _choice(attr, raw, evaluate):
    if raw not in attr.choices:
        choices = ", ".join(repr(c) for c in attr.choices)
        raise spec_error(
            f"must be one of {choices}.{suggest(raw, attr.choices)}", attribute=attr.name, received=raw
        )
    return raw


def _shape(attr, raw, evaluate):
    if not isinstance(raw, list) or not raw:
        raise _bad(attr, "a non-empty list of positive integers such as [224, 224, 3]", raw)
    if len(raw) > MAX_RANK:
        raise _bad(attr, f"a list of at most {MAX_RANK} dimensions", raw)
    return _each(attr, raw, lambda v: _integer(attr, v, evaluate, 1))


_CONVERTERS = {
    "size": _size,
    "count": _count,
    "axis": _axis,
    "sizes": _sizes,
    "pad_amount": _pad_amount,
    "padding": _padding,
    "bool": _bool,
    "number": _number,
    "fraction": _fraction,
    "choice": _choice,
    "shape": _shape,
}

# ---------------------------------------------------------------- shared rules


def _spatial(shape, layer):
    if len(shape) != 3:
        raise ShapeError(
            f"{layer.type} needs an (H, W, C) input, but its input has shape {fmt_shape(shape)}."
        )
    return shape


def fmt_shape(shape) -> str:
    """(224, 224, 3) and (1000,) as Python writes tuples."""
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def resolve_pads(padding, hw, k_eff, stride):
    """Explicit ((top, bottom), (left, right)) for a window of k_eff with stride over hw.

    'same' follows TensorFlow: output ceil(in / stride); an odd total padding puts the
    extra row/column at the bottom/right.
    """
    if padding == "valid":
        return ((0, 0), (0, 0))
    if padding == "same":
        pads = []
        for size, k, s in zip(hw, k_eff, stride):
            out = -(-size // s)
            total = max((out - 1) * s + k - size, 0)
            pads.append((total // 2, total - total // 2))
        return tuple(pads)
    return padding


# ---------------------------------------------------------------- base class


class Layer:
    """A layer type. Subclasses declare ``attrs`` and override the rules they need."""

    type: ClassVar[str]
    attrs: ClassVar[tuple[Attr, ...]] = ()
    known: ClassVar[dict]  # attribute name -> Attr, set by register
    defaults: ClassVar[dict]  # attribute name -> converted default, set by register
    doc: ClassVar[str] = ""
    inputs: ClassVar[tuple[int, int | None]] = (1, 1)  # min and max number of inputs

    def __init__(self, **values):
        for key, value in values.items():
            setattr(self, key, value)

    @classmethod
    def from_raw(cls, raw: dict, evaluate: Callable) -> "Layer":
        """Validate and convert a layer's JSON attributes; unknown ones are errors."""
        known = cls.known
        for key in raw:
            if key not in known:
                hint = suggest(key, known)
                listing = ", ".join(known) or "none"
                raise SpecError(
                    f"unknown attribute for {cls.type}.{hint} Its attributes are: {listing}.",
                    attribute=key,
                )
        values = dict(cls.defaults)
        for attr in cls.attrs:
            if attr.name in raw:
                try:
                    values[attr.name] = attr.convert(raw[attr.name], evaluate)
                except SpecError as err:
                    raise err.located(attribute=attr.name)
            elif attr.name not in values:
                raise SpecError(f"{cls.type} needs this attribute ({attr.doc}).", attribute=attr.name)
        layer = cls(**values)
        layer.check()
        return layer

    def check(self):
        """Validate attributes against each other (before shapes are known)."""

    def output_shape(self, shapes):
        return shapes[0]

    def weights(self, shapes) -> dict:
        """Weight arrays this layer owns: name -> (shape, trainable)."""
        return {}

    def macs(self, shapes, out) -> int:
        return 0

    def other_ops(self, shapes, out) -> int:
        return 0

    def window(self, shapes):
        """Per spatial axis (kernel extent, stride, padding before) for the receptive field; None if pointwise."""
        return None

    def forward(self, xs, w, k):
        return xs[0]


class _Sliding(Layer):
    """A layer that slides a window of ``size`` (its kernel or pool) with stride, dilation and padding."""

    size_attr: ClassVar[str] = "kernel"
    dilation = (1, 1)

    def extent(self):
        """Window extent per axis, dilation included: d x (k - 1) + 1."""
        return tuple(d * (k - 1) + 1 for k, d in zip(getattr(self, self.size_attr), self.dilation))

    def pads(self, shapes):
        """Explicit ((top, bottom), (left, right)) padding for these input shapes."""
        return resolve_pads(self.padding, shapes[0][:2], self.extent(), self.stride)

    def spatial_out(self, shapes):
        """Output (H, W) by the floor rule; an error when the window exceeds the padded input."""
        _spatial(shapes[0], self)
        out = []
        extent = self.extent()
        for axis, size, k, s, (p0, p1) in zip(("height", "width"), shapes[0], extent, self.stride, self.pads(shapes)):
            padded = size + p0 + p1
            if padded < k:
                dilated = "dilated " if extent != tuple(getattr(self, self.size_attr)) else ""
                raise ShapeError(
                    f"the {dilated}window of {k} is larger than the padded input {axis} of {padded}.",
                    attribute=self.size_attr,
                )
            out.append((padded - k) // s + 1)
        return tuple(out)

    def window(self, shapes):
        return tuple(zip(self.extent(), self.stride, (before for before, _ in self.pads(shapes))))


def _bias_ops(layer, out):
    return prod(out) if layer.bias else 0


# ---------------------------------------------------------------- layer types


@register("input")
class Input(Layer):
    doc = "The network's input tensor."
    attrs = (Attr("shape", "shape", doc="shape without batch, e.g. [224, 224, 3]"),)
    inputs = (0, 0)

    def output_shape(self, shapes):
        return self.shape


_CONV_COMMON = (
    Attr("kernel", "sizes", doc="window size D_K, or [height, width]"),
    Attr("stride", "sizes", 1, "step of the window, or [height, width]"),
    Attr("padding", "padding", "valid", "'same', 'valid', p, [p_h, p_w] or [[top, bottom], [left, right]]"),
    Attr("dilation", "sizes", 1, "spacing between kernel taps"),
)


@register("conv2d")
class Conv2D(_Sliding):
    doc = "Standard 2-D convolution, optionally grouped."
    attrs = (
        (Attr("filters", "size", doc="output channels N"),)
        + _CONV_COMMON
        + (Attr("groups", "size", 1, "channel groups"), Attr("bias", "bool", True, "add a bias per filter"))
    )

    def check(self):
        if self.filters % self.groups:
            raise spec_error(
                f"filters ({self.filters}) must be divisible by groups ({self.groups}).",
                attribute="groups",
                received=self.groups,
            )

    def output_shape(self, shapes):
        h, w, c = _spatial(shapes[0], self)
        if c % self.groups:
            raise ShapeError(
                f"input channels ({c}) must be divisible by groups ({self.groups}).", attribute="groups"
            )
        return (*self.spatial_out(shapes), self.filters)

    def weights(self, shapes):
        c = shapes[0][2]
        w = {"kernel": ((*self.kernel, c // self.groups, self.filters), True)}
        if self.bias:
            w["bias"] = ((self.filters,), True)
        return w

    def macs(self, shapes, out):
        # (H, W, M) -> (D_G, D_G, N): N x D_G^2 x D_K^2 x M / groups
        kh, kw = self.kernel
        return prod(out) * kh * kw * (shapes[0][2] // self.groups)

    def other_ops(self, shapes, out):
        return _bias_ops(self, out)

    def forward(self, xs, w, k):
        pads = self.pads([x.shape[1:] for x in xs])
        return k.conv2d(xs[0], w["kernel"], w.get("bias"), self.stride, pads, self.dilation, self.groups)


@register("depthwise_conv2d")
class DepthwiseConv2D(_Sliding):
    doc = "Depthwise 2-D convolution: one D_K x D_K filter per input channel (times multiplier)."
    attrs = (
        _CONV_COMMON
        + (
            Attr("multiplier", "size", 1, "output channels per input channel"),
            Attr("bias", "bool", True, "add a bias per output channel"),
        )
    )

    def output_shape(self, shapes):
        return (*self.spatial_out(shapes), shapes[0][2] * self.multiplier)

    def weights(self, shapes):
        w = {"kernel": ((*self.kernel, shapes[0][2], self.multiplier), True)}
        if self.bias:
            w["bias"] = ((shapes[0][2] * self.multiplier,), True)
        return w

    def macs(self, shapes, out):
        # (H, W, M) -> (D_G, D_G, M x multiplier): M x multiplier x D_G^2 x D_K^2
        kh, kw = self.kernel
        return prod(out) * kh * kw

    other_ops = Conv2D.other_ops

    def forward(self, xs, w, k):
        pads = self.pads([x.shape[1:] for x in xs])
        return k.depthwise_conv2d(xs[0], w["kernel"], w.get("bias"), self.stride, pads, self.dilation)


@register("dense")
class Dense(Layer):
    doc = "Fully connected layer on the last axis."
    attrs = (Attr("units", "size", doc="output features"), Attr("bias", "bool", True, "add a bias per unit"))

    def output_shape(self, shapes):
        return (*shapes[0][:-1], self.units)

    def weights(self, shapes):
        w = {"kernel": ((shapes[0][-1], self.units), True)}
        if self.bias:
            w["bias"] = ((self.units,), True)
        return w

    def macs(self, shapes, out):
        # (..., C_in) -> (..., units): every output element sums C_in products
        return prod(out) * shapes[0][-1]

    other_ops = Conv2D.other_ops

    def forward(self, xs, w, k):
        return k.dense(xs[0], w["kernel"], w.get("bias"))


class _Pool(_Sliding):
    mode: ClassVar[str]
    size_attr = "pool"
    attrs = (
        Attr("pool", "sizes", doc="window size, or [height, width]"),
        Attr("stride", "sizes", None, "step of the window (default: the pool size)"),
        Attr("padding", "padding", "valid", "'same', 'valid' or explicit amounts"),
    )

    def check(self):
        if self.stride is None:
            self.stride = self.pool

    def output_shape(self, shapes):
        out = self.spatial_out(shapes)
        for (before, after), k in zip(self.pads(shapes), self.extent()):
            if max(before, after) >= k:
                raise ShapeError(
                    f"padding of {max(before, after)} on a window of {k} leaves windows that see only "
                    "padding; pooling padding must be smaller than the window.",
                    attribute="padding",
                )
        return (*out, shapes[0][2])

    def other_ops(self, shapes, out):
        # k - 1 comparisons (max) or k - 1 additions and a division (avg) per output element
        window = self.pool[0] * self.pool[1]
        return prod(out) * (window - 1 if self.mode == "max" else window)

    def forward(self, xs, w, k):
        return k.pool(xs[0], self.mode, self.pool, self.stride, self.pads([x.shape[1:] for x in xs]))


@register("max_pool")
class MaxPool(_Pool):
    doc = "Max pooling over a sliding window."
    mode = "max"


@register("avg_pool")
class AvgPool(_Pool):
    doc = "Average pooling over a sliding window (padding excluded from the average)."
    mode = "avg"


class _GlobalPool(Layer):
    mode: ClassVar[str]

    def output_shape(self, shapes):
        return (_spatial(shapes[0], self)[2],)

    def other_ops(self, shapes, out):
        h, w, c = shapes[0]
        return c * (h * w - 1 if self.mode == "max" else h * w)

    def window(self, shapes):
        h, w, _ = shapes[0]
        return ((h, 1, 0), (w, 1, 0))

    def forward(self, xs, w, k):
        return k.global_pool(xs[0], self.mode)


@register("global_avg_pool")
class GlobalAvgPool(_GlobalPool):
    doc = "Average over all positions: (H, W, C) -> (C,)."
    mode = "avg"


@register("global_max_pool")
class GlobalMaxPool(_GlobalPool):
    doc = "Maximum over all positions: (H, W, C) -> (C,)."
    mode = "max"


@register("adaptive_avg_pool")
class AdaptiveAvgPool(Layer):
    doc = "PyTorch's adaptive average pooling to a fixed output size."
    attrs = (Attr("size", "sizes", doc="output size, or [height, width]"),)

    def output_shape(self, shapes):
        _spatial(shapes[0], self)
        return (*self.size, shapes[0][2])

    def other_ops(self, shapes, out):
        # each output averages its own bin: bin size additions-and-division
        h, w, c = shapes[0]
        (total_h, _), (total_w, _) = (_bin_sizes(n, o) for n, o in zip((h, w), self.size))
        return c * total_h * total_w

    def window(self, shapes):
        h, w, _ = shapes[0]
        # bins are uniform only when o divides n; otherwise the widest bin and the widest
        # step between bins, so the field is the largest over output positions
        return tuple((_bin_sizes(n, o)[1], -(-n // o), 0) for n, o in zip((h, w), self.size))

    def forward(self, xs, w, k):
        return k.adaptive_avg_pool(xs[0], self.size)


def _bin_sizes(n, o):
    """Sum and largest of the sizes of PyTorch's adaptive bins [floor(i n / o), ceil((i + 1) n / o)).

    In closed form, since o may be huge: with g = gcd(n, o), bin i has size ceil((r + n) / o)
    where r = i n mod o runs over the multiples of g below o, so the sizes sum to n + o - g
    and the largest is ceil((o - g + n) / o).
    """
    g = gcd(n, o)
    return n + o - g, -(-(o - g + n) // o)


@register("flatten")
class Flatten(Layer):
    doc = "Flatten (H, W, C) to (H x W x C,) in row-major (H, W, C) order."

    def output_shape(self, shapes):
        return (prod(shapes[0]),)

    def window(self, shapes):
        if len(shapes[0]) == 3:
            h, w, _ = shapes[0]
            return ((h, 1, 0), (w, 1, 0))
        return None

    def forward(self, xs, w, k):
        return k.flatten(xs[0])


@register("batch_norm")
class BatchNorm(Layer):
    doc = "Batch normalisation on the last axis (inference form)."
    attrs = (
        Attr("epsilon", "number", Fraction(1, 1000), "added to the variance"),
        Attr("center", "bool", True, "learn a shift beta"),
        Attr("scale", "bool", True, "learn a scale gamma"),
    )

    def weights(self, shapes):
        c = (shapes[0][-1],)
        w = {}
        if self.scale:
            w["gamma"] = (c, True)
        if self.center:
            w["beta"] = (c, True)
        w["moving_mean"] = (c, False)
        w["moving_variance"] = (c, False)
        return w

    def other_ops(self, shapes, out):
        # folded into one scale and one shift per element
        return 2 * prod(out)

    def forward(self, xs, w, k):
        return k.batch_norm(
            xs[0], w.get("gamma"), w.get("beta"), w["moving_mean"], w["moving_variance"], float(self.epsilon)
        )


ACTIVATIONS = ("relu", "relu6", "leaky_relu", "elu", "sigmoid", "hard_sigmoid", "tanh", "swish", "hard_swish", "gelu", "linear")


@register("activation")
class Activation(Layer):
    doc = "Element-wise activation function."
    attrs = (
        Attr("fn", "choice", doc="the function", choices=ACTIVATIONS),
        Attr("alpha", "number", None, "slope of leaky_relu for x < 0 (default 0.01), scale of elu (default 1)"),
    )
    ALPHA = {"leaky_relu": Fraction(1, 100), "elu": Fraction(1)}  # PyTorch's defaults

    def other_ops(self, shapes, out):
        return 0 if self.fn == "linear" else prod(out)

    def forward(self, xs, w, k):
        alpha = self.ALPHA.get(self.fn, 0) if self.alpha is None else self.alpha
        return k.activation(xs[0], self.fn, float(alpha))


@register("dropout")
class Dropout(Layer):
    doc = "Dropout; the identity at inference."
    attrs = (Attr("rate", "fraction", Fraction(1, 2), "fraction dropped in training"),)


@register("zero_pad")
class ZeroPad(Layer):
    doc = "Pad height and width with zeros."
    attrs = (Attr("padding", "pad_amount", doc="p, [p_h, p_w] or [[top, bottom], [left, right]]"),)

    def output_shape(self, shapes):
        h, w, c = _spatial(shapes[0], self)
        (t, b), (l, r) = self.padding
        return (h + t + b, w + l + r, c)

    def forward(self, xs, w, k):
        return k.pad(xs[0], self.padding)


@register("add")
class Add(Layer):
    doc = "Element-wise sum of two or more inputs of the same shape (residual shortcut)."
    inputs = (2, None)

    def output_shape(self, shapes):
        for s in shapes[1:]:
            if s != shapes[0]:
                listed = ", ".join(fmt_shape(x) for x in shapes)
                raise ShapeError(f"cannot add inputs of different shapes: {listed}.", attribute="inputs")
        return shapes[0]

    def other_ops(self, shapes, out):
        return (len(shapes) - 1) * prod(out)

    def forward(self, xs, w, k):
        return k.add(xs)


@register("concat")
class Concat(Layer):
    doc = "Join two or more inputs along an axis (default: channels)."
    attrs = (Attr("axis", "axis", -1, "axis to join along, without the batch axis"),)
    inputs = (2, None)

    def output_shape(self, shapes):
        rank = len(shapes[0])
        if not -rank <= self.axis < rank:
            raise spec_error(f"axis is out of range for rank {rank}.", attribute="axis", received=self.axis)
        axis = self.axis % rank
        for s in shapes[1:]:
            if len(s) != rank or any(a != b for i, (a, b) in enumerate(zip(s, shapes[0])) if i != axis):
                listed = ", ".join(fmt_shape(x) for x in shapes)
                raise ShapeError(
                    f"cannot concatenate shapes {listed} on axis {self.axis}: the other axes differ.",
                    attribute="inputs",
                )
        out = list(shapes[0])
        out[axis] = sum(s[axis] for s in shapes)
        return tuple(out)

    def forward(self, xs, w, k):
        return k.concat(xs, self.axis % len(xs[0].shape[1:]) + 1)


@register("softmax")
class Softmax(Layer):
    doc = "Softmax over the last axis."

    def other_ops(self, shapes, out):
        # exponential, running sum and division per element
        return 3 * prod(out)

    def forward(self, xs, w, k):
        return k.softmax(xs[0])


def layer_class(type_name: str) -> type[Layer]:
    """Look up a layer type by name, with a suggestion when it is unknown."""
    if type_name not in REGISTRY:
        raise spec_error(
            f"unknown layer type.{suggest(type_name, REGISTRY)} Known types: {', '.join(sorted(REGISTRY))}.",
            attribute="type",
            received=type_name,
        )
    return REGISTRY[type_name]
