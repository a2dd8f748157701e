"""Property-based fuzzing: any input ends in success or in flopcount's own error, exit status 2.

Random JSON, bytes and mutated reference specs test that nothing escapes; random *valid*
graphs (``valid_specs``, at least 100 per run) must analyse, render and run with the runner
agreeing on every layer's shape, parameters and MACs. A new layer type belongs in
``valid_specs`` too.

CI runs a bounded number of examples. A long local session (about 120,000 examples with the
random names of test_output.py and the expression properties of test_expr.py; see the README):

    FLOPCOUNT_FUZZ_EXAMPLES=12000 python -m pytest tests/test_fuzz.py tests/test_output.py tests/test_expr.py -q
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
SPECS = {
    p.stem: json.loads(p.read_text())
    for p in sorted((Path(__file__).parent.parent / "flopcount" / "specs").glob("*.json"))
}

scalars = st.none() | st.booleans() | st.integers(-(10**12), 10**12) | st.floats() | st.text(max_size=12)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=30,
)
# numbers past every bound: the 10^15 limit, 64 bits, a float's range, str()'s 4300 digits
HUGE = [
    10**15,
    10**16,
    2**63,
    2**70,
    10**400,
    "10**400 / 3",
    "1e5000",
    "1e99999999",
    "round(1, 10**9)",
    "round(2, 0.5)",
]
# values chosen to hit edges: zero, negatives, huge sizes, wrong types, expressions, reserved names
edges = st.sampled_from(
    [
        0,
        -1,
        1,
        2,
        3,
        7,
        10**12,
        1.5,
        1e300,
        True,
        False,
        None,
        "",
        "x",
        "same",
        "valid",
        "1/0",
        "2**10000",
        "i",
        "in",
        "input",
        "relu",
        "alpha * 3",
        "__import__('os')",
        [],
        {},
        [1, 2],
        [3, 3, 3],
        [[0, 1], [1, 0]],
        [-1, 2],
        {"type": "flatten"},
        [10**15] * 8,
        [1] * 9,
    ]
    + HUGE
)
FORMATS = st.sampled_from(["table", "json", "csv", "markdown"])
keys = st.sampled_from(
    [
        "type",
        "inputs",
        "repeat",
        "name",
        "block",
        "stride",
        "kernel",
        "filters",
        "padding",
        "groups",
        "units",
        "when",
        "layers",
        "params",
        "variables",
        "input",
        "zzz",
    ]
)


def render(graph, fmt: str, by=None) -> str:
    """The analysis as the CLI would print it in fmt (a table into a string console)."""
    from rich.console import Console

    from flopcount import render, report

    if fmt == "table":
        out = Console(file=io.StringIO(), width=120, highlight=False, markup=False)
        render.to_console(report.analysis_blocks(graph, by, flops=True), out)
        return out.file.getvalue()
    if fmt == "json":
        return report.to_json(graph, by)
    if fmt == "csv":
        return render.to_csv(report.csv_table(graph, by))
    return render.to_markdown(report.analysis_blocks(graph, by, flops=True))


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


def containers(doc) -> list:
    """Every dict and list in a JSON document, itself included."""
    out, stack = [], [doc]
    while stack:
        x = stack.pop()
        if isinstance(x, (dict, list)):
            out.append(x)
            stack.extend(x.values() if isinstance(x, dict) else x)
    return out


def mutate(doc, rnd: random.Random, draw):
    """Apply 1-4 random edits: delete a key or item, replace a value, add a key, shuffle a list."""
    doc = json.loads(json.dumps(doc))
    for _ in range(rnd.randint(1, 4)):
        node = rnd.choice(containers(doc))
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
@given(
    st.deferred(lambda: valid_specs()),
    st.integers(0, 6) | edges | json_values,
    st.randoms(use_true_random=False),
    FORMATS,
)
def test_random_json_spliced_into_valid_specs(spec, value, rnd, fmt):
    # one random value in one random place of a valid spec: some still analyse and render, the rest are refused
    analyze_any(splice(spec, value, rnd), fmt)


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes(data):
    analyze_any(data)


@FUZZ
@given(
    st.sampled_from(sorted(SPECS)),
    st.randoms(use_true_random=False),
    st.data(),
    FORMATS,
    st.sampled_from([None, "type", "block"]),
)
def test_mutated_reference_specs(name, rnd, data, fmt, by):
    analyze_any(mutate(SPECS[name], rnd, data.draw), fmt, by)


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


# option values a user might type, or mistype: sensible ones, negatives, thousands of digits, words
ODD = ["", " ", "-1", "x", "1.5", "1e5000", "9" * 5000, "0." + "0" * 5000 + "1", "2**70", "nan", "inf", "%"]
tolerances = st.sampled_from(["0%", "0.5%", "5", "99.99%", "100%", "-1%", "1e-400%", "1e99999999%"] + ODD) | st.text(
    max_size=8
)


@settings(max_examples=max(EXAMPLES // 5, 20), deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(
    st.sampled_from(sorted(SPECS)), st.randoms(use_true_random=False), st.data(), st.sampled_from(["analyze", "check"])
)
def test_commands_exit_0_1_or_2_without_traceback(fuzz_dir, cli, name, rnd, data, command):
    path = fuzz_dir / "spec.json"
    path.write_text(json.dumps(mutate(SPECS[name], rnd, data.draw)))
    args = [command, path, "--max-layers", "2000"]
    if command == "analyze":
        fmt = data.draw(FORMATS)
        args += ["--format", fmt] + data.draw(
            st.sampled_from([[], ["--flops"], ["--by", "type"], ["--by", "block", "--flops"]])
        )
    else:
        fmt = data.draw(st.sampled_from(["table", "json", "markdown", "junit"]))
        args += ["--format", fmt, "--tolerance", data.draw(tolerances)]
    result = cli(*args)
    assert_clean_exit(result)
    if fmt == "json" and result.exit_code in (0, 1):
        json.loads(result.stdout)  # warnings go to stderr


# ---------------------------------------------------------------- run and compare

# mostly sensible sizes, sometimes hostile ones
sensible = st.integers(1, 4)
hostile = st.integers(-1, 9) | st.sampled_from(
    [0, 2**40, "2 * 2", "same", "valid", 1.5, True, [2, 3], [[0, 1], [2, 0]]] + HUGE
)
small = st.one_of(sensible, sensible, sensible, hostile)
LAYER_KINDS = [
    "conv2d",
    "depthwise_conv2d",
    "dense",
    "max_pool",
    "avg_pool",
    "global_avg_pool",
    "flatten",
    "batch_norm",
    "activation",
    "dropout",
    "zero_pad",
    "adaptive_avg_pool",
    "softmax",
    "add",
    "concat",
]


@st.composite
def small_layers(draw):
    """A random chain of layers whose attributes are mostly sensible, sometimes extreme."""
    from flopcount.layers import REGISTRY, REQUIRED, Bool, Choice, Integer, PadAmount, Padding, Sizes

    layers = []
    for i in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(LAYER_KINDS))
        layer = {"type": kind, "name": f"l{i}"}
        for attr in REGISTRY[kind].attrs:
            required = attr.default is REQUIRED
            if draw(st.integers(0, 9)) >= (9 if required else 5):
                continue  # left out: its default, or (rarely) a missing required attribute
            if isinstance(attr.kind, Choice):
                layer[attr.name] = draw(st.sampled_from(attr.choices))
            elif isinstance(attr.kind, (Integer, Sizes, PadAmount, Padding)):
                layer[attr.name] = draw(small)
            elif isinstance(attr.kind, Bool):
                layer[attr.name] = draw(st.booleans())
        if kind in ("add", "concat"):
            layer["inputs"] = [
                f"l{i - 1}" if i else "input",
                draw(st.sampled_from(["input"] + [f"l{j}" for j in range(i)])),
            ]
        layers.append(layer)
    return layers


# ---------------------------------------------------------------- random valid graphs

ACTIVATION_FNS = [
    "relu",
    "relu6",
    "leaky_relu",
    "elu",
    "sigmoid",
    "hard_sigmoid",
    "tanh",
    "swish",
    "hard_swish",
    "gelu",
    "linear",
]


def _window(draw, hw, with_dilation):
    """Kernel, stride, dilation and padding that fit an (H, W) map; padding 'same', 'valid' or explicit."""
    padding = draw(st.sampled_from(["same", "valid", "explicit"]))
    stride = [draw(st.integers(1, 3)) for _ in hw]
    dilation = [draw(st.integers(1, 2)) if with_dilation else 1 for _ in hw]
    pads = [(draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in hw] if padding == "explicit" else [(0, 0)] * 2
    kernel = []
    for size, d, (a, b) in zip(hw, dilation, pads):
        room = size + a + b if padding != "same" else 10**6  # 'same' pads to fit any window
        fits = [k for k in (1, 2, 3) if d * (k - 1) + 1 <= room]
        kernel.append(draw(st.sampled_from(fits)) if fits else 1)
    return kernel, stride, dilation, (padding if padding != "explicit" else [list(p) for p in pads]), pads


def _pool_window(draw, hw):
    """Pool size, stride and padding that fit, with padding smaller than the window."""
    pool = [draw(st.integers(1, min(3, n))) for n in hw]
    stride = [draw(st.integers(1, 3)) for _ in hw]
    padding = draw(st.sampled_from(["same", "valid", "explicit"]))
    if padding == "explicit":
        padding = [[draw(st.integers(0, k - 1)), draw(st.integers(0, k - 1))] for k in pool]
    return pool, stride, padding


def _divisors(n):
    return [d for d in range(1, n + 1) if n % d == 0]


@st.composite
def valid_specs(draw, max_layers=7):
    """A random small graph that passes validation: each layer is drawn to fit the shape it reads.

    Chains with branches: a layer reads the previous one or, now and then, any earlier one;
    add and concat join layers whose shapes allow it. Sizes stay small so a run takes milliseconds.
    """
    if draw(st.integers(0, 3)):
        shapes = {"input": (draw(st.integers(1, 9)), draw(st.integers(1, 9)), draw(st.integers(1, 4)))}
    else:
        shapes = {"input": (draw(st.integers(1, 12)),)}
    layers, last = [], "input"
    for i in range(draw(st.integers(1, max_layers))):
        name = f"l{i}"
        source = last if draw(st.integers(0, 3)) else draw(st.sampled_from(sorted(shapes)))
        s = shapes[source]
        image = len(s) == 3
        kinds = ["dense", "batch_norm", "activation", "dropout", "softmax", "add", "concat"]
        if image:
            kinds += [
                "conv2d",
                "conv2d",
                "depthwise_conv2d",
                "max_pool",
                "avg_pool",
                "global_avg_pool",
                "global_max_pool",
                "adaptive_avg_pool",
                "flatten",
                "zero_pad",
            ]
        kind = draw(st.sampled_from(kinds))
        layer = {"name": name, "type": kind, "inputs": source}
        if kind == "conv2d":
            kernel, stride, dilation, padding, _ = _window(draw, s[:2], True)
            groups = draw(st.sampled_from(_divisors(s[2])))
            layer.update(
                filters=groups * draw(st.integers(1, 3)),
                kernel=kernel,
                stride=stride,
                dilation=dilation,
                padding=padding,
                groups=groups,
                bias=draw(st.booleans()),
            )
        elif kind == "depthwise_conv2d":
            kernel, stride, dilation, padding, _ = _window(draw, s[:2], True)
            layer.update(
                kernel=kernel,
                stride=stride,
                dilation=dilation,
                padding=padding,
                multiplier=draw(st.integers(1, 2)),
                bias=draw(st.booleans()),
            )
        elif kind in ("max_pool", "avg_pool"):
            pool, stride, padding = _pool_window(draw, s[:2])
            layer.update(pool=pool, padding=padding, **({"stride": stride} if draw(st.booleans()) else {}))
        elif kind == "adaptive_avg_pool":
            layer["size"] = [draw(st.integers(1, n)) for n in s[:2]]
        elif kind == "zero_pad":
            layer["padding"] = [[draw(st.integers(0, 2)), draw(st.integers(0, 2))] for _ in range(2)]
        elif kind == "dense":
            layer.update(units=draw(st.integers(1, 6)), bias=draw(st.booleans()))
        elif kind == "batch_norm":
            layer.update(center=draw(st.booleans()), scale=draw(st.booleans()))
        elif kind == "activation":
            layer["fn"] = draw(st.sampled_from(ACTIVATION_FNS))
            if layer["fn"] in ("leaky_relu", "elu") and draw(st.booleans()):
                layer["alpha"] = draw(st.sampled_from([0.1, 0.2, "1/3", 1]))
        elif kind == "dropout":
            layer["rate"] = draw(st.sampled_from([0, 0.1, 0.5]))
        elif kind in ("add", "concat"):
            if kind == "add":
                partners = [n for n, t in shapes.items() if t == s and n != source]
            else:
                partners = [n for n, t in shapes.items() if len(t) == len(s) and t[:-1] == s[:-1] and n != source]
            if not partners:
                # nothing to join yet: a parallel branch of the same shape to join with
                shapes[f"{name}_branch"] = s
                layers.append({"name": f"{name}_branch", "type": "activation", "fn": "relu", "inputs": source})
                partners = [f"{name}_branch"]
            layer["inputs"] = [source] + draw(st.lists(st.sampled_from(partners), min_size=1, max_size=2, unique=True))
        layers.append(layer)
        shapes[name] = _shape_of(layers, shapes["input"], name)
        last = name
    return {"name": "random", "input": list(shapes["input"]), "layers": layers}


def _shape_of(layers, input_shape, name):
    """The shape flopcount infers for a layer of a spec built so far."""
    graph = build_graph(parse_spec({"name": "partial", "input": list(input_shape), "layers": layers}))
    return next(n.shape for n in graph.nodes if n.name == name)


GRAPHS = max(EXAMPLES, 100)  # random valid graphs per run through analyzer and runner


@settings(max_examples=GRAPHS, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(valid_specs(), st.integers(1, 3), st.integers(0, 2**32))
def test_random_valid_graphs_run_and_agree(spec, batch, seed):
    from flopcount.runner import run_graph

    graph = build_graph(parse_spec(spec))
    result = run_graph(graph, batch=batch, seed=seed, max_memory=None)
    assert result.ok, [
        (r.name, r.type, r.error, r.shape, r.expected_shape, r.params, r.expected_params, r.macs, r.expected_macs)
        for r in result.mismatches
    ]
    data = json.loads(render(graph, "json"))
    assert data["totals"] == graph.totals.as_dict()
    assert len(data["layers"]) == len(graph.nodes) == len(spec["layers"]) + 1


def splice(doc, value, rnd: random.Random):
    """doc with value put in one random place: replacing a value or an item, or under a new or existing key."""
    doc = json.loads(json.dumps(doc))
    node = rnd.choice(containers(doc))
    if isinstance(node, dict):
        node[rnd.choice(list(node) + ["zzz"])] = value
    elif node:
        node[rnd.randrange(len(node))] = value
    return doc


seeds = st.sampled_from(["0", "1", "12345", str(2**70)] + ODD)
memories = st.sampled_from(["256MiB", "256MiB", "64 M", "300000000", "0", "1k", "16777217T"] + ODD)


@settings(max_examples=max(EXAMPLES // 3, 30), deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(
    small_layers(),
    st.sampled_from([[6, 6, 2], [9, 7, 3], [5], [1, 1, 1], [10**9, 10**9, 3]]),
    st.one_of(st.just("256MiB"), st.just("256MiB"), memories),
    st.one_of(st.just("0"), st.just("0"), seeds),
    st.sampled_from(["json", "table"]),
)
def test_run_agrees_with_the_analysis_or_refuses(fuzz_dir, cli, layers, shape, memory, seed, fmt):
    path = fuzz_dir / "run.json"
    path.write_text(json.dumps({"name": "fuzz", "input": shape, "layers": layers}))
    result = cli("run", path, "--quiet", "--max-memory", memory, "--seed", seed, "--format", fmt)
    event(f"exit {result.exit_code}")
    # 1 would mean the runner and the analyzer disagree on a valid spec: never acceptable
    assert_clean_exit(result, codes=(0, 2))
    if fmt == "json" and result.exit_code == 0:
        json.loads(result.stdout)  # warnings go to stderr


sizes = st.sampled_from([None, -3, 0, 1, 2, 3, 4, 7, 64, 10**6, 10**12])


@settings(max_examples=max(EXAMPLES // 3, 30), deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(
    st.sampled_from(
        [
            "standard",
            "depthwise",
            "3x3x2",
            "5x5",
            "3x3x3",
            "7x7",
            "basic",
            "bottleneck",
            "inverted_residual",
            "nonsense",
            "vgg16",
        ]
    ),
    st.sampled_from(["standard", "depthwise", "5x5", "bottleneck", "inverted_residual"]),
    st.fixed_dictionaries(
        {},
        optional={
            "--M": sizes,
            "--N": sizes,
            "--DK": sizes,
            "--DF": sizes,
            "--stride": sizes,
            "--C": sizes,
            "--t": sizes,
        },
    ),
    st.booleans(),
)
def test_compare_ends_in_a_verdict_or_a_clean_error(cli, a, b, options, bias):
    args = ["compare", a, b, "--no-run"] + [str(x) for k, v in options.items() if v is not None for x in (k, v)]
    result = cli(*args + (["--bias"] if bias else []))
    assert result.exit_code in (0, 1, 2)
    if result.exit_code == 2:
        assert "Traceback" not in result.output and result.output.count("\n") <= 3


# ---------------------------------------------------------------- files, options and baselines under fire

FILES = [
    "spec",
    "bundled",
    "missing",
    "folder",
    "fifo",
    "dev-zero",
    "empty",
    "oversize",
    "long-name",
    "baseline",
    "glob",
]


@pytest.fixture(scope="module")
def odd_files(tmp_path_factory):
    """A path of every kind a user could give as a spec or a baseline."""
    from flopcount.baseline import dump_baseline
    from flopcount.files import MAX_FILE_BYTES

    folder = tmp_path_factory.mktemp("odd")
    spec = {
        "name": "t",
        "input": [4],
        "variables": {"w": 3},
        "layers": [{"name": "fc", "type": "dense", "units": "w"}],
        "expect": {"params": 15, "macs": 12},
    }
    (folder / "spec.json").write_text(json.dumps(spec))
    (folder / "empty.json").write_text("")
    (folder / "base.json").write_text(dump_baseline({}))
    (folder / "dir").mkdir()
    os.mkfifo(folder / "fifo.json")
    with open(folder / "oversize.json", "wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)
    return {
        "spec": folder / "spec.json",
        "bundled": "resnet18",
        "missing": folder / "nothing.json",
        "folder": folder / "dir",
        "fifo": folder / "fifo.json",
        "dev-zero": "/dev/zero",
        "empty": folder / "empty.json",
        "oversize": folder / "oversize.json",
        "long-name": folder / ("n" * 300 + ".json"),
        "baseline": folder / "base.json",
        "glob": f"{folder}/s*.json",
    }


def hang_guard(seconds=60):
    """Turn a hang (a FIFO read, an unbounded loop) into a failure instead of a stuck session."""
    import signal

    def stuck(*_):
        raise AssertionError(f"no answer within {seconds} s")

    signal.signal(signal.SIGALRM, stuck)
    signal.alarm(seconds)


sets = st.sampled_from(
    ["w=4", "w=0", "w=1/3", "w=10**400", "w=w", "w=", "=4", "nope=1", "w=1 +", "w=\x1b[2J"]
) | st.text(max_size=12)
option_values = {
    "--max-memory": st.sampled_from(["4GiB", "1k", "0"] + ODD),
    "--max-layers": st.sampled_from(["1", "2", "0", "-1", "x", "9" * 40]),
    "--tolerance": tolerances,
    "--seed": st.sampled_from(["0", "7"] + ODD),
    "--batch": st.sampled_from(["1", "2", "0", "-1", "x"]),
}
COMMAND_OPTIONS = {
    "analyze": ["--max-layers", "--max-memory"],
    "run": ["--max-memory", "--max-layers", "--seed", "--batch"],
    "check": ["--max-layers", "--tolerance"],
}


@settings(max_examples=max(EXAMPLES // 5, 20), deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(
    st.sampled_from(sorted(COMMAND_OPTIONS)),
    st.sampled_from(FILES),
    st.data(),
    st.lists(sets, max_size=2),
    st.one_of(st.none(), st.sampled_from(FILES)),
    st.booleans(),
)
def test_random_files_and_option_values_end_in_one_line_or_a_result(
    odd_files, cli, command, spec_kind, data, overrides, baseline_kind, update
):
    """Every file kind as SPEC (and as --baseline), random values for every option: exit 0, 1 or 2, never a hang."""
    args = [command, odd_files[spec_kind]]
    for option in COMMAND_OPTIONS[command]:
        if data.draw(st.booleans()):
            args += [option, data.draw(option_values[option])]
    for pair in overrides:
        args += ["--set", pair]
    if command == "analyze" and data.draw(st.booleans()):
        args.append("--verify")
    if command == "run":
        args.append("--quiet")
    if command == "check" and baseline_kind is not None:
        args += ["--baseline", odd_files[baseline_kind]] + (
            ["--update"] if update and baseline_kind == "baseline" else []
        )
    hang_guard()
    try:
        result = cli(*args)
    finally:
        import signal

        signal.alarm(0)
    event(f"{command} exit {result.exit_code}")
    assert_clean_exit(result)


@settings(max_examples=max(EXAMPLES // 25, 10), deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(
    st.lists(st.integers(1, 40), min_size=2, max_size=6),
    st.integers(2, 4),
    st.randoms(use_true_random=False),
    st.sampled_from(["none", "empty", "baseline", "link"]),
)
def test_concurrent_baseline_updates_keep_every_entry(tmp_path_factory, units, workers, rnd, start):
    """Workers update one baseline at the same moment, each with its own specs (sometimes two at two settings).

    Without the lock each wrote what it had read at its start plus its own: entries of the others were lost.
    """
    import threading

    from flopcount.baseline import dump_baseline, read_baseline
    from flopcount.check import run_check

    folder = tmp_path_factory.mktemp("concurrent")
    names = []
    for k, n in enumerate(units):
        # params 4 * n + n, MACs 4 * n; a second setting doubles the units
        spec = {
            "name": f"s{k}",
            "input": [4],
            "variables": {"n": n},
            "layers": [{"name": "fc", "type": "dense", "units": "n"}],
        }
        (folder / f"s{k}.json").write_text(json.dumps(spec))
        names.append(f"s{k}.json")
    baseline = folder / "base.json"
    target = baseline
    if start == "empty":
        baseline.write_text("")
    elif start == "baseline":
        baseline.write_text(dump_baseline({}))
    elif start == "link":
        target = folder / "kept" / "real.json"
        target.parent.mkdir()
        baseline.symlink_to(target)
    rnd.shuffle(names)
    groups = [group for group in (names[i::workers] for i in range(workers)) if group]
    doubled = {name for name in names if rnd.random() < 0.3}
    barrier = threading.Barrier(len(groups), timeout=60)
    errors = []

    def update(group):
        try:
            barrier.wait()
            run_check([folder / g for g in group], baseline=baseline, update=True)
            for name in (g for g in group if g in doubled):
                n = units[int(name[1:-5])]
                run_check([folder / name], baseline=baseline, update=True, overrides={"n": str(2 * n)})
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=update, args=(g,), daemon=True) for g in groups]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and not any(t.is_alive() for t in threads)
    recorded = read_baseline(target)
    expected = {name: 5 * units[int(name[1:-5])] for name in names}
    expected.update({f"{name} [n={2 * units[int(name[1:-5])]}]": 10 * units[int(name[1:-5])] for name in doubled})
    assert {key: entry["totals"]["params"] for key, entry in recorded.items()} == expected
    assert baseline.is_symlink() == (start == "link")
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) == []  # no temporary left


blocks = st.sampled_from(
    ["standard", "depthwise", "3x3x2", "5x5", "3x3x3", "7x7", "basic", "bottleneck", "inverted_residual"]
)
channels = st.one_of(st.none(), st.integers(1, 12), st.sampled_from([4, 8, 16]))


@settings(max_examples=max(EXAMPLES // 20, 10), deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(
    blocks,
    blocks,
    channels,
    channels,
    channels,
    st.integers(1, 25),
    st.integers(1, 80),
    st.integers(1, 4),
    st.integers(1, 6),
    st.booleans(),
)
def test_compare_with_execution_agrees_or_refuses_within_its_budgets(cli, a, b, M, N, C, DK, DF, stride, t, bias):
    """Both sides run and their receptive fields are probed (within the MAC budgets): no check may fail (exit 1)."""
    import time

    args = ["compare", a, b, "--DK", DK, "--DF", DF, "--stride", stride, "--t", t, "--format", "json"]
    for flag, value in (("--M", M), ("--N", N), ("--C", C)):
        if value is not None:
            args += [flag, value]
    start = time.perf_counter()
    hang_guard(120)
    try:
        result = cli(*args + (["--bias"] if bias else []))
    finally:
        import signal

        signal.alarm(0)
    event(f"exit {result.exit_code}")
    assert_clean_exit(result, codes=(0, 2))
    assert time.perf_counter() - start < 60
    if result.exit_code == 0:
        data = json.loads(result.stdout)  # warnings go to stderr
        assert data["ok"] and all(v is not False for v in data["verdicts"].values())
