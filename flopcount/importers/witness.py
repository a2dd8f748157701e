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
    """The outcome of comparing the runner's outputs with ONNX Runtime's."""

    outputs: list = field(default_factory=list)
    skipped: str | None = None

    @property
    def ok(self) -> bool:
        return self.skipped is None and all(o.ok for o in self.outputs)

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
        verdict = "agrees with" if self.ok else "DIFFERS from"
        return f"With the file's weights, the NumPy run {verdict} ONNX Runtime on the same input: " + "; ".join(parts)


def applies(graph) -> bool:
    """True when the graph was imported from an ONNX file (its spec carries the file's weights)."""
    return getattr(graph.spec.weights, "format", None) == "onnx"


def runtime_witness(graph, seed: int = 0) -> Witness:
    """Run graph (imported from ONNX) and the file in ONNX Runtime on one seeded random input."""
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
        if b.integer:
            high = 2
            x = rng.integers(0, high, size=b.shape, dtype=np.int64)
        else:
            x = rng.standard_normal(b.shape, dtype=np.float32)
        feeds[b.name] = x
        xs[index[b.layer]] = b.to_spec(x)
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    try:
        session = onnxruntime.InferenceSession(str(source.path), options, providers=["CPUExecutionProvider"])
        expected = session.run([b.name for b in source.outputs], feeds)
    except Exception as err:  # noqa: BLE001 - the runtime's own refusal of the file is reported, not raised
        return Witness(skipped=f"ONNX Runtime could not run the file: {str(err).splitlines()[0] if str(err) else type(err).__name__}")
    got = forward(graph, xs, seed=seed, keep=[index[b.layer] for b in source.outputs])
    result = Witness()
    for b, ref in zip(source.outputs, expected):
        ours = b.from_spec(got[index[b.layer]])
        ref = np.asarray(ref, dtype=np.float32)
        diff = float(np.max(np.abs(ours - ref))) if ref.size else 0.0
        result.outputs.append(OutputCheck(b.name, tuple(ref.shape), diff, float(np.max(np.abs(ref))) if ref.size else 0.0))
    return result
