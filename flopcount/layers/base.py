"""The layer base class, its attributes and the registry every layer type adds itself to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from math import prod, sqrt
from typing import ClassVar

from ..errors import SpecError, spec_error, suggest
from .formula import Factor, Formula, elements, formula
from .kinds import KINDS, Choice, Kind

REGISTRY: dict[str, type[Layer]] = {}
FREE: set[str] = set()  # types that cost nothing, on purpose: each says so with free = True

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
        if cls.free:
            FREE.add(name)
        return cls

    return add


def layer_class(type_name: str) -> type[Layer]:
    """Look up a layer type by name, with a suggestion when it is unknown."""
    if type_name not in REGISTRY:
        raise spec_error(
            f"unknown layer type.{suggest(type_name, REGISTRY)} Known types: {', '.join(sorted(REGISTRY))}.",
            attribute="type",
            received=type_name,
        )
    return REGISTRY[type_name]


@dataclass(frozen=True)
class Attr:
    """One JSON attribute of a layer type: its kind, default and meaning.

    kind is a Kind (``Sizes(3)``) or the name of one in kinds.KINDS (``"size"``, ``"sizes"``,
    ``"padding"``, ...); ``"choice"`` takes its values from choices.
    """

    name: str
    kind: Kind | str
    default: object = REQUIRED
    doc: str = ""
    choices: tuple = ()

    def __post_init__(self):
        if isinstance(self.kind, str):
            kind = Choice(tuple(self.choices)) if self.kind == "choice" else KINDS[self.kind]
            object.__setattr__(self, "kind", kind)
        if isinstance(self.kind, Choice) and not self.choices:
            object.__setattr__(self, "choices", self.kind.choices)

    def convert(self, raw, evaluate: Callable):
        """Turn a raw JSON value into this attribute's typed value."""
        try:
            return self.kind.convert(raw, evaluate)
        except SpecError as err:
            raise err.located(attribute=self.name)


@dataclass(frozen=True)
class Init:
    """How the runner fills a weight for execution: centre + spread x u, u uniform in [-1, 1)."""

    centre: float
    spread: float


def fan_in(n: int) -> Init:
    """He-uniform for a weight whose every output sums n products, so deep stacks stay finite."""
    return Init(0.0, sqrt(6 / max(n, 1)))


NEAR_ZERO = Init(0.0, 0.1)  # biases, shifts, running means
NEAR_ONE = Init(1.0, 0.25)  # scales
POSITIVE = Init(1.0, 0.5)  # variances and other divisors: in [0.5, 1.5), never zero or negative


@dataclass(frozen=True)
class Weight:
    """A weight array a layer owns: its shape, whether training updates it, how a run fills it.

    Without an init, a kernel is assumed: every output sums the products over all axes
    but the last, so init is fan_in(product of those axes).
    """

    shape: tuple[int, ...]
    trainable: bool = True
    init: Init | None = None

    def __post_init__(self):
        object.__setattr__(self, "shape", tuple(self.shape))
        if self.init is None:
            object.__setattr__(self, "init", fan_in(prod(self.shape[:-1])))

    @property
    def size(self) -> int:
        return prod(self.shape)


def axis_index(shape, axis: int, attribute: str = "axis") -> int:
    """An axis counted without the batch axis (negative from the end) as an index into shape."""
    if not -len(shape) <= axis < len(shape):
        raise spec_error(f"axis is out of range for rank {len(shape)}.", attribute=attribute, received=axis)
    return axis % len(shape)


def fmt_shape(shape) -> str:
    """(224, 224, 3) and (1000,) as Python writes tuples."""
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


class Layer:
    """A layer type. Subclasses declare ``attrs`` and override the rules they need."""

    type: ClassVar[str]
    attrs: ClassVar[tuple[Attr, ...]] = ()
    known: ClassVar[dict]  # attribute name -> Attr, set by register
    defaults: ClassVar[dict]  # attribute name -> converted default, set by register
    doc: ClassVar[str] = ""
    inputs: ClassVar[tuple[int, int | None]] = (1, 1)  # min and max number of inputs
    source: ClassVar[bool] = False  # True for a network input: the runner feeds it, nothing reads into it
    free: ClassVar[bool] = False  # True when the type costs nothing (no MACs, no other ops) by design
    takes_tokens: ClassVar[bool] = False  # True when an input may hold integer token ids (see output_tokens)
    # inputs (by position) read only for their shape, whose values never reach the output (crop's target)
    shape_inputs: ClassVar[tuple[int, ...]] = ()

    def __init__(self, **values):
        for key, value in values.items():
            setattr(self, key, value)

    @classmethod
    def from_raw(cls, raw: dict, evaluate: Callable) -> Layer:
        """Validate and convert a layer's JSON attributes; unknown ones are errors."""
        for key in raw:
            if key not in cls.known:
                raise cls.unknown(key)
        values = dict(cls.defaults)
        for attr in cls.attrs:
            if attr.name in raw:
                try:
                    values[attr.name] = attr.convert(raw[attr.name], evaluate)
                except SpecError as err:
                    raise err.located(attribute=attr.name)
            elif attr.name not in values:
                raise cls.missing(attr)
        layer = cls(**values)
        layer.check()
        return layer

    @classmethod
    def unknown(cls, key: str, where: str | None = None) -> SpecError:
        """The error for an attribute the type does not have, at where (default: key itself)."""
        listing = ", ".join(cls.known) or "none"
        return SpecError(
            f"unknown attribute for {cls.type}.{suggest(key, cls.known)} Its attributes are: {listing}.",
            attribute=where or key,
        )

    @classmethod
    def missing(cls, attr: Attr, where: str | None = None) -> SpecError:
        """The error for a required attribute a layer leaves out, at where (default: its name)."""
        return SpecError(f"{cls.type} needs this attribute ({attr.doc}).", attribute=where or attr.name)

    def check(self):
        """Validate attributes against each other (before shapes are known)."""

    def output_shape(self, shapes):
        return shapes[0]

    def output_tokens(self, tokens):
        """What the output holds: None for real values, n for integer token ids in [0, n).

        tokens holds the same for each input. Only a type with takes_tokens receives ids;
        those that pass ids through unchanged (reshaping, slicing) return tokens[0].
        """
        return None

    def weights(self, shapes) -> dict[str, Weight]:
        """Weight arrays this layer owns, by name; parameters are counted from these."""
        return {}

    def macs(self, shapes, out) -> int:
        return 0

    def other_ops(self, shapes, out) -> int:
        return 0

    def scratch(self, shapes, out, batch, k) -> dict[str, int]:
        """Bytes per role of the kernels' reused scratch buffers (k.scratch) that forward() needs at this batch.

        The runner's memory estimate sums them; k is the kernel module, as in forward().
        """
        return {}

    def formulas(self, shapes, out) -> dict[str, Formula | None]:
        """params, macs and other_ops as formulas in the layer's symbols (None where the type states none).

        Each type states a formula beside its rule; tests/test_explain.py holds every formula equal to
        its counted figure on every layer case.
        """
        return {
            "params": self.params_formula(shapes),
            "macs": self.macs_formula(shapes, out),
            "other_ops": self.other_ops_formula(shapes, out),
        }

    def params_formula(self, shapes) -> Formula:
        """By default the declared weights' sizes, one term per weight (|kernel| + |bias|)."""
        return formula(*([Factor(f"|{name}|", w.size)] for name, w in self.weights(shapes).items()))

    def macs_formula(self, shapes, out) -> Formula | None:
        """0 for a type without a MAC rule; a type with one states its formula."""
        return formula() if type(self).macs is Layer.macs else None

    def other_ops_formula(self, shapes, out) -> Formula | None:
        return formula() if type(self).other_ops is Layer.other_ops else None

    def cache_elements(self, shapes) -> int:
        """Elements per sample of state the layer keeps between calls (a key/value cache); 0 for none."""
        return 0

    def window(self, shapes):
        """Per spatial axis (kernel extent, stride, padding before) for the receptive field; None if pointwise."""
        return None

    def forward(self, xs, w, k):
        return xs[0]


def bias_weight(n: int) -> Weight:
    """A trainable bias of n values, filled near zero for a run."""
    return Weight((n,), init=NEAR_ZERO)


def bias_term(layer, out) -> list[Factor]:
    """The formula term of one bias add per output element (none without a bias)."""
    return elements(out) if layer.bias else []


def bias_ops(layer, out):
    """One add per output element when the layer has a bias."""
    return prod(out) if layer.bias else 0
