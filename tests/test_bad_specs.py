"""A corpus of broken specs, each with the exact one-line error it must produce (exit status 2)."""

from pathlib import Path

import pytest

HERE = Path(__file__).parent / "bad_specs"
EXPECTED = dict(line.split("\t", 1) for line in (HERE / "expected.tsv").read_text().splitlines())


def test_corpus_is_complete():
    files = {p.stem for p in HERE.glob("*.json")}
    assert files == set(EXPECTED)
    assert len(files) >= 40


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_spec(cli, name):
    path = HERE / f"{name}.json"
    result = cli("analyze", path)
    assert result.exit_code == 2
    assert result.output == f"Error: {path}: {EXPECTED[name]}\n"


def test_debug_shows_the_traceback(cli):
    from flopcount import SpecError

    with pytest.raises(SpecError):
        cli("--debug", "analyze", HERE / "unknown-type.json")


def test_code_in_an_expression_is_never_run(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("analyze", HERE / "code-injection.json")
    assert result.exit_code == 2
    assert not Path("/tmp/pwned").exists()
