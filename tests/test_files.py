"""Files a user names: specs and baselines are regular files up to a stated size; anything else is refused at once."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flopcount import SpecError, load_spec
from flopcount.baseline import BaselineError
from flopcount.files import MAX_FILE_BYTES, read_bounded

ROOT = Path(__file__).parent.parent
LONG_NAME = "a" * 300 + ".json"  # longer than the 255 bytes a name may have on common file systems


def flopcount(*args, timeout=20):
    """`python -m flopcount args` in its own process, killed (and the test failed) if it blocks."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "flopcount", *map(str, args)], env=env, capture_output=True, text=True, timeout=timeout
    )
    return out.returncode, out.stdout + out.stderr, time.perf_counter() - start


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "pipe.json"
    os.mkfifo(path)
    return path


@pytest.fixture
def oversize(tmp_path):
    path = tmp_path / "huge.json"
    with open(path, "wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk used
    return path


@pytest.mark.parametrize("command", [["analyze"], ["run", "--quiet"], ["check"], ["compare", "standard"]])
def test_a_fifo_as_spec_is_refused_at_once(fifo, command):
    """A FIFO with no writer used to block the command forever."""
    code, output, seconds = flopcount(*command, fifo, *(["--M", 2, "--N", 2] if command[0] == "compare" else []))
    assert code == 2 and output == f"Error: {fifo}: the spec is a FIFO (named pipe), not a regular file.\n"
    assert seconds < 15


@pytest.mark.parametrize(
    "path, kind",
    [("/dev/zero", "a character device"), ("/dev/null", "a character device"), (".", "a directory")],
)
def test_devices_and_directories_as_spec_are_refused(cli, path, kind):
    """analyze /dev/zero used to read until memory ran out."""
    for command in ("analyze", "run"):
        result = cli(command, path)
        assert result.exit_code == 2
        assert result.output == f"Error: {path}: the spec is {kind}, not a regular file.\n"


def test_a_spec_larger_than_the_limit_is_refused_before_reading(cli, oversize):
    result = cli("analyze", oversize)
    assert result.exit_code == 2
    assert result.output == (
        f"Error: {oversize}: the spec is larger than 32 MiB ({MAX_FILE_BYTES + 1:,} bytes), "
        "the largest flopcount reads.\n"
    )


def test_a_file_that_reads_longer_than_it_says_stops_at_the_limit(monkeypatch):
    """A file's size can change between stat and read (or be reported as 0, as /proc's are)."""
    from flopcount import files

    monkeypatch.setattr(files, "MAX_FILE_BYTES", 16)
    status = Path("/proc/self/status")
    if not status.exists() or status.stat().st_size != 0:
        pytest.skip("needs a /proc file whose size is reported as 0")
    with pytest.raises(SpecError, match=r"the spec is larger than 0 MiB \(17 bytes\)"):
        read_bounded(status, "spec", SpecError)


@pytest.mark.parametrize("command", [["analyze"], ["run"], ["check"], ["compare", "standard", "--M", "2", "--N", "2"]])
def test_a_name_longer_than_the_file_system_allows_is_exit_2(cli, command):
    """'OSError: File name too long' used to escape as a traceback (exit 1)."""
    args = (
        [command[0], LONG_NAME, *command[1:]]
        if command[0] != "compare"
        else ["compare", "standard", LONG_NAME, "--M", "2", "--N", "2"]
    )
    result = cli(*args)
    assert result.exit_code == 2
    assert (
        result.output == f"Error: {LONG_NAME}: cannot read the spec: the file name is too long for the file system.\n"
    )


def test_a_long_name_in_a_folder_path_and_a_glob(cli, tmp_path):
    for arg in (tmp_path / LONG_NAME / "spec.json", f"{tmp_path}/{LONG_NAME[:-5]}*.json"):
        result = cli("check", arg)
        assert result.exit_code == 2 and "the file name is too long for the file system." in result.output


def test_a_nul_in_a_library_path_is_a_spec_error():
    with pytest.raises(SpecError, match="no such file"):
        load_spec("net\0.json")
    with pytest.raises(SpecError, match="the file name holds a NUL character"):
        read_bounded("net\0.json", "spec", SpecError)


def test_baselines_are_bounded_too(cli, write_spec, fifo, oversize, tmp_path):
    spec = write_spec({"name": "t", "input": [4], "layers": [{"type": "dense", "units": 2}]})
    for update in ([], ["--update"]):
        for path, why in (
            (fifo, "is a FIFO (named pipe), not a regular file."),
            ("/dev/zero", "is a character device, not a regular file."),
            (oversize, f"is larger than 32 MiB ({MAX_FILE_BYTES + 1:,} bytes), the largest flopcount reads."),
        ):
            result = cli("check", spec, "--baseline", path, *update)
            assert result.exit_code == 2, result.output
            assert result.output == f"Error: {path}: the baseline {why}\n"
        long = cli("check", spec, "--baseline", tmp_path / LONG_NAME, *update)
        verb = "write" if update else "read"
        assert long.exit_code == 2 and f"cannot {verb} the baseline: the file name is too long" in long.output
    with pytest.raises(BaselineError):
        read_bounded("/dev/zero", "baseline", BaselineError)


def test_a_fifo_as_baseline_never_blocks(write_spec, fifo):
    spec = write_spec({"name": "t", "input": [4], "layers": [{"type": "dense", "units": 2}]})
    for update in ([], ["--update"]):
        code, output, seconds = flopcount("check", spec, "--baseline", fifo, *update)
        assert code == 2 and "the baseline is a FIFO" in output and seconds < 15


@pytest.mark.parametrize("suffix, what", [(".keras", "the Keras archive is"), (".onnx", "is not a regular file")])
def test_a_model_file_that_is_no_regular_file_is_refused_at_once(tmp_path, suffix, what):
    """A FIFO or /dev/zero named x.keras blocked zipfile forever."""
    pipe = tmp_path / f"pipe{suffix}"
    os.mkfifo(pipe)
    zero = tmp_path / f"zero{suffix}"
    zero.symlink_to("/dev/zero")
    for path in (pipe, zero):
        code, output, seconds = flopcount("analyze", path)
        assert code == 2 and output.startswith(f"Error: {path}: {what}") and output.count("\n") == 1
        assert seconds < 15
