"""A WSGI application served by gunicorn with several worker processes, for the tests where
workers, sockets or headers matter (the test client has one process and no socket)."""

import socket
import subprocess
import time
from contextlib import contextmanager

import requests


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_serving(base, server, timeout=60):
    """Until the server answers ``/`` (whatever the status), or fail with its output."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.poll() is None, server.stderr.read()
        try:
            left = max(deadline - time.monotonic(), 1)
            requests.get(base + "/", timeout=left)
            return
        except requests.RequestException:  # not up yet, or too busy to answer in time (a loaded CI)
            time.sleep(0.2)
    raise AssertionError(f"gunicorn did not answer on {base} within {timeout} s")


@contextmanager
def gunicorn(python, application, cwd, env, workers, options=()):
    """Serve ``application`` (``module.wsgi``) with ``workers`` workers on a free port; yields the
    base URL once it answers, and stops the server after."""
    port = free_port()
    server = subprocess.Popen(
        [*python, "-m", "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{port}"]
        + [*options, application],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, server)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
