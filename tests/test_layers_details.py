"""The layer registry's shared parts in detail: attribute kinds, their exact errors, defaults, window attributes.

Each row tells a rule from its neighbour (a bound from one past it, a minimum from none), so a
change to the rule fails a row; found by mutation testing (tests/mutation/RESULTS.md, layers).
"""

from fractions import Fraction
from math import sqrt

import pytest

from flopcount import build_graph, parse_spec
from flopcount.errors import FlopcountError
from flopcount.layers import (
    FREE,
    NEAR_ZERO,
    REGISTRY,
    Attr,
    Init,
    Layer,
    Weight,
    fan_in,
    out_size,
    register,
    whole_map,
    window_attrs,
)
from flopcount.layers.formula import formula
from flopcount.layers.kinds import Choice, Padding, Sizes
from flopcount.memory import estimate_memory


def analyze(layer, shape, variables=None):
    doc = {"name": "t", "input": list(shape), "layers": [layer]}
    if variables:
        doc["variables"] = variables
    return build_graph(parse_spec(doc)).nodes[-1]


def error(layer, shape, variables=None) -> str:
    with pytest.raises(FlopcountError) as caught:
        analyze(layer, shape, variables)
    return str(caught.value)


REFUSED = [
    # padding: the wrong number of axes, in the words of the layer's rank
    (
        {"type": "conv1d", "filters": 2, "kernel": 3, "padding": [1, 2]},
        (8, 3),
        "layer 1 'conv1d_1': attribute 'padding': must be an integer >= 0, a list [p_l] or a [before, after] pair "
        "per axis. Received: padding=[1, 2]",
    ),
    (
        {"type": "conv3d", "filters": 2, "kernel": 1, "padding": [1, 2]},
        (4, 4, 4, 3),
        "layer 1 'conv3d_1': attribute 'padding': must be an integer >= 0, a list [p_d, p_h, p_w] or a [before, "
        "after] pair per axis. Received: padding=[1, 2]",
    ),
    (
        {"type": "conv2d", "filters": 2, "kernel": 3, "padding": [1, 2, 3]},
        (4, 4, 3),
        "layer 1 'conv2d_1': attribute 'padding': must be an integer >= 0, a pair [p_h, p_w] or [[top, bottom], "
        "[left, right]]. Received: padding=[1, 2, 3]",
    ),
    (
        {"type": "conv2d", "filters": 2, "kernel": 3, "padding": [[1, 2, 3], [0, 0]]},
        (4, 4, 3),
        "layer 1 'conv2d_1': attribute 'padding': must be an integer >= 0, a pair [p_h, p_w] or [[top, bottom], "
        "[left, right]]. Received: padding=[[1, 2, 3], [0, 0]]",
    ),
    # a negative amount, as one axis's p or inside a [before, after] pair
    (
        {"type": "conv2d", "filters": 2, "kernel": 3, "padding": [[1, -1], [0, 0]]},
        (4, 4, 3),
        "layer 1 'conv2d_1': attribute 'padding': must be an integer >= 0. Received: padding=-1",
    ),
    (
        {"type": "conv2d", "filters": 2, "kernel": 3, "padding": [1, -1]},
        (4, 4, 3),
        "layer 1 'conv2d_1': attribute 'padding': must be an integer >= 0. Received: padding=-1",
    ),
    # padding: a misspelt mode is suggested
    *(
        (
            {"type": "conv2d", "filters": 2, "kernel": 3, "padding": word},
            (4, 4, 3),
            "layer 1 'conv2d_1': attribute 'padding': must be 'same', 'valid' or explicit amounts. "
            f'Did you mean {mode!r}? Received: padding="{word}"',
        )
        for word, mode in [("vaild", "valid"), ("sme", "same")]
    ),
    # sizes: the wrong number of axes, in the words of the rank and the minimum; each item at least the minimum
    (
        {"type": "conv1d", "filters": 2, "kernel": [1, 2]},
        (8, 3),
        "layer 1 'conv1d_1': attribute 'kernel': must be a positive integer or a list [length]. Received: kernel=[1, 2]",
    ),
    (
        {"type": "conv3d", "filters": 2, "kernel": [1, 2]},
        (4, 4, 4, 3),
        "layer 1 'conv3d_1': attribute 'kernel': must be a positive integer or a list [depth, height, width]. "
        "Received: kernel=[1, 2]",
    ),
    (
        {"type": "conv2d", "filters": 2, "kernel": [1, 2, 3]},
        (4, 4, 3),
        "layer 1 'conv2d_1': attribute 'kernel': must be a positive integer or a pair [height, width]. "
        "Received: kernel=[1, 2, 3]",
    ),
    (
        {"type": "conv2d", "filters": 2, "kernel": [3, 0]},
        (4, 4, 3),
        "layer 1 'conv2d_1': attribute 'kernel': must be an integer >= 1. Received: kernel=[3, 0]",
    ),
    (
        {"type": "conv2d_transpose", "filters": 2, "kernel": 3, "stride": 2, "output_padding": [1, 2, 3]},
        (4, 4, 3),
        "layer 1 'conv2d_transpose_1': attribute 'output_padding': must be an integer >= 0 or a pair [height, width]. "
        "Received: output_padding=[1, 2, 3]",
    ),
    # an input of the wrong rank for the window: the layout, with its article
    (
        {"type": "conv3d", "filters": 2, "kernel": 1},
        (4, 4, 3),
        "layer 1 'conv3d_1': conv3d needs a (D, H, W, C) input, but its input has shape (4, 4, 3).",
    ),
    (
        {"type": "conv2d", "filters": 2, "kernel": 1},
        (4, 3),
        "layer 1 'conv2d_1': conv2d needs an (H, W, C) input, but its input has shape (4, 3).",
    ),
    (
        {"type": "conv1d", "filters": 2, "kernel": 1},
        (4,),
        "layer 1 'conv1d_1': conv1d needs an (L, C) input, but its input has shape (4,).",
    ),
    # a window larger than the input padded unevenly: the padded size is size + before + after
    (
        {"type": "conv2d", "filters": 2, "kernel": 9, "padding": [[1, 2], [0, 0]]},
        (4, 12, 3),
        "layer 1 'conv2d_1': attribute 'kernel': the window of 9 is larger than the padded input height of 7.",
    ),
    (
        {"type": "conv2d", "filters": 2, "kernel": [3, 5], "dilation": 2, "padding": [[0, 0], [1, 2]]},
        (12, 4, 3),
        "layer 1 'conv2d_1': attribute 'kernel': the dilated window of 9 is larger than the padded input width of 7.",
    ),
    # an integer with no minimum (an axis): from -10^15, which is then out of range, to 10^15
    *(
        (
            {"type": "split", "parts": 3, "index": 0, "axis": axis},
            (4, 4, 3),
            f"layer 1 'split_1': attribute 'axis': {message}",
        )
        for axis, message in [
            (True, "must be an integer. Received: axis=true"),
            (-(10**15), "axis is out of range for rank 3. Received: axis=-1000000000000000"),
            (-(10**15) - 1, "must be at least -10^15 (-1,000,000,000,000,000). Received: axis=-1000000000000001"),
            (10**15 + 1, "must be at most 10^15 (1,000,000,000,000,000). Received: axis=1000000000000001"),
        ]
    ),
    # an integer with a minimum, below -10^15: the minimum is what it must meet
    (
        {"type": "conv2d", "filters": -(10**15) - 1, "kernel": 1},
        (4, 4, 3),
        "layer 1 'conv2d_1': attribute 'filters': must be an integer >= 1. Received: filters=-1000000000000001",
    ),
    # an expression that is not whole (9/2 rounded would be 4 or 5)
    (
        {"type": "conv2d", "filters": 2, "kernel": "9 / 2"},
        (4, 4, 3),
        "layer 1 'conv2d_1': attribute 'kernel': must be an integer, but the expression gives 9/2, not a whole number; "
        'wrap it in floor(), round() or int(). Received: kernel="9 / 2"',
    ),
    # a type with no attributes says so
    (
        {"type": "flatten", "axis": 1},
        (4, 4, 3),
        "layer 1 'flatten_1': attribute 'axis': unknown attribute for flatten. Its attributes are: none.",
    ),
    (
        {"type": "parameter", "shape": [1] * 9},
        (3,),
        "layer 1 'parameter_1': attribute 'shape': must be a list of at most 8 dimensions. "
        "Received: shape=[1, 1, 1, 1, 1, 1, 1, 1, 1]",
    ),
    # bool: true and false only, 1 is not true
    (
        {"type": "conv2d", "filters": 2, "kernel": 3, "bias": 1},
        (4, 4, 3),
        "layer 1 'conv2d_1': attribute 'bias': must be true or false. Received: bias=1",
    ),
    # number: true is not 1; the message gives the minimum when there is one
    (
        {"type": "activation", "fn": "leaky_relu", "alpha": True},
        (4,),
        "layer 1 'activation_1': attribute 'alpha': must be a number. Received: alpha=true",
    ),
    (
        {"type": "activation", "fn": "leaky_relu", "alpha": [1]},
        (4,),
        "layer 1 'activation_1': attribute 'alpha': must be a number. Received: alpha=[1]",
    ),
    (
        {"type": "batch_norm", "epsilon": [1]},
        (4,),
        "layer 1 'batch_norm_1': attribute 'epsilon': must be a number >= 0. Received: epsilon=[1]",
    ),
    (
        {"type": "batch_norm", "epsilon": -1},
        (4,),
        "layer 1 'batch_norm_1': attribute 'epsilon': must be a number >= 0. Received: epsilon=-1",
    ),
    (
        {"type": "rescale", "scale": 10**15 + 1},
        (4,),
        "layer 1 'rescale_1': attribute 'scale': must be a number of magnitude at most 10^15 (1,000,000,000,000,000)."
        " Received: scale=1000000000000001",
    ),
    # scales: positive, one per axis
    (
        {"type": "upsample", "scale": 0},
        (4, 4, 3),
        "layer 1 'upsample_1': attribute 'scale': must be a positive number. Received: scale=0",
    ),
    (
        {"type": "upsample", "scale": [2, 0]},
        (4, 4, 3),
        "layer 1 'upsample_1': attribute 'scale': must be a positive number. Received: scale=[2, 0]",
    ),
    (
        {"type": "upsample", "scale": [1, 2, 3]},
        (4, 4, 3),
        "layer 1 'upsample_1': attribute 'scale': must be a positive number or a pair [height, width]. "
        "Received: scale=[1, 2, 3]",
    ),
    (
        {"type": "upsample1d", "scale": [1, 2]},
        (4, 3),
        "layer 1 'upsample1d_1': attribute 'scale': must be a positive number or a list [length]. "
        "Received: scale=[1, 2]",
    ),
    (
        {"type": "upsample3d", "scale": [1, 2]},
        (2, 2, 2, 3),
        "layer 1 'upsample3d_1': attribute 'scale': must be a positive number or a list [depth, height, width]. "
        "Received: scale=[1, 2]",
    ),
    # a new shape: a non-empty list, no 0, at most one -1, nothing below -1, at most 8 sizes
    *(
        (
            {"type": "reshape", "shape": shape},
            (4, 4, 3),
            "layer 1 'reshape_1': attribute 'shape': must be a non-empty list of positive integers, one of which "
            f"may be -1, such as [196, 768] or [-1, 768]. Received: shape={received}",
        )
        for shape, received in [("x", '"x"'), ([], "[]"), ([0, 48], "[0, 48]"), ([-1, -1], "[-1, -1]")]
    ),
    (
        {"type": "reshape", "shape": [-2, 24]},
        (4, 4, 3),
        "layer 1 'reshape_1': attribute 'shape': must be an integer >= -1. Received: shape=[-2, 24]",
    ),
    (
        {"type": "reshape", "shape": [1] * 8 + [48]},
        (4, 4, 3),
        "layer 1 'reshape_1': attribute 'shape': must be a list of at most 8 dimensions. "
        "Received: shape=[1, 1, 1, 1, 1, 1, 1, 1, 48]",
    ),
    # axes: one axis, or 1 to 8 of them
    (
        {"type": "mean", "axes": []},
        (4, 4, 3),
        "layer 1 'mean_1': attribute 'axes': must be an axis or a list of 1 to 8 axes. Received: axes=[]",
    ),
    (
        {"type": "mean", "axes": [0] * 9},
        (4, 4, 3),
        "layer 1 'mean_1': attribute 'axes': must be an axis or a list of 1 to 8 axes. "
        "Received: axes=[0, 0, 0, 0, 0, 0, 0, 0, 0]",
    ),
]


@pytest.mark.parametrize("layer, shape, message", REFUSED, ids=lambda v: v["type"] if isinstance(v, dict) else None)
def test_an_attribute_of_the_wrong_kind_is_refused_in_these_words(layer, shape, message):
    assert error(layer, shape) == message


ACCEPTED = [
    # at the bounds: what is refused one step further is accepted here
    ({"type": "batch_norm", "epsilon": 0}, (4,), (4,), 4 * 4),
    ({"type": "rescale", "scale": 10**15}, (4,), (4,), 0),
    ({"type": "rescale", "scale": -(10**15)}, (4,), (4,), 0),
    ({"type": "reshape", "shape": [1, 48]}, (4, 4, 3), (1, 48), 0),
    ({"type": "reshape", "shape": [1] * 7 + [48]}, (4, 4, 3), (1,) * 7 + (48,), 0),
    ({"type": "transpose", "axes": [7, 6, 5, 4, 3, 2, 1, 0]}, (2,) * 7 + (3,), (3,) + (2,) * 7, 0),
    # 'valid' written out is the default's no padding
    ({"type": "conv2d", "filters": 2, "kernel": 3, "padding": "valid"}, (4, 4, 3), (2, 2, 2), 3 * 3 * 3 * 2 + 2),
    # ceil_mode on 5 padded to 7: ceil((7 - 3) / 2) + 1 = 3, the last window starting at 4, inside the input
    # (PyTorch's MaxPool2d(3, 2, padding=1, ceil_mode=True) gives 3)
    ({"type": "max_pool", "pool": 3, "stride": 2, "padding": 1, "ceil_mode": True}, (5, 5, 1), (3, 3, 1), 0),
    # a shape of 8 axes, the most there may be
    ({"type": "parameter", "shape": [1] * 7 + [2]}, (3,), (1,) * 7 + (2,), 2),
    # expressions anywhere a number goes (p = 1): padding 1 and (0, 1) on a 4 x 4 input with a 3 x 3 kernel
    (
        {"type": "conv2d", "filters": 2, "kernel": 3, "padding": ["p", [0, "p"]]},
        (4, 4, 3),
        (4, 3, 2),
        3 * 3 * 3 * 2 + 2,
    ),
    ({"type": "conv2d", "filters": 2, "kernel": 3, "bias": "p > 0"}, (4, 4, 3), (2, 2, 2), 3 * 3 * 3 * 2 + 2),
    ({"type": "conv2d", "filters": 2, "kernel": 3, "bias": "p > 1"}, (4, 4, 3), (2, 2, 2), 3 * 3 * 3 * 2),
    ({"type": "conv2d", "filters": 2, "kernel": "6 / 2"}, (4, 4, 3), (2, 2, 2), 3 * 3 * 3 * 2 + 2),  # a whole quotient
    ({"type": "upsample", "scale": "p + 1"}, (4, 4, 3), (8, 8, 3), 0),
    ({"type": "upsample", "scale": ["p", "p + 1"]}, (4, 4, 3), (4, 8, 3), 0),
    ({"type": "reshape", "shape": ["p", -1]}, (4, 4, 3), (1, 48), 0),
    ({"type": "mean", "axes": "p - 1"}, (4, 4, 3), (4, 3), 0),
    ({"type": "mean", "axes": ["p", 0]}, (4, 4, 3), (3,), 0),
]


@pytest.mark.parametrize(
    "layer, shape, out, params", ACCEPTED, ids=lambda v: v["type"] if isinstance(v, dict) else None
)
def test_an_attribute_at_its_bound_or_as_an_expression_is_accepted(layer, shape, out, params):
    node = analyze(layer, shape, variables={"p": 1})
    assert (node.shape, node.params) == (out, params)


def test_an_expression_in_a_scale_keeps_its_exact_value():
    layer = analyze({"type": "upsample", "scale": "p / 2 + 1"}, (4, 4, 3), variables={"p": 1}).layer
    assert layer.scale == (Fraction(3, 2), Fraction(3, 2))


@pytest.mark.parametrize(
    "rank, axes, padding_doc",
    [
        (1, "[length]", "'same', 'valid', p, one p per axis or a [before, after] pair per axis"),
        (2, "[height, width]", "'same', 'valid', p, [p_h, p_w] or [[top, bottom], [left, right]]"),
        (3, "[depth, height, width]", "'same', 'valid', p, one p per axis or a [before, after] pair per axis"),
    ],
)
def test_window_attributes_for_each_rank(rank, axes, padding_doc):
    assert window_attrs(rank, "pool", "window size") == (
        Attr("pool", Sizes(rank), doc=f"window size, or {axes}"),
        Attr("stride", Sizes(rank), 1, f"step of the window, or {axes}"),
        Attr("padding", Padding(rank), "valid", padding_doc),
        Attr("dilation", Sizes(rank), 1, "spacing between kernel taps"),
    )


def test_a_choice_attribute_takes_its_values_from_choices_or_from_its_kind():
    assert Attr("mode", "choice", "a", choices=("a", "b")).kind == Choice(("a", "b"))
    assert Attr("mode", Choice(("x", "y"))).choices == ("x", "y")
    given = Attr("mode", Choice(("x", "y")), choices=("y",))  # choices given are kept
    assert (given.kind, given.choices) == (Choice(("x", "y")), ("y",))


@pytest.fixture
def probe_type():
    """A free layer type registered for one test, with a default of each sort."""

    @register("details_probe")
    class Probe(Layer):
        free = True
        attrs = (
            Attr("units", "size", doc="required"),
            Attr("stride", "sizes", 2, "a literal converted once"),
            Attr("padding", "padding", "valid", "a word kept as it is"),
            Attr("sizes", "shape", None, "None stays None"),
            Attr("mode", "choice", "b", choices=("a", "b")),
            Attr("groups", "size", Fraction(6, 3), "an exact whole default becomes an int"),
        )

    yield Probe
    REGISTRY.pop("details_probe", None)
    FREE.discard("details_probe")


def test_register_names_the_type_converts_its_defaults_and_lists_it_as_free(probe_type):
    assert REGISTRY["details_probe"] is probe_type and probe_type.type == "details_probe"
    assert "details_probe" in FREE
    assert probe_type.defaults == {"stride": (2, 2), "padding": "valid", "sizes": None, "mode": "b", "groups": 2}
    assert type(probe_type.defaults["groups"]) is int
    layer = probe_type.from_raw({"units": 3}, evaluate=None)
    assert (layer.units, layer.stride, layer.padding, layer.sizes, layer.mode) == (3, (2, 2), "valid", None, "b")


@pytest.mark.parametrize(
    "layer, shape, paths",
    [
        # every output reads every position: (size, stride 1, no padding) per spatial axis
        ({"type": "global_avg_pool"}, (7, 5, 8), ({(1, 1): ((0, 6),)}, {(1, 1): ((0, 4),)})),
        ({"type": "global_max_pool"}, (3, 6, 2), ({(1, 1): ((0, 2),)}, {(1, 1): ((0, 5),)})),
    ],
)
def test_a_global_pool_sees_the_whole_map(layer, shape, paths):
    node = analyze(layer, shape)
    assert (node.paths, node.rf, node.jump) == (paths, shape[:-1], (1, 1))


def test_whole_map_is_one_window_per_spatial_axis():
    assert whole_map((7, 5, 8)) == ((7, 1, 0), (5, 1, 0))
    assert whole_map((2, 3, 4, 1)) == ((2, 1, 0), (3, 1, 0), (4, 1, 0))


def test_a_kernel_is_filled_he_uniform_and_a_bias_near_zero():
    # He-uniform: spread sqrt(6 / n) for n products per output, centre 0; n = 3 x 3 x 2 here
    weights = analyze({"type": "conv2d", "filters": 4, "kernel": 3}, (5, 5, 2)).weights
    assert weights["kernel"].init == Init(0.0, sqrt(6 / (3 * 3 * 2)))
    assert weights["bias"].init == NEAR_ZERO == Init(0.0, 0.1)
    assert fan_in(24) == Init(0.0, 0.5)
    assert fan_in(0) == fan_in(1) == Init(0.0, sqrt(6))  # a weight with no inputs (a lone scalar) stays finite


def test_a_layer_without_a_cache_holds_no_cache_memory():
    graph = build_graph(
        parse_spec(
            {
                "name": "t",
                "input": [6, 6, 2],
                "layers": [
                    {"type": "conv2d", "filters": 3, "kernel": 3},
                    {"type": "flatten"},
                    {"type": "dense", "units": 2},
                ],
            }
        )
    )
    memory = estimate_memory(graph)
    assert memory.cache == 0 and [m.cache for m in memory.layers] == [0, 0, 0, 0]


def test_a_weight_shape_is_a_tuple_whatever_it_was_given_as():
    weight = Weight([3, 4])
    assert weight.shape == (3, 4) and weight.size == 12


@pytest.mark.parametrize(
    "size, k_eff, stride, before, after, ceil_mode, out",
    [
        # floor unless asked: (6 - 3) / 2 = 1.5 gives 2 outputs, 3 with ceil_mode
        (6, 3, 2, 0, 0, None, 2),
        (6, 3, 2, 0, 0, True, 3),
        # 5 padded to 7, window 2, stride 2: ceil(5 / 2) + 1 = 4, but the 4th window would start at 6, in the
        # padding after the input (5 + 1 before), so PyTorch drops it; floor gives 3 as well
        (5, 2, 2, 1, 1, True, 3),
        (5, 2, 2, 1, 1, False, 3),
        # window 3: the 3rd starts at 4 < 5 + 1, inside the input, and stays
        (5, 3, 2, 1, 1, True, 3),
        # a window larger than the padded input has no output; exactly as large has one
        (2, 3, 1, 0, 0, None, None),
        (2, 3, 1, 0, 0, True, None),
        (2, 3, 1, 0, 1, None, 1),
    ],
)
def test_out_size_floors_by_default_and_drops_a_window_starting_in_the_padding(
    size, k_eff, stride, before, after, ceil_mode, out
):
    args = (size, k_eff, stride, before, after) + (() if ceil_mode is None else (ceil_mode,))
    assert out_size(*args) == out


class _Counted(Layer):
    """A type with MAC and other-op rules but no formulas stated for them."""

    def macs(self, shapes, out):
        return 1

    def other_ops(self, shapes, out):
        return 1


@pytest.mark.parametrize(
    "layer, stated",
    [
        (Layer(), {"params": formula(), "macs": formula(), "other_ops": formula()}),  # no rules: 0, stated
        (_Counted(), {"params": formula(), "macs": None, "other_ops": None}),  # a rule with no formula: none stated
    ],
)
def test_a_type_states_zero_for_a_figure_it_has_no_rule_for_and_nothing_for_a_rule_without_a_formula(layer, stated):
    assert layer.formulas([(4, 3)], (4, 3)) == stated
