"""Headless Chromium for the HTML tests and benchmarks/bench_report.py: one command line, one private folder.

Chromium puts its singleton socket under $TMPDIR, and a Unix socket's path may hold at most 107 bytes: with a
long temporary folder (a CI runner's, or pytest's --basetemp) it aborts. So each run gets a fresh folder under
the shortest usable temporary root, as its TMPDIR and its profile.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
SOCKET_ROOM = 40  # the root's length that leaves room for tmpXXXXXXXX/org.chromium.Chromium.XXXXXX/SingletonSocket


def short_root() -> str:
    """The shortest writable temporary root: the usual one when short enough, else /tmp, /var/tmp or /dev/shm."""
    for root in (tempfile.gettempdir(), "/tmp", "/var/tmp", "/dev/shm"):
        if len(root) <= SOCKET_ROOM and os.path.isdir(root) and os.access(root, os.W_OK | os.X_OK):
            return root
    return tempfile.gettempdir()


def run_chromium(*args: str, timeout: float = 60, **options) -> subprocess.CompletedProcess:
    """Run headless Chromium with args in a private short folder; raises if it fails or outlasts timeout."""
    with tempfile.TemporaryDirectory(dir=short_root()) as folder:
        return subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={folder}", *args],
            env=dict(os.environ, TMPDIR=folder),
            timeout=timeout,
            check=True,
            **options,
        )
