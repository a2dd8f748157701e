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


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", help="Rewrite tests/golden/* from the current output.")


@pytest.fixture
def golden(request):
    """Compare text with tests/golden/NAME, or rewrite it with --update-golden."""
    from pathlib import Path

    folder = Path(__file__).parent / "golden"

    def check(name, text):
        path = folder / name
        if request.config.getoption("--update-golden"):
            path.write_text(text)
        assert path.exists(), f"no golden file {path}; run pytest --update-golden"
        assert text == path.read_text()

    return check


@pytest.fixture
def fails_with():
    """Assert a CLI result is exit 2 with one error line naming file and containing message."""

    def check(result, file, message):
        assert result.exit_code == 2, result.output
        assert result.output.startswith(f"Error: {file}: ")
        assert message in result.output
        assert result.output.count("\n") == 1

    return check
