"""Render the result of ``flopcount check``: a rich table, JSON, Markdown or JUnit XML.

Rendering only; the figures come from flopcount.check. rich is imported inside
render_check, so the text formats work without it.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from .check import CheckResult, Drift, LayerChange, SpecCheck
from .expr import plain
from .layers import fmt_shape
from .report import fit_width, markdown_table

SUMMARY_HEAD = ["spec", "status", "params", "MACs", "compared with"]
DRIFT_HEAD = ["where", "figure", "expected", "actual", "change", "relative"]
LAYER_HEAD = ["layer", "kind", "type", "output shape", "params change", "MACs change"]
FIGURE_LABEL = {"params": "params", "trainable": "trainable params", "non_trainable": "non-trainable params", "macs": "MACs"}


def fmt_relative(drift: Drift) -> str:
    rel = drift.relative
    if rel is None:
        return "-"
    return f"{float(rel) * 100:+.2f} %"


def fmt_tolerance(result: CheckResult) -> str:
    return f"{float(result.tolerance * 100):g} %"


def drift_row(d: Drift) -> list[str]:
    where = "total" if d.scope == "total" else f"{d.scope} {d.name}"
    if d.source == "baseline":
        where += " (baseline)"
    actual = "missing" if d.actual is None else f"{d.actual:,}"
    change = "-" if d.change is None else f"{d.change:+,}"
    return [where, FIGURE_LABEL[d.figure], f"{d.expected:,}", actual, change, fmt_relative(d)]


def layer_row(c: LayerChange) -> list[str]:
    before, after = c.before or {}, c.after or {}
    kinds = sorted({x["type"] for x in (before, after) if x})
    shapes = [fmt_shape(x["shape"]) if x else "-" for x in (before, after)]
    shape = shapes[1] if shapes[0] == shapes[1] else f"{shapes[0]} -> {shapes[1]}"
    delta = {f: after.get(f, 0) - before.get(f, 0) for f in ("params", "macs")}
    return [c.name, c.change, " -> ".join(kinds), shape, f"{delta['params']:+,}", f"{delta['macs']:+,}"]


def summary_row(c: SpecCheck) -> list[str]:
    status = {"pass": "pass", "drift": "DRIFT", "missing": "MISSING"}[c.status]
    return [c.label, status, f"{c.totals['params']:,}", f"{c.totals['macs']:,}", ", ".join(c.sources) or "-"]


def headline(result: CheckResult) -> str:
    n, bad = len(result.checks), len(result.failed)
    what = "check" if n == 1 else "checks"
    text = f"all {n} {what} pass" if not bad else f"{bad} of {n} {what} failed"
    extra = [f"MAC tolerance {fmt_tolerance(result)}"] if result.tolerance else []
    if result.baseline:
        extra.append(f"baseline {result.baseline}" + (" (updated)" if result.updated else ""))
    return f"flopcount check: {text}" + (f" ({'; '.join(extra)})" if extra else "")


# ---------------------------------------------------------------- rich


def render_check(result: CheckResult, console) -> None:
    """Print a summary of every check, then each failed check's drift, into a rich console."""
    from rich.table import Table
    from rich.text import Text

    # cells are Text, not markup: a label such as 'x.json [alpha=0.75]' must print as written
    def table(title, head, rows, numeric):
        t = Table(title=Text(title), title_justify="left", header_style="bold")
        for h in head:
            t.add_column(h, justify="right" if h in numeric else "left", no_wrap=h in numeric)
        for row in rows:
            t.add_row(*map(Text, row))
        fit_width(console, t)
        return t

    numbers = {"params", "MACs", "expected", "actual", "change", "relative", "params change", "MACs change"}
    console.print(table(headline(result), SUMMARY_HEAD, [summary_row(c) for c in result.checks], numbers))
    for c in result.failed:
        console.print()
        if c.drifts:
            console.print(table(f"{c.label}: figures that differ", DRIFT_HEAD, [drift_row(d) for d in c.drifts], numbers))
        if c.layers:
            console.print(table(f"{c.label}: layers that changed", LAYER_HEAD, [layer_row(x) for x in c.layers], numbers))
        for note in c.missing:
            console.print(Text(f"{c.label}: {note}"))


# ---------------------------------------------------------------- JSON and Markdown


def check_dict(result: CheckResult) -> dict:
    """The whole result as plain data with exact integers."""

    def drift(d: Drift):
        rel = d.relative
        return {
            "source": d.source,
            "scope": d.scope,
            "name": d.name or None,
            "figure": d.figure,
            "expected": d.expected,
            "actual": d.actual,
            "change": d.change,
            "relative": None if rel is None else float(rel),
        }

    def layer(x: LayerChange):
        return {"name": x.name, "change": x.change, "before": x.before, "after": x.after}

    return {
        "ok": result.ok,
        "tolerance": float(result.tolerance),
        "baseline": result.baseline,
        "updated": result.updated,
        "checks": [
            {
                "spec": c.spec,
                "name": c.name,
                "setting": {k: plain(v) for k, v in c.setting.items()},
                "status": c.status,
                "sources": c.sources,
                "totals": c.totals,
                "drift": [drift(d) for d in c.drifts],
                "layers": [layer(x) for x in c.layers],
                "missing": c.missing,
            }
            for c in result.checks
        ],
    }


def check_json(result: CheckResult) -> str:
    return json.dumps(check_dict(result), indent=2)


def check_markdown(result: CheckResult) -> str:
    """A pull-request comment or CI step summary: the summary table, then each failure."""
    parts = [f"### {headline(result)}", markdown_table(SUMMARY_HEAD, [summary_row(c) for c in result.checks])]
    for c in result.failed:
        parts.append(f"#### {c.label}")
        if c.drifts:
            parts.append(markdown_table(DRIFT_HEAD, [drift_row(d) for d in c.drifts]))
        if c.layers:
            parts.append(markdown_table(LAYER_HEAD, [layer_row(x) for x in c.layers]))
        parts += [note for note in c.missing]
    return "\n\n".join(parts) + "\n"


# ---------------------------------------------------------------- JUnit XML


def failure_message(c: SpecCheck) -> str:
    """One line: the totals that drifted, how many layers changed, what is missing."""
    bits = []
    for d in c.drifts:
        if d.scope == "total":
            rel = fmt_relative(d)
            bits.append(f"{FIGURE_LABEL[d.figure]} {d.change:+,} vs {d.source} ({rel})")
    others = sum(1 for d in c.drifts if d.scope != "total")
    if others:
        bits.append(f"{others} layer or block figure(s) differ")
    if c.layers:
        bits.append(f"{len(c.layers)} layer(s) changed: " + ", ".join(x.name for x in c.layers[:10]) + (", ..." if len(c.layers) > 10 else ""))
    return "; ".join(bits + c.missing)


def check_junit(result: CheckResult) -> str:
    """JUnit XML: one test suite, one test case per spec and setting checked."""
    failures = len(result.failed)
    suites = ET.Element("testsuites", name="flopcount check", tests=str(len(result.checks)), failures=str(failures), errors="0")
    suite = ET.SubElement(
        suites, "testsuite", name="flopcount check", tests=str(len(result.checks)), failures=str(failures), errors="0", skipped="0"
    )
    for c in result.checks:
        case = ET.SubElement(suite, "testcase", classname="flopcount.check", name=c.label)
        if not c.ok:
            failure = ET.SubElement(case, "failure", message=failure_message(c), type=c.status)
            lines = []
            for head, rows in ((DRIFT_HEAD, map(drift_row, c.drifts)), (LAYER_HEAD, map(layer_row, c.layers))):
                rows = [" | ".join(r) for r in rows]
                lines += [" | ".join(head), *rows, ""] if rows else []
            failure.text = "\n".join(lines + c.missing).strip()
        out = ET.SubElement(case, "system-out")
        out.text = ", ".join(f"{k}={v}" for k, v in c.totals.items()) + f" (compared with: {', '.join(c.sources) or 'nothing'})"
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
