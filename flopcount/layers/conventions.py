"""How other tools count: each convention is a set of rules, one per layer type, read from the tool's source.

flopcount's own figures are ``macs`` and ``params`` (see the package docstring). Other tools
report other numbers for the same network, and each difference has a reason in their code:
fvcore counts batch norm, ptflops counts biases and activations (some twice), thop doubles
batch norm, torchinfo multiplies parameter counts, onnx-tool prices an exported graph whose
batch norms the exporter folded into the convolutions. A convention reproduces one tool's
figure and parameter count from the spec, layer by layer.

A rule takes a graph node (its layer, input and output shapes, own figures, and ``torch``:
how the PyTorch model computes it when not with the usual module) and the graph's
:class:`Context`, and returns a :class:`Count`: the tool's figure for that layer, its
parameter count and the rule in words. Every convention lists every registered layer
type: a rule, an explicit zero with the tool's reason (it ignores the operator, has no
handler and warns, or never sees it), or :func:`no_rule` with the reason the figure is
unknown, which is an error naming both when applied. Elements are counted at batch 1.

Versions are those the rules were read from and checked against (tests/test_conventions.py
pins every figure of their output for five torchvision models).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from math import prod

from ..errors import FlopcountError


class ConventionError(FlopcountError):
    """A convention that cannot count a layer: no rule for its type, or no such convention."""


@dataclass(frozen=True)
class Count:
    """One layer under a convention: the tool's figure, the parameters it counts, the rule that gave them."""

    macs: int
    params: int
    rule: str


@dataclass(frozen=True)
class Context:
    """What a rule may need beyond its node: the nodes feeding it and how many layers read each node."""

    nodes: list
    readers: dict  # node index -> number of layers reading its output

    @classmethod
    def of(cls, nodes) -> Context:
        readers = {n.index: 0 for n in nodes}
        for n in nodes:
            for i in n.inputs:
                readers[i] += 1
        return cls(list(nodes), readers)

    def producer(self, n):
        """The node whose output is n's first input, or None for a source."""
        return self.nodes[n.inputs[0]] if n.inputs else None


Rule = Callable[..., "Count | tuple[int, str]"]


@dataclass(frozen=True)
class Convention:
    """One tool's way of counting: what its number is, which parameters it counts, a rule per layer type."""

    name: str
    tool: str  # the tool and the version the rules were read from
    figure: str  # what its number is
    call: str  # how the tool was called for the figures the rules reproduce
    params: str  # "trainable" (torchvision's count) or "total" (with batch norm's statistics, as Keras)
    rules: dict = field(default_factory=dict)  # layer type -> rule; empty: every type by the generic rule
    generic: Rule | None = None

    def default_params(self, n) -> int:
        return n.params if self.params == "total" else n.trainable

    def rule(self, type_name: str) -> Rule:
        if self.generic is not None:
            return self.generic
        if type_name not in self.rules:
            raise ConventionError(f"no rule for layer type '{type_name}'.")
        return self.rules[type_name]

    def count(self, n, ctx: Context) -> Count:
        """n's figure and parameters under this convention; ConventionError (located at n) if there is no rule."""
        try:
            got = self.rule(n.type)(n, ctx)
        except ConventionError as err:
            raise err.located(context=f"convention '{self.name}'", layer=n.index, name=n.name)
        if isinstance(got, Count):
            return got
        figure, why = got
        return Count(figure, self.default_params(n), why)


def no_rule(reason: str) -> Rule:
    """A type whose figure under this tool is not known: an error naming the convention, the type and reason."""

    def rule(n, ctx):
        raise ConventionError(f"no rule for layer type '{n.type}': {reason}")

    rule.reason = reason
    return rule


def zero(reason: str, params: bool = True) -> Rule:
    """The tool counts nothing for this type, for the reason given (params=False: not its parameters either)."""

    def rule(n, ctx):
        return (0, reason) if params else Count(0, 0, reason)

    return rule


# ---------------------------------------------------------------- shapes and facts rules share


def elements(shape) -> int:
    return prod(shape)


def out_elements(n) -> int:
    return prod(n.shape)


def in_elements(n) -> int:
    return prod(n.in_shapes[0])


def has_bias(n) -> bool:
    return bool(getattr(n.layer, "bias", False))


def bias_adds(n) -> int:
    """One add per output element for a layer with a bias."""
    return out_elements(n) if has_bias(n) else 0


def own(why: str) -> Rule:
    """The layer's own MACs."""
    return lambda n, ctx: (n.macs, why)


def with_bias(why: str) -> Rule:
    """The layer's MACs and one add per output element for its bias."""
    return lambda n, ctx: (n.macs + bias_adds(n), why)


def how(n) -> str:
    """How the PyTorch model computes n: 'module' (the usual one), 'function', or 'other' (another module class)."""
    if n.torch is None:
        return "module"
    return "function" if n.torch == "function" else "other"


def positions(n) -> int:
    """Output positions: the output's elements over its channels."""
    return prod(n.shape[:-1])


CONVOLUTIONS = ("conv1d", "conv2d", "conv3d", "depthwise_conv1d", "depthwise_conv2d", "depthwise_conv3d")
TRANSPOSED = ("conv1d_transpose", "conv2d_transpose", "conv3d_transpose")
UPSAMPLES = ("upsample", "upsample1d", "upsample3d")
POOLS = ("max_pool", "max_pool1d", "max_pool3d", "avg_pool", "avg_pool1d", "avg_pool3d")
RECURRENT = ("simple_rnn", "lstm", "gru")
# types that only move, copy or pick values: no arithmetic at all in any of the tools below
MOVES = (
    "input",
    "flatten",
    "dropout",
    "zero_pad",
    "zero_pad1d",
    "zero_pad3d",
    "split",
    "channel_shuffle",
    "crop",
    "crop1d",
    "crop3d",
    "pixel_shuffle",
    "concat",
    "reshape",
    "transpose",
    "slice",
    "select",
    "parameter",
)
KERAS_ONLY = no_rule("a Keras preprocessing layer; the PyTorch tools never see one")


def linear_mode(n) -> bool:
    """An upsample that interpolates (PyTorch's linear, bilinear or trilinear by rank) rather than copies."""
    return n.layer.mode != "nearest"


def transposed_per_output(n) -> int:
    """A transposed convolution's products counted per output element: output x C_in / groups x taps (thop's formula)."""
    return out_elements(n) * (n.in_shapes[0][-1] // n.layer.groups) * prod(n.layer.kernel)


def mha_sizes(n):
    """(lq, lk, d, d_kv, heads) of an attention layer that torch.nn.MultiheadAttention computes, else ConventionError."""
    layer = n.layer
    s = layer.sizes(n.in_shapes)
    if layer.kv_heads != layer.heads or s.dh * layer.heads != s.d or s.units != s.d or layer.cache or layer.rotary:
        raise ConventionError(
            "the convention reads attention as torch.nn.MultiheadAttention, which has no grouped keys, other head "
            "or output widths, cache or rotary embedding."
        )
    return s.lq, s.lk, s.d, s.d_kv, layer.heads


def attention_products(n) -> int:
    """The MACs of QK^T and AV, which tools that see only the projections leave out."""
    s = n.layer.sizes(n.in_shapes)
    return 2 * n.layer.heads * s.lq * (n.layer.cache + s.lk) * s.dh


# ---------------------------------------------------------------- flopcount, torchvision, Keras: the layers' own figures

FLOPCOUNT = Convention(
    "flopcount",
    "flopcount",
    "multiply-accumulates of convolutions, dense layers, matmul and attention",
    "flopcount analyze SPEC",
    "total",
    generic=lambda n, ctx: (n.macs, "MACs"),
)

TORCHVISION = Convention(
    "torchvision",
    "torchvision's model documentation (GFLOPS)",
    "the same multiply-adds (the docs' GFLOPS are these MACs, counted by torch.utils.flop_counter and halved)",
    "the weights' documented meta: _ops (GFLOPS) and num_params",
    "trainable",
    generic=lambda n, ctx: (n.macs, "MACs"),
)

KERAS = Convention(
    "keras",
    "Keras (model.summary(); FLOPs as TensorFlow's profiler states them)",
    "FLOPs = 2 x MACs",
    "model.count_params() (batch norm's moving statistics included)",
    "total",
    generic=lambda n, ctx: (2 * n.macs, "2 x MACs"),
)


# ---------------------------------------------------------------- fvcore


def _fvcore_norm(affine_attr):
    def rule(n, ctx):
        affine = getattr(n.layer, affine_attr)
        return in_elements(n) * (5 if affine else 4), "5 per element with affine, 4 without (fvcore's estimate)"

    return rule


def _fvcore_activation(n, ctx):
    fn = n.layer.fn
    if fn == "relu":
        return 0, "aten::relu is on fvcore's ignored list"
    if fn == "linear":
        return 0, "no operator (the identity)"
    op = {
        "relu6": "hardtanh",
        "swish": "silu",
        "hard_sigmoid": "hardsigmoid",
        "hard_swish": "hardswish",
        "gelu_tanh": "gelu",
    }.get(fn, fn)
    return 0, f"aten::{op} has no handler: fvcore warns and counts 0"


def _fvcore_attention(n, ctx):
    mha_sizes(n)
    return n.macs - attention_products(n), (
        "projections only (aten::linear, no bias): aten::scaled_dot_product_attention has no handler"
    )


def _unsupported(op):
    return zero(f"aten::{op} has no handler: fvcore warns and counts 0")


def _ignored(op):
    return zero(f"aten::{op} is on fvcore's ignored list")


FVCORE = Convention(
    "fvcore",
    "fvcore 0.1.5.post20221221",
    "flops, one fused multiply-add counted as one",
    "FlopCountAnalysis(model, x).total() on torch.jit's trace",
    "trainable",
    rules={
        **{t: own("aten::_convolution: multiply-adds, bias not counted") for t in CONVOLUTIONS},
        "dense": own("aten::linear: multiply-adds, bias not counted"),
        "matmul": own("aten::matmul: multiply-adds"),
        **{
            t: own("aten::_convolution, transposed: input positions x weight elements, bias not counted")
            for t in TRANSPOSED
        },
        "upsample": lambda n, ctx: (
            (4 * out_elements(n), "aten::upsample_bilinear2d: 4 per output element")
            if linear_mode(n)
            else (out_elements(n), "aten::upsample_nearest2d: 1 per output element")
        ),
        "upsample1d": zero("aten::upsample_nearest1d / upsample_linear1d have no handler: fvcore warns and counts 0"),
        "upsample3d": zero(
            "aten::upsample_nearest3d / upsample_trilinear3d have no handler: fvcore warns and counts 0"
        ),
        "attention": _fvcore_attention,
        "batch_norm": lambda n, ctx: (
            (in_elements(n) * 2, "aten::batch_norm in eval: 2 per element (affine)")
            if n.layer.scale
            else (in_elements(n), "aten::batch_norm in eval: 1 per element (no affine)")
        ),
        "group_norm": _fvcore_norm("affine"),
        "instance_norm": _fvcore_norm("affine"),
        "layer_norm": _fvcore_norm("scale"),
        "rms_norm": _unsupported("rms_norm"),
        "activation": _fvcore_activation,
        "softmax": _unsupported("softmax"),
        **{t: _unsupported(t if t.endswith("d") else t + "2d") for t in POOLS},
        "adaptive_avg_pool": lambda n, ctx: (in_elements(n), "aten::adaptive_avg_pool2d: 1 per input element"),
        "global_avg_pool": _unsupported("mean"),
        "mean": _unsupported("mean"),
        "global_max_pool": _unsupported("adaptive_max_pool2d"),
        "add": _unsupported("add"),
        "multiply": _unsupported("mul"),
        "subtract": _unsupported("sub"),
        "divide": _unsupported("div"),
        "embedding": _unsupported("embedding"),
        "pixel_shuffle": _unsupported("pixel_shuffle"),
        "simple_rnn": _unsupported("rnn_tanh"),
        "lstm": _unsupported("lstm"),
        "gru": _unsupported("gru"),
        "concat": _ignored("cat"),
        "flatten": _ignored("flatten"),
        "dropout": _ignored("dropout"),
        "zero_pad": _ignored("constant_pad_nd"),
        "zero_pad1d": _ignored("constant_pad_nd"),
        "zero_pad3d": _ignored("constant_pad_nd"),
        "split": _ignored("split"),
        "slice": _ignored("slice"),
        "crop": _ignored("slice"),
        "crop1d": _ignored("slice"),
        "crop3d": _ignored("slice"),
        "select": _ignored("select"),
        "reshape": _ignored("reshape"),
        "transpose": _ignored("permute"),
        "channel_shuffle": zero("view and transpose, on fvcore's ignored list"),
        "parameter": zero("reading a parameter is no operator"),
        "input": zero("the input"),
        "rescale": KERAS_ONLY,
        "normalize": KERAS_ONLY,
    },
)


# ---------------------------------------------------------------- ptflops, backend='pytorch'

# per activation: (ptflops hooks the module, the function the module calls is patched, that function's name)
_PTFLOPS_ACTIVATIONS = {
    "relu": (True, True, "F.relu"),
    "relu6": (True, False, "F.hardtanh"),  # nn.ReLU6 is a Hardtanh; F.relu6 itself is patched
    "leaky_relu": (True, False, "F.leaky_relu"),
    "elu": (True, True, "F.elu"),
    "gelu": (True, True, "F.gelu"),
    "gelu_tanh": (True, True, "F.gelu"),
    "swish": (False, True, "F.silu"),
    "silu": (False, True, "F.silu"),
    "sigmoid": (False, False, "torch.sigmoid"),
    "tanh": (False, False, "torch.tanh"),
    "hard_sigmoid": (False, False, "F.hardsigmoid"),
    "hard_swish": (False, False, "F.hardswish"),
    "linear": (False, False, "nothing (nn.Identity)"),
}


def activation_rule(table: dict, fn: str):
    """An activation's entry in a tool's table, or ConventionError for a function the table lacks."""
    if fn not in table:
        raise ConventionError(f"no rule for the activation function '{fn}' yet.")
    return table[fn]


def _ptflops_activation(n, ctx):
    hooked, patched, fn = activation_rule(_PTFLOPS_ACTIVATIONS, n.layer.fn)
    if how(n) != "module":
        patched = patched or n.layer.fn == "relu6"  # F.relu6 is patched, though nn.ReLU6 calls F.hardtanh
        hooked = False
    times = hooked + patched
    if times == 2:
        why = f"module hook and the patched {fn} it calls: 2 per element"
    elif hooked:
        why = f"module hook: 1 per element ({fn} is not patched)"
    elif patched:
        why = "patched function: 1 per element"
    else:
        why = f"not hooked, and {fn} is not patched"
    return times * out_elements(n), why


def _ptflops_module(figure, why):
    """A rule that counts only when the usual module computes the layer (ptflops hooks modules by exact type)."""

    def rule(n, ctx):
        if how(n) != "module":
            return 0, "not hooked (ptflops hooks its table's module types exactly) and not a patched function"
        return figure(n), why

    return rule


def _ptflops_upsample(n, ctx):
    # upsample_flops_counter_hook: output elements; the patched F.interpolate it calls: size x N x C, or
    # input elements x scale per axis, which is the output for whole scales
    if n.layer.scale is not None and any(s.denominator != 1 for s in n.layer.scale):
        raise ConventionError("ptflops multiplies a fractional scale in floating point; only whole scales have a rule.")
    if how(n) == "module":
        return 2 * out_elements(n), "nn.Upsample hook and the patched F.interpolate it calls: 2 per output element"
    return out_elements(n), "patched F.interpolate: 1 per output element"


def _ptflops_pool(n, ctx):
    if how(n) == "module":
        return 2 * in_elements(n), "module hook and the patched F.*pool* it calls: 2 per input element"
    return in_elements(n), "patched F.*pool* function: 1 per input element"


def _ptflops_attention(n, ctx):
    # multihead_attention_counter_hook, batch 1, need_weights=False (torchvision's ViT)
    lq, lk, d, d_kv, heads = mha_sizes(n)
    qdim, kdim, vdim = d, d_kv, d_kv
    flops = lq * qdim + lq * qdim * qdim + lk * kdim * kdim + lk * vdim * vdim
    if n.layer.bias:
        flops += (lq + 2 * lk) * qdim
    flops += heads * (lq * lk * (qdim // heads) + lq * lk + lq * lk * (vdim // heads))
    flops += lq * vdim * (vdim + 1)  # "bias is always enabled"
    return flops, "nn.MultiheadAttention hook: projections, query scaling, biases (output bias always), softmax"


# per cell: extra ops per unit and step besides the products and biases (rnn_flops)
_PTFLOPS_CELL = {"simple_rnn": 1, "gru": 7, "lstm": 10}


def _ptflops_recurrent(n, ctx):
    layer = n.layer
    steps, d = n.in_shapes[0]
    g, h = layer.gates, layer.units
    per_step = g * h * (d + h) + _PTFLOPS_CELL[n.type] * h + layer.biases * g * h
    return len(layer.directions()) * steps * per_step, "RNN hook: products, the cell's adds and products, biases"


PTFLOPS = Convention(
    "ptflops",
    "ptflops 0.7.5 (backend='pytorch')",
    "MACs: module hooks plus patched torch.nn.functional calls",
    "get_model_complexity_info(model, (3, 224, 224), as_strings=False, backend='pytorch')",
    "trainable",
    rules={
        **{
            t: _ptflops_module(
                lambda n: n.macs + bias_adds(n), "module hook: multiply-adds + 1 per output element for a bias"
            )
            for t in CONVOLUTIONS
        },
        "dense": _ptflops_module(
            lambda n: n.macs + bias_adds(n), "nn.Linear hook: multiply-adds + 1 per output element for a bias"
        ),
        **{
            t: _ptflops_module(
                lambda n: n.macs + bias_adds(n),
                "module hook (transpose=True): input positions x "
                "taps x C_in x C_out / groups + 1 per output element for a bias",
            )
            for t in TRANSPOSED
        },
        **{t: _ptflops_upsample for t in UPSAMPLES},
        "matmul": own("patched torch.matmul: multiply-adds (the @ operator is not patched)"),
        "attention": _ptflops_attention,
        "batch_norm": _ptflops_module(
            lambda n: in_elements(n) * (2 if n.layer.scale else 1), "module hook: 2 per element with affine, 1 without"
        ),
        "group_norm": _ptflops_module(
            lambda n: in_elements(n) * (2 if n.layer.affine else 1), "module hook: 2 per element with affine, 1 without"
        ),
        "instance_norm": _ptflops_module(
            lambda n: in_elements(n) * (2 if n.layer.affine else 1), "module hook: 2 per element with affine, 1 without"
        ),
        "layer_norm": _ptflops_module(in_elements, "module hook: 1 per element (nn.LayerNorm has no 'affine')"),
        "rms_norm": zero("nn.RMSNorm is not in its table and F.rms_norm is not patched"),
        "activation": _ptflops_activation,
        "softmax": lambda n, ctx: (out_elements(n), "patched F.softmax: 1 per element"),
        **{t: _ptflops_pool for t in POOLS},
        "adaptive_avg_pool": _ptflops_pool,
        "global_max_pool": _ptflops_pool,
        "global_avg_pool": zero("a mean over positions: torch.mean is not patched"),
        "mean": zero("torch.mean is not patched"),
        "add": zero("Python's + is not patched (torch.add would be)"),
        "multiply": zero("Python's * is not patched (torch.mul would be)"),
        "subtract": zero("Python's - is not patched (torch.sub would be)"),
        "divide": zero("Python's / is not patched (torch.div would be)"),
        "embedding": zero("nn.Embedding is not in its table"),
        **{t: _ptflops_recurrent for t in RECURRENT},
        **{t: zero("moves values: not in its table, nothing patched") for t in MOVES},
        "rescale": KERAS_ONLY,
        "normalize": KERAS_ONLY,
    },
)


# ---------------------------------------------------------------- ptflops, backend='aten'


def _aten_zero(n, ctx):
    return 0, "no aten.mm, addmm, bmm or convolution: a zero-op for this backend"


PTFLOPS_ATEN = Convention(
    "ptflops-aten",
    "ptflops 0.7.5 (backend='aten')",
    "MACs of aten.mm, matmul, addmm, bmm and convolution",
    "get_model_complexity_info(model, (3, 224, 224), as_strings=False, backend='aten')",
    "trainable",
    rules={
        **{t: with_bias("aten.convolution: multiply-adds + 1 per output element for a bias") for t in CONVOLUTIONS},
        # at::linear is aten.addmm (bias counted) for 2-D and contiguous inputs, which the spec's layers are
        "dense": with_bias("aten.addmm (aten.mm without a bias): multiply-adds + 1 per output element for a bias"),
        **{
            t: with_bias(
                "aten.convolution, transposed: input positions x weight elements + 1 per output element for a bias"
            )
            for t in TRANSPOSED
        },
        "matmul": own("aten.mm / aten.bmm: multiply-adds"),
        "attention": no_rule(
            "which aten operators torch.nn.MultiheadAttention dispatches to (fused attention, "
            "addmm or mm) depends on the PyTorch build"
        ),
        **{
            t: no_rule("PyTorch's CPU recurrent kernels decompose into products this backend may see")
            for t in RECURRENT
        },
        **{
            t: _aten_zero
            for t in (
                "batch_norm",
                "group_norm",
                "instance_norm",
                "layer_norm",
                "rms_norm",
                "activation",
                "softmax",
                *POOLS,
                "adaptive_avg_pool",
                "global_avg_pool",
                "mean",
                "global_max_pool",
                "add",
                "multiply",
                "embedding",
                "subtract",
                "divide",
                *UPSAMPLES,
                *MOVES,
            )
        },
        "rescale": KERAS_ONLY,
        "normalize": KERAS_ONLY,
    },
)


# ---------------------------------------------------------------- thop


def _thop_module(figure, why):
    """Counted only for a registered module type (thop looks up type(m) exactly); parameters likewise."""

    def rule(n, ctx):
        if how(n) != "module":
            return Count(0, 0, "not a registered module: nothing counted, its parameters neither")
        return Count(figure(n), n.trainable, why)

    return rule


def _thop_upsample(n):
    # calculate_upsample by PyTorch's mode: linear modes are named by rank; 'trilinear' falls outside
    # count_upsample's list, which warns and counts 0
    if not linear_mode(n):
        return out_elements(n)
    return out_elements(n) * {1: 5, 2: 11, 3: 0}[n.layer.rank]


def _thop_softmax(n):
    c = n.shape[-1]
    return out_elements(n) // c * (3 * c - 1)


def _thop_adaptive_avg_pool(n):
    # count_adap_avgpool in float64, as thop computes it: (prod(in / out) + 1) x output elements, truncated
    kernel = 1.0
    for i, o in zip(n.in_shapes[0][:-1], n.shape[:-1]):
        kernel *= float(i) / float(o)
    return int((kernel + 1) * out_elements(n))


# per cell: (ops per gate and unit besides the products, without and with bias; ops per unit after the gates)
def _thop_recurrent(n, ctx):
    layer = n.layer
    steps, d = n.in_shapes[0]
    g, h = layer.gates, layer.units
    bias = 2 * h if layer.biases else 0  # _count_*_cell: 2 hidden_size per gate for b_ih and b_hh
    per_gate = (d + h) * h + h + bias
    after = {"simple_rnn": 0, "gru": 4 * h, "lstm": 4 * h}[n.type]
    return len(layer.directions()) * steps * (g * per_gate + after), "count_rnn / gru / lstm: products, adds, biases"


THOP = Convention(
    "thop",
    "thop 0.1.1-2209072238",
    "MACs of registered module types",
    "profile(model, inputs=(x,))",
    "trainable",
    rules={
        **{t: _thop_module(lambda n: n.macs, "count_convNd: multiply-adds, bias not counted") for t in CONVOLUTIONS},
        **{
            t: _thop_module(
                transposed_per_output, "count_convNd: output elements x C_in / groups x taps, bias not counted"
            )
            for t in TRANSPOSED
        },
        **{
            t: _thop_module(
                _thop_upsample,
                "count_upsample: per output element, 1 nearest, 5 linear, 11 bilinear, 0 trilinear (not implemented)",
            )
            for t in UPSAMPLES
        },
        "dense": _thop_module(lambda n: n.macs, "count_linear: multiply-adds, bias not counted"),
        "matmul": zero("not a module: thop sees only modules"),
        "attention": zero(
            "nn.MultiheadAttention is not registered and its out_proj is not an nn.Linear: nothing "
            "counted, its parameters neither",
            params=False,
        ),
        "batch_norm": _thop_module(
            lambda n: 2 * in_elements(n) * (2 if n.layer.scale else 1),
            "count_normalization: 2 per element, doubled for affine",
        ),
        "instance_norm": _thop_module(
            lambda n: 2 * in_elements(n) * (2 if n.layer.affine else 1),
            "count_normalization: 2 per element, doubled for affine",
        ),
        "layer_norm": _thop_module(
            lambda n: 2 * in_elements(n) * (2 if n.layer.scale else 1),
            "count_normalization: 2 per element, doubled for elementwise_affine",
        ),
        "group_norm": zero("nn.GroupNorm is not registered: nothing counted, its parameters neither", params=False),
        "rms_norm": zero("nn.RMSNorm is not registered: nothing counted, its parameters neither", params=False),
        "activation": _thop_module(lambda n: 0, "zero_ops or not registered: activations count 0"),
        "softmax": _thop_module(_thop_softmax, "count_softmax: 3 per element less 1 per row"),
        **{t: _thop_module(lambda n: 0, "zero_ops") for t in POOLS if t.startswith("max")},
        **{t: _thop_module(out_elements, "count_avgpool: 1 per output element") for t in POOLS if t.startswith("avg")},
        "adaptive_avg_pool": _thop_module(
            _thop_adaptive_avg_pool, "count_adap_avgpool: (input / output size + 1) per output element"
        ),
        "global_avg_pool": zero("a mean over positions, not a module"),
        "mean": zero("torch.mean, not a module"),
        "global_max_pool": _thop_module(lambda n: 0, "zero_ops"),
        "add": zero("Python's +, not a module"),
        "multiply": zero("Python's *, not a module"),
        "subtract": zero("Python's -, not a module"),
        "divide": zero("Python's /, not a module"),
        "embedding": zero("nn.Embedding is not registered: nothing counted, its parameters neither", params=False),
        "parameter": zero("held by an unregistered module: its parameters are not counted", params=False),
        **{t: _thop_recurrent for t in RECURRENT},
        **{t: zero("moves values: zero_ops or not a module") for t in MOVES if t != "parameter"},
        "rescale": KERAS_ONLY,
        "normalize": KERAS_ONLY,
    },
)


# ---------------------------------------------------------------- torchinfo


def _torchinfo_leaf(scale, why):
    """torchinfo's calculate_macs: a leaf module's parameters x scale(n); nothing for a function call."""

    def rule(n, ctx):
        if how(n) == "function":
            return 0, "a function call: torchinfo sees modules only"
        return n.trainable * scale(n), why

    return rule


def _torchinfo_conv(n, ctx):
    if how(n) == "function":
        return 0, "a function call: torchinfo sees modules only"
    if how(n) == "other" and "Conv" not in n.torch:
        return n.trainable, "parameters x batch (1): a class without 'Conv' in its name"
    return n.trainable * positions(n), "parameters (weight and bias) x output positions"


TORCHINFO = Convention(
    "torchinfo",
    "torchinfo 1.8.0",
    "mult-adds from each leaf module's parameters",
    "summary(model, input_size=(1, 3, 224, 224), verbose=0).total_mult_adds",
    "trainable",
    rules={
        **{t: _torchinfo_conv for t in CONVOLUTIONS + TRANSPOSED},
        **{
            t: _torchinfo_leaf(lambda n: 1, "parameters x batch (1): weight and bias once, whatever the other axes")
            for t in ("dense", "batch_norm", "group_norm", "instance_norm", "layer_norm", "rms_norm", "embedding")
        },
        **{
            t: _torchinfo_leaf(lambda n: n.in_shapes[0][0], "every weight and bias x sequence length x batch (1)")
            for t in RECURRENT
        },
        "attention": zero("nn.MultiheadAttention is not a leaf and its out_proj is never called: nothing counted"),
        "parameter": zero("a parameter of a container module: no mult-adds"),
        **{
            t: zero("no parameters: torchinfo counts mult-adds from parameters only")
            for t in (
                "matmul",
                "activation",
                "softmax",
                *POOLS,
                "adaptive_avg_pool",
                "global_avg_pool",
                "mean",
                "global_max_pool",
                "add",
                "multiply",
                "subtract",
                "divide",
                *UPSAMPLES,
                *(m for m in MOVES if m != "parameter"),
            )
        },
        "rescale": KERAS_ONLY,
        "normalize": KERAS_ONLY,
    },
)


# ---------------------------------------------------------------- onnx-tool, on torch.onnx.export's graph

# onnx-tool's per-element prices (node.py): MUL, ADD, CMP 1; DIV 4; EXP 32; SQRT 24; TANH = EXP + 2 ADD + DIV
EXP, DIV, SQRT = 32, 4, 24
TANH = EXP + 2 + DIV
# per activation: (price per element, the ONNX nodes torch.onnx.export (opset 17) writes)
_ONNX_ACTIVATIONS = {
    "relu": (1, "Relu"),
    "relu6": (2, "Clip: 2 comparisons"),
    "leaky_relu": (2, "LeakyRelu"),
    "elu": (1 + EXP + 1 + 1, "Elu"),
    "sigmoid": (EXP, "Sigmoid"),
    "hard_sigmoid": (4, "HardSigmoid"),
    "tanh": (2 * TANH, "Tanh (onnx-tool doubles it)"),
    "hard_swish": (5, "HardSwish"),
    "swish": (EXP + 1, "Sigmoid and Mul"),
    "silu": (EXP + 1, "Sigmoid and Mul"),
    "gelu": (DIV + 0 + 1 + 1 + 1, "Div, Erf (0), Add, Mul, Mul"),
    "linear": (0, "no node"),
}


def _onnx_activation(n, ctx):
    if n.layer.fn == "gelu_tanh":
        raise ConventionError("the exporter's tanh-approximate GELU graph is not read into a rule yet.")
    price, nodes = activation_rule(_ONNX_ACTIVATIONS, n.layer.fn)
    return price * out_elements(n), f"{nodes}: {price} per element"


def _onnx_conv_transpose(n, ctx):
    # ConvTranspose.profile: output elements x the weight's (C_out / groups, taps) volume, + the bias
    figure = out_elements(n) * (n.layer.filters // n.layer.groups) * prod(n.layer.kernel) + bias_adds(n)
    return figure, "ConvTranspose: output elements x C_out / groups x taps + 1 per output element for a bias"


def _folds_into(n, ctx):
    """The convolution torch.onnx.export folds this batch norm into (its only reader), or None."""
    conv = ctx.producer(n)
    if conv is not None and conv.type in CONVOLUTIONS and ctx.readers[conv.index] == 1:
        return conv
    return None


def _onnx_batch_norm(n, ctx):
    conv = _folds_into(n, ctx)
    c = n.shape[-1]
    if conv is None:
        price = 1 + SQRT + DIV + 1 + 1
        return Count(
            price * out_elements(n), n.params, f"BatchNormalization (not after a convolution): {price} per element"
        )
    if has_bias(conv):
        return Count(0, 0, "folded into the convolution, whose bias absorbs it")
    return Count(out_elements(n), c, "folded into the convolution: its new bias, 1 per element")


def _onnx_pool(n, ctx):
    # PoolBase.profile: output elements x kernel_shape[0] (x kernel_shape[1] for a 2-D kernel only)
    k = n.layer.pool
    return out_elements(n) * k[0] * (k[1] if len(k) == 2 else 1), "MaxPool / AveragePool: output x window"


def _onnx_adaptive_avg_pool(n, ctx):
    sizes_in, sizes_out = n.in_shapes[0][:-1], n.shape[:-1]
    if all(o == 1 for o in sizes_out):
        return in_elements(n) + DIV * out_elements(n), "GlobalAveragePool: 1 per input element, 4 per output"
    if any(i % o for i, o in zip(sizes_in, sizes_out)):
        raise ConventionError(
            "torch.onnx.export refuses adaptive average pooling to a size that does not divide the input."
        )
    window = prod(i // o for i, o in zip(sizes_in, sizes_out))
    return out_elements(n) * window, "AveragePool (window input / output): output x window"


def _onnx_layer_norm(n, ctx):
    vol = out_elements(n)
    rows = vol // prod(n.shape[-n.layer.axes :])
    return 7 * vol + (1 + SQRT + DIV) * rows, "LayerNormalization: 7 per element, 29 per normalised row"


def _onnx_group_norm(n, ctx):
    g = n.layer.groups
    c = n.shape[-1]
    params = 2 * g + (2 * c if n.layer.affine else 2)
    return Count(16 * out_elements(n), params, "Reshape, InstanceNormalization (7 x 2), Mul, Add: 16 per element")


def _onnx_recurrent(n, ctx):
    layer = n.layer
    if layer.biases != 2 or (n.type == "gru" and not layer.reset_after):
        raise ConventionError("torch.onnx.export writes PyTorch's cells, with two bias vectors (and reset after).")
    steps = n.in_shapes[0][0]
    h = layer.units
    ways = len(layer.directions())
    bias = ways * 2 * layer.gates * h * steps
    ht = steps * h  # onnx-tool's ht_size leaves the directions out
    per = {"lstm": 4 + 3 * EXP + 2 * TANH + 4, "gru": 3 + 2 * EXP + TANH + 5}[n.type]
    return n.macs + bias + per * ht, f"{n.type.upper()} node: products, biases, {per} per unit and step"


ONNX_TOOL = Convention(
    "onnx-tool",
    "onnx-tool 1.0.1 (on torch.onnx.export, opset 17)",
    "MACs of its cost model: each node priced per element (an add 1, a division 4, an exponential 32)",
    "onnx-tool's profile of torch.onnx.export(model, x, opset_version=17, dynamo=False)",
    "total",
    rules={
        **{t: with_bias("Conv: multiply-adds + 1 per output element for a bias") for t in CONVOLUTIONS},
        **{t: _onnx_conv_transpose for t in TRANSPOSED},
        **{
            t: lambda n, ctx: (
                (4 * out_elements(n), "Resize, linear: 4 per output element")
                if linear_mode(n)
                else (0, "Resize, nearest: no cost")
            )
            for t in UPSAMPLES
        },
        "batch_norm": _onnx_batch_norm,
        "dense": with_bias("Gemm (or MatMul and Add): multiply-adds + 1 per output element for a bias"),
        "matmul": own("MatMul: multiply-adds"),
        "attention": no_rule("the graph torch.onnx.export writes for attention is not read into a rule yet"),
        "activation": _onnx_activation,
        "softmax": lambda n, ctx: ((EXP + DIV) * out_elements(n), "Softmax: 36 per element"),
        **{t: _onnx_pool for t in POOLS},
        "adaptive_avg_pool": _onnx_adaptive_avg_pool,
        "global_avg_pool": lambda n, ctx: (in_elements(n), "ReduceMean: 1 per input element"),
        "mean": lambda n, ctx: (in_elements(n), "ReduceMean: 1 per input element"),
        "global_max_pool": zero("GlobalMaxPool is not registered: onnx-tool warns and counts 0"),
        "add": lambda n, ctx: ((len(n.in_shapes) - 1) * out_elements(n), "Add: 1 per element"),
        "multiply": lambda n, ctx: ((len(n.in_shapes) - 1) * out_elements(n), "Mul: 1 per element"),
        "subtract": lambda n, ctx: (out_elements(n), "Sub: 1 per element"),
        "divide": lambda n, ctx: (DIV * out_elements(n), "Div: 4 per element"),
        "layer_norm": _onnx_layer_norm,
        "instance_norm": lambda n, ctx: Count(
            14 * out_elements(n), 2 * n.shape[-1], "InstanceNormalization: 7 per element, doubled by its 3 inputs"
        ),
        "group_norm": _onnx_group_norm,
        "rms_norm": no_rule("the graph torch.onnx.export writes for RMS norm is not read into a rule yet"),
        "lstm": _onnx_recurrent,
        "gru": _onnx_recurrent,
        "simple_rnn": zero("RNN is not registered: onnx-tool warns and counts 0"),
        "embedding": zero("Gather: no cost"),
        **{t: zero("Concat, Reshape, Slice, Gather, Pad, DepthToSpace, ...: no cost") for t in MOVES},
        "rescale": KERAS_ONLY,
        "normalize": KERAS_ONLY,
    },
)


CONVENTIONS = {
    c.name: c for c in (FLOPCOUNT, TORCHVISION, FVCORE, PTFLOPS, PTFLOPS_ATEN, THOP, TORCHINFO, ONNX_TOOL, KERAS)
}


def convention(name: str) -> Convention:
    """A convention by name, with a suggestion when it is unknown."""
    from ..errors import suggest

    if name not in CONVENTIONS:
        raise ConventionError.about(
            "convention",
            "{convention} takes one of " + ", ".join(CONVENTIONS) + " (or all).{hint} Received: {name}",
            hint=suggest(name, CONVENTIONS),
            name=name,
        )
    return CONVENTIONS[name]


@dataclass
class Counted:
    """A graph's layers counted under one convention: a Count per node, in order."""

    convention: Convention
    nodes: list
    counts: list

    @property
    def macs(self) -> int:
        return sum(c.macs for c in self.counts)

    @property
    def params(self) -> int:
        return sum(c.params for c in self.counts)

    @property
    def difference(self) -> int:
        """The figure less flopcount's MACs."""
        return self.macs - sum(n.macs for n in self.nodes)

    def contributions(self) -> list[tuple[str, str, int, int]]:
        """(layer type, rule, layers, figure - MACs) for each rule that makes the figure differ from the MACs."""
        groups: dict = {}
        for n, c in zip(self.nodes, self.counts):
            if c.macs != n.macs:
                layers, diff = groups.get((n.type, c.rule), (0, 0))
                groups[(n.type, c.rule)] = (layers + 1, diff + c.macs - n.macs)
        return [(t, rule, layers, diff) for (t, rule), (layers, diff) in groups.items() if diff]


def count_graph(nodes, name: str) -> Counted:
    """Every node counted under the convention named; ConventionError for a layer it has no rule for."""
    conv = convention(name)
    ctx = Context.of(nodes)
    return Counted(conv, list(nodes), [conv.count(n, ctx) for n in nodes])
