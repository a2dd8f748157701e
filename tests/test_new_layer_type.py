"""A layer type is one class: a toy type, defined in a temporary module, goes through every command."""

import importlib.util
import json
import sys

import jsonschema
import pytest

from flopcount import build_graph, parse_spec
from flopcount.layers import FREE, REGISTRY
from flopcount.runner import BASE_BYTES, Weights, estimate_peak, run_graph
from flopcount.schema import spec_schema

TOY = """
from math import prod

from flopcount.layers import POSITIVE, Attr, Layer, Weight, register


@register("toy_mix")
class ToyMix(Layer):
    doc = "Mixes channels with a kernel, then scales each unit by a positive gain."
    attrs = (Attr("units", "size", doc="output channels"),)

    def output_shape(self, shapes):
        return (*shapes[0][:-1], self.units)

    def weights(self, shapes):
        return {"mix": Weight((shapes[0][-1], self.units)),
                "gain": Weight((self.units,), trainable=False, init=POSITIVE)}

    def macs(self, shapes, out):
        # (..., C) -> (..., units): every output sums C products
        return prod(out) * shapes[0][-1]

    def other_ops(self, shapes, out):
        return prod(out)  # the gain

    def scratch(self, shapes, out, batch, k):
        return {"toy_staging": k.ITEMSIZE * batch * prod(shapes[0])}

    def forward(self, xs, w, k):
        staged = k.scratch("toy_staging", xs[0].shape)
        staged[...] = xs[0]
        out = k.dense(staged, w["mix"], None)
        out *= w["gain"]
        return out
"""

SPEC = {
    "name": "toy",
    "input": [4, 4, 3],
    "layers": [{"type": "toy_mix", "units": 5, "name": "mix"}],
    # 3 x 5 mixing weights and 5 gains; 4 x 4 x 5 outputs of 3 products each
    "expect": {"params": 3 * 5 + 5, "macs": 4 * 4 * 5 * 3},
}


@pytest.fixture
def toy_type(tmp_path):
    path = tmp_path / "toy_layers.py"
    path.write_text(TOY)
    module_spec = importlib.util.spec_from_file_location("toy_layers", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    yield REGISTRY["toy_mix"]
    REGISTRY.pop("toy_mix", None)
    FREE.discard("toy_mix")
    sys.modules.pop("toy_layers", None)


def test_analyze_counts_the_toy_from_its_declared_weights(toy_type):
    node = build_graph(parse_spec(SPEC)).nodes[-1]
    assert (node.shape, node.trainable, node.non_trainable) == ((4, 4, 5), 3 * 5, 5)
    assert (node.macs, node.other_ops) == (4 * 4 * 5 * 3, 4 * 4 * 5)


def test_run_fills_weights_by_their_declared_init_and_agrees(toy_type):
    graph = build_graph(parse_spec(SPEC))
    gain = Weights(graph.nodes[-1], seed=0)["gain"]
    assert gain.shape == (5,) and (gain >= 0.5).all() and (gain < 1.5).all()  # POSITIVE: [0.5, 1.5)
    result = run_graph(graph, batch=2)
    assert result.ok, [(r.name, r.error) for r in result.mismatches]
    assert result.layers[-1].metered_macs == 2 * 4 * 4 * 5 * 3


def test_memory_estimate_counts_the_scratch_the_toy_states(toy_type):
    peak, where = estimate_peak(build_graph(parse_spec(SPEC)), batch=2)
    live_input, out, weights, staging = 2 * 4 * 4 * 3, 2 * 4 * 4 * 5, 3 * 5 + 5, 2 * 4 * 4 * 3
    assert where.name == "mix"
    assert peak == BASE_BYTES + 4 * (live_input + 2 * out + weights + staging)


def test_schema_describes_the_toy(toy_type):
    schema = spec_schema()
    toy = schema["$defs"]["layer.toy_mix"]
    assert toy["required"] == ["type", "units"]
    units = schema["$defs"]["attributes.toy_mix"]["properties"]["units"]
    assert units["anyOf"][0]["anyOf"][0] == {"type": "integer", "minimum": 1, "maximum": 10**15}
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid(SPEC)
    assert not validator.is_valid({**SPEC, "layers": [{"type": "toy_mix", "units": 0}]})


def test_every_command_and_table_takes_the_toy(toy_type, cli, write_spec):
    path = write_spec(SPEC)
    table = cli("analyze", path)
    assert table.exit_code == 0 and "toy_mix" in table.output and f"{4 * 4 * 5 * 3:,}" in table.output
    data = json.loads(cli("analyze", path, "--format", "json").output)
    assert data["layers"][-1]["type"] == "toy_mix"
    assert "toy_mix" in cli("analyze", path, "--format", "csv").output
    ran = cli("run", path)
    assert ran.exit_code == 0 and "✓ All 2 layers agree" in ran.output
    assert cli("check", path).exit_code == 0
