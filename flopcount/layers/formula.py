"""Cost formulas as sums of products of named factors, evaluated exactly.

A layer states its figures once as formulas in its own symbols (Layer.formulas); `explain`
prints them with the numbers substituted, and `compare` writes the MobileNet paper's
(Howard et al., 2017) formulas for blocks with the same classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
AXIS_NAMES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


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
    """A sum of products, written in symbols and evaluated exactly; no terms is 0."""

    terms: tuple[tuple[Factor, ...], ...]
    compact: str = ""  # a short form such as 18C², when there is one

    @property
    def value(self) -> int:
        return sum(prod(f.value**f.power for f in term) for term in self.terms)

    def symbols(self) -> str:
        return " + ".join(" × ".join(f.text(False) for f in term) for term in self.terms) or "0"

    def numbers(self) -> str:
        return " + ".join(" × ".join(f.text(True) for f in term) for term in self.terms) or "0"


def formula(*terms, compact: str = "") -> Formula:
    """Build a Formula from terms; a falsy term (an absent bias, say) is left out."""
    return Formula(tuple(tuple(t) for t in terms if t), compact)


def axes(sizes, suffix: str) -> list[Factor]:
    """One factor per spatial axis, named by rank: H_out, W_out (L_out; D_out, H_out, W_out)."""
    names = AXIS_NAMES.get(len(sizes), tuple(f"S{i + 1}" for i in range(len(sizes))))
    return [Factor(f"{n}_{suffix}", s) for n, s in zip(names, sizes)]


def elements(shape, name: str = "out") -> list[Factor]:
    """The factors of a shape's element count: its spatial axes, then its channels C_out."""
    return axes(shape[:-1], name) + [Factor(f"C_{name}", shape[-1])] if shape else []
