"""Attribute kinds: how a raw JSON value becomes a layer attribute's typed value."""

from __future__ import annotations

from fractions import Fraction

from ..errors import SpecError, spec_error, suggest
from ..expr import UndefinedVariable, exact

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
    except UndefinedVariable as err:
        # a bare word that is no variable is most likely a misspelt mode
        if err.variable == raw:
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
