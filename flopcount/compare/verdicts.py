"""Two sides compared: counts against formulas, exact ratios against the closed forms, and the verdicts."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from fractions import Fraction

from ..errors import SpecError, SpecNotFound, suggest
from ..expr import fixed
from ..graph import Graph, Node, build_graph
from ..spec import bundled_dir, load_spec
from .blocks import BLOCKS, STACK_WEIGHTS, Sizes, _channels
from .execution import RFCheck, RunCheck
from .formulas import Formula, fraction_text

# ---------------------------------------------------------------- closed forms


@dataclass(frozen=True)
class ClosedForm:
    """The ratio B / A in closed form, for the pairs the classic arguments are about."""

    text: str  # in symbols: 1/N + 1/D_K²
    combined: str  # one fraction in symbols: (D_K² + N)/(D_K² · N)
    substituted: str  # with the numbers: 1/64 + 1/9 = (9 + 64)/(9 · 64)
    value: Fraction
    params_exact: bool  # whether the parameter ratio should equal it too (not with biases)


def closed_form(a: str, b: str, s: Sizes) -> ClosedForm | None:
    """The closed form of ratio B / A for (standard, depthwise), its reverse and the 3×3 stacks."""
    pair = (a, b)
    if pair in (("standard", "depthwise"), ("depthwise", "standard")):
        n, k2 = _channels(a, s)[1], s.DK**2
        k2s = str(k2)
        value = Fraction(k2 + n, k2 * n)
        if pair == ("standard", "depthwise"):
            return ClosedForm(
                "1/N + 1/D_K²",
                "(D_K² + N)/(D_K² · N)",
                f"1/{n} + 1/{k2s} = ({k2s} + {n})/({k2s} · {n}) = {fraction_text(value)}",
                value,
                not s.bias,
            )
        return ClosedForm(
            "1/(1/N + 1/D_K²)",
            "(D_K² · N)/(D_K² + N)",
            f"1/(1/{n} + 1/{k2s}) = ({k2s} · {n})/({k2s} + {n}) = {fraction_text(1 / value)}",
            1 / value,
            not s.bias,
        )
    if a in STACK_WEIGHTS and b in STACK_WEIGHTS:
        (na, ka), (nb, kb) = STACK_WEIGHTS[a], STACK_WEIGHTS[b]
        value = Fraction(nb * kb * kb, na * ka * ka)

        def coef(n, k):
            return f"{n} × {k}²" if n > 1 else f"{k}²"

        return ClosedForm(
            f"{coef(nb, kb)} × C² / ({coef(na, ka)} × C²)",
            f"{nb * kb * kb}/{na * ka * ka}",
            f"{nb * kb * kb}C² / {na * ka * ka}C² = {fraction_text(value)}",
            value,
            not s.bias,
        )
    return None


# ---------------------------------------------------------------- the comparison


@dataclass
class Side:
    """One side of a comparison: a built-in block at given sizes, or a spec."""

    label: str
    kind: str  # "block" or "spec"
    description: str
    graph: Graph
    params_formula: Formula | None = None
    macs_formula: Formula | None = None
    sizes: Sizes | None = None
    run: RunCheck | None = None
    rf_check: RFCheck | None = None

    @property
    def params(self) -> int:
        return self.graph.totals.params

    @property
    def macs(self) -> int:
        return self.graph.totals.macs

    @property
    def flops(self) -> int:
        return self.graph.totals.flops

    @property
    def output(self) -> Node:
        return self.graph.nodes[-1]

    @property
    def receptive_field(self) -> tuple[int, ...]:
        """The receptive field of the last layer whose output keeps the input's spatial axes."""
        spatial = [n for n in self.graph.nodes if n.spatial]
        return (spatial or self.graph.nodes)[-1].rf

    @property
    def bias_params(self) -> int:
        """Parameters --bias adds to a block: its count less the same block's without biases."""
        graph, _, _ = BLOCKS[self.label].build(replace(self.sizes, bias=False))
        return self.params - graph.totals.params

    @property
    def formulas_ok(self) -> bool | None:
        """Whether the counted params and MACs equal the block's formulas (None for specs)."""
        if self.params_formula is None:
            return None
        return self.params == self.params_formula.value and self.macs == self.macs_formula.value


@dataclass(frozen=True)
class Ratio:
    """B / A for one figure, exact, with the closed form's verdict where there is one."""

    metric: str
    value: Fraction | None  # None when A's figure is 0
    closed: Fraction | None = None

    @property
    def equal(self) -> bool | None:
        """Exact rational equality with the closed form; None when there is none to check."""
        if self.closed is None or self.value is None:
            return None
        return self.value == self.closed

    @property
    def saving(self) -> tuple[str, Fraction] | None:
        """('A' or 'B', fraction saved) for the cheaper side, relative to the other."""
        if self.value is None or self.value == 1 or self.value == 0:
            return None
        return ("B", 1 - self.value) if self.value < 1 else ("A", 1 - 1 / self.value)


@dataclass
class LayerPair:
    """A layer name present in both specs, with both sides' figures."""

    name: str
    a: Node
    b: Node


@dataclass
class Comparison:
    a: Side
    b: Side
    sizes: Sizes
    closed: ClosedForm | None
    ratios: dict[str, Ratio]
    layers: list[LayerPair] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def verdicts(self) -> dict[str, bool | None]:
        """Every check and its outcome; None means not applicable or not run."""
        out = {
            "a_formulas": self.a.formulas_ok,
            "b_formulas": self.b.formulas_ok,
            "macs_ratio_equals_closed_form": self.ratios["macs"].equal,
            "params_ratio_equals_closed_form": self.ratios["params"].equal
            if self.closed and self.closed.params_exact
            else None,
            "a_run": self.a.run.ok if self.a.run else None,
            "b_run": self.b.run.ok if self.b.run else None,
            "a_receptive_field": self.a.rf_check.ok if self.a.rf_check else None,
            "b_receptive_field": self.b.rf_check.ok if self.b.rf_check else None,
        }
        return out

    @property
    def ok(self) -> bool:
        """No check failed (checks that do not apply or did not run are not failures)."""
        return all(v is not False for v in self.verdicts.values())


def load_side(name: str, sizes: Sizes) -> Side:
    """A built-in block by name, else a spec file or bundled spec."""
    if name in BLOCKS:
        blk = BLOCKS[name]
        graph, params, macs = blk.build(sizes)
        return Side(name, "block", blk.description, graph, params, macs, sizes)
    try:
        graph = build_graph(load_spec(name))
    except SpecNotFound:
        bundled = sorted(p.stem for p in bundled_dir().glob("*.json"))
        hint = suggest(name, list(BLOCKS) + bundled)
        raise SpecError(
            f"not a built-in block, a spec file or a bundled spec.{hint} Blocks: {', '.join(BLOCKS)}; "
            f"bundled specs: {', '.join(bundled)}. Received: {name}"
        ) from None
    return Side(name, "spec", graph.spec.description, graph)


def compare(a: str, b: str, sizes: Sizes | None = None) -> Comparison:
    """Count both sides with the analyzer and compare them exactly; nothing is executed."""
    sizes = (sizes or Sizes()).checked()
    side_a, side_b = load_side(a, sizes), load_side(b, sizes)
    both_blocks = side_a.kind == side_b.kind == "block"
    closed = closed_form(a, b, sizes) if both_blocks else None
    ratios = {
        metric: Ratio(
            metric,
            _ratio(getattr(side_a, metric), getattr(side_b, metric)),
            closed.value if closed and (metric == "macs" or closed.params_exact) else None,
        )
        for metric in ("params", "macs", "flops")
    }
    cmp = Comparison(side_a, side_b, sizes, closed, ratios)
    if side_a.kind == side_b.kind == "spec":
        names_b = {n.name: n for n in side_b.graph.nodes}
        cmp.layers = [LayerPair(n.name, n, names_b[n.name]) for n in side_a.graph.nodes if n.name in names_b]
    elif not both_blocks and _sizes_given(sizes):
        cmp.notes.append("The size options apply to the built-in blocks only; a spec keeps its own shapes.")
    if (
        a in STACK_WEIGHTS
        and b in STACK_WEIGHTS
        and sizes.stride > 1
        and side_a.receptive_field != side_b.receptive_field
    ):
        cmp.notes.append(
            f"--stride {sizes.stride} sits on each stack's first convolution, so both sides keep D_G = {sizes.DG} "
            "and the C² formulas; the 3×3s after it step over the strided grid, so a stack's receptive field "
            "grows beyond the single kernel's."
        )
    if sizes.bias and both_blocks:
        cmp.notes.append(_bias_note(cmp))
    return cmp


def _sizes_given(s: Sizes) -> bool:
    return s != replace(Sizes(), bias=s.bias)


def _ratio(a: int, b: int) -> Fraction | None:
    return Fraction(b, a) if a else None


def _bias_note(cmp: Comparison) -> str:
    """Why --bias moves the parameter (and FLOP) ratio but not the MAC ratio."""
    a, b = cmp.a, cmp.b
    weights = _ratio(a.params - a.bias_params, b.params - b.bias_params)
    r = cmp.ratios
    text = (
        f"--bias gives every convolution one bias per output channel: {a.bias_params:,} more parameters "
        f"for {a.label}, {b.bias_params:,} for {b.label}. "
    )
    if weights is not None and r["params"].value is not None and weights != r["params"].value:
        text += (
            f"The weights alone keep the ratio {fraction_text(weights)}, but the biases are not in that proportion, "
            f"so the parameter ratio moves to {fraction_text(r['params'].value)} ({fixed(r['params'].value, 6)})"
            + (", no longer the closed form. " if cmp.closed else ". ")
        )
    text += (
        "MACs do not move: a bias add is not a multiply-accumulate under flopcount's conventions; it is "
        f"counted with the other ops ({a.graph.totals.other_ops:,} vs {b.graph.totals.other_ops:,}), "
        "so the FLOP ratio (2 × MACs + other ops) moves"
    )
    if r["flops"].value is not None:
        text += f" to {fraction_text(r['flops'].value)} ({fixed(r['flops'].value, 6)})"
    return text + "."
