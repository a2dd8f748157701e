"""Cost formulas in the symbols of the MobileNet paper (Howard et al., 2017), evaluated exactly."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import prod

SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")

@dataclass(frozen=True)
class Factor:
    """One factor of a formula term: a symbol, the number it stands for, and a power."""

    symbol: str
    value: int
    power: int = 1

    def text(self, numbers: bool) -> str:
        base = str(self.value) if numbers else self.symbol
        return base + (str(self.power).translate(SUPERSCRIPT) if self.power != 1 else "")


@dataclass(frozen=True)
class Formula:
    """A sum of products, written in the MobileNet paper's symbols and evaluated exactly."""

    terms: tuple[tuple[Factor, ...], ...]
    compact: str = ""  # a short form such as 18C², when there is one

    @property
    def value(self) -> int:
        return sum(prod(f.value**f.power for f in term) for term in self.terms)

    def symbols(self) -> str:
        return " + ".join(" × ".join(f.text(False) for f in term) for term in self.terms)

    def numbers(self) -> str:
        return " + ".join(" × ".join(f.text(True) for f in term) for term in self.terms)


def formula(*terms, compact: str = "") -> Formula:
    """Build a Formula from terms; a falsy term (an absent bias, say) is left out."""
    return Formula(tuple(tuple(t) for t in terms if t), compact)


def fraction_text(f: Fraction) -> str:
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"

