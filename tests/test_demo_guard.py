"""A second ``make demo`` leaves a running demo's database alone, and says why.

``scripts/demo`` runs from a copy of the checkout in a temporary directory, with a stand-in
``scripts/bootstrap`` that only leaves a mark: the guard comes before it, so a refused demo never
reaches it, and the real ``demo.sqlite3`` is never touched by the test.
"""

import fcntl
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parent.parent
LEGACY_DATABASE = b"the running demo's database"


@pytest.fixture
def demo_copy(tmp_path):
    """A directory laid out like the checkout, with ``scripts/demo`` and a demo database in it."""
    (tmp_path / "scripts").mkdir()
    shutil.copy2(CHECKOUT / "scripts" / "demo", tmp_path / "scripts" / "demo")
    bootstrap = tmp_path / "scripts" / "bootstrap"
    bootstrap.write_text('#!/usr/bin/env bash\ntouch "$(dirname "$0")/../bootstrap-ran"\nexit 1\n')
    bootstrap.chmod(0o755)
    (tmp_path / "demo.sqlite3").write_bytes(LEGACY_DATABASE)
    return tmp_path


def run_demo(directory, port):
    return subprocess.run(
        ["bash", str(directory / "scripts" / "demo")],
        env={"PATH": "/usr/bin:/bin", "DEMO_PORT": str(port)},
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.fixture
def listening_socket():
    """A socket listening on a free port of 127.0.0.1 (the kernel picks it), as a server would."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server


@pytest.fixture
def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_second_demo_refuses_while_one_runs_and_keeps_its_database(demo_copy, free_port):
    with open(demo_copy / ".demo.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # what the running demo holds
        result = run_demo(demo_copy, free_port)
    assert result.returncode == 1
    assert "already running" in result.stderr
    assert (demo_copy / "demo.sqlite3").read_bytes() == LEGACY_DATABASE
    assert not (demo_copy / "bootstrap-ran").exists()


def test_the_demo_refuses_a_port_in_use_and_names_the_setting(demo_copy, listening_socket):
    port = listening_socket.getsockname()[1]
    result = run_demo(demo_copy, port)
    assert result.returncode == 1
    assert f"127.0.0.1:{port}" in result.stderr
    assert "DEMO_PORT=" in result.stderr
    assert (demo_copy / "demo.sqlite3").read_bytes() == LEGACY_DATABASE
    assert not (demo_copy / "bootstrap-ran").exists()


def test_a_demo_with_nothing_running_goes_on_to_set_up(demo_copy, free_port):
    """The guard lets a first demo through: it reaches bootstrap (here the stand-in, which stops)."""
    run_demo(demo_copy, free_port)
    assert (demo_copy / "bootstrap-ran").exists()
