"""`flopcount check`: expect blocks, baselines, tolerance, drift reports and their formats."""

import json
import os
import re
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import pytest

from flopcount.baseline import dump_baseline, read_baseline
from flopcount.check import FIGURES, parse_expect, parse_tolerance, run_check
from flopcount.errors import FlopcountError, SpecError
from flopcount.spec import bundled_dir

# A small family: dense 16 -> width -> 10, width = 8 * alpha.
#   fc1: 16 * width + width params, 16 * width MACs; fc2: width * 10 + 10 params, width * 10 MACs.
FAMILY = {
    "name": "family",
    "variables": {"alpha": 1, "width": "8 * alpha"},
    "input": [16],
    "layers": [
        {"name": "fc1", "type": "dense", "units": "width"},
        {"name": "relu", "type": "activation", "fn": "relu"},
        {"name": "fc2", "type": "dense", "units": 10},
    ],
}
PARAMS_8 = (16 * 8 + 8) + (8 * 10 + 10)
MACS_8 = 16 * 8 + 8 * 10
PARAMS_4 = (16 * 4 + 4) + (4 * 10 + 10)
MACS_4 = 16 * 4 + 4 * 10


def family(**changes):
    return {**json.loads(json.dumps(FAMILY)), **changes}


@pytest.fixture
def vgg16(tmp_path):
    """A copy of the bundled vgg16.json without its expect block: only the baseline judges it."""
    doc = json.loads((bundled_dir() / "vgg16.json").read_text())
    doc.pop("expect", None)
    path = tmp_path / "vgg16.json"
    path.write_text(json.dumps(doc, indent=2))
    return path


def shrink_first_dense(path, units=4000):
    doc = json.loads(path.read_text())
    first = next(layer for layer in doc["layers"] if layer.get("type") == "dense")
    first["units"] = units
    path.write_text(json.dumps(doc, indent=2))
    return first["name"]


# ---------------------------------------------------------------- the scenario


def test_vgg16_edit_drifts_names_two_layers_and_update_turns_green(cli, vgg16, tmp_path):
    baseline = tmp_path / "baseline.json"
    assert cli("check", vgg16, "--baseline", baseline, "--update").exit_code == 0
    assert cli("check", vgg16, "--baseline", baseline).exit_code == 0

    fc = shrink_first_dense(vgg16)
    result = cli("check", vgg16, "--baseline", baseline)
    assert result.exit_code == 1
    # fc6 loses 96 units: 96 x (25088 + 1) params; fc7 reads 96 fewer inputs: 96 x 4096
    assert f"{-(96 * (25088 + 1) + 96 * 4096):,}" == "-2,801,760"
    assert f"{-(96 * 25088 + 96 * 4096):,}" == "-2,801,664"
    assert "-2,801,760" in result.output and "-2,801,664" in result.output
    section = result.output.split("layers that changed", 1)[1]
    assert {line.split("│")[1].strip() for line in section.splitlines() if line.startswith("│")} == {fc, "fc7"}

    data = json.loads(cli("check", vgg16, "--baseline", baseline, "--format", "json").output)
    (check,) = data["checks"]
    assert [(x["name"], x["change"]) for x in check["layers"]] == [(fc, "reshaped"), ("fc7", "changed")]
    drift = {d["figure"]: d for d in check["drift"]}
    assert drift["params"]["change"] == -2_801_760 and drift["params"]["expected"] == 138_357_544
    assert drift["macs"]["change"] == -2_801_664 and drift["macs"]["expected"] == 15_470_264_320

    assert cli("check", vgg16, "--baseline", baseline, "--update").exit_code == 0
    assert cli("check", vgg16, "--baseline", baseline).exit_code == 0


def test_vgg16_edit_fails_its_own_expect_block(cli, vgg16):
    doc = json.loads(vgg16.read_text())
    doc["expect"] = {"params": 138_357_544, "macs": 15_470_264_320}
    vgg16.write_text(json.dumps(doc))
    assert cli("check", vgg16).exit_code == 0
    shrink_first_dense(vgg16)
    result = cli("check", vgg16, "--format", "json")
    assert result.exit_code == 1
    drift = {d["figure"]: d["change"] for d in json.loads(result.output)["checks"][0]["drift"]}
    assert drift == {"params": -2_801_760, "macs": -2_801_664}


# ---------------------------------------------------------------- expect blocks


def test_expect_totals_layers_and_blocks_pass(cli, write_spec):
    expect = {
        "params": PARAMS_8,
        "trainable": PARAMS_8,
        "non_trainable": 0,
        "macs": MACS_8,
        "layers": {"fc1": {"params": 16 * 8 + 8, "macs": 16 * 8}},
        "blocks": {"fc2": {"macs": 8 * 10}},
        "source": "counted by hand",
    }
    assert cli("check", write_spec(family(expect=expect))).exit_code == 0


# Blocks as `analyze --by block` keys them: by the top-level entry's name (block instance or repeat)
BLOCKS = {
    "name": "blocks",
    "input": [16],
    "blocks": {
        "mlp": {
            "params": {"width": None},
            "layers": [
                {"name": "fc_a", "type": "dense", "units": "width"},
                {"name": "fc_b", "type": "dense", "units": "width"},
            ],
        }
    },
    "layers": [
        {"block": "mlp", "name": "stage1", "width": 8},
        {"block": "mlp", "name": "stage2", "width": 4, "repeat": 2},
        {"name": "head", "type": "dense", "units": 10},
    ],
}
BLOCK_FIGURES = {
    "stage1": {"params": (16 * 8 + 8) + (8 * 8 + 8), "macs": 16 * 8 + 8 * 8},
    # two copies of the block: 8 -> 4 -> 4, then 4 -> 4 -> 4
    "stage2": {"params": (8 * 4 + 4) + 3 * (4 * 4 + 4), "macs": 8 * 4 + 3 * 4 * 4},
    "head": {"params": 4 * 10 + 10, "macs": 4 * 10},
}


def test_expect_blocks_are_keyed_by_the_top_level_entry(write_spec):
    (check,) = run_check([write_spec({**BLOCKS, "expect": {"blocks": BLOCK_FIGURES}})]).checks
    assert check.status == "pass", check.drifts


@pytest.mark.parametrize(
    "name", ["mlp", "stage1/fc_a", "stage2_1", "fc_a"], ids=["block-definition", "layer", "repeat-copy", "local-name"]
)
def test_expect_blocks_under_another_name_are_missing(write_spec, name):
    (check,) = run_check([write_spec({**BLOCKS, "expect": {"blocks": {name: {"params": 1}}}})]).checks
    assert [(d.scope, d.name, d.actual) for d in check.drifts] == [("block", name, None)]


def test_expect_block_drift_names_block_figure_and_both_values(write_spec):
    expect = {
        "blocks": {"stage2": {"params": BLOCK_FIGURES["stage2"]["params"] + 1, "macs": BLOCK_FIGURES["stage2"]["macs"]}}
    }
    (check,) = run_check([write_spec({**BLOCKS, "expect": expect})]).checks
    assert [(d.scope, d.name, d.figure, d.change) for d in check.drifts] == [("block", "stage2", "params", -1)]


def test_expect_layer_drift_and_missing_layer(write_spec):
    expect = {"layers": {"fc1": {"params": 1}, "fc9": {"macs": 5}}}
    (check,) = run_check([write_spec(family(expect=expect))]).checks
    assert check.status == "drift"
    assert [(d.scope, d.name, d.figure, d.expected, d.actual) for d in check.drifts] == [
        ("layer", "fc1", "params", 1, 16 * 8 + 8),
        ("layer", "fc9", "macs", 5, None),
    ]


def test_expect_per_variable_setting_checks_every_entry(write_spec):
    expect = [
        {"params": PARAMS_8, "macs": MACS_8},
        {"set": {"alpha": 0.5}, "params": PARAMS_4, "macs": MACS_4},
    ]
    result = run_check([write_spec(family(expect=expect))])
    assert [(c.setting, c.status) for c in result.checks] == [({}, "pass"), ({"alpha": Fraction(1, 2)}, "pass")]
    assert result.checks[1].label.endswith("[alpha=0.5]")


def test_expect_wrong_figure_for_one_setting_fails_only_that_setting(write_spec):
    expect = [{"params": PARAMS_8}, {"set": {"alpha": "1/2"}, "params": PARAMS_8}]
    result = run_check([write_spec(family(expect=expect))])
    assert [c.status for c in result.checks] == ["pass", "drift"]
    assert result.checks[1].drifts[0].change == PARAMS_4 - PARAMS_8


@pytest.mark.parametrize(
    "sets, status",
    [
        (["alpha=0.5"], "pass"),
        (["alpha=1/2"], "pass"),
        (["alpha=1"], "pass"),
        (["width=8"], "pass"),
        (["alpha=2"], "missing"),
        (["alpha=0.5", "width=5"], "missing"),
    ],
    ids=[
        "decimal",
        "fraction",
        "defaults",
        "default-given-explicitly",
        "no-entry",
        "entry-setting-plus-another-change",
    ],
)
def test_set_checks_the_entries_of_that_setting(write_spec, sets, status):
    from flopcount.spec import parse_overrides

    expect = [{"params": PARAMS_8}, {"set": {"alpha": 0.5}, "params": PARAMS_4}]
    (check,) = run_check([write_spec(family(expect=expect))], overrides=parse_overrides(sets)).checks
    assert check.status == status


def test_set_through_the_cli(cli, write_spec):
    path = write_spec(family(expect=[{"set": {"alpha": 0.5}, "macs": MACS_4}]))
    assert cli("check", path, "--set", "alpha=0.5").exit_code == 0
    result = cli("check", path, "--set", "alpha=2")
    assert result.exit_code == 1 and "no expect entry has this setting" in result.output
    assert f"{path} [alpha=2]" in result.output  # printed as written, not taken for rich markup


@pytest.mark.parametrize(
    "expect, where",
    [
        ({}, "expect"),
        ({"source": "Howard et al. 2017"}, "expect"),
        ({"layers": {}, "blocks": {}}, "expect"),
        ({"layers": {"fc1": {}}}, "expect"),
        ([{"params": PARAMS_8}, {"set": {"alpha": 0.5}}], "expect[1]"),
    ],
    ids=["empty", "source-only", "empty-groups", "layer-without-figures", "entry-with-only-a-setting"],
)
def test_an_expect_that_compares_nothing_fails_like_a_missing_one(cli, write_spec, tmp_path, expect, where):
    """A vacuous contract used to pass as compared; a spec with no expect at all fails as missing."""
    path = write_spec(family(expect=expect))
    result = run_check([path])
    vacuous = [c for c in result.checks if c.missing]
    assert len(vacuous) == 1 and vacuous[0].status == "missing" and not result.ok
    assert vacuous[0].missing == [
        f"{where} compares nothing: give it params, trainable, non_trainable, macs, layers or blocks."
    ]
    assert "expect" not in vacuous[0].sources
    out = cli("check", path)
    assert out.exit_code == 1 and f"{where} compares nothing" in out.output
    # a baseline beside it does not make the empty contract pass
    baseline = tmp_path / "base.json"
    assert cli("check", path, "--baseline", baseline, "--update").exit_code == 1
    assert cli("check", path, "--baseline", baseline).exit_code == 1


def test_spec_without_anything_to_compare_fails(cli, write_spec):
    result = cli("check", write_spec(family()))
    assert result.exit_code == 1
    assert "nothing to compare" in result.output


@pytest.mark.parametrize(
    "expect, attribute",
    [
        ({"parms": 1}, "expect.parms"),
        ({"params": 1.5}, "expect.params"),
        ({"params": -1}, "expect.params"),
        ({"params": True}, "expect.params"),
        ({"layers": {"fc1": {"flops": 1}}}, "expect.layers.fc1.flops"),
        ({"layers": []}, "expect.layers"),
        ([{"params": 1}, {"set": {"beta": 1}, "params": 1}], "expect[1].set.beta"),
        ([{"params": 1}, {"params": 2}], "expect[1].set"),
        ([], "expect"),
        ("138M", "expect"),
        ([{"params": 1}, {"set": {"alpha": "beta"}, "params": 1}], "expect[1].set.alpha"),
        ([{"set": {"alpha": "1 +"}, "params": 1}], "expect[0].set.alpha"),
    ],
    ids=[
        "unknown-key",
        "decimal",
        "negative",
        "boolean",
        "unknown-figure",
        "layers-list",
        "unknown-variable",
        "duplicate-setting",
        "empty-list",
        "string",
        "set-value-undefined",
        "set-value-unparsable",
    ],
)
def test_bad_expect_is_a_spec_error_naming_file_and_attribute(cli, write_spec, expect, attribute):
    path = write_spec(family(expect=expect))
    with pytest.raises(SpecError) as err:
        run_check([path])
    assert err.value.attribute == attribute
    result = cli("check", path)
    assert result.exit_code == 2
    assert str(path) in result.output and attribute in result.output


def test_an_expect_setting_that_breaks_the_spec_is_reported_at_that_entry(write_spec):
    """alpha=0 is a valid value that leaves fc1 with no units: the error names the entry, then the layer."""
    path = write_spec(family(expect=[{"params": PARAMS_8}, {"set": {"alpha": 0}, "params": 1}]))
    with pytest.raises(SpecError) as err:
        run_check([path])
    assert (err.value.file, err.value.context, err.value.layer, err.value.attribute) == (
        str(path),
        "expect[1] sets alpha=0",
        1,
        "units",
    )
    assert str(err.value).startswith(f"{path}: expect[1] sets alpha=0: layer 1 'fc1': attribute 'units': ")


def test_parse_expect_object_and_list_forms():
    (single,) = parse_expect({"params": 3, "macs": 4})
    assert single.totals == {"params": 3, "macs": 4} and single.when == {}
    entries = parse_expect([{"params": 3}, {"set": {"alpha": 2}, "params": 5}], {"alpha": 1})
    assert [e.where for e in entries] == ["expect[0]", "expect[1]"]


# ---------------------------------------------------------------- tolerance


@pytest.mark.parametrize(
    "text, value",
    [
        ("0.5%", Fraction(1, 200)),
        ("0.5", Fraction(1, 200)),
        (" 2 % ", Fraction(1, 50)),
        ("0", 0),
        (None, 0),
        ("1/4%", Fraction(1, 400)),
    ],
)
def test_parse_tolerance(text, value):
    assert parse_tolerance(text) == value


@pytest.mark.parametrize(
    "text",
    ["-1%", "abc", "100%", "%", "1e2%", "nan", "1/0", "1e-9999", "1e-99999999", "1e99999999%", "0." + "0" * 40 + "1%"],
    ids=[
        "negative",
        "word",
        "hundred",
        "bare-percent",
        "hundred-by-exponent",
        "nan",
        "zero-denominator",
        "tiny-exponent",
        "huge-exponent",
        "huge-positive-exponent",
        "too-long",
    ],
)
def test_parse_tolerance_rejects(text):
    # an unbounded exponent made Fraction build a 10**99999999 integer: minutes, not an error
    with pytest.raises(FlopcountError, match="^tolerance takes a percentage") as err:
        parse_tolerance(text)
    assert err.value.option == "tolerance"  # the library names its parameter; the CLI says --tolerance


@pytest.mark.parametrize(
    "text, value", [("5e-1%", Fraction(1, 200)), ("1e-20", Fraction(1, 10**22)), ("99.99%", Fraction(9999, 10000))]
)
def test_parse_tolerance_accepts_a_short_exponent(text, value):
    assert parse_tolerance(text) == value


def test_huge_tolerance_exponent_exits_2(cli, write_spec):
    result = cli("check", write_spec(family(expect={"params": PARAMS_8})), "--tolerance", "1e-99999999")
    assert result.exit_code == 2 and "--tolerance" in result.output


def test_tolerance_loosens_macs_only(cli, write_spec):
    # MACS_8 = 208; 1 MAC off is 0.48 %
    path = write_spec(family(expect={"macs": MACS_8 + 1}))
    assert cli("check", path).exit_code == 1
    assert cli("check", path, "--tolerance", "0.5%").exit_code == 0
    assert cli("check", path, "--tolerance", "0.4%").exit_code == 1
    params = write_spec(family(expect={"params": PARAMS_8 + 1}), name="params.json")
    assert cli("check", params, "--tolerance", "50%").exit_code == 1
    assert cli("check", path, "--tolerance", "lots").exit_code == 2


@pytest.mark.parametrize("expected", [MACS_8 + 1, MACS_8 - 1], ids=["above", "below"])
def test_tolerance_boundary_is_inclusive(cli, write_spec, expected):
    # one MAC off is exactly 1 / expected: 100/expected % allows it, a hair less does not
    path = write_spec(family(expect={"macs": expected}))
    assert cli("check", path, "--tolerance", f"100/{expected}%").exit_code == 0
    assert cli("check", path, "--tolerance", f"100/{expected + 1}%").exit_code == 1


@pytest.mark.parametrize(
    "figure, expected, actual, tolerance, ok",
    [
        ("macs", 200, 201, Fraction(1, 200), True),
        ("macs", 200, 199, Fraction(1, 200), True),
        ("macs", 200, 202, Fraction(1, 200), False),
        ("macs", 200, 198, Fraction(1, 200), False),
        ("macs", 200, 200, Fraction(0), True),
        ("macs", 200, 201, Fraction(0), False),
        ("params", 200, 201, Fraction(1, 2), False),
        ("trainable", 200, 200, Fraction(1, 2), True),
        ("macs", 0, 0, Fraction(1, 2), True),
        ("macs", 0, 1, Fraction(1, 2), False),
        ("macs", 200, None, Fraction(1, 2), False),
    ],
)
def test_within(figure, expected, actual, tolerance, ok):
    from flopcount.check import within

    assert within(figure, expected, actual, tolerance) is ok


# ---------------------------------------------------------------- baselines


def test_baseline_file_is_sorted_exact_and_one_block_per_spec(write_spec, tmp_path):
    a = write_spec(family(), name="b_second.json")
    b = write_spec(family(name="other"), name="a_first.json")
    baseline = tmp_path / "base.json"
    run_check([a, b], baseline=baseline, update=True)
    text = baseline.read_text()
    doc = json.loads(text)
    assert list(doc["specs"]) == ["a_first.json", "b_second.json"]
    assert text == dump_baseline(doc["specs"])  # stable: rewriting changes nothing
    assert '\n\n    "b_second.json"' in text  # a blank line between spec blocks
    layer_lines = [line.strip().rstrip(",") for line in text.splitlines() if line.strip().startswith('{"macs"')]
    assert len(layer_lines) == 2 * 4
    for line in layer_lines:
        keys = list(json.loads(line))
        assert keys == sorted(keys)
    entry = doc["specs"]["b_second.json"]
    assert entry["totals"] == {"macs": MACS_8, "non_trainable": 0, "params": PARAMS_8, "trainable": PARAMS_8}
    assert all(isinstance(v, int) for v in entry["totals"].values())
    assert entry["variables"] == {"alpha": 1, "width": 8}
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_update_keeps_other_specs_and_records_the_setting(write_spec, tmp_path):
    from flopcount.spec import parse_overrides

    a = write_spec(family(), name="a.json")
    b = write_spec(family(), name="b.json")
    baseline = tmp_path / "base.json"
    run_check([a, b], baseline=baseline, update=True)
    run_check([a], baseline=baseline, update=True, overrides=parse_overrides(["alpha=0.5"]))
    specs = read_baseline(baseline)
    assert sorted(specs) == ["a.json", "a.json [alpha=0.5]", "b.json"]
    assert specs["a.json [alpha=0.5]"]["totals"]["params"] == PARAMS_4
    assert run_check([a, b], baseline=baseline).ok
    assert run_check([a], baseline=baseline, overrides=parse_overrides(["alpha=0.5"])).ok


def test_baseline_keys_are_relative_to_the_baseline_folder(write_spec, tmp_path, monkeypatch):
    path = write_spec(family())
    (tmp_path / "ci").mkdir()
    monkeypatch.chdir(tmp_path / "ci")
    run_check([path], baseline="base.json", update=True)
    assert list(read_baseline(tmp_path / "ci" / "base.json")) == ["../spec.json"]
    monkeypatch.chdir(tmp_path)
    assert run_check(["spec.json"], baseline="ci/base.json").ok


@pytest.mark.parametrize("name", ["vgg16", "vgg16.json"])
def test_a_bundled_name_is_keyed_by_that_name(write_spec, tmp_path, monkeypatch, name):
    # not by its path relative to the baseline, which depends on where flopcount is installed
    (tmp_path / "ci").mkdir()
    monkeypatch.chdir(tmp_path)
    run_check([name], baseline="ci/bl.json", update=True)
    assert list(read_baseline(tmp_path / "ci" / "bl.json")) == ["vgg16"]
    monkeypatch.chdir(tmp_path / "ci")
    (check,) = run_check(["vgg16"], baseline="bl.json").checks
    assert check.ok and check.sources == ["expect", "baseline"]


def test_a_bundled_name_with_a_setting_is_keyed_by_name_and_setting(tmp_path):
    from flopcount.spec import parse_overrides

    baseline = tmp_path / "bl.json"
    run_check(["mobilenet_v1"], baseline=baseline, update=True, overrides=parse_overrides(["alpha=0.75"]))
    assert list(read_baseline(baseline)) == ["mobilenet_v1 [alpha=0.75]"]


def test_layers_added_removed_and_changed(write_spec, tmp_path):
    path = write_spec(family())
    baseline = tmp_path / "base.json"
    run_check([path], baseline=baseline, update=True)
    doc = family()
    doc["layers"][1:2] = [{"name": "act", "type": "activation", "fn": "relu"}]  # relu renamed
    doc["layers"][2]["units"] = 12  # fc2: same input, new output
    write_spec(doc)
    (check,) = run_check([path], baseline=baseline).checks
    assert [(c.name, c.change) for c in check.layers] == [("act", "added"), ("fc2", "reshaped"), ("relu", "removed")]
    assert check.layers[1].before["params"] == 8 * 10 + 10 and check.layers[1].after["params"] == 8 * 12 + 12


def test_a_layer_whose_type_changed_under_the_same_name_is_listed(write_spec, tmp_path):
    # relu -> dropout: same name, shape, params (0) and MACs (0); only the type tells them apart
    path = write_spec(family())
    baseline = tmp_path / "base.json"
    run_check([path], baseline=baseline, update=True)
    doc = family()
    doc["layers"][1] = {"name": "relu", "type": "dropout"}
    write_spec(doc)
    (check,) = run_check([path], baseline=baseline).checks
    assert check.status == "drift"
    assert [(c.name, c.change, c.before["type"], c.after["type"]) for c in check.layers] == [
        ("relu", "changed", "activation", "dropout")
    ]


def test_a_type_change_reads_before_then_after():
    # dense -> activation was shown "activation -> dense": the two types were sorted, not kept in order
    from flopcount.check import LayerChange
    from flopcount.check_report import layer_row

    dense = {"type": "dense", "shape": [4], "params": 20, "macs": 16}
    relu = {"type": "activation", "shape": [5], "params": 0, "macs": 0}
    assert layer_row(LayerChange("last", "reshaped", dense, relu)) == [
        "last",
        "reshaped",
        "dense -> activation",
        "(4,) -> (5,)",
        "-20",
        "-16",
    ]
    assert layer_row(LayerChange("fc", "changed", dense, {**dense, "params": 24}))[2:5] == ["dense", "(4,)", "+4"]
    assert layer_row(LayerChange("fc", "added", None, dense))[2:] == ["dense", "- -> (4,)", "+20", "+16"]


def test_baseline_layer_macs_use_the_tolerance(write_spec, tmp_path):
    # fc1 at 16 -> 8 has 128 MACs; a baseline recording 127 is 1/127 off
    path = write_spec(family())
    baseline = tmp_path / "base.json"
    run_check([path], baseline=baseline, update=True)
    specs = read_baseline(baseline)
    (entry,) = specs.values()
    fc1 = next(layer for layer in entry["layers"] if layer["name"] == "fc1")
    fc1["macs"] -= 1
    entry["totals"]["macs"] -= 1
    baseline.write_text(dump_baseline(specs))
    assert [c.name for c in run_check([path], baseline=baseline).checks[0].layers] == ["fc1"]
    assert run_check([path], baseline=baseline, tolerance=Fraction(1, 127)).ok
    assert not run_check([path], baseline=baseline, tolerance=Fraction(1, 128)).ok


def test_spec_missing_from_baseline_fails(cli, write_spec, tmp_path):
    baseline = tmp_path / "base.json"
    baseline.write_text(dump_baseline({}))
    result = cli("check", write_spec(family()), "--baseline", baseline)
    assert result.exit_code == 1
    assert "not in the baseline" in result.output and "--update" in result.output


@pytest.mark.parametrize(
    "text, message",
    [
        (None, "cannot read the baseline"),
        ("{", "invalid JSON at line 1"),
        ("[]", "not a flopcount baseline"),
        (
            '{"flopcount_baseline": 1, "specs": {"spec.json": {"name": "x", "totals": {"params": 1.5}, "layers": []}}}',
            "specs.spec.json.totals",
        ),
        (
            '{"flopcount_baseline": 1, "specs": {"spec.json": {"name": "x", "totals": {}, "layers": [{"name": "a"}]}}}',
            "specs.spec.json.layers[0]",
        ),
        ("[" * 100_000, "nested too deeply"),
        (
            '{"flopcount_baseline": 1, "specs": {"spec.json": {"name": "x", "totals": {"params": '
            + "1" * 5001
            + '}, "layers": []}}}',
            "invalid JSON",
        ),
        (
            '{"flopcount_baseline": 1, "specs": {"spec.json": {"name": "x", "totals": {}, "layers": ['
            + "[" * 900
            + "]" * 900
            + "]}}}",
            "specs.spec.json.layers[0]",
        ),
        (
            '{"flopcount_baseline": 1, "specs": {"spec.json": {"name": "x", "totals": {"macs": NaN}, "layers": []}}}',
            "NaN",
        ),
        (" \n", "empty"),
        (b"\xff{}", "not UTF-8"),
    ],
    ids=[
        "missing",
        "bad-json",
        "not-a-baseline",
        "decimal-total",
        "bad-layer",
        "deeply-nested",
        "5001-digit-integer",
        "deep-layer",
        "nan",
        "empty",
        "not-utf8",
    ],
)
def test_unreadable_baseline_exits_2_with_one_line(cli, write_spec, tmp_path, text, message):
    baseline = tmp_path / "base.json"
    if text is not None:
        baseline.write_bytes(text if isinstance(text, bytes) else text.encode())
    result = cli("check", write_spec(family()), "--baseline", baseline)
    assert result.exit_code == 2
    assert message in result.output and str(baseline) in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_update_needs_a_baseline(cli, write_spec):
    result = cli("check", write_spec(family()), "--update")
    assert result.exit_code == 2 and "--baseline" in result.output


def test_update_does_not_write_when_a_spec_is_unreadable(cli, write_spec, tmp_path):
    good = write_spec(family(), name="good.json")
    bad = write_spec("{", name="bad.json")
    baseline = tmp_path / "base.json"
    assert cli("check", good, bad, "--baseline", baseline, "--update").exit_code == 2
    assert not baseline.exists()


def test_update_keeps_the_file_mode(write_spec, tmp_path):
    baseline = tmp_path / "base.json"
    baseline.write_text(dump_baseline({}))
    os.chmod(baseline, 0o640)
    run_check([write_spec(family())], baseline=baseline, update=True)
    assert baseline.stat().st_mode & 0o777 == 0o640


# ---------------------------------------------------------------- arguments


def test_folders_and_globs(cli, write_spec, tmp_path):
    for name in ("a.json", "b.json"):
        write_spec(family(expect={"params": PARAMS_8}), name=name)
    (tmp_path / "notes.txt").write_text("not a spec")
    data = json.loads(cli("check", tmp_path, "--format", "json").output)
    assert [Path(c["spec"]).name for c in data["checks"]] == ["a.json", "b.json"]
    data = json.loads(cli("check", str(tmp_path / "*.json"), str(tmp_path / "a.json"), "--format", "json").output)
    assert [Path(c["spec"]).name for c in data["checks"]] == ["a.json", "b.json"]  # each spec once


def test_baseline_inside_the_folder_is_not_a_spec(cli, write_spec, tmp_path):
    write_spec(family(), name="a.json")
    baseline = tmp_path / "baseline.json"
    assert cli("check", tmp_path, "--baseline", baseline, "--update").exit_code == 0
    assert cli("check", tmp_path, "--baseline", baseline).exit_code == 0


def test_a_schema_beside_the_specs_is_not_a_spec(cli, write_spec, tmp_path):
    from flopcount.schema import spec_schema

    write_spec(family(expect={"params": PARAMS_8}, **{"$schema": "./spec.schema.json"}), name="a.json")
    (tmp_path / "spec.schema.json").write_text(json.dumps(spec_schema(), indent=2))
    for arg in (tmp_path, tmp_path / "*.json"):
        result = cli("check", arg, "--format", "json")
        assert result.exit_code == 0, result.output
        assert [Path(c["spec"]).name for c in json.loads(result.output)["checks"]] == ["a.json"]


def test_a_folder_of_schemas_only_holds_no_specs(cli, tmp_path):
    (tmp_path / "spec.schema.json").write_text("{}")
    result = cli("check", tmp_path)
    assert result.exit_code == 2 and "no .json specs" in result.output


@pytest.mark.parametrize("arg, message", [("nothing-*.json", "no file matches"), ("missing.json", "no such file")])
def test_unmatched_arguments_exit_2(cli, tmp_path, monkeypatch, arg, message):
    monkeypatch.chdir(tmp_path)
    result = cli("check", arg)
    assert result.exit_code == 2 and message in result.output


def test_empty_folder_exits_2(cli, tmp_path):
    result = cli("check", tmp_path)
    assert result.exit_code == 2 and "no .json specs" in result.output


def test_broken_spec_exits_2_naming_file_and_layer(cli, write_spec):
    doc = family(expect={"params": 1})
    doc["layers"][2]["unit"] = 10
    path = write_spec(doc)
    result = cli("check", path)
    assert result.exit_code == 2
    assert str(path) in result.output and "'fc2'" in result.output and "'unit'" in result.output


# ---------------------------------------------------------------- formats


@pytest.fixture
def mixed(write_spec):
    """One passing spec, one drifting (params and a layer), one with nothing to compare."""
    ok = write_spec(family(expect={"params": PARAMS_8}), name="ok.json")
    bad = write_spec(family(expect={"params": PARAMS_8 + 1, "layers": {"fc|1": {"macs": 1}}}), name="bad.json")
    bare = write_spec(family(), name="bare.json")
    return [ok, bad, bare]


def test_junit_is_well_formed_with_one_case_per_spec(cli, mixed):
    result = cli("check", *mixed, "--format", "junit")
    assert result.exit_code == 1
    root = ET.fromstring(result.output)
    suite = root.find("testsuite")
    cases = suite.findall("testcase")
    assert [Path(c.get("name")).name for c in cases] == ["ok.json", "bad.json", "bare.json"]
    assert suite.get("tests") == "3" and suite.get("failures") == "2"
    assert cases[0].find("failure") is None
    failure = cases[1].find("failure")
    assert failure.get("type") == "drift" and "params -1 vs expect" in failure.get("message")
    assert cases[2].find("failure").get("type") == "missing"


def test_junit_escapes_names_that_are_markup(cli, write_spec):
    # a spec named r&d.json and a layer named <fc&"1"> must stay text in well-formed XML
    doc = family(expect={"params": PARAMS_8 + 1, "layers": {'<fc&"1">': {"macs": 1}}})
    path = write_spec(doc, name="r&d.json")
    result = cli("check", path, "--format", "junit")
    assert result.exit_code == 1
    root = ET.fromstring(result.output)
    (case,) = root.iter("testcase")
    assert case.get("name") == str(path)
    failure = case.find("failure")
    assert '<fc&"1">' in failure.get("message") + (failure.text or "")


def markdown_tables(text):
    """Each block of consecutive '|' lines, split into cells on unescaped pipes."""
    tables, current = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            current.append([c for c in re.split(r"(?<!\\)\|", line)[1:-1]])
        elif current:
            tables.append(current)
            current = []
    return tables


# Once bugs: a control character in a name reached the XML unescaped (ElementTree escapes markup but
# not characters XML 1.0 forbids) and a newline split a Markdown table row.
def test_junit_stays_xml_with_control_characters_in_names(cli, write_spec):
    path = write_spec(family(expect={"layers": {"fc\x01\x1b[31m": {"macs": 1}}}), name="r&d.json")
    result = cli("check", path, "--format", "junit")
    assert result.exit_code == 1
    assert len(list(ET.fromstring(result.output).iter("testcase"))) == 1


def test_markdown_rows_stay_whole_with_newlines_in_names(cli, write_spec):
    path = write_spec(family(expect={"layers": {"fc\nx|y": {"macs": 1}}}))
    result = cli("check", path, "--format", "markdown")
    tables = markdown_tables(result.output)
    assert len(tables) == 2 and all({len(row) for row in table} == {len(table[0])} for table in tables)
    assert len(tables[1]) == 2 + 1  # header, rule, the one drifting layer


def test_markdown_tables_have_consistent_columns(cli, mixed):
    result = cli("check", *mixed, "--format", "markdown")
    assert result.exit_code == 1
    tables = markdown_tables(result.output)
    assert len(tables) == 2  # the summary, and the drifting spec's figures
    for table in tables:
        assert {len(row) for row in table} == {len(table[0])}
        assert all(set(c) <= set("-") for c in table[1])
    assert "fc\\|1" in result.output


def test_json_carries_exact_figures_and_status(cli, mixed):
    data = json.loads(cli("check", *mixed, "--format", "json").output)
    assert data["ok"] is False
    assert [c["status"] for c in data["checks"]] == ["pass", "drift", "missing"]
    assert data["checks"][0]["totals"] == {
        "params": PARAMS_8,
        "trainable": PARAMS_8,
        "non_trainable": 0,
        "macs": MACS_8,
    }
    drift = data["checks"][1]["drift"]
    assert drift[0] == {
        "source": "expect",
        "scope": "total",
        "name": None,
        "figure": "params",
        "expected": PARAMS_8 + 1,
        "actual": PARAMS_8,
        "change": -1,
        "relative": -1 / (PARAMS_8 + 1),
    }


def test_json_setting_beyond_float_range_is_exact_text():
    from flopcount.check import CheckResult, SpecCheck
    from flopcount.check_report import check_dict

    huge = Fraction(10**400 + 1, 2)
    check = SpecCheck("spec.json", "family", {"alpha": huge, "beta": Fraction(3, 4), "gamma": Fraction(2)}, {})
    setting = check_dict(CheckResult([check]))["checks"][0]["setting"]
    assert setting == {"alpha": str(huge), "beta": 0.75, "gamma": 2}


def test_table_summary_and_exit_code(cli, mixed):
    result = cli("check", *mixed)
    assert result.exit_code == 1
    assert "2 of 3 checks failed" in result.output
    assert "MISSING" in result.output and "DRIFT" in result.output
    result = cli("check", mixed[0])
    assert result.exit_code == 0 and "all 1 check pass" in result.output


# ---------------------------------------------------------------- the bundled specs


def test_every_bundled_spec_carries_expect_and_passes():
    specs = sorted(bundled_dir().glob("*.json"))
    assert specs
    for path in specs:
        assert "expect" in json.loads(path.read_text()), path.name
    result = run_check([bundled_dir()])
    assert [c.status for c in result.checks] == ["pass"] * len(result.checks), [
        (c.label, c.drifts, c.missing) for c in result.failed
    ]
    for check in result.checks:
        assert check.sources == ["expect"]
        assert set(check.totals) == set(FIGURES)


@pytest.mark.parametrize("fail_in, error", [("fsync", KeyboardInterrupt), ("replace", OSError)])
def test_interrupted_update_leaves_the_old_baseline_whole(write_spec, tmp_path, monkeypatch, fail_in, error):
    import os

    from flopcount import baseline as baseline_file

    spec = write_spec({"name": "t", "input": [4], "layers": [{"type": "dense", "units": 3}]})
    baseline = tmp_path / "base.json"
    run_check([spec], baseline=baseline, update=True)
    before = baseline.read_bytes()
    spec.write_text(json.dumps({"name": "t", "input": [4], "layers": [{"type": "dense", "units": 5}]}))

    def interrupted(*args, **kw):
        raise error(5, "Input/output error") if error is OSError else error()

    monkeypatch.setattr(baseline_file.os, fail_in, interrupted)
    with pytest.raises((KeyboardInterrupt, baseline_file.BaselineError)):
        run_check([spec], baseline=baseline, update=True)
    monkeypatch.undo()
    assert baseline.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["base.json", "spec.json"]


@pytest.mark.parametrize("tolerance", [Fraction(10**400), Fraction(-1, 2), 1, 0.5, True])
def test_a_library_tolerance_is_bounded_so_every_report_can_show_it(write_spec, tolerance):
    """A tolerance beyond a float's range reached float() in the JSON and table reports (OverflowError)."""
    with pytest.raises(FlopcountError, match="^tolerance must be a Fraction from 0 up to") as err:
        run_check([write_spec(family(expect={"params": PARAMS_8}))], tolerance=tolerance)
    assert err.value.option == "tolerance"
