"""Wire a loaded spec into a graph, propagate shapes and compute each node's figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from math import prod

from . import expr
from .errors import FlopcountError, ShapeError, SpecError, spec_error
from .layers import MAX_INTEGER, Layer, Weight, fmt_shape, layer_class
from .spec import Spec


@dataclass
class Node:
    """One layer in the graph with its inferred shape and exact figures."""

    index: int
    name: str
    type: str
    layer: Layer
    inputs: tuple[int, ...]
    in_shapes: tuple[tuple[int, ...], ...]
    shape: tuple[int, ...]
    weights: dict[str, Weight]
    trainable: int
    non_trainable: int
    macs: int
    other_ops: int
    # per spatial axis of the network input (none for a vector input),
    # {jump: (first, last) input position seen from output 0}
    paths: tuple[dict, ...]
    group: str | None = None

    @property
    def rf(self) -> tuple[int, ...]:
        """Receptive field on the input per spatial axis: the extent of what all paths see."""
        return tuple(max(last for _, last in p.values()) - min(first for first, _ in p.values()) + 1 for p in self.paths)

    @property
    def jump(self) -> tuple[int, ...]:
        """Distance on the input between neighbouring outputs (effective stride), per axis."""
        return tuple(max(p) for p in self.paths)

    @property
    def spatial(self) -> bool:
        """Whether the output keeps the input's spatial axes (channels last), so its field can be probed."""
        return bool(self.paths) and len(self.shape) == len(self.paths) + 1

    @property
    def params(self) -> int:
        return self.trainable + self.non_trainable


@dataclass
class Totals:
    trainable: int = 0
    non_trainable: int = 0
    macs: int = 0
    other_ops: int = 0

    @property
    def params(self) -> int:
        return self.trainable + self.non_trainable

    @property
    def flops(self) -> int:
        """FLOPs as 2 x MACs + other element-wise ops."""
        return 2 * self.macs + self.other_ops

    def as_dict(self) -> dict:
        """Every total as an exact integer, for JSON."""
        return {
            "params": self.params,
            "trainable": self.trainable,
            "non_trainable": self.non_trainable,
            "macs": self.macs,
            "other_ops": self.other_ops,
            "flops": self.flops,
        }

    def add(self, node: Node) -> None:
        self.trainable += node.trainable
        self.non_trainable += node.non_trainable
        self.macs += node.macs
        self.other_ops += node.other_ops


@dataclass
class Graph:
    """A spec's layers in topological (file) order with their figures."""

    name: str
    nodes: list[Node]
    spec: Spec
    totals: Totals = field(default_factory=Totals)

    def consumers(self) -> dict[int, list[int]]:
        """For each node index, the indices of the nodes reading its output."""
        out: dict[int, list[int]] = {n.index: [] for n in self.nodes}
        for n in self.nodes:
            for i in n.inputs:
                out[i].append(n.index)
        return out


def build_graph(spec: Spec) -> Graph:
    """Instantiate every layer, check its inputs, and infer shapes and figures in order."""
    index_of = {}
    nodes: list[Node] = []
    totals = Totals()
    for flat in spec.layers:
        try:
            node = _node(flat, index_of, nodes)
        except FlopcountError as err:
            raise err.located(file=spec.file, layer=flat.index, name=flat.name)
        except RecursionError:  # pragma: no cover - defensive
            raise SpecError("the spec is nested too deeply.", file=spec.file, layer=flat.index, name=flat.name)
        index_of[flat.name] = flat.index
        nodes.append(node)
        totals.add(node)
    return Graph(spec.name, nodes, spec, totals)


def _node(flat, index_of, nodes) -> Node:
    cls = layer_class(flat.type)
    if not isinstance(flat.raw, dict):  # pragma: no cover - spec guarantees a dict
        raise spec_error("layer attributes must be an object.", received=flat.raw)
    layer = cls.from_raw(flat.raw, lambda text: expr.evaluate(text, flat.env))
    lo, hi = cls.inputs
    n_in = len(flat.inputs)
    if cls.source:
        n_in = 0
    elif n_in < lo or (hi is not None and n_in > hi):
        want = f"at least {lo}" if hi is None else f"exactly {lo}"
        raise spec_error(f"{flat.type} takes {want} input(s).", attribute="inputs", received=list(flat.inputs))
    inputs = tuple([index_of[name] for name in flat.inputs]) if n_in else ()
    parents = [nodes[i] for i in inputs]
    in_shapes = tuple([p.shape for p in parents])
    shape = tuple(layer.output_shape(in_shapes))
    if max(shape, default=0) > MAX_INTEGER:  # concat and zero_pad grow a dimension; keep every count bounded
        raise ShapeError(
            f"its output shape {fmt_shape(shape)} has a dimension above 10^15 ({MAX_INTEGER:,}), the largest supported."
        )
    weights = layer.weights(in_shapes)
    trainable = non_trainable = 0
    for w in weights.values():
        if w.trainable:
            trainable += prod(w.shape)
        else:
            non_trainable += prod(w.shape)
    paths = _receptive_field(layer, in_shapes, parents, shape)
    # strides multiply along a chain; beyond 10^15 a field or jump means nothing and only bloats output
    if any(max(j, -a, b) > MAX_INTEGER for p in paths for j, (a, b) in p.items()):
        raise ShapeError(
            f"its receptive field or jump on the input grows above 10^15 ({MAX_INTEGER:,}), the largest supported."
        )
    return Node(
        index=flat.index,
        name=flat.name,
        type=flat.type,
        layer=layer,
        inputs=inputs,
        in_shapes=in_shapes,
        shape=shape,
        weights=weights,
        trainable=trainable,
        non_trainable=non_trainable,
        macs=layer.macs(in_shapes, shape),
        other_ops=layer.other_ops(in_shapes, shape),
        paths=paths,
        group=flat.group,
    )


def _receptive_field(layer, in_shapes, parents, shape):
    """Per spatial axis, the input interval each path sees from output position 0: {jump: (first, last)}.

    The axes are the network input's spatial axes (all but its last, channels last).
    A window of extent k, stride s and padding p before maps (first, last) at jump j to
    (first - p j, last + (k - 1 - p) j) at jump j s. Paths with the same jump move alike from
    here on, so their intervals merge into one; paths with different jumps (a strided 1x1
    shortcut beside a chain of convolutions) stay apart. The field is the extent of the union.
    An input broadcast along an axis (size 1 there, or without the axis, against a larger
    output: squeeze-and-excitation's scale) is read at the same place by every output, so
    its paths there collapse into one of jump 0. A layer whose window has another number
    of axes than the paths (after a reshape, say) leaves them as they are.
    """
    if not parents:
        return tuple({1: (0, 0)} for _ in shape[:-1])
    axes = max(len(p.paths) for p in parents)
    spatial_out = len(shape) == axes + 1
    merged = []
    for axis in range(axes):
        paths: dict = {}
        for p, in_shape in zip(parents, in_shapes):
            if len(p.paths) != axes:
                continue  # an input of other rank has no position on these axes
            own = p.paths[axis]
            if spatial_out and shape[axis] > 1 and (len(in_shape) != axes + 1 or in_shape[axis] == 1):
                own = {0: (min(f for f, _ in own.values()), max(last for _, last in own.values()))}
            for jump, (first, last) in own.items():
                if jump in paths:
                    first, last = min(first, paths[jump][0]), max(last, paths[jump][1])
                paths[jump] = (first, last)
        merged.append(paths)
    window = layer.window(in_shapes)
    if window is None or len(window) != axes:
        return tuple(merged)
    return tuple(
        {j * s: (first - p * j, last + (k - 1 - p) * j) for j, (first, last) in paths.items()}
        for paths, (k, s, p) in zip(merged, window)
    )


def analyze(spec_path, overrides=None, max_layers=None, input_shapes=None) -> Graph:
    """Load a spec (or an ONNX or Keras model file) by path or bundled name and build its graph."""
    from .spec import MAX_LAYERS, load_spec

    return build_graph(load_spec(spec_path, overrides, max_layers or MAX_LAYERS, input_shapes))
