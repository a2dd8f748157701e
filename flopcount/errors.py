"""Error types: every problem a user can cause is one of these, never a bare exception."""

from __future__ import annotations

import difflib


class FlopcountError(Exception):
    """Base of every error flopcount reports to a user (CLI exit status 2)."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        layer: int | None = None,
        name: str | None = None,
        attribute: str | None = None,
        received: object = None,
        has_received: bool = False,
    ):
        super().__init__(message)
        self.message = message
        self.file = file
        self.layer = layer
        self.name = name
        self.attribute = attribute
        self.received = received
        self.has_received = has_received

    def located(self, **where) -> "FlopcountError":
        """Fill in location fields that are still unknown and return self."""
        for key, value in where.items():
            if getattr(self, key) is None and value is not None:
                setattr(self, key, value)
        return self

    def __str__(self) -> str:
        where = []
        if self.file is not None:
            where.append(self.file)
        if self.layer is not None:
            label = f"layer {self.layer}"
            if self.name is not None:
                label += f" '{self.name}'"
            where.append(label)
        elif self.name is not None:
            where.append(f"'{self.name}'")
        if self.attribute is not None:
            where.append(f"attribute '{self.attribute}'")
        text = ": ".join(where + [self.message]) if where else self.message
        if self.has_received:
            text += f" Received: {self.attribute or 'value'}={_show(self.received)}"
        return text


class SpecError(FlopcountError):
    """The spec text is wrong: JSON, structure, names, attributes, variables."""


class ShapeError(FlopcountError):
    """The spec is well-formed but its shapes do not fit together."""


def spec_error(message: str, attribute: str | None = None, **kw) -> SpecError:
    """Build a SpecError; pass received=... to append 'Received: attribute=value'."""
    if "received" in kw:
        kw["has_received"] = True
    return SpecError(message, attribute=attribute, **kw)


def suggest(word: str, choices) -> str:
    """Return " Did you mean 'x'?" for the closest choice, or ''."""
    close = difflib.get_close_matches(str(word), sorted(choices), n=1, cutoff=0.6)
    return f" Did you mean '{close[0]}'?" if close else ""


def _show(value: object) -> str:
    import json
    from fractions import Fraction

    from .expr import plain  # imported here: expr builds on this module

    try:
        text = json.dumps(value, default=lambda v: plain(v) if isinstance(v, Fraction) else repr(v))
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
