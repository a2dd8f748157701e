"""Render a comparison of two blocks or specs for people (rich) and for scripts (JSON)."""

from __future__ import annotations

import json
from fractions import Fraction

from .expr import fixed
from .layers import fmt_shape
from .compare import STACK_WEIGHTS, Comparison, Formula, Side, comparison_dict, fraction_text, list_blocks

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


def render_block_list(console) -> None:
    """The built-in blocks, one line each."""
    from rich.table import Table

    table = Table(title="Built-in blocks for flopcount compare", title_justify="left", header_style="bold")
    table.add_column("block")
    table.add_column("what it is")
    for name, description in list_blocks():
        table.add_row(name, description)
    console.print(table)
    console.print(
        "Sizes: --M input channels, --N output channels, --C channels of the C → C stacks (or --M = --N), "
        "--DK kernel (3), --DF input side (112), --stride (1), --t expansion (6), --bias (off). "
        "Every block pads 'same', so D_G = ceil(D_F / stride).",
        soft_wrap=True,
    )


def render_comparison(cmp: Comparison, console) -> None:
    """Both sides' figures and formulas, the exact ratios, the closed form and every verdict."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    a, b = cmp.a, cmp.b
    console.print(Text(f"{a.label} (A) vs {b.label} (B)", style="bold") + _sizes_line(cmp), soft_wrap=True)
    table = Table(header_style="bold", box=box.SIMPLE_HEAD)
    table.add_column("", no_wrap=True)
    for head in ("A", "B", "B / A"):  # fold rather than cut a long number
        table.add_column(head, justify="right", overflow="fold")
    metrics = ["params", "macs"] + (["flops"] if cmp.sizes.bias or not _blocks(cmp) else [])
    for metric in metrics:
        r = cmp.ratios[metric]
        ratio = "-" if r.value is None else decimal(r.value)
        table.add_row(LABELS[metric], f"{getattr(a, metric):,}", f"{getattr(b, metric):,}", ratio)
    table.add_row("output shape", _shape(a), _shape(b))
    table.add_row("receptive field", fmt_rf(a.receptive_field), fmt_rf(b.receptive_field))
    if a.run or b.run:
        table.add_row("NumPy run", _run_cell(a), _run_cell(b))
    console.print(table)
    for metric in metrics:
        r = cmp.ratios[metric]
        if r.value is not None:
            console.print(f"B / A {LABELS[metric]:<7}exactly {fraction_text(r.value)} = {decimal(r.value)}", soft_wrap=True)

    for tag, side in (("A", a), ("B", b)):
        _render_formulas(console, tag, side)
    _render_ratio(console, cmp)
    _render_execution(console, cmp)
    if cmp.layers:
        _render_layers(console, cmp)
    for note in cmp.notes:
        console.print(f"Note: {note}", soft_wrap=True)
    failed = [k for k, v in cmp.verdicts.items() if v is False]
    if failed:
        console.print(Text(f"{CROSS} Failed checks: {', '.join(failed)}", style="bold"), soft_wrap=True)


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


def _render_formulas(console, tag: str, side: Side) -> None:
    head = f"{tag}  {side.label}"
    if side.kind == "block":
        head += f": {side.description}"
    else:
        head += f": spec '{side.graph.name}', {len(side.graph.nodes)} layers"
    console.print(head, soft_wrap=True)
    if side.params_formula is not None:
        console.print(_formula_line("params", side.params_formula, side.params), soft_wrap=True)
        console.print(_formula_line("MACs", side.macs_formula, side.macs), soft_wrap=True)


def _render_ratio(console, cmp: Comparison) -> None:
    closed, r = cmp.closed, cmp.ratios
    if closed is not None:
        console.print(f"Closed form of B / A: {closed.text} = {closed.combined}", soft_wrap=True)
        console.print(f"    with these sizes: {closed.substituted} = {decimal(closed.value)}", soft_wrap=True)
        macs = r["macs"]
        line = (
            f"Verdict: counted MAC ratio {fraction_text(macs.value)} "
            + ("equals" if macs.equal else "does NOT equal")
            + f" the closed form {fraction_text(closed.value)} exactly (rational arithmetic) {mark(macs.equal)}"
        )
        params = r["params"]
        if closed.params_exact:
            line += "; so does the parameter ratio" if params.equal else f"; the parameter ratio {fraction_text(params.value)} does NOT {CROSS}"
        else:
            line += f"; with biases the parameter ratio is {fraction_text(params.value)}, not the closed form (see the note)"
        console.print(line, soft_wrap=True)
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
            console.print(
                f"Saving: {cheaper} ({side.label}) needs {percent(part)} fewer {label} than "
                f"{other} ({costly.label}): 1 - {fraction_text(1 - part)} = {fraction_text(part)}",
                soft_wrap=True,
            )
    rf_a, rf_b = cmp.a.receptive_field, cmp.b.receptive_field
    if rf_a == rf_b:
        console.print(f"Receptive field: both {fmt_rf(rf_a)}", soft_wrap=True)
    else:
        console.print(f"Receptive field: A {fmt_rf(rf_a)}, B {fmt_rf(rf_b)}", soft_wrap=True)


def _render_execution(console, cmp: Comparison) -> None:
    sides = [(t, s) for t, s in (("A", cmp.a), ("B", cmp.b)) if s.run is not None]
    if not sides:
        return
    ran = [(t, s) for t, s in sides if s.run.ran]
    if len(ran) == 2 and all(s.run.ok for _, s in ran):
        console.print(
            f"Execution {TICK}: the NumPy runner's params and MACs equal the analyzer's on both sides.",
            soft_wrap=True,
        )
    else:
        for tag, side in sides:
            run = side.run
            if not run.ran:
                console.print(f"Execution of {tag} ({side.label}) skipped: {run.note}", soft_wrap=True)
            elif run.ok:
                console.print(f"Execution of {tag} ({side.label}) {TICK}: params and MACs equal the analyzer's.",
                              soft_wrap=True)
            else:
                console.print(
                    f"Execution of {tag} ({side.label}) {CROSS}: the runner counted {run.params:,} params and "
                    f"{run.macs:,} MACs; the analyzer {side.params:,} and {side.macs:,}"
                    + ("" if run.shapes_ok else "; output shapes differ"),
                    soft_wrap=True,
                )
    for tag, side in sides:
        rf = side.rf_check
        if rf is None:
            continue
        if rf.measured is None:
            console.print(f"Receptive field of {tag} ({side.label}): {rf.note}", soft_wrap=True)
        else:
            console.print(
                f"Receptive field of {tag} ({side.label}) measured by execution at D_F={rf.probe_size}: "
                f"{fmt_rf(rf.measured)}, jump {fmt_rf(rf.measured_jump) if rf.measured_jump else '-'}; "
                f"computed {fmt_rf(rf.computed)}, jump {fmt_rf(rf.jump)} {mark(rf.ok)}",
                soft_wrap=True,
            )


def _render_layers(console, cmp: Comparison) -> None:
    from rich.table import Table

    table = Table(title="Layers with the same name", title_justify="left", header_style="bold")
    for head in ("layer", "A params", "B params", "A MACs", "B MACs"):
        table.add_column(head, justify="left" if head == "layer" else "right")
    for p in cmp.layers:
        table.add_row(p.name, f"{p.a.params:,}", f"{p.b.params:,}", f"{p.a.macs:,}", f"{p.b.macs:,}")
    console.print(table)
