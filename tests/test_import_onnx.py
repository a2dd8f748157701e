"""ONNX import: small models built here with onnx.helper, one or more per operator.

Every case states its figures as products computed from the operator's definition (the
ONNX operator specification), not from flopcount, and runs the third witness: the
imported spec, executed by the NumPy runner with the file's weights, must give ONNX
Runtime's output on the same input.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from click.testing import CliRunner
from onnx import TensorProto, helper, numpy_helper

from flopcount.cli import main
from flopcount.graph import analyze
from flopcount.importers.onnx import supported_operators
from flopcount.importers.witness import runtime_witness

F = TensorProto.FLOAT


_draws = iter(range(1, 10**6))


def rand(*shape, positive=False):
    """Weights from a fresh seed per call, so no two initializers are alike."""
    a = np.random.default_rng(next(_draws)).standard_normal(shape).astype(np.float32) * 0.5
    return np.abs(a) + 0.5 if positive else a


@dataclass
class Model:
    """A one-input graph: nodes read 'x' and write 'y'; weights are named initializers."""

    input: list
    nodes: list
    output: list
    weights: dict = field(default_factory=dict)
    opset: int = 17
    check: bool = True  # False: a form the checker refuses as deprecated but ONNX Runtime runs

    def save(self, path, name="case"):
        inits = [numpy_helper.from_array(v, k) for k, v in self.weights.items()]
        graph = helper.make_graph(
            self.nodes,
            name,
            [helper.make_tensor_value_info("x", F, self.input)],
            [helper.make_tensor_value_info("y", F, self.output)],
            inits,
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)])
        model.ir_version = 8
        if self.check:
            onnx.checker.check_model(model)
        onnx.save(model, path)
        return path


def node(op, inputs, outputs, name=None, **attrs):
    return helper.make_node(op, inputs, outputs, name=name or f"/{op.lower()}/{op}", **attrs)


def const(name, value, dtype=np.int64):
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(np.array(value, dtype=dtype), name))


@dataclass
class Graph(Model):
    """A graph with named, typed inputs and outputs: inputs [(name, elem type, shape)], outputs [(name, shape)]."""

    inputs: list = field(default_factory=list)
    outputs: list = field(default_factory=list)

    def save(self, path, name="case"):
        inits = [numpy_helper.from_array(v, k) for k, v in self.weights.items()]
        graph = helper.make_graph(
            self.nodes,
            name,
            [helper.make_tensor_value_info(n, ty, shape) for n, ty, shape in self.inputs],
            [helper.make_tensor_value_info(n, F, shape) for n, shape in self.outputs],
            inits,
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)])
        model.ir_version = 8
        onnx.checker.check_model(model)
        onnx.save(model, path)
        return path


def seq(nodes, weights=None, out=(1, 6, 8), x=(1, 6, 8), opset=17, ids=False):
    """A sequence model: input x of (batch, steps, features), or integer ids of (batch, steps)."""
    inputs = [("x", TensorProto.INT64 if ids else F, list(x))]
    return Graph(list(x), nodes, list(out), weights or {}, opset, inputs=inputs, outputs=[("y", list(out))])


@dataclass
class Case:
    id: str
    model: Model
    trainable: int = 0
    non_trainable: int = 0
    macs: int = 0
    types: tuple = ()  # the spec's layer types after the input, in order


def resize(x_shape, out_shape, scales=(), sizes=None, **attrs):
    """An opset-13 Resize to scales or (with empty scales) sizes."""
    inputs = [const("roi", [], np.float32), const("scales", scales, np.float32)]
    if sizes is not None:
        inputs.append(const("sizes", sizes))
    names = ["x", "roi", "scales"] + (["sizes"] if sizes is not None else [])
    return Model(x_shape, [*inputs, node("Resize", names, ["y"], **attrs)], out_shape, opset=13)


NEAREST = {"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"}  # PyTorch's


def conv_model(w_shape, x_shape, out_shape, bias=True, **attrs):
    weights = {"w": rand(*w_shape)}
    if bias:
        weights["b"] = rand(w_shape[0])
    return Model(x_shape, [node("Conv", ["x", "w"] + (["b"] if bias else []), ["y"], **attrs)], out_shape, weights)


CASES = [
    # Conv: MACs = output elements x kernel taps x input channels per group
    Case(
        "conv-3x3-pad1-bias",
        conv_model((4, 3, 3, 3), [1, 3, 8, 8], [1, 4, 8, 8], pads=[1, 1, 1, 1]),
        4 * 3 * 3 * 3 + 4,
        0,
        4 * 8 * 8 * 3 * 3 * 3,
        ("conv2d",),
    ),
    # (9 + 0 + 1 - (2 * (3 - 1) + 1)) // 2 + 1 = 3 rows, (9 + 1 + 0 - 5) // 2 + 1 = 3 columns
    Case(
        "conv-stride2-dilation2-asym-pads",
        conv_model(
            (2, 3, 3, 3), [1, 3, 9, 9], [1, 2, 3, 3], bias=False, strides=[2, 2], dilations=[2, 2], pads=[0, 1, 1, 0]
        ),
        2 * 3 * 3 * 3,
        0,
        2 * 3 * 3 * 3 * 3 * 3,
        ("conv2d",),
    ),
    Case(
        "conv-grouped",
        conv_model((6, 2, 3, 3), [1, 4, 6, 6], [1, 6, 4, 4], group=2),
        6 * 2 * 3 * 3 + 6,
        0,
        6 * 4 * 4 * 3 * 3 * 2,
        ("conv2d",),
    ),
    Case(
        "conv-depthwise-multiplier2",
        conv_model((8, 1, 3, 3), [1, 4, 6, 6], [1, 8, 6, 6], group=4, pads=[1, 1, 1, 1]),
        8 * 3 * 3 + 8,
        0,
        8 * 6 * 6 * 3 * 3,
        ("depthwise_conv2d",),
    ),
    Case(
        "conv-rect-kernel",
        conv_model((3, 2, 1, 5), [1, 2, 7, 7], [1, 3, 7, 3]),
        3 * 2 * 5 + 3,
        0,
        3 * 7 * 3 * 1 * 5 * 2,
        ("conv2d",),
    ),
    # SAME_UPPER: ceil(7 / 2) = 4, the odd padding row at the end; SAME_LOWER puts it first
    Case(
        "conv-same-upper",
        conv_model((2, 3, 4, 4), [1, 3, 7, 7], [1, 2, 4, 4], strides=[2, 2], auto_pad="SAME_UPPER"),
        2 * 3 * 4 * 4 + 2,
        0,
        2 * 4 * 4 * 4 * 4 * 3,
        ("conv2d",),
    ),
    Case(
        "conv-same-lower",
        conv_model((2, 3, 4, 4), [1, 3, 7, 7], [1, 2, 4, 4], strides=[2, 2], auto_pad="SAME_LOWER"),
        2 * 3 * 4 * 4 + 2,
        0,
        2 * 4 * 4 * 4 * 4 * 3,
        ("conv2d",),
    ),
    Case(
        "conv-valid",
        conv_model((2, 3, 3, 3), [1, 3, 7, 7], [1, 2, 5, 5], auto_pad="VALID"),
        2 * 3 * 3 * 3 + 2,
        0,
        2 * 5 * 5 * 3 * 3 * 3,
        ("conv2d",),
    ),
    # Gemm: (N, K) x (K, M); transB stores B as (M, K); alpha scales A B, beta the bias
    Case(
        "gemm-transB-bias",
        Model([1, 12], [node("Gemm", ["x", "w", "b"], ["y"], transB=1)], [1, 5], {"w": rand(5, 12), "b": rand(5)}),
        12 * 5 + 5,
        0,
        12 * 5,
        ("dense",),
    ),
    Case(
        "gemm-alpha-beta-row-bias",
        Model(
            [1, 12],
            [node("Gemm", ["x", "w", "b"], ["y"], alpha=0.5, beta=2.0)],
            [1, 5],
            {"w": rand(12, 5), "b": rand(1, 5)},
        ),
        12 * 5 + 5,
        0,
        12 * 5,
        ("dense",),
    ),
    Case(
        "gemm-no-bias",
        Model([1, 12], [node("Gemm", ["x", "w"], ["y"])], [1, 5], {"w": rand(12, 5)}),
        12 * 5,
        0,
        12 * 5,
        ("dense",),
    ),
    # MatMul then Add of a bias: PyTorch's Linear on a sequence, one dense layer of 7 x (8 x 6) MACs
    Case(
        "matmul-add-bias",
        Model(
            [1, 7, 8],
            [node("MatMul", ["x", "w"], ["h"]), node("Add", ["h", "b"], ["y"])],
            [1, 7, 6],
            {"w": rand(8, 6), "b": rand(6)},
        ),
        8 * 6 + 6,
        0,
        7 * 8 * 6,
        ("dense",),
    ),
    Case(
        "matmul",
        Model([1, 8], [node("MatMul", ["x", "w"], ["y"])], [1, 6], {"w": rand(8, 6)}),
        8 * 6,
        0,
        8 * 6,
        ("dense",),
    ),
    # BatchNormalization: scale and shift trainable, running mean and variance not
    Case(
        "batchnorm",
        Model(
            [1, 5, 4, 4],
            [node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], epsilon=1e-3)],
            [1, 5, 4, 4],
            {"s": rand(5), "b": rand(5), "m": rand(5), "v": rand(5, positive=True)},
        ),
        2 * 5,
        2 * 5,
        0,
        ("batch_norm",),
    ),
    Case(
        "batchnorm-2d",
        Model(
            [1, 5],
            [node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"])],
            [1, 5],
            {"s": rand(5), "b": rand(5), "m": rand(5), "v": rand(5, positive=True)},
        ),
        2 * 5,
        2 * 5,
        0,
        ("batch_norm",),
    ),
    # activations: no parameters, no MACs
    Case("relu", Model([1, 3, 4, 4], [node("Relu", ["x"], ["y"])], [1, 3, 4, 4]), types=("activation",)),
    Case(
        "clip-relu6-inputs",
        Model(
            [1, 3, 4, 4],
            [const("lo", 0.0, np.float32), const("hi", 6.0, np.float32), node("Clip", ["x", "lo", "hi"], ["y"])],
            [1, 3, 4, 4],
        ),
        types=("activation",),
    ),
    Case(
        "clip-relu6-opset9-attrs",
        Model([1, 3, 4, 4], [node("Clip", ["x"], ["y"], min=0.0, max=6.0)], [1, 3, 4, 4], opset=9),
        types=("activation",),
    ),
    Case(
        "clip-min-only-is-relu",
        Model([1, 6], [const("lo", 0.0, np.float32), node("Clip", ["x", "lo"], ["y"])], [1, 6]),
        types=("activation",),
    ),
    Case("leaky-relu", Model([1, 6], [node("LeakyRelu", ["x"], ["y"], alpha=0.2)], [1, 6]), types=("activation",)),
    Case("elu", Model([1, 6], [node("Elu", ["x"], ["y"], alpha=0.7)], [1, 6]), types=("activation",)),
    Case("sigmoid", Model([1, 6], [node("Sigmoid", ["x"], ["y"])], [1, 6]), types=("activation",)),
    Case(
        "hard-sigmoid",
        Model([1, 6], [node("HardSigmoid", ["x"], ["y"], alpha=1 / 6, beta=0.5)], [1, 6]),
        types=("activation",),
    ),
    Case("tanh", Model([1, 6], [node("Tanh", ["x"], ["y"])], [1, 6]), types=("activation",)),
    Case("hard-swish", Model([1, 6], [node("HardSwish", ["x"], ["y"])], [1, 6], opset=14), types=("activation",)),
    Case("gelu", Model([1, 6], [node("Gelu", ["x"], ["y"])], [1, 6], opset=20), types=("activation",)),
    Case(
        "sigmoid-times-x-is-swish",
        Model([1, 6], [node("Sigmoid", ["x"], ["s"]), node("Mul", ["x", "s"], ["y"])], [1, 6]),
        types=("activation",),
    ),
    Case("softmax", Model([1, 10], [node("Softmax", ["x"], ["y"])], [1, 10]), types=("softmax",)),
    # over the channels of an (N, C, H, W) map: the spec holds channels last, so no transpose
    Case(
        "softmax-channels",
        Model(
            [1, 4, 3, 3],
            [node("Conv", ["x", "w"], ["c"]), node("Softmax", ["c"], ["y"], axis=1)],
            [1, 4, 3, 3],
            {"w": rand(4, 4, 1, 1)},
        ),
        4 * 4,
        0,
        4 * 3 * 3 * 4,
        ("conv2d", "softmax"),
    ),
    # pooling
    Case(
        "maxpool-3x3-s2-p1",
        Model(
            [1, 2, 8, 8],
            [node("MaxPool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])],
            [1, 2, 4, 4],
        ),
        types=("max_pool",),
    ),
    # ceil_mode: ceil((9 - 3) / 2) + 1 = 4 windows where the floor gives 4 too, and ceil((10 - 3) / 2) + 1 = 5 (floor: 4)
    Case(
        "maxpool-ceil-no-change",
        Model(
            [1, 2, 9, 9],
            [node("MaxPool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)],
            [1, 2, 4, 4],
        ),
        types=("max_pool",),
    ),
    Case(
        "maxpool-ceil-partial-window",
        Model(
            [1, 2, 10, 10],
            [node("MaxPool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)],
            [1, 2, 5, 5],
        ),
        types=("max_pool",),
    ),
    Case(
        "avgpool-ceil-count-include-pad",
        Model(
            [1, 2, 10, 10],
            [
                node(
                    "AveragePool",
                    ["x"],
                    ["y"],
                    kernel_shape=[3, 3],
                    strides=[2, 2],
                    pads=[1, 1, 1, 1],
                    ceil_mode=1,
                    count_include_pad=1,
                )
            ],
            [1, 2, 6, 6],
        ),
        types=("avg_pool",),
    ),
    Case(
        "avgpool-pads-exclude",
        Model(
            [1, 2, 6, 6],
            [node("AveragePool", ["x"], ["y"], kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1])],
            [1, 2, 6, 6],
        ),
        types=("avg_pool",),
    ),
    Case(
        "avgpool-count-include-pad-pads",
        Model(
            [1, 2, 6, 6],
            [
                node(
                    "AveragePool",
                    ["x"],
                    ["y"],
                    kernel_shape=[3, 3],
                    strides=[1, 1],
                    pads=[1, 1, 1, 1],
                    count_include_pad=1,
                )
            ],
            [1, 2, 6, 6],
        ),
        types=("avg_pool",),
    ),
    Case(
        "avgpool-count-include-pad-no-pads",
        Model(
            [1, 2, 6, 6],
            [node("AveragePool", ["x"], ["y"], kernel_shape=[2, 2], strides=[2, 2], count_include_pad=1)],
            [1, 2, 3, 3],
        ),
        types=("avg_pool",),
    ),
    Case(
        "global-average-pool-flatten-gemm",
        Model(
            [1, 3, 5, 5],
            [
                node("GlobalAveragePool", ["x"], ["g"]),
                node("Flatten", ["g"], ["f"]),
                node("Gemm", ["f", "w", "b"], ["y"], transB=1),
            ],
            [1, 4],
            {"w": rand(4, 3), "b": rand(4)},
        ),
        3 * 4 + 4,
        0,
        3 * 4,
        ("global_avg_pool", "dense"),
    ),
    Case(
        "global-max-pool",
        Model([1, 3, 5, 5], [node("GlobalMaxPool", ["x"], ["y"])], [1, 3, 1, 1]),
        types=("global_max_pool",),
    ),
    Case(
        "reduce-mean-spatial",
        Model(
            [1, 3, 5, 5],
            [const("axes", [2, 3]), node("ReduceMean", ["x", "axes"], ["y"], keepdims=0)],
            [1, 3],
            opset=18,
        ),
        types=("global_avg_pool",),
    ),
    Case(
        "reduce-mean-spatial-opset13",
        Model([1, 3, 5, 5], [node("ReduceMean", ["x"], ["y"], axes=[-1, -2])], [1, 3, 1, 1], opset=13),
        types=("global_avg_pool",),
    ),
    # and the dense layer after it sees the file's order, so its weights need no reordering
    Case(
        "flatten-feature-map-gemm",
        Model(
            [1, 2, 3, 4],
            [
                node("Conv", ["x", "w"], ["c"]),
                node("Flatten", ["c"], ["f"]),
                node("Gemm", ["f", "fw"], ["y"], transB=1),
            ],
            [1, 5],
            {"w": rand(3, 2, 1, 1), "fw": rand(5, 36)},
        ),
        2 * 3 + 36 * 5,
        0,
        3 * 4 * 3 * 2 + 36 * 5,
        ("conv2d", "transpose", "flatten", "dense"),
    ),
    # the Shape, Gather, Unsqueeze, Concat, Reshape chain old exporters wrote for x.view(x.size(0), -1)
    Case(
        "shape-arithmetic-reshape",
        Model(
            [1, 3, 5, 5],
            [
                node("GlobalAveragePool", ["x"], ["g"]),
                node("Shape", ["g"], ["s"]),
                const("zero", 0),
                node("Gather", ["s", "zero"], ["n"], axis=0),
                const("axes", [0]),
                node("Unsqueeze", ["n", "axes"], ["n1"]),
                const("minus1", [-1]),
                node("Concat", ["n1", "minus1"], ["shape"], axis=0),
                node("Reshape", ["g", "shape"], ["y"]),
            ],
            [1, 3],
            opset=13,
        ),
        types=("global_avg_pool",),
    ),
    # squeeze-and-excitation: the pooled map stays (1, 1, C) for its 1x1 convolutions and scales the map
    Case(
        "squeeze-excitation",
        Model(
            [1, 4, 6, 6],
            [
                node("GlobalAveragePool", ["x"], ["g"]),
                node("Conv", ["g", "w1", "b1"], ["s1"], name="/fc1/Conv"),
                node("Relu", ["s1"], ["s2"]),
                node("Conv", ["s2", "w2", "b2"], ["s3"], name="/fc2/Conv"),
                node("HardSigmoid", ["s3"], ["s4"], alpha=1 / 6, beta=0.5),
                node("Mul", ["s4", "x"], ["y"]),
            ],
            [1, 4, 6, 6],
            {"w1": rand(2, 4, 1, 1), "b1": rand(2), "w2": rand(4, 2, 1, 1), "b2": rand(4)},
        ),
        (4 * 2 + 2) + (2 * 4 + 4),
        0,
        4 * 2 + 2 * 4,
        ("adaptive_avg_pool", "conv2d", "activation", "conv2d", "activation", "multiply"),
    ),
    Case(
        "global-max-pool-kept-as-map",
        Model([1, 3, 5, 4], [node("GlobalMaxPool", ["x"], ["g"]), node("Mul", ["g", "x"], ["y"])], [1, 3, 5, 4]),
        types=("max_pool", "multiply"),
    ),
    # global pools of (N, C, L) and (N, C, D, H, W): flattened, or read again as a map
    Case(
        "global-avg-pool-1d-flatten",
        Model([1, 4, 7], [node("GlobalAveragePool", ["x"], ["g"]), node("Flatten", ["g"], ["y"])], [1, 4]),
        types=("global_avg_pool",),
    ),
    Case(
        "global-max-pool-3d-flatten",
        Model([1, 3, 2, 4, 5], [node("GlobalMaxPool", ["x"], ["g"]), node("Flatten", ["g"], ["y"])], [1, 3]),
        types=("global_max_pool",),
    ),
    Case(
        "global-avg-pool-3d-gate",
        Model(
            [1, 3, 2, 4, 4], [node("GlobalAveragePool", ["x"], ["g"]), node("Mul", ["g", "x"], ["y"])], [1, 3, 2, 4, 4]
        ),
        types=("mean", "multiply"),
    ),
    Case(
        "global-max-pool-1d-gate",
        Model([1, 3, 6], [node("GlobalMaxPool", ["x"], ["g"]), node("Mul", ["x", "g"], ["y"])], [1, 3, 6]),
        types=("max_pool1d", "multiply"),
    ),
    # arithmetic with a scalar constant: x * 0.5, / 4, + 1, - 3
    Case(
        "scalar-arithmetic",
        Model(
            [1, 6],
            [
                const("half", 0.5, np.float32),
                node("Mul", ["half", "x"], ["a"]),
                const("four", 4.0, np.float32),
                node("Div", ["a", "four"], ["b"]),
                const("one", [1.0], np.float32),
                node("Add", ["b", "one"], ["c"]),
                const("three", 3.0, np.float32),
                node("Sub", ["c", "three"], ["y"]),
            ],
            [1, 6],
        ),
        types=("rescale", "rescale", "rescale", "rescale"),
    ),
    # sequences and transformers: (batch, steps, features) held as (steps, features)
    Case(
        "layer-norm",
        seq([node("LayerNormalization", ["x", "g", "b"], ["y"], axis=-1, epsilon=1e-5)], {"g": rand(8), "b": rand(8)}),
        2 * 8,
        0,
        0,
        ("layer_norm",),
    ),
    Case(
        "layer-norm-two-axes-no-bias",
        seq([node("LayerNormalization", ["x", "g"], ["y"], axis=1)], {"g": rand(6, 8)}),
        6 * 8,
        0,
        0,
        ("layer_norm",),
    ),
    # attention scores: q (6, 8) by k transposed (8, 6): 6 x 8 x 6 MACs, read transposed rather than moved
    Case(
        "matmul-of-tensors",
        seq(
            [
                node("MatMul", ["x", "wq"], ["q"], name="/q/MatMul"),
                node("MatMul", ["x", "wk"], ["k"], name="/k/MatMul"),
                node("Transpose", ["k"], ["kt"], perm=[0, 2, 1]),
                node("MatMul", ["q", "kt"], ["s"]),
                node("Softmax", ["s"], ["y"], axis=-1),
            ],
            {"wq": rand(8, 8), "wk": rand(8, 8)},
            out=(1, 6, 6),
        ),
        2 * 8 * 8,
        0,
        2 * 6 * 8 * 8 + 6 * 8 * 6,
        ("dense", "dense", "matmul", "softmax"),
    ),
    # heads: (1, 6, 8) -> (1, 6, 2, 4) -> (1, 2, 6, 4), per head (6, 4) x (4, 6)
    Case(
        "multi-head-scores",
        seq(
            [
                const("shape", [1, 6, 2, 4]),
                node("Reshape", ["x", "shape"], ["h"]),
                node("Transpose", ["h"], ["q"], perm=[0, 2, 1, 3], name="/q/Transpose"),
                node("Transpose", ["h"], ["kt"], perm=[0, 2, 3, 1], name="/k/Transpose"),
                node("MatMul", ["q", "kt"], ["y"]),
            ],
            out=(1, 2, 6, 6),
        ),
        0,
        0,
        2 * 6 * 4 * 6,
        ("reshape", "transpose", "transpose", "matmul"),
    ),
    # PyTorch's MultiheadAttention merges a batch of 1 with the heads: (6, 1, 8) -> (6, 2, 4) -> (2, 6, 4)
    Case(
        "batch-merged-with-heads",
        seq(
            [
                node("Transpose", ["x"], ["t"], perm=[1, 0, 2], name="/t/Transpose"),
                const("shape", [6, 2, 4]),
                node("Reshape", ["t", "shape"], ["h"]),
                node("Transpose", ["h"], ["q"], perm=[1, 0, 2], name="/q/Transpose"),
                node("Transpose", ["h"], ["kt"], perm=[1, 2, 0], name="/k/Transpose"),
                node("MatMul", ["q", "kt"], ["s"]),
                const("back", [1, 2, 6, 6]),
                node("Reshape", ["s", "back"], ["y"], name="/back/Reshape"),
            ],
            out=(1, 2, 6, 6),
        ),
        0,
        0,
        2 * 6 * 4 * 6,
        ("reshape", "transpose", "transpose", "matmul"),
    ),
    # token ids looked up in a (vocabulary, width) table, plus a learned position table
    Case(
        "embedding-and-positions",
        seq(
            [node("Gather", ["table", "x"], ["e"]), node("Add", ["e", "pos"], ["y"])],
            {"table": rand(50, 8), "pos": rand(1, 6, 8)},
            x=(1, 6),
            ids=True,
        ),
        50 * 8 + 6 * 8,
        0,
        0,
        ("embedding", "parameter", "add"),
    ),
    Case(
        "class-token-concat",
        seq([node("Concat", ["cls", "x"], ["y"], axis=1)], {"cls": rand(1, 1, 8)}, out=(1, 7, 8)),
        8,
        0,
        0,
        ("parameter", "concat"),
    ),
    Case(
        "layer-scale-mul",
        seq([node("Mul", ["x", "scale"], ["y"])], {"scale": rand(8)}),
        8,
        0,
        0,
        ("parameter", "multiply"),
    ),
    Case(
        "gather-first-token",
        seq([const("zero", 0), node("Gather", ["x", "zero"], ["y"], axis=1)], out=(1, 8)),
        types=("select",),
    ),
    Case(
        "gather-range-is-slice",
        seq([const("idx", [1, 2, 3]), node("Gather", ["x", "idx"], ["y"], axis=1)], out=(1, 3, 8)),
        types=("slice",),
    ),
    Case(
        "slice-two-axes",
        seq(
            [
                const("s", [1, 2]),
                const("e", [5, 8]),
                const("a", [1, 2]),
                const("st", [2, 1]),
                node("Slice", ["x", "s", "e", "a", "st"], ["y"]),
            ],
            out=(1, 2, 6),
        ),
        types=("slice", "slice"),
    ),
    Case(
        "split-three",
        seq(
            [
                const("sizes", [2, 2, 4]),
                node("Split", ["x", "sizes"], ["a", "b", "c"], axis=2),
                node("Concat", ["c", "a"], ["y"], axis=2),
            ],
            out=(1, 6, 6),
        ),
        types=("split", "split", "concat"),
    ),
    Case(
        "reduce-mean-last-axis",
        seq([node("ReduceMean", ["x"], ["y"], axes=[-1], keepdims=1)], out=(1, 6, 1), opset=13),
        types=("mean",),
    ),
    # GELU as exporters write it: x * 0.5 * (1 + erf(x / sqrt 2)), and HF's (0.5 x) * (1 + erf(...))
    Case(
        "gelu-erf",
        seq(
            [
                const("r2", 1.4142135, np.float32),
                node("Div", ["x", "r2"], ["d"]),
                node("Erf", ["d"], ["e"]),
                const("one", 1.0, np.float32),
                node("Add", ["e", "one"], ["p"]),
                node("Mul", ["x", "p"], ["m"]),
                const("half", 0.5, np.float32),
                node("Mul", ["m", "half"], ["y"], name="/half/Mul"),
            ]
        ),
        types=("activation",),
    ),
    Case(
        "gelu-erf-half-first",
        seq(
            [
                const("half", 0.5, np.float32),
                node("Mul", ["x", "half"], ["h"], name="/half/Mul"),
                const("c", 0.70710677, np.float32),
                node("Mul", ["x", "c"], ["d"], name="/scale/Mul"),
                node("Erf", ["d"], ["e"]),
                const("one", 1.0, np.float32),
                node("Add", ["e", "one"], ["p"]),
                node("Mul", ["h", "p"], ["y"]),
            ]
        ),
        types=("activation",),
    ),
    # recurrent layers: ONNX's gates (LSTM i, o, f, c; GRU z, r, h) and two bias vectors, as PyTorch
    Case(
        "lstm-sequences",
        seq(
            [
                node("Transpose", ["x"], ["t"], perm=[1, 0, 2]),
                node("LSTM", ["t", "w", "r", "b"], ["y4", "yh", "yc"], hidden_size=5),
                const("ax", [1]),
                node("Squeeze", ["y4", "ax"], ["s"]),
                node("Transpose", ["s"], ["y"], perm=[1, 0, 2], name="/back/Transpose"),
            ],
            {"w": rand(1, 20, 8), "r": rand(1, 20, 5), "b": rand(1, 40)},
            out=(1, 6, 5),
        ),
        20 * 8 + 20 * 5 + 40,
        0,
        6 * 4 * 5 * (8 + 5),
        ("lstm",),
    ),
    Case(
        "lstm-bidirectional-last",
        seq(
            [
                node("Transpose", ["x"], ["t"], perm=[1, 0, 2]),
                node("LSTM", ["t", "w", "r"], ["", "yh"], hidden_size=3, direction="bidirectional"),
                node("Transpose", ["yh"], ["y"], perm=[1, 0, 2], name="/back/Transpose"),
            ],
            {"w": rand(2, 12, 8), "r": rand(2, 12, 3)},
            out=(1, 2, 3),
        ),
        2 * (12 * 8 + 12 * 3),
        0,
        2 * 6 * 4 * 3 * (8 + 3),
        ("lstm", "reshape"),
    ),
    Case(
        "gru-reset-after",
        seq(
            [
                node("Transpose", ["x"], ["t"], perm=[1, 0, 2]),
                node("GRU", ["t", "w", "r", "b"], ["y4"], hidden_size=4, linear_before_reset=1),
                node("Transpose", ["y4"], ["s"], perm=[2, 0, 1, 3], name="/back/Transpose"),
                const("shape", [1, 6, 4]),
                node("Reshape", ["s", "shape"], ["y"]),
            ],
            {"w": rand(1, 12, 8), "r": rand(1, 12, 4), "b": rand(1, 24)},
            out=(1, 6, 4),
        ),
        12 * 8 + 12 * 4 + 24,
        0,
        6 * 3 * 4 * (8 + 4),
        ("gru",),
    ),
    Case(
        "gru-reset-before",
        seq(
            [
                node("Transpose", ["x"], ["t"], perm=[1, 0, 2]),
                node("GRU", ["t", "w", "r", "b"], ["", "yh"], hidden_size=4),
                const("ax", [0]),
                node("Squeeze", ["yh", "ax"], ["y"]),
            ],
            {"w": rand(1, 12, 8), "r": rand(1, 12, 4), "b": rand(1, 24)},
            out=(1, 4),
        ),
        12 * 8 + 12 * 4 + 24,
        0,
        6 * 3 * 4 * (8 + 4),
        ("gru",),
    ),
    # decoders: a transposed convolution multiplies each input position by every tap: 4 x 4 x 3 x (2 x 3 x 3) MACs
    Case(
        "conv-transpose-stride2",
        Model(
            [1, 3, 4, 4],
            [node("ConvTranspose", ["x", "w", "b"], ["y"], strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1])],
            [1, 2, 8, 8],
            {"w": rand(3, 2, 3, 3), "b": rand(2)},
        ),
        3 * 2 * 3 * 3 + 2,
        0,
        4 * 4 * 3 * 2 * 3 * 3,
        ("conv2d_transpose",),
    ),
    Case(
        "conv-transpose-output-shape",
        Model(
            [1, 2, 3, 3],
            [node("ConvTranspose", ["x", "w"], ["y"], strides=[2, 2], output_shape=[6, 6], auto_pad="SAME_UPPER")],
            [1, 4, 6, 6],
            {"w": rand(2, 4, 4, 4)},
        ),
        2 * 4 * 4 * 4,
        0,
        3 * 3 * 2 * 4 * 4 * 4,
        ("conv2d_transpose",),
    ),
    Case(
        "resize-nearest-scale",
        Model(
            [1, 2, 3, 3],
            [
                const("roi", [], np.float32),
                const("scales", [1, 1, 2, 2], np.float32),
                node(
                    "Resize",
                    ["x", "roi", "scales"],
                    ["y"],
                    mode="nearest",
                    coordinate_transformation_mode="asymmetric",
                    nearest_mode="floor",
                ),
            ],
            [1, 2, 6, 6],
            opset=13,
        ),
        types=("upsample",),
    ),
    Case(
        "resize-bilinear-size",
        Model(
            [1, 2, 3, 4],
            [
                const("roi", [], np.float32),
                const("scales", [], np.float32),
                const("sizes", [1, 2, 5, 7]),
                node(
                    "Resize",
                    ["x", "roi", "scales", "sizes"],
                    ["y"],
                    mode="linear",
                    coordinate_transformation_mode="pytorch_half_pixel",
                ),
            ],
            [1, 2, 5, 7],
            opset=13,
        ),
        types=("upsample",),
    ),
    Case(
        "resize-bilinear-align-corners",
        Model(
            [1, 2, 3, 4],
            [
                const("roi", [], np.float32),
                const("scales", [1, 1, 2, 2], np.float32),
                node(
                    "Resize",
                    ["x", "roi", "scales"],
                    ["y"],
                    mode="linear",
                    coordinate_transformation_mode="align_corners",
                ),
            ],
            [1, 2, 6, 8],
            opset=13,
        ),
        types=("upsample",),
    ),
    Case(
        "upsample-opset9",
        Model(
            [1, 2, 3, 3],
            [const("scales", [1, 1, 2, 3], np.float32), node("Upsample", ["x", "scales"], ["y"], mode="nearest")],
            [1, 2, 6, 9],
            opset=9,
        ),
        types=("upsample",),
    ),
    # Resize of (N, C, L) and (N, C, D, H, W): upsample1d and upsample3d, the same rules one rank down or up
    Case("resize-1d-nearest-scale", resize([1, 2, 5], [1, 2, 10], scales=[1, 1, 2], **NEAREST), types=("upsample1d",)),
    Case(
        "resize-1d-linear-align-corners",
        resize(
            [1, 3, 4], [1, 3, 10], scales=[1, 1, 2.5], mode="linear", coordinate_transformation_mode="align_corners"
        ),
        types=("upsample1d",),
    ),
    Case(
        "resize-3d-trilinear-size",
        resize([1, 2, 3, 4, 4], [1, 2, 6, 8, 7], sizes=[1, 2, 6, 8, 7], mode="linear"),
        types=("upsample3d",),
    ),
    Case(
        "resize-3d-nearest-scale",
        resize([1, 2, 2, 3, 3], [1, 2, 4, 6, 9], scales=[1, 1, 2, 2, 3], **NEAREST),
        types=("upsample3d",),
    ),
    # GroupNormalization: opset 21 scales and shifts per channel (2 x 6), opset 18 per group (2 x 3; deprecated
    # since 21, so onnx's checker refuses it, but exporters wrote it and ONNX Runtime runs it)
    Case(
        "group-norm-opset21",
        Model(
            [1, 6, 4, 5],
            [node("GroupNormalization", ["x", "s", "b"], ["y"], num_groups=3, epsilon=1e-5)],
            [1, 6, 4, 5],
            {"s": rand(6), "b": rand(6)},
            opset=21,
        ),
        2 * 6,
        0,
        0,
        ("group_norm",),
    ),
    Case(
        "group-norm-1d-opset21",
        Model(
            [1, 4, 7],
            [node("GroupNormalization", ["x", "s", "b"], ["y"], num_groups=2)],
            [1, 4, 7],
            {"s": rand(4), "b": rand(4)},
            opset=21,
        ),
        2 * 4,
        0,
        0,
        ("group_norm",),
    ),
    Case(
        "group-norm-opset18-per-group",
        Model(
            [1, 6, 4, 5],
            [node("GroupNormalization", ["x", "s", "b"], ["y"], num_groups=3)],
            [1, 6, 4, 5],
            {"s": rand(3), "b": rand(3)},
            opset=18,
            check=False,
        ),
        2 * 3,
        0,
        0,
        ("group_norm", "reshape", "parameter", "multiply", "parameter", "add", "reshape"),
    ),
    Case(
        "instance-norm",
        Model(
            [1, 3, 4, 5],
            [node("InstanceNormalization", ["x", "s", "b"], ["y"], epsilon=1e-5)],
            [1, 3, 4, 5],
            {"s": rand(3), "b": rand(3)},
        ),
        2 * 3,
        0,
        0,
        ("instance_norm",),
    ),
    # 1-D and 3-D windows: the same rules per axis. conv1d: (10 + 2 - 3) // 2 + 1 = 5 positions x 4 filters x 3 taps x 2 channels
    Case(
        "conv1d-stride2-pad1",
        conv_model((4, 2, 3), [1, 2, 10], [1, 4, 5], strides=[2], pads=[1, 1]),
        4 * 2 * 3 + 4,
        0,
        5 * 4 * 3 * 2,
        ("conv1d",),
    ),
    Case(
        "conv1d-depthwise-same-lower",
        conv_model((6, 1, 4), [1, 3, 9], [1, 6, 9], group=3, auto_pad="SAME_LOWER"),
        6 * 4 + 6,
        0,
        9 * 6 * 4,
        ("depthwise_conv1d",),
    ),
    # conv3d: (5 - 3 + 1, 6 + 1 + 0 - 2 + 1, 6 - 3 + 1 + 2) = (3, 6, 6) outputs, 2 filters x 3 x 2 x 3 taps x 3 channels
    Case(
        "conv3d-asym-pads",
        conv_model((2, 3, 3, 2, 3), [1, 3, 5, 6, 6], [1, 2, 3, 6, 6], pads=[0, 1, 1, 0, 0, 1]),
        2 * 3 * 3 * 2 * 3 + 2,
        0,
        3 * 6 * 6 * 2 * 3 * 2 * 3 * 3,
        ("conv3d",),
    ),
    Case(
        "conv3d-grouped-dilated",
        conv_model((4, 2, 2, 2, 2), [1, 4, 5, 5, 5], [1, 4, 3, 3, 3], bias=False, group=2, dilations=[2, 2, 2]),
        4 * 2 * 2 * 2 * 2,
        0,
        3 * 3 * 3 * 4 * 2 * 2 * 2 * 2,
        ("conv3d",),
    ),
    Case(
        "conv3d-depthwise",
        conv_model((2, 1, 3, 3, 3), [1, 2, 4, 4, 4], [1, 2, 4, 4, 4], group=2, pads=[1] * 6),
        2 * 27 + 2,
        0,
        4 * 4 * 4 * 2 * 27,
        ("depthwise_conv3d",),
    ),
    # transposed: every input position times every tap: (L) 5 x 3 channels x 2 filters x 4 taps
    Case(
        "conv1d-transpose",
        Model(
            [1, 3, 5],
            [node("ConvTranspose", ["x", "w", "b"], ["y"], strides=[2], pads=[1, 1])],
            [1, 2, (5 - 1) * 2 - 2 + 4],
            {"w": rand(3, 2, 4), "b": rand(2)},
        ),
        3 * 2 * 4 + 2,
        0,
        5 * 3 * 2 * 4,
        ("conv1d_transpose",),
    ),
    Case(
        "conv3d-transpose-output-padding",
        Model(
            [1, 2, 2, 3, 3],
            [node("ConvTranspose", ["x", "w"], ["y"], strides=[2, 2, 2], output_padding=[1, 0, 1])],
            [1, 3, (2 - 1) * 2 + 2 + 1, (3 - 1) * 2 + 2, (3 - 1) * 2 + 2 + 1],
            {"w": rand(2, 3, 2, 2, 2)},
        ),
        2 * 3 * 8,
        0,
        2 * 3 * 3 * 2 * 3 * 8,
        ("conv3d_transpose",),
    ),
    Case(
        "maxpool1d-ceil",
        Model([1, 2, 10], [node("MaxPool", ["x"], ["y"], kernel_shape=[3], strides=[2], ceil_mode=1)], [1, 2, 5]),
        types=("max_pool1d",),
    ),
    Case(
        "avgpool1d-pads",
        Model([1, 2, 7], [node("AveragePool", ["x"], ["y"], kernel_shape=[3], pads=[1, 1])], [1, 2, 7]),
        types=("avg_pool1d",),
    ),
    Case(
        "maxpool3d",
        Model(
            [1, 2, 4, 6, 6],
            [node("MaxPool", ["x"], ["y"], kernel_shape=[2, 3, 3], strides=[2, 2, 2], pads=[0, 1, 1, 0, 1, 1])],
            [1, 2, 2, 3, 3],
        ),
        types=("max_pool3d",),
    ),
    Case(
        "avgpool3d-count-include-pad",
        Model(
            [1, 2, 4, 5, 5],
            [
                node(
                    "AveragePool",
                    ["x"],
                    ["y"],
                    kernel_shape=[2, 2, 2],
                    strides=[2, 2, 2],
                    pads=[0, 1, 1, 0, 1, 1],
                    count_include_pad=1,
                )
            ],
            [1, 2, 2, 3, 3],
        ),
        types=("avg_pool3d",),
    ),
    # Hugging Face's extended attention mask: (1 - mask) x -10000 added to the scores, broadcast over the query rows
    Case(
        "attention-mask-arithmetic",
        Graph(
            [1, 6, 8],
            [
                node("MatMul", ["x", "wq"], ["q"], name="/q/MatMul"),
                node("Transpose", ["x"], ["xt"], perm=[0, 2, 1], name="/k/Transpose"),
                node("MatMul", ["q", "xt"], ["s"], name="/s/MatMul"),
                const("ax", [1]),
                node("Unsqueeze", ["mask", "ax"], ["m1"]),
                node("Cast", ["m1"], ["mf"], to=F),
                const("one", 1.0, np.float32),
                node("Sub", ["one", "mf"], ["inv"]),
                const("big", -10000.0, np.float32),
                node("Mul", ["inv", "big"], ["neg"]),
                node("Add", ["s", "neg"], ["a"]),
                node("Softmax", ["a"], ["y"], axis=-1),
            ],
            [1, 6, 6],
            {"wq": rand(8, 8)},
            inputs=[("x", F, [1, 6, 8]), ("mask", TensorProto.INT64, [1, 6])],
            outputs=[("y", [1, 6, 6])],
        ),
        8 * 8,
        0,
        6 * 8 * 8 + 6 * 8 * 6,
        ("input", "dense", "matmul", "rescale", "rescale", "reshape", "add", "softmax"),
    ),
    # merging
    Case(
        "add-two-convs",
        Model(
            [1, 3, 6, 6],
            [
                node("Conv", ["x", "w1"], ["a"], name="/a/Conv", pads=[1, 1, 1, 1]),
                node("Conv", ["x", "w2"], ["b"], name="/b/Conv"),
                node("Add", ["a", "b"], ["y"]),
            ],
            [1, 4, 6, 6],
            {"w1": rand(4, 3, 3, 3), "w2": rand(4, 3, 1, 1)},
        ),
        4 * 3 * 3 * 3 + 4 * 3,
        0,
        4 * 6 * 6 * 3 * 3 * 3 + 4 * 6 * 6 * 3,
        ("conv2d", "conv2d", "add"),
    ),
    # two computed tensors that broadcast: a map minus its per-channel mean, divided by a per-position gate;
    # one subtraction and one division per output element, no MACs beyond the convolution
    Case(
        "sub-div-broadcast",
        Model(
            [1, 3, 5, 5],
            [
                node("Conv", ["x", "w"], ["c"]),
                node("GlobalAveragePool", ["c"], ["m"]),
                node("Sub", ["c", "m"], ["d"]),
                const("ax", [1]),
                node("ReduceMean", ["x", "ax"], ["r"], keepdims=1, name="/gate/ReduceMean"),
                node("Sigmoid", ["r"], ["g"]),
                node("Div", ["d", "g"], ["y"]),
            ],
            [1, 4, 5, 5],
            {"w": rand(4, 3, 1, 1)},
            opset=18,
        ),
        4 * 3,
        0,
        4 * 5 * 5 * 3,
        ("conv2d", "adaptive_avg_pool", "subtract", "mean", "activation", "divide"),
    ),
    # Add and Mul of activations broadcast both ways: (1, 6, 1) and (1, 1, 8) make (1, 6, 8)
    Case(
        "add-mul-broadcast-both-ways",
        seq(
            [
                const("a1", [2]),
                node("ReduceMean", ["x", "a1"], ["rows"], keepdims=1),
                const("a2", [1]),
                node("ReduceMean", ["x", "a2"], ["cols"], keepdims=1, name="/cols/ReduceMean"),
                node("Add", ["rows", "cols"], ["s"]),
                node("Mul", ["s", "cols"], ["y"]),
            ],
            opset=18,
        ),
        types=("mean", "mean", "add", "multiply"),
    ),
    # Sub and Div with a constant tensor: a learned per-feature shift and scale
    Case(
        "sub-div-constant-tensor",
        seq(
            [node("Sub", ["mu", "x"], ["d"]), node("Div", ["d", "sd"], ["y"])],
            {"mu": rand(8), "sd": rand(8, positive=True)},
        ),
        8 + 8,
        0,
        0,
        ("parameter", "subtract", "parameter", "divide"),
    ),
    Case(
        "scalar-minus-tensor",
        Model([1, 6], [const("one", 1.0, np.float32), node("Sub", ["one", "x"], ["y"])], [1, 6]),
        types=("rescale",),
    ),
    Case(
        "concat-channels",
        Model(
            [1, 3, 6, 6],
            [
                node("Conv", ["x", "w1"], ["a"], name="/a/Conv"),
                node("Relu", ["x"], ["b"]),
                node("Concat", ["a", "b"], ["y"], axis=1),
            ],
            [1, 5, 6, 6],
            {"w1": rand(2, 3, 1, 1)},
        ),
        2 * 3,
        0,
        2 * 6 * 6 * 3,
        ("conv2d", "activation", "concat"),
    ),
    Case(
        "dropout-identity",
        Model(
            [1, 6],
            [const("ratio", 0.25, np.float32), node("Dropout", ["x", "ratio"], ["d"]), node("Identity", ["d"], ["y"])],
            [1, 6],
        ),
        types=("dropout",),
    ),
    Case(
        "pad-spatial",
        Model([1, 2, 4, 4], [const("pads", [0, 0, 1, 2, 0, 0, 3, 0]), node("Pad", ["x", "pads"], ["y"])], [1, 2, 8, 6]),
        types=("zero_pad",),
    ),
    Case(
        "pad-opset9-attribute",
        Model([1, 2, 4, 4], [node("Pad", ["x"], ["y"], pads=[0, 0, 1, 1, 0, 0, 1, 1])], [1, 2, 6, 6], opset=9),
        types=("zero_pad",),
    ),
    # Pad of (N, C, L) and (N, C, D, H, W): zeros before and after each spatial axis
    Case(
        "pad-1d",
        Model([1, 3, 5], [const("pads", [0, 0, 2, 0, 0, 1]), node("Pad", ["x", "pads"], ["y"])], [1, 3, 8]),
        types=("zero_pad1d",),
    ),
    Case(
        "pad-3d-axes",
        Model(
            [1, 2, 3, 4, 5],
            [
                const("pads", [1, 2, 0, 1]),
                const("axes", [2, 4]),
                node("Pad", ["x", "pads", "", "axes"], ["y"]),
            ],
            [1, 2, 4, 4, 8],
            opset=18,
        ),
        types=("zero_pad3d",),
    ),
    # C, H, W order differs from the spec's H, W, C: a Flatten after a convolution transposes first
    Case(
        "flatten-feature-map",
        Model(
            [1, 2, 3, 3],
            [node("Conv", ["x", "w"], ["c"]), node("Flatten", ["c"], ["y"])],
            [1, 18],
            {"w": rand(2, 2, 1, 1)},
        ),
        2 * 2,
        0,
        3 * 3 * 2 * 2,
        ("conv2d", "transpose", "flatten"),
    ),
    # transposes that cancel out move no data: no layer
    Case(
        "transpose-round-trip",
        Model(
            [1, 3, 4, 4],
            [
                node("Conv", ["x", "w"], ["c"]),
                node("Transpose", ["c"], ["t"], perm=[0, 2, 3, 1], name="/t1/Transpose"),
                node("Transpose", ["t"], ["y"], perm=[0, 3, 1, 2], name="/t2/Transpose"),
            ],
            [1, 2, 4, 4],
            {"w": rand(2, 3, 1, 1)},
        ),
        2 * 3,
        0,
        2 * 4 * 4 * 3,
        ("conv2d",),
    ),
    Case(
        "squeeze-unsqueeze",
        Model(
            [1, 3, 4, 4],
            [
                node("GlobalAveragePool", ["x"], ["g"]),
                const("axes", [2, 3]),
                node("Squeeze", ["g", "axes"], ["s"]),
                node("Unsqueeze", ["s", "axes"], ["y"]),
            ],
            [1, 3, 1, 1],
        ),
        types=("global_avg_pool",),
    ),
    # constants that meet a tensor: a float initializer is learned, folded through Expand too (ViT's class
    # token); a Constant node is a literal (a fixed sinusoidal table), not trained
    Case(
        "class-token-expanded",
        seq(
            [
                const("shape", [1, 1, 8]),
                node("Expand", ["cls", "shape"], ["c"]),
                node("Concat", ["c", "x"], ["y"], axis=1),
            ],
            {"cls": rand(1, 1, 8)},
            out=(1, 7, 8),
        ),
        1 * 8,
        0,
        0,
        ("parameter", "concat"),
    ),
    Case(
        "fixed-table-added",
        seq([const("table", rand(6, 8), np.float32), node("Add", ["x", "table"], ["y"])]),
        0,
        6 * 8,
        0,
        ("parameter", "add"),
    ),
    # masked_fill with a value that is no mask idiom: x times a fixed 0/1 tensor, plus the value where masked
    Case(
        "where-fill-value",
        seq(
            [const("two", 2.0, np.float32), node("Where", ["keep", "x", "two"], ["y"])],
            {"keep": np.random.default_rng(7).random((6, 8)) < 0.5},
        ),
        0,
        6 * 8 + 6 * 8,
        0,
        ("parameter", "multiply", "parameter", "add"),
    ),
    # masked_fill with zero, the tensor on the false side: a multiply alone, by the mask negated
    Case(
        "where-fill-zero",
        seq(
            [const("zero", 0.0, np.float32), node("Where", ["drop", "zero", "x"], ["y"])],
            {"drop": np.random.default_rng(8).random((1, 8)) < 0.5},
        ),
        0,
        1 * 8,
        0,
        ("parameter", "multiply"),
    ),
]


# ---------------------------------------------------------------- causal masks
# GPT-2's attention with heads H = 2 of width D = 4 over T = 6 positions of E = 8 features, its causal mask
# written each way exporters write it. The q, k, v and output projections are its learned weights; the
# mask is fixed: T x T values, one per score of a head, shared by the heads.
T, E, H, D = 6, 8, 2, 4
LOWEST = np.finfo(np.float32).min


def _attention(mask_nodes, weights):
    """q k^T / sqrt(D), masked by mask_nodes (they read 'scores' and write 'masked'), softmax, times v, projected."""
    nodes, w = [], dict(weights)
    for p in "qkvo":
        w[f"w{p}"], w[f"b{p}"] = rand(E, E), rand(E)
    for p in "qkv":
        nodes += [
            node("MatMul", ["x", f"w{p}"], [f"{p}0"], name=f"/{p}/MatMul"),
            node("Add", [f"{p}0", f"b{p}"], [p], name=f"/{p}/Add"),
        ]
    nodes += [
        const("heads", [1, T, H, D]),
        *(node("Reshape", [p, "heads"], [f"{p}h"], name=f"/{p}/Reshape") for p in "qkv"),
        node("Transpose", ["qh"], ["qt"], perm=[0, 2, 1, 3], name="/q/Transpose"),
        node("Transpose", ["kh"], ["kt"], perm=[0, 2, 3, 1], name="/k/Transpose"),
        node("Transpose", ["vh"], ["vt"], perm=[0, 2, 1, 3], name="/v/Transpose"),
        node("MatMul", ["qt", "kt"], ["qk"], name="/scores/MatMul"),
        const("root", float(np.sqrt(D)), np.float32),
        node("Div", ["qk", "root"], ["scores"], name="/scores/Div"),
        *mask_nodes,
        node("Softmax", ["masked"], ["probs"], axis=-1),
        node("MatMul", ["probs", "vt"], ["mix"], name="/mix/MatMul"),
        node("Transpose", ["mix"], ["mt"], perm=[0, 2, 1, 3], name="/mix/Transpose"),
        const("width", [1, T, E]),
        node("Reshape", ["mt", "width"], ["m"], name="/mix/Reshape"),
        node("MatMul", ["m", "wo"], ["o0"], name="/o/MatMul"),
        node("Add", ["o0", "bo"], ["y"], name="/o/Add"),
    ]
    return seq(nodes, w, out=(1, T, E), x=(1, T, E))


ATTENTION_TRAINABLE = 4 * (E * E + E)
ATTENTION_MACS = 4 * T * E * E + H * T * D * T + H * T * T * D
MAX_POSITIONS = 80  # GPT-2's is 1024; 80 x 80 booleans (6,400 bytes) are still past what is read for counting

MASKS = {
    # transformers' GPT-2 before its SDPA rewrite, as torch.onnx exports it: a boolean buffer
    # tril(ones(P, P)) viewed (1, 1, P, P), sliced to [k - q : k, :k] with lengths from Shape, then
    # torch.where(mask, scores, finfo(float32).min)
    "gpt2-boolean-buffer-where": (
        [
            node("Shape", ["qt"], ["qs"], name="/mask/Shape"),
            const("two", 2),
            node("Gather", ["qs", "two"], ["ql"], axis=0, name="/mask/Gather"),
            node("Shape", ["kt"], ["ks"], name="/mask/Shape_1"),
            const("three", 3),
            node("Gather", ["ks", "three"], ["kl"], axis=0, name="/mask/Gather_1"),
            node("Sub", ["kl", "ql"], ["start"], name="/mask/Sub"),
            const("zero_axis", [0]),
            node("Unsqueeze", ["start", "zero_axis"], ["start1"], name="/mask/Unsqueeze"),
            node("Unsqueeze", ["kl", "zero_axis"], ["kl1"], name="/mask/Unsqueeze_1"),
            const("rows", [2]),
            node("Slice", ["bias", "start1", "kl1", "rows"], ["rows_cut"], name="/mask/Slice"),
            const("zero", [0]),
            const("columns", [3]),
            node("Slice", ["rows_cut", "zero", "kl1", "columns"], ["causal"], name="/mask/Slice_1"),
            const("lowest", LOWEST, np.float32),
            node("Where", ["causal", "scores", "lowest"], ["masked"], name="/mask/Where"),
        ],
        {"bias": np.tril(np.ones((MAX_POSITIONS, MAX_POSITIONS), bool)).reshape(1, 1, MAX_POSITIONS, MAX_POSITIONS)},
    ),
    # transformers' _make_causal_mask: full((T, T), lowest), masked_fill(arange(T) < (arange(T) + 1).view(T, 1), 0),
    # then added to the scores
    "hf-range-less-additive": (
        [
            node("Shape", ["x"], ["xs"], name="/mask/Shape"),
            const("one_index", 1),
            node("Gather", ["xs", "one_index"], ["t"], axis=0, name="/mask/Gather"),
            const("zero_axis", [0]),
            node("Unsqueeze", ["t", "zero_axis"], ["t1"], name="/mask/Unsqueeze"),
            node("Concat", ["t1", "t1"], ["square"], axis=0, name="/mask/Concat"),
            helper.make_node(
                "ConstantOfShape",
                ["square"],
                ["full"],
                name="/mask/ConstantOfShape",
                value=numpy_helper.from_array(np.array([LOWEST], np.float32)),
            ),
            const("start", 0),
            const("step", 1),
            node("Range", ["start", "t", "step"], ["cond"], name="/mask/Range"),
            node("Add", ["cond", "step"], ["cond1"], name="/mask/Add"),
            const("column", [-1, 1]),
            node("Reshape", ["cond1", "column"], ["cond2"], name="/mask/Reshape"),
            node("Less", ["cond", "cond2"], ["below"], name="/mask/Less"),
            const("nothing", 0.0, np.float32),
            node("Where", ["below", "nothing", "full"], ["additive"], name="/mask/Where"),
            const("outer", [0, 1]),
            node("Unsqueeze", ["additive", "outer"], ["additive4"], name="/mask/Unsqueeze_1"),
            node("Add", ["scores", "additive4"], ["masked"], name="/mask/Add_1"),
        ],
        {},
    ),
    # scaled_dot_product_attention(is_causal=True) as torch.onnx writes it: ones(T, T) as booleans, Trilu
    # keeps the lower triangle, -inf where it is false, added to the scores
    "sdpa-trilu-infinity": (
        [
            node("Shape", ["scores"], ["ss"], name="/mask/Shape"),
            const("from", [-2]),
            const("upto", [2**62]),
            node("Slice", ["ss", "from", "upto"], ["square"], name="/mask/Slice"),
            helper.make_node(
                "ConstantOfShape",
                ["square"],
                ["ones"],
                name="/mask/ConstantOfShape",
                value=numpy_helper.from_array(np.array([True])),
            ),
            node("Trilu", ["ones"], ["lower"], upper=0, name="/mask/Trilu"),
            node("Not", ["lower"], ["above"], name="/mask/Not"),
            const("nothing", 0.0, np.float32),
            const("minus_inf", -np.inf, np.float32),
            node("Where", ["above", "minus_inf", "nothing"], ["additive"], name="/mask/Where"),
            node("Add", ["scores", "additive"], ["masked"], name="/mask/Add"),
        ],
        {},
    ),
}


@pytest.mark.parametrize("way", list(MASKS))
def test_a_causal_mask_is_a_fixed_tensor_not_a_trained_one(way, tmp_path):
    mask_nodes, weights = MASKS[way]
    path = _attention(mask_nodes, weights).save(tmp_path / f"{way}.onnx")
    graph = analyze(path)
    # the four projections are trained; the T x T mask, shared by the heads, is not
    assert (graph.totals.trainable, graph.totals.non_trainable) == (ATTENTION_TRAINABLE, T * T)
    assert graph.totals.macs == ATTENTION_MACS
    masks = [n for n in graph.nodes if n.type == "parameter"]
    assert [(n.shape, n.trainable, n.params) for n in masks] == [((1, T, T), 0, T * T)]
    # every way becomes one fixed tensor added to the scores
    types = _types(graph)
    assert types[types.index("rescale") + 1 :][:3] == ("parameter", "add", "softmax")
    witness = runtime_witness(graph)
    assert witness.skipped is None
    assert witness.ok, witness.summary()


def test_a_mask_every_block_applies_is_one_parameter(tmp_path):
    """One mask tensor read by two Adds (a model computes its mask once for all blocks) is counted once."""
    nodes = [
        const("ones_shape", [T, T]),
        helper.make_node(
            "ConstantOfShape", ["ones_shape"], ["ones"], value=numpy_helper.from_array(np.array([LOWEST], np.float32))
        ),
        const("k", 1),
        node("Trilu", ["ones", "k"], ["mask"]),
        const("heads", [1, T, H, D]),
        node("Reshape", ["x", "heads"], ["h"]),
        node("Transpose", ["h"], ["q"], perm=[0, 2, 1, 3], name="/q/Transpose"),
        node("Transpose", ["h"], ["kt"], perm=[0, 2, 3, 1], name="/k/Transpose"),
        node("MatMul", ["q", "kt"], ["s1"], name="/block1/MatMul"),
        node("Add", ["s1", "mask"], ["m1"], name="/block1/Add"),
        node("MatMul", ["q", "kt"], ["s2"], name="/block2/MatMul"),
        node("Add", ["s2", "mask"], ["m2"], name="/block2/Add"),
        node("Add", ["m1", "m2"], ["y"], name="/sum/Add"),
    ]
    path = seq(nodes, out=(1, H, T, T), x=(1, T, E)).save(tmp_path / "shared.onnx")
    graph = analyze(path)
    assert (graph.totals.trainable, graph.totals.non_trainable) == (0, T * T)
    assert _types(graph).count("parameter") == 1
    assert runtime_witness(graph).ok


def _types(graph):
    return tuple(n.type for n in graph.nodes[1:])


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_operator_imports_with_its_figures_and_computes_what_onnx_runtime_computes(case, tmp_path):
    path = case.model.save(tmp_path / f"{case.id}.onnx")
    graph = analyze(path)
    assert (graph.totals.trainable, graph.totals.non_trainable, graph.totals.macs) == (
        case.trainable,
        case.non_trainable,
        case.macs,
    )
    assert _types(graph) == case.types
    shape = case.model.output
    witness = runtime_witness(graph)
    assert witness.skipped is None
    assert [list(o.shape) for o in witness.outputs] == [shape]
    assert witness.ok, witness.summary()


def test_every_supported_operator_has_a_case():
    used = {n.op_type for c in CASES for n in c.model.nodes} | {n.op_type for m in MASKS.values() for n in m[0]}
    # Sum, Sub, Div and the other arithmetic are folded on constants (test_constant_folding)
    folded_only = {
        "Abs",
        "Ceil",
        "Equal",
        "Floor",
        "Greater",
        "Less",
        "Max",
        "Min",
        "Mod",
        "Neg",
        "Not",
        "Pow",
        "Range",
        "Reciprocal",
        "Slice",
        "Sqrt",
        "And",
        "Or",
        "Xor",
        "LessOrEqual",
        "GreaterOrEqual",
        "Size",
        "ConstantOfShape",
        "Cast",
        "CastLike",
        "Expand",
        "Sum",
    }
    assert set(supported_operators()) - used - folded_only == set()


def test_constant_folding_of_shape_arithmetic(tmp_path):
    # a reshape target computed the long way: every folded operator on the path, ending in [1, 3]
    nodes = [
        node("GlobalAveragePool", ["x"], ["g"]),
        node("Shape", ["g"], ["s"]),  # [1, 3, 1, 1]
        const("start", [0]),
        const("end", [2]),
        node("Slice", ["s", "start", "end"], ["s2"]),  # [1, 3]
        node("Cast", ["s2"], ["f"], to=TensorProto.FLOAT),
        const("two", 2.0, np.float32),
        node("Mul", ["f", "two"], ["f2"]),
        node("Div", ["f2", "two"], ["f3"]),
        node("Sqrt", ["f3"], ["f4"]),
        node("Pow", ["f4", "two"], ["f5"]),
        node("Abs", ["f5"], ["f6"]),
        node("Neg", ["f6"], ["f7"]),
        node("Neg", ["f7"], ["f8"], name="/neg2/Neg"),
        node("Floor", ["f8"], ["f9"]),
        node("Ceil", ["f9"], ["f10"]),
        const("one", 1.0, np.float32),
        node("Sub", ["f10", "one"], ["f11"]),
        node("Sum", ["f11", "one"], ["f12"]),
        node("Max", ["f12", "one"], ["f13"]),
        node("Min", ["f13", "f13"], ["f14"]),
        node("Reciprocal", ["f14"], ["r"]),
        node("Reciprocal", ["r"], ["f15"], name="/rec2/Reciprocal"),
        node("CastLike", ["f15", "s2"], ["i"]),
        node("Size", ["i"], ["size"]),  # 2
        node("Equal", ["i", "i"], ["eq"]),
        node("Not", ["eq"], ["neq"]),
        node("And", ["eq", "neq"], ["and"]),  # False
        node("Or", ["and", "eq"], ["or"]),  # True
        node("Xor", ["or", "neq"], ["xor"]),  # True
        node("LessOrEqual", ["i", "i"], ["le"]),
        node("GreaterOrEqual", ["i", "i"], ["ge"]),
        node("And", ["xor", "le"], ["all2"], name="/and2/And"),
        node("And", ["all2", "ge"], ["all3"], name="/and3/And"),
        node("Not", ["all3"], ["pick"], name="/not2/Not"),  # False, as neq
        node("Where", ["pick", "s2", "i"], ["w"]),
        const("zero", 0),
        const("three", 3),
        node("Greater", ["w", "zero"], ["gt"]),
        node("Less", ["w", "three"], ["lt"]),
        node("Mod", ["w", "three"], ["md"]),  # [1, 0]
        const("shape2", [2]),
        node("ConstantOfShape", ["shape2"], ["ones"], value=numpy_helper.from_array(np.array([1], np.int64))),
        node("Mul", ["w", "ones"], ["w2"], name="/mul2/Mul"),
        node("Expand", ["w2", "shape2"], ["w3"]),
        node("Add", ["w3", "zero"], ["w4"]),
        const("rstart", 0),
        const("rlimit", 2),
        const("rdelta", 1),
        node("Range", ["rstart", "rlimit", "rdelta"], ["idx"]),
        node("Gather", ["w4", "idx"], ["target"], axis=0),
        node("Reshape", ["g", "target"], ["y"]),
    ]
    path = Model([1, 3, 5, 5], nodes, [1, 3], opset=15).save(tmp_path / "fold.onnx")
    graph = analyze(path)
    assert [n.type for n in graph.nodes] == ["input", "global_avg_pool"]
    assert graph.nodes[-1].shape == (3,)
    assert runtime_witness(graph).ok


def test_layer_names_come_from_node_names(tmp_path):
    nodes = [
        node("Conv", ["x", "w"], ["c"], name="/layer1/layer1.0/conv1/Conv"),
        node("Relu", ["c"], ["r"], name="/layer1/layer1.0/relu/Relu"),
        helper.make_node("Relu", ["r"], ["y"]),
    ]
    path = Model([1, 3, 4, 4], nodes, [1, 2, 4, 4], {"w": rand(2, 3, 1, 1)}).save(tmp_path / "names.onnx")
    assert [n.name for n in analyze(path).nodes] == ["x", "layer1.0.conv1", "layer1.0.relu", "Relu_2"]


def test_import_writes_a_spec_that_counts_like_the_file(cli, tmp_path):
    case = next(c for c in CASES if c.id == "add-two-convs")
    path = case.model.save(tmp_path / "m.onnx")
    out = tmp_path / "m.json"
    result = cli("import", path, "-o", out)
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert [layer["type"] for layer in doc["layers"]] == ["input", "conv2d", "conv2d", "add"]
    assert doc["layers"][0] == {"name": "x", "type": "input", "shape": [6, 6, 3]}
    # one layer per line, as the bundled specs are written
    assert sum(1 for line in out.read_text().splitlines() if line.strip().startswith('{"name"')) == 4
    a, b = analyze(path), analyze(out)
    assert a.totals.as_dict() == b.totals.as_dict()
    assert [(n.name, n.shape, n.macs) for n in a.nodes] == [(n.name, n.shape, n.macs) for n in b.nodes]


def test_run_compares_with_onnx_runtime(cli, tmp_path):
    path = CASES[0].model.save(tmp_path / "m.onnx")
    result = cli("run", path, "-q")
    assert result.exit_code == 0, result.output
    assert (
        "With the file's weights, the NumPy run agrees with ONNX Runtime on the same input: ✓ output 'y' [1, 4, 8, 8]"
        in result.output
    )


def test_a_wrong_translation_is_caught_by_the_witness(tmp_path, monkeypatch):
    """The witness can fail: a kernel handed over untransposed computes another function."""
    from flopcount.importers import onnx as onnx_importer

    path = conv_model((4, 3, 3, 3), [1, 3, 8, 8], [1, 4, 8, 8], pads=[1, 1, 1, 1]).save(tmp_path / "m.onnx")
    original = onnx_importer.OnnxWeights.__call__

    def flipped(self, layer, weight):
        a = original(self, layer, weight)
        return None if a is None else a[::-1, ::-1].copy() if a.ndim == 4 else a

    monkeypatch.setattr(onnx_importer.OnnxWeights, "__call__", flipped)
    witness = runtime_witness(analyze(path))
    assert not witness.ok
    assert "DIFFERS from ONNX Runtime" in witness.summary()


# ---------------------------------------------------------------- dimensions


def _dynamic(tmp_path):
    nodes = [node("Conv", ["x", "w"], ["y"])]
    graph = helper.make_graph(
        nodes,
        "dyn",
        [helper.make_tensor_value_info("x", F, ["batch", 3, "height", None])],
        [helper.make_tensor_value_info("y", F, None)],
        [numpy_helper.from_array(rand(2, 3, 1, 1), "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(model, tmp_path / "dyn.onnx")
    return tmp_path / "dyn.onnx"


def test_an_unresolved_dynamic_dimension_is_exit_2_saying_which(cli, tmp_path):
    path = _dynamic(tmp_path)
    result = cli("analyze", path)
    assert result.exit_code == 2
    assert result.output == (
        f"Error: {path}: input 'x' has a dynamic dimension on axis 2 ('height'); set it with "
        "--input-shape x=Nx3xNxN or --set height=N.\n"
    )


def test_dynamic_dimensions_set_by_input_shape_or_by_name(cli, tmp_path):
    path = _dynamic(tmp_path)
    a = analyze(path, input_shapes={"x": (1, 3, 10, 12)})
    assert a.nodes[0].shape == (10, 12, 3)
    assert a.totals.macs == 2 * 10 * 12 * 3
    # the batch axis needs nothing (figures are per sample); a named axis takes --set, an unnamed one --input-shape
    result = cli("analyze", path, "--set", "height=10", "--format", "json")
    assert result.exit_code == 2 and "axis 3; set it with --input-shape x=Nx3xNxN." in result.output
    result = cli("analyze", path, "--input-shape", "x=4x3x10x12", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.output)["totals"]["macs"] == 2 * 10 * 12 * 3


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--set", "width=3", "--input-shape", "x=1x3x4x4"],
            "--set width: the model has no dynamic dimension of that name. Its dynamic dimensions: batch, height.",
        ),
        (["--input-shape", "z=1x3x4x4"], "--input-shape z: the model has no input of that name. Its inputs: x."),
        (["--input-shape", "x=1x3x4"], "--input-shape x: the input has 4 dimensions, the shape given 3."),
        (["--input-shape", "x=1x2x4x4"], "--input-shape x: axis 1 has the fixed size 3 in the file, not 2."),
        (
            ["--input-shape", "x=1x3x0x4"],
            (
                "--input-shape takes NAME=DIMS, positive dimensions joined by x with the "
                "batch first, such as input=1x3x224x224. Received: x=1x3x0x4"
            ),
        ),
        (["--set", "height=-2"], "--set height: a dimension is a positive integer. Received: height=-2"),
    ],
    ids=["unknown-dim", "unknown-input", "rank", "fixed-dim", "zero", "negative-set"],
)
def test_bad_dimension_options(cli, tmp_path, args, message):
    path = _dynamic(tmp_path)
    result = cli("analyze", path, *args)
    assert result.exit_code == 2
    assert message in result.output


# ---------------------------------------------------------------- bad input


def _saved(model: Model, tmp_path, name="bad.onnx"):
    return model.save(tmp_path / name)


BAD_NODES = [
    (
        "unsupported-operator",
        Model([1, 6], [node("Hardmax", ["x"], ["y"], name="/act/Hardmax")], [1, 6]),
        "node '/act/Hardmax' (Hardmax): unsupported operator Hardmax. Supported: Abs, Add, ",
    ),
    (
        "erf-alone",
        Model([1, 6], [node("Erf", ["x"], ["y"], name="/act/Erf")], [1, 6]),
        "node '/act/Erf' (Erf): Erf is translated only as part of GELU: x * 0.5 * (1 + erf(x / sqrt(2))).",
    ),
    (
        "gather-on-tensor-at-tensor",
        seq([node("Gather", ["x", "x"], ["y"], name="/g/Gather")], x=(1, 6), out=(1, 6, 6), ids=True),
        "node '/g/Gather' (Gather): translated only as an embedding",
    ),
    # a mask built from the input's values, not its shape, cannot be folded: the comparison is named
    (
        "mask-from-values",
        Model(
            [1, 6],
            [
                const("zero", 0.0, np.float32),
                node("Less", ["x", "zero"], ["c"], name="/m/Less"),
                node("Where", ["c", "zero", "x"], ["y"], name="/m/Where"),
            ],
            [1, 6],
        ),
        "node '/m/Less' (Less): Less is translated only on constants (computed at import), but its input 'x' is computed "
        "at run time here. Operators translated on computed tensors: ",
    ),
    ("custom-domain", None, "node '/custom/Op' (Op): unsupported operator com.example.Op. Supported: "),
    (
        "clip-range",
        Model(
            [1, 6],
            [
                const("lo", -1.0, np.float32),
                const("hi", 1.0, np.float32),
                node("Clip", ["x", "lo", "hi"], ["y"], name="/c/Clip"),
            ],
            [1, 6],
        ),
        "node '/c/Clip' (Clip): attribute 'min': only Clip(0, 6) (ReLU6) and Clip(0, inf) (ReLU) are translated. Received: min=[-1.0, 1.0]",
    ),
    (
        "hard-sigmoid-keras2",
        Model([1, 6], [node("HardSigmoid", ["x"], ["y"], name="/h/HardSigmoid")], [1, 6]),
        "node '/h/HardSigmoid' (HardSigmoid): attribute 'alpha': only max(0, min(1, x/6 + 1/2))",
    ),
    (
        "auto-pad-unknown",
        conv_model((2, 3, 3, 3), [1, 3, 5, 5], [1, 2, 5, 5], auto_pad="SAME"),
        "node '/conv/Conv' (Conv): attribute 'auto_pad': must be NOTSET, SAME_UPPER, SAME_LOWER or VALID. Received: auto_pad=\"SAME\"",
    ),
    (
        "batchnorm-training",
        Model(
            [1, 2, 3, 3],
            [node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], training_mode=1)],
            [1, 2, 3, 3],
            {"s": rand(2), "b": rand(2), "m": rand(2), "v": rand(2, positive=True)},
            opset=15,
        ),
        "attribute 'training_mode': training_mode=1 is not supported; export the model in inference mode.",
    ),
    (
        "maxpool-dilated",
        Model(
            [1, 2, 6, 6],
            [node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], dilations=[2, 2], name="/p/MaxPool")],
            [1, 2, 4, 4],
        ),
        "node '/p/MaxPool' (MaxPool): attribute 'dilations': dilated pooling is not supported. Received: dilations=[2, 2]",
    ),
    (
        "conv-4d",
        conv_model((2, 3, 2, 2, 2, 2), [1, 3, 3, 3, 3, 3], [1, 2, 2, 2, 2, 2]),
        "node '/conv/Conv' (Conv): takes a 1-D (N, C, L), 2-D (N, C, H, W), 3-D (N, C, D, H, W) input here, "
        "but its input has shape [1, 3, 3, 3, 3, 3].",
    ),
    (
        "gemm-transA",
        Model([1, 4], [node("Gemm", ["x", "w"], ["y"], transA=1)], [1, 4], {"w": rand(1, 4)}),
        "attribute 'transA': transA=1 (a transposed activation) is not supported. Received: transA=1",
    ),
    (
        "pad-reflect",
        Model(
            [1, 2, 4, 4],
            [const("pads", [0, 0, 1, 1, 0, 0, 1, 1]), node("Pad", ["x", "pads"], ["y"], mode="reflect")],
            [1, 2, 6, 6],
        ),
        "attribute 'mode': only constant (zero) padding is translated. Received: mode=\"reflect\"",
    ),
]


@pytest.mark.parametrize("case_id, model, message", BAD_NODES, ids=[b[0] for b in BAD_NODES])
def test_a_node_outside_what_is_handled_is_exit_2_naming_node_and_attribute(
    cli, tmp_path, case_id, model, message, fails_with
):
    if model is None:  # a custom domain's operator
        n = helper.make_node("Op", ["x"], ["y"], name="/custom/Op", domain="com.example")
        graph = helper.make_graph(
            [n], "g", [helper.make_tensor_value_info("x", F, [1, 6])], [helper.make_tensor_value_info("y", F, [1, 6])]
        )
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.example", 1)])
        path = tmp_path / "bad.onnx"
        onnx.save(m, path)
    else:
        path = _saved(model, tmp_path)
    fails_with(cli("analyze", path), path, message)


def test_the_unsupported_operator_message_lists_every_supported_operator(cli, tmp_path):
    path = _saved(BAD_NODES[0][1], tmp_path)
    listed = cli("analyze", path).output.split("Supported: ")[1].rstrip(".\n").split(", ")
    assert listed == supported_operators()
    assert {"Conv", "Gemm", "MatMul", "BatchNormalization", "MaxPool", "Reshape", "Shape", "Constant"} <= set(listed)


def test_files_that_are_not_onnx_models(cli, tmp_path):
    good = CASES[0].model.save(tmp_path / "good.onnx")
    data = good.read_bytes()
    cases = {
        "truncated.onnx": data[: len(data) // 2],
        "text.onnx": b'{"name": "a spec, not a model"}',
        "empty.onnx": b"",
        "tensor.onnx": numpy_helper.from_array(rand(3, 3), "t").SerializeToString(),
        "graph.onnx": onnx.load(good).graph.SerializeToString(),
    }
    expected = {
        "truncated.onnx": "not an ONNX model, or a truncated one: field 7 runs past the end of the data (byte ",
        "text.onnx": "not an ONNX model",
        "empty.onnx": "the file is empty; an ONNX model is a protocol buffer.",
        "tensor.onnx": "not an ONNX model",
        "graph.onnx": "not an ONNX model",
    }
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        result = cli("analyze", path)
        assert result.exit_code == 2, name
        assert result.output.startswith(f"Error: {path}: {expected[name]}"), (name, result.output)
        assert result.output.count("\n") == 1


@pytest.mark.parametrize("opset", [8, 26])
def test_an_opset_outside_the_supported_range_is_exit_2(cli, tmp_path, opset):
    m = Model([1, 6], [node("Relu", ["x"], ["y"])], [1, 6], opset=opset)
    inits = []
    graph = helper.make_graph(
        m.nodes,
        "g",
        [helper.make_tensor_value_info("x", F, [1, 6])],
        [helper.make_tensor_value_info("y", F, [1, 6])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    path = tmp_path / "old.onnx"
    onnx.save(model, path)
    result = cli("analyze", path)
    assert result.exit_code == 2
    assert result.output == (
        f"Error: {path}: attribute 'opset_import': opset {opset} is outside the supported range 9 to 25. "
        f"Received: opset_import={opset}\n"
    )


def test_weights_stored_elsewhere_and_absent_still_count(cli, tmp_path):
    # a model whose weights are external data: counting needs only their dimensions
    m = conv_model((64, 32, 3, 3), [1, 32, 8, 8], [1, 64, 8, 8], pads=[1, 1, 1, 1])
    inits = [numpy_helper.from_array(v, k) for k, v in m.weights.items()]
    graph = helper.make_graph(
        m.nodes,
        "ext",
        [helper.make_tensor_value_info("x", F, m.input)],
        [helper.make_tensor_value_info("y", F, m.output)],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path / "ext.onnx"
    onnx.save(
        model, path, save_as_external_data=True, all_tensors_to_one_file=True, location="ext.data", size_threshold=0
    )
    assert analyze(path).totals.trainable == 64 * 32 * 3 * 3 + 64
    result = cli("run", path, "-q")
    assert result.exit_code == 0, result.output
    (tmp_path / "ext.data").unlink()
    assert analyze(path).totals.macs == 64 * 8 * 8 * 3 * 3 * 32
    result = cli("run", path, "-q")
    assert result.exit_code == 1
    assert "cannot be read" in result.output


def test_large_weights_are_not_parsed_for_counting(tmp_path):
    """The skim leaves out raw weight bytes: the parsed model is a few hundred bytes for a 4 MB file."""
    from flopcount.importers.onnx import read_model

    m = conv_model((256, 256, 4, 4), [1, 256, 4, 4], [1, 256, 1, 1])
    path = m.save(tmp_path / "big.onnx")
    model, spans = read_model(path, str(path))
    assert path.stat().st_size > 4 * 256 * 256 * 16
    assert model.ByteSize() < 2000
    assert set(spans) == {"w"}


def test_without_the_onnx_package_the_error_says_how_to_install_it(cli, tmp_path, monkeypatch):
    import sys

    path = CASES[0].model.save(tmp_path / "m.onnx")
    monkeypatch.setitem(sys.modules, "onnx", None)
    result = cli("analyze", path)
    assert result.exit_code == 2
    assert result.output == f"Error: {path}: reading ONNX files needs the onnx package: pip install 'flopcount[onnx]'\n"


# ---------------------------------------------------------------- exported from torchvision

ONNX_DATA = Path(__file__).parent / "data" / "onnx"


@pytest.mark.parametrize(
    "name, params, macs",
    [
        # torchvision's documented num_params and GFLOPS (its multiply-adds), as the bundled specs expect
        ("resnet18", 11_689_512, 1_814_073_344),
        ("resnet50", 25_557_032, 4_089_184_256),
        ("mobilenet_v2", 3_504_872, 300_774_272),
        ("mobilenet_v3_large", 5_483_032, 216_589_760),
        ("efficientnet_b0", 5_288_548, 385_814_752),
        ("googlenet", 6_624_904, 1_498_376_192),
        ("vgg16", 138_357_544, 15_470_264_320),
        ("alexnet", 61_100_840, 714_188_480),
        # torchvision's figures for ViT-B/16 (its 17.56 GFLOPS counts QK^T and AV) and ConvNeXt-Tiny
        ("vit_b_16", 86_567_656, 17_563_828_224),
        ("convnext_tiny", 28_589_128, 4_455_531_264),
    ],
)
def test_torchvision_exports_import_to_torchvisions_figures(name, params, macs):
    """Exported by make_models.py (torch.onnx.export, opset 17) with the weights' bytes left out: dimensions suffice."""
    g = analyze(ONNX_DATA / f"{name}.onnx")
    assert (g.totals.trainable, g.totals.macs) == (params, macs)
    # batch norm's running statistics are the non-trainable rest
    assert g.totals.non_trainable == 2 * sum(n.shape[-1] for n in g.nodes if n.type == "batch_norm")


def test_the_witness_compares_every_tensor_inside(tmp_path):
    case = next(c for c in CASES if c.id == "squeeze-excitation")
    witness = runtime_witness(analyze(case.model.save(tmp_path / "se.onnx")))
    # g, s1, s2, s3, s4 each checked against the runtime's own tensor of that name
    assert sorted(o.name for o in witness.inner) == ["g", "s1", "s2", "s3", "s4"]
    assert "✓ and all 5 tensors inside" in witness.summary()


def test_check_and_compare_read_onnx_files(cli, tmp_path):
    baseline = tmp_path / "baseline.json"
    model = ONNX_DATA / "resnet18.onnx"
    assert cli("check", model, "--baseline", baseline, "--update").exit_code == 0
    assert cli("check", model, "--baseline", baseline).exit_code == 0
    entry = next(iter(json.loads(baseline.read_text())["specs"].values()))
    assert entry["totals"]["macs"] == 1_814_073_344
    result = cli("compare", model, ONNX_DATA / "resnet50.onnx", "--no-run", "--format", "json")
    assert result.exit_code in (0, 1), result.output
    assert json.loads(result.output)["a"]["macs"] == 1_814_073_344


def test_damaged_files_end_in_a_result_or_one_error_line(cli, tmp_path):
    """Bytes of a valid model flipped, cut or repeated: analyze succeeds or exits 2, never a traceback."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    data = CASES[0].model.save(tmp_path / "good.onnx").read_bytes()

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        st.lists(st.tuples(st.integers(0, len(data) - 1), st.integers(0, 255)), max_size=4), st.integers(1, len(data))
    )
    def check(flips, cut):
        damaged = bytearray(data[:cut])
        for at, value in flips:
            if at < len(damaged):
                damaged[at] = value
        path = tmp_path / "damaged.onnx"
        path.write_bytes(bytes(damaged))
        result = CliRunner().invoke(main, ["analyze", str(path), "--format", "json"])
        assert result.exit_code in (0, 2), result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        if result.exit_code == 2:
            assert result.output.count("\n") == 1 and result.output.startswith("Error: ")

    check()
