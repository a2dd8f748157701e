"""Wire a loaded spec into a graph, propagate shapes and compute each node's figures."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from copy import copy
from dataclasses import dataclass, field
from math import gcd, prod

from . import expr
from .errors import FlopcountError, ShapeError, SpecError, spec_error
from .layers import MAX_INTEGER, REQUIRED, Layer, Weight, fmt_shape, layer_class
from .layers.window import Reads
from .spec import ENTRY_KEYS, KINDS, Spec, substitute


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
    # per spatial axis of the network input (none for a vector input), the paths to it:
    # {(period, shift): ((first, last) input positions seen from output r, for r < period)}
    # (see _receptive_field)
    paths: tuple[dict, ...]
    group: str | None = None
    tokens: int | None = None  # the output holds integer token ids in [0, tokens), not real values
    # weights used from another layer instead of owned: name -> (owner node, owner's weight name, transposed)
    shared: dict = field(default_factory=dict)
    torch: str | None = None  # how the PyTorch model computes it when not with the usual module (spec key "torch")

    @property
    def owners(self) -> tuple[str, ...]:
        """Names of the layers whose weights this one uses (counted there, not here)."""
        return tuple(dict.fromkeys(owner.name for owner, _, _ in self.shared.values()))

    @property
    def rf(self) -> tuple[int, ...]:
        """Receptive field on the input per spatial axis: the extent of what all paths see, the
        largest over the outputs of one period (output 0 alone when no layer upsamples)."""
        sizes = self.shape[:-1] if self.spatial else (MAX_PERIOD,) * len(self.paths)
        return tuple(_field(p, size) for p, size in zip(self.paths, sizes))

    @property
    def jump(self) -> tuple[int, ...]:
        """Distance on the input between neighbouring outputs (effective stride), per axis: the
        largest step between the fields' first positions where an upsampling makes it vary."""
        return tuple(max(_step(key, phases) for key, phases in p.items()) for p in self.paths)

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

    def unused(self) -> list[Node]:
        """Layers whose output nothing reads, other than the last layer and the spec's declared outputs."""
        read = {i for n in self.nodes for i in n.inputs}
        declared = set(self.spec.outputs)
        return [n for n in self.nodes[:-1] if n.index not in read and n.name not in declared]

    def under(self, convention: str):
        """Every layer counted under a convention (flopcount.layers.conventions): a Counted, errors naming the file."""
        from .layers.conventions import count_graph

        try:
            return count_graph(self.nodes, convention)
        except FlopcountError as err:
            raise err.located(file=self.spec.file)

    def unused_notes(self) -> list[str]:
        """One line per unused output: a wiring mistake, or an output 'outputs' should name."""
        return [
            f"layer {n.index} '{n.name}' ({n.type}): its output is never used; if the network returns it, "
            f'name it in "outputs".'
            for n in self.unused()
        ]


def last_use(graph: Graph) -> dict[int, int]:
    """For each node index, the index of the last node reading it (itself if none does)."""
    return {i: max(c, default=i) for i, c in graph.consumers().items()}


def freed_after(node: Node, last: dict[int, int]) -> list[int]:
    """The activations no layer reads after node has run: its inputs read last here, or its own unread output."""
    return [i for i in {*node.inputs, node.index} if last[i] == node.index]


def live_elements(graph: Graph) -> list[int]:
    """Per node in order, the activation elements (per sample) alive while it runs: its own output and
    every earlier output a later layer still reads. The liveness rule of the runner and of the memory
    estimate alike: an activation is freed as soon as the last layer reading it has run."""
    last = last_use(graph)
    alive: dict[int, int] = {}
    held = 0
    out = []
    for node in graph.nodes:
        size = prod(node.shape)
        out.append(held + size)
        alive[node.index] = size
        held += size
        for i in freed_after(node, last):
            held -= alive.pop(i, 0)
    return out


def build_graph(spec: Spec) -> Graph:
    """Instantiate every layer, check its inputs, and infer shapes and figures in order."""
    index_of = {}
    nodes: list[Node] = []
    totals = Totals()
    budget = copy(spec.budget)  # what expansion left of the spec's budget, for this build alone
    _check_defaults(spec)
    for flat in spec.layers:
        try:
            node = build_node(flat, index_of, nodes, budget)
        except FlopcountError as err:
            raise err.located(file=spec.file)
        except RecursionError:  # pragma: no cover - defensive
            raise SpecError("the spec is nested too deeply.", file=spec.file, layer=flat.index, name=flat.name)
        index_of[flat.name] = flat.index
        nodes.append(node)
        totals.add(node)
    _check_unbuilt(spec)
    return Graph(spec.name, nodes, spec, totals)


def _check_defaults(spec: Spec) -> None:
    """Every type in the spec's defaults is a layer type, and every attribute one of its attributes."""
    for type_name, values in spec.defaults.items():
        try:
            cls = layer_class(type_name)
        except FlopcountError as err:
            err.attribute = f"defaults.{type_name}"
            raise err.located(file=spec.file)
        for key, raw in values.items():
            where = f"defaults.{type_name}.{key}"
            if key not in cls.known:
                raise cls.unknown(key, where).located(file=spec.file)
            if cls.known[key].default is REQUIRED:  # so every layer still says it, and the schema can require it
                raise SpecError(
                    f"{type_name} needs {key} on every layer; defaults change the default of an optional attribute.",
                    attribute=where,
                    file=spec.file,
                )
            # checked here even if no layer of the type uses it; a name of a block parameter is checked where it is used
            raw = substitute(raw, spec.variables)
            if _names_a_parameter(raw, spec.variables):
                continue
            try:
                cls.known[key].convert(raw, lambda text: expr.evaluate(text, spec.variables, copy(spec.budget)))
            except expr.UndefinedVariable:
                pass
            except FlopcountError as err:
                err.attribute = where
                raise err.located(file=spec.file)


def _written_entries(spec: Spec):
    """(where, entry) for every entry written in the spec: in its layers, its blocks and their branches."""
    doc = spec.data if isinstance(spec.data, dict) else {}
    stack = [("layers", doc.get("layers"))]
    blocks = doc.get("blocks")
    if isinstance(blocks, dict):
        stack += [(f"blocks.{name}.layers", b.get("layers")) for name, b in blocks.items() if isinstance(b, dict)]
    while stack:
        where, entries = stack.pop()
        if isinstance(entries, dict):
            entries = [entries]
        if not isinstance(entries, list):
            continue
        for k, entry in enumerate(entries):
            yield f"{where}[{k}]", entry
            if isinstance(entry, dict) and isinstance(entry.get("branches"), list):
                stack += [(f"{where}[{k}].branches[{j}]", b) for j, b in enumerate(entry["branches"])]


def _check_unbuilt(spec: Spec) -> None:
    """Layers the expansion left out (a block no entry uses, an entry 'when' skips) are checked as written:
    a known type, known attributes and values that fit them, as far as they need no variable."""
    for where, entry in _written_entries(spec):
        if not isinstance(entry, dict) or sum(kind in entry for kind in KINDS) != 1:
            raise spec_error(
                "each entry is a JSON object with one of 'type', 'block' or 'branches'.",
                attribute=where,
                received=entry,
                file=spec.file,
            )
        if not isinstance(entry.get("type"), str):
            continue  # a block instance or branches: the expansion checks what it can of those
        try:
            cls = layer_class(entry["type"])
        except FlopcountError as err:
            err.attribute = f"{where}.type"
            raise err.located(file=spec.file)
        for key, raw in entry.items():
            if key in ENTRY_KEYS or key == "type":
                continue
            at = f"{where}.{key}"
            if key not in cls.known:
                raise cls.unknown(key, at).located(file=spec.file)
            if _names_a_parameter(raw, spec.variables) or _has_text(raw):
                continue  # an expression or a name: its value depends on where the layer is expanded
            try:
                cls.known[key].convert(raw, None)
            except FlopcountError as err:
                err.attribute = at
                raise err.located(file=spec.file)
        for attr in cls.attrs:
            if attr.default is REQUIRED and attr.name not in entry:
                raise cls.missing(attr, f"{where}.{attr.name}").located(file=spec.file)


def _has_text(raw) -> bool:
    return isinstance(raw, str) or (isinstance(raw, list) and any(_has_text(v) for v in raw))


def _names_a_parameter(raw, variables) -> bool:
    """A value as written that names something other than a variable: a block parameter, perhaps."""
    if isinstance(raw, list):
        return any(_names_a_parameter(v, variables) for v in raw)
    return isinstance(raw, str) and not isinstance(raw, expr.Word) and raw.isidentifier() and raw not in variables


def build_node(flat, index_of, nodes, budget=None) -> Node:
    """One layer's node from its expanded entry and the nodes of the layers before it (index_of: name -> index).

    An error names the layer, and an attribute the spec's defaults gave it as written there.
    """
    try:
        return _node(flat, index_of, nodes, budget)
    except FlopcountError as err:
        if err.attribute in flat.defaulted:  # the value is written once, under defaults
            err.attribute = f"defaults.{flat.type}.{err.attribute}"
        raise err.located(layer=flat.index, name=flat.name)


def _node(flat, index_of, nodes, budget) -> Node:
    cls = layer_class(flat.type)
    if not isinstance(flat.raw, dict):  # pragma: no cover - spec guarantees a dict
        raise spec_error("layer attributes must be an object.", received=flat.raw)
    layer = cls.from_raw(flat.raw, lambda text: expr.evaluate(text, flat.env, budget))
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
    if any(
        max(shift, -ends[0], ends[1]) > MAX_INTEGER
        for p in paths
        for (_, shift), phases in p.items()
        for ends in phases
        if ends is not None
    ):
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
        torch=flat.torch,
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


MAX_PERIOD = 2**16  # outputs before an upsampled field repeats; beyond it the field is not tracked


def _at(key, phases, o):
    """(first, last) input positions seen from output o of a path; None when it sees none."""
    period, shift = key
    q, r = divmod(o, period)
    if r >= len(phases) or phases[r] is None:  # a short output keeps fewer phases than its period
        return None
    first, last = phases[r]
    return first + q * shift, last + q * shift


def _union(a, b):
    """The smallest interval holding both (either may be None, seeing nothing)."""
    if a is None or b is None:
        return a or b
    return min(a[0], b[0]), max(a[1], b[1])


def _seen(paths, o):
    """(first, last) of what output o sees along all paths together; None when it sees nothing."""
    out = None
    for key, phases in paths.items():
        out = _union(out, _at(key, phases, o))
    return out


def _field(paths, size) -> int:
    """The largest extent over the outputs of one period of all paths together (the first size outputs)."""
    period = 1
    for p, _ in paths:
        period = period * p // gcd(period, p)
    extents = [_seen(paths, o) for o in range(max(1, min(period, size, MAX_PERIOD)))]
    return max((last - first + 1 for first, last in filter(None, extents)), default=0)


def _step(key, phases) -> int:
    """The largest distance between the first positions of neighbouring outputs that see something."""
    steps = [
        (b[0] - a[0]) for a, b in ((_at(key, phases, r), _at(key, phases, r + 1)) for r in range(key[0])) if a and b
    ]
    return max(steps, default=key[1])


def _span(key, phases, seeing, lo, hi):
    """What outputs lo..hi of a path see together; None when none of them sees anything.

    seeing lists the phases that see something, ascending; fields only move forward with
    the output, so the first such output in the range sees the first position, the last the last.
    """
    period = key[0]
    if lo > hi or not seeing:
        return None
    if len(phases) < period:  # a short output: its own positions only, none past its end
        i, j = bisect_left(seeing, lo), bisect_right(seeing, hi) - 1
        return None if i > j else (phases[seeing[i]][0], phases[seeing[j]][1])
    q, r = divmod(lo, period)
    i = bisect_left(seeing, r)
    start = q * period + (seeing[i] if i < len(seeing) else period + seeing[0])
    q, r = divmod(hi, period)
    i = bisect_right(seeing, r) - 1
    stop = q * period + (seeing[i] if i >= 0 else seeing[-1] - period)
    if start > stop:
        return None
    return _at(key, phases, start)[0], _at(key, phases, stop)[1]


def _receptive_field(layer, in_shapes, parents, shape, tokens=None):
    """Per spatial axis, the input positions each path's outputs see.

    The axes are the network input's spatial axes (all but its last, channels last; all of
    a token input's). A
    path {(period P, shift S): phases} says output o = q P + r sees input positions
    first_r + q S to last_r + q S (none when its phase is None). Without upsampling P is
    1 and S is the jump; a window of extent k, stride s and padding p before maps
    (first, last) at jump j to (first - p j, last + (k - 1 - p) j) at jump j s. A layer
    that reads floor((a o + lo) / b) to floor((a o + hi) / b) (Reads) gives output o the
    union of what those positions see; its fields repeat every P' = b P / gcd(a, b P)
    outputs, shifted by a P' S / (b P). Paths with the same period and shift move alike
    from here on, so their intervals merge; paths with different ones (a strided 1x1
    shortcut beside a chain of convolutions) stay apart. The field is the extent of the
    union. An input broadcast along an axis (size 1 there, or without the axis, against a
    larger output, into a layer without a window: squeeze-and-excitation's scale) is read
    at the same place by every output, so its paths there collapse into one that does not
    move. An input read only for its shape (crop's target) adds no path. A layer whose
    window has another number of axes than the paths (after a reshape, say) leaves them
    as they are.
    """
    if not parents:
        # token ids have no channel axis: every axis of a token input is a position
        return tuple({(1, 1): ((0, 0),)} for _ in (shape if tokens is not None else shape[:-1]))
    axes = max(len(p.paths) for p in parents)
    spatial_out = len(shape) == axes + 1
    window = layer.window(in_shapes)
    merged = []
    for axis in range(axes):
        paths: dict = {}
        for i, (p, in_shape) in enumerate(zip(parents, in_shapes)):
            if len(p.paths) != axes or i in layer.shape_inputs:
                continue  # an input of other rank has no position on these axes; a shape is no value
            own = p.paths[axis]
            positions = len(in_shape) - (p.tokens is None)  # token ids have no channel axis
            if window is None and spatial_out and shape[axis] > 1 and (positions != axes or in_shape[axis] == 1):
                seen = None
                for phases in own.values():
                    for ends in phases:
                        seen = _union(seen, ends)
                own = {(1, 0): (seen,)}
            for key, phases in own.items():
                _merge(paths, key, phases)
        merged.append(paths)
    if window is None or len(window) != axes:
        return tuple(merged)
    sizes = shape[:-1] if spatial_out else (MAX_PERIOD,) * axes
    return tuple(
        _read(paths, w if isinstance(w, Reads) else Reads(w[1], 1, -w[2], w[0] - 1 - w[2]), size)
        for paths, w, size in zip(merged, window, sizes)
    )


def _merge(paths, key, phases):
    if key in paths:
        phases = tuple(_union(a, b) for a, b in zip(phases, paths[key]))
    paths[key] = phases


def _read(paths, reads: Reads, size: int) -> dict:
    """The paths of a layer's size outputs that read the positions reads gives from outputs with these paths."""
    out: dict = {}
    for key, phases in paths.items():
        period, shift = key
        if reads.b == 1 and period == 1 and phases[0] is not None:  # a sliding window, in closed form
            ((first, last),) = phases
            _merge(out, (1, shift * reads.a), ((first + reads.lo * shift, last + reads.hi * shift),))
            continue
        new_period = reads.b * period // gcd(reads.a, reads.b * period)
        if min(new_period, size) > MAX_PERIOD:
            raise ShapeError(
                f"its outputs' receptive fields repeat only every {new_period:,} positions; flopcount tracks "
                f"them up to {MAX_PERIOD:,}."
            )
        new_shift = reads.a * new_period // reads.b // period * shift
        seeing = [r for r, ends in enumerate(phases) if ends is not None]
        # phases past the output's size are never read; a short output keeps only its own
        _merge(
            out,
            (new_period, new_shift),
            tuple(
                _span(key, phases, seeing, (reads.a * r + reads.lo) // reads.b, (reads.a * r + reads.hi) // reads.b)
                for r in range(min(new_period, size))
            ),
        )
    return out


def analyze(spec_path, overrides=None, max_layers=None, input_shapes=None) -> Graph:
    """Load a spec (or an ONNX or Keras model file) by path or bundled name and build its graph."""
    from .spec import MAX_LAYERS, load_spec

    return build_graph(load_spec(spec_path, overrides, max_layers or MAX_LAYERS, input_shapes))
