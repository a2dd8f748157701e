"""Building blocks side by side: counted figures, the seed's formulas and exact ratios.

A built-in block is a small spec built from the sizes M (input channels), N (output
channels), D_K (kernel), D_F (input height and width), the stride, C (channels of the
C -> C stacks) and t (MobileNetV2's expansion), together with its parameter and MAC
formulas written in the seed's symbols. Every block pads 'same', so the output side
is D_G = ceil(D_F / stride). ``compare`` counts both sides with the analyzer, checks
the counts against the formulas, takes the ratio B / A as a Fraction and, for the
classic pairs, checks it against the closed form exactly. Executing both sides with
the NumPy runner is a separate step (``run_sides``) so the analysis never needs NumPy.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from fractions import Fraction
from math import prod
from typing import Callable

from .errors import FlopcountError, ShapeError, SpecError, suggest
from .expr import fixed, plain
from .graph import Graph, Node, build_graph
from .spec import bundled_dir, load_spec, parse_spec

SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")

# ---------------------------------------------------------------- formulas


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
    """A sum of products, written in the seed's symbols and evaluated exactly."""

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


# ---------------------------------------------------------------- sizes


@dataclass(frozen=True)
class Sizes:
    """The block sizes from the command line; None where not given."""

    M: int | None = None
    N: int | None = None
    DK: int = 3
    DF: int = 112
    stride: int = 1
    C: int | None = None
    t: int = 6
    bias: bool = False

    @property
    def DG(self) -> int:
        """Output height and width under 'same' padding: ceil(D_F / stride)."""
        return -(-self.DF // self.stride)

    def checked(self) -> "Sizes":
        """Refuse non-integer or non-positive sizes."""
        for name in ("M", "N", "DK", "DF", "stride", "C", "t"):
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SpecError(f"--{name} must be a positive integer. Received: {name}={value!r}")
        return self


def _channels(block: str, s: Sizes) -> tuple[int, int]:
    """M and N for an M -> N block; each falls back to --C."""
    m = s.M if s.M is not None else s.C
    n = s.N if s.N is not None else s.C
    for name, value, what in (("M", m, "input"), ("N", n, "output")):
        if value is None:
            raise SpecError(f"block '{block}' needs --{name}, its number of {what} channels. Received: {name}=None")
    return m, n


def _square(block: str, s: Sizes) -> int:
    """C for a C -> C block: --C, or --M and --N when they are equal."""
    if s.C is not None:
        return s.C
    if s.M is not None and (s.N is None or s.N == s.M):
        return s.M
    if s.N is not None and s.M is None:
        return s.N
    if s.M is None:
        raise SpecError(f"block '{block}' maps C -> C channels and needs --C (or --M equal to --N). Received: C=None")
    raise SpecError(
        f"block '{block}' maps C -> C channels; give --C, or --M equal to --N. Received: M={s.M}, N={s.N}"
    )


def _fits(block: str, kernel: int, s: Sizes, option: str | None = None) -> None:
    if kernel > s.DF:
        received = f"{option}={kernel}, DF={s.DF}" if option else f"DF={s.DF}"
        raise ShapeError(
            f"block '{block}': its {kernel}×{kernel} kernel is larger than the {s.DF}×{s.DF} input. "
            f"Received: {received}"
        )


# ---------------------------------------------------------------- blocks


@dataclass(frozen=True)
class Block:
    """A built-in block: a spec and its two formulas from the sizes."""

    name: str
    description: str
    make: Callable[[Sizes], tuple[dict, Formula, Formula]]

    def build(self, s: Sizes) -> tuple[Graph, Formula, Formula]:
        doc, params, macs = self.make(s.checked())
        return build_graph(parse_spec(doc, file=f"block {self.name}")), params, macs


BLOCKS: dict[str, Block] = {}


def block(name: str, description: str):
    """Register the function below as the built-in block name."""

    def add(make):
        BLOCKS[name] = Block(name, description, make)
        return make

    return add


def _spec(name: str, s: Sizes, channels: int, layers: list) -> dict:
    return {"name": name, "input": [s.DF, s.DF, channels], "layers": layers}


def _conv(filters, kernel, s: Sizes, stride=1, **extra) -> dict:
    return {"type": "conv2d", "filters": filters, "kernel": kernel, "stride": stride,
            "padding": "same", "bias": s.bias, **extra}


def _dw(kernel, s: Sizes, stride=1, **extra) -> dict:
    return {"type": "depthwise_conv2d", "kernel": kernel, "stride": stride, "padding": "same", "bias": s.bias, **extra}


def _bn(name: str) -> dict:
    return {"type": "batch_norm", "name": name}


def _act(fn: str, name: str | None = None) -> dict:
    return {"type": "activation", "fn": fn, **({"name": name} if name else {})}


@block("standard", "One D_K×D_K convolution, M → N channels: the seed's standard convolution.")
def _standard(s):
    m, n = _channels("standard", s)
    _fits("standard", s.DK, s, "DK")
    M, N, DK, DG = Factor("M", m), Factor("N", n), Factor("D_K", s.DK, 2), Factor("D_G", s.DG, 2)
    doc = _spec("standard", s, m, [_conv(n, s.DK, s, s.stride, name="conv")])
    params = formula((DK, M, N), s.bias and (N,))
    macs = formula((N, DG, DK, M))
    return doc, params, macs


@block("depthwise", "Depthwise D_K×D_K on M channels, then a 1×1 pointwise convolution M → N: "
       "the seed's depthwise-separable convolution.")
def _depthwise(s):
    m, n = _channels("depthwise", s)
    _fits("depthwise", s.DK, s, "DK")
    M, N, DK, DG = Factor("M", m), Factor("N", n), Factor("D_K", s.DK, 2), Factor("D_G", s.DG, 2)
    doc = _spec("depthwise", s, m, [_dw(s.DK, s, s.stride, name="depthwise"), _conv(n, 1, s, name="pointwise")])
    params = formula((DK, M), (M, N), s.bias and (M,), s.bias and (N,))
    macs = formula((M, DG, DK), (N, DG, M))
    return doc, params, macs


def _stack(name: str, kernel: int, count: int):
    """count stacked kernel×kernel convolutions C → C; the stride is on the first."""

    def make(s):
        c = _square(name, s)
        _fits(name, kernel, s)
        C, DG = Factor("C", c, 2), Factor("D_G", s.DG, 2)
        K = Factor(str(kernel), kernel, 2)
        layers = [_conv(c, kernel, s, s.stride if i == 0 else 1, name=f"conv{i + 1}") for i in range(count)]
        doc = _spec(name, s, c, layers)
        coef = count * kernel * kernel
        n = (Factor(str(count), count),) if count > 1 else ()
        params = formula((*n, K, C), s.bias and (*n, Factor("C", c)), compact="" if s.bias else f"{coef}C²")
        macs = formula((*n, K, C, DG), compact=f"{coef}C² × D_G²")
        return doc, params, macs

    return make


for _name, _k, _n, _what in (
    ("3x3x2", 3, 2, "Two stacked 3×3 convolutions, C → C (5×5 receptive field, 18C² weights)."),
    ("5x5", 5, 1, "One 5×5 convolution, C → C (25C² weights)."),
    ("3x3x3", 3, 3, "Three stacked 3×3 convolutions, C → C (7×7 receptive field, 27C² weights)."),
    ("7x7", 7, 1, "One 7×7 convolution, C → C (49C² weights)."),
):
    block(_name, _what)(_stack(_name, _k, _n))

STACK_WEIGHTS = {"3x3x2": (2, 3), "5x5": (1, 5), "3x3x3": (3, 3), "7x7": (1, 7)}  # (convolutions, kernel)


def _conv_bn(weights, out, s):
    """Parameter terms of a convolution followed by batch norm: its weights, its bias if any,
    and gamma, beta, moving mean and moving variance per output channel."""
    return [weights, s.bias and out, (Factor("4", 4), *out)]


def _residual_tail(m, n, s, last, layers, params, macs, M, N, DG):
    """ResNet's shortcut added to the last layer, then ReLU: identity when shapes allow, else a
    1×1 projection with batch norm."""
    short = "input"
    if not (s.stride == 1 and m == n):
        layers += [_conv(n, 1, s, s.stride, name="proj", inputs="input"), _bn("proj_bn")]
        params += _conv_bn((M, N), (N,), s)
        macs += [(N, DG, M)]
        short = "proj_bn"
    layers += [{"type": "add", "name": "add", "inputs": [last, short]}, _act("relu")]


@block("basic", "ResNet basic block: two D_K×D_K convolutions M → N → N with batch norm and ReLU, "
       "plus the shortcut (a 1×1 projection when stride or channels change).")
def _basic(s):
    m, n = _channels("basic", s)
    _fits("basic", s.DK, s, "DK")
    M, N, DK, DG = Factor("M", m), Factor("N", n), Factor("D_K", s.DK, 2), Factor("D_G", s.DG, 2)
    layers = [_conv(n, s.DK, s, s.stride, name="conv1"), _bn("bn1"), _act("relu"),
              _conv(n, s.DK, s, name="conv2"), _bn("bn2")]
    params = _conv_bn((DK, M, N), (N,), s) + _conv_bn((DK, N, N), (N,), s)
    macs = [(N, DG, DK, M), (N, DG, DK, N)]
    _residual_tail(m, n, s, "bn2", layers, params, macs, M, N, DG)
    return _spec("basic", s, m, layers), formula(*params), formula(*macs)


@block("bottleneck", "ResNet bottleneck block: 1×1 M → N/4, D_K×D_K N/4 → N/4 (strided), 1×1 N/4 → N "
       "(expansion 4), batch norm and ReLU, plus the shortcut.")
def _bottleneck(s):
    m, n = _channels("bottleneck", s)
    if n % 4:
        raise SpecError(
            f"block 'bottleneck' has expansion 4: its output channels N must be divisible by 4 "
            f"(the inner convolutions have N/4). Received: N={n}"
        )
    _fits("bottleneck", s.DK, s, "DK")
    M, N, W = Factor("M", m), Factor("N", n), Factor("N/4", n // 4)
    DK, DF, DG = Factor("D_K", s.DK, 2), Factor("D_F", s.DF, 2), Factor("D_G", s.DG, 2)
    layers = [_conv(n // 4, 1, s, name="conv1"), _bn("bn1"), _act("relu"),
              _conv(n // 4, s.DK, s, s.stride, name="conv2"), _bn("bn2"), _act("relu"),
              _conv(n, 1, s, name="conv3"), _bn("bn3")]
    params = _conv_bn((M, W), (W,), s) + _conv_bn((DK, W, W), (W,), s) + _conv_bn((W, N), (N,), s)
    macs = [(W, DF, M), (W, DG, DK, W), (N, DG, W)]
    _residual_tail(m, n, s, "bn3", layers, params, macs, M, N, DG)
    return _spec("bottleneck", s, m, layers), formula(*params), formula(*macs)


@block("inverted_residual", "MobileNetV2 inverted residual: 1×1 expansion M → tM, depthwise D_K×D_K "
       "(strided), linear 1×1 projection tM → N, batch norm and ReLU6; identity shortcut when stride is 1 and M = N.")
def _inverted_residual(s):
    m, n = _channels("inverted_residual", s)
    _fits("inverted_residual", s.DK, s, "DK")
    M, N, T = Factor("M", m), Factor("N", n), Factor("t", s.t)
    DK, DF, DG = Factor("D_K", s.DK, 2), Factor("D_F", s.DF, 2), Factor("D_G", s.DG, 2)
    layers, params, macs = [], [], []
    if s.t != 1:  # MobileNetV2 leaves out the expansion when t = 1
        layers += [_conv(s.t * m, 1, s, name="expand"), _bn("expand_bn"), _act("relu6")]
        params += _conv_bn((T, M, M), (T, M), s)
        macs += [(T, M, DF, M)]
    layers += [_dw(s.DK, s, s.stride, name="depthwise"), _bn("depthwise_bn"), _act("relu6"),
               _conv(n, 1, s, name="project"), _bn("project_bn")]
    params += _conv_bn((DK, T, M), (T, M), s) + _conv_bn((T, M, N), (N,), s)
    macs += [(T, M, DG, DK), (N, DG, T, M)]
    if s.stride == 1 and m == n:
        layers.append({"type": "add", "name": "add", "inputs": ["input", "project_bn"]})
    return _spec("inverted_residual", s, m, layers), formula(*params), formula(*macs)


def list_blocks() -> list[tuple[str, str]]:
    """(name, one-line description) of every built-in block."""
    return [(b.name, b.description) for b in BLOCKS.values()]


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
            return ClosedForm("1/N + 1/D_K²", "(D_K² + N)/(D_K² · N)",
                              f"1/{n} + 1/{k2s} = ({k2s} + {n})/({k2s} · {n}) = {fraction_text(value)}", value, not s.bias)
        return ClosedForm("1/(1/N + 1/D_K²)", "(D_K² · N)/(D_K² + N)",
                          f"1/(1/{n} + 1/{k2s}) = ({k2s} · {n})/({k2s} + {n}) = {fraction_text(1 / value)}",
                          1 / value, not s.bias)
    if a in STACK_WEIGHTS and b in STACK_WEIGHTS:
        (na, ka), (nb, kb) = STACK_WEIGHTS[a], STACK_WEIGHTS[b]
        value = Fraction(nb * kb * kb, na * ka * ka)

        def coef(n, k):
            return f"{n} × {k}²" if n > 1 else f"{k}²"

        return ClosedForm(f"{coef(nb, kb)} × C² / ({coef(na, ka)} × C²)", f"{nb * kb * kb}/{na * ka * ka}",
                          f"{nb * kb * kb}C² / {na * ka * ka}C² = {fraction_text(value)}", value, not s.bias)
    return None


def fraction_text(f: Fraction) -> str:
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"


# ---------------------------------------------------------------- the comparison


@dataclass
class RunCheck:
    """What the NumPy runner counted for one side, against the analyzer."""

    ran: bool
    note: str = ""  # why it did not run, when it did not
    params: int | None = None
    macs: int | None = None
    shapes_ok: bool | None = None
    params_ok: bool | None = None
    macs_ok: bool | None = None

    @property
    def ok(self) -> bool | None:
        if not self.ran:
            return None
        return bool(self.shapes_ok and self.params_ok and self.macs_ok)


@dataclass
class RFCheck:
    """The receptive field of a side's output measured by execution, against the computed one."""

    computed: tuple[int, int]
    jump: tuple[int, int]
    measured: tuple[int, int] | None = None
    measured_jump: tuple[int, int] | None = None
    probe_size: int | None = None  # the D_F the probe ran at
    note: str = ""

    @property
    def ok(self) -> bool | None:
        if self.measured is None:
            return None
        return self.measured == self.computed and (self.measured_jump in (None, self.jump))


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
        """The receptive field of the last layer with a spatial (H, W, C) output."""
        spatial = [n for n in self.graph.nodes if len(n.shape) == 3]
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
            "params_ratio_equals_closed_form": self.ratios["params"].equal if self.closed and self.closed.params_exact else None,
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
    except SpecError as err:
        if err.file == name and "no such file" in err.message:
            bundled = sorted(p.stem for p in bundled_dir().glob("*.json"))
            hint = suggest(name, list(BLOCKS) + bundled)
            raise SpecError(
                f"not a built-in block, a spec file or a bundled spec.{hint} Blocks: {', '.join(BLOCKS)} "
                f"(see flopcount compare --list). Received: {name}"
            ) from None
        raise
    return Side(name, "spec", graph.spec.description, graph)


def compare(a: str, b: str, sizes: Sizes | None = None) -> Comparison:
    """Count both sides with the analyzer and compare them exactly; nothing is executed."""
    sizes = (sizes or Sizes()).checked()
    side_a, side_b = load_side(a, sizes), load_side(b, sizes)
    both_blocks = side_a.kind == side_b.kind == "block"
    closed = closed_form(a, b, sizes) if both_blocks else None
    ratios = {
        metric: Ratio(metric, _ratio(getattr(side_a, metric), getattr(side_b, metric)),
                      closed.value if closed and (metric == "macs" or closed.params_exact) else None)
        for metric in ("params", "macs", "flops")
    }
    cmp = Comparison(side_a, side_b, sizes, closed, ratios)
    if side_a.kind == side_b.kind == "spec":
        names_b = {n.name: n for n in side_b.graph.nodes}
        cmp.layers = [LayerPair(n.name, n, names_b[n.name]) for n in side_a.graph.nodes if n.name in names_b]
    elif not both_blocks and _sizes_given(sizes):
        cmp.notes.append("The size options apply to the built-in blocks only; a spec keeps its own shapes.")
    if a in STACK_WEIGHTS and b in STACK_WEIGHTS and sizes.stride > 1 and side_a.receptive_field != side_b.receptive_field:
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


# ---------------------------------------------------------------- execution


def run_sides(cmp: Comparison, *, seed: int = 0, verify_rf: bool = True, max_memory: int = 4 * 2**30) -> Comparison:
    """Execute both sides with the NumPy runner and record what it counted.

    A side the runner refuses (its memory estimate is over the limit) gets a note
    instead of figures; the analysis stands either way.
    """
    from . import runner

    for side in (cmp.a, cmp.b):
        peak, node = runner.estimate_peak(side.graph)
        if peak > max_memory:
            side.run = RunCheck(
                False,
                f"running it would need about {runner.fmt_bytes(peak)} at its peak (layer '{node.name}'), over "
                f"the runner's limit of {runner.fmt_bytes(max_memory)}; the analysis above stands. "
                + ("Lower --DF or the channels to run it." if side.kind == "block" else ""),
            )
            continue
        try:
            result = runner.run_graph(side.graph, seed=seed, max_memory=max_memory)
        except FlopcountError as err:
            side.run = RunCheck(False, str(err))
            continue
        side.run = _run_check(side.graph, result)
        if verify_rf and side.kind == "block":
            side.rf_check = _block_rf_check(side, seed, max_memory)
    return cmp


def _run_check(graph: Graph, result) -> RunCheck:
    """Totals of what the runner read and metered, checked against the analyzer's."""
    params = sum(r.params for r in result.layers)
    macs = sum(r.macs for r in result.layers)
    return RunCheck(
        True,
        params=params,
        macs=macs,
        shapes_ok=all(r.shape_ok for r in result.layers),
        params_ok=params == graph.totals.params and all(r.params_ok for r in result.layers),
        macs_ok=macs == graph.totals.macs and all(r.macs_ok for r in result.layers),
    )


def _block_rf_check(side: Side, seed: int, max_memory: int) -> RFCheck:
    """Measure the block's receptive field by execution on a small input of the same block."""
    from .receptive import measure_receptive_fields, probe_size

    node = side.output
    check = RFCheck(computed=tuple(node.rf), jump=tuple(node.jump))
    if len(node.shape) != 3:
        check.note = "the output is not spatial"
        return check
    # the block's receptive field does not depend on D_F, so probe it on an input just large enough
    size = probe_size(node.rf, node.jump)
    small = replace(side.sizes, DF=size)
    try:
        graph, _, _ = BLOCKS[side.label].build(small)
        last = len(graph.nodes) - 1
        measured = measure_receptive_fields(graph, [last], seed=seed, max_memory=max_memory)[last]
    except FlopcountError as err:
        check.note = f"not measured: {err}"
        return check
    check.probe_size = size
    if measured.clipped:  # pragma: no cover - probe_size leaves room on every side
        check.note = f"not measured: the {size}×{size} probe input is smaller than the receptive field"
        return check
    check.measured, check.measured_jump = measured.rf, measured.jump
    return check


# ---------------------------------------------------------------- data for scripts


def comparison_dict(cmp: Comparison) -> dict:
    """Every figure, both formulas, the ratios and the verdicts, as JSON-ready data."""
    s = cmp.sizes
    return {
        "a": _side_dict(cmp.a),
        "b": _side_dict(cmp.b),
        "sizes": {"M": s.M, "N": s.N, "DK": s.DK, "DF": s.DF, "DG": s.DG, "stride": s.stride, "C": s.C, "t": s.t,
                  "bias": s.bias},
        "ratios": {k: _ratio_dict(r) for k, r in cmp.ratios.items()},
        "closed_form": None if cmp.closed is None else {
            "text": cmp.closed.text,
            "combined": cmp.closed.combined,
            "substituted": cmp.closed.substituted,
            "fraction": fraction_text(cmp.closed.value),
            "decimal": plain(cmp.closed.value),
            "holds_for": ["macs", "params"] if cmp.closed.params_exact else ["macs"],
        },
        "layers": [
            {"name": p.name, "a": {"params": p.a.params, "macs": p.a.macs}, "b": {"params": p.b.params, "macs": p.b.macs}}
            for p in cmp.layers
        ],
        "notes": list(cmp.notes),
        "verdicts": cmp.verdicts,
        "ok": cmp.ok,
    }


def _formula_dict(f: Formula | None, counted: int) -> dict | None:
    if f is None:
        return None
    return {"symbols": f.symbols(), "numbers": f.numbers(), "value": f.value, "compact": f.compact or None,
            "equals_count": f.value == counted}


def _side_dict(side: Side) -> dict:
    t = side.graph.totals
    run = side.run
    rf = side.rf_check
    return {
        "name": side.label,
        "kind": side.kind,
        "description": side.description,
        **t.as_dict(),
        "output_shape": list(side.output.shape),
        "receptive_field": list(side.receptive_field),
        "jump": list(side.output.jump),
        "formulas": {"params": _formula_dict(side.params_formula, t.params),
                     "macs": _formula_dict(side.macs_formula, t.macs)},
        "run": None if run is None else {
            "ran": run.ran, "note": run.note or None, "params": run.params, "macs": run.macs,
            "shapes_ok": run.shapes_ok, "params_ok": run.params_ok, "macs_ok": run.macs_ok, "ok": run.ok,
        },
        "receptive_field_check": None if rf is None else {
            "computed": list(rf.computed), "jump": list(rf.jump),
            "measured": list(rf.measured) if rf.measured else None,
            "measured_jump": list(rf.measured_jump) if rf.measured_jump else None,
            "probe_size": rf.probe_size, "note": rf.note or None, "ok": rf.ok,
        },
    }


def _ratio_dict(r: Ratio) -> dict:
    saving = r.saving
    return {
        "fraction": None if r.value is None else fraction_text(r.value),
        "decimal": None if r.value is None else plain(r.value),
        "closed_form": None if r.closed is None else fraction_text(r.closed),
        "equals_closed_form": r.equal,
        "cheaper": None if saving is None else saving[0].lower(),
        "saving": None if saving is None else fraction_text(saving[1]),
    }
