"""Property-based fuzzing: any input ends in success or in flopcount's own error, exit status 2.

CI runs a bounded number of examples. A long local session:

    FLOPCOUNT_FUZZ_EXAMPLES=100000 python -m pytest tests/test_fuzz.py -q
"""

import io
import json
import os
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from flopcount import FlopcountError, build_graph, parse_spec

EXAMPLES = int(os.environ.get("FLOPCOUNT_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
SPECS = {p.stem: json.loads(p.read_text()) for p in sorted((Path(__file__).parent.parent / "flopcount" / "specs").glob("*.json"))}

scalars = st.none() | st.booleans() | st.integers(-(10**12), 10**12) | st.floats() | st.text(max_size=12)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=30,
)
# numbers past every bound: the 10^15 limit, 64 bits, a float's range, str()'s 4300 digits
HUGE = [10**15, 10**16, 2**63, 2**70, 10**400, "10**400 / 3", "1e5000", "1e99999999", "round(1, 10**9)", "round(2, 0.5)"]
# values chosen to hit edges: zero, negatives, huge sizes, wrong types, expressions, reserved names
edges = st.sampled_from(
    [0, -1, 1, 2, 3, 7, 10**12, 1.5, 1e300, True, False, None, "", "x", "same", "valid", "1/0", "2**10000",
     "i", "in", "input", "relu", "alpha * 3", "__import__('os')", [], {}, [1, 2], [3, 3, 3], [[0, 1], [1, 0]],
     [-1, 2], {"type": "flatten"}, [10**15] * 8, [1] * 9] + HUGE
)
keys = st.sampled_from(["type", "inputs", "repeat", "name", "block", "stride", "kernel", "filters", "padding",
                        "groups", "units", "when", "layers", "params", "variables", "input", "zzz"])


def render(graph, fmt: str, by=None) -> str:
    """The analysis as the CLI would print it in fmt (a table into a string console)."""
    from rich.console import Console

    from flopcount import report

    if fmt == "table":
        out = Console(file=io.StringIO(), width=120, highlight=False, markup=False)
        report.render_table(graph, out, by=by, flops=True)
        return out.file.getvalue()
    if fmt == "json":
        return report.to_json(graph, by)
    if fmt == "csv":
        return report.to_csv(graph, by)
    return report.to_markdown(graph, by, flops=True)


def analyze_any(doc, fmt: str = "json", by=None) -> None:
    """Analyze a document and render it; flopcount's own errors are the only acceptable failure."""
    try:
        graph = build_graph(parse_spec(doc, max_layers=2000))
    except FlopcountError:
        event("refused")
        return
    event("rendered")
    render(graph, fmt, by)


def assert_clean_exit(result, codes=(0, 1, 2)) -> None:
    """An exit status in codes; status 2 is flopcount's one-line error or click's usage error, never a traceback."""
    assert result.exit_code in codes, result.output
    if result.exit_code == 2:
        lines = result.output.splitlines()
        assert lines and lines[-1].startswith("Error: "), result.output
        assert len(lines) == 1 or lines[0].startswith("Usage: "), result.output


def mutate(doc, rnd: random.Random, draw):
    """Apply 1-4 random edits: delete a key or item, replace a value, add a key, shuffle a list."""
    doc = json.loads(json.dumps(doc))
    for _ in range(rnd.randint(1, 4)):
        containers = []
        stack = [doc]
        while stack:
            x = stack.pop()
            if isinstance(x, (dict, list)):
                containers.append(x)
                stack.extend(x.values() if isinstance(x, dict) else x)
        node = rnd.choice(containers)
        fresh = json.loads(json.dumps(draw(edges)))
        if isinstance(node, dict) and node:
            key = rnd.choice(list(node))
            roll = rnd.random()
            if roll < 0.3:
                del node[key]
            elif roll < 0.8:
                node[key] = fresh
            else:
                node[draw(keys)] = fresh
        elif isinstance(node, list) and node:
            roll = rnd.random()
            if roll < 0.3:
                del node[rnd.randrange(len(node))]
            elif roll < 0.6:
                node[rnd.randrange(len(node))] = fresh
            else:
                rnd.shuffle(node)
    return doc


@FUZZ
@given(json_values)
def test_random_json_values(value):
    analyze_any(json.dumps(value))


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes(data):
    analyze_any(data)


FORMATS = st.sampled_from(["table", "json", "csv", "markdown"])


@FUZZ
@given(st.sampled_from(sorted(SPECS)), st.randoms(use_true_random=False), st.data(), FORMATS,
       st.sampled_from([None, "type", "block"]))
def test_mutated_reference_specs(name, rnd, data, fmt, by):
    analyze_any(mutate(SPECS[name], rnd, data.draw), fmt, by)


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


# option values a user might type, or mistype: sensible ones, negatives, thousands of digits, words
ODD = ["", " ", "-1", "x", "1.5", "1e5000", "9" * 5000, "0." + "0" * 5000 + "1", "2**70", "nan", "inf", "%"]
tolerances = st.sampled_from(["0%", "0.5%", "5", "99.99%", "100%", "-1%", "1e-400%", "1e99999999%"] + ODD) | st.text(max_size=8)


@settings(max_examples=max(EXAMPLES // 5, 20), deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(st.sampled_from(sorted(SPECS)), st.randoms(use_true_random=False), st.data(),
       st.sampled_from(["analyze", "check"]))
def test_commands_exit_0_1_or_2_without_traceback(fuzz_dir, cli, name, rnd, data, command):
    path = fuzz_dir / "spec.json"
    path.write_text(json.dumps(mutate(SPECS[name], rnd, data.draw)))
    args = [command, path, "--max-layers", "2000"]
    if command == "analyze":
        fmt = data.draw(FORMATS)
        args += ["--format", fmt] + data.draw(st.sampled_from([[], ["--flops"], ["--by", "type"], ["--by", "block", "--flops"]]))
    else:
        fmt = data.draw(st.sampled_from(["table", "json", "markdown", "junit"]))
        args += ["--format", fmt, "--tolerance", data.draw(tolerances)]
    result = cli(*args)
    assert_clean_exit(result)
    if fmt == "json" and result.exit_code in (0, 1):
        json.loads(result.output)


# ---------------------------------------------------------------- run and compare

# mostly sensible sizes, sometimes hostile ones
sensible = st.integers(1, 4)
hostile = st.integers(-1, 9) | st.sampled_from([0, 2**40, "2 * 2", "same", "valid", 1.5, True, [2, 3], [[0, 1], [2, 0]]] + HUGE)
small = st.one_of(sensible, sensible, sensible, hostile)
LAYER_KINDS = ["conv2d", "depthwise_conv2d", "dense", "max_pool", "avg_pool", "global_avg_pool", "flatten",
               "batch_norm", "activation", "dropout", "zero_pad", "adaptive_avg_pool", "softmax", "add", "concat"]


@st.composite
def small_layers(draw):
    """A random chain of layers whose attributes are mostly sensible, sometimes extreme."""
    from flopcount.layers import REGISTRY, REQUIRED

    layers = []
    for i in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(LAYER_KINDS))
        layer = {"type": kind, "name": f"l{i}"}
        for attr in REGISTRY[kind].attrs:
            required = attr.default is REQUIRED
            if draw(st.integers(0, 9)) >= (9 if required else 5):
                continue  # left out: its default, or (rarely) a missing required attribute
            if attr.kind == "choice":
                layer[attr.name] = draw(st.sampled_from(attr.choices))
            elif attr.kind in ("size", "sizes", "count", "pad_amount", "padding", "axis"):
                layer[attr.name] = draw(small)
            elif attr.kind == "bool":
                layer[attr.name] = draw(st.booleans())
        if kind in ("add", "concat"):
            layer["inputs"] = [f"l{i - 1}" if i else "input", draw(st.sampled_from(["input"] + [f"l{j}" for j in range(i)]))]
        layers.append(layer)
    return layers


seeds = st.sampled_from(["0", "1", "12345", str(2**70)] + ODD)
memories = st.sampled_from(["256MiB", "256MiB", "64 M", "300000000", "0", "1k", "16777217T"] + ODD)


@settings(max_examples=max(EXAMPLES // 3, 30), deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(small_layers(), st.sampled_from([[6, 6, 2], [9, 7, 3], [5], [1, 1, 1], [10**9, 10**9, 3]]),
       st.one_of(st.just("256MiB"), st.just("256MiB"), memories), st.one_of(st.just("0"), st.just("0"), seeds),
       st.sampled_from(["json", "table"]))
def test_run_agrees_with_the_analysis_or_refuses(fuzz_dir, cli, layers, shape, memory, seed, fmt):
    path = fuzz_dir / "run.json"
    path.write_text(json.dumps({"name": "fuzz", "input": shape, "layers": layers}))
    result = cli("run", path, "--quiet", "--max-memory", memory, "--seed", seed, "--format", fmt)
    event(f"exit {result.exit_code}")
    # 1 would mean the runner and the analyzer disagree on a valid spec: never acceptable
    assert_clean_exit(result, codes=(0, 2))
    if fmt == "json" and result.exit_code == 0:
        json.loads(result.output)


sizes = st.sampled_from([None, -3, 0, 1, 2, 3, 4, 7, 64, 10**6, 10**12])


@settings(max_examples=max(EXAMPLES // 3, 30), deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(st.sampled_from(["standard", "depthwise", "3x3x2", "5x5", "3x3x3", "7x7", "basic", "bottleneck",
                        "inverted_residual", "nonsense", "vgg16"]),
       st.sampled_from(["standard", "depthwise", "5x5", "bottleneck", "inverted_residual"]),
       st.fixed_dictionaries({}, optional={"--M": sizes, "--N": sizes, "--DK": sizes, "--DF": sizes,
                                           "--stride": sizes, "--C": sizes, "--t": sizes}),
       st.booleans())
def test_compare_ends_in_a_verdict_or_a_clean_error(cli, a, b, options, bias):
    args = ["compare", a, b, "--no-run"] + [str(x) for k, v in options.items() if v is not None for x in (k, v)]
    result = cli(*args + (["--bias"] if bias else []))
    assert result.exit_code in (0, 1, 2)
    if result.exit_code == 2:
        assert "Traceback" not in result.output and result.output.count("\n") <= 3
