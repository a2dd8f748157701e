"""Every layer type's shape, parameter and MAC rules on a table of cases."""

import math

import pytest
from layer_cases import CASES, case_spec

from flopcount import build_graph, parse_spec
from flopcount.layers import REGISTRY


def analyzed(case):
    return build_graph(parse_spec(case_spec(case))).nodes[-1]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_layer_case(case):
    node = analyzed(case)
    assert node.shape == case.shape
    assert (node.trainable, node.non_trainable) == (case.trainable, case.non_trainable)
    assert node.macs == case.macs


def test_every_registered_type_has_a_case():
    covered = {c.layer["type"] for c in CASES} | {"input"}
    assert covered == set(REGISTRY)


OTHER_OPS = [
    # bias: one add per output element
    ({"type": "conv2d", "filters": 4, "kernel": 3}, (5, 5, 2), 3 * 3 * 4),
    ({"type": "conv2d", "filters": 4, "kernel": 3, "bias": False}, (5, 5, 2), 0),
    ({"type": "depthwise_conv2d", "kernel": 3, "multiplier": 2}, (5, 5, 2), 3 * 3 * 2 * 2),
    ({"type": "depthwise_conv2d", "kernel": 3, "bias": False}, (5, 5, 2), 0),
    ({"type": "dense", "units": 6}, (3, 4), 3 * 6),
    ({"type": "dense", "units": 6, "bias": False}, (3, 4), 0),
    # batch norm folds to one scale and one shift per element, with or without gamma and beta
    ({"type": "batch_norm"}, (2, 2, 3), 2 * 2 * 2 * 3),
    ({"type": "batch_norm", "center": False, "scale": False}, (2, 2, 3), 2 * 2 * 2 * 3),
    # one op per element whatever the function; linear is the identity
    ({"type": "activation", "fn": "relu"}, (2, 2, 3), 2 * 2 * 3),
    ({"type": "activation", "fn": "gelu"}, (7,), 7),
    ({"type": "activation", "fn": "linear"}, (2, 2, 3), 0),
    # max pool: k - 1 comparisons per output; avg pool: k - 1 adds and a division
    ({"type": "max_pool", "pool": 2}, (4, 4, 3), 2 * 2 * 3 * (2 * 2 - 1)),
    ({"type": "max_pool", "pool": [3, 2], "stride": 1}, (4, 4, 3), 2 * 3 * 3 * (3 * 2 - 1)),
    ({"type": "avg_pool", "pool": 2}, (4, 4, 3), 2 * 2 * 3 * (2 * 2)),
    ({"type": "avg_pool", "pool": 3, "stride": 2, "padding": 1}, (5, 5, 1), 3 * 3 * 1 * (3 * 3)),
    # global: H W - 1 comparisons (max), or H W - 1 adds and a division (avg), per channel
    # rank 1 and 3: the window is k (1-D) or k_d x k_h x k_w (3-D) elements
    ({"type": "max_pool1d", "pool": 3}, (9, 2), 3 * 2 * (3 - 1)),
    ({"type": "avg_pool1d", "pool": 2, "stride": 1}, (5, 2), 4 * 2 * 2),
    ({"type": "max_pool3d", "pool": [1, 2, 2]}, (3, 4, 4, 2), 3 * 2 * 2 * 2 * (1 * 2 * 2 - 1)),
    ({"type": "avg_pool3d", "pool": 2}, (4, 4, 4, 1), 2 * 2 * 2 * 1 * (2 * 2 * 2)),
    ({"type": "conv1d", "filters": 4, "kernel": 3}, (5, 2), 3 * 4),
    ({"type": "conv3d", "filters": 4, "kernel": 3, "bias": False}, (5, 5, 5, 2), 0),
    ({"type": "depthwise_conv1d", "kernel": 3, "multiplier": 2}, (5, 2), 3 * 2 * 2),
    ({"type": "depthwise_conv3d", "kernel": 3}, (4, 4, 4, 2), 2 * 2 * 2 * 2),
    ({"type": "global_avg_pool"}, (7, 7, 8), 8 * 7 * 7),
    ({"type": "global_max_pool"}, (7, 5, 8), 8 * (7 * 5 - 1)),
    # adaptive: PyTorch's bins [floor(i n / o), ceil((i + 1) n / o)): 5 rows -> 3 bins of 2, 3, 2 (they
    # overlap), 4 columns -> 2 bins of 2, 2; every output averages its rows x columns
    ({"type": "adaptive_avg_pool", "size": [3, 2]}, (5, 4, 2), 2 * (2 + 3 + 2) * (2 + 2)),
    ({"type": "softmax"}, (10,), 3 * 10),
    ({"type": "dropout"}, (10,), 0),
    ({"type": "flatten"}, (2, 2, 2), 0),
    ({"type": "zero_pad", "padding": 1}, (2, 2, 2), 0),
    ({"type": "zero_pad1d", "padding": 1}, (2, 2), 0),
    ({"type": "zero_pad3d", "padding": 1}, (2, 2, 2, 2), 0),
    # global pools of any rank: positions - 1 comparisons, or positions additions-and-division, per channel
    ({"type": "global_max_pool"}, (9, 4), 4 * (9 - 1)),
    ({"type": "global_avg_pool"}, (3, 4, 5, 2), 2 * 3 * 4 * 5),
    ({"type": "conv2d_transpose", "filters": 3, "kernel": 2, "stride": 2}, (2, 2, 4), 4 * 4 * 3),
    ({"type": "conv2d_transpose", "filters": 3, "kernel": 2, "stride": 2, "bias": False}, (2, 2, 4), 0),
    ({"type": "conv1d_transpose", "filters": 3, "kernel": 2, "stride": 2}, (2, 4), 4 * 3),
    ({"type": "conv3d_transpose", "filters": 3, "kernel": 2, "stride": 2}, (1, 2, 2, 4), 2 * 4 * 4 * 3),
    # nearest upsampling copies; linear interpolation is a weighted sum of 2^rank neighbours: 2^rank
    # multiplications and 2^rank - 1 additions per output element
    ({"type": "upsample", "scale": 2}, (2, 2, 1), 0),
    ({"type": "upsample", "scale": 2, "mode": "bilinear"}, (2, 2, 1), 4 * 4 * 1 * (4 + 3)),
    ({"type": "upsample1d", "size": 5, "mode": "linear"}, (2, 3), 5 * 3 * (2 + 1)),
    ({"type": "upsample3d", "scale": 2, "mode": "trilinear"}, (1, 1, 1, 2), 2 * 2 * 2 * 2 * (8 + 7)),
    # moving or picking values costs nothing
    ({"type": "split", "parts": 2, "index": 0}, (2, 2, 4), 0),
    ({"type": "channel_shuffle", "groups": 2}, (2, 2, 4), 0),
    ({"type": "crop", "cropping": 1}, (4, 4, 2), 0),
    ({"type": "crop1d", "cropping": 1}, (4, 2), 0),
    ({"type": "crop3d", "cropping": 1}, (4, 4, 4, 2), 0),
    ({"type": "pixel_shuffle", "factor": 2}, (2, 2, 8), 0),
    # statistics from the input: mean 1, variance 3 (subtract, square, add), normalise 1; affine 2 more
    ({"type": "group_norm", "groups": 2}, (2, 2, 4), 2 * 2 * 4 * (5 + 2)),
    ({"type": "instance_norm"}, (2, 2, 4), 2 * 2 * 4 * 5),
    # per step and unit: one add per bias vector and gate, then the cell's own work
    # simple RNN: tanh
    ({"type": "simple_rnn", "units": 3}, (4, 2), 4 * 3 * (1 * 1 + 1)),
    # LSTM: 3 sigmoids, 2 tanh, c = f c + i g (3), h = o tanh(c) (1); both directions
    ({"type": "lstm", "units": 3, "biases": 2, "bidirectional": True}, (4, 2), 2 * 4 * 3 * (4 * 2 + 5 + 3 + 1)),
    # GRU: 2 sigmoids and a tanh, the reset product, h = n + z (h - n) (3)
    ({"type": "gru", "units": 3}, (4, 2), 4 * 3 * (3 * 2 + 3 + 1 + 3)),
    # Keras' preprocessing: a multiply (and an add for an offset); a subtraction and a division
    ({"type": "rescale", "scale": 0.5}, (2, 2, 3), 2 * 2 * 3),
    ({"type": "rescale", "scale": 0.5, "offset": -1}, (2, 2, 3), 2 * 2 * 3 * 2),
    ({"type": "normalize"}, (2, 2, 3), 2 * 2 * 3 * 2),
    ({"type": "activation", "fn": "gelu_tanh"}, (3, 4), 3 * 4),
    # layer norm per element: mean add, subtract, square, variance add, normalise (5), then scale and shift
    ({"type": "layer_norm"}, (197, 768), (5 + 2) * 197 * 768),
    ({"type": "layer_norm", "axes": 2, "center": False}, (3, 4, 5), (5 + 1) * 3 * 4 * 5),
    # RMS norm per element: square, add, multiply (3) and the scale
    ({"type": "rms_norm"}, (7, 64), (3 + 1) * 7 * 64),
    ({"type": "rms_norm", "scale": False}, (7, 64), 3 * 7 * 64),
    # attention: biases of q, k, v and output; 4 per score (scaling and softmax's 3); rotary 3 per q and k element
    ({"type": "attention", "heads": 12}, (197, 768), 197 * 3 * 768 + 197 * 768 + 4 * 12 * 197 * 197),
    (
        {"type": "attention", "heads": 4, "kv_heads": 2, "bias": False, "rotary": True, "causal": True, "cache": 3},
        (5, 32),
        4 * 4 * 5 * (3 + 5) + 3 * (5 * 4 * 8 + 5 * 2 * 8),
    ),
    ({"type": "reshape", "shape": [4, 2]}, (2, 2, 2), 0),
    ({"type": "slice", "stop": 2}, (4, 3), 0),
    ({"type": "select"}, (4, 3), 0),
    ({"type": "transpose", "axes": [1, 0]}, (4, 3), 0),
    # a mean of k elements: k - 1 additions and a division per output, as average pooling
    ({"type": "mean", "axes": 0}, (197, 768), 768 * 197),
    ({"type": "mean", "axes": [0, 1], "keepdims": True}, (7, 5, 8), 8 * 7 * 5),
]


@pytest.mark.parametrize(
    "type_, shapes, ops",
    [
        # one subtraction or division per output element, the smaller input broadcast
        ("subtract", [(6, 8), (6, 1)], 6 * 8),
        ("divide", [(4, 3), (4, 4, 3)], 4 * 4 * 3),
        ("add", [(4, 4, 3), (3,)], 4 * 4 * 3),
    ],
)
def test_elementwise_pair_counts_one_op_per_output_element(type_, shapes, ops):
    spec = {
        "name": "t",
        "input": list(shapes[0]),
        "layers": [
            {"type": "parameter", "shape": list(shapes[1]), "name": "p"},
            {"type": type_, "inputs": ["input", "p"]},
        ],
    }
    assert build_graph(parse_spec(spec)).nodes[-1].other_ops == ops


@pytest.mark.parametrize("layer, input, ops", OTHER_OPS, ids=lambda v: v["type"] if isinstance(v, dict) else None)
def test_other_ops(layer, input, ops):
    spec = {"name": "t", "input": list(input), "layers": [layer]}
    assert build_graph(parse_spec(spec)).nodes[-1].other_ops == ops


def test_every_registered_type_has_an_other_ops_case():
    # merges, matmul, embedding and parameter: tests below and the free-layer test
    covered = {layer["type"] for layer, _, _ in OTHER_OPS} | {
        "input",
        "add",
        "concat",
        "multiply",
        "subtract",
        "divide",
        "matmul",
        "embedding",
        "parameter",
    }
    assert covered == set(REGISTRY), "add other-ops cases for: " + ", ".join(sorted(set(REGISTRY) - covered))


def test_matmul_sums_its_products_with_no_other_ops():
    spec = {
        "name": "t",
        "layers": [
            {"type": "input", "shape": [2, 3, 4], "name": "a"},
            {"type": "input", "shape": [2, 4, 5], "name": "b"},
            {"type": "matmul", "inputs": ["a", "b"]},
        ],
    }
    node = build_graph(parse_spec(spec)).nodes[-1]
    assert (node.macs, node.other_ops) == (2 * 3 * 4 * 5, 0)


def test_concat_is_free():
    spec = {
        "name": "t",
        "input": [4, 4, 2],
        "layers": [{"type": "activation", "fn": "relu", "name": "a"}, {"type": "concat", "inputs": ["input", "a"]}],
    }
    assert build_graph(parse_spec(spec)).nodes[-1].other_ops == 0


def test_add_counts_n_minus_one_adds_per_element():
    spec = {
        "name": "t",
        "input": [4, 4, 2],
        "layers": [
            {"type": "activation", "fn": "relu", "name": "a"},
            {"type": "activation", "fn": "relu", "name": "b", "inputs": "input"},
            {"type": "add", "inputs": ["input", "a", "b"]},
        ],
    }
    assert build_graph(parse_spec(spec)).nodes[-1].other_ops == 2 * 4 * 4 * 2


def test_multiply_counts_n_minus_one_products_per_output_element():
    # squeeze-and-excitation's scale (1, 1, C) broadcast over the map, and a third full-size input
    spec = {
        "name": "t",
        "input": [4, 4, 2],
        "layers": [
            {"type": "global_avg_pool", "name": "squeeze"},
            {"type": "activation", "fn": "sigmoid", "name": "scale"},
            {"type": "multiply", "inputs": ["input", "scale", "input"]},
        ],
    }
    node = build_graph(parse_spec(spec)).nodes[-1]
    assert node.shape == (4, 4, 2)
    assert node.other_ops == 2 * 4 * 4 * 2


def test_a_broadcast_input_reaches_every_output_with_its_whole_field():
    """The pooled scale of squeeze-and-excitation sees the whole map, and so does every output after it."""
    spec = {
        "name": "t",
        "input": [9, 9, 2],
        "layers": [
            {"type": "conv2d", "filters": 2, "kernel": 3, "padding": 1, "name": "conv"},
            {"type": "adaptive_avg_pool", "size": 1, "name": "squeeze"},
            {"type": "multiply", "inputs": ["conv", "squeeze"], "name": "excite"},
            {"type": "conv2d", "filters": 2, "kernel": 3, "stride": 2, "padding": 1},
        ],
    }
    nodes = build_graph(parse_spec(spec)).nodes
    # conv: 3; the pooled scale: every position of the padded map, 9 + 2; the jump stays the conv path's
    assert nodes[3].rf == (11, 11) and nodes[3].jump == (1, 1)
    # output 0 of the strided conv reads the conv path at -2..2 and the scale at -1..9
    assert nodes[4].rf == (2 + 9 + 1, 2 + 9 + 1) and nodes[4].jump == (2, 2)


@pytest.mark.parametrize(
    "size, kernel, stride, out, pads",
    [
        # TensorFlow 'same': out = ceil(in / s); odd total padding puts the extra at the end
        (224, 3, 2, 112, (0, 1)),
        (7, 3, 2, 4, (1, 1)),
        (8, 2, 2, 4, (0, 0)),
        (5, 4, 1, 5, (1, 2)),
        (1, 3, 1, 1, (1, 1)),
    ],
)
def test_same_padding_follows_tensorflow(size, kernel, stride, out, pads):
    spec = {
        "name": "t",
        "input": [size, size, 1],
        "layers": [{"type": "conv2d", "filters": 1, "kernel": kernel, "stride": stride, "padding": "same"}],
    }
    node = build_graph(parse_spec(spec)).nodes[-1]
    assert node.shape[:2] == (out, out)
    assert node.layer.pads(node.in_shapes) == (pads, pads)


def test_counts_are_exact_python_integers_beyond_64_bits():
    spec = {
        "name": "huge",
        "input": [2**20, 2**20, 2**10],
        "layers": [{"type": "conv2d", "filters": 2**10, "kernel": 3, "padding": "same", "bias": False}],
    }
    node = build_graph(parse_spec(spec)).nodes[-1]
    assert node.macs == 2**20 * 2**20 * 2**10 * 9 * 2**10
    assert node.macs > 2**63


@pytest.mark.parametrize(
    "pool",
    [{"type": "max_pool", "pool": 2, "padding": 2}, {"type": "avg_pool", "pool": 3, "padding": [[0, 3], [0, 0]]}],
)
def test_pool_padding_must_be_smaller_than_the_window(pool):
    from flopcount import ShapeError

    with pytest.raises(ShapeError, match="leaves windows that see only padding"):
        build_graph(parse_spec({"name": "t", "input": [6, 6, 1], "layers": [pool]}))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_free_is_a_decision_listed_in_FREE(case):
    """A layer costs nothing (no MACs, no other ops) exactly when its type is listed in FREE."""
    from flopcount.layers import FREE

    node = analyzed(case)
    assert (node.macs + node.other_ops == 0) == (case.layer["type"] in FREE)


@pytest.mark.parametrize("n, o", [(21, 9), (5, 3), (6, 6), (7, 3), (13, 1), (1, 4), (224, 7), (100, 33)])
def test_adaptive_bins_in_closed_form_match_the_bins(n, o):
    from flopcount.layers import _bin_sizes

    # PyTorch's bins, listed one by one
    sizes = [-(-((i + 1) * n) // o) - (i * n) // o for i in range(o)]
    assert _bin_sizes(n, o) == (sum(sizes), max(sizes))


def test_huge_adaptive_pool_is_analysed_without_listing_its_bins():
    spec = {"name": "t", "input": [10**12, 10**12, 2], "layers": [{"type": "adaptive_avg_pool", "size": 10**12 - 1}]}
    node = build_graph(parse_spec(spec)).nodes[-1]
    assert node.other_ops == 2 * (2 * 10**12 - 2) ** 2  # n + o - gcd(n, o) per axis, gcd 1


@pytest.mark.parametrize(
    "fn, alpha, expected",
    [
        # PyTorch's defaults: LeakyReLU(negative_slope=0.01), ELU(alpha=1.0)
        ("leaky_relu", None, [-2 * 0.01, -0.5 * 0.01, 0.0, 1.5]),
        ("leaky_relu", 0.2, [-2 * 0.2, -0.5 * 0.2, 0.0, 1.5]),
        ("elu", None, [math.expm1(-2), math.expm1(-0.5), 0.0, 1.5]),
        ("elu", 0.5, [0.5 * math.expm1(-2), 0.5 * math.expm1(-0.5), 0.0, 1.5]),
    ],
)
def test_activation_slope_and_its_default(fn, alpha, expected):
    import numpy as np

    from flopcount.runner import forward

    layer = {"type": "activation", "fn": fn} | ({} if alpha is None else {"alpha": alpha})
    graph = build_graph(parse_spec({"name": "t", "input": [4], "layers": [layer]}))
    (out,) = forward(graph, np.array([[-2.0, -0.5, 0.0, 1.5]], np.float32)).values()
    np.testing.assert_allclose(out[0], expected, rtol=1e-6)


@pytest.mark.parametrize(
    "layer",
    [
        {"type": "lstm", "units": 3},
        {"type": "gru", "units": 3, "return_sequences": True},
        {"type": "simple_rnn", "units": 2, "bidirectional": True, "return_sequences": True},
    ],
)
def test_a_recurrent_layer_has_read_the_whole_sequence(layer):
    # the last step depends on every step before it (and, run both ways, every step on every step)
    node = build_graph(parse_spec({"name": "t", "input": [9, 2], "layers": [layer]})).nodes[-1]
    assert node.rf == (9,)
