"""Memory from shapes alone: per-layer activations and weights, the liveness peak, batch and data types."""

import csv
import io
import json
from pathlib import Path

import pytest

from flopcount import analyze
from flopcount.memory import estimate_memory
from flopcount.runner import run_graph

TINY = Path(__file__).parent / "data" / "tiny.json"
VGG16_PARAMS = 138_357_544  # torchvision's and Keras' VGG16
VGG16_MACS = 15_470_264_320


def test_vgg16_weights_and_peak_activations():
    m = estimate_memory(analyze("vgg16"))
    assert m.weights == 4 * VGG16_PARAMS
    # the first ReLU runs with conv1_1's output and its own alive: 2 x 224 x 224 x 64 float32
    # (conv1_2 later holds the same two maps, so the first layer to reach the peak is named)
    assert m.peak == 2 * 224 * 224 * 64 * 4
    assert analyze("vgg16").nodes[m.peak_index].name == "conv1_1/relu"
    assert m.total == 4 * VGG16_PARAMS + 2 * 224 * 224 * 64 * 4
    assert (m.layers[1].elements, m.layers[1].activation) == (224 * 224 * 64, 224 * 224 * 64 * 4)


def test_batch_scales_activations_not_weights_and_dtypes_apart():
    m = estimate_memory(analyze("vgg16"), batch=8, weights="int8", activations="float16")
    assert m.weights == VGG16_PARAMS
    assert m.peak == 8 * 2 * 224 * 224 * 64 * 2
    assert m.as_dict()["total_bytes"] == VGG16_PARAMS + 8 * 2 * 224 * 224 * 64 * 2


def test_branching_liveness_keeps_a_shortcut_until_its_add():
    # tiny: stem (8, 8, 8) is read again by stage_1/add, so while stage_1/bn runs three 512-element maps live
    graph = analyze(TINY)
    m = estimate_memory(graph)
    assert [layer.live for layer in m.layers[:5]] == [4 * 768, 4 * (768 + 512), 4 * 2 * 512, 4 * 3 * 512, 4 * 3 * 512]
    assert m.peak == 4 * 3 * 512 and graph.nodes[m.peak_index].name == "stage_1/bn"


def test_run_measures_the_same_activation_peak():
    graph = analyze(TINY)
    result = run_graph(graph, batch=3)
    assert result.activation_peak == result.activation_estimate == 3 * 4 * 3 * 512


def test_llama2_kv_cache_of_4096_positions_is_2_gib_in_float16():
    # 32 layers x keys and values x 4096 positions x 32 heads x 128 wide x 2 bytes
    m = estimate_memory(analyze("llama2_7b", {"cache": "4095"}), weights="float16", activations="float16")
    assert m.cache == 32 * 2 * 4096 * 32 * 128 * 2 == 2**31
    assert estimate_memory(analyze("llama2_7b")).cache == 0  # no cache, no cache memory


def test_analyze_json_carries_memory_and_batch_as_exact_integers(cli):
    data = json.loads(cli("analyze", "vgg16", "--format", "json", "--batch", "8", "--dtype", "float16").output)
    assert data["batch"] == 8
    assert data["totals"]["macs"] == 8 * VGG16_MACS and data["totals"]["params"] == VGG16_PARAMS
    assert data["memory"] == {
        "batch": 8,
        "weight_dtype": "float16",
        "activation_dtype": "float16",
        "weight_bytes": 2 * VGG16_PARAMS,
        "peak_activation_bytes": 8 * 2 * 224 * 224 * 64 * 2,
        "peak_layer": 2,
        "kv_cache_bytes": 0,
        "total_bytes": 2 * VGG16_PARAMS + 8 * 2 * 224 * 224 * 64 * 2,
    }
    conv = data["layers"][1]
    assert (conv["activation_elements"], conv["activation_bytes"], conv["weight_bytes"]) == (
        8 * 224 * 224 * 64,
        8 * 224 * 224 * 64 * 2,
        2 * (3 * 3 * 3 * 64 + 64),
    )
    assert sum(layer["macs"] for layer in data["layers"]) == 8 * VGG16_MACS


def test_csv_memory_columns_sum_to_the_totals(cli):
    rows = list(
        csv.DictReader(io.StringIO(cli("analyze", "vgg16", "--format", "csv", "--weight-dtype", "int8").output))
    )
    assert sum(int(r["weight_bytes"]) for r in rows) == VGG16_PARAMS
    assert rows[1]["activation_bytes"] == str(224 * 224 * 64 * 4)


def test_table_shows_memory_totals_and_columns_on_request(cli):
    out = cli("analyze", TINY, "--memory", env={"COLUMNS": "200"}).output
    assert "output mem" in out and "live mem" in out
    assert "Peak activations (float32, at 'stage_1/bn')" in out and "6,144" in out
    assert "Memory at inference" in out


def test_a_bad_dtype_is_exit_2(cli):
    result = cli("analyze", TINY, "--dtype", "float64")
    assert result.exit_code == 2 and "float64" in result.output


def test_a_bad_batch_in_the_library_is_a_spec_error():
    from flopcount import SpecError

    with pytest.raises(SpecError, match="batch"):
        estimate_memory(analyze(TINY), batch=0)


def test_a_convention_counts_one_sample_so_batch_stays_1(cli):
    result = cli("analyze", TINY, "--convention", "fvcore", "--batch", "2")
    assert result.exit_code == 2 and "leave --batch at 1" in result.output
