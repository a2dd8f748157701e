"""flopcount compare: the MobileNet paper's formulas (Howard et al., 2017), exact ratios and closed forms, checked by execution."""

import json
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flopcount.compare import BLOCKS, Sizes, compare, run_sides
from flopcount.errors import ShapeError, SpecError


def test_standard_vs_depthwise_paper_example(cli):
    result = cli("compare", "standard", "depthwise", "--M", 32, "--N", 64)
    out = result.output
    assert result.exit_code == 0, out
    # standard: D_K² × M × N params, N × D_G² × D_K² × M MACs
    assert f"{3 * 3 * 32 * 64:,}" in out and f"{64 * 112 * 112 * 3 * 3 * 32:,}" in out
    # depthwise separable: D_K² × M + M × N params, M × D_G² × D_K² + N × D_G² × M MACs
    assert f"{3 * 3 * 32 + 32 * 64:,}" in out and f"{32 * 112 * 112 * 3 * 3 + 64 * 112 * 112 * 32:,}" in out
    assert "N × D_G² × D_K² × M = 64 × 112² × 3² × 32" in out
    assert "M × D_G² × D_K² + N × D_G² × M = 32 × 112² × 3² + 64 × 112² × 32" in out
    assert "73/576 = 0.126736…" in out
    assert "1/N + 1/D_K² = (D_K² + N)/(D_K² · N)" in out
    assert "1/64 + 1/9 = (9 + 64)/(9 · 64) = 73/576" in out
    assert "equals the closed form 73/576 exactly" in out
    assert "Execution ✓: the NumPy runner's params and MACs equal the analyzer's on both sides" in out


def test_paper_example_as_json(cli):
    result = cli("compare", "standard", "depthwise", "--M", 32, "--N", 64, "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["a"]["macs"] == 64 * 112 * 112 * 3 * 3 * 32
    assert data["b"]["params"] == 3 * 3 * 32 + 32 * 64
    assert data["a"]["formulas"]["macs"]["symbols"] == "N × D_G² × D_K² × M"
    assert data["b"]["formulas"]["macs"]["numbers"] == "32 × 112² × 3² + 64 × 112² × 32"
    assert data["ratios"]["macs"] == {
        "fraction": "73/576",
        "decimal": 73 / 576,
        "closed_form": "73/576",
        "equals_closed_form": True,
        "cheaper": "b",
        "saving": "503/576",
    }
    assert data["closed_form"]["substituted"] == "1/64 + 1/9 = (9 + 64)/(9 · 64) = 73/576"
    assert data["a"]["run"]["ok"] and data["b"]["run"]["ok"]
    assert data["a"]["run"]["macs"] == data["a"]["macs"]
    assert all(v is not False for v in data["verdicts"].values()) and data["ok"]


@settings(max_examples=60, deadline=None)
@given(
    m=st.integers(1, 512),
    n=st.integers(1, 1024),
    dk=st.integers(1, 9),
    df=st.integers(9, 300),
    stride=st.integers(1, 4),
)
def test_depthwise_ratio_is_the_closed_form_exactly(m, n, dk, df, stride):
    cmp = compare("standard", "depthwise", Sizes(M=m, N=n, DK=dk, DF=df, stride=stride))
    closed = Fraction(dk * dk + n, dk * dk * n)
    assert cmp.ratios["macs"].value == closed == cmp.ratios["params"].value
    assert cmp.ratios["macs"].equal and cmp.ratios["params"].equal
    assert cmp.a.formulas_ok and cmp.b.formulas_ok
    assert cmp.a.macs == n * (-(-df // stride)) ** 2 * dk * dk * m


@pytest.mark.parametrize(
    "m, n, dk, df, stride",
    [(3, 8, 3, 9, 1), (8, 3, 5, 12, 2), (4, 4, 1, 7, 1), (5, 6, 7, 10, 3), (2, 16, 4, 8, 2)],
)
def test_depthwise_ratio_confirmed_by_execution(m, n, dk, df, stride):
    cmp = run_sides(compare("standard", "depthwise", Sizes(M=m, N=n, DK=dk, DF=df, stride=stride)))
    assert cmp.ratios["macs"].value == Fraction(dk * dk + n, dk * dk * n)
    for side in (cmp.a, cmp.b):
        assert side.run.ok, side.run
        assert (side.run.params, side.run.macs) == (side.params, side.macs)
    assert cmp.ok


def test_reverse_order_gives_the_reciprocal():
    cmp = compare("depthwise", "standard", Sizes(M=32, N=64))
    assert cmp.ratios["macs"].value == Fraction(576, 73) == cmp.closed.value
    assert cmp.closed.text == "1/(1/N + 1/D_K²)"


@pytest.mark.parametrize(
    "a, b, stack, single, rf",
    [
        ("3x3x2", "5x5", 2 * 3 * 3, 5 * 5, 5),  # 18C² vs 25C²
        ("3x3x3", "7x7", 3 * 3 * 3, 7 * 7, 7),  # 27C² vs 49C²
    ],
)
def test_stacked_3x3_against_one_large_kernel(a, b, stack, single, rf):
    c, df = 64, 112
    cmp = run_sides(compare(a, b, Sizes(C=c, DF=df)))
    assert (cmp.a.params, cmp.b.params) == (stack * c * c, single * c * c)
    assert (cmp.a.macs, cmp.b.macs) == (stack * c * c * df * df, single * c * c * df * df)
    assert cmp.ratios["params"].value == cmp.ratios["macs"].value == Fraction(single, stack) == cmp.closed.value
    assert cmp.ratios["params"].saving == ("A", 1 - Fraction(stack, single))
    assert cmp.a.receptive_field == cmp.b.receptive_field == (rf, rf)
    assert cmp.a.rf_check.measured == cmp.b.rf_check.measured == (rf, rf)
    assert cmp.ok


def test_stacking_output_shows_the_argument(cli):
    out = cli("compare", "3x3x2", "5x5", "--C", 64, "--no-run").output
    assert "18C²" in out and "25C²" in out
    assert "A (3x3x2) needs 28 % fewer params and MACs than B (5x5): 1 - 18/25 = 7/25" in out
    assert "Receptive field: both 5×5" in out
    out = cli("compare", "3x3x3", "7x7", "--C", 64, "--no-run").output
    assert "27C²" in out and "49C²" in out and "Receptive field: both 7×7" in out


def test_stride_on_a_stack_grows_its_receptive_field():
    cmp = compare("3x3x2", "5x5", Sizes(C=8, DF=16, stride=2))
    assert cmp.ratios["macs"].equal
    assert cmp.a.receptive_field == (3 + 2 * 2, 3 + 2 * 2) and cmp.b.receptive_field == (5, 5)
    assert any("--stride 2" in note for note in cmp.notes)


@pytest.mark.parametrize(
    "block, sizes, trainable",
    [
        # torchvision resnet18.layer1[0]: two 3x3 64 -> 64 convs, two batch norms
        ("basic", Sizes(M=64, N=64, DF=56), 2 * (3 * 3 * 64 * 64 + 2 * 64)),
        # resnet18.layer2[0]: stride 2, 64 -> 128, 1x1 projection shortcut
        ("basic", Sizes(M=64, N=128, DF=56, stride=2), 3 * 3 * 64 * 128 + 3 * 3 * 128 * 128 + 64 * 128 + 3 * 2 * 128),
        # resnet50.layer1[0]: 75,008 trainable parameters in torchvision
        ("bottleneck", Sizes(M=64, N=256, DF=56), 75_008),
        # resnet50.layer1[1]: identity shortcut, 70,400
        ("bottleneck", Sizes(M=256, N=256, DF=56), 70_400),
        # MobileNetV2 block_1 (Keras): expand 16 -> 96, depthwise stride 2, project 96 -> 24
        (
            "inverted_residual",
            Sizes(M=16, N=24, DF=112, stride=2),
            16 * 96 + 2 * 96 + 3 * 3 * 96 + 2 * 96 + 96 * 24 + 2 * 24,
        ),
        # t = 1 leaves out the expansion (MobileNetV2's first bottleneck, 32 -> 16)
        ("inverted_residual", Sizes(M=32, N=16, DF=112, t=1), 3 * 3 * 32 + 2 * 32 + 32 * 16 + 2 * 16),
    ],
)
def test_residual_blocks_match_published_layers(block, sizes, trainable):
    graph, params, macs = BLOCKS[block].build(sizes)
    assert graph.totals.trainable == trainable
    assert (graph.totals.params, graph.totals.macs) == (params.value, macs.value)


def test_shortcut_only_when_shapes_allow():
    def types(block, **kw):
        return [n.type for n in BLOCKS[block].build(Sizes(**kw))[0].nodes]

    assert "add" in types("inverted_residual", M=8, N=8, DF=8)
    assert "add" not in types("inverted_residual", M=8, N=16, DF=8)
    assert "add" not in types("inverted_residual", M=8, N=8, DF=8, stride=2)
    assert types("basic", M=8, N=8, DF=8).count("conv2d") == 2
    assert types("basic", M=8, N=16, DF=8).count("conv2d") == 3  # projection


@pytest.mark.parametrize("name", list(BLOCKS))
def test_every_block_runs_and_matches_its_formulas(name):
    sizes = Sizes(M=8, N=8, C=8, DF=9, stride=2, t=2)
    cmp = run_sides(compare(name, name, sizes))
    assert cmp.a.formulas_ok
    assert cmp.a.run.ok, cmp.a.run
    assert cmp.a.rf_check.ok, cmp.a.rf_check


def test_bias_moves_the_parameter_ratio_and_says_why(cli):
    cmp = compare("standard", "depthwise", Sizes(M=32, N=64, bias=True))
    assert (cmp.a.params, cmp.b.params) == (3 * 3 * 32 * 64 + 64, 3 * 3 * 32 + 32 * 64 + 32 + 64)
    assert cmp.ratios["params"].value == Fraction(3 * 3 * 32 + 32 * 64 + 32 + 64, 3 * 3 * 32 * 64 + 64)
    assert cmp.ratios["params"].equal is None  # the closed form is not claimed with biases
    assert cmp.ratios["macs"].equal  # a bias add is not a MAC
    assert cmp.a.formulas_ok and cmp.b.formulas_ok
    result = cli("compare", "standard", "depthwise", "--M", 32, "--N", 64, "--bias", "--no-run")
    assert result.exit_code == 0
    assert "64 more parameters for standard, 96 for depthwise" in result.output
    assert "MACs do not move" in result.output and "FLOPs" in result.output


def test_list_names_every_block(cli):
    result = cli("compare", "--list")
    assert result.exit_code == 0
    for name in BLOCKS:
        assert name in result.output


def test_two_specs_compare_totals_and_layers(cli):
    cmp = compare("vgg16", "vgg19")
    assert cmp.a.params == 138_357_544 and cmp.b.params == 143_667_240
    names = [p.name for p in cmp.layers]
    assert "conv5_3/conv" in names and "fc8" in names and "conv5_4/conv" not in names
    result = cli("compare", "vgg16", "vgg19", "--no-run")
    assert result.exit_code == 0 and "Layers with the same name" in result.output


def test_memory_refusal_keeps_the_analysis(cli):
    result = cli("compare", "standard", "depthwise", "--M", 64, "--N", 64, "--DF", 40_000)
    assert result.exit_code == 0, result.output
    assert f"{64 * 40_000 * 40_000 * 3 * 3 * 64:,}" in result.output
    assert "equals the closed form" in result.output
    assert "skipped" in result.output and "not run" in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["standrd", "depthwise", "--M", 3, "--N", 4], "Did you mean 'standard'?"),
        (["standard", "depthwise", "--N", 4], "needs --M"),
        (["standard", "depthwise", "--M", 0, "--N", 4], "Received: M=0"),
        (["standard", "depthwise", "--M", 3, "--N", 4, "--DF", -5], "Received: DF=-5"),
        (["standard", "depthwise", "--M", 3, "--N", 4, "--DK", 9, "--DF", 8], "larger than the 8×8 input"),
        (["7x7", "3x3x3", "--C", 4, "--DF", 5], "larger than the 5×5 input"),
        (["bottleneck", "basic", "--M", 3, "--N", 30], "divisible by 4"),
        (["3x3x2", "5x5", "--M", 3, "--N", 4], "Received: M=3, N=4"),
        (["3x3x2", "5x5"], "needs --C"),
        (["vg16", "standard", "--M", 3, "--N", 3], "Did you mean 'vgg16'?"),
        (["standard"], "two blocks or specs"),
    ],
)
def test_bad_input_is_one_message_and_exit_2(cli, args, message):
    result = cli("compare", *args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "sizes, error",
    [
        (Sizes(M=None, N=4), SpecError),
        (Sizes(M=2, N=4, DK=5, DF=4), ShapeError),
        (Sizes(M=2, N=4, stride=0), SpecError),
    ],
)
def test_library_raises_flopcount_errors(sizes, error):
    with pytest.raises(error):
        compare("standard", "depthwise", sizes)


@pytest.mark.parametrize(
    "name, args",
    [
        ("compare_standard_depthwise.txt", ["standard", "depthwise", "--M", 32, "--N", 64]),
        ("compare_3x3x2_5x5_bias.txt", ["3x3x2", "5x5", "--C", 64, "--bias", "--no-run"]),
    ],
)
def test_golden_output(cli, golden, name, args):
    golden(name, cli("compare", *args).output)


# ---------------------------------------------------------------- work budgets


def test_a_large_kernel_probe_is_refused_before_it_runs(monkeypatch):
    """The probe's batch is 1 + 2 D_F inputs with D_F > D_K, so its work grows as D_K^5: D_K = 61 took minutes."""
    import flopcount.receptive

    def never(*args, **kw):
        raise AssertionError("the probe ran")

    monkeypatch.setattr(flopcount.receptive, "measure_receptive_fields", never)
    cmp = run_sides(compare("standard", "depthwise", Sizes(M=2, N=2, DK=61, DF=122)))
    # probe input side: rf + 3 jumps + 2 = 61 + 3 + 2 = 66; batch 1 + 2 x 66 = 133; channels become 4 -> 4;
    # standard: 133 x (66 x 66 outputs x 61 x 61 taps x 4 x 4) MACs
    assert cmp.a.rf_check.note == (
        f"not measured: the probe would take {133 * 66 * 66 * 61 * 61 * 4 * 4:,} MACs, over the "
        "budget of 100,000,000 MACs for an execution check"
    )
    assert cmp.b.rf_check.note.startswith("not measured: the probe would take")
    assert cmp.a.run.ok and cmp.b.run.ok and cmp.ok  # the runs themselves are within their budget


def test_a_run_over_the_budget_is_a_note_not_a_run(monkeypatch):
    import flopcount.runner

    monkeypatch.setattr(flopcount.runner, "run_graph", lambda *a, **kw: pytest.fail("the runner ran"))
    cmp = run_sides(compare("standard", "depthwise", Sizes(M=32, N=64)), max_macs=10**6)
    assert cmp.a.run.note == (
        f"running it would take {64 * 112 * 112 * 3 * 3 * 32:,} MACs, over the budget of 1,000,000 "
        "MACs for an execution check; the analysis above stands. Lower D_F or the channels to run it."
    )
    assert not cmp.a.run.ran and cmp.ok  # not run is not a failure


def test_the_probe_keeps_the_structure_with_few_channels():
    from flopcount.compare.execution import _few_channels

    assert _few_channels(Sizes(M=64, N=256, t=6)) == Sizes(M=4, N=8, t=2)  # a projection shortcut stays one
    assert _few_channels(Sizes(M=256, N=256, t=1)) == Sizes(M=4, N=4, t=1)  # identity stays identity, t = 1 stays
    assert _few_channels(Sizes(C=96, M=96, N=32)) == Sizes(C=8, M=8, N=4, t=2)


def test_large_sizes_end_within_seconds(cli):
    import time

    start = time.perf_counter()
    result = cli("compare", "standard", "depthwise", "--M", 2, "--N", 2, "--DK", 61, "--DF", 122)
    assert result.exit_code == 0 and "not measured" in result.output
    assert time.perf_counter() - start < 30  # minutes before the probe had a budget
