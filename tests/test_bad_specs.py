"""A corpus of broken specs, each with the exact one-line error it must produce (exit status 2).

bad_specs/ holds what every command refuses (run through analyze); bad_specs/check/ what only
check reads, the expect block (run through check).
"""

from pathlib import Path

import pytest

HERE = Path(__file__).parent / "bad_specs"
CHECK = HERE / "check"


def expected(folder: Path) -> dict:
    return dict(line.split("\t", 1) for line in (folder / "expected.tsv").read_text().splitlines())


EXPECTED = expected(HERE)
EXPECTED_BY_CHECK = expected(CHECK)


def test_corpus_is_complete():
    files = {p.stem for p in HERE.glob("*.json")}
    assert files == set(EXPECTED)
    assert len(files) >= 40
    assert {p.stem for p in CHECK.glob("*.json")} == set(EXPECTED_BY_CHECK)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_spec(cli, name):
    path = HERE / f"{name}.json"
    result = cli("analyze", path)
    assert result.exit_code == 2
    assert result.output == f"Error: {path}: {EXPECTED[name]}\n"


@pytest.mark.parametrize("name", sorted(EXPECTED_BY_CHECK))
def test_bad_spec_for_check(cli, name):
    path = CHECK / f"{name}.json"
    result = cli("check", path)
    assert result.exit_code == 2
    assert result.output == f"Error: {path}: {EXPECTED_BY_CHECK[name]}\n"


def test_debug_shows_the_traceback(cli):
    from flopcount import SpecError

    with pytest.raises(SpecError):
        cli("--debug", "analyze", HERE / "unknown-type.json")


def test_code_in_an_expression_is_never_run(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("analyze", HERE / "code-injection.json")
    assert result.exit_code == 2
    assert not Path("/tmp/pwned").exists()
