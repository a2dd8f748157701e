"""A comparison as JSON-ready data, for scripts."""

from __future__ import annotations

from ..expr import plain
from .formulas import Formula, fraction_text
from .verdicts import Comparison, Ratio, Side

# ---------------------------------------------------------------- data for scripts


def comparison_dict(cmp: Comparison) -> dict:
    """Every figure, both formulas, the ratios and the verdicts, as JSON-ready data."""
    s = cmp.sizes
    return {
        "a": _side_dict(cmp.a),
        "b": _side_dict(cmp.b),
        "sizes": {
            "M": s.M,
            "N": s.N,
            "DK": s.DK,
            "DF": s.DF,
            "DG": s.DG,
            "stride": s.stride,
            "C": s.C,
            "t": s.t,
            "bias": s.bias,
        },
        "ratios": {k: _ratio_dict(r) for k, r in cmp.ratios.items()},
        "closed_form": None
        if cmp.closed is None
        else {
            "text": cmp.closed.text,
            "combined": cmp.closed.combined,
            "substituted": cmp.closed.substituted,
            "fraction": fraction_text(cmp.closed.value),
            "decimal": plain(cmp.closed.value),
            "holds_for": ["macs", "params"] if cmp.closed.params_exact else ["macs"],
        },
        "layers": [
            {
                "name": p.name,
                "a": {"params": p.a.params, "macs": p.a.macs},
                "b": {"params": p.b.params, "macs": p.b.macs},
            }
            for p in cmp.layers
        ],
        "notes": list(cmp.notes),
        "verdicts": cmp.verdicts,
        "ok": cmp.ok,
    }


def _formula_dict(f: Formula | None, counted: int) -> dict | None:
    if f is None:
        return None
    return {
        "symbols": f.symbols(),
        "numbers": f.numbers(),
        "value": f.value,
        "compact": f.compact or None,
        "equals_count": f.value == counted,
    }


def _side_dict(side: Side) -> dict:
    t = side.graph.totals
    run = side.run
    rf = side.rf_check
    return {
        "name": side.label,
        "kind": side.kind,
        "description": side.description,
        **t.as_dict(),
        "output_shape": list(side.output.shape),
        "receptive_field": list(side.receptive_field),
        "jump": list(side.output.jump),
        "formulas": {
            "params": _formula_dict(side.params_formula, t.params),
            "macs": _formula_dict(side.macs_formula, t.macs),
        },
        "run": None
        if run is None
        else {
            "ran": run.ran,
            "note": run.note or None,
            "params": run.params,
            "macs": run.macs,
            "shapes_ok": run.shapes_ok,
            "params_ok": run.params_ok,
            "macs_ok": run.macs_ok,
            "ok": run.ok,
        },
        "receptive_field_check": None
        if rf is None
        else {
            "computed": list(rf.computed),
            "jump": list(rf.jump),
            "measured": list(rf.measured) if rf.measured else None,
            "measured_jump": list(rf.measured_jump) if rf.measured_jump else None,
            "probe_size": rf.probe_size,
            "note": rf.note or None,
            "ok": rf.ok,
        },
    }


def _ratio_dict(r: Ratio) -> dict:
    saving = r.saving
    return {
        "fraction": None if r.value is None else fraction_text(r.value),
        "decimal": None if r.value is None else plain(r.value),
        "closed_form": None if r.closed is None else fraction_text(r.closed),
        "equals_closed_form": r.equal,
        "cheaper": None if saving is None else saving[0].lower(),
        "saving": None if saving is None else fraction_text(saving[1]),
    }
