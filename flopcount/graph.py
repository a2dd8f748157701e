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
    tokens: int | None = None  # the output holds integer token ids in [0, tokens), not real values
    # weights used from another layer instead of owned: name -> (owner node, owner's weight name, transposed)
    shared: dict = field(default_factory=dict)

    @property
    def owners(self) -> tuple[str, ...]:
        """Names of the layers whose weights this one uses (counted there, not here)."""
        return tuple(dict.fromkeys(owner.name for owner, _, _ in self.shared.values()))

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
    if cls.source or (hi == 0 and flat.implicit):
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
    for p in parents:
        if p.tokens is not None and not cls.takes_tokens:
            raise ShapeError(
                f"{flat.type} cannot take integer token ids (the output of '{p.name}'); an embedding turns them "
                "into vectors first.",
                attribute="inputs",
            )
    tokens = layer.output_tokens(tuple([p.tokens for p in parents]))
    weights = layer.weights(in_shapes)
    shared = _shared_weights(flat.type, weights, nodes[index_of[flat.share]]) if flat.share is not None else {}
    trainable = non_trainable = 0
    for name, w in weights.items():
        if name in shared:
            continue  # counted at its owner
        if w.trainable:
            trainable += prod(w.shape)
        else:
            non_trainable += prod(w.shape)
    paths = _receptive_field(layer, in_shapes, parents, shape, tokens)
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
        tokens=tokens,
        shared=shared,
    )


def _shared_weights(type_name, weights, owner) -> dict:
    """This layer's weights paired in declaration order with owner's: name -> (owner node, its name, transposed).

    A pair has equal shapes, or 2-D shapes that are each other's transpose (GPT-2's head reads
    its token embedding (vocab, dim) as a (dim, vocab) kernel). When owner itself shares a
    weight, the pair points to the layer that owns it.
    """
    mine, theirs = list(weights.items()), list(owner.weights.items())
    if not mine:
        raise ShapeError(f"{type_name} has no weights to share.", attribute="share")
    if len(mine) != len(theirs):
        raise ShapeError(
            f"shares the weights of '{owner.name}', which has {len(theirs)} ({', '.join(n for n, _ in theirs) or 'none'}), "
            f"but this {type_name} has {len(mine)} ({', '.join(n for n, _ in mine)}).",
            attribute="share",
        )
    out = {}
    for (name, w), (theirs_name, theirs_w) in zip(mine, theirs):
        if w.shape == theirs_w.shape:
            transposed = False
        elif len(w.shape) == 2 and w.shape == theirs_w.shape[::-1]:
            transposed = True
        else:
            raise ShapeError(
                f"its {name} of shape {fmt_shape(w.shape)} cannot be '{owner.name}''s {theirs_name} of shape "
                f"{fmt_shape(theirs_w.shape)}: the shapes differ, also transposed.",
                attribute="share",
            )
        if theirs_name in owner.shared:
            root, root_name, root_transposed = owner.shared[theirs_name]
            out[name] = (root, root_name, transposed != root_transposed)
        else:
            out[name] = (owner, theirs_name, transposed)
    return out


def _receptive_field(layer, in_shapes, parents, shape, tokens=None):
    """Per spatial axis, the input interval each path sees from output position 0: {jump: (first, last)}.

    The axes are the network input's spatial axes (all but its last, channels last; all of a
    token input's).
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
        # token ids have no channel axis: every axis of a token input is a position
        return tuple({1: (0, 0)} for _ in (shape if tokens is not None else shape[:-1]))
    axes = max(len(p.paths) for p in parents)
    spatial_out = len(shape) == axes + 1
    merged = []
    for axis in range(axes):
        paths: dict = {}
        for p, in_shape in zip(parents, in_shapes):
            if len(p.paths) != axes:
                continue  # an input of other rank has no position on these axes
            own = p.paths[axis]
            positions = len(in_shape) - (p.tokens is None)  # token ids have no channel axis
            if spatial_out and shape[axis] > 1 and (positions != axes or in_shape[axis] == 1):
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
