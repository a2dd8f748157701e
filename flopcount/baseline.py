"""Baseline files for ``flopcount check``: their text format, validation, and locked, atomic updates.

A baseline is one JSON object, written by ``check --update``::

    {
      "flopcount_baseline": 1,
      "specs": {
        "models/vgg16.json": {
          "layers": [
            {"macs": 0, "name": "input", "params": 0, "shape": [224, 224, 3], "type": "input"},
            ...
          ],
          "name": "VGG16",
          "totals": {"macs": 15470264320, "non_trainable": 0, "params": 138357544, "trainable": 138357544},
          "variables": {"classes": 1000, "resolution": 224}
        }
      }
    }

Keys are sorted, each spec is one block and each layer one line, so a pull request shows
exactly what changed. What the keys are and how entries are compared is flopcount.check's
business; this module only reads and writes the file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from .errors import FlopcountError, SpecError
from .files import exists, open_regular, read_bounded, read_open, reason
from .spec import parse_json

FIGURES = ("params", "trainable", "non_trainable", "macs")  # the figures recorded and compared
BASELINE_KEY = "flopcount_baseline"  # the key that tells a baseline from a spec
BASELINE_FORMAT = 1  # its value in files this module writes


class BaselineError(FlopcountError):
    """A baseline file that cannot be read, understood or written."""


def dump_baseline(specs: dict) -> str:
    """Baseline text: sorted keys, one block per spec, one line per layer, exact integers."""
    blocks = []
    for key in sorted(specs):
        e = specs[key]
        layers = ",\n".join("        " + json.dumps(layer, sort_keys=True) for layer in e["layers"])
        blocks.append(
            f"    {json.dumps(key)}: {{\n"
            f'      "layers": [\n{layers}\n      ],\n'
            f'      "name": {json.dumps(e["name"])},\n'
            f'      "totals": {json.dumps(e["totals"], sort_keys=True)},\n'
            f'      "variables": {json.dumps(e["variables"], sort_keys=True)}\n'
            "    }"
        )
    body = "{\n" + ",\n\n".join(blocks) + "\n  }" if blocks else "{}"
    return f'{{\n  "flopcount_baseline": {BASELINE_FORMAT},\n  "specs": {body}\n}}\n'


def read_baseline(path: str | Path) -> dict:
    """The specs of a baseline file, spec key -> entry; BaselineError if it is unusable."""
    file = str(path)
    if not exists(path, "baseline", BaselineError):
        raise BaselineError.about(
            "baseline", "cannot read the baseline: No such file or directory. Create it with {update}."
        ).located(file=file)
    try:
        return parse_baseline(read_bounded(path, "baseline", BaselineError), file)
    except BaselineError as err:
        raise err.located(option="baseline")  # the file given as the baseline is unusable


def is_baseline(doc) -> bool:
    """Whether parsed JSON is a baseline (so a folder of specs can hold one)."""
    return isinstance(doc, dict) and BASELINE_KEY in doc


def parse_baseline(data: bytes, file: str, empty_ok: bool = False) -> dict:
    """The specs of a baseline's bytes; empty_ok: an empty file holds no specs (one --update is about to write)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise BaselineError(f"the baseline is not UTF-8 text (byte {err.start}).", file=file) from None
    if not text.strip():
        if empty_ok:
            return {}
        raise BaselineError.about("baseline", "the baseline is empty; write it with {update}.").located(file=file)
    try:
        # the spec reader's guards: too deep, too many digits, NaN and Infinity
        doc = parse_json(text, file)
    except SpecError as err:
        raise BaselineError(err.message, file=file) from None
    if not is_baseline(doc) or doc[BASELINE_KEY] != BASELINE_FORMAT or not isinstance(doc.get("specs"), dict):
        raise BaselineError.about(
            "baseline",
            'not a flopcount baseline: expected {{"flopcount_baseline": {format}, "specs": {{...}}}} '
            "as written by flopcount check {update}.",
            format=BASELINE_FORMAT,
        ).located(file=file)
    for key, entry in doc["specs"].items():
        _check_entry(entry, file, f"specs.{key}")
    return doc["specs"]


def _check_entry(entry, file, at):
    def bad(where, what, value):
        return BaselineError(f"must be {what}.", file=file, attribute=where, received=value, has_received=True)

    def integer(value):
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0

    if not isinstance(entry, dict):
        raise bad(at, "an object with 'name', 'totals' and 'layers'", entry)
    if not isinstance(entry.get("name"), str):
        raise bad(f"{at}.name", "a string", entry.get("name"))
    if not isinstance(entry.get("variables", {}), dict):
        raise bad(f"{at}.variables", "an object", entry.get("variables"))
    totals = entry.get("totals")
    if not isinstance(totals, dict) or any(k not in FIGURES or not integer(v) for k, v in totals.items()):
        raise bad(f"{at}.totals", f"an object of exact integers keyed by {', '.join(FIGURES)}", totals)
    layers = entry.get("layers")
    if not isinstance(layers, list):
        raise bad(f"{at}.layers", "a list of layers", layers)
    for i, layer in enumerate(layers):
        ok = (
            isinstance(layer, dict)
            and isinstance(layer.get("name"), str)
            and isinstance(layer.get("type"), str)
            and isinstance(layer.get("shape"), list)
            and all(integer(d) for d in layer["shape"])
            and integer(layer.get("params"))
            and integer(layer.get("macs"))
        )
        if not ok:
            raise bad(
                f"{at}.layers[{i}]", 'an object {"name", "type", "shape", "params", "macs"} of exact integers', layer
            )


def update_baseline(path: str | Path, entries: dict) -> None:
    """Merge entries into the baseline at path (created if missing), under an exclusive lock.

    The file is read again under the lock, so concurrent updates of one baseline each
    add their entries and none is lost. A symbolic link is followed: its target is
    rewritten and the link stays.
    """
    file = str(path)
    real = Path(os.path.realpath(path))
    fd = _locked(real, file)
    try:
        recorded = parse_baseline(read_open(fd, "baseline", BaselineError, file), file, empty_ok=True)
        write_baseline(real, {**recorded, **entries}, shown=file)
    finally:
        os.close(fd)  # releases the lock


def _locked(real: Path, file: str) -> int:
    """An open descriptor of the baseline holding its exclusive lock (none where fcntl is missing: Windows).

    write_baseline replaces the file by a rename, so a process that waited for the lock may
    hold the replaced file: it opens the path again until what it locked is what the path names.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory locks, updates are last-writer-wins
        return open_regular(real, "baseline", BaselineError, file, create=True)
    while True:
        fd = open_regular(real, "baseline", BaselineError, file, create=True)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if os.path.samestat(os.fstat(fd), os.stat(real)):
                return fd
        except FileNotFoundError:  # replaced and not yet renamed into place: open again
            pass
        except OSError as err:
            os.close(fd)
            raise BaselineError(f"cannot lock the baseline: {reason(err)}.", file=file) from None
        os.close(fd)


def write_baseline(path: str | Path, specs: dict, shown: str | None = None) -> None:
    """Write a baseline atomically: a temporary file in the same folder, then os.replace."""
    path = Path(path)
    text = dump_baseline(specs)
    folder = path.parent if str(path.parent) else Path(".")
    tmp = None
    try:
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        tmp = None
    except OSError as err:
        raise BaselineError(f"cannot write the baseline: {reason(err)}.", file=shown or str(path)) from None
    finally:
        # interrupted (even by Ctrl-C) before the rename: the old baseline stands, the temporary goes
        if tmp and os.path.exists(tmp):
            os.unlink(tmp)
