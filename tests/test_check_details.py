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
from flopcount.check import baseline_key, parse_tolerance, run_check, setting_suffix
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
