"""Attribute kinds: each converts a raw JSON value to a layer attribute's typed value and
describes, for the JSON Schema, what it accepts (like click's ParamType: convert + to_info_dict).

Errors name no attribute: Layer.from_raw locates them. A numeric value may also be an
expression string, which the loader evaluates; the schema can only say "an expression".
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..errors import SpecError, spec_error, suggest
from ..expr import UndefinedVariable, exact

# Every integer attribute and dimension is at most MAX_INTEGER and a shape has at most MAX_RANK
# axes, so every count stays far inside a float's range and str()'s 4300 digits.
MAX_INTEGER = 10**15
MAX_RANK = 8
_LIMIT = f"10^15 ({MAX_INTEGER:,})"

EXPRESSION = {"$ref": "#/$defs/expression"}
PADDING_EXPRESSION = {"$ref": "#/$defs/padding_expression"}  # an expression, but no bare word

# how the axes of a window of each rank are named, in messages and descriptions
AXES = {1: ("length",), 2: ("height", "width"), 3: ("depth", "height", "width")}


def integer_schema(minimum=None) -> dict:
    """An integer from minimum (or -10^15) to 10^15, or an expression the loader evaluates to one."""
    number = {"type": "integer", "minimum": -MAX_INTEGER if minimum is None else minimum, "maximum": MAX_INTEGER}
    return {"anyOf": [number, EXPRESSION]}


def _list_schema(item: dict, n: int) -> dict:
    return {"type": "array", "items": item, "minItems": n, "maxItems": n}


def _bad(what, raw):
    return spec_error(f"must be {what}.", received=raw)


def _whole(value: Fraction) -> str:
    """An exact non-integer as its fraction, so 64 + 1/10^20 never reads as 64."""
    return f"{value.numerator}/{value.denominator}"


def _integer(raw, evaluate, minimum):
    value = evaluate(raw) if isinstance(raw, str) else raw
    if isinstance(value, float):
        raise _bad("an integer, not a decimal number", raw)
    if isinstance(value, bool) or not isinstance(value, (int, Fraction)):
        raise _bad("an integer" if minimum is None else f"an integer >= {minimum}", raw)
    if not -MAX_INTEGER <= value <= MAX_INTEGER:
        if value > 0:
            raise _bad(f"at most {_LIMIT}", raw)
        raise _bad(f"an integer >= {minimum}" if minimum is not None else f"at least -10^15 (-{MAX_INTEGER:,})", raw)
    if isinstance(value, Fraction):
        if value.denominator != 1:
            raise spec_error(
                f"must be an integer, but the expression gives {_whole(value)}, not a whole number; "
                "wrap it in floor(), round() or int().",
                received=raw,
            )
        value = value.numerator
    if minimum is not None and value < minimum:
        raise _bad(f"an integer >= {minimum}", raw)
    return int(value)


def _each(raw, convert):
    """Convert every item of a list; an error shows the whole list as received."""
    try:
        return tuple(convert(v) for v in raw)
    except SpecError as err:
        err.received, err.has_received = raw, True
        raise


class Kind:
    """One kind of attribute value."""

    def convert(self, raw, evaluate):
        """The typed value of raw JSON; evaluate(text) gives an expression's exact value."""
        raise NotImplementedError

    def schema(self) -> dict:
        """The JSON Schema of what convert accepts (expressions as the 'expression' definition)."""
        raise NotImplementedError


@dataclass(frozen=True)
class Integer(Kind):
    """An integer, at least minimum (None: any, down to -10^15)."""

    minimum: int | None = None

    def convert(self, raw, evaluate):
        return _integer(raw, evaluate, self.minimum)

    def schema(self):
        return integer_schema(self.minimum)


def _axes_list(rank: int) -> str:
    return "[" + ", ".join(AXES[rank]) + "]"


@dataclass(frozen=True)
class Sizes(Kind):
    """An integer >= minimum (positive by default) for every spatial axis, or one per axis: [height, width] for rank 2."""

    rank: int = 2
    minimum: int = 1

    def convert(self, raw, evaluate):
        if isinstance(raw, list):
            if len(raw) != self.rank:
                what = "a pair" if self.rank == 2 else "a list"
                number = "a positive integer" if self.minimum == 1 else f"an integer >= {self.minimum}"
                raise _bad(f"{number} or {what} {_axes_list(self.rank)}", raw)
            return _each(raw, lambda v: _integer(v, evaluate, self.minimum))
        return (_integer(raw, evaluate, self.minimum),) * self.rank

    def schema(self):
        return {"anyOf": [integer_schema(self.minimum), _list_schema(integer_schema(self.minimum), self.rank)]}


@dataclass(frozen=True)
class PadAmount(Kind):
    """p, one p per axis, or [before, after] per axis -> ((before, after), ...) per spatial axis."""

    rank: int = 2

    def describe(self) -> str:
        if self.rank == 2:
            return "an integer >= 0, a pair [p_h, p_w] or [[top, bottom], [left, right]]"
        per_axis = "[" + ", ".join(f"p_{a[0]}" for a in AXES[self.rank]) + "]"
        return f"an integer >= 0, a list {per_axis} or a [before, after] pair per axis"

    def convert(self, raw, evaluate):
        if isinstance(raw, list):
            if len(raw) != self.rank:
                raise _bad(self.describe(), raw)
            out = []
            for item in raw:
                if isinstance(item, list):
                    if len(item) != 2:
                        raise _bad(self.describe(), raw)
                    out.append(tuple(_integer(v, evaluate, 0) for v in item))
                else:
                    p = _integer(item, evaluate, 0)
                    out.append((p, p))
            return tuple(out)
        p = _integer(raw, evaluate, 0)
        return ((p, p),) * self.rank

    def schema(self, amount=None):
        p = amount or integer_schema(0)
        return {"anyOf": [p, _list_schema({"anyOf": [p, _list_schema(p, 2)]}, self.rank)]}


@dataclass(frozen=True)
class Padding(Kind):
    """'same', 'valid', or explicit amounts as PadAmount."""

    rank: int = 2

    def convert(self, raw, evaluate):
        if raw in ("same", "valid"):
            return raw
        try:
            return PadAmount(self.rank).convert(raw, evaluate)
        except UndefinedVariable as err:
            # a bare word that is no variable is most likely a misspelt mode
            if err.variable == raw:
                raise spec_error(
                    f"must be 'same', 'valid' or explicit amounts.{suggest(raw, ('same', 'valid'))}",
                    received=raw,
                ) from None
            raise

    def schema(self):
        # a bare word other than same/valid is refused by the loader as a misspelling
        amounts = PadAmount(self.rank).schema()
        amounts["anyOf"][0] = {"anyOf": [{"type": "integer", "minimum": 0}, PADDING_EXPRESSION]}
        return {"anyOf": [{"enum": ["same", "valid"]}, amounts]}


@dataclass(frozen=True)
class Bool(Kind):
    def convert(self, raw, evaluate):
        value = evaluate(raw) if isinstance(raw, str) else raw
        if not isinstance(value, bool):
            raise _bad("true or false", raw)
        return value

    def schema(self):
        return {"anyOf": [{"type": "boolean"}, EXPRESSION]}


@dataclass(frozen=True)
class Number(Kind):
    """An exact number (a Fraction), of magnitude at most 10^15, and at least minimum if given."""

    minimum: int | None = None

    def convert(self, raw, evaluate):
        value = evaluate(raw) if isinstance(raw, str) else exact(raw)
        if isinstance(value, bool) or not isinstance(value, (int, Fraction)):
            raise _bad("a number" if self.minimum is None else f"a number >= {self.minimum}", raw)
        if abs(value) > MAX_INTEGER:
            raise _bad(f"a number of magnitude at most {_LIMIT}", raw)
        if self.minimum is not None and value < self.minimum:
            raise _bad(f"a number >= {self.minimum}", raw)
        return Fraction(value)

    def schema(self):
        low = -MAX_INTEGER if self.minimum is None else self.minimum
        return {"anyOf": [{"type": "number", "minimum": low, "maximum": MAX_INTEGER}, EXPRESSION]}


@dataclass(frozen=True)
class Scales(Kind):
    """A positive number for every spatial axis, or one per axis: [height, width] for rank 2."""

    rank: int = 2

    def convert(self, raw, evaluate):
        def positive(v):
            value = Number().convert(v, evaluate)
            if value <= 0:
                raise _bad("a positive number", v)
            return value

        if isinstance(raw, list):
            if len(raw) != self.rank:
                what = "a pair" if self.rank == 2 else "a list"
                raise _bad(f"a positive number or {what} {_axes_list(self.rank)}", raw)
            return _each(raw, positive)
        return (positive(raw),) * self.rank

    def schema(self):
        number = {"anyOf": [{"type": "number", "exclusiveMinimum": 0}, EXPRESSION]}
        return {"anyOf": [number, _list_schema(number, self.rank)]}


@dataclass(frozen=True)
class Fraction01(Number):
    """A number in [0, 1), such as a dropout rate."""

    def convert(self, raw, evaluate):
        value = super().convert(raw, evaluate)
        if not 0 <= value < 1:
            raise _bad("a number in [0, 1)", raw)
        return value

    def schema(self):
        return {"anyOf": [{"type": "number", "minimum": 0, "exclusiveMaximum": 1}, EXPRESSION]}


@dataclass(frozen=True)
class Choice(Kind):
    """One of a fixed list of strings."""

    choices: tuple = ()

    def convert(self, raw, evaluate):
        if raw not in self.choices:
            listed = ", ".join(repr(c) for c in self.choices)
            raise spec_error(f"must be one of {listed}.{suggest(raw, self.choices)}", received=raw)
        return raw

    def schema(self):
        return {"enum": list(self.choices)}


@dataclass(frozen=True)
class Shape(Kind):
    """A tensor shape without the batch axis: 1 to MAX_RANK positive integers."""

    def convert(self, raw, evaluate):
        if not isinstance(raw, list) or not raw:
            raise _bad("a non-empty list of positive integers such as [224, 224, 3]", raw)
        if len(raw) > MAX_RANK:
            raise _bad(f"a list of at most {MAX_RANK} dimensions", raw)
        return _each(raw, lambda v: _integer(v, evaluate, 1))

    def schema(self):
        return {"type": "array", "items": integer_schema(1), "minItems": 1, "maxItems": MAX_RANK}


@dataclass(frozen=True)
class NewShape(Kind):
    """A shape to reshape to: positive integers, one of which may be -1 (inferred from the element count)."""

    def convert(self, raw, evaluate):
        what = "a non-empty list of positive integers, one of which may be -1, such as [196, 768] or [-1, 768]"
        if not isinstance(raw, list) or not raw:
            raise _bad(what, raw)
        if len(raw) > MAX_RANK:
            raise _bad(f"a list of at most {MAX_RANK} dimensions", raw)
        sizes = _each(raw, lambda v: _integer(v, evaluate, -1))
        if 0 in sizes or sizes.count(-1) > 1:
            raise _bad(what, raw)
        return sizes

    def schema(self):
        item = {"anyOf": [{"type": "integer", "minimum": 1}, {"const": -1}, EXPRESSION]}
        return {"type": "array", "items": item, "minItems": 1, "maxItems": MAX_RANK}


@dataclass(frozen=True)
class Axes(Kind):
    """Axes counted without the batch axis (negative from the end): one integer or a list of distinct ones."""

    def convert(self, raw, evaluate):
        if not isinstance(raw, list):
            return (_integer(raw, evaluate, None),)
        if not raw or len(raw) > MAX_RANK:
            raise _bad(f"an axis or a list of 1 to {MAX_RANK} axes", raw)
        return _each(raw, lambda v: _integer(v, evaluate, None))

    def schema(self):
        axis = integer_schema()
        return {"anyOf": [axis, {"type": "array", "items": axis, "minItems": 1, "maxItems": MAX_RANK}]}


# the kinds by the names Attr accepts; "choice" takes Attr's choices
KINDS = {
    "size": Integer(1),
    "count": Integer(0),
    "axis": Integer(),
    "sizes": Sizes(2),
    "pad_amount": PadAmount(2),
    "padding": Padding(2),
    "bool": Bool(),
    "number": Number(),
    "fraction": Fraction01(),
    "choice": Choice(),
    "shape": Shape(),
}
