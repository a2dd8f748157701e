import json

import pytest
from click.testing import CliRunner

from flopcount.cli import main


@pytest.fixture
def cli():
    """Run the flopcount CLI in-process; returns click's Result (exit_code, output)."""
    runner = CliRunner()

    def invoke(*args, **kw):
        return runner.invoke(main, [str(a) for a in args], catch_exceptions=False, **kw)

    return invoke


@pytest.fixture
def write_spec(tmp_path):
    """Write a spec dict (or raw text) to a file and return its path."""

    def write(spec, name="spec.json"):
        path = tmp_path / name
        path.write_text(spec if isinstance(spec, str) else json.dumps(spec))
        return path

    return write
