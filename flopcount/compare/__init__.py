"""Building blocks side by side: counted figures, the paper's formulas and exact ratios.

``compare`` counts both sides with the analyzer, checks the counts against the
formulas of the MobileNet paper (Howard et al., 2017), takes the ratio B / A as a
Fraction and, for the classic pairs, checks it against the closed form exactly.
Executing both sides with the NumPy runner is a separate step (``run_sides``) so the
analysis never needs NumPy. One module per job:

* ``blocks``: the sizes and the built-in blocks, each a spec with its formulas;
* ``formulas``: a formula's terms in the paper's symbols, evaluated exactly;
* ``verdicts``: two sides compared, ratios, closed forms and every check's outcome;
* ``execution``: both sides run with NumPy, a block's receptive field measured;
* ``data``: a comparison as JSON-ready data.
"""

from .blocks import BLOCKS, STACK_WEIGHTS, Block, Sizes, list_blocks
from .data import comparison_dict
from .execution import RFCheck, RunCheck, run_sides
from .formulas import Factor, Formula, formula, fraction_text
from .verdicts import ClosedForm, Comparison, LayerPair, Ratio, Side, closed_form, compare, load_side

__all__ = [
    "BLOCKS",
    "STACK_WEIGHTS",
    "Block",
    "ClosedForm",
    "Comparison",
    "Factor",
    "Formula",
    "LayerPair",
    "RFCheck",
    "Ratio",
    "RunCheck",
    "Side",
    "Sizes",
    "closed_form",
    "compare",
    "comparison_dict",
    "formula",
    "fraction_text",
    "list_blocks",
    "load_side",
    "run_sides",
]
