"""Every formula a layer type states evaluates to the figure it counts, on every layer case."""

import pytest
from layer_cases import CASES, case_spec

from flopcount.graph import build_graph
from flopcount.layers import REGISTRY, Layer
from flopcount.spec import parse_spec


def case_node(case):
    return build_graph(parse_spec(case_spec(case))).nodes[-1]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_every_stated_formula_equals_the_count(case):
    node = case_node(case)
    stated = node.layer.formulas(node.in_shapes, node.shape)
    counted = {"params": node.params, "macs": node.macs, "other_ops": node.other_ops}
    for what, f in stated.items():
        if f is not None:
            assert f.value == counted[what], (
                f"{what}: {f.symbols()} = {f.numbers()} = {f.value}, counted {counted[what]}"
            )


def test_every_type_with_a_mac_rule_states_its_mac_formula():
    missing = [
        name for name, cls in REGISTRY.items() if cls.macs is not Layer.macs and cls.macs_formula is Layer.macs_formula
    ]
    assert missing == []


def test_explain_shows_the_formula_with_numbers_and_the_count(cli):
    # ResNet-18's stem: 7 x 7 convolution, 3 -> 64, stride 2, on 224 x 224 (torchvision: 9,408 weights)
    out = cli("explain", "resnet18", "conv1", env={"COLUMNS": "200"}).output
    assert "H_out × W_out × N × H_k × W_k × M" in out and "= 112 × 112 × 64 × 7 × 7 × 3" in out
    assert "118,013,952" in out and "9,408" in out and "✗" not in out
    assert "3,211,264" in out  # output memory: 112 x 112 x 64 float32 bytes


def test_explain_json_and_a_layer_by_index(cli):
    import json

    data = json.loads(cli("explain", "resnet18", "1", "--format", "json", "--dtype", "float16").output)
    assert data["name"] == "conv1" and data["receptive_field"] == [7, 7] and data["jump"] == [2, 2]
    assert data["figures"]["MACs"] == {
        "value": 118_013_952,
        "formula": "H_out × W_out × N × H_k × W_k × M",
        "numbers": "112 × 112 × 64 × 7 × 7 × 3",
        "formula_value": 118_013_952,
    }
    assert data["figures"]["weight memory"]["value"] == 2 * 9_408


def test_explain_kv_cache(cli):
    import json

    data = json.loads(
        cli(
            "explain",
            "llama2_7b",
            "layers_1/self_attn",
            "--set",
            "cache=4095",
            "--dtype",
            "float16",
            "--format",
            "json",
        ).output
    )
    # keys and values of 4,096 positions, 32 heads of 128: 2 x 4096 x 32 x 128 x 2 bytes = 64 MiB per layer
    assert data["figures"]["key/value cache"]["value"] == 2 * 4096 * 32 * 128 * 2


def test_explain_unknown_layer_is_exit_2_with_a_suggestion(cli):
    result = cli("explain", "resnet18", "conv2")
    assert result.exit_code == 2 and "Did you mean 'conv1'?" in result.output


def test_every_type_with_an_other_ops_rule_states_its_formula():
    missing = [
        name
        for name, cls in REGISTRY.items()
        if cls.other_ops is not Layer.other_ops and cls.other_ops_formula is Layer.other_ops_formula
    ]
    assert missing == []
