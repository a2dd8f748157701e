"""What ``flopcount check`` reports: tables (drawn by flopcount.render), JSON and JUnit XML.

The figures come from flopcount.check; nothing here computes or prints.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from .check import CheckResult, Drift, LayerChange, SpecCheck
from .expr import fixed, plain
from .layers import fmt_shape
from .render import to_plain, visible
from .table import NUMBER, Column, Table, line

SUMMARY_COLUMNS = [
    Column("spec", "spec"),
    Column("status", "status"),
    Column("params", "params", NUMBER),
    Column("macs", "MACs", NUMBER),
    Column("sources", "compared with"),
]
DRIFT_COLUMNS = [
    Column("where", "where"),
    Column("figure", "figure"),
    Column("expected", "expected", NUMBER),
    Column("actual", "actual", NUMBER),
    Column("change", "change", NUMBER),
    Column("relative", "relative", NUMBER),
]
LAYER_COLUMNS = [
    Column("layer", "layer"),
    Column("change", "kind"),
    Column("type", "type"),
    Column("shape", "output shape"),
    Column("params", "params change", NUMBER),
    Column("macs", "MACs change", NUMBER),
]
FIGURE_LABEL = {
    "params": "params",
    "trainable": "trainable params",
    "non_trainable": "non-trainable params",
    "macs": "MACs",
}


def fmt_relative(drift: Drift) -> str:
    rel = drift.relative
    if rel is None:
        return "-"
    return ("+" if rel >= 0 else "") + fixed(rel * 100, 2) + " %"  # exact: no float to overflow


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
    kinds = list(dict.fromkeys(x["type"] for x in (before, after) if x))  # before -> after, once if the same
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


# ---------------------------------------------------------------- tables


def summary_table(result: CheckResult) -> Table:
    table = Table(SUMMARY_COLUMNS, title=headline(result))
    for c in result.checks:
        table.add(*summary_row(c))
    return table


def check_blocks(result: CheckResult) -> list:
    """A summary of every check, then each failed check's drift, layer changes and notes."""
    blocks = [summary_table(result)]
    for c in result.failed:
        blocks += [line(), *failed_blocks(c)]
    return blocks


def failed_blocks(c: SpecCheck) -> list:
    """A failed check's figures that differ, layers that changed and notes."""
    blocks = []
    if c.drifts:
        blocks.append(
            Table(DRIFT_COLUMNS, [drift_row(d) for d in c.drifts], f"{c.label}: figures that differ", level=2)
        )
    if c.layers:
        blocks.append(
            Table(LAYER_COLUMNS, [layer_row(x) for x in c.layers], f"{c.label}: layers that changed", level=2)
        )
    return blocks + [line(f"{c.label}: {note}") for note in c.missing]


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
            "relative": None if rel is None else plain(rel),
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
                "convention": c.convention,
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
        bits.append(
            f"{len(c.layers)} layer(s) changed: "
            + ", ".join(x.name for x in c.layers[:10])
            + (", ..." if len(c.layers) > 10 else "")
        )
    return "; ".join(bits + c.missing)


def check_junit(result: CheckResult) -> str:
    """JUnit XML: one test suite, one test case per spec and setting checked."""
    failures = len(result.failed)
    suites = ET.Element(
        "testsuites", name="flopcount check", tests=str(len(result.checks)), failures=str(failures), errors="0"
    )
    suite = ET.SubElement(
        suites,
        "testsuite",
        name="flopcount check",
        tests=str(len(result.checks)),
        failures=str(failures),
        errors="0",
        skipped="0",
    )
    for c in result.checks:
        # names are user text: escaped, since XML 1.0 cannot hold most control characters even as references
        case = ET.SubElement(suite, "testcase", classname="flopcount.check", name=visible(c.label))
        if not c.ok:
            failure = ET.SubElement(case, "failure", message=visible(failure_message(c)), type=c.status)
            failure.text = to_plain(failed_blocks(c)).strip()
        out = ET.SubElement(case, "system-out")
        out.text = visible(
            ", ".join(f"{k}={v}" for k, v in c.totals.items())
            + f" (compared with: {', '.join(c.sources) or 'nothing'})"
        )
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
