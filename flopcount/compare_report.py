"""What ``flopcount compare`` reports: tables and lines for people (drawn by flopcount.render), JSON for scripts."""

from __future__ import annotations

import json
from fractions import Fraction

from .compare import (
    STACK_WEIGHTS,
    Comparison,
    Formula,
    Side,
    comparison_dict,
    fraction_text,
    list_blocks,
)
from .expr import fixed
from .layers import fmt_shape
from .table import NUMBER, RULE, STRONG, Column, Span, Table, line

TICK, CROSS = "✓", "✗"
LABELS = {"params": "params", "macs": "MACs", "flops": "FLOPs"}


def decimal(f: Fraction, digits: int = 6) -> str:
    """0.126736… for 73/576; no ellipsis when the decimal is exact."""
    text = fixed(f, digits)
    return text if Fraction(text) == f else text + "…"


def percent(f: Fraction) -> str:
    """7/25 -> '28 %', 22/49 -> '44.9 %'."""
    for digits in range(1, 12):  # enough digits that 0.99999 does not print as 100 %
        text = fixed(f * 100, digits)
        if Fraction(text) not in (0, 100) or Fraction(text) == 100 * f:
            break
    return (text[:-2] if text.endswith(".0") else text) + " %"


def mark(ok: bool | None) -> str:
    return "" if ok is None else (TICK if ok else CROSS)


def fmt_rf(rf) -> str:
    return "×".join(str(v) for v in rf) or "-"


def to_json(cmp: Comparison) -> str:
    return json.dumps(comparison_dict(cmp), indent=2)


def block_list_blocks() -> list:
    """The built-in blocks, one row each, and the sizes they take."""
    table = Table(
        [Column("block", "block"), Column("description", "what it is")], title="Built-in blocks for flopcount compare"
    )
    for name, description in list_blocks():
        table.add(name, description)
    return [
        table,
        line(
            "Sizes: --M input channels, --N output channels, --C channels of the C → C stacks (or --M = --N), "
            "--DK kernel (3), --DF input side (112), --stride (1), --t expansion (6), --bias (off). "
            "Every block pads 'same', so D_G = ceil(D_F / stride)."
        ),
    ]


def comparison_blocks(cmp: Comparison) -> list:
    """Both sides' figures and formulas, the exact ratios, the closed form and every verdict."""
    a, b = cmp.a, cmp.b
    blocks = [line(Span(f"{a.label} (A) vs {b.label} (B)", STRONG), _sizes_line(cmp))]
    table = Table(
        [Column("figure", ""), Column("a", "A", NUMBER), Column("b", "B", NUMBER), Column("ratio", "B / A", NUMBER)],
        frame=RULE,
    )
    metrics = ["params", "macs"] + (["flops"] if cmp.sizes.bias or not _blocks(cmp) else [])
    for metric in metrics:
        r = cmp.ratios[metric]
        table.add(LABELS[metric], getattr(a, metric), getattr(b, metric), "-" if r.value is None else decimal(r.value))
    table.add("output shape", _shape(a), _shape(b), "")
    table.add("receptive field", fmt_rf(a.receptive_field), fmt_rf(b.receptive_field), "")
    if a.run or b.run:
        table.add("NumPy run", _run_cell(a), _run_cell(b), "")
    blocks.append(table)
    for metric in metrics:
        r = cmp.ratios[metric]
        if r.value is not None:
            blocks.append(line(f"B / A {LABELS[metric]:<7}exactly {fraction_text(r.value)} = {decimal(r.value)}"))
    for tag, side in (("A", a), ("B", b)):
        blocks += _formulas(tag, side)
    blocks += _ratio_lines(cmp) + _execution_lines(cmp)
    if cmp.layers:
        blocks.append(_layers_table(cmp))
    blocks += [line(f"Note: {note}") for note in cmp.notes]
    failed = [k for k, v in cmp.verdicts.items() if v is False]
    if failed:
        blocks.append(line(Span(f"{CROSS} Failed checks: {', '.join(failed)}", STRONG)))
    return blocks


def _blocks(cmp):
    return cmp.a.kind == cmp.b.kind == "block"


def _sizes_line(cmp: Comparison) -> str:
    if not (cmp.a.kind == "block" or cmp.b.kind == "block"):
        return ""
    s = cmp.sizes
    parts = [f"{k}={v}" for k, v in (("M", s.M), ("N", s.N), ("C", s.C)) if v is not None]
    if any(side.kind == "block" and side.label not in STACK_WEIGHTS for side in (cmp.a, cmp.b)):
        parts.append(f"D_K={s.DK}")
    parts += [f"D_F={s.DF}", f"stride={s.stride}", f"D_G={s.DG}"]
    if any(side.label == "inverted_residual" for side in (cmp.a, cmp.b)):
        parts.append(f"t={s.t}")
    parts.append("biases on" if s.bias else "biases off")
    return "  (" + ", ".join(parts) + ")"


def _shape(side: Side) -> str:
    return fmt_shape(side.output.shape)


def _run_cell(side: Side) -> str:
    run = side.run
    if run is None:
        return ""
    if not run.ran:
        return "not run"
    return f"{TICK} same counts" if run.ok else f"{CROSS} differs"


def _formula_line(name: str, f: Formula, counted: int) -> str:
    compact = f" ({f.compact})" if f.compact else ""
    verdict = f"{TICK} equals the count" if f.value == counted else f"{CROSS} the count is {counted:,}"
    return f"    {name:<7} {f.symbols()}{compact} = {f.numbers()} = {f.value:,}  {verdict}"


def _formulas(tag: str, side: Side) -> list:
    head = f"{tag}  {side.label}"
    if side.kind == "block":
        head += f": {side.description}"
    else:
        head += f": spec '{side.graph.name}', {len(side.graph.nodes)} layers"
    out = [line(head)]
    if side.params_formula is not None:
        out.append(line(_formula_line("params", side.params_formula, side.params)))
        out.append(line(_formula_line("MACs", side.macs_formula, side.macs)))
    return out


def _ratio_lines(cmp: Comparison) -> list:
    out = []
    closed, r = cmp.closed, cmp.ratios
    if closed is not None:
        out.append(line(f"Closed form of B / A: {closed.text} = {closed.combined}"))
        out.append(line(f"    with these sizes: {closed.substituted} = {decimal(closed.value)}"))
        macs = r["macs"]
        verdict = (
            f"Verdict: counted MAC ratio {fraction_text(macs.value)} "
            + ("equals" if macs.equal else "does NOT equal")
            + f" the closed form {fraction_text(closed.value)} exactly (rational arithmetic) {mark(macs.equal)}"
        )
        params = r["params"]
        if closed.params_exact:
            verdict += (
                "; so does the parameter ratio"
                if params.equal
                else f"; the parameter ratio {fraction_text(params.value)} does NOT {CROSS}"
            )
        else:
            verdict += f"; with biases the parameter ratio is {fraction_text(params.value)}, not the closed form (see the note)"
        out.append(line(verdict))
    metrics = ["params", "macs"]
    if r["params"].value == r["macs"].value:
        metrics = [("params", "params and MACs")]
    for metric in metrics:
        metric, label = metric if isinstance(metric, tuple) else (metric, LABELS[metric])
        saving = r[metric].saving
        if saving:
            cheaper, part = saving
            other = "B" if cheaper == "A" else "A"
            side, costly = (cmp.a, cmp.b) if cheaper == "A" else (cmp.b, cmp.a)
            out.append(
                line(
                    f"Saving: {cheaper} ({side.label}) needs {percent(part)} fewer {label} than "
                    f"{other} ({costly.label}): 1 - {fraction_text(1 - part)} = {fraction_text(part)}"
                )
            )
    rf_a, rf_b = cmp.a.receptive_field, cmp.b.receptive_field
    if rf_a == rf_b:
        out.append(line(f"Receptive field: both {fmt_rf(rf_a)}"))
    else:
        out.append(line(f"Receptive field: A {fmt_rf(rf_a)}, B {fmt_rf(rf_b)}"))
    return out


def _execution_lines(cmp: Comparison) -> list:
    out = []
    sides = [(t, s) for t, s in (("A", cmp.a), ("B", cmp.b)) if s.run is not None]
    if not sides:
        return out
    ran = [(t, s) for t, s in sides if s.run.ran]
    if len(ran) == 2 and all(s.run.ok for _, s in ran):
        out.append(line(f"Execution {TICK}: the NumPy runner's params and MACs equal the analyzer's on both sides."))
    else:
        for tag, side in sides:
            run = side.run
            if not run.ran:
                out.append(line(f"Execution of {tag} ({side.label}) skipped: {run.note}"))
            elif run.ok:
                out.append(line(f"Execution of {tag} ({side.label}) {TICK}: params and MACs equal the analyzer's."))
            else:
                out.append(
                    line(
                        f"Execution of {tag} ({side.label}) {CROSS}: the runner counted {run.params:,} params and "
                        f"{run.macs:,} MACs; the analyzer {side.params:,} and {side.macs:,}"
                        + ("" if run.shapes_ok else "; output shapes differ")
                    )
                )
    for tag, side in sides:
        rf = side.rf_check
        if rf is None:
            continue
        if rf.measured is None:
            out.append(line(f"Receptive field of {tag} ({side.label}): {rf.note}"))
        else:
            out.append(
                line(
                    f"Receptive field of {tag} ({side.label}) measured by execution at D_F={rf.probe_size}: "
                    f"{fmt_rf(rf.measured)}, jump {fmt_rf(rf.measured_jump) if rf.measured_jump else '-'}; "
                    f"computed {fmt_rf(rf.computed)}, jump {fmt_rf(rf.jump)} {mark(rf.ok)}"
                )
            )
    return out


def _layers_table(cmp: Comparison) -> Table:
    table = Table(
        [
            Column("layer", "layer"),
            Column("a_params", "A params", NUMBER),
            Column("b_params", "B params", NUMBER),
            Column("a_macs", "A MACs", NUMBER),
            Column("b_macs", "B MACs", NUMBER),
        ],
        title="Layers with the same name",
    )
    for p in cmp.layers:
        table.add(p.name, p.a.params, p.b.params, p.a.macs, p.b.macs)
    return table
