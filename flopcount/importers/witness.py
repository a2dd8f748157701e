"""The third witness: the imported spec, run by the NumPy runner with the file's own
weights, against ONNX Runtime on the same input.

``run`` shows that the analysis and an execution agree; this shows that the spec computes
the same function as the user's model, so a spec that counts right but is wired wrong
(a transposed kernel, a flatten in the wrong order, a missing layer) is caught.
ONNX Runtime is optional: without it the comparison is skipped and says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

RTOL = 1e-4  # of the largest reference magnitude: float32 rounding over a deep network stays far below
INSTALL = "pip install onnxruntime"


@dataclass
class OutputCheck:
    name: str
    shape: tuple
    max_diff: float
    scale: float

    @property
    def ok(self) -> bool:
        return self.max_diff <= RTOL * max(self.scale, 1e-6)


@dataclass
class Witness:
    """The outcome of comparing the runner's tensors with ONNX Runtime's: the outputs, and every tensor between."""

    outputs: list = field(default_factory=list)
    inner: list = field(default_factory=list)  # every other tensor a layer computes, when the runtime could give them
    skipped: str | None = None

    @property
    def ok(self) -> bool:
        return self.skipped is None and all(o.ok for o in self.outputs + self.inner)

    def summary(self) -> str:
        if self.skipped:
            return f"ONNX Runtime comparison skipped: {self.skipped}"
        parts = []
        for o in self.outputs:
            mark = "✓" if o.ok else "✗"
            parts.append(
                f"{mark} output '{o.name}' {list(o.shape)}: largest difference {o.max_diff:.3g} "
                f"against values up to {o.scale:.3g} (tolerance {RTOL:g} of that)"
            )
        if self.inner:
            wrong = [o for o in self.inner if not o.ok]
            if wrong:
                o = wrong[0]
                parts.append(
                    f"✗ {len(wrong)} of {len(self.inner)} tensors inside differ, the first '{o.name}': largest "
                    f"difference {o.max_diff:.3g} against values up to {o.scale:.3g}"
                )
            else:
                parts.append(f"✓ and all {len(self.inner)} tensors inside")
        verdict = "agrees with" if self.ok else "DIFFERS from"
        return f"With the file's weights, the NumPy run {verdict} ONNX Runtime on the same input: " + "; ".join(parts)


def applies(graph) -> bool:
    """True when the graph was imported from an ONNX file (its spec carries the file's weights)."""
    return getattr(graph.spec.weights, "format", None) == "onnx"


def _session(onnxruntime, source, names):
    """A session whose outputs are names too, when the model can be rewritten in memory; else the file as is."""
    import onnx

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    providers = ["CPUExecutionProvider"]
    try:
        model = onnx.load(str(source.path))
        have = {o.name for o in model.graph.output}
        model.graph.output.extend(onnx.ValueInfoProto(name=n) for n in names if n not in have)
        data = model.SerializeToString()
    except (ValueError, OSError, MemoryError):  # above protobuf's 2 GB, or external data elsewhere
        return onnxruntime.InferenceSession(str(source.path), options, providers=providers), False
    return onnxruntime.InferenceSession(data, options, providers=providers), True


def runtime_witness(graph, seed: int = 0) -> Witness:
    """Run graph (imported from ONNX) and the file in ONNX Runtime on one seeded random input; compare every tensor."""
    import numpy as np

    from ..runner import forward

    source = graph.spec.weights
    try:
        import onnxruntime
    except ImportError:
        return Witness(skipped=f"ONNX Runtime is not installed ({INSTALL}).")
    rng = np.random.default_rng(seed)
    index = {n.name: n.index for n in graph.nodes}
    feeds, xs = {}, {}
    for b in source.inputs:
        if b.integer:  # token ids below the vocabulary the input was declared with
            high = getattr(graph.nodes[index[b.layer]].layer, "tokens", None) or 2
            x = rng.integers(0, high, size=b.shape, dtype=np.int64)
        else:
            x = rng.standard_normal(b.shape, dtype=np.float32)
        feeds[b.name] = x
        xs[index[b.layer]] = b.to_spec(x)
    outputs = {b.name for b in source.outputs}
    probes = [b for b in source.probes if b.name not in outputs]
    try:
        session, inner = _session(onnxruntime, source, [b.name for b in probes])
        wanted = list(source.outputs) + (probes if inner else [])
        expected = session.run([b.name for b in wanted], feeds)
    except Exception as err:  # noqa: BLE001 - the runtime's own refusal of the file is reported, not raised
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        return Witness(skipped=f"ONNX Runtime could not run the file: {first}")
    got = forward(graph, xs, seed=seed, keep={index[b.layer] for b in wanted})
    result = Witness()
    for i, (b, ref) in enumerate(zip(wanted, expected)):
        ours = b.from_spec(got[index[b.layer]])
        ref = np.asarray(ref, dtype=np.float32)
        # equal values differ by nothing, equal infinities too (scores a mask set to -inf)
        with np.errstate(invalid="ignore"):  # inf - inf, where the values are equal anyway
            diff = float(np.max(np.where(ours == ref, 0, np.abs(ours - ref)))) if ref.size else 0.0
        finite = np.abs(ref[np.isfinite(ref)])
        check = OutputCheck(b.name, tuple(ref.shape), diff, float(np.max(finite)) if finite.size else 0.0)
        (result.outputs if i < len(source.outputs) else result.inner).append(check)
    return result
