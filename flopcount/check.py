"""Compare a spec's figures with what is expected: its own ``expect`` block, or a baseline file.

Two sources of expected figures, both exact integers:

* ``expect`` inside a spec: the spec's own contract, written by hand (from a paper, say)::

      "expect": {
        "params": 138357544, "trainable": 138357544, "non_trainable": 0,
        "macs": 15470264320,
        "layers": {"fc6": {"params": 102764544, "macs": 102760448}},
        "blocks": {"stage2": {"params": 1000}},
        "source": "Keras applications, VGG16"
      }

  Every key is optional; only the figures given are compared. ``layers`` is keyed by
  layer name, ``blocks`` by top-level entry name (a block instance or a repeat; a plain
  layer is its own block, as in ``analyze --by block``). ``expect`` may also be a list of
  such objects for a family of models: an entry with ``"set": {"alpha": 0.75}`` holds
  the figures of the spec with those variables set (the others at their defaults), an
  entry without ``set`` those of the spec as written. Every entry is checked at its own
  setting; under ``--set`` only the entries whose setting equals the one asked for.

* a baseline file for a set of specs, written by ``--update`` (its format is
  flopcount.baseline's): totals and per-layer figures keyed by the spec's path relative
  to the baseline's folder, or by its name for a bundled spec named as such (``vgg16``),
  with ``[name=value, ...]`` appended for a ``--set`` run.

Parameters are compared exactly; MACs exactly unless a tolerance is given, as a
fraction of the expected figure.
"""

from __future__ import annotations

import glob
import json
import os
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from .baseline import FIGURES, is_baseline, read_baseline, update_baseline
from .errors import FlopcountError, SpecError, spec_error, suggest
from .expr import plain
from .files import exists, read_bounded
from .graph import Graph, Totals, build_graph
from .spec import MAX_LAYERS, bundled_dir, load_spec, parse_json, parse_spec, resolve_path

EXPECT_KEYS = ("set", "convention", "source") + FIGURES + ("layers", "blocks")
DEFAULT_CONVENTION = "flopcount"  # flopcount's own MACs and parameters
SCHEMA_SUFFIX = ".schema.json"  # a JSON Schema kept beside the specs, skipped in folders and globs
# a tolerance is a short decimal, optionally with a small exponent, or p/q: never 10**99999999
TOLERANCE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,2})?|\d+/\d+", re.ASCII)
MAX_TOLERANCE_CHARS = 30


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class Drift:
    """One figure that differs from what was expected."""

    source: str  # "expect" or "baseline"
    scope: str  # "total", "layer" or "block"
    name: str  # the layer or block; "" for totals
    figure: str  # one of FIGURES
    expected: int
    actual: int | None  # None: the layer or block no longer exists

    @property
    def change(self) -> int | None:
        return None if self.actual is None else self.actual - self.expected

    @property
    def relative(self) -> Fraction | None:
        """Change over expected, exactly; None when there is nothing to divide by."""
        if self.actual is None or self.expected == 0:
            return None
        return Fraction(self.actual - self.expected, self.expected)


@dataclass(frozen=True)
class LayerChange:
    """A layer added, removed, or whose type, params or MACs differ from the baseline's."""

    name: str
    change: str  # "added", "removed", "reshaped" (figures and output shape) or "changed" (figures or type)
    before: dict | None  # the baseline's {"type", "shape", "params", "macs"}; None if added
    after: dict | None  # the same figures now; None if removed


@dataclass
class SpecCheck:
    """One spec at one variable setting, compared with every source that covers it."""

    spec: str  # the path as given or found
    name: str  # the spec's own name
    setting: dict  # variables set for this check (by --set or an expect entry's "set")
    totals: dict  # the figures now, FIGURES -> int
    convention: str = DEFAULT_CONVENTION  # whose MACs and params these are (--convention)
    sources: list[str] = field(default_factory=list)  # "expect", "baseline", "baseline (updated)"
    drifts: list[Drift] = field(default_factory=list)
    layers: list[LayerChange] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # why something could not be compared

    @property
    def label(self) -> str:
        """The spec, its setting and a convention other than flopcount's: 'mobilenet_v1.json [alpha=0.75] (fvcore)'."""
        return self.spec + setting_suffix(self.setting) + convention_suffix(self.convention)

    @property
    def status(self) -> str:
        if self.drifts or self.layers:
            return "drift"
        return "missing" if self.missing else "pass"

    @property
    def ok(self) -> bool:
        return self.status == "pass"


@dataclass
class CheckResult:
    """Every check of one run, and how it was run."""

    checks: list[SpecCheck]
    tolerance: Fraction = Fraction(0)
    baseline: str | None = None
    updated: bool = False

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failed(self) -> list[SpecCheck]:
        return [c for c in self.checks if not c.ok]


def show_value(value) -> str:
    """A variable's value as a spec would write it, exactly: 0.75, 1/3, 2, true.

    Exact, because it is part of a baseline key: 1/3 and 0.3333333333333333 are two settings.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Fraction):
        return decimal_text(value) or f"{value.numerator}/{value.denominator}"
    return str(value)


def decimal_text(value: Fraction) -> str | None:
    """value as a finite decimal ('0.75', '-2.5', '3'), or None when it has none (1/3)."""
    d, twos, fives = value.denominator, 0, 0
    while d % 2 == 0:
        d, twos = d // 2, twos + 1
    while d % 5 == 0:
        d, fives = d // 5, fives + 1
    if d != 1:
        return None
    places = max(twos, fives)
    digits = str(abs(value.numerator) * 10**places // value.denominator).rjust(places + 1, "0")
    text = f"{digits[:-places]}.{digits[-places:]}" if places else digits
    return "-" + text if value < 0 else text


def convention_suffix(convention: str) -> str:
    """' (fvcore)' for a convention other than flopcount's, '' otherwise."""
    return "" if convention == DEFAULT_CONVENTION else f" ({convention})"


def setting_suffix(setting: dict) -> str:
    """' [alpha=0.75, rho=1]' for a non-empty setting, '' otherwise."""
    if not setting:
        return ""
    return " [" + ", ".join(f"{k}={show_value(v)}" for k, v in setting.items()) + "]"


def parse_tolerance(text: str | None) -> Fraction:
    """'0.5%' (or '0.5') -> Fraction(1, 200): the allowed MAC drift as a fraction of expected."""
    raw = (text or "0").strip()
    number = raw[:-1].strip() if raw.endswith("%") else raw
    value = None
    if len(number) <= MAX_TOLERANCE_CHARS and TOLERANCE.fullmatch(number):
        try:
            value = Fraction(number)
        except ZeroDivisionError:
            pass
    if value is None or not 0 <= value < 100:
        shown = raw if len(raw) <= 40 else raw[:37] + "..."
        raise FlopcountError.about(
            "tolerance",
            "{tolerance} takes a percentage from 0 up to (not including) 100, such as 0.5%. Received: {text}",
            text=shown,
        )
    return value / 100


# ---------------------------------------------------------------- expect blocks


@dataclass(frozen=True)
class Expectation:
    """One entry of a spec's ``expect``: figures for one variable setting."""

    where: str  # "expect" or "expect[2]", for messages
    when: dict
    convention: str  # whose figures these are: flopcount's own, or another tool's (flopcount.layers.conventions)
    totals: dict
    layers: dict  # layer name -> {figure: int}
    blocks: dict  # block name -> {figure: int}

    @property
    def vacuous(self) -> bool:
        """True when the entry compares no figure at all (only a source, a setting, or nothing)."""
        return not self.totals and not any(self.layers.values()) and not any(self.blocks.values())


def parse_expect(raw, variables=()) -> list[Expectation]:
    """Validate a spec's ``expect`` value (an object or a list of objects)."""
    if raw is None:
        return []
    if isinstance(raw, dict):
        items = [("expect", raw)]
    elif isinstance(raw, list) and raw:
        items = [(f"expect[{i}]", item) for i, item in enumerate(raw)]
    else:
        raise spec_error(
            "must be an object of expected figures, or a non-empty list of them.", attribute="expect", received=raw
        )
    out = []
    seen = set()
    for where, item in items:
        entry = _expectation(where, item, variables)
        key = (json.dumps({k: str(v) for k, v in entry.when.items()}, sort_keys=True), entry.convention)
        if key in seen:
            raise SpecError(
                "two expect entries have the same 'set' and convention; merge them.", attribute=f"{where}.set"
            )
        seen.add(key)
        out.append(entry)
    return out


def _expectation(where, item, variables) -> Expectation:
    _known_keys(item, EXPECT_KEYS, where, "key in expect")
    when = item.get("set", {})
    if not isinstance(when, dict):
        raise spec_error("must be an object of variable: value.", attribute=f"{where}.set", received=when)
    for name, value in when.items():
        at = f"{where}.set.{name}"
        if name not in variables:
            listed = ", ".join(variables) or "none"
            raise SpecError(
                f"the spec has no such variable.{suggest(name, variables)} Its variables: {listed}.", attribute=at
            )
        if not isinstance(value, (bool, int, float, str)):
            raise spec_error("must be a number, a boolean or an expression string.", attribute=at, received=value)
    convention = item.get("convention", DEFAULT_CONVENTION)
    if not isinstance(convention, str):
        raise spec_error(
            'must name a convention, such as "fvcore".', attribute=f"{where}.convention", received=convention
        )
    from .layers.conventions import CONVENTIONS

    if convention not in CONVENTIONS:
        raise SpecError(
            f"no such convention.{suggest(convention, CONVENTIONS)} Conventions: {', '.join(CONVENTIONS)}.",
            attribute=f"{where}.convention",
        )
    if not isinstance(item.get("source", ""), str):
        raise spec_error(
            "must be a string citing where the figures come from.", attribute=f"{where}.source", received=item["source"]
        )
    parts = {}
    for part in ("layers", "blocks"):
        group = item.get(part, {})
        if not isinstance(group, dict):
            raise spec_error(
                f"must be an object of {part[:-1]} name: figures.", attribute=f"{where}.{part}", received=group
            )
        parts[part] = {}
        for name, figs in group.items():
            _known_keys(figs, FIGURES, f"{where}.{part}.{name}", "figure")
            parts[part][name] = _figures(figs, f"{where}.{part}.{name}")
    return Expectation(where, dict(when), convention, _figures(item, where), parts["layers"], parts["blocks"])


def _known_keys(item, allowed, at, what):
    if not isinstance(item, dict):
        raise spec_error('must be an object of expected figures such as {"params": 1000}.', attribute=at, received=item)
    for key in item:
        if key not in allowed:
            hint = suggest(key, allowed)
            raise SpecError(f"unknown {what}.{hint} Allowed: {', '.join(allowed)}.", attribute=f"{at}.{key}")


def _figures(item: dict, at: str) -> dict:
    out = {}
    for fig in FIGURES:
        if fig in item:
            value = item[fig]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise spec_error(
                    "must be an exact integer >= 0, such as 138357544.", attribute=f"{at}.{fig}", received=value
                )
            out[fig] = value
    return out


# ---------------------------------------------------------------- comparing


def figures(totals: Totals) -> dict:
    """The compared figures of some totals, in FIGURES order."""
    every = totals.as_dict()
    return {fig: every[fig] for fig in FIGURES}


def node_figures(graph: Graph, counted=None) -> list[dict]:
    """Each layer's compared figures; under a convention (a Counted) its figure and parameters for macs and params."""
    out = []
    for i, n in enumerate(graph.nodes):
        params, macs = (n.params, n.macs) if counted is None else (counted.counts[i].params, counted.counts[i].macs)
        out.append({"params": params, "trainable": n.trainable, "non_trainable": n.non_trainable, "macs": macs})
    return out


def figures_by(graph: Graph, key, counted=None) -> dict[str, dict]:
    """Compared figures summed per key(node) (None: one total keyed ''), in FIGURES order."""
    out: dict[str, dict] = {}
    for n, figs in zip(graph.nodes, node_figures(graph, counted)):
        sums = out.setdefault("" if key is None else key(n), dict.fromkeys(FIGURES, 0))
        for fig in FIGURES:
            sums[fig] += figs[fig]
    return out


def total_figures(graph: Graph, counted=None) -> dict:
    return figures(graph.totals) if counted is None else figures_by(graph, None, counted)[""]


def within(figure: str, expected: int, actual: int | None, tolerance: Fraction) -> bool:
    """Params match exactly; MACs within tolerance x expected (exactly when tolerance is 0)."""
    if actual is None:
        return False
    if figure != "macs" or not tolerance:
        return actual == expected
    return abs(actual - expected) <= tolerance * expected


def compare_expect(entry: Expectation, graph: Graph, tolerance: Fraction = Fraction(0), counted=None) -> list[Drift]:
    """Drift of the graph (counted under the entry's convention) from one expect entry: totals, then layers, blocks."""
    out = []
    actual = total_figures(graph, counted)
    for fig in FIGURES:
        if fig in entry.totals and not within(fig, entry.totals[fig], actual[fig], tolerance):
            out.append(Drift("expect", "total", "", fig, entry.totals[fig], actual[fig]))
    nodes = figures_by(graph, lambda n: n.name, counted)
    blocks = figures_by(graph, lambda n: n.group or n.name, counted)
    for scope, expected_part, found in (("layer", entry.layers, nodes), ("block", entry.blocks, blocks)):
        for name, figs in expected_part.items():
            now = found.get(name)
            for fig in (f for f in FIGURES if f in figs):
                value = None if now is None else now[fig]
                if not within(fig, figs[fig], value, tolerance):
                    out.append(Drift("expect", scope, name, fig, figs[fig], value))
    return out


def baseline_entry(graph: Graph, counted=None) -> dict:
    """What a baseline records for one spec: totals and per-layer figures (under a convention), exact integers."""
    return {
        "name": graph.name,
        "variables": {k: plain(v) for k, v in graph.spec.variables.items()},
        "totals": total_figures(graph, counted),
        "layers": [
            {"name": n.name, "type": n.type, "shape": list(n.shape), "params": figs["params"], "macs": figs["macs"]}
            for n, figs in zip(graph.nodes, node_figures(graph, counted))
        ],
    }


def compare_baseline(entry: dict, graph: Graph, tolerance: Fraction = Fraction(0), counted=None):
    """(drifts of the totals, changed layers) of the graph against a baseline entry."""
    now = baseline_entry(graph, counted)
    drifts = [
        Drift("baseline", "total", "", fig, entry["totals"][fig], now["totals"][fig])
        for fig in FIGURES
        if fig in entry["totals"] and not within(fig, entry["totals"][fig], now["totals"][fig], tolerance)
    ]
    before = {layer["name"]: layer for layer in entry["layers"]}
    after = {layer["name"]: layer for layer in now["layers"]}
    changes = []
    for name, new in after.items():
        old = before.get(name)
        if old is None:
            changes.append(LayerChange(name, "added", None, new))
        elif (
            old["type"] != new["type"]
            or old["params"] != new["params"]
            or not within("macs", old["macs"], new["macs"], tolerance)
        ):
            # a free layer whose shape follows its input is not listed: its figures are unchanged
            kind = "reshaped" if old["shape"] != new["shape"] else "changed"
            changes.append(LayerChange(name, kind, old, new))
    changes += [LayerChange(name, "removed", old, None) for name, old in before.items() if name not in after]
    return drifts, changes


# ---------------------------------------------------------------- baseline keys


def baseline_key(
    spec_path: Path, baseline: str | Path, setting: dict, bundled: bool = False, convention: str = DEFAULT_CONVENTION
) -> str:
    """The spec's path relative to the baseline's folder in / form, or a bundled spec's name; plus its setting
    and a convention other than flopcount's ('vgg16 [resolution=160] (fvcore)').

    A bundled spec named as such ('vgg16') is keyed by that name: its path depends on
    where flopcount is installed, which differs between machines and virtual environments.
    """
    suffix = setting_suffix(setting) + convention_suffix(convention)
    if bundled:
        return spec_path.stem + suffix
    folder = os.path.dirname(os.path.abspath(baseline))
    rel = os.path.relpath(os.path.abspath(spec_path), folder)
    return Path(rel).as_posix() + suffix


# ---------------------------------------------------------------- specs on the command line


@dataclass(frozen=True)
class SpecArg:
    """One spec to check, as found on the command line."""

    label: str  # the path as given or found, or the bundled name
    path: Path
    bundled: bool = False  # named as a bundled spec ('vgg16'), not by a path
    found: bool = False  # found in a folder or by a glob, not named itself


def is_spec_file(path: Path) -> bool:
    """A file, but not a JSON Schema kept beside the specs (spec.schema.json)."""
    return path.is_file() and not path.name.endswith(SCHEMA_SUFFIX)


def expand_specs(args, exclude: str | Path | None = None) -> list[SpecArg]:
    """Every spec named: files, bundled names, folders (*.json) and globs, each once.

    Folders and globs skip *.schema.json (and, when checked, baselines); a schema named on
    its own is taken as a spec.
    """
    out: dict[str, SpecArg] = {}
    skip = os.path.abspath(exclude) if exclude else None
    for arg in args:
        path = Path(arg)
        if exists(path, "spec", SpecError) and path.is_dir():
            found = sorted(p for p in path.glob("*.json") if is_spec_file(p))
            if not found:
                raise SpecError("the folder holds no .json specs.", file=str(arg))
            specs = [SpecArg(p.as_posix(), p, found=True) for p in found]
        elif path.exists():
            specs = [SpecArg(str(arg), path)]
        elif any(ch in str(arg) for ch in "*?["):
            found = sorted(Path(p) for p in glob.glob(str(arg), recursive=True) if is_spec_file(Path(p)))
            if not found:
                raise SpecError("no file matches this pattern.", file=str(arg))
            specs = [SpecArg(p.as_posix(), p, found=True) for p in found]
        else:
            found = resolve_path(str(arg))
            specs = [SpecArg(str(arg), found, bundled=found.parent == bundled_dir())]
        for spec in specs:
            full = os.path.abspath(spec.path)
            if full != skip:
                out.setdefault(full, spec)
    return list(out.values())


# ---------------------------------------------------------------- the check


def run_check(
    args,
    baseline: str | Path | None = None,
    update: bool = False,
    tolerance: Fraction = Fraction(0),
    overrides: dict | None = None,
    max_layers: int = MAX_LAYERS,
    convention: str = DEFAULT_CONVENTION,
) -> CheckResult:
    """Check every spec named in args; with update, rewrite the baseline from the figures now.

    Under a convention other than flopcount's, MACs and params are that tool's figures
    (flopcount.layers.conventions): the expect entries that name it are checked, and the
    baseline's entries are keyed with it ('vgg16 (fvcore)').

    Raises a FlopcountError (SpecError, ShapeError, BaselineError) when a spec or the
    baseline cannot be read; drift is data in the result, never an exception.
    """
    if update and baseline is None:
        raise FlopcountError.about("update", "{update} needs {baseline}: the file to write.")
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, Fraction)) or not 0 <= tolerance < 1:
        shown = str(tolerance)
        raise FlopcountError.about(
            "tolerance",
            "{tolerance} must be a Fraction from 0 up to (not including) 1. Received: {value}",
            value=shown if len(shown) <= 40 else shown[:37] + "...",
        )
    if convention != DEFAULT_CONVENTION:
        from .layers.conventions import convention as known

        known(convention)  # an unknown name is an error before any spec is read
    specs = expand_specs(args, exclude=baseline)
    # an update reads the baseline only when it writes it, under its lock (flopcount.baseline.update_baseline)
    recorded = read_baseline(baseline) if baseline is not None and not update else {}
    checks: list[SpecCheck] = []
    fresh: dict = {}
    for spec in specs:
        for check, graph in _check_spec(
            spec, baseline, recorded, update, tolerance, overrides or {}, max_layers, convention
        ):
            checks.append(check)
            if graph is not None:
                key = baseline_key(spec.path, baseline, check.setting, spec.bundled, convention)
                fresh[key] = baseline_entry(graph, under(graph, convention))
    if update:
        update_baseline(baseline, fresh)
    return CheckResult(checks, tolerance, None if baseline is None else str(baseline), update)


def _setting_text(when: dict) -> str:
    """An expect entry's setting as written: alpha=0.5, width="8 * alpha"."""
    return ", ".join(f"{name}={json.dumps(value)}" for name, value in when.items())


def _is_baseline(arg: SpecArg) -> bool:
    """Whether a JSON file named or found as a spec is a baseline (model files of other frameworks are not)."""
    from .importers import model_format

    if model_format(arg.path) is not None:
        return False
    return is_baseline(parse_json(read_bounded(arg.path, "spec", SpecError, file=arg.label), arg.label))


def under(graph: Graph, convention: str):
    """The graph counted under a convention, or None for flopcount's own figures."""
    return None if convention == DEFAULT_CONVENTION else graph.under(convention)


def _check_spec(
    arg: SpecArg, baseline, recorded, update, tolerance, overrides, max_layers, convention=DEFAULT_CONVENTION
):
    """Yield (SpecCheck, graph to record in the baseline or None) for each setting checked."""
    label = arg.label
    if _is_baseline(arg):
        if arg.found:
            return  # a baseline kept beside the specs
        raise SpecError.about("baseline", "this is a flopcount baseline, not a spec; give it with {baseline}.").located(
            file=label
        )
    # read and expanded as every command reads a spec; the label resolves to arg.path again
    here = build_graph(load_spec(label, overrides=overrides, max_layers=max_layers))
    doc = here.spec.data

    def load(entry: Expectation, graph=True):
        """The same spec at an expect entry's setting, expanded from the text already read.

        An error is the entry's: its own value for a variable is named as expect[i].set.name, and
        anything the setting breaks further on (a variable, a layer) is reported at that setting.
        """
        try:
            spec = parse_spec(doc, file=label, overrides=entry.when, max_layers=max_layers)
            return build_graph(spec) if graph else spec
        except FlopcountError as err:
            if err.option == "overrides" and isinstance(err.__cause__, FlopcountError):
                raise err.__cause__.located(file=label, attribute=f"{entry.where}.set.{err.values['name']}") from None
            raise err.located(file=label, context=f"{entry.where} sets {_setting_text(entry.when)}")

    declared = doc.get("variables", {})
    try:
        entries = [e for e in parse_expect(doc.get("expect"), declared) if e.convention == convention]
    except FlopcountError as err:
        raise err.located(file=label)

    # each setting to check: (setting as asked, graph, expect entries that apply)
    plan = []
    if overrides:
        matching = []
        for entry in entries:
            if load(entry, graph=False).variables == here.spec.variables:
                matching.append(entry)
        plan.append(({k: here.spec.variables[k] for k in overrides}, here, matching, True))
    else:
        default = [e for e in entries if not e.when]
        if default or baseline is not None or not entries:
            plan.append(({}, here, default, True))
        for entry in entries:
            if entry.when:
                graph = load(entry)
                plan.append(({k: graph.spec.variables[k] for k in entry.when}, graph, [entry], False))

    for setting, graph, matching, with_baseline in plan:
        counted = under(graph, convention)
        check = SpecCheck(label, graph.name, setting, total_figures(graph, counted), convention)
        check.missing += graph.unused_notes()  # an unread output fails unless 'outputs' names it
        for entry in matching:
            check.drifts += compare_expect(entry, graph, tolerance, counted)
            if entry.vacuous:
                check.missing.append(f"{entry.where} compares nothing: give it {', '.join(FIGURES)}, layers or blocks.")
        if any(not entry.vacuous for entry in matching):
            check.sources.append("expect")
        if with_baseline and baseline is not None:
            key = baseline_key(arg.path, baseline, setting, arg.bundled, convention)
            if update:
                check.sources.append("baseline (updated)")
            elif key in recorded:
                check.sources.append("baseline")
                drifts, layers = compare_baseline(recorded[key], graph, tolerance, counted)
                check.drifts += drifts
                check.layers += layers
            else:
                check.missing.append(f"not in the baseline {baseline} (as '{key}'); add it with --update.")
        if not check.sources and not check.missing:
            if overrides:
                check.missing.append("no expect entry has this setting, and no --baseline was given.")
            else:
                check.missing.append("nothing to compare: the spec has no 'expect' and no --baseline was given.")
        yield check, (graph if with_baseline and update else None)
