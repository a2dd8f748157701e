"""Conventions: other tools' figures reproduced exactly from the specs, layer type by layer type.

The figures come from ``shared/peers/`` beside the repository's checkout (found as the
reference tests find ``shared/reference/``): ``peer-figures.json`` holds what fvcore, ptflops
(both backends), thop, torchinfo and onnx-tool report for five torchvision models (their
versions and calls are in the file), and ``fvcore-per-layer-*.json`` fvcore's per-module
figures. The files are required: without them these tests fail, never skip.

Beyond those models, each rule is pinned on small specs with expectations written as the
tool's own formula (from its source, cited beside each), so a rule that only fits the five
models fails here.
"""

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_reference_specs import shared_candidates

from flopcount import analyze, build_graph, parse_spec
from flopcount.layers import REGISTRY
from flopcount.layers.conventions import CONVENTIONS, ConventionError, count_graph
from flopcount.spec import bundled_dir

MODELS = ("alexnet", "vgg16", "resnet18", "resnet50", "mobilenet_v2")
# convention -> (key in peer-figures.json, its figure, its parameter count)
PEERS = {
    "fvcore": ("fvcore", "total", "params"),
    "ptflops": ("ptflops_pytorch", "macs", "params"),
    "ptflops-aten": ("ptflops_aten", "macs", "params"),
    "thop": ("thop", "macs", "params"),
    "torchinfo": ("torchinfo", "total_mult_adds", "total_params"),
    "onnx-tool": ("onnx_tool", "macs", "params"),
}


def peers_file(name):
    paths = [p / "peers" / name for p in shared_candidates()]
    for path in paths:
        if path.is_file():
            return json.loads(path.read_text())
    pytest.fail(f"{name} not found (looked in {', '.join(map(str, paths))}); these tests need the peers' figures.")


@pytest.fixture(scope="module")
def peers():
    doc = peers_file("peer-figures.json")
    assert doc["versions"]["fvcore"] == "0.1.5.post20221221" and doc["versions"]["ptflops"] == "0.7.5"
    return doc["models"]


def spec(layers, input_shape=(8, 8, 4)):
    return build_graph(parse_spec({"name": "t", "input": list(input_shape), "layers": layers}))


def counted(layers, name, input_shape=(8, 8, 4)):
    """(figure, params) of the last layer of a small spec under a convention."""
    c = count_graph(spec(layers, input_shape).nodes, name)
    return c.counts[-1].macs, c.counts[-1].params


# ---------------------------------------------------------------- the five models, every figure


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("name", PEERS)
def test_every_peer_figure_is_reproduced(peers, model, name):
    key, figure, params = PEERS[name]
    c = count_graph(analyze(model).nodes, name)
    assert c.macs == peers[model][key][figure]
    if name != "onnx-tool":  # below: onnx-tool's parameters depend on weight values
        assert c.params == peers[model][key][params]


@pytest.mark.parametrize("model", MODELS)
def test_torchvision_counts_the_peers_parameters(peers, model):
    c = count_graph(analyze(model).nodes, "torchvision")
    assert c.params == peers[model]["params"]["trainable"]


# torchvision's initialisation: which biases of the exported graph are all zeros. VGG sets conv and linear
# biases to 0; MobileNetV2 its linear bias; a batch norm folded into a convolution leaves beta - mean x
# gamma / sqrt(var + eps) = 0 - 0, since beta and the running mean start at 0. AlexNet and ResNet's fc
# keep PyTorch's random default.
ZERO_BIASES = {
    "alexnet": (),
    "vgg16": ("conv2d", "dense"),
    "resnet18": ("batch_norm",),
    "resnet50": ("batch_norm",),
    "mobilenet_v2": ("batch_norm", "dense"),
}


@pytest.mark.parametrize("model", MODELS)
def test_onnx_tool_parameters_are_the_folded_ones_with_equal_zero_biases_stored_once(peers, model):
    """torch.onnx.export folds batch norm into the convolutions (-C per batch norm on the trainable count,
    the BN's own 2C gone, a C bias gained) and stores identical initializers once: a fresh model's
    all-zero biases of equal length are one tensor. onnx-tool counts each initializer once."""
    graph = analyze(model)
    c = count_graph(graph.nodes, "onnx-tool")
    lengths = [
        n.shape[-1] for n in graph.nodes if n.type in ZERO_BIASES[model] and (n.type == "batch_norm" or n.layer.bias)
    ]
    repeated = sum(length * (lengths.count(length) - 1) for length in set(lengths))
    assert c.params - repeated == peers[model]["onnx_tool"]["params"]
    folded = sum(n.shape[-1] for n in graph.nodes if n.type == "batch_norm")
    assert c.params == graph.totals.trainable - folded  # every batch norm here follows a bias-free convolution


@pytest.mark.parametrize("model", ("vgg16", "resnet18", "mobilenet_v2"))
def test_fvcore_per_layer(model):
    """fvcore's by_module(): its leaf modules with weights or a count, in order, against the layers here."""
    doc = peers_file(f"fvcore-per-layer-{model}.json")
    kinds = {
        "Conv2d": ("conv2d", "depthwise_conv2d"),
        "BatchNorm2d": ("batch_norm",),
        "Linear": ("dense",),
        "AdaptiveAvgPool2d": ("adaptive_avg_pool",),
    }
    theirs = [(layer["type"], layer["macs"], layer["params"]) for layer in doc["layers"] if layer["type"] in kinds]
    # MobileNetV2 pools with F.adaptive_avg_pool2d in its own forward: fvcore books that to the root
    for op, macs in doc["non_leaf_own_ops"].get("<root>", {}).items():
        assert op == "adaptive_avg_pool2d"
        theirs.insert([t for t, _, _ in theirs].index("Linear"), ("AdaptiveAvgPool2d", macs, 0))
    graph = analyze(model)
    c = count_graph(graph.nodes, "fvcore")
    ours = [(n, k) for n, k in zip(graph.nodes, c.counts) if any(n.type in v for v in kinds.values())]
    assert len(ours) == len(theirs)
    for (n, k), (kind, macs, params) in zip(ours, theirs):
        assert n.type in kinds[kind], n.name
        assert (k.macs, k.params) == (macs, params), n.name
    # everything else fvcore lists (ReLU, ReLU6, MaxPool2d, Dropout) it counts 0, and so do the rules
    assert all(layer["macs"] == 0 for layer in doc["layers"] if layer["type"] not in kinds)
    assert sum(k.macs for n, k in zip(graph.nodes, c.counts) if not any(n.type in v for v in kinds.values())) == 0
    assert c.macs == doc["fvcore_total"]


# ---------------------------------------------------------------- every type has a rule, or says why not


@pytest.mark.parametrize("name", [n for n, c in CONVENTIONS.items() if c.rules])
def test_every_registered_type_has_a_rule_or_a_reason_in_every_convention(name):
    missing = sorted(set(REGISTRY) - set(CONVENTIONS[name].rules))
    assert not missing, f"add a rule (or zero(...) / no_rule(...) with the tool's reason) to {name} for: {missing}"


def test_a_type_without_a_rule_is_an_error_naming_the_convention_the_type_and_the_layer():
    graph = spec([{"type": "reshape", "shape": [64, 4]}, {"type": "attention", "heads": 2, "name": "mha"}])
    with pytest.raises(ConventionError) as err:
        count_graph(graph.nodes, "onnx-tool")
    text = str(err.value)
    assert "layer 2 'mha'" in text and "'attention'" in text and "onnx-tool" in text
    assert err.value.exit_code == 2


def test_an_unknown_convention_is_an_error_with_a_suggestion():
    with pytest.raises(ConventionError) as err:
        count_graph(spec([{"type": "flatten"}]).nodes, "fvcor")
    assert "Did you mean 'fvcore'?" in str(err.value) and "Received: fvcor" in str(err.value)


# ---------------------------------------------------------------- rules on types the five models do not have


def test_fvcore_rules_from_jit_handles():
    # norm_flop_counter: 5 per element with affine, 4 without; batchnorm_flop_jit in eval: 2 or 1
    assert counted([{"type": "group_norm", "groups": 2}], "fvcore")[0] == 8 * 8 * 4 * 5
    assert counted([{"type": "instance_norm"}], "fvcore")[0] == 8 * 8 * 4 * 4
    assert counted([{"type": "layer_norm"}], "fvcore")[0] == 8 * 8 * 4 * 5
    assert counted([{"type": "batch_norm", "scale": False}], "fvcore")[0] == 8 * 8 * 4
    # conv_flop_count: batch x prod(w_shape) x prod(out spatial): grouped and 3-D alike
    assert (
        counted([{"type": "conv2d", "filters": 8, "kernel": 3, "groups": 2}], "fvcore")[0] == 8 * (4 // 2) * 9 * 6 * 6
    )
    # matmul_flop_jit; projections of nn.MultiheadAttention only (scaled_dot_product_attention unsupported)
    assert counted([{"type": "reshape", "shape": [64, 4]}, {"type": "attention", "heads": 2}], "fvcore")[0] == (
        64 * 4 * 3 * 4 + 64 * 4 * 4
    )
    for fn in ("relu", "relu6", "gelu", "swish", "sigmoid"):
        assert counted([{"type": "activation", "fn": fn}], "fvcore")[0] == 0


def test_ptflops_rules_from_pytorch_ops():
    x = 8 * 8 * 4
    # nn.ReLU: relu_flops_counter_hook on the output and the patched F.relu on the input
    assert counted([{"type": "activation", "fn": "relu"}], "ptflops")[0] == 2 * x
    assert counted([{"type": "activation", "fn": "relu", "torch": "function"}], "ptflops")[0] == x
    assert counted([{"type": "activation", "fn": "relu6"}], "ptflops")[0] == x  # F.hardtanh is not patched
    assert counted([{"type": "activation", "fn": "silu"}], "ptflops")[0] == x  # no hook, F.silu patched
    assert counted([{"type": "activation", "fn": "hard_swish"}], "ptflops")[0] == 0
    assert counted([{"type": "activation", "fn": "gelu"}], "ptflops")[0] == 2 * x
    # bn_flops_counter_hook: nn.LayerNorm has no `affine`, so 1 per element; a subclass is not hooked
    assert counted([{"type": "layer_norm"}], "ptflops")[0] == x
    assert counted([{"type": "layer_norm", "torch": "LayerNorm2d"}], "ptflops")[0] == 0
    assert counted([{"type": "group_norm", "groups": 2}], "ptflops")[0] == 2 * x
    assert counted([{"type": "avg_pool", "pool": 2}], "ptflops")[0] == 2 * x  # hook and F.avg_pool2d, input elements
    # rnn_flops for nn.LSTM(4, 3), 5 steps: products, 4H + 3H + 3H, and b_ih + b_hh
    lstm = [{"type": "lstm", "units": 3, "biases": 2}]
    assert counted(lstm, "ptflops", (5, 4))[0] == 5 * (4 * 3 * (4 + 3) + 10 * 3 + 2 * 4 * 3)
    gru = [{"type": "gru", "units": 3, "bidirectional": True}]
    assert counted(gru, "ptflops", (5, 4))[0] == 2 * 5 * (3 * 3 * (4 + 3) + 7 * 3 + 2 * 3 * 3)
    # multihead_attention_counter_hook, L = 64 tokens of width 4, 2 heads
    mha = [{"type": "reshape", "shape": [64, 4]}, {"type": "attention", "heads": 2}]
    assert counted(mha, "ptflops")[0] == (
        64 * 4 + 3 * 64 * 4 * 4 + 3 * 64 * 4 + 2 * (64 * 64 * 2 + 64 * 64 + 64 * 64 * 2) + 64 * 4 * (4 + 1)
    )


def test_ptflops_aten_counts_biases_of_convolutions_and_linear_layers_only():
    assert (
        counted([{"type": "conv3d", "filters": 2, "kernel": 1}], "ptflops-aten", (2, 2, 2, 4))[0] == 2 * 8 * 4 + 2 * 8
    )
    assert counted([{"type": "batch_norm"}], "ptflops-aten")[0] == 0
    with pytest.raises(ConventionError, match="'lstm'"):
        counted([{"type": "lstm", "units": 3}], "ptflops-aten", (5, 4))


def test_thop_rules_from_basic_hooks():
    x = 8 * 8 * 4
    assert counted([{"type": "avg_pool", "pool": 2}], "thop")[0] == 4 * 4 * 4  # count_avgpool: output elements
    assert counted([{"type": "layer_norm"}], "thop")[0] == 4 * x  # elementwise_affine doubles
    assert counted([{"type": "instance_norm"}], "thop")[0] == 2 * x
    assert counted([{"type": "group_norm", "groups": 2}], "thop") == (0, 0)  # not registered, parameters neither
    # count_adap_avgpool in float64: 8 / 3 squared, plus 1, times the 3 x 3 x 4 outputs, truncated
    assert counted([{"type": "adaptive_avg_pool", "size": 3}], "thop")[0] == int(((8 / 3) * (8 / 3) + 1) * 36)
    assert counted([{"type": "flatten"}, {"type": "softmax"}], "thop")[0] == 3 * 256 - 1
    # _count_lstm_cell, 5 steps: 4 x ((D + H) H + H + 2H) + 3H + H
    assert counted([{"type": "lstm", "units": 3, "biases": 2}], "thop", (5, 4))[0] == 5 * (4 * (7 * 3 + 3 + 6) + 4 * 3)
    mha = [{"type": "reshape", "shape": [64, 4]}, {"type": "attention", "heads": 2}]
    assert counted(mha, "thop") == (0, 0)


def test_torchinfo_multiplies_parameters():
    # a linear layer counts weight + bias once, whatever the leading axes (output_size[0] is the batch)
    assert counted([{"type": "reshape", "shape": [64, 4]}, {"type": "dense", "units": 5}], "torchinfo")[0] == 4 * 5 + 5
    assert counted([{"type": "conv2d", "filters": 2, "kernel": 3}], "torchinfo")[0] == (4 * 9 * 2 + 2) * 6 * 6
    # recurrent: every parameter x sequence length
    lstm = [{"type": "lstm", "units": 3, "biases": 2}]
    assert counted(lstm, "torchinfo", (5, 4))[0] == 5 * 4 * 3 * (4 + 3 + 2)
    assert counted([{"type": "layer_norm"}], "torchinfo")[0] == 8


def test_onnx_tool_rules_from_node_py():
    x = 8 * 8 * 4
    # a batch norm after something else than a convolution stays: ADD + SQRT + DIV + ADD + MUL = 31 per element
    assert counted([{"type": "activation", "fn": "relu"}, {"type": "batch_norm"}], "onnx-tool") == (31 * x, 4 * 4)
    # after a convolution with a bias: folded, the bias absorbs it
    folded = [{"type": "conv2d", "filters": 4, "kernel": 1}, {"type": "batch_norm"}]
    assert counted(folded, "onnx-tool") == (0, 0)
    # a convolution read by two layers is not folded
    shared = [
        {"type": "conv2d", "filters": 4, "kernel": 1, "name": "c"},
        {"type": "batch_norm", "name": "bn"},
        {"type": "add", "inputs": ["c", "bn"]},
    ]
    assert count_graph(spec(shared).nodes, "onnx-tool").counts[2].macs == 31 * x
    # LayerNormalization: 3 MUL + 4 ADD per element, ADD + SQRT + DIV per row
    assert counted([{"type": "layer_norm"}], "onnx-tool")[0] == 7 * x + 29 * 64
    assert counted([{"type": "activation", "fn": "tanh"}], "onnx-tool")[0] == 2 * 38 * x
    assert counted([{"type": "max_pool3d", "pool": [2, 3, 3]}], "onnx-tool", (4, 6, 6, 4))[0] == 2 * 2 * 2 * 4 * 2
    with pytest.raises(ConventionError, match="does not divide"):
        counted([{"type": "adaptive_avg_pool", "size": 3}], "onnx-tool")


def test_keras_is_twice_the_macs_with_every_parameter():
    graph = analyze("resnet18")
    c = count_graph(graph.nodes, "keras")
    assert (c.macs, c.params) == (2 * 1814073344, 11689512 + 9600)


@pytest.mark.parametrize("value", ["nn.LayerNorm", "", 3, "Layer Norm"])
def test_the_torch_key_takes_function_or_a_class_name(value):
    from flopcount.errors import SpecError

    with pytest.raises(SpecError) as err:
        spec([{"type": "flatten", "torch": value}])
    assert err.value.attribute == "torch" and "layer 1" in str(err.value)


def test_the_torch_key_belongs_to_layers_not_block_instances():
    from flopcount.errors import SpecError

    doc = {
        "name": "t",
        "input": [4],
        "blocks": {"b": {"layers": [{"type": "dense", "units": 2}]}},
        "layers": [{"block": "b", "torch": "function"}],
    }
    with pytest.raises(SpecError, match="torch applies to a layer"):
        parse_spec(doc)


def test_transposed_convolutions_and_upsampling_by_each_tool():
    # (4, 4, 6) -> (8, 8, 4) by a 2x2 stride-2 transposed convolution with 2 groups and a bias
    layers = [{"type": "conv2d_transpose", "filters": 4, "kernel": 2, "stride": 2, "groups": 2}]
    shape = (4, 4, 6)
    macs = 4 * 4 * 4 * 6 * 4 // 2  # input positions x taps x C_in x C_out / groups
    assert counted(layers, "fvcore", shape)[0] == macs
    assert counted(layers, "ptflops", shape)[0] == macs + 8 * 8 * 4
    assert counted(layers, "thop", shape)[0] == 8 * 8 * 4 * (6 // 2) * 4  # output elements x C_in / groups x taps
    assert counted(layers, "torchinfo", shape)[0] == (6 * 2 * 4 + 4) * 8 * 8  # parameters x output positions
    assert counted(layers, "onnx-tool", shape)[0] == 8 * 8 * 4 * (4 // 2) * 4 + 8 * 8 * 4
    up = [{"type": "upsample", "scale": 2, "mode": "bilinear"}]
    assert counted(up, "fvcore")[0] == 4 * 16 * 16 * 4  # aten::upsample_bilinear2d
    assert counted(up, "thop")[0] == 11 * 16 * 16 * 4
    assert counted(up, "ptflops")[0] == 2 * 16 * 16 * 4
    assert counted(up, "onnx-tool")[0] == 4 * 16 * 16 * 4
    assert counted([{"type": "upsample3d", "scale": 2, "mode": "trilinear"}], "thop", (2, 2, 2, 4))[0] == 0
    with pytest.raises(ConventionError, match="fractional scale"):
        counted([{"type": "upsample", "scale": 1.5}], "ptflops")


# ---------------------------------------------------------------- the command line


def test_analyze_under_a_convention_gives_each_layer_its_figure_in_json(cli):
    result = cli("analyze", "resnet18", "--convention", "fvcore", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    layers = data["layers"]
    assert sum(layer["convention"]["macs"] for layer in layers) == data["convention"]["macs"] == 1819065856
    bn1 = next(layer for layer in layers if layer["name"] == "bn1")
    assert bn1["convention"] == {
        "macs": 2 * 64 * 112 * 112,
        "params": 128,
        "rule": "aten::batch_norm in eval: 2 per element (affine)",
    }
    assert data["totals"]["macs"] == 1814073344  # flopcount's own figures stay
    assert {(d["type"], d["macs"]) for d in data["convention"]["differences"]} == {
        ("batch_norm", 4967424),
        ("adaptive_avg_pool", 25088),
    }


def test_analyze_under_a_convention_in_every_format(cli):
    table = cli("analyze", "vgg16", "--convention", "thop")
    assert table.exit_code == 0 and "15,470,314,496" in table.output and "thop params" in table.output
    rows = list(csv.DictReader(io.StringIO(cli("analyze", "vgg16", "--convention", "thop", "--format", "csv").output)))
    assert sum(int(r["convention_macs"]) for r in rows) == 15470314496
    by_type = cli("analyze", "resnet18", "--convention", "ptflops", "--by", "type", "--format", "json")
    groups = {g["type"]: g["convention"]["macs"] for g in json.loads(by_type.output)["groups"]}
    assert groups["max_pool"] == 2 * 64 * 112 * 112  # module hook and patched F.max_pool2d, input elements twice
    markdown = cli("analyze", "vgg16", "--convention", "onnx-tool", "--format", "markdown")
    assert markdown.exit_code == 0 and "| onnx-tool |" in markdown.output.replace("onnx-tool params", "")


def test_the_default_convention_changes_nothing(cli):
    assert cli("analyze", "alexnet", "--convention", "flopcount").output == cli("analyze", "alexnet").output


def test_every_convention_side_by_side_in_every_format(cli, peers):
    data = json.loads(cli("analyze", "resnet50", "--convention", "all", "--format", "json").output)
    figures = {c["name"]: c["macs"] for c in data["conventions"]}
    for name, (key, figure, _) in PEERS.items():
        assert figures[name] == peers["resnet50"][key][figure]
    assert list(figures) == list(CONVENTIONS)
    rows = list(
        csv.DictReader(io.StringIO(cli("analyze", "resnet50", "--convention", "all", "--format", "csv").output))
    )
    thop = [r for r in rows if r["convention"] == "thop"]
    assert {r["type"] for r in thop} == {"batch_norm", "adaptive_avg_pool"}
    assert sum(int(r["difference"]) for r in thop) == peers["resnet50"]["thop"]["macs"] - 4089184256
    for fmt in ("table", "markdown"):
        result = cli("analyze", "resnet50", "--convention", "all", "--format", fmt)
        assert result.exit_code == 0 and "4,133,742,592" in result.output


def test_every_convention_says_which_have_no_figure(cli):
    data = json.loads(cli("analyze", "vit_b_16", "--convention", "all", "--format", "json").output)
    errors = {c["name"]: c["error"] for c in data["conventions"]}
    assert "'attention'" in errors["onnx-tool"] and errors["fvcore"] is None


def test_a_convention_without_a_rule_for_a_layer_is_exit_2_naming_both(cli):
    result = cli("analyze", "vit_b_16", "--convention", "onnx-tool")
    assert result.exit_code == 2
    assert "convention 'onnx-tool'" in result.output and "'attention'" in result.output
    assert "encoder_layer_1/self_attention" in result.output and result.output.count("\n") == 1


def test_an_unknown_convention_is_exit_2_naming_the_option(cli):
    result = cli("analyze", "vgg16", "--convention", "fvcor")
    assert result.exit_code == 2 and "--convention takes one of" in result.output and "fvcore" in result.output


def test_the_help_lists_every_convention(cli):
    text = " ".join(cli("analyze", "--help", terminal_width=300, max_content_width=300).output.split())
    assert all(name in text for name in CONVENTIONS if name != "flopcount")


# ---------------------------------------------------------------- check --convention


@pytest.mark.parametrize("model", MODELS)
def test_check_holds_each_bundled_spec_to_the_peers_figures_in_its_expect(cli, model):
    for name in PEERS:
        result = cli("check", model, "--convention", name, "--format", "json")
        data = json.loads(result.output)
        assert result.exit_code == 0, result.output
        assert data["checks"][0]["sources"] == ["expect"] and data["checks"][0]["convention"] == name


def test_check_under_a_convention_compares_that_tools_figures(cli, write_spec):
    doc = json.loads((bundled_dir() / "resnet18.json").read_text())
    doc["expect"] = [{"convention": "thop", "macs": 1824033792 + 1, "params": 11689512}]
    result = cli("check", write_spec(doc), "--convention", "thop", "--format", "json")
    assert result.exit_code == 1
    (drift,) = json.loads(result.output)["checks"][0]["drift"]
    assert (drift["figure"], drift["expected"], drift["actual"]) == ("macs", 1824033793, 1824033792)
    # flopcount's own check has no entry to compare with
    assert "nothing to compare" in cli("check", write_spec(doc)).output


def test_check_baseline_entries_are_kept_per_convention(cli, tmp_path):
    baseline = tmp_path / "baseline.json"
    assert cli("check", "vgg16", "--baseline", baseline, "--update", "--convention", "ptflops").exit_code == 0
    assert cli("check", "vgg16", "--baseline", baseline, "--update").exit_code == 0
    specs = json.loads(baseline.read_text())["specs"]
    assert specs["vgg16 (ptflops)"]["totals"]["macs"] == 15523225576 and specs["vgg16"]["totals"]["macs"] == 15470264320
    layer = next(x for x in specs["vgg16 (ptflops)"]["layers"] if x["name"] == "pool1")
    assert layer["macs"] == 2 * 224 * 224 * 64  # module hook and patched F.max_pool2d on its input
    assert cli("check", "vgg16", "--baseline", baseline, "--convention", "ptflops").exit_code == 0
    missing = cli("check", "vgg16", "--baseline", baseline, "--convention", "thop", "--format", "json")
    assert missing.exit_code == 1 and "'vgg16 (thop)'" in missing.output


def test_check_refuses_an_unknown_convention_in_expect_and_on_the_command_line(cli, write_spec):
    doc = json.loads((bundled_dir() / "alexnet.json").read_text())
    doc["expect"] = [{"convention": "thopp", "macs": 1}]
    result = cli("check", write_spec(doc))
    assert result.exit_code == 2 and "expect[0].convention" in result.output and "Did you mean 'thop'?" in result.output
    assert cli("check", "alexnet", "--convention", "nope").exit_code == 2


# ---------------------------------------------------------------- the README's reference


README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_example_is_the_commands_output(cli):
    text = README.read_text()
    marker = "<!-- example: analyze resnet18 --convention all --format markdown -->\n"
    shown = text[text.index(marker) + len(marker) : text.index("<!-- /example -->")]
    assert shown == cli("analyze", "resnet18", "--convention", "all", "--format", "markdown").output


def test_readme_rules_table_has_a_row_for_every_layer_type():
    text = README.read_text()
    table = text[text.index("| layer type | fvcore") : text.index("| **parameters counted**")]
    first = " ".join(row.split("|")[1] for row in table.splitlines()[2:])
    named = set(
        re.findall(
            r"[a-z_0-9]+",
            first.replace("conv1d/2d/3d_transpose", "conv1d_transpose conv2d_transpose conv3d_transpose").replace(
                "upsample1d/3d", "upsample1d upsample3d"
            ),
        )
    )
    named |= {
        "conv1d",
        "conv2d",
        "conv3d",
        "depthwise_conv1d",
        "depthwise_conv2d",
        "depthwise_conv3d",
    }  # "conv1d/2d/3d, depthwise"
    named |= {"max_pool1d", "max_pool3d", "avg_pool1d", "avg_pool3d"}  # "max_pool, avg_pool (1-3 D)"
    assert not set(REGISTRY) - named, sorted(set(REGISTRY) - named)
    for name in PEERS:
        version = CONVENTIONS[name].tool.split(" (")[0]
        assert version in text, version


def test_the_default_analyze_path_does_not_import_the_conventions():
    code = (
        "import sys; from click.testing import CliRunner; from flopcount.cli import main; "
        "r = CliRunner().invoke(main, ['analyze', 'vgg16']); assert r.exit_code == 0; "
        "print('flopcount.layers.conventions' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize("name", list(CONVENTIONS))
def test_every_activation_function_is_counted_or_refused_with_a_reason(name):
    from flopcount.layers import ACTIVATIONS

    for fn in ACTIVATIONS:
        graph = spec([{"type": "activation", "fn": fn}])
        if name == "onnx-tool" and fn == "gelu_tanh":
            with pytest.raises(ConventionError, match="tanh-approximate"):
                count_graph(graph.nodes, name)
        else:
            count_graph(graph.nodes, name)
