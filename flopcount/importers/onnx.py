"""Translate an ONNX model into a spec: one function per operator, in the table OPS.

Reading. The file is memory-mapped and skimmed (``protobuf.skim``): every field is kept
except the raw bytes of large initializers, so only the graph and the weights'
dimensions are parsed, by the ``onnx`` package (an optional extra). Counting never
needs the weights' values; ``run`` reads them later, one tensor at a time.

Values. Every ONNX value is a ``Const`` (known at import: initializers, Constant nodes,
and whatever is computed from them and from Shape, the arithmetic exporters emit around
Reshape; it is folded here and leaves no layer) or an ``Act``, a tensor that a spec layer
produces at run time.

Trainable. A constant that meets a computed tensor (a position embedding added, a class
token joined, a mask applied) becomes a ``parameter`` layer. It is trainable when it is
``learned``: of a float type and computed from at least one float initializer, which is
where every exporter stores a model's weights. Constant nodes, shape arithmetic and
integer or boolean tensors are not learned, so a causal mask, whether a boolean buffer
sliced to the sequence or a float mask built from Shape, Range and Trilu, is a
non-trainable parameter, whatever exporter wrote it.

Layout. ONNX is channels-first (N, C, H, W); specs are channels-last (H, W, C) with the
batch axis left out. An ``Act`` records its ONNX shape and ``perm``, the ONNX axes in the
order its spec layer holds them in memory, the batch axis first: a convolution's output
is ONNX (N, C, H, W) held as (N, H, W, C), perm (0, 2, 3, 1). A Transpose, Squeeze or
Unsqueeze only changes the perm (no layer); an operator that needs its input in a given
order (a Flatten after a convolution reads C, H, W order) gets a ``transpose`` layer
first, so the spec computes the same function as the file. Size-1 axes may be left out
of a perm: a global pool's ONNX (N, C, 1, 1) is the spec's (C,).
"""

from __future__ import annotations

import mmap
import os
import stat
import struct
from dataclasses import dataclass
from math import prod
from pathlib import Path

from ..errors import FlopcountError, SpecError
from . import Dims, Imported
from .protobuf import Span, WireError, skim

OPSETS = (9, 25)  # the ai.onnx opset versions whose operator definitions are handled here
INSTALL = "pip install 'flopcount[onnx]'"
MAX_FOLD = 1 << 20  # elements of a folded constant; shape arithmetic is a few dozen
MAX_LOAD = 1 << 24  # elements of a weight read at import to compute with (a recurrent layer's gates reordered)


class ModelError(SpecError):
    """A model file that cannot be translated, located at a node (ONNX) or a layer (Keras)."""

    def __init__(self, message, *, node=None, op=None, **kw):
        label = f"node '{node}'" if node is not None else "node"
        super().__init__(message, context=f"{label} ({op})" if op else label, **kw)


# ---------------------------------------------------------------- values


@dataclass
class Const:
    """A value known at import: an array, or only its dimensions (a weight whose bytes were skipped)."""

    dims: tuple
    array: object = None  # numpy array, or None when only the dimensions are known
    init: str | None = None  # the initializer it is, for weights
    steps: tuple = ()  # weight steps from the initializer to this value (a transposed weight)
    learned: bool = False  # float, and computed from a float initializer: a trained weight (see the docstring)

    def known(self) -> bool:
        return self.array is not None


@dataclass
class Act:
    """A tensor a spec layer produces: its ONNX shape and the order its axes are held in (batch first)."""

    layer: str
    shape: tuple
    perm: tuple
    integer: bool = False

    @property
    def batch(self) -> int:
        return self.perm[0]

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def spec_shape(self) -> tuple:
        return tuple(self.shape[a] for a in self.perm[1:])

    def native(self) -> tuple:
        """Batch first, then the other axes in ONNX order (batch -1: a batch of 1 with no ONNX axis of its own)."""
        return (self.batch,) + tuple(a for a in range(self.rank) if a != self.batch)

    def channels_last(self) -> tuple:
        """(N, C, D1, D2, ...) held as (N, D1, D2, ..., C)."""
        return (0,) + tuple(range(2, self.rank)) + (1,)


@dataclass(frozen=True)
class Binding:
    """A graph input or output: its ONNX name and shape, the spec layer holding it and in which order."""

    name: str
    layer: str
    shape: tuple
    perm: tuple
    integer: bool = False

    def to_spec(self, array):
        """An ONNX-ordered array as the spec layer holds it: (batch, *spec shape)."""
        return array.transpose(self.perm).reshape(
            (array.shape[self.perm[0]],) + tuple(self.shape[a] for a in self.perm[1:])
        )

    def from_spec(self, array):
        """The spec layer's (batch, *spec shape) array in ONNX order and shape."""
        np = _np()
        shape = list(self.shape)
        order = self.perm
        if order[0] == -1:  # a batch of 1 merged away (attention's batch x heads): the spec's batch axis goes
            order = order[1:]
        else:
            shape[order[0]] = array.shape[0]
        held = array.reshape([shape[a] for a in order])
        return held.transpose(np.argsort(order)).reshape(shape)


def _ref(c, steps=()) -> WeightRef:
    """A weight from the constant c (an initializer seen through c's own steps), then steps."""
    return WeightRef(c.init, tuple(c.steps) + tuple(steps))


@dataclass(frozen=True)
class WeightRef:
    """A spec layer's weight taken from an initializer through a few array steps."""

    init: str
    steps: tuple = ()  # ("transpose", axes) | ("reshape", shape) | ("scale", factor) | ("broadcast", shape)


def _apply_dims(dims, steps):
    for kind, arg in steps:
        if kind == "transpose":
            dims = tuple(dims[a] for a in arg)
        elif kind in ("reshape", "broadcast"):
            dims = tuple(arg)
        elif kind == "index":
            dims = tuple(dims[1:])
    return tuple(dims)


def _blocks(order, axis):
    """A weight step that reorders equal blocks along axis (ONNX's LSTM gates i, o, f, c to i, f, c, o)."""
    return ("blocks", (tuple(order), axis))


class Node:
    """An ONNX node: name, operator, input and output names, attributes decoded on demand."""

    def __init__(self, proto, index):
        self.proto = proto
        self.index = index
        self.op = proto.op_type
        self.domain = proto.domain
        self.name = proto.name or f"{proto.op_type}_{index}"
        self.inputs = list(proto.input)
        self.outputs = list(proto.output)
        self._attrs = None

    @property
    def attrs(self) -> dict:
        if self._attrs is None:
            from onnx import helper

            attrs = {}
            for a in self.proto.attribute:
                try:
                    attrs[a.name] = helper.get_attribute_value(a)
                except Exception:  # noqa: BLE001 - a malformed attribute is bad input, reported as such
                    raise self.error(
                        "its value cannot be decoded (an attribute of an unknown or empty type).", attribute=a.name
                    ) from None
            self._attrs = attrs
        return self._attrs

    def error(self, message, attribute=None, **kw) -> ModelError:
        if "received" in kw:
            kw["has_received"] = True
        return ModelError(message, node=self.name, op=self.op, attribute=attribute, **kw)


# ---------------------------------------------------------------- reading


def _import_onnx():
    try:
        import onnx
    except ImportError:
        raise SpecError(f"reading ONNX files needs the onnx package: {INSTALL}") from None
    return onnx


def read_onnx(path: Path, file: str, overrides: dict, input_shapes: dict) -> Imported:
    """Translate the ONNX file at path into a spec dict and a source of its weights."""
    model, spans = read_model(path, file)
    t = Translator(model, file, overrides, input_shapes)
    weights = OnnxWeights(path, file, model, spans, t.refs)
    t.load = weights.load
    try:
        doc = t.translate()
    except FlopcountError as err:
        raise err.located(file=file)
    weights.folded = t.folded_weights
    weights.inputs = [Binding(name, a.layer, a.shape, a.perm, a.integer) for name, a in t.inputs]
    weights.outputs = [Binding(name, a.layer, a.shape, a.perm, a.integer) for name, a in t.outputs]
    given = {name for name, _ in t.inputs}
    weights.probes = [
        Binding(name, a.layer, a.shape, a.perm, a.integer)
        for name, a in t.values.items()
        if isinstance(a, Act) and name not in given
    ]
    return Imported(doc, "onnx", weights, notes=t.notes)


def read_model(path: Path, file: str):
    """The skimmed ModelProto and where the skipped weight bytes lie. Checks it is an ONNX model."""
    onnx = _import_onnx()
    try:
        info = os.stat(path)
    except OSError as err:
        raise SpecError(f"cannot read the file: {err.strerror}.", file=file) from None
    if not stat.S_ISREG(info.st_mode):
        raise SpecError("is not a regular file; an ONNX model is a file.", file=file)
    if info.st_size == 0:
        raise SpecError("the file is empty; an ONNX model is a protocol buffer.", file=file)
    try:
        with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            data, spans = skim(buf)
    except WireError as err:
        raise SpecError(f"not an ONNX model, or a truncated one: {err} (byte {err.at}).", file=file) from None
    except (OSError, ValueError) as err:
        raise SpecError(f"cannot read the file: {err}.", file=file) from None
    from google.protobuf.message import DecodeError

    try:
        model = onnx.ModelProto.FromString(data)
    except (DecodeError, RuntimeError, ValueError) as err:
        raise SpecError(f"not an ONNX model: the protocol buffer does not decode as one ({err}).", file=file) from None
    if not model.HasField("graph") or not model.graph.node or model.ir_version < 3:
        raise SpecError(
            "not an ONNX model: a protocol buffer without a model's ir_version and graph of nodes "
            "(another kind of protocol buffer, such as a lone tensor or graph?).",
            file=file,
        )
    return model, spans


def check_opset(model, file):
    """The ai.onnx opset version, refused outside OPSETS."""
    versions = {o.domain or "ai.onnx": o.version for o in model.opset_import}
    version = versions.get("ai.onnx")
    if version is None:
        raise SpecError("the model imports no ai.onnx opset.", file=file, attribute="opset_import")
    lo, hi = OPSETS
    if not lo <= version <= hi:
        raise SpecError(
            f"opset {version} is outside the supported range {lo} to {hi}.",
            file=file,
            attribute="opset_import",
            received=version,
            has_received=True,
        )
    return version


# ---------------------------------------------------------------- the translator


OPS: dict = {}
FOLD: dict = {}


def op(*names):
    """Register a translation function for these ONNX operators."""

    def add(fn):
        for name in names:
            OPS[name] = fn
        return fn

    return add


def fold(*names):
    """Register a constant-folding function (numpy arrays in, arrays out) for these operators."""

    def add(fn):
        for name in names:
            FOLD[name] = fn
        return fn

    return add


def supported_operators() -> list[str]:
    """Every ONNX operator the importer handles (as a layer, folded as a constant, or both)."""
    return sorted(set(OPS) | set(FOLD))


def _float32(value) -> float:
    """The shortest decimal that reads back as the same float32, as a float (1e-05, not 9.99999974e-06)."""
    (f32,) = struct.unpack("f", struct.pack("f", value))
    for digits in range(1, 10):
        text = f"{f32:.{digits}g}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == f32:
            return float(text)
    return f32


def _no_expression(text):  # an importer writes values, never expressions
    raise SpecError(f"unexpected text where a number belongs: {text!r}")


class Translator:
    """Walks the graph's nodes in order and emits spec layers."""

    def __init__(self, model, file, overrides, input_shapes):
        self.model = model
        self.graph = model.graph
        self.file = file
        self.opset = check_opset(model, file)
        self.dims = Dims(overrides, input_shapes)
        self.values: dict = {}
        self.layers: list[dict] = []
        self.refs: dict = {}  # (layer name, weight name) -> WeightRef
        self.taken: set = set()
        self.notes: list[str] = []
        self.nodes = [Node(p, i) for i, p in enumerate(self.graph.node)]
        self.consumers: dict[str, list[Node]] = {}
        for n in self.nodes:
            for name in n.inputs:
                if name:
                    self.consumers.setdefault(name, []).append(n)
        self.fused: set[int] = set()  # nodes folded into an earlier one (a bias Add into its MatMul)
        self.pending_scale: dict[int, tuple] = {}  # GELU's scalings, held until its Erf: node index -> (x, factor)
        self.pending_names: set[str] = set()
        self.params: dict = {}  # WeightRef -> the Act of the parameter layer holding it

    # ------------------------------------------------------------ names and emission

    def layer_name(self, base: str) -> str:
        """A unique spec layer name from an ONNX name: '/layer1/layer1.0/conv1/Conv' -> 'layer1.0.conv1'."""
        parts = [p for p in base.split("/") if p]
        path = ""
        for part in parts[:-1]:
            path = part if path and part.startswith(path + ".") or not path else f"{path}.{part}"
        candidates = [path, f"{path}.{parts[-1]}" if path else None] if len(parts) > 1 else []
        candidates.append(".".join(parts) or "node")
        for name in candidates:
            if name and name not in self.taken and name != "in":
                break
        else:
            stem = candidates[-1]
            n = 2
            while f"{stem}_{n}" in self.taken:
                n += 1
            name = f"{stem}_{n}"
        self.taken.add(name)
        return name

    def emit(self, node, type_, attrs, inputs, weights=None, suffix=None) -> str:
        """Add a spec layer reading inputs (Acts); returns its name. Shapes are checked by the registry."""
        from ..layers import layer_class

        name = self.layer_name(node.name if suffix is None else f"{node.name}.{suffix}")
        entry = {"name": name, "type": type_}
        refs = [a.layer for a in inputs]
        if refs and refs != ([self.layers[-1]["name"]] if self.layers else []):  # none: a parameter tensor
            entry["inputs"] = refs if len(refs) != 1 else refs[0]
        entry.update(attrs)
        try:
            cls = layer_class(type_)
        except SpecError:
            raise node.error(
                f"translates to a '{type_}' layer, a layer type this flopcount does not have yet."
            ) from None
        try:
            layer = cls.from_raw(attrs, _no_expression)
            in_shapes = [a.spec_shape for a in inputs]
            shape = tuple(layer.output_shape(in_shapes))
            declared = layer.weights(in_shapes)
        except FlopcountError as err:
            raise node.error(f"its {type_} layer does not fit: {err}") from None
        for wname, ref in (weights or {}).items():
            source = self.folded_weights.get(ref.init)
            dims = _apply_dims(source.shape if source is not None else self.init_dims[ref.init], ref.steps)
            want = declared[wname].shape if wname in declared else None
            if dims != want:
                raise node.error(
                    f"initializer '{ref.init}' gives {type_} weight '{wname}' the shape {dims}, "
                    f"but the layer declares {want}."
                )
            self.refs[(name, wname)] = ref
        self.layers.append(entry)
        self._shapes[name] = shape
        return name

    _shapes: dict

    # ------------------------------------------------------------ values

    def value(self, node, name):
        if name not in self.values:
            raise node.error(f"reads '{name}', which no earlier node, input or initializer produces.")
        return self.values[name]

    def act(self, node, index) -> Act:
        """Input index of node as a run-time tensor."""
        v = self.value(node, node.inputs[index])
        if not isinstance(v, Act):
            raise node.error(
                f"input {index} ('{node.inputs[index]}') is a constant; {node.op} is translated only on computed tensors."
            )
        return v

    def const(self, node, name) -> Const:
        v = self.value(node, name)
        if not isinstance(v, Const):
            raise node.error(f"input '{name}' must be a constant (an initializer), not a computed tensor.")
        return v

    def const_input(self, node, index, default=None):
        """The array of an optional constant input (None or default when absent)."""
        if index >= len(node.inputs) or not node.inputs[index]:
            return default
        c = self.const(node, node.inputs[index])
        if not c.known():
            raise node.error(f"input {index} ('{node.inputs[index]}') must be a constant the file stores.")
        return c.array

    def weight(self, node, index) -> Const | None:
        """An optional initializer input used as a weight (its bytes may be absent)."""
        if index >= len(node.inputs) or not node.inputs[index]:
            return None
        return self.held(node, self.const(node, node.inputs[index]), node.inputs[index])

    def held(self, node, c: Const, name: str) -> Const:
        """c as a weight: an initializer, or a folded constant whose array is kept under '@name'."""
        if c.init is None and c.known():
            c.init = f"@{name}"
            self.folded_weights[c.init] = c.array
        if c.init is None:
            raise node.error(f"input '{name}' must be an initializer.")
        return c

    def set(self, node, index, value):
        if index < len(node.outputs) and node.outputs[index]:
            self.values[node.outputs[index]] = value

    def new_act(self, layer, shape, perm, integer=False) -> Act:
        act = Act(layer, tuple(shape), tuple(perm), integer)
        have = self._shapes[layer]
        if act.spec_shape != tuple(have):
            raise AssertionError(f"layout bookkeeping: {act.spec_shape} != {have} for {layer}")  # pragma: no cover
        return act

    # ------------------------------------------------------------ layout

    def arrange(self, node, act: Act, want: tuple, what="input") -> Act:
        """act held in the order want (ONNX axes, batch first), adding a transpose layer if the data must move."""
        if act.perm == want:
            return act
        if want[0] != act.batch:
            raise node.error(f"its {what} would need the batch axis moved; the batch must stay the first axis.")
        size = act.shape
        present = [a for a in want if a in act.perm]
        data_order = [a for a in act.perm if a == act.batch or size[a] != 1]
        want_order = [a for a in want if a == act.batch or size[a] != 1]
        if data_order != want_order:
            axes = [act.perm.index(a) - 1 for a in present[1:]]
            name = self.emit(node, "transpose", {"axes": axes}, [act], suffix="transpose")
            act = self.new_act(name, act.shape, present, act.integer)
        if act.perm != want:
            target = [size[a] for a in want[1:]]
            if act.spec_shape != tuple(target):
                name = self.emit(node, "reshape", {"shape": target}, [act], suffix="reshape")
                act = self.new_act(name, act.shape, want, act.integer)
            else:
                act = Act(act.layer, act.shape, tuple(want), act.integer)
        return act

    # ------------------------------------------------------------ the walk

    def translate(self) -> dict:
        self._shapes = {}
        self.folded_weights = {}
        self.init_dims = {}
        for tensor in self.graph.initializer:
            self.values[tensor.name] = Const(
                tuple(tensor.dims), self._tensor_array(tensor), tensor.name, learned=tensor.data_type in _float_types()
            )
            self.init_dims[tensor.name] = tuple(tensor.dims)
        for sparse in self.graph.sparse_initializer:
            raise ModelError("sparse initializers are not supported.", node=sparse.values.name, op="sparse_initializer")
        self.inputs = []
        # an initializer may be listed as an input too (IR version 3)
        inputs = [vi for vi in self.graph.input if vi.name not in self.values]
        self.dims.check_inputs([vi.name for vi in inputs])
        for vi in inputs:
            self._graph_input(vi)
        self.dims.check_all_used()
        for node in self.nodes:
            if node.index in self.fused:
                continue
            self._node(node)
        self.outputs = []
        for vi in self.graph.output:
            v = self.values.get(vi.name)
            if not isinstance(v, Act):
                raise ModelError(
                    "the graph's output is a constant; there is nothing to count.", node=vi.name, op="output"
                )
            self.outputs.append((vi.name, v))
        name = self.graph.name or "model"
        producer = " ".join(p for p in (self.model.producer_name, self.model.producer_version) if p)
        doc = {
            "name": name,
            "description": f"Imported from the ONNX file {Path(self.file).name} (opset {self.opset}"
            + (f", exported by {producer}" if producer else "")
            + "). Layer names are the graph's node names; shapes are channels-last (H, W, C), the batch axis left out.",
            "layers": self.layers,
        }
        return doc

    def _tensor_array(self, tensor):
        """A small initializer's values (the large ones' bytes were skipped: dimensions only)."""
        if tensor.data_location == 1 or prod(tensor.dims) > MAX_FOLD:
            return None
        from onnx import numpy_helper

        if (
            not (
                tensor.raw_data
                or tensor.float_data
                or tensor.int32_data
                or tensor.int64_data
                or tensor.double_data
                or tensor.uint64_data
                or tensor.string_data
            )
            and prod(tensor.dims) > 0
        ):
            return None  # skipped bytes
        try:
            return numpy_helper.to_array(tensor)
        except Exception:  # noqa: BLE001 - a malformed tensor is reported where it is used
            return None

    def _graph_input(self, vi):
        from onnx import TensorProto

        tt = vi.type.tensor_type
        if not vi.type.HasField("tensor_type") or not tt.HasField("shape"):
            raise ModelError("a graph input without a tensor shape is not supported.", node=vi.name, op="input")
        dims = [
            d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else d.dim_param or None for d in tt.shape.dim
        ]
        shape = self.dims.resolve(vi.name, dims)
        integer = tt.elem_type in (TensorProto.INT64, TensorProto.INT32)
        rank = len(shape)
        # images are held channels-last; a ReduceMean on a 4-D input is a global pool over (H, W)
        spatial = any(n.op in SPATIAL or (n.op == "ReduceMean" and rank == 4) for n in self.consumers.get(vi.name, ()))
        perm = (0,) + tuple(range(2, rank)) + (1,) if rank >= 3 and spatial else tuple(range(rank))
        if rank < 2:
            raise ModelError(
                f"an input of rank {rank}; inputs are batch first, (N, ...) with at least one axis besides the batch.",
                node=vi.name,
                op="input",
            )
        name = self.layer_name(vi.name)
        spec_shape = [shape[a] for a in perm[1:]]
        self.layers.append({"name": name, "type": "input", "shape": spec_shape})
        self._shapes[name] = tuple(spec_shape)
        act = Act(name, tuple(shape), perm, integer)
        self.values[vi.name] = act
        self.inputs.append((vi.name, act))

    def _node(self, node):
        if node.domain not in ("", "ai.onnx"):
            raise self._unsupported(node, f"{node.domain}.{node.op}")
        ins = [self.values.get(n) if n else None for n in node.inputs]
        if node.op in FOLD and node.op not in SYMBOLIC and all(v is None or isinstance(v, Const) for v in ins):
            # arithmetic on weights (a recurrent layer's gates reordered by Slice and Concat): read those weights now
            ins = [v if v is None or v.known() else self._loaded(node, v) for v in ins]
        known = all(v is None or (isinstance(v, Const) and v.known()) for v in ins)
        if node.op == "Shape" or (node.op in FOLD and known):
            try:
                outs = FOLD[node.op](self, node, *[v.array if isinstance(v, Const) else None for v in ins])
            except FlopcountError:
                raise
            except Exception as err:  # noqa: BLE001 - numpy's complaint about an impossible constant
                raise node.error(f"cannot compute this constant: {err}") from None
            # a float result of a learned weight is learned too (a class token expanded); shapes and masks are not
            learned = any(isinstance(v, Const) and v.learned for v in ins)
            for i, array in enumerate(outs):
                if array.size > MAX_FOLD:
                    raise node.error(f"computes a constant of {array.size:,} elements, more than {MAX_FOLD:,}.")
                self.set(node, i, Const(tuple(array.shape), array, learned=learned and array.dtype.kind == "f"))
            return
        fn = OPS.get(node.op)
        if fn is None:
            raise self._unsupported(node, node.op)
        for name in node.inputs:
            if name and name not in self.values and name not in self.pending_names:
                self.value(node, name)
        try:
            fn(self, node)
        except FlopcountError:
            raise
        except (IndexError, KeyError, TypeError, ValueError, AttributeError, ZeroDivisionError) as err:
            # a node missing an input or attribute its operator requires: bad input, never a traceback
            raise node.error(
                f"is malformed for {node.op} (inputs {node.inputs}): {type(err).__name__}: {err}"
            ) from None

    def _loaded(self, node, c: Const) -> Const:
        """c with its values, read from the file (a weight whose bytes were skipped) through its steps."""
        if c.init is None or prod(c.dims) > MAX_LOAD:
            raise node.error(f"computes with a constant of shape {list(c.dims)} whose values are not at hand.")
        try:
            array = self.load(c.init, c.steps)
        except SpecError as err:
            raise node.error(f"needs the values of '{c.init}': {err.message}") from None
        return Const(c.dims, array, c.init, c.steps, c.learned)

    load = None  # set by read_onnx: (initializer name, steps) -> array

    def _unsupported(self, node, op_name):
        if op_name in FOLD:
            computed = next(n for n in node.inputs if n and not isinstance(self.values.get(n), Const))
            return node.error(
                f"{op_name} is translated only on constants (computed at import), but its input '{computed}' is "
                f"computed at run time here. Operators translated on computed tensors: {', '.join(sorted(OPS))}."
            )
        return node.error(f"unsupported operator {op_name}. Supported: {', '.join(supported_operators())}.")


# operators that pass a weight through without its values (its dimensions, or a step of it)
SYMBOLIC = {"Shape", "Transpose", "Expand", "Identity", "Cast", "CastLike"}
SPATIAL = {
    "Conv",
    "ConvTranspose",
    "MaxPool",
    "AveragePool",
    "GlobalAveragePool",
    "GlobalMaxPool",
    "Upsample",
    "BatchNormalization",
    "Pad",
    "Resize",
    "InstanceNormalization",
    "GroupNormalization",
}


# ---------------------------------------------------------------- shared attribute helpers


def _ints(node, name, default, rank):
    value = node.attrs.get(name)
    if value is None:
        return [default] * rank
    value = list(value)
    if len(value) != rank:
        raise node.error(f"must have {rank} values.", attribute=name, received=value)
    return value


def _window(t, node, x: Act, kernel):
    """stride, dilation and spec padding of a 1-, 2- or 3-D sliding window from ONNX attributes."""
    rank = len(kernel)
    if rank != x.rank - 2:
        raise node.error(
            f"a {rank}-D window on an input of shape {list(x.shape)}.", attribute="kernel_shape", received=list(kernel)
        )
    strides = _ints(node, "strides", 1, rank)
    dilations = _ints(node, "dilations", 1, rank)
    auto = node.attrs.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto in ("NOTSET", ""):
        pads = _ints(node, "pads", 0, 2 * rank)
        if any(p < 0 for p in pads):
            raise node.error("negative padding is not supported.", attribute="pads", received=pads)
        return strides, dilations, _padding([[pads[a], pads[a + rank]] for a in range(rank)])
    if auto == "VALID":
        return strides, dilations, "valid"
    if auto == "SAME_UPPER":
        return strides, dilations, "same"  # TensorFlow's rule: the odd pixel at the end
    if auto == "SAME_LOWER":
        out = []
        for size, k, s, d in zip(x.shape[2:], kernel, strides, dilations):
            o = -(-size // s)
            total = max((o - 1) * s + d * (k - 1) + 1 - size, 0)
            out.append([total - total // 2, total // 2])  # the odd pixel at the start
        return strides, dilations, out
    raise node.error("must be NOTSET, SAME_UPPER, SAME_LOWER or VALID.", attribute="auto_pad", received=auto)


def _pair(values):
    """One value for every axis when they agree, else the list (a spec's kernel 3 or [1, 5])."""
    values = list(values)
    return values[0] if all(v == values[0] for v in values) else values


def _padding(pairs):
    """A spec padding from (before, after) per axis: 'valid', one amount, one per axis, or the pairs."""
    if all(b == a for b, a in pairs):
        return "valid" if all(b == 0 for b, _ in pairs) else _pair([b for b, _ in pairs])
    return [list(p) for p in pairs]


def _suffix(rank, two=""):
    """A layer type's rank suffix: conv1d, conv3d; two for rank 2 ('2d' for convolutions, '' for pools)."""
    return two if rank == 2 else f"{rank}d"


def _spatial_input(t, node, index=0, ranks=(4,)) -> Act:
    x = t.act(node, index)
    if x.rank not in ranks:
        wanted = ", ".join(f"{r - 2}-D {LAYOUTS[r]}" for r in ranks)
        raise node.error(f"takes a {wanted} input here, but its input has shape {list(x.shape)}.")
    return t.arrange(node, x, x.channels_last())


SLIDING = (3, 4, 5)  # ranks of 1-, 2- and 3-D windows' inputs
LAYOUTS = {3: "(N, C, L)", 4: "(N, C, H, W)", 5: "(N, C, D, H, W)"}


# ---------------------------------------------------------------- operators that become layers


@op("Conv")
def _conv(t, node):
    x = _spatial_input(t, node, ranks=SLIDING)
    w = t.weight(node, 1)
    rank = x.rank - 2
    if len(w.dims) != x.rank:
        raise node.error(
            f"a weight of shape {list(w.dims)} for an input of shape {list(x.shape)}.", received=list(w.dims)
        )
    m, cg, *taps = w.dims
    kernel = list(node.attrs.get("kernel_shape", taps))
    if kernel != taps:
        raise node.error("does not match the weight's kernel.", attribute="kernel_shape", received=kernel)
    strides, dilations, padding = _window(t, node, x, kernel)
    groups = node.attrs.get("group", 1)
    c = x.shape[1]
    bias = t.weight(node, 2)
    spatial = tuple(range(2, rank + 2))
    attrs = {"kernel": _pair(taps), "stride": _pair(strides), "padding": padding, "dilation": _pair(dilations)}
    if attrs["stride"] == 1:
        del attrs["stride"]
    if attrs["dilation"] == 1:
        del attrs["dilation"]
    weights = {}
    if groups == c and cg == 1 and groups > 1:
        mult = m // c
        layer_type = "depthwise_conv" + _suffix(rank, "2d")
        if mult != 1:
            attrs["multiplier"] = mult
        weights["kernel"] = _ref(w, (("reshape", (c, mult, *taps)), ("transpose", (*spatial, 0, 1))))
    else:
        layer_type = "conv" + _suffix(rank, "2d")
        attrs = {"filters": m, **attrs}
        if groups != 1:
            attrs["groups"] = groups
        weights["kernel"] = _ref(w, (("transpose", (*spatial, 1, 0)),))
    attrs["bias"] = bias is not None
    if bias is not None:
        weights["bias"] = _ref(bias)
    name = t.emit(node, layer_type, attrs, [x], weights)
    *out, _ = t._shapes[name]
    t.set(node, 0, t.new_act(name, (x.shape[0], m, *out), x.channels_last()))


def _dense(t, node, x: Act, kernel: WeightRef, units: int, bias: WeightRef | None, out_shape):
    x = t.arrange(node, x, x.perm if x.perm[-1] == x.rank - 1 else x.native())
    attrs = {"units": units, "bias": bias is not None}
    weights = {"kernel": kernel}
    if bias is not None:
        weights["bias"] = bias
    name = t.emit(node, "dense", attrs, [x], weights)
    return t.new_act(name, out_shape, x.perm)


def _bias_ref(t, node, c: Const, units, scale=1.0):
    """A bias initializer of shape (units,), (1, units) or a scalar, as a (units,) weight."""
    if prod(c.dims) == units and all(d == 1 for d in c.dims[:-1]) and c.dims:
        steps = (("reshape", (units,)),)
    elif prod(c.dims) == 1:
        steps = (("reshape", ()), ("broadcast", (units,)))
    else:
        raise node.error(f"a bias of shape {list(c.dims)} does not broadcast to ({units},) as a per-unit bias.")
    if scale != 1.0:
        steps += (("scale", scale),)
    return _ref(c, steps)


@op("Gemm")
def _gemm(t, node):
    a = t.act(node, 0)
    if a.rank != 2:
        raise node.error(f"takes a 2-D input here, but its input has shape {list(a.shape)}.")
    if node.attrs.get("transA", 0):
        raise node.error("transA=1 (a transposed activation) is not supported.", attribute="transA", received=1)
    if not isinstance(t.value(node, node.inputs[1]), Const):
        raise node.error("a Gemm of two computed tensors is not supported; B must be an initializer.")
    b = t.weight(node, 1)
    alpha = node.attrs.get("alpha", 1.0)
    beta = node.attrs.get("beta", 1.0)
    trans_b = node.attrs.get("transB", 0)
    if len(b.dims) != 2:
        raise node.error(f"B must be a matrix, not of shape {list(b.dims)}.")
    units = b.dims[0] if trans_b else b.dims[1]
    steps = (("transpose", (1, 0)),) if trans_b else ()
    if alpha != 1.0:
        steps += (("scale", alpha),)
    c = t.weight(node, 2)
    bias = None if c is None or beta == 0 else _bias_ref(t, node, c, units, beta)
    t.set(node, 0, _dense(t, node, a, _ref(b, steps), units, bias, (a.shape[0], units)))


@op("MatMul")
def _matmul(t, node):
    a = t.act(node, 0)
    b = t.value(node, node.inputs[1])
    if not isinstance(b, Const):
        _matmul_tensors(t, node, a, b)
        return
    if len(b.dims) != 2 or a.rank < 2:
        raise node.error(
            f"translated only as (..., K) x (K, M) with a constant (K, M); received {list(a.shape)} x {list(b.dims)}."
        )
    w = t.weight(node, 1)
    units = b.dims[1]
    bias = None
    out = node.outputs[0]
    readers = t.consumers.get(out, [])
    # PyTorch's Linear on a sequence exports as MatMul then Add of the bias: one dense layer
    if len(readers) == 1 and readers[0].op == "Add" and out not in {o.name for o in t.graph.output}:
        add = readers[0]
        other = add.inputs[1] if add.inputs[0] == out else add.inputs[0]
        c = t.values.get(other)
        if isinstance(c, Const) and c.dims and prod(c.dims) == units and c.dims[-1] == units:
            bias = _bias_ref(t, add, t.weight(add, add.inputs.index(other)), units)
            t.fused.add(add.index)
    result = _dense(t, node, a, _ref(w), units, bias, (*a.shape[:-1], units))
    # with the bias joined, the layer computes the Add's output; the product alone exists nowhere
    t.set(readers[0] if bias is not None else node, 0, result)


def _matmul_tensors(t, node, a: Act, b: Act):
    """(..., m, k) x (..., k, n) of two computed tensors (attention's scores and mix): a matmul layer."""
    if a.rank != b.rank or a.rank < 3 or a.batch != b.batch or a.shape[:-2] != b.shape[:-2]:
        raise node.error(
            f"a MatMul of computed tensors is translated with equal leading axes, batch included; "
            f"received {list(a.shape)} x {list(b.shape)}."
        )
    if a.batch >= a.rank - 2:
        raise node.error("multiplies along the batch axis.")
    a, attrs = _operand(t, node, a, "transpose_a")
    b, more = _operand(t, node, b, "transpose_b")
    attrs.update(more)
    name = t.emit(node, "matmul", attrs, [a, b])
    shape = (*a.shape[:-2], a.shape[-2], b.shape[-1])
    t.set(node, 0, t.new_act(name, shape, a.native()))


def _operand(t, node, x: Act, flag):
    """A matmul operand held in ONNX order, or with its last two axes swapped (the layer then reads it transposed)."""
    native = x.native()
    swapped = native[:-2] + (native[-1], native[-2])
    if x.perm == swapped:
        return x, {flag: True}
    return t.arrange(node, x, native), {}


@op("BatchNormalization")
def _batch_norm(t, node):
    x = t.act(node, 0)
    if node.attrs.get("training_mode", 0):
        raise node.error(
            "training_mode=1 is not supported; export the model in inference mode.",
            attribute="training_mode",
            received=1,
        )
    if node.attrs.get("spatial", 1) != 1:
        raise node.error("spatial=0 is not supported.", attribute="spatial", received=0)
    if any(o for o in node.outputs[1:]):
        raise node.error("its training outputs (running mean and variance) are read; export in inference mode.")
    want = x.channels_last() if x.rank >= 3 else x.native()
    x = t.arrange(node, x, want if x.perm[-1] != 1 else x.perm)
    scale, shift, mean, var = (t.weight(node, i) for i in (1, 2, 3, 4))
    eps = node.attrs.get("epsilon", 1e-5)
    weights = {"gamma": _ref(scale), "beta": _ref(shift), "moving_mean": _ref(mean), "moving_variance": _ref(var)}
    name = t.emit(node, "batch_norm", {"epsilon": _float32(eps)}, [x], weights)
    t.set(node, 0, t.new_act(name, x.shape, x.perm))


def _activation(t, node, fn, alpha=None):
    x = t.act(node, 0)
    attrs = {"fn": fn}
    if alpha is not None:
        attrs["alpha"] = _float32(alpha)
    name = t.emit(node, "activation", attrs, [x])
    t.set(node, 0, t.new_act(name, x.shape, x.perm))


# operator -> (activation fn, its alpha attribute's ONNX default or None)
ACTIVATIONS = {
    "Relu": ("relu", None),
    "Tanh": ("tanh", None),
    "HardSwish": ("hard_swish", None),
    "LeakyRelu": ("leaky_relu", 0.01),
    "Elu": ("elu", 1.0),
}


@op(*ACTIVATIONS)
def _plain_activation(t, node):
    fn, alpha = ACTIVATIONS[node.op]
    _activation(t, node, fn, None if alpha is None else node.attrs.get("alpha", alpha))


@op("Sigmoid")
def _sigmoid(t, node):
    # x * sigmoid(x) is how exporters write SiLU / swish: one swish layer
    out = node.outputs[0]
    readers = t.consumers.get(out, [])
    if len(readers) == 1 and readers[0].op == "Mul" and set(readers[0].inputs) == {node.inputs[0], out}:
        x = t.act(node, 0)
        name = t.emit(node, "activation", {"fn": "swish"}, [x])
        t.fused.add(readers[0].index)
        t.values[readers[0].outputs[0]] = t.new_act(name, x.shape, x.perm)
        return
    _activation(t, node, "sigmoid")


def _close32(a, b):
    return abs(a - b) <= 1e-6 * max(1.0, abs(b))


@op("HardSigmoid")
def _hard_sigmoid(t, node):
    alpha, beta = node.attrs.get("alpha", 0.2), node.attrs.get("beta", 0.5)
    if not (_close32(alpha, 1 / 6) and _close32(beta, 0.5)):
        raise node.error(
            "only max(0, min(1, x/6 + 1/2)) (alpha=1/6, beta=0.5, PyTorch's and Keras 3's) is translated.",
            attribute="alpha",
            received=[alpha, beta],
        )
    _activation(t, node, "hard_sigmoid")


@op("Gelu")
def _gelu(t, node):
    approx = node.attrs.get("approximate", b"none")
    approx = approx.decode() if isinstance(approx, bytes) else approx
    if approx != "none":
        raise node.error("only the exact (erf) GELU is translated.", attribute="approximate", received=approx)
    _activation(t, node, "gelu")


@op("Clip")
def _clip(t, node):
    if t.opset < 11:
        lo, hi = node.attrs.get("min"), node.attrs.get("max")
    else:
        lo, hi = (t.const_input(node, i) for i in (1, 2))
        lo, hi = (None if v is None else float(v) for v in (lo, hi))
    if lo == 0 and hi == 6:
        _activation(t, node, "relu6")
    elif lo == 0 and (hi is None or hi == float("inf")):
        _activation(t, node, "relu")
    else:
        raise node.error(
            "only Clip(0, 6) (ReLU6) and Clip(0, inf) (ReLU) are translated.", attribute="min", received=[lo, hi]
        )


@op("Softmax")
def _softmax(t, node):
    x = t.act(node, 0)
    axis = node.attrs.get("axis", -1 if t.opset >= 13 else 1)
    axis = axis % x.rank if -x.rank <= axis < x.rank else None
    if axis is None or axis == x.batch:
        raise node.error("must name an axis other than the batch.", attribute="axis", received=node.attrs.get("axis"))
    if t.opset < 13 and axis != x.rank - 1:
        raise node.error(
            "before opset 13, Softmax flattens from axis on; only the last axis is translated.",
            attribute="axis",
            received=axis,
        )
    if x.perm[-1] != axis:
        x = t.arrange(node, x, tuple(a for a in x.native() if a != axis) + (axis,))
    name = t.emit(node, "softmax", {}, [x])
    t.set(node, 0, t.new_act(name, x.shape, x.perm))


def _pool(t, node, layer_type):
    x = _spatial_input(t, node, ranks=SLIDING)
    kernel = list(node.attrs.get("kernel_shape", []))
    strides, dilations, padding = _window(t, node, x, kernel)
    layer_type += _suffix(x.rank - 2)
    if any(d != 1 for d in dilations):
        raise node.error("dilated pooling is not supported.", attribute="dilations", received=dilations)
    if len(node.outputs) > 1 and node.outputs[1]:
        raise node.error("its Indices output is read; only the pooled values are translated.")
    attrs = {"pool": _pair(kernel), "stride": _pair(strides), "padding": padding}
    if node.attrs.get("ceil_mode", 0):
        attrs["ceil_mode"] = True  # PyTorch's and ONNX Runtime's rule: a last window must start inside the input
    if layer_type.startswith("avg_pool") and node.attrs.get("count_include_pad", 0):
        attrs["count_include_pad"] = True
    name = t.emit(node, layer_type, attrs, [x])
    *out, c = t._shapes[name]
    t.set(node, 0, t.new_act(name, (x.shape[0], c, *out), x.channels_last()))


@op("MaxPool")
def _max_pool(t, node):
    if node.attrs.get("storage_order", 0) and len(node.outputs) > 1 and node.outputs[1]:
        raise node.error("storage_order is not supported.", attribute="storage_order")
    _pool(t, node, "max_pool")


@op("AveragePool")
def _avg_pool(t, node):
    _pool(t, node, "avg_pool")


FLATTENING = {"Flatten", "Reshape", "Squeeze", "Shape", "Size"}  # readers that need no (1, 1, C) map


def _global_pool(t, node, layer_type):
    x = _spatial_input(t, node, ranks=SLIDING)
    n, c, *size = x.shape
    units = (n, c) + (1,) * len(size)
    if all(r.op in FLATTENING for r in t.consumers.get(node.outputs[0], [])):
        # ONNX keeps (N, C, 1, ...); the spec's (C,) holds the same data, the unit axes left out
        name = t.emit(node, layer_type, {}, [x])
        t.set(node, 0, t.new_act(name, units, (0, 1)))
        return
    # read as a map again (squeeze-and-excitation): the same window and cost, keeping (1, ..., C)
    if layer_type == "global_max_pool":
        name = t.emit(node, "max_pool" + _suffix(len(size)), {"pool": _pair(size)}, [x])
    elif len(size) == 2:
        name = t.emit(node, "adaptive_avg_pool", {"size": 1}, [x])
    else:
        name = t.emit(node, "mean", {"axes": list(range(len(size))), "keepdims": True}, [x])
    t.set(node, 0, t.new_act(name, units, x.channels_last()))


@op("GlobalAveragePool")
def _global_avg_pool(t, node):
    _global_pool(t, node, "global_avg_pool")


@op("GlobalMaxPool")
def _global_max_pool(t, node):
    _global_pool(t, node, "global_max_pool")


@op("ReduceMean")
def _reduce_mean(t, node):
    x = t.act(node, 0)
    if t.opset >= 18:
        axes = t.const_input(node, 1)
        axes = None if axes is None else [int(a) for a in axes.reshape(-1)]
    else:
        axes = node.attrs.get("axes")
        axes = None if axes is None else list(axes)
    keep = node.attrs.get("keepdims", 1)
    axes = None if axes is None else sorted(a % x.rank for a in axes)
    if x.rank == 4 and axes == [2, 3]:
        # the mean over height and width is a global average pool
        x = t.arrange(node, x, x.channels_last())
        name = t.emit(node, "global_avg_pool", {}, [x])
        n, c = x.shape[:2]
        shape = (n, c, 1, 1) if keep else (n, c)
        t.set(node, 0, t.new_act(name, shape, (0, 1)))
        return
    axes = list(range(x.rank)) if axes is None else axes
    if x.batch in axes:
        raise node.error("averages over the batch axis.", attribute="axes", received=axes)
    x = x if all(a in x.perm for a in axes) else t.arrange(node, x, x.native())
    attrs = {"axes": [x.perm.index(a) - 1 for a in axes]}
    if keep:
        attrs["keepdims"] = True
    name = t.emit(node, "mean", attrs, [x])
    if keep:
        t.set(node, 0, t.new_act(name, tuple(1 if a in axes else d for a, d in enumerate(x.shape)), x.perm))
    else:
        kept = [a for a in range(x.rank) if a not in axes]
        perm = tuple(-1 if a == -1 else kept.index(a) for a in x.perm if a == -1 or a in kept)
        t.set(node, 0, t.new_act(name, tuple(x.shape[a] for a in kept), perm))


@op("Flatten")
def _flatten(t, node):
    x = t.act(node, 0)
    axis = node.attrs.get("axis", 1)
    axis = axis % x.rank if axis < 0 else axis
    if axis != 1 or x.batch != 0:
        raise node.error(
            "only Flatten at axis 1, with the batch first, is translated.", attribute="axis", received=axis
        )
    x = t.arrange(node, x, tuple(a for a in x.native() if a in x.perm or x.shape[a] != 1))
    out = (x.shape[0], prod(x.shape[1:]))
    if len(x.spec_shape) == 1:
        t.set(node, 0, Act(x.layer, out, (0, 1), x.integer))  # already flat: nothing to do
        return
    name = t.emit(node, "flatten", {}, [x])
    t.set(node, 0, t.new_act(name, out, (0, 1)))


def _scalar(c: Const):
    """The float value of a constant with one element, else None."""
    if c.known() and c.array.size == 1:
        return float(c.array.reshape(-1)[0])
    return None


@op("Add", "Sum", "Sub", "Mul", "Div")
def _arithmetic(t, node):
    """Element-wise arithmetic of tensors that broadcast (add, subtract, multiply, divide), or with a scalar (rescale)."""
    xs = [t.value(node, n) for n in node.inputs if n]
    consts = [v for v in xs if isinstance(v, Const)]
    if consts and (len(xs) != 2 or len(consts) != 1 or _scalar(consts[0]) is None):
        # a learned tensor (a position embedding, a layer scale, a per-channel mean) added, multiplied... in
        act = next((v for v in xs if isinstance(v, Act)), None)
        if act is None or len(consts) != 1:
            raise node.error(
                f"{node.op} with a constant of shape {list(consts[0].dims)} is not translated; "
                "arithmetic of computed tensors and one constant tensor is."
            )
        xs = [_param(t, node, v, act) if isinstance(v, Const) else v for v in xs]
        consts = []
    if consts:
        x = next(v for v in xs if isinstance(v, Act))
        c = _scalar(consts[0])
        first = isinstance(xs[0], Act)
        if node.op in ("Mul", "Div") and first | (node.op == "Mul") and _feeds_gelu(t, node):
            # x / sqrt(2) or 0.5 x inside a GELU written out: the Erf node makes the whole a gelu layer
            t.pending_scale[node.index] = (x, 1.0 / c if node.op == "Div" else c)
            t.pending_names.add(node.outputs[0])
            return
        if node.op == "Div" and not first:
            raise node.error("Div of a constant by a computed tensor is not translated.")
        if node.op == "Div" and c == 0:
            raise node.error("divides by zero.")
        # c - x is -x + c
        scale, offset = {
            "Add": (1.0, c),
            "Sum": (1.0, c),
            "Sub": (1.0, -c) if first else (-1.0, c),
            "Mul": (c, 0.0),
            "Div": (1.0 / c, 0.0),
        }[node.op]
        attrs = {"scale": _float32(scale)}
        if offset:
            attrs["offset"] = _float32(offset)
        name = t.emit(node, "rescale", attrs, [x])
        t.set(node, 0, t.new_act(name, x.shape, x.perm))
        return
    layer_type = {"Add": "add", "Sum": "add", "Sub": "subtract", "Mul": "multiply", "Div": "divide"}[node.op]
    t.set(node, 0, _elementwise(t, node, layer_type, xs))


def _elementwise(t, node, layer_type, xs, suffix=None) -> Act:
    """One layer of an element-wise operation on tensors that broadcast, each held in one order."""
    rank = max(x.rank for x in xs)
    shape = []
    for a in range(rank):
        sizes = {x.shape[a - rank + x.rank] for x in xs if a - rank + x.rank >= 0} - {1}
        if len(sizes) > 1:
            raise node.error(f"its inputs' shapes {', '.join(str(list(x.shape)) for x in xs)} do not broadcast.")
        shape.append(sizes.pop() if sizes else 1)
    big = next((x for x in xs if list(x.shape) == shape), None) or next(x for x in xs if x.rank == rank)
    # the order every input is held in: the full-size input's, or ONNX order when that one leaves an axis out
    order = big.perm if len(big.perm) == rank else big.native()
    arranged = []
    for x in xs:
        offset = rank - x.rank
        if x.rank != rank or x.batch != big.batch - offset:
            raise node.error(
                "broadcasts across the batch axis; only inputs with the batch first and the same rank are translated."
            )
        arranged.append(t.arrange(node, x, tuple(a - offset for a in order if a - offset >= 0)))
    name = t.emit(node, layer_type, {}, arranged, suffix=suffix)
    return t.new_act(name, shape, order)


@op("Where")
def _where(t, node):
    """Where(mask, x, fill) with a constant mask: x where the mask holds, the fill elsewhere (attention masks).

    With a fill of -inf or float32's lowest value, the softmax mask idiom, x + fill is fill for every
    score below 1e31 in magnitude, so the Where is one add of a fixed tensor (0 where kept, the fill
    elsewhere), as in models that add their mask. Any other fill is x times a fixed 0/1 tensor, plus
    the fill where it replaces x. The fixed tensors are parameters, trainable only if learned.
    """
    np = _np()
    cond, a, b = (t.value(node, n) for n in node.inputs[:3])
    if not isinstance(cond, Const) or isinstance(a, Act) == isinstance(b, Act):
        raise node.error(
            "Where is translated with a constant condition (a mask) choosing between a computed tensor and a "
            "constant; here the condition is computed, or both or neither of the choices are."
        )
    cond = cond if cond.known() else t._loaded(node, cond)
    x, fill = (a, b) if isinstance(a, Act) else (b, a)
    fill = fill if fill.known() else t._loaded(node, fill)
    keep = cond.array.astype(bool) if x is a else ~cond.array.astype(bool)
    try:
        shape = np.broadcast_shapes(keep.shape, fill.array.shape, x.shape)
    except ValueError:
        shape = None
    if shape != tuple(x.shape):
        raise node.error(
            f"a mask of shape {list(keep.shape)} and a fill of shape {list(fill.array.shape)} do not broadcast "
            f"to the computed tensor's shape {list(x.shape)}."
        )
    if keep.all():
        t.set(node, 0, x)  # nothing masked
        return
    values = np.where(keep, np.zeros((), fill.array.dtype), fill.array)
    dropped = values[~np.broadcast_to(keep, values.shape)]
    lowest = np.finfo(np.float32).min
    if np.all((dropped == -np.inf) | (dropped <= lowest)):
        offset = _fixed(t, node, values, "fill", fill.learned)
        t.set(node, 0, _elementwise(t, node, "add", [x, _param(t, node, offset, x, "fill")]))
        return
    scale = _fixed(t, node, keep.astype(np.float32), "keep", False)
    y = _elementwise(t, node, "multiply", [x, _param(t, node, scale, x, "keep")], suffix="masked")
    if values.any():
        offset = _fixed(t, node, values, "fill", fill.learned)
        y = _elementwise(t, node, "add", [y, _param(t, node, offset, x, "fill")])
    t.set(node, 0, y)


def _fixed(t, node, array, key, learned) -> Const:
    """An array computed at import, kept as a weight under '@<node output>.key'."""
    c = Const(tuple(array.shape), array, learned=learned and array.dtype.kind == "f")
    return t.held(node, c, f"{node.outputs[0]}.{key}")


@op("Concat")
def _concat(t, node):
    xs = [t.value(node, n) for n in node.inputs if n]
    acts = [x for x in xs if isinstance(x, Act)]
    if not acts:
        raise node.error("concatenates only constants, but is not computed at import.")  # pragma: no cover - folded
    # a constant joined to computed tensors (ViT's class token) is a learned parameter tensor
    xs = [_param(t, node, x, acts[0], suffix=f"constant{i}") if isinstance(x, Const) else x for i, x in enumerate(xs)]
    first = xs[0]
    axis = node.attrs.get("axis")
    if axis is None or not -first.rank <= axis < first.rank:
        raise node.error(f"must be an axis of the rank-{first.rank} inputs.", attribute="axis", received=axis)
    axis %= first.rank
    if axis == first.batch:
        raise node.error("concatenating along the batch axis is not supported.", attribute="axis", received=axis)
    want = first.perm if axis in first.perm else first.native()
    xs = [t.arrange(node, x, want) for x in xs]
    shape = list(first.shape)
    shape[axis] = sum(x.shape[axis] for x in xs)
    spec_axis = xs[0].perm.index(axis) - 1
    attrs = {} if spec_axis == len(want) - 2 else {"axis": spec_axis}
    if len(xs) == 1:
        t.set(node, 0, xs[0])
        return
    name = t.emit(node, "concat", attrs, xs)
    t.set(node, 0, t.new_act(name, shape, want))


@op("Dropout")
def _dropout(t, node):
    x = t.act(node, 0)
    if t.opset < 12:
        ratio = node.attrs.get("ratio", 0.5)
    else:
        ratio = t.const_input(node, 1)
        ratio = 0.5 if ratio is None else float(ratio)
        training = t.const_input(node, 2)
        if training is not None and bool(training):
            raise node.error("training_mode is true; export the model in inference mode.")
    if len(node.outputs) > 1 and node.outputs[1]:
        raise node.error("its mask output is read; only the inference form is translated.")
    name = t.emit(node, "dropout", {"rate": _float32(ratio)}, [x])
    t.set(node, 0, t.new_act(name, x.shape, x.perm))


@op("Identity", "Cast", "CastLike", "Expand")
def _identity(t, node):
    """A no-op on what is translated: float casts of activations, and a weight passed through unchanged."""
    x = t.value(node, node.inputs[0])
    if node.op == "Expand":
        target = [int(v) for v in t.const_input(node, 1).reshape(-1)]
        dims = x.dims if isinstance(x, Const) else x.shape
        full = [1] * (len(target) - len(dims)) + list(dims)
        out = [max(a, b) for a, b in zip(full, [1] * (len(full) - len(target)) + target)]
        if out != list(dims):
            raise node.error(f"expands {list(dims)} to {out}; only an Expand that keeps the shape is translated.")
    elif node.op in ("Cast", "CastLike") and isinstance(x, Act):
        from onnx import TensorProto

        to = node.attrs.get("to") if node.op == "Cast" else None
        if to is not None and to not in (
            TensorProto.FLOAT,
            TensorProto.FLOAT16,
            TensorProto.DOUBLE,
            TensorProto.BFLOAT16,
        ):
            raise node.error(
                "casting a computed tensor to a non-float type is not supported.", attribute="to", received=to
            )
    t.set(node, 0, x)


@op("Pad")
def _pad(t, node):
    x = t.act(node, 0)
    mode = node.attrs.get("mode", b"constant")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    if mode != "constant":
        raise node.error("only constant (zero) padding is translated.", attribute="mode", received=mode)
    if t.opset < 11:
        pads, value, axes = node.attrs.get("pads"), node.attrs.get("value", 0.0), None
    else:
        pads = t.const_input(node, 1)
        value = t.const_input(node, 2, 0.0)
        axes = t.const_input(node, 3)
    pads = [int(p) for p in list(getattr(pads, "tolist", lambda: pads)())]
    value = float(value) if not hasattr(value, "size") or value.size else 0.0
    if value != 0:
        raise node.error("only zero padding is translated.", attribute="value", received=value)
    rank = x.rank
    if axes is not None:
        full = [0] * (2 * rank)
        for i, a in enumerate(int(a) % rank for a in axes.tolist()):
            full[a], full[a + rank] = pads[i], pads[i + len(axes)]
        pads = full
    if len(pads) != 2 * rank or any(p < 0 for p in pads):
        raise node.error(
            "must give a non-negative amount before and after every axis.", attribute="pads", received=pads
        )
    if rank not in SLIDING or any(pads[a] or pads[a + rank] for a in (0, 1)):
        raise node.error(
            "only padding of the spatial axes of an (N, C, L), (N, C, H, W) or (N, C, D, H, W) tensor is translated.",
            attribute="pads",
            received=pads,
        )
    x = t.arrange(node, x, x.channels_last())
    padding = [[pads[a], pads[a + rank]] for a in range(2, rank)]
    name = t.emit(node, "zero_pad" + _suffix(rank - 2), {"padding": padding}, [x])
    *size, c = t._shapes[name]
    t.set(node, 0, t.new_act(name, (x.shape[0], c, *size), x.channels_last()))


def _relabel(t, node, x: Act, shape, mapping):
    """An Act with new ONNX axes: mapping[new axis] = old axis, or None for a new unit axis."""
    perm = tuple(-1 if a == -1 else mapping.index(a) for a in x.perm if a == -1 or a in mapping)
    if len(perm) != len([a for a in x.perm]):
        raise node.error("drops an axis the data still has.")  # pragma: no cover - squeezing checks sizes first
    t.set(node, 0, Act(x.layer, tuple(shape), perm, x.integer))


@op("Transpose")
def _transpose(t, node):
    v = t.value(node, node.inputs[0])
    if isinstance(v, Const):  # a weight whose bytes were skipped, transposed: a step of the weight
        axes = tuple(node.attrs.get("perm", range(len(v.dims) - 1, -1, -1)))
        t.set(
            node,
            0,
            Const(tuple(v.dims[a] for a in axes), None, v.init, v.steps + (("transpose", axes),), v.learned),
        )
        return
    x = t.act(node, 0)
    axes = list(node.attrs.get("perm", range(x.rank - 1, -1, -1)))
    if sorted(axes) != list(range(x.rank)):
        raise node.error(f"must be a permutation of the {x.rank} axes.", attribute="perm", received=axes)
    _relabel(t, node, x, [x.shape[a] for a in axes], axes)


def _axes(t, node, rank, position=1):
    if t.opset >= 13:
        axes = t.const_input(node, position)
        axes = None if axes is None else [int(a) for a in axes.reshape(-1)]
    else:
        axes = node.attrs.get("axes")
        axes = None if axes is None else list(axes)
    if axes is not None and any(not -rank <= a < rank for a in axes):
        raise node.error(f"must be axes of a rank-{rank} tensor.", attribute="axes", received=axes)
    return None if axes is None else sorted(a % rank for a in axes)


@op("Squeeze")
def _squeeze(t, node):
    x = t.act(node, 0)
    axes = _axes(t, node, x.rank)
    if axes is None:
        axes = [a for a in range(x.rank) if x.shape[a] == 1 and a != x.batch]
    if x.batch in axes or any(x.shape[a] != 1 for a in axes):
        raise node.error("squeezes an axis that is not of size 1 or is the batch.", attribute="axes", received=axes)
    keep = [a for a in range(x.rank) if a not in axes]
    dropped = [a for a in x.perm if a in axes]
    if dropped:  # the spec holds these unit axes: reshape them away
        x = t.arrange(node, x, tuple(a for a in x.perm if a not in axes))
    _relabel(t, node, x, [x.shape[a] for a in keep], keep)


@op("Unsqueeze")
def _unsqueeze(t, node):
    x = t.act(node, 0)
    rank = x.rank
    if t.opset >= 13:
        axes = t.const_input(node, 1)
        axes = None if axes is None else [int(a) for a in axes.reshape(-1)]
    else:
        axes = list(node.attrs.get("axes", []))
    out_rank = rank + len(axes or [])
    if not axes or any(not -out_rank <= a < out_rank for a in axes):
        raise node.error(f"must be axes of the rank-{out_rank} result.", attribute="axes", received=axes)
    axes = sorted(a % out_rank for a in axes)
    old = iter(range(rank))
    mapping = [None if a in axes else next(old) for a in range(out_rank)]
    shape = [1 if m is None else x.shape[m] for m in mapping]
    _relabel(t, node, x, shape, mapping)


@op("Reshape")
def _reshape(t, node):
    x = t.act(node, 0)
    target = t.const_input(node, 1)
    if target is None:
        raise node.error("needs a constant target shape.")
    target = [int(v) for v in target.reshape(-1)]
    allowzero = node.attrs.get("allowzero", 0)
    shape = []
    for i, v in enumerate(target):
        if v == 0 and not allowzero:
            if i >= x.rank:
                raise node.error("copies a dimension the input does not have.", attribute="shape", received=target)
            v = x.shape[i]
        shape.append(v)
    total = prod(x.shape)
    if shape.count(-1) > 1 or any(v < -1 for v in shape):
        raise node.error("at most one -1 and no other negative size.", attribute="shape", received=target)
    if -1 in shape:
        rest = prod(v for v in shape if v != -1)
        if rest == 0 or total % rest:
            raise node.error(f"cannot reshape {list(x.shape)} to {target}.", attribute="shape", received=target)
        shape[shape.index(-1)] = total // rest
    if prod(shape) != total:
        raise node.error(
            f"cannot reshape {list(x.shape)} ({total} elements) to {shape}.", attribute="shape", received=target
        )
    # which target axis is the batch: the one of its size with the same elements before it
    n = x.shape[x.batch] if x.batch >= 0 else 1
    before = prod(x.shape[: x.batch]) if x.batch >= 0 else None
    j = next((i for i, d in enumerate(shape) if d == n and (before is None or prod(shape[:i]) == before)), None)
    if j is None:
        if n != 1:
            raise node.error(
                "reshapes across the batch axis; the batch must stay an axis of its own.",
                attribute="shape",
                received=target,
            )
        j = -1  # a batch of 1 merged into another axis (attention's batch x heads): it stays implicit
    old = [a for a in x.native()[1:] if x.shape[a] != 1]
    new = [a for a in range(len(shape)) if a != j and shape[a] != 1]
    if [x.shape[a] for a in old] == [shape[a] for a in new]:
        # only unit axes come or go: the data keeps its order, so this is a relabelling
        x = t.arrange(node, x, tuple(a for a in x.perm if a == x.batch or x.shape[a] != 1))
        # the k-th held axis in ONNX order becomes the k-th non-unit target axis; the layout stays
        new_of = dict(zip(old, new))
        perm = (j,) + tuple(new_of[a] for a in x.perm[1:])
        t.set(node, 0, Act(x.layer, tuple(shape), perm, x.integer))
        return
    x = t.arrange(node, x, x.native())
    out_axes = [a for a in range(len(shape)) if a != j]
    per_sample = [shape[a] for a in out_axes]
    if len(per_sample) == 1 and len(x.spec_shape) > 1:
        name = t.emit(node, "flatten", {}, [x])
    else:
        name = t.emit(node, "reshape", {"shape": per_sample}, [x])
    t.set(node, 0, t.new_act(name, shape, (j, *out_axes)))


# ---------------------------------------------------------------- constant folding


def _np():
    import numpy

    return numpy


@fold("Constant")
def _fold_constant(t, node):
    from onnx import numpy_helper

    np = _np()
    a = node.attrs
    if "value" in a:
        return [numpy_helper.to_array(node.proto.attribute[0].t)]
    for key, dtype in (
        ("value_float", np.float32),
        ("value_int", np.int64),
        ("value_floats", np.float32),
        ("value_ints", np.int64),
    ):
        if key in a:
            return [np.array(a[key], dtype=dtype)]
    raise node.error("only tensor, float and int constants are supported.", attribute=next(iter(a), None))


@fold("Shape")
def _fold_shape(t, node, x):
    v = t.values.get(node.inputs[0])
    dims = v.shape if isinstance(v, Act) else v.dims
    start, end = node.attrs.get("start", 0), node.attrs.get("end", None)
    return [_np().array(dims[start:end], dtype=_np().int64)]


@fold("Size")
def _fold_size(t, node, x):
    return [_np().array(prod(x.shape), dtype=_np().int64)]


@fold("Gather")
def _fold_gather(t, node, data, indices):
    return [_np().take(data, indices, axis=node.attrs.get("axis", 0))]


@fold("Unsqueeze")
def _fold_unsqueeze(t, node, x, axes=None):
    np = _np()
    axes = list(node.attrs.get("axes", [])) if axes is None else [int(a) for a in axes.reshape(-1)]
    rank = x.ndim + len(axes)
    for a in sorted(a % rank for a in axes):
        x = np.expand_dims(x, a)
    return [x]


@fold("Squeeze")
def _fold_squeeze(t, node, x, axes=None):
    axes = node.attrs.get("axes") if axes is None else [int(a) for a in axes.reshape(-1)]
    return [_np().squeeze(x, axis=None if axes is None else tuple(axes))]


@fold("Concat")
def _fold_concat(t, node, *xs):
    return [_np().concatenate([x for x in xs if x is not None], axis=node.attrs.get("axis", 0))]


@fold("Cast")
def _fold_cast(t, node, x):
    from onnx import helper

    return [x.astype(helper.tensor_dtype_to_np_dtype(node.attrs["to"]))]


@fold("CastLike")
def _fold_cast_like(t, node, x, like):
    return [x.astype(like.dtype)]


COMPARISONS = ("Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual")


@fold("Add", "Sum", "Sub", "Mul", "Div", "Pow", "Min", "Max", "Mod", "And", "Or", "Xor", *COMPARISONS)
def _fold_binary(t, node, a, b, *rest):
    np = _np()
    if node.op == "Div" and np.issubdtype(a.dtype, np.integer):
        return [(np.trunc(a / b)).astype(a.dtype)]
    fn = {
        "Add": np.add,
        "Sum": np.add,
        "Sub": np.subtract,
        "Mul": np.multiply,
        "Div": np.divide,
        "Pow": np.power,
        "Equal": np.equal,
        "Less": np.less,
        "Greater": np.greater,
        "Min": np.minimum,
        "Max": np.maximum,
        "Mod": np.mod,
        "And": np.logical_and,
        "Or": np.logical_or,
        "Xor": np.logical_xor,
        "LessOrEqual": np.less_equal,
        "GreaterOrEqual": np.greater_equal,
    }[node.op]
    out = fn(a, b)
    for c in rest:
        out = fn(out, c)
    return [out if node.op in COMPARISONS else out.astype(a.dtype)]


@fold("Trilu")
def _fold_trilu(t, node, x, k=None):
    # the upper (default) or lower triangle of the last two axes, from diagonal k
    np = _np()
    k = 0 if k is None else int(k.reshape(-1)[0])
    return [np.triu(x, k) if node.attrs.get("upper", 1) else np.tril(x, k)]


@fold("Neg", "Sqrt", "Floor", "Ceil", "Abs", "Not", "Reciprocal")
def _fold_unary(t, node, x):
    np = _np()
    fn = {
        "Neg": np.negative,
        "Sqrt": np.sqrt,
        "Floor": np.floor,
        "Ceil": np.ceil,
        "Abs": np.abs,
        "Not": np.logical_not,
        "Reciprocal": np.reciprocal,
    }[node.op]
    return [fn(x)]


@fold("Slice")
def _fold_slice(t, node, data, starts=None, ends=None, axes=None, steps=None):
    if t.opset < 10:
        starts, ends, axes = node.attrs["starts"], node.attrs["ends"], node.attrs.get("axes")
    starts, ends = [int(s) for s in _np().ravel(starts)], [int(e) for e in _np().ravel(ends)]
    axes = list(range(len(starts))) if axes is None else [int(a) for a in _np().ravel(axes)]
    steps = [1] * len(starts) if steps is None else [int(s) for s in _np().ravel(steps)]
    index = [slice(None)] * data.ndim
    for s, e, a, st in zip(starts, ends, axes, steps):
        index[a] = slice(s, e, st)
    return [data[tuple(index)]]


@fold("Reshape")
def _fold_reshape(t, node, x, shape):
    shape = [int(s) for s in shape]
    shape = [x.shape[i] if s == 0 and not node.attrs.get("allowzero", 0) else s for i, s in enumerate(shape)]
    return [x.reshape(shape)]


@fold("ConstantOfShape")
def _fold_constant_of_shape(t, node, shape):
    from onnx import numpy_helper

    np = _np()
    value = numpy_helper.to_array(node.proto.attribute[0].t) if node.proto.attribute else np.zeros(1, np.float32)
    dims = [int(d) for d in shape]
    if prod(dims) > MAX_FOLD:
        raise node.error(f"builds a constant of {prod(dims):,} elements.")
    return [np.full(dims, value.reshape(-1)[0], dtype=value.dtype)]


@fold("Range")
def _fold_range(t, node, start, limit, delta):
    return [_np().arange(start, limit, delta, dtype=start.dtype)]


@fold("Where")
def _fold_where(t, node, cond, a, b):
    return [_np().where(cond, a, b)]


@fold("Expand")
def _fold_expand(t, node, x, shape):
    np = _np()
    return [x * np.ones([int(s) for s in shape], dtype=x.dtype)]


@fold("Transpose")
def _fold_transpose(t, node, x):
    return [_np().transpose(x, node.attrs.get("perm"))]


# ---------------------------------------------------------------- weights


class OnnxWeights:
    """The file's own weights for the imported spec: (layer name, weight name) -> float32 array.

    It also knows the file and which spec layers hold the graph's inputs and outputs, so
    the imported spec can be run against ONNX Runtime on the same input (see witness).
    """

    format = "onnx"
    inputs: list
    outputs: list

    def __init__(self, path, file, model, spans: dict[str, Span], refs: dict):
        self.path = Path(path)
        self.file = file
        self.tensors = {t.name: t for t in model.graph.initializer}
        self.spans = spans
        self.refs = refs
        self.folded: dict = {}  # the translator's folded constants used as weights, by their '@name'

    def __call__(self, layer: str, weight: str):
        """The weight as the spec layer holds it (float32, C-contiguous), or None if the file has none for it."""
        ref = self.refs.get((layer, weight))
        if ref is None:
            return None
        return self.load(ref.init, ref.steps, float32=True)

    def load(self, init: str, steps=(), float32=False):
        """An initializer's (or a folded constant's) values through weight steps."""
        np = _np()
        a = self.folded[init] if init in self.folded else self._initializer(init)
        for kind, arg in steps:
            if kind == "transpose":
                a = a.transpose(arg)
            elif kind == "reshape":
                a = a.reshape(arg)
            elif kind == "broadcast":
                a = np.broadcast_to(a, arg)
            elif kind == "scale":
                a = a * np.float32(arg)
            elif kind == "index":
                a = a[arg]
            elif kind == "blocks":
                order, axis = arg
                parts = np.split(a, len(order), axis=axis)
                a = np.concatenate([parts[i] for i in order], axis=axis)
        return np.ascontiguousarray(a, dtype=np.float32) if float32 else a

    def _initializer(self, name):
        from onnx import helper, numpy_helper

        np = _np()
        tensor = self.tensors[name]
        if name in self.spans:
            span = self.spans[name]
            dtype = np.dtype(helper.tensor_dtype_to_np_dtype(tensor.data_type)).newbyteorder("<")
            with open(self.path, "rb") as f:
                f.seek(span.start)
                data = f.read(span.end - span.start)
            return np.frombuffer(data, dtype=dtype).reshape(tuple(tensor.dims))
        if tensor.data_location == 1:
            info = {e.key: e.value for e in tensor.external_data}
            where = self.path.parent / info.get("location", "")
            try:
                with open(where, "rb") as f:
                    f.seek(int(info.get("offset", 0)))
                    size = int(info["length"]) if "length" in info else -1
                    data = f.read(size)
            except OSError as err:
                raise SpecError(
                    f"the weights of '{name}' are stored in '{info.get('location')}', which cannot be read: {err.strerror}.",
                    file=self.file,
                ) from None
            dtype = np.dtype(helper.tensor_dtype_to_np_dtype(tensor.data_type)).newbyteorder("<")
            return np.frombuffer(data, dtype=dtype).reshape(tuple(tensor.dims))
        return numpy_helper.to_array(tensor)


# ---------------------------------------------------------------- sequences and transformers


def _last_axis_native(t, node, x: Act) -> Act:
    """x held with its last ONNX axis last (the axis a dense layer, a norm or a matmul works on)."""
    return t.arrange(node, x, x.perm if x.perm[-1] == x.rank - 1 else x.native())


def _param(t, node, c: Const, like: Act | None, suffix="constant"):
    """A constant as a parameter tensor, held like the tensor it meets (batch axis dropped); trainable if learned."""
    dims = list(c.dims)
    rank = like.rank if like is not None else len(dims) + 1
    full = [1] * (rank - len(dims)) + dims  # right-aligned to the tensor's rank, as ONNX broadcasts
    if full[0] != 1:
        raise node.error(f"a constant of shape {dims} varies along the batch axis.")
    perm = like.perm if like is not None else tuple(range(rank))
    spec = [full[a] for a in perm[1:]]
    if c.init is None:
        c = t.held(node, c, next(n for n in node.inputs if t.values.get(n) is c))
    steps = (("reshape", tuple(full)), ("transpose", tuple(perm)), ("reshape", tuple(spec)))
    ref = _ref(c, steps)
    # a fixed tensor read by several nodes (a mask every block applies) is one parameter; a learned one is
    # one per reader, since exporters merge initializers of equal values (ConvNeXt's layer scales, all 1e-6)
    if not c.learned and ref in t.params:
        return t.params[ref]
    attrs = {"shape": spec} if c.learned else {"shape": spec, "trainable": False}
    name = t.emit(node, "parameter", attrs, [], {"value": ref}, suffix=suffix)
    t.params[ref] = t.new_act(name, tuple(full), perm)
    return t.params[ref]


def _float_types() -> set:
    """ONNX element types of real numbers: the types a trained weight is stored in."""
    from onnx import TensorProto

    names = ("FLOAT", "FLOAT16", "DOUBLE", "BFLOAT16", "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ")
    return {getattr(TensorProto, n) for n in names if hasattr(TensorProto, n)}


@op("Gather")
def _gather(t, node):
    data, indices = (t.value(node, n) for n in node.inputs[:2])
    axis = node.attrs.get("axis", 0)
    if isinstance(data, Const) and isinstance(indices, Act):
        # a lookup table read at token ids: an embedding
        if axis != 0 or len(data.dims) != 2:
            raise node.error(
                "translated as an embedding: a (vocabulary, width) table gathered on axis 0.",
                attribute="axis",
                received=axis,
            )
        if not indices.integer:
            raise node.error("looks up a table at computed real values; an embedding reads integer token ids.")
        vocab, dim = data.dims
        x = t.arrange(node, indices, indices.native())
        name = t.emit(node, "embedding", {"vocab": vocab, "dim": dim}, [x], {"table": _ref(t.weight(node, 0))})
        for layer in t.layers:
            if layer["name"] == x.layer and layer["type"] == "input" and "tokens" not in layer:
                layer["tokens"] = vocab  # ids the table can look up, for the run's random input
        t.set(node, 0, t.new_act(name, (*x.shape, dim), (*x.perm, x.rank)))
        return
    if isinstance(data, Act) and isinstance(indices, Const) and indices.known():
        axis %= data.rank
        if axis == data.batch:
            raise node.error("gathers along the batch axis.", attribute="axis", received=axis)
        index = indices.array
        if index.ndim == 0:
            x = data if axis in data.perm else t.arrange(node, data, data.native())
            spec_axis = x.perm.index(axis) - 1
            name = t.emit(node, "select", {"axis": spec_axis, "index": int(index)}, [x])
            t.set(
                node,
                0,
                t.new_act(
                    name,
                    tuple(d for a, d in enumerate(x.shape) if a != axis),
                    tuple(a - (a > axis) for a in x.perm if a != axis),
                ),
            )
            return
        flat = [int(i) % data.shape[axis] for i in index.reshape(-1)]
        if index.ndim == 1 and flat == list(range(flat[0], flat[0] + len(flat))):
            _slice_axis(t, node, data, axis, flat[0], flat[0] + len(flat), 1)
            return
    raise node.error(
        "translated only as an embedding (a constant table at token ids), or one position or a "
        "contiguous range of a computed tensor."
    )


def _slice_axis(t, node, x: Act, axis, start, stop, step, last=True):
    x = x if axis in x.perm else t.arrange(node, x, x.native())
    spec_axis = x.perm.index(axis) - 1
    size = x.shape[axis]
    attrs = {"axis": spec_axis, "start": start}
    if stop < size:
        attrs["stop"] = stop
    if step != 1:
        attrs["step"] = step
    name = t.emit(node, "slice", attrs, [x], suffix=None if last else f"axis{axis}")
    shape = list(x.shape)
    shape[axis] = len(range(start, stop, step))
    act = t.new_act(name, shape, x.perm)
    if last:
        t.set(node, 0, act)
    return act


@op("Slice")
def _slice(t, node):
    x = t.act(node, 0)
    if t.opset < 10:
        starts, ends, axes, steps = node.attrs["starts"], node.attrs["ends"], node.attrs.get("axes"), None
    else:
        starts, ends, axes, steps = (t.const_input(node, i) for i in (1, 2, 3, 4))
        starts, ends = starts.reshape(-1).tolist(), ends.reshape(-1).tolist()
        axes = None if axes is None else axes.reshape(-1).tolist()
        steps = None if steps is None else steps.reshape(-1).tolist()
    axes = list(range(len(starts))) if axes is None else [a % x.rank for a in axes]
    steps = steps or [1] * len(starts)
    cuts = []
    for a, s0, e0, st in zip(axes, starts, ends, steps):
        if st < 1:
            raise node.error("only positive steps are translated.", attribute="steps", received=st)
        start, stop, _ = slice(int(s0), int(e0), int(st)).indices(x.shape[a])
        if (start, stop, st) != (0, x.shape[a], 1):
            if a == x.batch:
                raise node.error("slices the batch axis.", attribute="axes", received=a)
            cuts.append((a, start, stop, st))
    if not cuts:
        t.set(node, 0, x)
        return
    for i, (a, start, stop, st) in enumerate(cuts):
        x = _slice_axis(t, node, x, a, start, stop, st, last=i == len(cuts) - 1)


@op("Split")
def _split(t, node):
    x = t.act(node, 0)
    axis = node.attrs.get("axis", 0) % x.rank
    if axis == x.batch:
        raise node.error("splits the batch axis.", attribute="axis", received=axis)
    sizes = t.const_input(node, 1) if t.opset >= 13 else node.attrs.get("split")
    n = len(node.outputs)
    if sizes is None:
        size = x.shape[axis]
        chunk = -(-size // n)
        sizes = [min(chunk, size - i * chunk) for i in range(n)]
    sizes = [int(v) for v in getattr(sizes, "tolist", lambda: sizes)()]
    x = x if axis in x.perm else t.arrange(node, x, x.native())
    spec_axis = x.perm.index(axis) - 1
    outputs = {o.name for o in t.graph.output}
    for i, out in enumerate(node.outputs):
        if not out or out not in t.consumers and out not in outputs:
            continue  # a part nothing reads needs no layer
        name = t.emit(node, "split", {"sizes": sizes, "index": i, "axis": spec_axis}, [x], suffix=str(i))
        shape = list(x.shape)
        shape[axis] = sizes[i]
        t.set(node, i, t.new_act(name, shape, x.perm))


@op("LayerNormalization")
def _layer_norm(t, node):
    x = t.act(node, 0)
    axis = node.attrs.get("axis", -1) % x.rank
    if axis == x.batch or x.batch != 0:
        raise node.error("normalises across the batch axis.", attribute="axis", received=axis)
    if any(o for o in node.outputs[1:]):
        raise node.error("its mean and inverse deviation outputs are read; only the normalised output is translated.")
    x = t.arrange(node, x, x.native())
    count = x.rank - axis
    scale = t.weight(node, 1)
    shift = t.weight(node, 2)
    normalised = tuple(x.shape[axis:])
    weights = {"gamma": _ref(scale, (("reshape", normalised),))}
    if shift is not None:
        weights["beta"] = _ref(shift, (("reshape", normalised),))
    attrs = {"epsilon": _float32(node.attrs.get("epsilon", 1e-5))}
    if count != 1:
        attrs["axes"] = count
    if shift is None:
        attrs["center"] = False
    name = t.emit(node, "layer_norm", attrs, [x], weights)
    t.set(node, 0, t.new_act(name, x.shape, x.perm))


@op("Erf")
def _erf(t, node):
    """The erf form of GELU as exporters write it, x * 0.5 * (1 + erf(x / sqrt 2)), as one gelu activation."""
    fail = node.error("Erf is translated only as part of GELU: x * 0.5 * (1 + erf(x / sqrt(2))).")
    source = next((n for n in t.nodes if node.inputs[0] in n.outputs), None)
    if source is None or source.op not in ("Div", "Mul") or source.index not in t.pending_scale:
        raise fail
    x, factor = t.pending_scale.pop(source.index)
    if not _close32(factor, 2**-0.5):
        raise fail
    plus = t.consumers.get(node.outputs[0], [])
    if len(plus) != 1 or plus[0].op != "Add" or _const_of(t, plus[0]) != 1.0:
        raise fail
    # then * x and * 0.5, in either order, or * (0.5 x)
    chain, value, half, times_x = [plus[0]], plus[0].outputs[0], False, False
    while not (half and times_x):
        readers = t.consumers.get(value, [])
        if len(readers) != 1 or readers[0].op != "Mul":
            raise fail
        mul = readers[0]
        other = mul.inputs[1] if mul.inputs[0] == value else mul.inputs[0]
        if t.values.get(other) is x and not times_x:
            times_x = True
        elif _const_of(t, mul, other) == 0.5 and not half:
            half = True
        else:
            held = next((n for n in t.nodes if other in n.outputs and n.op == "Mul"), None)
            if held is None or held.index not in t.pending_scale or times_x or half:
                raise fail
            y, c = t.pending_scale.pop(held.index)
            if y is not x or c != 0.5:
                raise fail
            half = times_x = True
        chain.append(mul)
        value = mul.outputs[0]
    name = t.emit(node, "activation", {"fn": "gelu"}, [x])
    for n in chain:
        t.fused.add(n.index)
    t.values[value] = t.new_act(name, x.shape, x.perm)


def _feeds_gelu(t, node) -> bool:
    """True when node's output goes only to an Erf, or (0.5 x) only to the Mul that ends a written-out GELU."""
    readers = t.consumers.get(node.outputs[0], [])
    if len(readers) != 1:
        return False
    if readers[0].op == "Erf":
        return True
    mul = readers[0]
    if mul.op != "Mul":
        return False
    other = mul.inputs[1] if mul.inputs[0] == node.outputs[0] else mul.inputs[0]
    add = next((n for n in t.nodes if other in n.outputs), None)
    return add is not None and add.op == "Add" and any(n.op == "Erf" and n.outputs[0] in add.inputs for n in t.nodes)


def _const_of(t, node, name=None):
    """The scalar value of node's constant input (the named one), or None; a later Constant node is folded now."""
    for n in [name] if name else node.inputs:
        if n not in t.values:
            maker = next((m for m in t.nodes if n in m.outputs and m.op == "Constant"), None)
            if maker is not None:
                array = FOLD["Constant"](t, maker)[0]
                t.values[n] = Const(tuple(array.shape), array)
        v = t.values.get(n)
        if isinstance(v, Const):
            return _scalar(v)
    return None


# gate blocks of ONNX's weights in the registry's order: LSTM i, o, f, c -> i, f, c, o; GRU z, r, h -> r, z, h
GATES = {"LSTM": ("lstm", 4, (0, 2, 3, 1)), "GRU": ("gru", 3, (1, 0, 2))}


@op("LSTM", "GRU")
def _recurrent(t, node):
    layer_type, gates, order = GATES[node.op]
    x = t.act(node, 0)
    a = node.attrs
    direction = a.get("direction", b"forward")
    direction = direction.decode() if isinstance(direction, bytes) else direction
    if direction not in ("forward", "bidirectional"):
        raise node.error(
            "only forward and bidirectional layers are translated.", attribute="direction", received=direction
        )
    for key in ("activations", "clip", "activation_alpha", "activation_beta"):
        if key in a:
            raise node.error("only the default activations, without clipping, are translated.", attribute=key)
    if a.get("input_forget", 0):
        raise node.error("input_forget=1 is not translated.", attribute="input_forget", received=1)
    layout = a.get("layout", 0)
    for i, what in ((4, "sequence_lens"), (7, "P")):
        if i < len(node.inputs) and node.inputs[i]:
            raise node.error(
                f"its input {what} is not translated (every sequence runs to its full length, no peepholes)."
            )
    for i in (5, 6):
        initial = t.const_input(node, i) if i < len(node.inputs) and node.inputs[i] else None
        if initial is not None and initial.any():
            raise node.error("only zero initial states are translated.")
    used = [
        bool(o) and (o in t.consumers or o in {g.name for g in t.graph.output})
        for o in (node.outputs + ["", "", ""])[:3]
    ]
    if used[2]:
        raise node.error("its cell-state output Y_c is read; only Y and Y_h are translated.")
    if x.rank != 3 or x.batch != (0 if layout else 1):
        raise node.error(
            f"takes its input as {'(batch, seq, input)' if layout else '(seq, batch, input)'}; "
            f"received shape {list(x.shape)}."
        )
    seq_axis = 1 if layout else 0
    x = t.arrange(node, x, (x.batch, seq_axis, 2))
    w, r, b = t.weight(node, 1), t.weight(node, 2), t.weight(node, 3)
    ways = ("forward", "backward") if direction == "bidirectional" else ("forward",)
    units = a.get("hidden_size") or r.dims[-1]
    weights = {}
    for d, way in enumerate(ways):
        weights[f"{way}/kernel"] = _ref(w, (("index", d), _blocks(order, 0), ("transpose", (1, 0))))
        weights[f"{way}/recurrent_kernel"] = _ref(r, (("index", d), _blocks(order, 0), ("transpose", (1, 0))))
        if b is not None:
            weights[f"{way}/bias"] = _ref(b, (("index", d), ("reshape", (2, gates * units)), _blocks(order, 1)))
    attrs = {"units": units, "biases": 2 if b is not None else 0}
    if used[0]:
        attrs["return_sequences"] = True
    if len(ways) == 2:
        attrs["bidirectional"] = True
    if node.op == "GRU" and not a.get("linear_before_reset", 0):
        attrs["reset_after"] = False
    name = t.emit(node, layer_type, attrs, [x], weights)
    steps, n, dirs = x.shape[seq_axis], x.shape[x.batch], len(ways)
    # ONNX's Y is (seq, directions, batch, hidden), Y_h (directions, batch, hidden); layout 1 puts the batch first
    y_shape, (yb, ys, yd, yh) = (
        ((n, steps, dirs, units), (0, 1, 2, 3)) if layout else ((steps, dirs, n, units), (2, 0, 1, 3))
    )
    h_shape, (hb, hd, hh) = ((n, dirs, units), (0, 1, 2)) if layout else ((dirs, n, units), (1, 0, 2))
    if used[0]:
        if dirs == 1:  # the directions axis has size 1: the spec's (T, H) holds Y as it is
            y = Act(name, y_shape, (yb, ys, yh))
        else:  # (T, 2 H) read as (T, 2, H)
            name = t.emit(
                node,
                "reshape",
                {"shape": [steps, dirs, units]},
                [Act(name, (n, steps, dirs * units), (0, 1, 2))],
                suffix="directions",
            )
            y = t.new_act(name, y_shape, (yb, ys, yd, yh))
        t.set(node, 0, y)
        if used[1]:
            if dirs != 1:
                raise node.error("reads both Y and Y_h of a bidirectional layer; only one of them is translated.")
            last = t.emit(
                node, "select", {"axis": 0, "index": -1}, [Act(y.layer, (n, steps, units), (0, 1, 2))], suffix="last"
            )
            t.set(node, 1, t.new_act(last, h_shape, (hb, hh)))
        return
    if dirs == 1:
        t.set(node, 1, Act(name, h_shape, (hb, hh)))
    else:
        name = t.emit(
            node, "reshape", {"shape": [dirs, units]}, [Act(name, (n, dirs * units), (0, 1))], suffix="directions"
        )
        t.set(node, 1, t.new_act(name, h_shape, (hb, hd, hh)))


# ---------------------------------------------------------------- decoders


@op("ConvTranspose")
def _conv_transpose(t, node):
    x = _spatial_input(t, node, ranks=SLIDING)
    w = t.weight(node, 1)
    rank = x.rank - 2
    if len(w.dims) != x.rank:
        raise node.error(
            f"a weight of shape {list(w.dims)} for an input of shape {list(x.shape)}.", received=list(w.dims)
        )
    c, fg, *kernel = w.dims
    groups = node.attrs.get("group", 1)
    if list(node.attrs.get("kernel_shape", kernel)) != kernel:
        raise node.error(
            "does not match the weight's kernel.", attribute="kernel_shape", received=node.attrs["kernel_shape"]
        )
    strides, dilations = _ints(node, "strides", 1, rank), _ints(node, "dilations", 1, rank)
    extra = _ints(node, "output_padding", 0, rank)
    auto = node.attrs.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    size = x.shape[2:]
    full = [s * (n - 1) + e + (k - 1) * d + 1 for s, n, e, k, d in zip(strides, size, extra, kernel, dilations)]
    wanted = node.attrs.get("output_shape")
    if wanted is None and auto in ("SAME_UPPER", "SAME_LOWER"):
        wanted = [n * s for n, s in zip(size, strides)]
    if wanted is not None:
        wanted = list(wanted)[-rank:]
        pads = []
        for f, o in zip(full, wanted):
            total = f - o
            if total < 0:
                raise node.error(
                    f"an output_shape {wanted} larger than the full output {full}.",
                    attribute="output_shape",
                    received=wanted,
                )
            half = total // 2
            pads.append([half, total - half] if auto == "SAME_UPPER" else [total - half, half])
    elif auto in ("NOTSET", "", "VALID"):
        p = [0] * (2 * rank) if auto == "VALID" else _ints(node, "pads", 0, 2 * rank)
        pads = [[p[a], p[a + rank]] for a in range(rank)]
    else:
        raise node.error("must be NOTSET, SAME_UPPER, SAME_LOWER or VALID.", attribute="auto_pad", received=auto)
    bias = t.weight(node, 2)
    attrs = {"filters": fg * groups, "kernel": _pair(kernel)}
    if any(s != 1 for s in strides):
        attrs["stride"] = _pair(strides)
    if any(p for pair in pads for p in pair):
        attrs["padding"] = pads
    if any(extra):
        attrs["output_padding"] = _pair(extra)
    if any(d != 1 for d in dilations):
        attrs["dilation"] = _pair(dilations)
    if groups != 1:
        attrs["groups"] = groups
    attrs["bias"] = bias is not None
    weights = {"kernel": _ref(w, (("transpose", (*range(2, rank + 2), 0, 1)),))}
    if bias is not None:
        weights["bias"] = _ref(bias)
    del c
    name = t.emit(node, f"conv{rank}d_transpose", attrs, [x], weights)
    *out, f = t._shapes[name]
    t.set(node, 0, t.new_act(name, (x.shape[0], f, *out), x.channels_last()))


@op("Resize", "Upsample")
def _resize(t, node):
    x = _spatial_input(t, node, ranks=SLIDING)
    rank = x.rank - 2
    a = node.attrs
    mode = a.get("mode", b"nearest")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    coords = a.get(
        "coordinate_transformation_mode", b"half_pixel" if node.op == "Resize" and t.opset >= 11 else b"asymmetric"
    )
    coords = coords.decode() if isinstance(coords, bytes) else coords
    nearest = a.get("nearest_mode", b"round_prefer_floor")
    nearest = nearest.decode() if isinstance(nearest, bytes) else nearest
    if node.op == "Upsample" or t.opset < 11:
        scales, sizes = (t.const_input(node, 1) if node.op == "Resize" or t.opset >= 9 else None), None
        if scales is None:
            scales = a.get("scales")
        nearest = "floor"
    else:
        scales, sizes = t.const_input(node, 2), t.const_input(node, 3)
        if scales is not None and scales.size == 0:
            scales = None
    if a.get("antialias", 0) or a.get("axes") is not None or a.get("exclude_outside", 0):
        raise node.error("antialias, axes and exclude_outside are not translated.")
    attrs = {}
    if mode == "nearest":
        if coords != "asymmetric" or nearest != "floor":
            raise node.error(
                "nearest resizing is translated with asymmetric coordinates and floor rounding (PyTorch's).",
                attribute="coordinate_transformation_mode",
                received=[coords, nearest],
            )
    elif mode == "linear":
        if coords == "align_corners":
            attrs["align_corners"] = True
        elif coords not in ("half_pixel", "pytorch_half_pixel"):
            raise node.error(
                "linear resizing is translated with half_pixel or align_corners coordinates.",
                attribute="coordinate_transformation_mode",
                received=coords,
            )
        attrs["mode"] = "bilinear" if rank == 2 else "linear"
    else:
        raise node.error("only nearest and linear modes are translated.", attribute="mode", received=mode)
    if sizes is not None:
        sizes = [int(v) for v in sizes.reshape(-1)]
        if sizes[:2] != list(x.shape[:2]):
            raise node.error("resizes the batch or channel axis.", attribute="sizes", received=sizes)
        attrs = {"size": _pair(sizes[2:]), **attrs}
    else:
        values = [float(v) for v in getattr(scales, "reshape", lambda *_: scales)(-1)]
        if values[:2] != [1.0, 1.0]:
            raise node.error("resizes the batch or channel axis.", attribute="scales", received=values)
        attrs = {"scale": _pair([_float32(v) for v in values[2:]]), **attrs}
    name = t.emit(node, "upsample" + _suffix(rank), attrs, [x])
    *out, c = t._shapes[name]
    t.set(node, 0, t.new_act(name, (x.shape[0], c, *out), x.channels_last()))


@op("GroupNormalization")
def _group_norm(t, node):
    """Channels in num_groups groups, normalised over positions and the group; opset 21 scales per channel, 18 per group."""
    x = t.act(node, 0)
    if x.rank < 3:
        raise node.error(f"takes an (N, C, ...) input of rank 3 or more, received {list(x.shape)}.")
    groups = node.attrs.get("num_groups")
    c = x.shape[1]
    if not groups or c % groups:
        raise node.error(f"must divide the {c} channels.", attribute="num_groups", received=groups)
    x = t.arrange(node, x, x.channels_last())
    scale, shift = t.weight(node, 1), t.weight(node, 2)
    eps = _float32(node.attrs.get("epsilon", 1e-5))
    if t.opset >= 21:
        name = t.emit(
            node, "group_norm", {"groups": groups, "epsilon": eps}, [x], {"gamma": _ref(scale), "beta": _ref(shift)}
        )
        t.set(node, 0, t.new_act(name, x.shape, x.perm))
        return
    # before opset 21 the scale and shift are per group: normalise, then (..., G, C / G) times (G, 1) plus (G, 1)
    name = t.emit(node, "group_norm", {"groups": groups, "epsilon": eps, "affine": False}, [x])
    positions = [x.shape[a] for a in x.perm[1:-1]]
    split = [*positions, groups, c // groups]
    name = t.emit(
        node, "reshape", {"shape": split}, [Act(name, (1, *x.spec_shape), tuple(range(x.rank)))], suffix="groups"
    )
    y = Act(name, (1, *split), tuple(range(len(split) + 1)))
    for suffix, layer_type, w in (("scale", "multiply", scale), ("shift", "add", shift)):
        p = t.emit(
            node,
            "parameter",
            {"shape": [groups, 1]},
            [],
            {"value": _ref(w, (("reshape", (groups, 1)),))},
            suffix=suffix,
        )
        name = t.emit(node, layer_type, {}, [y, Act(p, (1, groups, 1), (0, 1, 2))], suffix=f"{suffix}_groups")
        y = Act(name, y.shape, y.perm)
    name = t.emit(node, "reshape", {"shape": list(x.spec_shape)}, [y], suffix="channels")
    t.set(node, 0, t.new_act(name, x.shape, x.perm))


@op("InstanceNormalization")
def _instance_norm(t, node):
    x = t.act(node, 0)
    if x.rank < 3:
        raise node.error(f"takes an (N, C, ...) input of rank 3 or more, received {list(x.shape)}.")
    x = t.arrange(node, x, x.channels_last())
    scale, shift = t.weight(node, 1), t.weight(node, 2)
    name = t.emit(
        node,
        "instance_norm",
        {"epsilon": _float32(node.attrs.get("epsilon", 1e-5)), "affine": True},
        [x],
        {"gamma": _ref(scale), "beta": _ref(shift)},
    )
    t.set(node, 0, t.new_act(name, x.shape, x.perm))
