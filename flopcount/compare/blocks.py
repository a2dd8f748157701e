"""The built-in blocks: each a small spec from the sizes, with its parameter and MAC formulas.

A block is registered by ``@block(name, description)`` on the function that builds it from
the sizes M (input channels), N (output channels), D_K (kernel), D_F (input height and
width), the stride, C (channels of the C -> C stacks) and t (MobileNetV2's expansion).
Every block pads 'same', so the output side is D_G = ceil(D_F / stride).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..errors import ShapeError, SpecError
from ..graph import Graph, build_graph
from ..layers import MAX_INTEGER
from ..spec import parse_spec
from .formulas import Factor, Formula, formula

# ---------------------------------------------------------------- sizes


@dataclass(frozen=True)
class Sizes:
    """The block sizes (compare's options M, N, DK, DF, stride, C, t, bias); None where not given."""

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

    def checked(self) -> Sizes:
        """Refuse sizes that are not integers from 1 to 10^15, the largest a spec takes."""
        for name in ("M", "N", "DK", "DF", "stride", "C", "t"):
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SpecError.about(
                    name, "{option} must be a positive integer. Received: {name}={value}", name=name, value=repr(value)
                )
            if value > MAX_INTEGER:
                raise SpecError.about(
                    name,
                    "{option} must be at most 10^15 ({limit}). Received: {name}={value}",
                    name=name,
                    limit=f"{MAX_INTEGER:,}",
                    value=repr(value),
                )
        return self


def _channels(block: str, s: Sizes) -> tuple[int, int]:
    """M and N for an M -> N block; each falls back to C."""
    m = s.M if s.M is not None else s.C
    n = s.N if s.N is not None else s.C
    for name, value, what in (("M", m, "input"), ("N", n, "output")):
        if value is None:
            raise SpecError.about(
                name,
                "block '{block}' needs {option}, its number of {what} channels. Received: {name}=None",
                block=block,
                what=what,
                name=name,
            )
    return m, n


def _square(block: str, s: Sizes) -> int:
    """C for a C -> C block: C, or M and N when they are equal."""
    if s.C is not None:
        return s.C
    if s.M is not None and (s.N is None or s.N == s.M):
        return s.M
    if s.N is not None and s.M is None:
        return s.N
    if s.M is None:
        raise SpecError.about(
            "C",
            "block '{block}' maps C -> C channels and needs {C} (or {M} equal to {N}). Received: C=None",
            block=block,
        )
    raise SpecError.about(
        "C",
        "block '{block}' maps C -> C channels; give {C}, or {M} equal to {N}. Received: M={m}, N={n}",
        block=block,
        m=s.M,
        n=s.N,
    )


def _fits(block: str, kernel: int, s: Sizes, option: str | None = None) -> None:
    """Refuse a kernel larger than the input; option names the size that set the kernel, if one did."""
    if kernel > s.DF:
        received = f"{option}={kernel}, DF={s.DF}" if option else f"DF={s.DF}"
        raise ShapeError.about(
            option or "DF",
            "block '{block}': its {k}×{k} kernel is larger than the {df}×{df} input. Received: {received}",
            block=block,
            k=kernel,
            df=s.DF,
            received=received,
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
    return {
        "type": "conv2d",
        "filters": filters,
        "kernel": kernel,
        "stride": stride,
        "padding": "same",
        "bias": s.bias,
        **extra,
    }


def _dw(kernel, s: Sizes, stride=1, **extra) -> dict:
    return {"type": "depthwise_conv2d", "kernel": kernel, "stride": stride, "padding": "same", "bias": s.bias, **extra}


def _bn(name: str) -> dict:
    return {"type": "batch_norm", "name": name}


def _act(fn: str, name: str | None = None) -> dict:
    return {"type": "activation", "fn": fn, **({"name": name} if name else {})}


@block("standard", "One D_K×D_K convolution, M → N channels: the MobileNet paper's standard convolution.")
def _standard(s):
    m, n = _channels("standard", s)
    _fits("standard", s.DK, s, "DK")
    M, N, DK, DG = Factor("M", m), Factor("N", n), Factor("D_K", s.DK, 2), Factor("D_G", s.DG, 2)
    doc = _spec("standard", s, m, [_conv(n, s.DK, s, s.stride, name="conv")])
    params = formula((DK, M, N), s.bias and (N,))
    macs = formula((N, DG, DK, M))
    return doc, params, macs


@block(
    "depthwise",
    "Depthwise D_K×D_K on M channels, then a 1×1 pointwise convolution M → N: "
    "the MobileNet paper's depthwise-separable convolution.",
)
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


@block(
    "basic",
    "ResNet basic block: two D_K×D_K convolutions M → N → N with batch norm and ReLU, "
    "plus the shortcut (a 1×1 projection when stride or channels change).",
)
def _basic(s):
    m, n = _channels("basic", s)
    _fits("basic", s.DK, s, "DK")
    M, N, DK, DG = Factor("M", m), Factor("N", n), Factor("D_K", s.DK, 2), Factor("D_G", s.DG, 2)
    layers = [
        _conv(n, s.DK, s, s.stride, name="conv1"),
        _bn("bn1"),
        _act("relu"),
        _conv(n, s.DK, s, name="conv2"),
        _bn("bn2"),
    ]
    params = _conv_bn((DK, M, N), (N,), s) + _conv_bn((DK, N, N), (N,), s)
    macs = [(N, DG, DK, M), (N, DG, DK, N)]
    _residual_tail(m, n, s, "bn2", layers, params, macs, M, N, DG)
    return _spec("basic", s, m, layers), formula(*params), formula(*macs)


@block(
    "bottleneck",
    "ResNet bottleneck block: 1×1 M → N/4, D_K×D_K N/4 → N/4 (strided), 1×1 N/4 → N "
    "(expansion 4), batch norm and ReLU, plus the shortcut.",
)
def _bottleneck(s):
    m, n = _channels("bottleneck", s)
    if n % 4:
        raise SpecError.about(
            "N",
            "block 'bottleneck' has expansion 4: its output channels N must be divisible by 4 "
            "(the inner convolutions have N/4). Received: N={n}",
            n=n,
        )
    _fits("bottleneck", s.DK, s, "DK")
    M, N, W = Factor("M", m), Factor("N", n), Factor("N/4", n // 4)
    DK, DF, DG = Factor("D_K", s.DK, 2), Factor("D_F", s.DF, 2), Factor("D_G", s.DG, 2)
    layers = [
        _conv(n // 4, 1, s, name="conv1"),
        _bn("bn1"),
        _act("relu"),
        _conv(n // 4, s.DK, s, s.stride, name="conv2"),
        _bn("bn2"),
        _act("relu"),
        _conv(n, 1, s, name="conv3"),
        _bn("bn3"),
    ]
    params = _conv_bn((M, W), (W,), s) + _conv_bn((DK, W, W), (W,), s) + _conv_bn((W, N), (N,), s)
    macs = [(W, DF, M), (W, DG, DK, W), (N, DG, W)]
    _residual_tail(m, n, s, "bn3", layers, params, macs, M, N, DG)
    return _spec("bottleneck", s, m, layers), formula(*params), formula(*macs)


@block(
    "inverted_residual",
    "MobileNetV2 inverted residual: 1×1 expansion M → tM, depthwise D_K×D_K "
    "(strided), linear 1×1 projection tM → N, batch norm and ReLU6; identity shortcut when stride is 1 and M = N.",
)
def _inverted_residual(s):
    m, n = _channels("inverted_residual", s)
    _fits("inverted_residual", s.DK, s, "DK")
    M, N, T = Factor("M", m), Factor("N", n), Factor("t", s.t)
    DK, DF, DG = Factor("D_K", s.DK, 2), Factor("D_F", s.DF, 2), Factor("D_G", s.DG, 2)
    if s.t * m > MAX_INTEGER:
        raise SpecError.about(
            "t",
            "block 'inverted_residual' expands M to t × M = {tm} channels, more than 10^15, "
            "the largest a spec takes. Received: t={t}, M={m}",
            tm=f"{s.t * m:,}",
            t=s.t,
            m=m,
        )
    layers, params, macs = [], [], []
    if s.t != 1:  # MobileNetV2 leaves out the expansion when t = 1
        layers += [_conv(s.t * m, 1, s, name="expand"), _bn("expand_bn"), _act("relu6")]
        params += _conv_bn((T, M, M), (T, M), s)
        macs += [(T, M, DF, M)]
    layers += [
        _dw(s.DK, s, s.stride, name="depthwise"),
        _bn("depthwise_bn"),
        _act("relu6"),
        _conv(n, 1, s, name="project"),
        _bn("project_bn"),
    ]
    params += _conv_bn((DK, T, M), (T, M), s) + _conv_bn((T, M, N), (N,), s)
    macs += [(T, M, DG, DK), (N, DG, T, M)]
    if s.stride == 1 and m == n:
        layers.append({"type": "add", "name": "add", "inputs": ["input", "project_bn"]})
    return _spec("inverted_residual", s, m, layers), formula(*params), formula(*macs)


def list_blocks() -> list[tuple[str, str]]:
    """(name, one-line description) of every built-in block."""
    return [(b.name, b.description) for b in BLOCKS.values()]
