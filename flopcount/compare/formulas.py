"""Cost formulas in the symbols of the MobileNet paper (Howard et al., 2017), evaluated exactly."""

from __future__ import annotations

from fractions import Fraction

from ..layers.formula import SUPERSCRIPT, Factor, Formula, formula  # noqa: F401 - compare's names for them


def fraction_text(f: Fraction) -> str:
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"
