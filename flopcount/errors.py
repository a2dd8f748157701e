"""Error types: every problem a user can cause is one of these, never a bare exception."""

from __future__ import annotations

import difflib


class FlopcountError(Exception):
    """Base of every error flopcount reports to a user; the CLI exits with exit_code.

    Fields say where the problem is: the file, a context within it (an expect entry's
    setting, say), the layer, the attribute, and what was received. An error about a
    value given for a command's option says which one in ``option``, spelled as the
    library's parameter ('max_memory'); its message is then a template in which
    ``{max_memory}`` (or ``{option}``) stands for that option's spelling, and ``text(spell)``
    fills it in: the library writes the parameter's name, the command line its flag
    (``--max-memory``).
    """

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        layer: int | None = None,
        name: str | None = None,
        attribute: str | None = None,
        context: str | None = None,
        received: object = None,
        has_received: bool = False,
    ):
        super().__init__(message)
        self.template: str | None = None  # set by about(): a message naming options
        self.values: dict = {}  # the template's other fields, never parsed as a template themselves
        self.option: str | None = None
        self._message = message
        self.file = file
        self.layer = layer
        self.name = name
        self.attribute = attribute
        self.context = context
        self.received = received
        self.has_received = has_received

    @classmethod
    def about(cls, option: str, template: str, **values) -> FlopcountError:
        """An error about the value of option; template names options as {option_name}, values fill its other fields.

        >>> str(FlopcountError.about("tolerance", "{tolerance} must be below 100%. Received: {text}", text="200%"))
        'tolerance must be below 100%. Received: 200%'
        """
        err = cls(template)
        err.option, err.template, err.values = option, template, values
        return err

    @property
    def message(self) -> str:
        """The message alone, options spelled as the library names them."""
        return self.text()

    def text(self, spell=str) -> str:
        """The message alone, each option spelled by spell(name)."""
        if self.template is None:
            return self._message
        return self.template.format_map(_Fields(self.values, spell, self.option))

    def located(self, **where) -> FlopcountError:
        """Fill in location fields that are still unknown and return self."""
        for key, value in where.items():
            if getattr(self, key) is None and value is not None:
                setattr(self, key, value)
        return self

    def describe(self, spell=str) -> str:
        """The whole one-line report: where, what, and what was received; options spelled by spell."""
        where = [x for x in (self.file, self.context) if x is not None]
        if self.layer is not None:
            label = f"layer {self.layer}"
            if self.name is not None:
                label += f" '{self.name}'"
            where.append(label)
        elif self.name is not None:
            where.append(f"'{self.name}'")
        if self.attribute is not None:
            where.append(f"attribute '{self.attribute}'")
        message = self.text(spell)
        text = ": ".join(where + [message]) if where else message
        if self.has_received:
            text += f" Received: {self.attribute or self.option or 'value'}={_show(self.received)}"
        return text

    def __str__(self) -> str:
        return self.describe()


class _Fields(dict):
    """A template's fields: the values given, and any other name spelled as an option ({option}: the error's own)."""

    def __init__(self, values: dict, spell, option: str | None):
        super().__init__(values)
        self.spell, self.option = spell, option

    def __missing__(self, key: str) -> str:
        return self.spell(self.option if key == "option" else key)


class SpecError(FlopcountError):
    """The spec text is wrong: JSON, structure, names, attributes, variables."""


class SpecNotFound(SpecError):
    """A spec argument that names neither a file nor a bundled spec."""


class ShapeError(FlopcountError):
    """The spec is well-formed but its shapes do not fit together."""


def spec_error(message: str, attribute: str | None = None, **kw) -> SpecError:
    """Build a SpecError; pass received=... to append 'Received: attribute=value'."""
    if "received" in kw:
        kw["has_received"] = True
    return SpecError(message, attribute=attribute, **kw)


SUGGEST_CHOICES = 200  # a suggestion weighs at most this many candidates...
SUGGEST_LENGTH = 250  # ...of at most this many characters, so its work is bounded (under 0.1 s)


def suggest(word: str, choices) -> str:
    """Return " Did you mean 'x'?" for the closest choice (difflib's ratio, at least 0.6), or ''.

    Of equally close choices the first listed wins, so a registry can list the usual one first.
    Bounded work whatever the spec: a word or choice longer than SUGGEST_LENGTH is not compared,
    and only the first SUGGEST_CHOICES choices (callers list the likeliest first) are weighed,
    so tens of thousands of long names cost milliseconds.
    """
    word = str(word)
    if len(word) > SUGGEST_LENGTH:
        return ""
    matcher = difflib.SequenceMatcher(b=word)
    best, best_score, weighed = None, 0.0, 0
    for choice in choices:
        choice = str(choice)
        if len(choice) > SUGGEST_LENGTH:
            continue
        weighed += 1
        if weighed > SUGGEST_CHOICES:
            break
        matcher.set_seq1(choice)
        bar = max(0.6, best_score)  # quick upper bounds first: only a strictly better choice replaces the best
        if matcher.real_quick_ratio() < bar or matcher.quick_ratio() < bar:
            continue
        score = matcher.ratio()
        if score >= 0.6 and score > best_score:
            best, best_score = choice, score
    return f" Did you mean '{best}'?" if best is not None else ""


def _show(value: object) -> str:
    import json
    from fractions import Fraction

    from .expr import plain  # imported here: expr builds on this module

    try:
        text = json.dumps(value, default=lambda v: plain(v) if isinstance(v, Fraction) else repr(v))
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
