"""Property-based fuzzing: any input ends in success or in flopcount's own error, exit status 2.

CI runs a bounded number of examples. A long local session:

    FLOPCOUNT_FUZZ_EXAMPLES=100000 python -m pytest tests/test_fuzz.py -q
"""

import json
import os
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
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
# values chosen to hit edges: zero, negatives, huge sizes, wrong types, expressions, reserved names
edges = st.sampled_from(
    [0, -1, 1, 2, 3, 7, 10**12, 2**70, 1.5, 1e300, True, False, None, "", "x", "same", "valid", "1/0", "2**10000",
     "i", "in", "input", "relu", "alpha * 3", "__import__('os')", [], {}, [1, 2], [3, 3, 3], [[0, 1], [1, 0]],
     [-1, 2], {"type": "flatten"}]
)
keys = st.sampled_from(["type", "inputs", "repeat", "name", "block", "stride", "kernel", "filters", "padding",
                        "groups", "units", "when", "layers", "params", "variables", "input", "zzz"])


def analyze_any(doc) -> None:
    """Analyze a document; flopcount's own errors are the only acceptable failure."""
    try:
        build_graph(parse_spec(doc, max_layers=2000))
    except FlopcountError:
        pass


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


@FUZZ
@given(st.sampled_from(sorted(SPECS)), st.randoms(use_true_random=False), st.data())
def test_mutated_reference_specs(name, rnd, data):
    analyze_any(mutate(SPECS[name], rnd, data.draw))


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@settings(max_examples=max(EXAMPLES // 5, 20), deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(st.sampled_from(sorted(SPECS)), st.randoms(use_true_random=False), st.data(),
       st.sampled_from(["analyze", "check"]))
def test_commands_exit_0_1_or_2_without_traceback(fuzz_dir, cli, name, rnd, data, command):
    path = fuzz_dir / "spec.json"
    path.write_text(json.dumps(mutate(SPECS[name], rnd, data.draw)))
    args = [command, path, "--max-layers", "2000"] + (["--format", "json"] if command == "analyze" else [])
    result = cli(*args)
    assert result.exit_code in (0, 1, 2)
    if result.exit_code == 2:
        assert result.output.startswith("Error: ") and result.output.count("\n") == 1
