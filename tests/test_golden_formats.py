"""Every format of every command, as exact text: golden files under tests/golden/formats (rewrite with --update-golden).

The column-sum tests and the parsers' round trips in test_output.py say that an output is whole; these say
that it is exactly what was shown before, label for label and digit for digit. Each invocation is one row.
"""

import json
from pathlib import Path

import pytest
from test_check import FAMILY  # fc1 16 -> 8 (136 params, 128 MACs), fc2 8 -> 10 (90, 80): 226 params, 208 MACs

TINY = Path(__file__).parent / "data" / "tiny.json"

ANALYZE = [
    ("tiny.md", [TINY, "--format", "markdown", "--flops"]),
    ("tiny.csv", [TINY, "--format", "csv"]),
    ("tiny_by_block.csv", [TINY, "--format", "csv", "--by", "block"]),
    ("tiny_by_type.json", [TINY, "--format", "json", "--by", "type"]),
    ("tiny_by_block_batch.csv", [TINY, "--format", "csv", "--by", "block", "--batch", "2"]),
    ("tiny_by_type_batch.json", [TINY, "--format", "json", "--by", "type", "--batch", "2"]),
    ("tiny_thop_by_type.json", [TINY, "--convention", "thop", "--by", "type", "--format", "json"]),
    ("tiny_by_block.md", [TINY, "--format", "markdown", "--by", "block", "--batch", "3"]),
    ("tiny_memory_batch.txt", [TINY, "--memory", "--flops", "--batch", "2", "--dtype", "float16"]),
    ("tiny_fvcore.txt", [TINY, "--convention", "fvcore", "--flops"]),
    ("tiny_thop_by_type.txt", [TINY, "--convention", "thop", "--by", "type", "--flops"]),
    ("tiny_thop_by_type.csv", [TINY, "--convention", "thop", "--by", "type", "--format", "csv"]),
    ("tiny_thop.csv", [TINY, "--convention", "thop", "--format", "csv"]),
    ("tiny_thop_by_block.json", [TINY, "--convention", "thop", "--by", "block", "--format", "json"]),
    ("tiny_all.txt", [TINY, "--convention", "all"]),
    ("tiny_all.csv", [TINY, "--convention", "all", "--format", "csv"]),
    ("tiny_all.json", [TINY, "--convention", "all", "--format", "json"]),
    ("tiny_torchvision.txt", [TINY, "--convention", "torchvision"]),
    ("gpt2_one_block.txt", ["gpt2", "--set", "depth=1", "--set", "context=8", "--memory"]),
    ("gpt2_all.txt", ["gpt2", "--set", "depth=1", "--convention", "all"]),
    ("gpt2_all.json", ["gpt2", "--set", "depth=1", "--convention", "all", "--format", "json"]),
    ("tiny_batch.json", [TINY, "--batch", "3", "--weight-dtype", "int8", "--set", "width=4", "--format", "json"]),
    ("mobilenet_v1_half.txt", ["mobilenet_v1", "--set", "alpha=0.5", "--by", "block", "--weight-dtype", "int8"]),
]


# one decode step of attention over 4 cached positions: the key/value cache in the totals and the JSON
DECODE = {
    "name": "decode",
    "input": [1, 8],
    "layers": [{"type": "attention", "heads": 2, "causal": True, "cache": 4, "name": "attn"}],
}


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_analyze_a_decode_step(cli, golden, write_spec, fmt):
    result = cli("analyze", write_spec(DECODE), "--format", fmt, "--dtype", "float16")
    assert result.exit_code == 0, result.output
    golden(f"formats/analyze_decode.{'txt' if fmt == 'table' else 'json'}", result.output)


@pytest.mark.parametrize("name, args", ANALYZE, ids=[a[0] for a in ANALYZE])
def test_analyze(cli, golden, name, args):
    result = cli("analyze", *args)
    assert result.exit_code == 0, result.output
    golden(f"formats/analyze_{name}", result.output)


@pytest.fixture
def checked(tmp_path, cli, monkeypatch):
    """A folder with family.json checked into a baseline, then edited: fc1 8 -> 6 units, fc2 renamed out,
    a new dense out, expectations that drift and one that names no layer; and bare.json with nothing to compare."""
    monkeypatch.chdir(tmp_path)
    Path("family.json").write_text(json.dumps(FAMILY))
    assert cli("check", "family.json", "--baseline", "base.json", "--update").exit_code == 0
    edited = json.loads(json.dumps(FAMILY))
    edited["variables"]["width"] = "6 * alpha"
    edited["layers"][2]["name"] = "head"
    edited["layers"].append({"name": "relu", "type": "activation", "fn": "relu"} | {"name": "out"})
    edited["expect"] = {"params": 226, "macs": 208, "layers": {"fc1": {"params": 136}, "gone": {"macs": 1}}}
    Path("family.json").write_text(json.dumps(edited))
    Path("bare.json").write_text(json.dumps({"name": "bare", "input": [4], "layers": [{"type": "dense", "units": 2}]}))
    Path("good.json").write_text(json.dumps({**FAMILY, "expect": {"params": 226, "macs": 208}}))
    # twelve layers that all grow (positive changes, more than ten changed), a batch norm's statistics, a type change
    many = {"name": "many", "input": [4], "layers": [{"type": "dense", "units": 4, "name": f"d{i}"} for i in range(12)]}
    many["layers"] += [{"type": "batch_norm", "name": "bn"}, {"type": "dense", "units": 4, "name": "last"}]
    Path("many.json").write_text(json.dumps(many))
    assert cli("check", "many.json", "--baseline", "many_base.json", "--update").exit_code == 0
    for layer in many["layers"][:12]:
        layer["units"] = 5
    many["layers"][-1] = {"type": "activation", "fn": "relu", "name": "last"}
    many["input"] = [6]
    Path("many.json").write_text(json.dumps(many))
    return tmp_path


CHECK = [
    ("drift.txt", ["family.json", "bare.json", "good.json", "--baseline", "base.json", "--tolerance", "0.5%"]),
    ("drift.md", ["family.json", "bare.json", "--baseline", "base.json", "--format", "markdown"]),
    ("drift.json", ["family.json", "bare.json", "--baseline", "base.json", "--format", "json"]),
    ("drift.xml", ["family.json", "bare.json", "good.json", "--baseline", "base.json", "--format", "junit"]),
    ("many.txt", ["many.json", "--baseline", "many_base.json"]),
    ("many.xml", ["many.json", "--baseline", "many_base.json", "--format", "junit"]),
    ("pass.txt", ["good.json"]),
    ("pass_tolerance.md", ["good.json", "--tolerance", "2.5%", "--format", "markdown"]),
    ("pass.xml", ["good.json", "--format", "junit"]),
]


@pytest.mark.parametrize("name, args", CHECK, ids=[a[0] for a in CHECK])
def test_check(cli, golden, checked, name, args):
    result = cli("check", *args)
    assert result.exit_code == (0 if name.startswith("pass") else 1), result.output
    golden(f"formats/check_{name}", result.output)


def test_check_update_names_the_baseline(cli, golden, checked):
    result = cli("check", "good.json", "--baseline", "new.json", "--update")
    assert result.exit_code == 0, result.output
    golden("formats/check_update.txt", result.output)


SWEEP = [
    ("family.md", ["--set", "alpha=1,0.5", "--format", "markdown"]),
    ("family.csv", ["--set", "alpha=1,0.5", "--format", "csv"]),
]


@pytest.mark.parametrize("name, args", SWEEP, ids=[a[0] for a in SWEEP])
def test_sweep(cli, golden, write_spec, name, args):
    result = cli("sweep", write_spec(FAMILY), *args)
    assert result.exit_code == 0, result.output
    golden(f"formats/sweep_{name}", result.output)


COMPARE = [
    ("blocks_bias.txt", ["standard", "depthwise", "--M", 4, "--N", 8, "--DF", 8, "--bias", "--no-run"]),
    ("inverted.txt", ["inverted_residual", "depthwise", "--M", 8, "--N", 8, "--DF", 8, "--stride", 2, "--t", 3]),
    ("stack.txt", ["3x3x3", "7x7", "--C", 8, "--DF", 8]),
    ("basic.txt", ["basic", "bottleneck", "--M", 8, "--N", 16, "--DF", 8, "--stride", 2]),
    ("list.txt", ["--list"]),
]


@pytest.mark.parametrize("name, args", COMPARE, ids=[a[0] for a in COMPARE])
def test_compare(cli, golden, name, args):
    result = cli("compare", *args)
    assert result.exit_code in (0, 1), result.output
    golden(f"formats/compare_{name}", result.output)


def test_compare_specs_with_shared_layer_names(cli, golden, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("a.json").write_text(json.dumps(FAMILY))
    Path("b.json").write_text(json.dumps({**FAMILY, "variables": {"alpha": 2, "width": "8 * alpha"}}))
    result = cli("compare", "a.json", "b.json")
    assert result.exit_code in (0, 1), result.output
    golden("formats/compare_specs.txt", result.output)
    # a spec beside a block: the block's sizes, its receptive field measured, the spec's not
    result = cli("compare", "a.json", "standard", "--M", 16, "--N", 4, "--DF", 8)
    assert result.exit_code == 0, result.output
    golden("formats/compare_spec_and_block.txt", result.output)
    result = cli("compare", "standard", "a.json", "--M", 16, "--N", 4, "--DF", 8, "--no-run")
    assert result.exit_code == 0, result.output
    golden("formats/compare_block_and_spec.txt", result.output)
