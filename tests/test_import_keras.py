"""Keras import: model.to_json() configs and .keras archives, read without Keras.

Hand-written configs follow the layout Keras itself writes (Keras 3's inbound_nodes
{"args", "kwargs"} and Keras 2's [[name, node, index, kwargs]]); their parameters are
worked out here by Keras' rules. The Keras Applications configs in tests/data/keras were
written by Keras (make_configs.py there) and carry Keras' own count_params() totals.
"""

from __future__ import annotations

import gzip
import json
import zipfile
from pathlib import Path

import pytest

from flopcount.graph import analyze

DATA = Path(__file__).parent / "data" / "keras"


def tensor(name, node=0, index=0):
    return {
        "class_name": "__keras_tensor__",
        "config": {"shape": None, "dtype": "float32", "keras_history": [name, node, index]},
    }


def layer(cls, name, inbound=(), **config):
    """A Keras 3 layer entry; inbound is a list of calls, each a tensor or a list of tensors."""
    nodes = [{"args": [call], "kwargs": {}} for call in inbound]
    return {
        "module": "keras.layers",
        "class_name": cls,
        "config": {"name": name, **config},
        "registered_name": None,
        "name": name,
        "inbound_nodes": nodes,
    }


def functional(name, layers, inputs, outputs):
    return {
        "module": "keras.src.models.functional",
        "class_name": "Functional",
        "config": {
            "name": name,
            "trainable": True,
            "layers": layers,
            "input_layers": [[i, 0, 0] for i in inputs],
            "output_layers": [[o, 0, 0] for o in outputs],
        },
    }


def conv3x3(name, source, **config):
    """A Keras 3 Conv2D config: 16 filters of 3x3, stride 1, same padding, no bias, on source."""
    return layer(
        "Conv2D",
        name,
        [tensor(source)],
        filters=16,
        kernel_size=[3, 3],
        strides=[1, 1],
        padding="same",
        activation="linear",
        use_bias=False,
        **config,
    )


def residual_block():
    """conv 3x3 + BN + ReLU, conv 3x3 + BN, add the input, ReLU: the basic residual block on 8x8x16."""
    return functional(
        "residual",
        [
            layer("InputLayer", "image", batch_shape=[None, 8, 8, 16], dtype="float32"),
            conv3x3("conv1", "image", data_format="channels_last", dilation_rate=[1, 1], groups=1),
            layer("BatchNormalization", "bn1", [tensor("conv1")], axis=-1, epsilon=0.001, center=True, scale=True),
            layer("Activation", "relu1", [tensor("bn1")], activation="relu"),
            conv3x3("conv2", "relu1"),
            layer("BatchNormalization", "bn2", [tensor("conv2")], axis=-1, epsilon=0.001),
            layer("Add", "add", [[tensor("bn2"), tensor("image")]]),
            layer("Activation", "out", [tensor("add")], activation="relu"),
        ],
        ["image"],
        ["out"],
    )


def write(tmp_path, doc, name="model.json"):
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def totals(graph):
    return graph.totals.params, graph.totals.trainable, graph.totals.macs


def test_functional_residual_block(tmp_path):
    g = analyze(write(tmp_path, residual_block()))
    conv = 3 * 3 * 16 * 16  # no bias
    bn = 4 * 16  # gamma, beta trainable; moving mean and variance not
    assert totals(g) == (2 * conv + 2 * bn, 2 * conv + 2 * 2 * 16, 2 * 8 * 8 * 16 * 3 * 3 * 16)
    assert [n.name for n in g.nodes] == ["image", "conv1", "bn1", "relu1", "conv2", "bn2", "add", "out"]
    add = g.nodes[6]
    assert [g.nodes[i].name for i in add.inputs] == ["bn2", "image"]


def test_sequential_with_fused_activations(tmp_path):
    doc = {
        "module": "keras",
        "class_name": "Sequential",
        "config": {
            "name": "mnist",
            "layers": [
                {"class_name": "InputLayer", "config": {"batch_shape": [None, 28, 28, 1], "name": "input"}},
                {
                    "class_name": "Conv2D",
                    "config": {"name": "c1", "filters": 32, "kernel_size": [3, 3], "activation": "relu"},
                },
                {
                    "class_name": "MaxPooling2D",
                    "config": {"name": "p1", "pool_size": [2, 2], "strides": [2, 2], "padding": "valid"},
                },
                {
                    "class_name": "SeparableConv2D",
                    "config": {"name": "sep", "filters": 16, "kernel_size": [3, 3], "depth_multiplier": 1},
                },
                {"class_name": "Flatten", "config": {"name": "flat"}},
                {"class_name": "Dropout", "config": {"name": "drop", "rate": 0.5}},
                {"class_name": "Dense", "config": {"name": "fc", "units": 10, "activation": "softmax"}},
            ],
        },
    }
    g = analyze(write(tmp_path, doc))
    # Keras: Conv2D 3*3*1*32 + 32; SeparableConv2D 3*3*32 depthwise + 32*16 pointwise + 16 bias;
    # Dense (11*11*16)*10 + 10
    params = (3 * 3 * 32 + 32) + (3 * 3 * 32 + 32 * 16 + 16) + (11 * 11 * 16 * 10 + 10)
    macs = 26 * 26 * 32 * 3 * 3 + 11 * 11 * 32 * 3 * 3 + 11 * 11 * 16 * 32 + 11 * 11 * 16 * 10
    assert totals(g) == (params, params, macs)
    assert [(n.name, n.type) for n in g.nodes] == [
        ("input", "input"),
        ("c1", "conv2d"),
        ("c1.activation", "activation"),
        ("p1", "max_pool"),
        ("sep.depthwise", "depthwise_conv2d"),
        ("sep.pointwise", "conv2d"),
        ("flat", "flatten"),
        ("drop", "dropout"),
        ("fc", "dense"),
        ("fc.activation", "softmax"),
    ]


def test_sequential_keras2_with_batch_input_shape_on_its_first_layer(tmp_path):
    doc = {
        "class_name": "Sequential",
        "keras_version": "2.15.0",
        "backend": "tensorflow",
        "config": {
            "name": "mlp",
            "layers": [
                {
                    "class_name": "Dense",
                    "config": {
                        "name": "d1",
                        "units": 64,
                        "activation": "relu",
                        "use_bias": True,
                        "batch_input_shape": [None, 784],
                    },
                },
                {"class_name": "Dense", "config": {"name": "d2", "units": 10, "use_bias": False}},
            ],
        },
    }
    g = analyze(write(tmp_path, doc))
    assert totals(g) == (784 * 64 + 64 + 64 * 10, 784 * 64 + 64 + 64 * 10, 784 * 64 + 64 * 10)


def test_functional_keras2_inbound_nodes_and_a_nested_sequential(tmp_path):
    """A Keras 2 functional model calling a Sequential model as a layer: the inner layers are inlined as block.layer."""
    inner = {
        "class_name": "Sequential",
        "config": {
            "name": "block",
            "layers": [
                {
                    "class_name": "Conv2D",
                    "config": {"name": "conv", "filters": 8, "kernel_size": [1, 1], "use_bias": True},
                },
                {"class_name": "ReLU", "config": {"name": "relu", "max_value": 6.0}},
            ],
        },
    }
    doc = {
        "class_name": "Functional",
        "keras_version": "2.15.0",
        "config": {
            "name": "outer",
            "layers": [
                {
                    "class_name": "InputLayer",
                    "config": {"batch_input_shape": [None, 4, 4, 3], "name": "in_1"},
                    "name": "in_1",
                    "inbound_nodes": [],
                },
                {
                    "class_name": "Sequential",
                    "config": inner["config"],
                    "name": "block",
                    "inbound_nodes": [[["in_1", 0, 0, {}]]],
                },
                {
                    "class_name": "GlobalAveragePooling2D",
                    "config": {"name": "gap"},
                    "name": "gap",
                    "inbound_nodes": [[["block", 0, 0, {}]]],
                },
                {
                    "class_name": "Dense",
                    "config": {"name": "head", "units": 2},
                    "name": "head",
                    "inbound_nodes": [[["gap", 0, 0, {}]]],
                },
            ],
            "input_layers": [["in_1", 0, 0]],
            "output_layers": [["head", 0, 0]],
        },
    }
    g = analyze(write(tmp_path, doc))
    assert [n.name for n in g.nodes] == ["in_1", "block.conv", "block.relu", "gap", "head"]
    assert totals(g) == (3 * 8 + 8 + 8 * 2 + 2, 3 * 8 + 8 + 8 * 2 + 2, 4 * 4 * 8 * 3 + 8 * 2)


def test_nested_functional_model(tmp_path):
    inner = residual_block()
    outer = functional(
        "outer",
        [
            layer("InputLayer", "x", batch_shape=[None, 8, 8, 16]),
            {**layer("Functional", "res", [tensor("x")]), "config": inner["config"]},
            layer("GlobalMaxPooling2D", "pool", [tensor("res")], keepdims=False),
        ],
        ["x"],
        ["pool"],
    )
    g = analyze(write(tmp_path, outer))
    assert [n.name for n in g.nodes][:3] == ["x", "res.conv1", "res.bn1"]
    assert g.nodes[-1].shape == (16,)
    assert totals(g)[0] == 2 * 3 * 3 * 16 * 16 + 2 * 4 * 16


def test_shared_layers_count_their_weights_once(tmp_path):
    """One Dense called on two inputs (a siamese pair): Keras counts its kernel and bias once."""
    doc = functional(
        "siamese",
        [
            layer("InputLayer", "left", batch_shape=[None, 10]),
            layer("InputLayer", "right", batch_shape=[None, 10]),
            layer("Dense", "embed", [tensor("left"), tensor("right")], units=4, activation="relu"),
            layer("Concatenate", "both", [[tensor("embed", 0), tensor("embed", 1)]], axis=-1),
            layer("Dense", "score", [tensor("both")], units=1),
        ],
        ["left", "right"],
        ["score"],
    )
    g = analyze(write(tmp_path, doc))
    assert totals(g) == (10 * 4 + 4 + 8 * 1 + 1, 10 * 4 + 4 + 8 * 1 + 1, 2 * 10 * 4 + 8)
    second = next(n for n in g.nodes if n.name == "embed_2")
    assert (second.trainable, second.macs) == (0, 10 * 4)


def test_a_nested_model_called_twice_shares_its_weights(tmp_path):
    inner = functional(
        "tower",
        [
            layer("InputLayer", "t_in", batch_shape=[None, 6]),
            layer("Dense", "t1", [tensor("t_in")], units=5),
            layer("Dense", "t2", [tensor("t1")], units=3, use_bias=False),
        ],
        ["t_in"],
        ["t2"],
    )
    outer = functional(
        "pair",
        [
            layer("InputLayer", "a", batch_shape=[None, 6]),
            layer("InputLayer", "b", batch_shape=[None, 6]),
            {**layer("Functional", "tower", [tensor("a"), tensor("b")]), "config": inner["config"]},
            layer("Add", "sum", [[tensor("tower", 0), tensor("tower", 1)]]),
        ],
        ["a", "b"],
        ["sum"],
    )
    g = analyze(write(tmp_path, outer))
    assert [n.name for n in g.nodes] == ["a", "b", "tower.t1", "tower.t2", "tower_2.t1", "tower_2.t2", "sum"]
    assert totals(g) == (6 * 5 + 5 + 5 * 3, 6 * 5 + 5 + 5 * 3, 2 * (6 * 5 + 5 * 3))


def test_imdb_lstm_example(tmp_path):
    """Keras' IMDB LSTM example: Embedding(20000, 128), LSTM(128), Dense(1, sigmoid); its summary gives 2,691,713."""
    doc = {
        "class_name": "Sequential",
        "config": {
            "name": "imdb",
            "layers": [
                {"class_name": "InputLayer", "config": {"batch_shape": [None, 80], "dtype": "int32", "name": "ids"}},
                {"class_name": "Embedding", "config": {"name": "embedding", "input_dim": 20000, "output_dim": 128}},
                {
                    "class_name": "LSTM",
                    "config": {
                        "name": "lstm",
                        "units": 128,
                        "activation": "tanh",
                        "recurrent_activation": "sigmoid",
                        "use_bias": True,
                    },
                },
                {"class_name": "Dense", "config": {"name": "out", "units": 1, "activation": "sigmoid"}},
            ],
        },
    }
    g = analyze(write(tmp_path, doc))
    # 20000 x 128 + 4 x 128 x (128 + 128 + 1) + (128 + 1)
    assert g.totals.params == 20000 * 128 + 4 * 128 * (128 + 128 + 1) + 129 == 2_691_713
    assert g.totals.macs == 80 * 4 * 128 * (128 + 128) + 128


def test_decoder_and_sequence_layers(tmp_path):
    doc = {
        "class_name": "Sequential",
        "config": {
            "name": "mix",
            "layers": [
                {"class_name": "InputLayer", "config": {"batch_shape": [None, 4, 4, 8], "name": "x"}},
                {
                    "class_name": "Conv2DTranspose",
                    "config": {
                        "name": "up",
                        "filters": 4,
                        "kernel_size": [3, 3],
                        "strides": [2, 2],
                        "padding": "same",
                        "use_bias": True,
                    },
                },
                {"class_name": "UpSampling2D", "config": {"name": "up2", "size": [2, 2], "interpolation": "bilinear"}},
                {"class_name": "Reshape", "config": {"name": "seq", "target_shape": [64, 16]}},
                {"class_name": "LayerNormalization", "config": {"name": "ln", "axis": [-1], "epsilon": 1e-6}},
                {
                    "class_name": "Bidirectional",
                    "config": {
                        "name": "bi",
                        "layer": {
                            "class_name": "GRU",
                            "config": {"name": "gru", "units": 5, "reset_after": True, "return_sequences": True},
                        },
                    },
                },
                {"class_name": "GlobalAveragePooling1D", "config": {"name": "avg"}},
            ],
        },
    }
    g = analyze(write(tmp_path, doc))
    assert [n.type for n in g.nodes] == [
        "input",
        "conv2d_transpose",
        "upsample",
        "reshape",
        "layer_norm",
        "gru",
        "mean",
    ]
    gru = 2 * (3 * 5 * (16 + 5) + 2 * 3 * 5)  # two directions: kernels and two bias vectors per gate (reset_after)
    assert g.totals.params == (3 * 3 * 8 * 4 + 4) + 2 * 16 + gru
    assert g.nodes[-1].shape == (10,)


def test_keras_archive(tmp_path):
    path = tmp_path / "model.keras"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("metadata.json", json.dumps({"keras_version": "3.15.1"}))
        z.writestr("config.json", json.dumps(residual_block()))
        z.writestr("model.weights.h5", b"\x89HDF\r\n")  # not read
    assert totals(analyze(path)) == totals(analyze(write(tmp_path, residual_block())))


def test_import_writes_the_spec(cli, tmp_path):
    path = write(tmp_path, residual_block())
    result = cli("import", path)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["layers"][0] == {"name": "image", "type": "input", "shape": [8, 8, 16]}
    assert {"name": "add", "type": "add", "inputs": ["bn2", "image"]} in doc["layers"]


@pytest.mark.parametrize(
    "name, params, trainable",
    [
        # Keras' own count_params() for keras.applications.VGG16 / ResNet50 (weights=None), see make_configs.py
        ("vgg16", 138_357_544, 138_357_544),
        ("resnet50", 25_636_712, 25_583_592),
        ("mobilenet", 4_253_864, 4_231_976),
        # includes Normalization's mean, variance and sample count (3 + 3 + 1 non-trainable)
        ("efficientnetb0", 5_330_571, 5_288_548),
    ],
)
def test_keras_applications_import_to_keras_totals(tmp_path, name, params, trainable):
    path = tmp_path / f"{name}.json"
    path.write_bytes(gzip.decompress((DATA / f"{name}.json.gz").read_bytes()))
    g = analyze(path)
    assert (g.totals.params, g.totals.trainable) == (params, trainable)


@pytest.mark.parametrize(
    "doc, message",
    [
        (
            functional(
                "m",
                [
                    layer("InputLayer", "x", batch_shape=[None, 4]),
                    layer("Lambda", "fn", [tensor("x")], function="lambda x: x"),
                ],
                ["x"],
                ["fn"],
            ),
            "layer 'fn' (Lambda): unknown Keras layer class Lambda. Supported: ",
        ),
        (
            functional(
                "m",
                [
                    layer("InputLayer", "x", batch_shape=[None, 4, 4, 3]),
                    layer("Conv2D", "c", [tensor("x")], filters=2, kernel_size=1, data_format="channels_first"),
                ],
                ["x"],
                ["c"],
            ),
            "layer 'c' (Conv2D): attribute 'data_format': only channels_last is translated. Received: data_format=\"channels_first\"",
        ),
        (
            functional(
                "m",
                [
                    layer("InputLayer", "x", batch_shape=[None, 4]),
                    layer("Dense", "d", [tensor("x")], units=2, activation="softplus"),
                ],
                ["x"],
                ["d"],
            ),
            "layer 'd' (Dense): attribute 'activation': activation 'softplus' is not translated.",
        ),
        (
            functional(
                "m",
                [layer("InputLayer", "x", batch_shape=[None, None, 3]), layer("Dense", "d", [tensor("x")], units=2)],
                ["x"],
                ["d"],
            ),
            "input 'x' has a dynamic dimension on axis 1; set it with --input-shape x=NxNx3.",
        ),
        (
            functional(
                "m",
                [layer("InputLayer", "x", batch_shape=[None, 4]), layer("Dense", "d", [tensor("nothing")], units=2)],
                ["x"],
                ["d"],
            ),
            "layer 'd' (Dense): reads 'nothing' (call 0, output 0), which nothing produces.",
        ),
    ],
    ids=["unknown-class", "channels-first", "activation", "dynamic-dim", "dangling"],
)
def test_bad_keras_configs_are_exit_2_naming_layer_and_attribute(cli, tmp_path, doc, message, fails_with):
    path = write(tmp_path, doc)
    fails_with(cli("analyze", path), path, message)


def test_dynamic_keras_dimensions_from_the_command_line(cli, tmp_path):
    doc = functional(
        "m",
        [layer("InputLayer", "x", batch_shape=[None, None, 3]), layer("Dense", "d", [tensor("x")], units=2)],
        ["x"],
        ["d"],
    )
    result = cli("analyze", write(tmp_path, doc), "--input-shape", "x=1x7x3", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["totals"]["macs"] == 7 * 3 * 2


def test_a_zip_without_config_json(cli, tmp_path):
    path = tmp_path / "bad.keras"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("other.txt", "x")
    result = cli("analyze", path)
    assert result.exit_code == 2
    assert result.output == f"Error: {path}: a .keras archive holds config.json, but this zip file has none.\n"


def test_models_nested_too_deep_and_malformed_configs(cli, tmp_path, fails_with):
    doc = functional(
        "leaf",
        [layer("InputLayer", "x", batch_shape=[None, 4]), layer("Dense", "d", [tensor("x")], units=2)],
        ["x"],
        ["d"],
    )
    for i in range(70):
        doc = functional(
            f"m{i}",
            [
                layer("InputLayer", "x", batch_shape=[None, 4]),
                {**layer("Functional", "inner", [tensor("x")]), "config": doc["config"]},
            ],
            ["x"],
            ["inner"],
        )
    path = write(tmp_path, doc, "deep.json")
    fails_with(cli("analyze", path), path, "models are nested more than 64 deep.")
    bad = functional(
        "m",
        [
            layer("InputLayer", "x", batch_shape=[None, 4, 4, 3]),
            layer("Conv2D", "c", [tensor("x")], filters=2, kernel_size=None),
        ],
        ["x"],
        ["c"],
    )
    path = write(tmp_path, bad, "bad.json")
    fails_with(
        cli("analyze", path),
        path,
        "layer 'c' (Conv2D): attribute 'kernel_size': must be an integer or a list of integers.",
    )
    bad = functional(
        "m",
        [layer("InputLayer", "x", batch_shape=[None, 4]), layer("Dense", "d", [tensor("x")], units="many")],
        ["x"],
        ["d"],
    )
    path = write(tmp_path, bad, "units.json")
    fails_with(cli("analyze", path), path, "layer 'd' (Dense): its dense layer does not fit")


# ---------------------------------------------------------------- attention and TimeDistributed
# Keras' MultiHeadAttention weights (keras/src/layers/attention/multi_head_attention.py, build): query and
# key EinsumDense kernels (D, heads, key_dim) with (heads, key_dim) biases, a value kernel (D, heads,
# value_dim) with a (heads, value_dim) bias, an output kernel (heads, value_dim, width) with a (width,) bias.


def keras_mha_params(heads, key_dim, value_dim, d_query, d_key, d_value, width, bias=True):
    q = d_query * heads * key_dim + (heads * key_dim if bias else 0)
    k = d_key * heads * key_dim + (heads * key_dim if bias else 0)
    v = d_value * heads * value_dim + (heads * value_dim if bias else 0)
    out = heads * value_dim * width + (width if bias else 0)
    return q + k + v + out


def mha_layer(name, node, **config):
    """A MultiHeadAttention entry with one call, node as Keras writes it (Keras 3 dict or Keras 2 list)."""
    cfg = {"name": name, "num_heads": 4, "key_dim": 8, "value_dim": None, "dropout": 0.0, "use_bias": True}
    cfg.update({"output_shape": None, "attention_axes": None, **config})
    return {"class_name": "MultiHeadAttention", "config": cfg, "name": name, "inbound_nodes": [node]}


def test_self_attention_with_a_causal_mask_is_one_attention_layer(cli, tmp_path):
    # Keras 3 writes mha(x, x, use_causal_mask=True) as two positional tensors and a keyword
    node = {"args": [tensor("x"), tensor("x")], "kwargs": {"use_causal_mask": True}}
    doc = functional(
        "decoder", [layer("InputLayer", "x", batch_shape=[None, 10, 16]), mha_layer("mha", node)], ["x"], ["mha"]
    )
    g = analyze(write(tmp_path, doc))
    assert [(n.type, n.shape) for n in g.nodes] == [("input", (10, 16)), ("attention", (10, 16))]
    assert g.nodes[1].layer.causal is True
    assert g.totals.params == keras_mha_params(4, 8, 8, 16, 16, 16, 16) == 2160
    # projections to 4 x 8, QK^T and AV per head over 10 x 10 positions, back to 16
    assert g.totals.macs == 10 * 16 * 32 + 2 * 10 * 16 * 32 + 2 * 4 * 10 * 10 * 8 + 10 * 32 * 16
    assert cli("run", write(tmp_path, doc), "-q").exit_code == 0


def test_cross_attention_with_its_own_value_width_is_spelled_out(cli, tmp_path):
    # Keras 2 writes mha(q, value=m) as the first tensor and the others among the call's keyword arguments
    doc = {
        "class_name": "Functional",
        "keras_version": "2.15.0",
        "config": {
            "name": "cross",
            "layers": [
                {
                    "class_name": "InputLayer",
                    "config": {"batch_input_shape": [None, 6, 12], "name": "q"},
                    "name": "q",
                    "inbound_nodes": [],
                },
                {
                    "class_name": "InputLayer",
                    "config": {"batch_input_shape": [None, 9, 20], "name": "m"},
                    "name": "m",
                    "inbound_nodes": [],
                },
                mha_layer(
                    "mha", [["q", 0, 0, {"value": ["m", 0, 0]}]], num_heads=2, key_dim=5, value_dim=7, output_shape=10
                ),
            ],
            "input_layers": [["q", 0, 0], ["m", 0, 0]],
            "output_layers": [["mha", 0, 0]],
        },
    }
    g = analyze(write(tmp_path, doc))
    assert g.totals.params == keras_mha_params(2, 5, 7, 12, 20, 20, 10) == 784
    assert g.nodes[-1].shape == (6, 10)
    assert g.totals.macs == (
        6 * 12 * 2 * 5  # queries
        + 9 * 20 * 2 * 5  # keys
        + 9 * 20 * 2 * 7  # values
        + 2 * 6 * 5 * 9  # QK^T per head
        + 2 * 6 * 9 * 7  # AV per head
        + 6 * 2 * 7 * 10  # output
    )
    assert [n.type for n in g.nodes].count("matmul") == 2
    assert cli("run", write(tmp_path, doc), "-q").exit_code == 0


def test_attention_with_a_separate_key_passed_by_keyword(tmp_path):
    node = {"args": [], "kwargs": {"query": tensor("x"), "value": tensor("v"), "key": tensor("k")}}
    doc = functional(
        "m",
        [
            layer("InputLayer", "x", batch_shape=[None, 3, 8]),
            layer("InputLayer", "k", batch_shape=[None, 5, 6]),
            layer("InputLayer", "v", batch_shape=[None, 5, 4]),
            mha_layer("mha", node, num_heads=3, key_dim=2, use_bias=False),
        ],
        ["x", "k", "v"],
        ["mha"],
    )
    g = analyze(write(tmp_path, doc))
    assert g.totals.params == keras_mha_params(3, 2, 2, 8, 6, 4, 8, bias=False) == 8 * 6 + 6 * 6 + 4 * 6 + 6 * 8
    assert g.nodes[-1].shape == (3, 8)


def test_time_distributed_runs_the_wrapped_layer_on_every_step(cli, tmp_path):
    def wrapped(name, cls, **config):
        return {
            "class_name": "TimeDistributed",
            "config": {"name": name, "layer": {"class_name": cls, "config": {"name": cls.lower(), **config}}},
        }

    doc = {
        "class_name": "Sequential",
        "config": {
            "name": "video",
            "layers": [
                {"class_name": "InputLayer", "config": {"batch_shape": [None, 5, 32, 32, 3], "name": "frames"}},
                wrapped(
                    "conv", "Conv2D", filters=8, kernel_size=[3, 3], strides=[2, 2], padding="same", activation="relu"
                ),
                wrapped("pool", "MaxPooling2D", pool_size=[2, 2], strides=None, padding="valid"),
                wrapped("flat", "Flatten"),
                wrapped("fc", "Dense", units=10, activation="relu"),
                {"class_name": "LSTM", "config": {"name": "lstm", "units": 6}},
            ],
        },
    }
    g = analyze(write(tmp_path, doc))
    assert [(n.name, n.type, n.shape) for n in g.nodes] == [
        ("frames", "input", (5, 32, 32, 3)),
        ("conv", "conv3d", (5, 16, 16, 8)),
        ("conv.activation", "activation", (5, 16, 16, 8)),
        ("pool", "max_pool3d", (5, 8, 8, 8)),
        ("flat", "reshape", (5, 512)),
        ("fc", "dense", (5, 10)),
        ("fc.activation", "activation", (5, 10)),
        ("lstm", "lstm", (6,)),
    ]
    # Keras counts a wrapped layer's weights once, shared by the steps
    conv, fc, lstm = 3 * 3 * 3 * 8 + 8, 8 * 8 * 8 * 10 + 10, 4 * 6 * (10 + 6 + 1)
    assert g.totals.params == conv + fc + lstm
    assert g.totals.macs == 5 * 16 * 16 * 8 * 3 * 3 * 3 + 5 * 512 * 10 + 5 * 4 * 6 * (10 + 6)
    assert cli("run", write(tmp_path, doc), "-q").exit_code == 0


def test_time_distributed_conv1d_and_global_average_keep_the_steps(tmp_path):
    doc = {
        "class_name": "Sequential",
        "keras_version": "2.15.0",
        "config": {
            "name": "clips",
            "layers": [
                {
                    "class_name": "TimeDistributed",
                    "config": {
                        "name": "conv",
                        "batch_input_shape": [None, 4, 20, 2],
                        "layer": {"class_name": "Conv1D", "config": {"name": "c", "filters": 3, "kernel_size": 5}},
                    },
                },
                {
                    "class_name": "TimeDistributed",
                    "config": {
                        "name": "avg",
                        "layer": {"class_name": "GlobalAveragePooling1D", "config": {"name": "g"}},
                    },
                },
            ],
        },
    }
    g = analyze(write(tmp_path, doc))
    assert [(n.type, n.shape) for n in g.nodes] == [("input", (4, 20, 2)), ("conv2d", (4, 16, 3)), ("mean", (4, 3))]
    assert (g.totals.params, g.totals.macs) == (5 * 2 * 3 + 3, 4 * 16 * 3 * 5 * 2)


@pytest.mark.parametrize(
    "node, config, message",
    [
        (
            {"args": [tensor("x"), tensor("x")], "kwargs": {"attention_mask": tensor("x")}},
            {},
            "layer 'mha' (MultiHeadAttention): attribute 'attention_mask': its attention_mask tensor is not translated; "
            "query, value and key are.",
        ),
        (
            {"args": [tensor("x"), tensor("x")], "kwargs": {"return_attention_scores": True}},
            {},
            "attribute 'return_attention_scores': return_attention_scores is not translated",
        ),
        (
            {"args": [tensor("x"), tensor("x")], "kwargs": {}},
            {"attention_axes": [2]},
            "attribute 'attention_axes': only attention over the sequence (the default) is translated. Received: "
            "attention_axes=[2]",
        ),
    ],
    ids=["mask-tensor", "scores", "axes"],
)
def test_attention_outside_what_is_translated(cli, tmp_path, fails_with, node, config, message):
    doc = functional(
        "m", [layer("InputLayer", "x", batch_shape=[None, 4, 8]), mha_layer("mha", node, **config)], ["x"], ["mha"]
    )
    path = write(tmp_path, doc)
    fails_with(cli("analyze", path), path, message)


def test_time_distributed_of_an_untranslated_layer(cli, tmp_path, fails_with):
    inner = {"class_name": "Embedding", "config": {"name": "e", "input_dim": 10, "output_dim": 4}}
    doc = functional(
        "m",
        [
            layer("InputLayer", "x", batch_shape=[None, 4, 3]),
            layer("TimeDistributed", "td", [tensor("x")], layer=inner),
        ],
        ["x"],
        ["td"],
    )
    path = write(tmp_path, doc)
    fails_with(
        cli("analyze", path),
        path,
        "layer 'td' (TimeDistributed): attribute 'layer': wraps Embedding, which TimeDistributed is not translated "
        "for. Translated: Activation, AveragePooling1D,",
    )
