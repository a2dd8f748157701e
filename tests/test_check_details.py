"""`flopcount check` in detail: every expect error as its exact line, boundaries, labels, and what each result records.

tests/test_check.py tells the story of a check; this file pins the details a one-token change
to flopcount/check.py would alter (its mutation score is in tests/mutation/RESULTS.md).
"""

import json
from fractions import Fraction
from pathlib import Path

import pytest
from test_check import FAMILY, MACS_4, MACS_8, PARAMS_4, PARAMS_8, family

from flopcount.baseline import read_baseline
from flopcount.check import baseline_key, decimal_text, parse_tolerance, run_check, setting_suffix
from flopcount.errors import FlopcountError
from flopcount.spec import parse_overrides

# ---------------------------------------------------------------- expect errors, each line whole


@pytest.mark.parametrize(
    "expect, line",
    [
        (
            "138M",
            "attribute 'expect': must be an object of expected figures, or a non-empty list of them. Received: expect=\"138M\"",
        ),
        (
            [],
            "attribute 'expect': must be an object of expected figures, or a non-empty list of them. Received: expect=[]",
        ),
        (
            [3],
            "attribute 'expect[0]': must be an object of expected figures such as {\"params\": 1000}. Received: expect[0]=3",
        ),
        ({"set": 3}, "attribute 'expect.set': must be an object of variable: value. Received: expect.set=3"),
        (
            [{"params": 1}, {"set": {"beta": 1}}],
            "attribute 'expect[1].set.beta': the spec has no such variable. Its variables: alpha, width.",
        ),
        (
            [{"params": 1}, {"set": {"alpah": 1}}],
            "attribute 'expect[1].set.alpah': the spec has no such variable. Did you mean 'alpha'? Its variables: alpha, width.",
        ),
        (
            [{"params": 1}, {"set": {"alpha": [1]}}],
            "attribute 'expect[1].set.alpha': must be a number, a boolean or an expression string. Received: expect[1].set.alpha=[1]",
        ),
        (
            {"source": 5},
            "attribute 'expect.source': must be a string citing where the figures come from. Received: expect.source=5",
        ),
        (
            {"layers": []},
            "attribute 'expect.layers': must be an object of layer name: figures. Received: expect.layers=[]",
        ),
        (
            {"blocks": 3},
            "attribute 'expect.blocks': must be an object of block name: figures. Received: expect.blocks=3",
        ),
        (
            {"parms": 1},
            "attribute 'expect.parms': unknown key in expect. Did you mean 'params'? Allowed: set, convention, source, params, trainable, "
            "non_trainable, macs, layers, blocks.",
        ),
        (
            {"layers": {"fc1": {"flops": 1}}},
            "attribute 'expect.layers.fc1.flops': unknown figure. Allowed: params, trainable, non_trainable, macs.",
        ),
        (
            {"blocks": {"fc1": {"param": 1}}},
            "attribute 'expect.blocks.fc1.param': unknown figure. Did you mean 'params'? Allowed: params, trainable, non_trainable, macs.",
        ),
        (
            {"layers": {"fc1": 5}},
            "attribute 'expect.layers.fc1': must be an object of expected figures such as {\"params\": 1000}. Received: expect.layers.fc1=5",
        ),
        (
            {"params": 1.5},
            "attribute 'expect.params': must be an exact integer >= 0, such as 138357544. Received: expect.params=1.5",
        ),
        (
            {"layers": {"fc1": {"macs": -1}}},
            "attribute 'expect.layers.fc1.macs': must be an exact integer >= 0, such as 138357544. Received: expect.layers.fc1.macs=-1",
        ),
        # the same setting written in another key order is the same setting
        (
            [{"set": {"alpha": 1, "width": 8}, "params": 1}, {"set": {"width": 8, "alpha": 1}, "params": 1}],
            "attribute 'expect[1].set': two expect entries have the same 'set' and convention; merge them.",
        ),
        (
            {"convention": 1, "params": 1},
            "attribute 'expect.convention': must name a convention, such as \"fvcore\". Received: expect.convention=1",
        ),
        (
            {"convention": "fvcor", "params": 1},
            "attribute 'expect.convention': no such convention. Did you mean 'fvcore'? Conventions: flopcount, "
            "torchvision, fvcore, ptflops, ptflops-aten, thop, torchinfo, onnx-tool, keras.",
        ),
    ],
    ids=[
        "string",
        "empty-list",
        "entry-a-number",
        "set-a-number",
        "unknown-variable",
        "misspelt-variable",
        "variable-a-list",
        "source-a-number",
        "layers-a-list",
        "blocks-a-number",
        "unknown-key",
        "unknown-layer-figure",
        "misspelt-block-figure",
        "figures-a-number",
        "decimal",
        "negative-layer-figure",
        "same-setting-reordered",
        "convention-a-number",
        "misspelt-convention",
    ],
)
def test_bad_expect_is_one_exact_line(cli, tmp_path, monkeypatch, expect, line):
    monkeypatch.chdir(tmp_path)
    Path("spec.json").write_text(json.dumps(family(expect=expect)))
    result = cli("check", "spec.json")
    assert (result.exit_code, result.output) == (2, f"Error: spec.json: {line}\n")


def test_expect_setting_in_a_spec_without_variables(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = {
        "name": "n",
        "input": [4],
        "layers": [{"type": "dense", "units": 2}],
        "expect": [{"set": {"alpha": 1}, "params": 10}],
    }
    Path("spec.json").write_text(json.dumps(spec))
    result = cli("check", "spec.json")
    assert (
        result.output
        == "Error: spec.json: attribute 'expect[0].set.alpha': the spec has no such variable. Its variables: none.\n"
    )


def test_an_expect_setting_that_breaks_the_spec_names_the_file(tmp_path):
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(family(expect=[{"params": PARAMS_8}, {"set": {"alpha": 0}, "params": 1}])))
    with pytest.raises(FlopcountError) as err:
        run_check([path])
    assert err.value.file == str(path) and err.value.attribute == "units"


def test_expect_settings_are_expanded_within_max_layers(tmp_path):
    # 3 layers as written; the entry's setting repeats the middle one 50 times
    doc = family(expect=[{"params": PARAMS_8}, {"set": {"alpha": 1 / 2}, "params": PARAMS_4}])
    doc["variables"]["n"] = 1
    doc["layers"][1] = {**doc["layers"][1], "repeat": "n"}
    doc["expect"][1]["set"]["n"] = 50
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(FlopcountError) as err:
        run_check([path], max_layers=20)
    assert err.value.file == str(path)
    path.write_text(json.dumps(family(expect={"params": PARAMS_8})))
    with pytest.raises(FlopcountError) as err:
        run_check([path], max_layers=3)  # the spec as written: input and three layers
    assert err.value.file == str(path)


# ---------------------------------------------------------------- labels and tolerance


def test_setting_suffix_shows_values_as_a_spec_writes_them():
    setting = {"a": True, "b": False, "c": Fraction(2), "d": Fraction(3, 4), "e": "x"}
    assert setting_suffix(setting) == " [a=true, b=false, c=2, d=0.75, e=x]"
    assert setting_suffix({}) == ""


@pytest.mark.parametrize(
    "text, value",
    [("0." + "0" * 27 + "1", Fraction(1, 10**30)), ("0." + "0" * 27 + "1%", Fraction(1, 10**30))],
    ids=["30-characters", "30-characters-and-percent"],
)
def test_tolerance_of_30_characters_is_read(text, value):
    assert parse_tolerance(text) == value


@pytest.mark.parametrize(
    "text, shown",
    [("0." + "0" * 28 + "1", "0." + "0" * 28 + "1"), ("x" * 40, "x" * 40), ("x" * 41, "x" * 37 + "...")],
    ids=["31-characters", "40-shown-whole", "41-shortened"],
)
def test_bad_tolerance_message_shows_at_most_40_characters(text, shown):
    with pytest.raises(FlopcountError) as err:
        parse_tolerance(text)
    assert err.value.option == "tolerance"
    assert (
        err.value.message
        == f"tolerance takes a percentage from 0 up to (not including) 100, such as 0.5%. Received: {shown}"
    )


def test_layer_and_block_macs_use_the_tolerance(write_spec):
    # fc1 has 16 x 8 = 128 MACs: 129 expected is 1/129 off
    expect = {"layers": {"fc1": {"macs": 129}}, "blocks": {"fc1": {"macs": 129}}}
    path = write_spec(family(expect=expect))
    assert run_check([path], tolerance=Fraction(1, 129)).ok
    (check,) = run_check([path], tolerance=Fraction(1, 130)).checks
    assert [(d.source, d.scope, d.name, d.figure, d.expected, d.actual) for d in check.drifts] == [
        ("expect", "layer", "fc1", "macs", 129, 128),
        ("expect", "block", "fc1", "macs", 129, 128),
    ]


# ---------------------------------------------------------------- what a result records


def test_total_drifts_name_their_source_and_scope(write_spec, tmp_path):
    path = write_spec(family(expect={"params": PARAMS_8 + 1}))
    baseline = tmp_path / "base.json"
    run_check([path], baseline=baseline, update=True)
    doc = family(expect={"params": PARAMS_8 + 1})
    doc["layers"][0]["units"] = 4
    path.write_text(json.dumps(doc))
    (check,) = run_check([path], baseline=baseline).checks
    assert (check.name, check.sources) == ("family", ["expect", "baseline"])
    # the expect block's drift stays beside the baseline's
    assert [(d.source, d.scope, d.name, d.figure, d.expected, d.actual) for d in check.drifts] == [
        ("expect", "total", "", "params", PARAMS_8 + 1, PARAMS_4),
        ("baseline", "total", "", "params", PARAMS_8, PARAMS_4),
        ("baseline", "total", "", "trainable", PARAMS_8, PARAMS_4),
        ("baseline", "total", "", "macs", MACS_8, MACS_4),
    ]


def test_added_and_removed_layers_carry_their_figures(write_spec, tmp_path):
    path = write_spec(family())
    baseline = tmp_path / "base.json"
    run_check([path], baseline=baseline, update=True)
    doc = family()
    doc["layers"][1]["name"] = "act"
    path.write_text(json.dumps(doc))
    (check,) = run_check([path], baseline=baseline).checks
    relu = {"name": "relu", "type": "activation", "shape": [8], "params": 0, "macs": 0}
    assert [(c.name, c.change, c.before, c.after) for c in check.layers] == [
        ("act", "added", None, {**relu, "name": "act"}),
        ("relu", "removed", relu, None),
    ]


def test_result_records_the_baseline_and_the_update(write_spec, tmp_path):
    path = write_spec(family())
    baseline = tmp_path / "base.json"
    result = run_check([path], baseline=baseline, update=True)
    assert (result.baseline, result.updated, result.checks[0].sources) == (str(baseline), True, ["baseline (updated)"])
    result = run_check([path], baseline=baseline)
    assert (result.baseline, result.updated) == (str(baseline), False)
    assert run_check([write_spec(family(expect={"params": PARAMS_8}))]).baseline is None


def test_update_without_a_baseline_is_about_the_update_option(write_spec):
    with pytest.raises(FlopcountError) as err:
        run_check([write_spec(family())], update=True)
    assert (err.value.option, err.value.message) == ("update", "update needs baseline: the file to write.")


def test_entries_with_a_setting_are_checked_at_it_and_only_the_default_against_the_baseline(write_spec, tmp_path):
    path = write_spec(family(expect=[{"params": PARAMS_8}, {"set": {"alpha": 0.5}, "params": PARAMS_4}]))
    baseline = tmp_path / "base.json"
    run_check([path], baseline=baseline, update=True)
    assert list(read_baseline(baseline)) == ["spec.json"]
    result = run_check([path], baseline=baseline)
    assert [(c.setting, c.sources, c.status) for c in result.checks] == [
        ({}, ["expect", "baseline"], "pass"),
        ({"alpha": Fraction(1, 2)}, ["expect"], "pass"),
    ]


def test_only_entries_with_a_setting_and_no_baseline_check_only_those(write_spec):
    result = run_check([write_spec(family(expect=[{"set": {"alpha": 0.5}, "params": PARAMS_4}]))])
    assert [(c.setting, c.status) for c in result.checks] == [({"alpha": Fraction(1, 2)}, "pass")]


def test_only_entries_with_a_setting_and_a_baseline_check_the_default_against_it(write_spec, tmp_path):
    path = write_spec(family(expect=[{"set": {"alpha": 0.5}, "params": PARAMS_4}]))
    baseline = tmp_path / "base.json"
    run_check([path], baseline=baseline, update=True)
    assert [(c.setting, c.sources) for c in run_check([path], baseline=baseline).checks] == [
        ({}, ["baseline"]),
        ({"alpha": Fraction(1, 2)}, ["expect"]),
    ]


def test_every_entry_matching_a_set_setting_is_compared(write_spec):
    # both entries describe the default model: --set alpha=1 checks both, and keeps both drifts
    expect = [{"params": PARAMS_8 + 1}, {"set": {"width": 8}, "macs": MACS_8 + 1}]
    (check,) = run_check([write_spec(family(expect=expect))], overrides=parse_overrides(["alpha=1"])).checks
    assert [(d.figure, d.change) for d in check.drifts] == [("params", -1), ("macs", -1)]


@pytest.mark.parametrize(
    "sets, baseline, missing",
    [
        ([], False, "nothing to compare: the spec has no 'expect' and no --baseline was given."),
        (["alpha=2"], False, "no expect entry has this setting, and no --baseline was given."),
    ],
)
def test_why_nothing_was_compared(write_spec, sets, baseline, missing):
    (check,) = run_check([write_spec(family())], overrides=parse_overrides(sets)).checks
    assert check.missing == [missing]


# ---------------------------------------------------------------- specs named on the command line


def test_a_baseline_key_is_the_path_from_the_baseline_folder_unless_bundled():
    assert baseline_key(Path("models/net.json"), "ci/base.json", {}) == "../models/net.json"
    assert (
        baseline_key(Path("models/net.json"), "ci/base.json", {"alpha": Fraction(1, 2)}, bundled=True)
        == "net [alpha=0.5]"
    )


@pytest.mark.parametrize(
    "arg, line",
    [
        ("empty", "Error: empty: the folder holds no .json specs.\n"),
        ("nomatch-*.json", "Error: nomatch-*.json: no file matches this pattern.\n"),
    ],
)
def test_arguments_that_name_no_spec(cli, tmp_path, monkeypatch, arg, line):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    result = cli("check", arg)
    assert (result.exit_code, result.output) == (2, line)


def test_a_missing_name_without_wildcards_is_not_a_pattern(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli("check", "XYZ.json").output.startswith(
        "Error: XYZ.json: no such file, and no bundled spec of that name."
    )


def test_a_double_star_pattern_searches_subfolders(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models" / "a" / "b").mkdir(parents=True)
    (tmp_path / "models" / "a" / "b" / "net.json").write_text(json.dumps({**FAMILY, "expect": {"params": PARAMS_8}}))
    result = cli("check", "models/**/*.json", "--format", "json")
    assert [c["spec"] for c in json.loads(result.output)["checks"]] == ["models/a/b/net.json"]


def test_an_expect_setting_that_breaks_the_spec_is_named_as_written(tmp_path):
    path = tmp_path / "spec.json"
    path.write_text(
        json.dumps(family(expect=[{"params": 1}, {"set": {"alpha": 2, "width": "alpha - 2"}, "params": 1}]))
    )
    with pytest.raises(FlopcountError) as err:
        run_check([path])
    assert err.value.context == 'expect[1] sets alpha=2, width="alpha - 2"'


# ---------------------------------------------------------------- figures under another tool's convention

# conv 3 x 3, 2 -> 3 on 6 x 6, batch norm, relu, global average pool, dense 3 -> 2. flopcount counts 864 + 6
# MACs and 77 parameters; ptflops' rules as flopcount.layers.conventions states them give conv 912, batch norm
# 96, relu 96 and dense 8 MACs, and count batch norm's 6 trainable parameters but not its 6 statistics
CONVENTION_SPEC = {
    "name": "conv",
    "input": [6, 6, 2],
    "layers": [
        {"type": "conv2d", "filters": 3, "kernel": 3, "name": "c"},
        {"type": "batch_norm", "name": "bn"},
        {"type": "activation", "fn": "relu", "name": "r"},
        {"type": "global_avg_pool", "name": "g"},
        {"type": "dense", "units": 2, "name": "fc"},
    ],
}
PTFLOPS = {"params": 57 + 6 + 8, "macs": 912 + 96 + 96 + 8}


def test_expect_under_a_convention_compares_its_totals_layers_and_blocks(write_spec):
    entry = {
        "convention": "ptflops",
        **PTFLOPS,
        "layers": {"c": {"params": 57, "macs": 912}, "bn": {"params": 6, "macs": 96}},
        "blocks": {"r": {"macs": 96}},
    }
    path = write_spec({**CONVENTION_SPEC, "expect": entry})
    (check,) = run_check([path], convention="ptflops").checks
    assert (check.ok, check.label, check.totals) == (
        True,
        f"{path} (ptflops)",
        {**PTFLOPS, "trainable": 57 + 6 + 8, "non_trainable": 6},
    )
    off = {
        **entry,
        "params": PTFLOPS["params"] + 1,
        "layers": {"c": {"macs": 913}, "bn": {"params": 7}},
        "blocks": {"r": {"macs": 97}},
    }
    path.write_text(json.dumps({**CONVENTION_SPEC, "expect": off}))
    (check,) = run_check([path], convention="ptflops").checks
    assert [(d.scope, d.name, d.figure, d.expected, d.actual) for d in check.drifts] == [
        ("total", "", "params", 72, 71),
        ("layer", "c", "macs", 913, 912),
        ("layer", "bn", "params", 7, 6),
        ("block", "r", "macs", 97, 96),
    ]


def test_a_baseline_under_a_convention_records_and_compares_its_figures(write_spec, tmp_path):
    path = write_spec(CONVENTION_SPEC)
    baseline = tmp_path / "base.json"
    run_check([path], baseline=baseline, update=True, convention="ptflops")
    (key,) = read_baseline(baseline)
    entry = read_baseline(baseline)[key]
    assert key.endswith(" (ptflops)") and entry["totals"] == {**PTFLOPS, "trainable": 71, "non_trainable": 6}
    assert [(x["name"], x["params"], x["macs"]) for x in entry["layers"]] == [
        ("input", 0, 0),
        ("c", 57, 912),
        ("bn", 6, 96),
        ("r", 0, 96),
        ("g", 0, 0),
        ("fc", 8, 8),
    ]
    doc = json.loads(json.dumps(CONVENTION_SPEC))
    doc["layers"][-1]["units"] = 3  # dense 3 -> 3: 12 parameters, 9 + 3 MACs under ptflops
    path.write_text(json.dumps(doc))
    (check,) = run_check([path], baseline=baseline, convention="ptflops").checks
    assert [(d.figure, d.expected, d.actual) for d in check.drifts] == [
        ("params", 71, 75),
        ("trainable", 71, 75),
        ("macs", 1112, 1116),
    ]
    assert [(c.name, c.before["params"], c.after["params"], c.after["macs"]) for c in check.layers] == [
        ("fc", 8, 12, 12)
    ]


@pytest.mark.parametrize(
    "value, text",
    [
        (Fraction(3), "3"),
        (Fraction(0), "0"),
        (Fraction(3, 4), "0.75"),
        (Fraction(-5, 2), "-2.5"),
        (Fraction(-1, 8), "-0.125"),
        (Fraction(7, 40), "0.175"),  # 2^3 x 5
        (Fraction(1, 125), "0.008"),  # 5^3
        (Fraction(1, 5**30), "0." + str(2**30).rjust(30, "0")),  # beyond a float's exact integers
        (Fraction(1, 2**1100), "0." + str(5**1100).rjust(1100, "0")),  # beyond a float's range
        (Fraction(1, 3), None),
        (Fraction(1, 6), None),
        (Fraction(7, 30), None),
    ],
)
def test_decimal_text_writes_a_finite_decimal_exactly_or_nothing(value, text):
    assert decimal_text(value) == text


@pytest.mark.parametrize(
    "tolerance, shown",
    [
        (Fraction(1), "1"),
        (Fraction(-(10**17 + 1), 10**19), "-100000000000000001/10000000000000000000"),  # 40 characters: whole
        (Fraction(-(10**18 + 1), 10**19), "-1000000000000000001/1000000000000000..."),  # 41: cut to 37 and ...
    ],
)
def test_a_library_tolerance_out_of_range_is_shown_in_at_most_40_characters(write_spec, tolerance, shown):
    with pytest.raises(FlopcountError) as err:
        run_check([write_spec(family())], tolerance=tolerance)
    assert (err.value.option, err.value.message) == (
        "tolerance",
        f"tolerance must be a Fraction from 0 up to (not including) 1. Received: {shown}",
    )


def test_arguments_check_cannot_read_are_one_line(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("base.json").write_text('{"flopcount_baseline": 1, "specs": {}}')
    assert cli("check", "base.json").output == (
        "Error: base.json: this is a flopcount baseline, not a spec; give it with --baseline.\n"
    )
    with open("big.json", "wb") as f:
        f.truncate(33 * 2**20)  # sparse: 33 MiB of nothing on disk
    assert cli("check", "./big.json").output == (  # named as given, not as the path reads
        "Error: ./big.json: the spec is larger than 32 MiB (34,603,008 bytes), the largest flopcount reads.\n"
    )
    Path("broken.json").write_text('{"name": ')
    assert (
        cli("check", "broken.json").output
        == "Error: broken.json: invalid JSON at line 1, column 10: Expecting value.\n"
    )
    name = "s" * 300
    assert cli("check", name).output == (
        f"Error: {name}: cannot read the spec: the file name is too long for the file system.\n"
    )


def test_a_baseline_found_beside_the_specs_is_skipped_even_while_it_is_empty(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("specs").mkdir()
    Path("specs/spec.json").write_text(json.dumps(family()))
    Path("specs/old.json").write_text('{"flopcount_baseline": 1, "specs": {}}')  # another baseline, found
    Path("specs/base.json").write_text("")  # the one being written, empty until the update
    for arg in ("specs", "specs/*.json"):
        result = run_check([arg], baseline="specs/base.json", update=True)
        assert [c.spec for c in result.checks] == ["specs/spec.json"]


def test_a_baseline_named_as_a_spec_is_an_error_about_the_baseline_option(tmp_path):
    path = tmp_path / "base.json"
    path.write_text('{"flopcount_baseline": 1, "specs": {}}')
    with pytest.raises(FlopcountError) as err:
        run_check([path])
    assert (err.value.option, err.value.file) == ("baseline", str(path))


def test_an_unknown_convention_is_refused_before_any_spec_is_read(tmp_path):
    with pytest.raises(FlopcountError) as err:
        run_check([tmp_path / "missing.json"], convention="nope")
    assert (err.value.option, str(err.value)) == (
        "convention",
        "convention takes one of flopcount, torchvision, fvcore, ptflops, ptflops-aten, thop, torchinfo, onnx-tool, "
        "keras (or all). Received: nope",
    )
