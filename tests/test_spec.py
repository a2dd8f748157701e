"""The spec format: blocks, repeats, variables, names, inputs, and their errors."""

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from flopcount import ShapeError, SpecError, build_graph, parse_spec
from flopcount.cli import main
from flopcount.spec import load_spec, parse_overrides

BLOCKS = {
    "conv_bn": {
        "params": {"filters": None, "stride": 1},
        "layers": [
            {
                "type": "conv2d",
                "name": "conv",
                "filters": "filters",
                "kernel": 3,
                "stride": "stride",
                "padding": "same",
                "bias": False,
            },
            {"type": "batch_norm", "name": "bn"},
        ],
    },
    "residual": {
        "params": {"filters": None},
        "layers": [
            {"block": "conv_bn", "filters": "filters", "name": "a"},
            {"type": "activation", "fn": "relu"},
            {"block": "conv_bn", "filters": "filters", "name": "b"},
            {"type": "add", "inputs": ["in", "b"], "name": "add"},
            {"type": "activation", "fn": "relu", "name": "out"},
        ],
    },
}


def graph(layers, **extra):
    return build_graph(parse_spec({"name": "t", "input": [8, 8, 4], "blocks": BLOCKS, "layers": layers, **extra}))


def test_block_instance_names_and_shapes():
    g = graph([{"block": "conv_bn", "filters": 8, "stride": 2, "name": "stem"}])
    assert [n.name for n in g.nodes] == ["input", "stem/conv", "stem/bn"]
    assert g.nodes[-1].shape == (4, 4, 8)
    assert g.nodes[1].trainable == 3 * 3 * 4 * 8


def test_repeat_chains_copies_and_binds_i():
    g = graph([{"block": "conv_bn", "filters": 4, "stride": "2 if i == 0 else 1", "repeat": 3, "name": "stage"}])
    convs = [n for n in g.nodes if n.type == "conv2d"]
    assert [n.name for n in convs] == ["stage_1/conv", "stage_2/conv", "stage_3/conv"]
    assert [n.shape for n in convs] == [(4, 4, 4)] * 3
    assert convs[1].inputs == (convs[0].index + 1,)  # the bn of copy 1 feeds copy 2
    assert {n.group for n in g.nodes[1:]} == {"stage"}


def test_residual_block_uses_its_input_by_the_name_in():
    g = graph([{"block": "residual", "filters": 4, "repeat": 2}])
    adds = [n for n in g.nodes if n.type == "add"]
    first_add, second_add = adds
    assert g.nodes[first_add.inputs[0]].name == "input"
    assert g.nodes[second_add.inputs[0]].name == "residual_1/out"


def test_inputs_may_name_a_block_instance_for_its_output():
    g = graph(
        [
            {"block": "conv_bn", "filters": 4, "name": "a"},
            {"block": "conv_bn", "filters": 4, "name": "b"},
            {"type": "concat", "inputs": ["a", "b"]},
        ]
    )
    assert g.nodes[-1].shape == (8, 8, 8)
    assert [g.nodes[i].name for i in g.nodes[-1].inputs] == ["a/bn", "b/bn"]


def test_generated_names_are_stable_and_unique():
    g = graph([{"type": "activation", "fn": "relu"}, {"type": "activation", "fn": "relu"}, {"type": "flatten"}])
    assert [n.name for n in g.nodes] == ["input", "activation_1", "activation_2", "flatten_1"]


def test_variables_and_overrides():
    spec = {
        "name": "t",
        "variables": {"alpha": 1.0, "resolution": 32, "width": "int(32 * alpha)"},
        "input": ["resolution", "resolution", 3],
        "layers": [{"type": "conv2d", "filters": "width", "kernel": 3, "padding": "same"}],
    }
    assert build_graph(parse_spec(spec)).nodes[-1].shape == (32, 32, 32)
    g = build_graph(parse_spec(spec, overrides={"alpha": "0.75", "resolution": "16"}))
    assert g.nodes[-1].shape == (16, 16, 24)


def test_override_of_unknown_variable_is_an_error():
    spec = {"name": "t", "variables": {"alpha": 1}, "input": [4, 4, 1], "layers": [{"type": "flatten"}]}
    with pytest.raises(SpecError, match="no such variable. Did you mean 'alpha'"):
        parse_spec(spec, overrides={"alpah": "2"})


@pytest.mark.parametrize(
    "pairs, parsed",
    [(["alpha=0.75"], {"alpha": "0.75"}), (["a=1", "b = 2*3"], {"a": "1", "b": "2*3"})],
)
def test_parse_overrides(pairs, parsed):
    assert parse_overrides(pairs) == parsed


@pytest.mark.parametrize("pair", ["alpha", "=3", "1a=2", "a="])
def test_parse_overrides_rejects(pair):
    with pytest.raises(SpecError, match="^overrides takes NAME=VALUE") as err:
        parse_overrides([pair])
    assert err.value.option == "overrides"  # the CLI spells it --set


# Each bad spec names the layer and attribute it fails on.
BAD = [
    ("unknown-type", [{"type": "conv"}], "layer 1 'conv_1': attribute 'type': unknown layer type."),
    (
        "typo-attribute",
        [{"type": "conv2d", "filters": 4, "kernel": 3, "strides": 2}],
        "attribute 'strides': unknown attribute for conv2d. Did you mean 'stride'?",
    ),
    ("missing-attribute", [{"type": "conv2d", "kernel": 3}], "attribute 'filters': conv2d needs this attribute"),
    ("mistyped", [{"type": "conv2d", "filters": "four", "kernel": 3}], "undefined variable 'four'"),
    (
        "float-for-int",
        [{"type": "conv2d", "filters": 4.5, "kernel": 3}],
        "attribute 'filters': must be an integer, not a decimal number. Received: filters=4.5",
    ),
    ("bool-for-int", [{"type": "dense", "units": True}], "must be an integer >= 1. Received: units=true"),
    (
        "zero-stride",
        [{"type": "conv2d", "filters": 4, "kernel": 3, "stride": 0}],
        "attribute 'stride': must be an integer >= 1. Received: stride=0",
    ),
    (
        "bad-padding-word",
        [{"type": "conv2d", "filters": 4, "kernel": 3, "padding": "sane"}],
        "must be 'same', 'valid' or explicit amounts. Did you mean 'same'?",
    ),
    ("unknown-input", [{"type": "flatten", "inputs": "conv9"}], "attribute 'inputs': names no earlier layer."),
    (
        "forward-reference",
        [{"type": "add", "inputs": ["input", "later"]}, {"type": "flatten", "name": "later"}],
        "names no earlier layer.",
    ),
    (
        "add-shapes",
        [{"type": "conv2d", "filters": 2, "kernel": 1, "name": "c"}, {"type": "add", "inputs": ["input", "c"]}],
        "layer 2 'add_1': attribute 'inputs': cannot add inputs of different shapes: (8, 8, 4), (8, 8, 2).",
    ),
    (
        "concat-shapes",
        [{"type": "conv2d", "filters": 2, "kernel": 3, "name": "c"}, {"type": "concat", "inputs": ["input", "c"]}],
        "cannot concatenate shapes (8, 8, 4), (6, 6, 2) on axis -1",
    ),
    (
        "kernel-too-big",
        [{"type": "conv2d", "filters": 2, "kernel": 9}],
        "attribute 'kernel': the window of 9 is larger than the padded input height of 8.",
    ),
    (
        "groups",
        [{"type": "conv2d", "filters": 6, "kernel": 1, "groups": 3}],
        "attribute 'groups': input channels (4) must be divisible by groups (3).",
    ),
    ("undefined-variable", [{"type": "dense", "units": "width"}], "undefined variable 'width'"),
    (
        "duplicate-name",
        [{"type": "flatten", "name": "f"}, {"type": "flatten", "name": "f"}],
        "the name 'f' is taken twice: by layer 1 and by layer 2",
    ),
    ("add-one-input", [{"type": "add"}], "add takes at least 2 input(s)."),
    ("unknown-block", [{"block": "conv_nb", "filters": 2}], "unknown block. Did you mean 'conv_bn'?"),
    (
        "block-param-typo",
        [{"block": "conv_bn", "filter": 2}],
        "block 'conv_bn' has no parameter of this name. Did you mean 'filters'?",
    ),
    ("block-param-missing", [{"block": "conv_bn"}], "attribute 'filters': block 'conv_bn' needs this parameter."),
    ("type-and-block", [{"type": "flatten", "block": "conv_bn"}], "exactly one of 'type'"),
    ("repeat-negative", [{"type": "flatten", "repeat": -1}], "attribute 'repeat': must be an integer >= 0."),
    ("spatial-on-vector", [{"type": "flatten"}, {"type": "max_pool", "pool": 2}], "max_pool needs an (H, W, C) input"),
    ("activation-fn", [{"type": "activation", "fn": "rleu"}], "must be one of 'relu'"),
]


@pytest.mark.parametrize("layers, message", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_spec_message(layers, message):
    with pytest.raises((SpecError, ShapeError)) as err:
        graph(layers)
    assert message in str(err.value)


def test_recursive_block_is_reported():
    blocks = {"a": {"layers": [{"block": "b"}]}, "b": {"layers": [{"block": "a"}]}}
    with pytest.raises(SpecError, match=r"block 'a' uses itself \(a -> b -> a\)"):
        parse_spec({"name": "t", "input": [2, 2, 1], "blocks": blocks, "layers": [{"block": "a"}]})


def test_expansion_limit():
    spec = {"name": "t", "input": [2], "layers": [{"type": "dropout", "repeat": 50}]}
    with pytest.raises(SpecError, match="would expand to at least 51 layers, more than the limit of 10"):
        parse_spec(spec, max_layers=10)


def test_expansion_limit_counts_layers_as_they_are_emitted():
    spec = {"name": "t", "input": [2], "layers": [{"type": "dropout"}] * 12}
    with pytest.raises(SpecError, match="more than the limit of 10"):
        parse_spec(spec, max_layers=10)


def test_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "x",\n "layers": [}')
    with pytest.raises(SpecError, match=r"bad.json: invalid JSON at line 2, column 13"):
        load_spec(bad)
    missing = tmp_path / "nope.json"
    with pytest.raises(SpecError, match="nope.json: no such file"):
        load_spec(missing)


def test_bundled_name_suggestion():
    with pytest.raises(SpecError, match="Did you mean 'vgg16'"):
        load_spec("vgg-16")


def test_repeat_of_one_still_binds_i_and_numbers_the_copy():
    spec = {
        "name": "t",
        "variables": {"n": 1},
        "input": [8, 8, 2],
        "layers": [
            {"type": "conv2d", "name": "c", "filters": 2, "kernel": 1, "stride": "2 if i == 0 else 1", "repeat": "n"}
        ],
    }
    g = build_graph(parse_spec(spec))
    assert [n.name for n in g.nodes] == ["input", "c_1"]
    assert g.nodes[-1].shape == (4, 4, 2)


PROJECTING = {
    "unit": {
        "params": {"filters": None, "stride": 1, "project": False},
        "layers": [
            {"type": "conv2d", "name": "conv", "filters": "filters", "kernel": 3, "stride": "stride", "padding": 1},
            {
                "type": "conv2d",
                "name": "shortcut",
                "filters": "filters",
                "kernel": 1,
                "stride": "stride",
                "inputs": "in",
                "when": "project",
            },
            {"type": "add", "name": "add", "inputs": ["shortcut", "conv"]},
        ],
    }
}


def test_when_skips_a_layer_which_then_stands_for_its_input():
    spec = {
        "name": "t",
        "input": [8, 8, 4],
        "blocks": PROJECTING,
        "layers": [
            {
                "block": "unit",
                "name": "stage",
                "filters": 8,
                "repeat": 3,
                "stride": "2 if i == 0 else 1",
                "project": "i == 0",
            }
        ],
    }
    g = build_graph(parse_spec(spec))
    names = [n.name for n in g.nodes]
    assert names == [
        "input",
        "stage_1/conv",
        "stage_1/shortcut",
        "stage_1/add",
        "stage_2/conv",
        "stage_2/add",
        "stage_3/conv",
        "stage_3/add",
    ]
    second_add = g.nodes[names.index("stage_2/add")]
    assert [g.nodes[i].name for i in second_add.inputs] == ["stage_1/add", "stage_2/conv"]
    assert g.nodes[-1].shape == (4, 4, 8)


def test_when_must_be_a_condition():
    spec = {"name": "t", "input": [4], "layers": [{"type": "dropout", "when": "2 + 2"}]}
    with pytest.raises(SpecError, match="attribute 'when': must be true or false"):
        parse_spec(spec)


def test_padding_may_be_a_block_parameter():
    blocks = {"c": {"params": {"pad": 1}, "layers": [{"type": "conv2d", "filters": 2, "kernel": 3, "padding": "pad"}]}}
    spec = {"name": "t", "input": [6, 6, 1], "blocks": blocks, "layers": [{"block": "c"}, {"block": "c", "pad": 0}]}
    assert build_graph(parse_spec(spec)).nodes[-1].shape == (4, 4, 2)


def test_a_block_sees_only_the_variables_and_its_own_parameters():
    blocks = {
        "outer": {"params": {"filters": 7}, "layers": [{"block": "inner"}]},
        "inner": {"layers": [{"type": "dense", "units": "filters"}]},
    }
    spec = {"name": "t", "input": [4], "blocks": blocks, "layers": [{"block": "outer"}]}
    with pytest.raises(SpecError, match="undefined variable 'filters'"):
        build_graph(parse_spec(spec))


def test_generated_names_skip_names_already_taken():
    g = graph([{"type": "flatten", "name": "flatten_2"}, {"type": "flatten"}, {"type": "flatten"}])
    assert [n.name for n in g.nodes] == ["input", "flatten_2", "flatten_1", "flatten_3"]


# ---------------------------------------------------------------- never silently wrong (issue 10)


def test_a_skipped_add_passes_on_the_input_else_names():
    # the issue's case: skipping an add with inputs ["in", "conv"] made the block's output its own input, and
    # the 1x1 convolution after it was counted on 64 channels: 262,144 MACs instead of 65,536
    blocks = {
        "unit": {
            "params": {"residual": False},
            "layers": [
                {"type": "conv2d", "name": "conv", "filters": 16, "kernel": 1},
                {"type": "add", "inputs": ["in", "conv"], "when": "residual", "else": "conv"},
            ],
        }
    }
    spec = {
        "name": "t",
        "input": [16, 16, 64],
        "blocks": blocks,
        "layers": [{"block": "unit"}, {"type": "conv2d", "name": "after", "filters": 16, "kernel": 1, "bias": False}],
    }
    g = build_graph(parse_spec(spec))
    assert g.nodes[-1].macs == 16 * 16 * 16 * 16  # 65,536: on the convolution's 16 channels
    assert [g.nodes[i].name for i in g.nodes[-1].inputs] == ["unit_1/conv"]
    spec["layers"][0]["residual"] = True
    blocks["unit"]["layers"][0]["filters"] = 64
    assert build_graph(parse_spec(spec)).nodes[-2].type == "add"


def test_a_skipped_layer_with_several_inputs_needs_else_even_when_included():
    spec = {
        "name": "t",
        "input": [4, 4, 2],
        "variables": {"r": True},
        "layers": [
            {"type": "conv2d", "name": "c", "filters": 2, "kernel": 1},
            {"type": "add", "inputs": ["input", "c"], "when": "r"},
        ],
    }
    with pytest.raises(
        SpecError, match="attribute 'when': this entry reads 2 inputs; .* name the one it passes on with \"else\""
    ):
        parse_spec(spec)  # refused in every setting, not only in the one that skips it


@pytest.mark.parametrize(
    "layers, first, second",
    [
        ([{"type": "flatten", "name": "a"}, {"block": "b", "name": "a"}], "layer 1", "the block instance at layer 2"),
        (
            [{"type": "flatten", "name": "a"}, {"type": "dropout", "name": "a", "when": False}],
            "layer 1",
            "the entry skipped by 'when' before layer 2",
        ),
        (
            [{"type": "flatten", "name": "a"}, {"type": "dropout", "name": "a", "repeat": 2}],
            "layer 1",
            "the repeat at layer 2",
        ),
        (
            [{"type": "dropout", "name": "a", "repeat": 2}, {"type": "flatten", "name": "a"}],
            "the repeat at layer 1",
            "layer 3",
        ),
        (
            [{"type": "flatten", "name": "a_2"}, {"block": "b", "name": "a", "repeat": 2}],
            "layer 1",
            "copy 2 of the repeat at layer 2",
        ),
        (
            [{"block": "b", "name": "a", "repeat": 2}, {"type": "flatten", "name": "a_1"}],
            "copy 1 of the repeat at layer 1",
            "layer 3",
        ),
        (
            [{"type": "flatten"}, {"type": "dropout", "name": "flatten_1", "repeat": 0}],
            "layer 1",
            "the repeat at layer 2",
        ),
    ],
)
def test_two_entries_answering_to_one_name_are_an_error_naming_both(layers, first, second):
    blocks = {"b": {"layers": [{"type": "dropout"}]}}
    with pytest.raises(SpecError) as err:
        parse_spec({"name": "t", "input": [4], "blocks": blocks, "layers": layers})
    assert f"is taken twice: by {first} and by {second}; names must be unique." in str(err.value)


def test_repeat_zero_makes_nothing_so_a_stage_of_one_unit_works():
    # a stage written as a first unit plus n - 1 more: n = 1 used to fail (repeat 0 was refused)
    blocks = {
        "stage": {
            "params": {"n": None},
            "layers": [
                {"type": "conv2d", "name": "first", "filters": 4, "kernel": 3, "stride": 2, "padding": 1},
                {"type": "conv2d", "name": "more", "filters": 4, "kernel": 3, "padding": 1, "repeat": "n - 1"},
                {"type": "activation", "fn": "relu", "inputs": "more"},
            ],
        }
    }
    for n in (1, 3):
        g = build_graph(
            parse_spec({"name": "t", "input": [8, 8, 2], "blocks": blocks, "layers": [{"block": "stage", "n": n}]})
        )
        assert [x.name for x in g.nodes if x.type == "conv2d"] == ["stage_1/first"] + [
            f"stage_1/more_{k}" for k in range(1, n)
        ]
        assert g.nodes[-1].inputs == (g.nodes[-2].index,)


@pytest.mark.parametrize("when", ["true", "True", True, "not false", "not False"])
def test_true_and_false_in_both_spellings(when):
    spec = {"name": "t", "input": [4], "layers": [{"type": "dropout", "name": "d", "when": when}]}
    assert [n.name for n in build_graph(parse_spec(spec)).nodes] == ["input", "d"]


def test_an_error_in_a_condition_or_count_names_the_key():
    for key, value in (("when", "1 / 0 > 1"), ("repeat", "n + 1"), ("when", "max(1)")):
        with pytest.raises(SpecError, match=f"attribute '{key}': "):
            parse_spec({"name": "t", "input": [4], "layers": [{"type": "dropout", key: value}]})


def test_a_variable_used_above_its_line_says_so():
    spec = {"name": "t", "input": [4], "variables": {"a": "b + 1", "b": 2, "c": "c"}, "layers": [{"type": "flatten"}]}
    with pytest.raises(
        SpecError, match="'variables.a': uses 'b' before the line that defines it; define 'b' above 'a'."
    ):
        parse_spec(spec)
    spec["variables"] = {"c": "c * 2"}
    with pytest.raises(SpecError, match="'variables.c': 'c' is defined in terms of itself."):
        parse_spec(spec)
    spec["variables"] = {"a": "zz + 1"}  # defined nowhere: the usual message
    with pytest.raises(SpecError, match="undefined variable 'zz'"):
        parse_spec(spec)


def test_block_defaults_see_the_arguments_given_and_earlier_parameters():
    blocks = {"b": {"params": {"mid": "out // 4", "out": None}, "layers": [{"type": "dense", "units": "mid"}]}}
    g = build_graph(parse_spec({"name": "t", "input": [4], "blocks": blocks, "layers": [{"block": "b", "out": 64}]}))
    assert g.nodes[-1].shape == (16,)


@pytest.mark.parametrize("name", ["and", "not", "if", "true", "False", "in", "i"])
def test_keywords_are_not_variable_or_parameter_names(name):
    with pytest.raises(SpecError, match="is not a usable variable name"):
        parse_spec({"name": "t", "input": [4], "variables": {name: 1}, "layers": [{"type": "flatten"}]})
    with pytest.raises(SpecError, match="is not a usable parameter name"):
        parse_spec(
            {
                "name": "t",
                "input": [4],
                "blocks": {"b": {"params": {name: 1}, "layers": [{"type": "flatten"}]}},
                "layers": [{"block": "b"}],
            }
        )


DUPLICATED = [
    (
        '{"name": "t", "input": [4], "name": "u", "layers": [{"type": "flatten"}]}',
        "duplicate key 'name' in the top-level object",
    ),
    (
        '{"name": "t", "input": [4], "layers": [{"type": "dense", "units": 4, "units": 400}]}',
        "duplicate key 'units' in layers[0]",
    ),
    (
        '{"name": "t", "input": [4], "layers": [{"type": "flatten"}], "expect": [{"params": 1}, {"set": {"a": 1, "a": 2}}]}',
        "duplicate key 'a' in expect[1].set",
    ),
    (
        '{"name": "t", "input": [4], "blocks": {"b": {"layers": []}, "b": {"layers": [{"type": "flatten"}]}}, "layers": []}',
        "duplicate key 'b' in blocks",
    ),
]


@pytest.mark.parametrize("text, message", DUPLICATED)
def test_a_duplicate_json_key_is_an_error_naming_it_and_where(text, message):
    with pytest.raises(SpecError, match=message.replace("[", "\\[").replace("]", "\\]")):
        parse_spec(text)


def test_a_duplicate_key_in_a_baseline_is_an_error_too(tmp_path):
    from flopcount.baseline import BaselineError, read_baseline

    path = tmp_path / "baseline.json"
    path.write_text(
        '{"flopcount_baseline": 1, "specs": {"vgg16": {"name": "VGG16", "layers": [], '
        '"totals": {"params": 1, "params": 2}}}}'
    )
    with pytest.raises(BaselineError, match="duplicate key 'params' in specs.vgg16.totals"):
        read_baseline(path)


def test_outputs_name_what_the_network_returns():
    layers = [
        {"type": "conv2d", "name": "aux", "filters": 2, "kernel": 1},
        {"type": "conv2d", "name": "main", "filters": 2, "kernel": 1, "inputs": "input"},
    ]
    g = build_graph(parse_spec({"name": "t", "input": [4, 4, 2], "layers": layers}))
    assert [n.name for n in g.unused()] == ["aux"]
    assert g.unused_notes() == [
        "layer 1 'aux' (conv2d): its output is never used; if the network returns it, name it in \"outputs\"."
    ]
    g = build_graph(parse_spec({"name": "t", "input": [4, 4, 2], "layers": layers, "outputs": ["aux", "main"]}))
    assert g.unused() == []


def test_analyze_warns_of_an_unused_output_and_check_fails_on_it(cli, write_spec):
    layers = [
        {"type": "conv2d", "name": "aux", "filters": 2, "kernel": 1},
        {"type": "conv2d", "name": "main", "filters": 2, "kernel": 1, "inputs": "input"},
    ]
    spec = {"name": "t", "input": [4, 4, 2], "layers": layers, "expect": {"params": 12}}
    path = write_spec(spec)
    result = CliRunner().invoke(main, ["analyze", str(path), "--format", "json"])
    assert result.exit_code == 0
    assert result.stderr == (
        f"Warning: {path}: layer 1 'aux' (conv2d): its output is never used; if the network "
        'returns it, name it in "outputs".\n'
    )
    assert cli("check", path).exit_code == 1
    spec["outputs"] = ["aux"]
    assert cli("check", write_spec(spec)).exit_code == 0


# ---------------------------------------------------------------- shorter specs (issue 10)

README = Path(__file__).parents[1] / "README.md"


def readme_example(name):
    text = README.read_text()
    return json.loads(re.search(rf"<!-- example: {name} -->\n```json\n(.*?)```", text, re.S).group(1))


def figures(doc):
    return [(n.type, n.shape, n.params, n.macs) for n in build_graph(parse_spec(doc)).nodes]


BN = {"type": "batch_norm", "epsilon": 1e-5}
RELU = {"type": "activation", "fn": "relu"}
# the three README examples as they had to be written before input-shape expressions, branches and defaults
BEFORE = {
    "inverted_residual": {
        "name": "MobileNetV2, block 3",
        "input": [56, 56, 24],
        "blocks": {
            "inverted_residual": {
                "params": {"inp": None, "out": None, "t": 6, "stride": 1},
                "layers": [
                    {"type": "conv2d", "filters": "inp * t", "kernel": 1, "bias": False, "when": "t != 1"},
                    {**BN, "when": "t != 1"},
                    {"type": "activation", "fn": "relu6", "when": "t != 1"},
                    {"type": "depthwise_conv2d", "kernel": 3, "stride": "stride", "padding": 1, "bias": False},
                    BN,
                    {"type": "activation", "fn": "relu6"},
                    {"type": "conv2d", "filters": "out", "kernel": 1, "bias": False},
                    {**BN, "name": "project"},
                    {
                        "type": "add",
                        "inputs": ["in", "project"],
                        "when": "stride == 1 and inp == out",
                        "else": "project",
                    },
                ],
            }
        },
        "layers": [
            {
                "block": "inverted_residual",
                "name": "block3",
                "inp": "24 if i == 0 else 32",
                "out": 32,
                "stride": "2 if i == 0 else 1",
                "repeat": 3,
            }
        ],
    },
    "dense_block": {
        "name": "DenseNet-121, dense block 1 and transition 1",
        "input": [56, 56, 64],
        "variables": {"growth": 32},
        "blocks": {
            "dense_layer": {
                "layers": [
                    BN,
                    RELU,
                    {"type": "conv2d", "filters": "4 * growth", "kernel": 1, "bias": False},
                    BN,
                    RELU,
                    {"type": "conv2d", "name": "new", "filters": "growth", "kernel": 3, "padding": 1, "bias": False},
                    {"type": "concat", "inputs": ["in", "new"]},
                ]
            }
        },
        "layers": [
            {"block": "dense_layer", "name": "denseblock1", "repeat": 6},
            BN,
            RELU,
            {
                "type": "conv2d",
                "name": "transition1",
                "filters": 128,
                "kernel": 1,
                "bias": False,
            },  # (64 + 6 x 32) / 2, by hand
            {"type": "avg_pool", "pool": 2},
        ],
    },
    "inception": {
        "name": "GoogLeNet, inception 3a",
        "input": [28, 28, 192],
        "blocks": {
            "conv": {
                "params": {"filters": None, "k": 1},
                "layers": [
                    {"type": "conv2d", "filters": "filters", "kernel": "k", "padding": "(k - 1) // 2", "bias": False},
                    {"type": "batch_norm"},
                    RELU,
                ],
            },
            "inception": {
                "params": {"c1": None, "c3r": None, "c3": None, "c5r": None, "c5": None, "pool": None},
                "layers": [
                    {"block": "conv", "name": "branch1", "inputs": "in", "filters": "c1"},
                    {"block": "conv", "name": "branch2a", "inputs": "in", "filters": "c3r"},
                    {"block": "conv", "name": "branch2", "filters": "c3", "k": 3},
                    {"block": "conv", "name": "branch3a", "inputs": "in", "filters": "c5r"},
                    {"block": "conv", "name": "branch3", "filters": "c5", "k": 3},
                    {"type": "max_pool", "inputs": "in", "pool": 3, "stride": 1, "padding": 1, "ceil_mode": True},
                    {"block": "conv", "name": "branch4", "filters": "pool"},
                    {"type": "concat", "inputs": ["branch1", "branch2", "branch3", "branch4"]},
                ],
            },
        },
        "layers": [
            {
                "block": "inception",
                "name": "inception3a",
                "c1": 64,
                "c3r": 96,
                "c3": 128,
                "c5r": 16,
                "c5": 32,
                "pool": 32,
            }
        ],
    },
}


@pytest.mark.parametrize("name", sorted(BEFORE))
def test_the_readme_blocks_count_as_before_and_are_shorter(name):
    after = readme_example(name)
    assert figures(after) == figures(BEFORE[name])
    assert len(json.dumps(after)) < len(json.dumps(BEFORE[name]))


def test_the_readme_examples_figures():
    # the inverted residual block 3 of MobileNetV2 (Sandler et al., Table 2: t 6, c 32, n 3, s 2) from 56x56x24:
    # expand 24 -> 144 at 56x56, depthwise 3x3 stride 2, project to 32; then twice 32 -> 192 -> 32 at 28x28
    macs = 56 * 56 * 24 * 144 + 28 * 28 * 9 * 144 + 28 * 28 * 144 * 32 + 2 * (28 * 28 * (32 * 192 + 9 * 192 + 192 * 32))
    assert build_graph(parse_spec(readme_example("inverted_residual"))).totals.macs == macs
    # DenseNet-121 (Huang et al., Table 1): after dense block 1, 64 + 6 x 32 = 256 channels; the transition halves them
    g = build_graph(parse_spec(readme_example("dense_block")))
    assert (
        g.nodes[-3].shape == (56, 56, 256) and g.nodes[-2].shape == (56, 56, 128) and g.nodes[-1].shape == (28, 28, 128)
    )
    # GoogLeNet inception 3a (Szegedy et al., Table 1): 64 + 128 + 32 + 32 = 256 channels at 28x28
    assert build_graph(parse_spec(readme_example("inception"))).nodes[-1].shape == (28, 28, 256)
    small = readme_example("small")
    totals = build_graph(parse_spec(small)).totals
    assert {"params": totals.params, "macs": totals.macs} == small["expect"]


def test_in_is_the_blocks_input_inside_a_block_and_the_entrys_own_outside():
    blocks = {
        "b": {
            "params": {"w": "in.channels + 1"},
            "layers": [
                {"type": "conv2d", "filters": "w", "kernel": 1},
                {"type": "conv2d", "filters": "in.channels * 2", "kernel": 1},  # the block's input: 3, not 4
            ],
        }
    }
    spec = {
        "name": "t",
        "input": [4, 4, 3],
        "blocks": blocks,
        "layers": [
            {"type": "conv2d", "filters": 5, "kernel": 1},
            {"type": "conv2d", "filters": "in.channels * 3", "kernel": 1},  # its own input: 5
            {"block": "b", "name": "u", "w": "in.channels"},  # an argument: the instance's input, 15
            {"block": "b", "name": "v"},  # the default: in.channels + 1 of the block's input, 6 + 1
            {"branches": [[], [{"type": "conv2d", "filters": "in.channels", "kernel": 1}]], "merge": "add"},
        ],
    }
    shapes = {n.name: n.shape[-1] for n in build_graph(parse_spec(spec)).nodes}
    assert shapes["conv2d_2"] == 15
    assert shapes["u/conv2d_1"] == 15 and shapes["u/conv2d_2"] == 30
    assert shapes["v/conv2d_1"] == 31 and shapes["v/conv2d_2"] == 60
    assert shapes["branches_1/conv2d_1"] == 60


def test_a_condition_may_read_the_input_shape():
    blocks = {
        "res": {
            "params": {"out": None},
            "layers": [
                {"type": "conv2d", "name": "c", "filters": "out", "kernel": 1},
                {"type": "add", "inputs": ["in", "c"], "when": "in.channels == out", "else": "c"},
            ],
        }
    }
    spec = {
        "name": "t",
        "input": [4, 4, 8],
        "blocks": blocks,
        "layers": [{"block": "res", "out": 8}, {"block": "res", "out": 16}],
    }
    assert [n.type for n in build_graph(parse_spec(spec)).nodes] == ["input", "conv2d", "add", "conv2d"]


def test_a_shape_read_reports_an_earlier_layers_error_at_that_layer():
    spec = {
        "name": "t",
        "input": [4, 4, 3],
        "layers": [
            {"type": "conv2d", "name": "bad", "filters": 2, "kernel": 9},
            {"type": "dropout", "when": "in.channels > 1"},
        ],
    }
    with pytest.raises(ShapeError, match="layer 1 'bad': attribute 'kernel': the window of 9 is larger"):
        parse_spec(spec)


def test_an_error_in_a_default_names_it_however_the_layer_is_reached():
    spec = {
        "name": "t",
        "input": [4, 4, 3],
        "defaults": {"conv2d": {"groups": 2}},
        "layers": [
            {"type": "conv2d", "name": "c", "filters": 2, "kernel": 1},
            {"type": "dropout", "when": "in.channels > 1"},  # reads c's shape while the spec expands
        ],
    }
    message = r"layer 1 'c': attribute 'defaults.conv2d.groups': input channels \(3\) must be divisible by groups \(2\)"
    with pytest.raises(ShapeError, match=message):
        parse_spec(spec)
    del spec["layers"][1]["when"]
    with pytest.raises(ShapeError, match=message):
        build_graph(parse_spec(spec))


def test_parameters_and_variables_of_any_kind():
    blocks = {
        "c": {
            "params": {"k": 3, "pad": 1, "act": "relu"},
            "layers": [
                {"type": "conv2d", "filters": 4, "kernel": "k", "padding": "pad"},
                {"type": "activation", "fn": "act"},
            ],
        }
    }
    spec = {
        "name": "t",
        "input": [16, 16, 4],
        "variables": {"act": "hard_swish", "k": [1, 7]},
        "blocks": blocks,
        "layers": [{"block": "c", "k": "k", "pad": [[0, 0], [3, 3]], "act": "act"}, {"block": "c"}],
    }
    nodes = build_graph(parse_spec(spec)).nodes
    assert nodes[1].layer.kernel == (1, 7) and nodes[1].shape == (16, 16, 4)
    assert nodes[2].layer.fn == "hard_swish" and nodes[4].layer.fn == "relu"
    g = build_graph(parse_spec(spec, overrides={"act": "gelu"}))
    assert g.nodes[2].layer.fn == "gelu"
    spec["layers"] = [{"type": "dense", "units": "act"}]
    with pytest.raises(SpecError, match="attribute 'units': 'act' holds the word 'hard_swish', not a number."):
        build_graph(parse_spec(spec))


def test_an_override_of_a_number_is_never_a_word():
    spec = {"name": "t", "input": [4], "variables": {"classes": 10}, "layers": [{"type": "dense", "units": "classes"}]}
    with pytest.raises(SpecError, match="undefined variable 'many'"):
        parse_spec(spec, overrides={"classes": "many"})


def test_defaults_apply_to_every_layer_of_the_type_unless_it_says_otherwise():
    spec = {
        "name": "t",
        "input": [4, 4, 2],
        "defaults": {"conv2d": {"bias": False, "padding": 1}},
        "layers": [
            {"type": "conv2d", "filters": 2, "kernel": 3},
            {"type": "conv2d", "filters": 2, "kernel": 3, "bias": True},
        ],
    }
    nodes = build_graph(parse_spec(spec)).nodes
    assert [n.params for n in nodes[1:]] == [3 * 3 * 2 * 2, 3 * 3 * 2 * 2 + 2]


@pytest.mark.parametrize(
    "defaults, message",
    [
        ({"conv": {"bias": False}}, "attribute 'defaults.conv': unknown layer type. Did you mean 'conv2d'?"),
        (
            {"conv2d": {"bais": False}},
            "attribute 'defaults.conv2d.bais': unknown attribute for conv2d. Did you mean 'bias'?",
        ),
        ({"conv2d": {"bias": 1}}, "attribute 'defaults.conv2d.bias': must be true or false."),
        ({"conv2d": {"when": False}}, "attribute 'defaults.conv2d.when': 'when' is not a layer attribute"),
        ({"conv2d": 3}, "attribute 'defaults.conv2d': must be an object of attribute: value."),
        (
            {"conv2d": {"kernel": 3}},
            "attribute 'defaults.conv2d.kernel': conv2d needs kernel on every layer; defaults change",
        ),
    ],
)
def test_a_wrong_default_names_where_it_is_written(defaults, message):
    spec = {
        "name": "t",
        "input": [4, 4, 2],
        "defaults": defaults,
        "layers": [{"type": "conv2d", "filters": 2, "kernel": 1}],
    }
    with pytest.raises(SpecError) as err:
        build_graph(parse_spec(spec))
    assert message in str(err.value)


def test_branches_join_parallel_lists_from_one_input():
    spec = {
        "name": "t",
        "input": [8, 8, 4],
        "layers": [
            {
                "name": "mixed",
                "merge": "concat",
                "branches": [
                    {"type": "conv2d", "filters": 2, "kernel": 1},
                    [
                        {"type": "conv2d", "filters": 3, "kernel": 1},
                        {"type": "conv2d", "filters": 5, "kernel": 3, "padding": 1},
                    ],
                    [],
                ],
            },
            {"type": "dropout", "inputs": "mixed"},
        ],
    }
    g = build_graph(parse_spec(spec))
    assert [n.name for n in g.nodes] == [
        "input",
        "mixed/conv2d_1",
        "mixed/conv2d_2",
        "mixed/conv2d_3",
        "mixed/concat",
        "dropout_1",
    ]
    assert [g.nodes[i].name for i in g.nodes[4].inputs] == ["mixed/conv2d_1", "mixed/conv2d_3", "input"]
    assert g.nodes[4].shape == (8, 8, 2 + 5 + 4)


def test_branches_nest_only_so_deep():
    entry = {"type": "dropout"}
    for _ in range(70):
        entry = {"branches": [[], [entry]], "merge": "add"}
    with pytest.raises(SpecError, match="branches and blocks are nested more than 64 deep"):
        parse_spec({"name": "t", "input": [4], "layers": [entry]})


@pytest.mark.parametrize(
    "layers, blocks, message",
    [
        (
            [{"type": "flatten"}, {"type": "dense", "unitz": 3, "when": False}],
            {},
            "attribute 'layers[1].unitz': unknown attribute for dense. Did you mean 'units'?",
        ),
        (
            [{"type": "flatten"}, {"type": "dense", "when": False}],
            {},
            "attribute 'layers[1].units': dense needs this attribute",
        ),
        (
            [{"type": "flatten"}],
            {"b": {"layers": [{"type": "dense", "units": 0}]}},
            "attribute 'blocks.b.layers[0].units': must be an integer >= 1. Received: blocks.b.layers[0].units=0",
        ),
        (
            [{"type": "flatten"}],
            {"b": {"layers": [{"type": "dense", "units": 2}, 0]}},
            "attribute 'blocks.b.layers[1]': each entry is a JSON object with one of 'type', 'block' or 'branches'.",
        ),
        (
            [{"branches": [[], [{"type": "dens", "units": 4, "when": False}]], "merge": "add"}],
            {},
            "attribute 'layers[0].branches[1][0].type': unknown layer type. Did you mean 'dense'?",
        ),
    ],
)
def test_layers_the_expansion_leaves_out_are_checked_as_written(layers, blocks, message):
    # a block no entry uses, an entry 'when' skips: wrong there, it would be wrong the day it is used
    with pytest.raises(SpecError) as err:
        build_graph(parse_spec({"name": "t", "input": [4], "blocks": blocks, "layers": layers}))
    assert message in str(err.value)
