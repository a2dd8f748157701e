"""Memory at inference from shapes alone: activations, weights, a key/value cache, and their peak.

Bytes are elements times the size of the chosen data type. Per layer: its output activation
(elements and bytes, times the batch) and its weights (the parameters it owns; shared
weights count at their owner). The peak of activation memory follows the runner's liveness
rule (graph.live_elements): while a layer runs, its output and every earlier output a later
layer still reads are alive; an activation is freed after its last reader. Weights are all
held at once (a deployed model keeps them), so the total is weights + peak activations +
key/value caches. Nothing is allocated and NumPy is not imported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from math import prod

from .errors import spec_error
from .expr import fixed
from .graph import Graph, live_elements

DTYPES = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1}


def itemsize(dtype: str, option: str = "dtype") -> int:
    """Bytes per element of a data type name; a spec error naming the option otherwise."""
    if dtype not in DTYPES:
        raise spec_error(f"must be one of {', '.join(DTYPES)}.", attribute=option, received=dtype)
    return DTYPES[dtype]


@dataclass(frozen=True)
class LayerMemory:
    """One layer's memory in bytes (elements where said), at the batch asked."""

    elements: int  # output activation elements
    activation: int  # output activation bytes
    weights: int  # bytes of the weights this layer owns
    live: int  # bytes of activations alive while it runs, its output included
    cache: int  # bytes of its key/value cache (0 without one)


@dataclass
class Memory:
    """Every layer's memory and the totals: weights, peak activations, caches; bytes, exact."""

    batch: int
    weight_dtype: str
    activation_dtype: str
    layers: list[LayerMemory] = field(default_factory=list)
    weights: int = 0
    peak: int = 0  # activations alive at the worst layer
    peak_index: int = 0  # that layer's index
    cache: int = 0

    @property
    def total(self) -> int:
        return self.weights + self.peak + self.cache

    def as_dict(self) -> dict:
        return {
            "batch": self.batch,
            "weight_dtype": self.weight_dtype,
            "activation_dtype": self.activation_dtype,
            "weight_bytes": self.weights,
            "peak_activation_bytes": self.peak,
            "peak_layer": self.peak_index,
            "kv_cache_bytes": self.cache,
            "total_bytes": self.total,
        }


def estimate_memory(graph: Graph, batch: int = 1, weights: str = "float32", activations: str = "float32") -> Memory:
    """Memory of an inference of batch samples with weights and activations of the given data types."""
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise spec_error("must be a whole number of samples, at least 1.", attribute="batch", received=batch)
    w_size, a_size = itemsize(weights, "weight_dtype"), itemsize(activations, "activation_dtype")
    memory = Memory(batch, weights, activations)
    for node, live in zip(graph.nodes, live_elements(graph)):
        elements = batch * prod(node.shape)
        cache = a_size * batch * node.layer.cache_elements(node.in_shapes)
        layer = LayerMemory(elements, a_size * elements, w_size * node.params, a_size * batch * live, cache)
        memory.layers.append(layer)
        memory.weights += layer.weights
        memory.cache += cache
        if layer.live > memory.peak:
            memory.peak, memory.peak_index = layer.live, node.index
    return memory


def fmt_bytes(n: int) -> str:
    """1610612736 -> '1.50 GiB', in integer arithmetic (no float to overflow)."""
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{fixed(Fraction(n, size))} {unit}"
    return f"{n} B"
