"""`sitegen serve` as a person runs it: ports, --open, -q, and Ctrl-C (a real child process)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from click.testing import CliRunner

from sitegen.cli import main
from sitegen.serve import ServeOptions, listen
from tests.support.devserver import make_site

REPO = Path(__file__).resolve().parents[2]


def occupied() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    return sock


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(
    site: Path, tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    err = (tmp_path / "stderr.txt").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "sitegen.cli", "serve", "--root", str(site), *args],
        stdout=subprocess.DEVNULL,
        stderr=err,
        cwd=REPO,
        env={**os.environ, **(env or {})},
    )


def wait_until(check: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(check) and check():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def answers(url: str) -> bool:
    try:
        return httpx.get(url + "pk/about/", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_a_busy_default_port_moves_to_the_next_free_one_and_says_so() -> None:
    busy = occupied()
    port = busy.getsockname()[1]
    said: list[str] = []
    try:
        sock = listen("127.0.0.1", port, port_given=False, note=said.append)
        try:
            got = sock.getsockname()[1]
            assert got != port and port < got < port + 20
            assert said == [f"port {port} is in use; serving on port {got} instead"]
        finally:
            sock.close()
    finally:
        busy.close()


def test_a_busy_port_given_with_port_fails_at_once(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    busy = occupied()
    port = busy.getsockname()[1]
    try:
        proc = serve(site, tmp_path, "--port", str(port))
        assert proc.wait(60) == 2
    finally:
        busy.close()
    err = (tmp_path / "stderr.txt").read_text()
    assert err.strip() == (
        f"error: port {port} on 127.0.0.1 is already in use: stop what runs there, "
        "or pick another with --port (or leave --port out to take the next free one)"
    )


def test_open_starts_the_browser_and_ctrl_c_stops_with_one_line(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\nprintf "%s" "$1" > {opened}\n')
    browser.chmod(0o755)
    port = free_port()
    proc = serve(site, tmp_path, "--port", str(port), "--open", env={"BROWSER": str(browser)})
    try:
        wait_until(lambda: opened.is_file() and opened.read_text())
        url = opened.read_text()
        assert url == f"http://127.0.0.1:{port}/"
        wait_until(lambda: answers(url))
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    lines = (tmp_path / "stderr.txt").read_text().splitlines()
    assert lines[-1] == "sitegen serve: stopped"
    assert any(line.startswith(f"serving {site} at {url}") for line in lines)
    assert "GET /pk/about/ -> 200 region pk" in lines
    assert not any("Aborted" in line or "Traceback" in line for line in lines)


def test_quiet_serve_prints_the_address_and_no_build_or_request_lines(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    port = free_port()
    proc = serve(site, tmp_path, "--port", str(port), "-q")
    try:
        wait_until(lambda: answers(f"http://127.0.0.1:{port}/"))
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    printed = (tmp_path / "stderr.txt").read_text()
    assert "GET " not in printed and "built " not in printed and " ms (start)" not in printed
    assert f"serving {site} at http://127.0.0.1:{port}/ " in printed


def test_only_a_port_on_the_command_line_counts_as_given(tmp_path: Path, monkeypatch: Any) -> None:
    """The default port may move; `--port 8000`, even the same number, may not."""
    import sitegen.serve

    site = make_site(tmp_path / "site")
    seen: list[ServeOptions] = []
    monkeypatch.setattr(sitegen.serve, "run", lambda options, log, note: seen.append(options))
    runner = CliRunner()
    assert runner.invoke(main, ["serve", "--root", str(site)]).exit_code == 0
    assert runner.invoke(main, ["serve", "--root", str(site), "--port", "8000", "-v"]).exit_code == 0
    assert runner.invoke(main, ["serve", "--root", str(site), "-q", "--open"]).exit_code == 0
    assert [(o.port, o.port_given) for o in seen] == [(8000, False), (8000, True), (8000, False)]
    assert [o.server_log_level for o in seen] == ["warning", "info", "warning"]
    assert [(o.log_requests, o.log_builds, o.open_browser) for o in seen] == [
        (True, True, False),
        (True, True, False),
        (False, False, True),
    ]
