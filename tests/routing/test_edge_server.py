"""The edge container's command (edge.Dockerfile) and `sitegen edge`, over a real build.

The Dockerfile's CMD is run with a free port in a built site folder, and `sitegen edge --root`
likewise: the handlers answer, a missing build is a clear error, and the log holds no client
address.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]


def _cmd() -> list[str]:
    line = next(x for x in (ROOT / "edge.Dockerfile").read_text().splitlines() if x.startswith("CMD "))
    command: list[str] = json.loads(line.removeprefix("CMD "))
    return command


def test_dockerfile_runs_the_edge_server() -> None:
    assert _cmd()[:3] == ["python", "-m", "edge"]


def test_sitegen_edge_serves_the_handlers_without_logging_addresses(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "content", tmp_path / "content")
    shutil.copy(ROOT / "site.yaml", tmp_path / "site.yaml")
    sitegen = str(Path(sys.executable).parent / "sitegen")
    missing = subprocess.run(
        [sitegen, "edge", "--root", str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert missing.returncode == 1 and "run `sitegen build` first" in missing.stderr
    assert "Traceback" not in missing.stderr
    subprocess.run([sitegen, "build", "--quiet", "--root", str(tmp_path)], check=True)

    for name, command in (
        ("container", [sys.executable, *_cmd()[1:]]),
        ("sitegen", [sitegen, "edge", "--root", str(tmp_path), "--host", "0.0.0.0", "--port", "0"]),
    ):
        port = free_port()
        command[command.index("--port") + 1] = str(port)
        command[command.index("--host") + 1] = "127.0.0.1"
        log = tmp_path / f"{name}.log"
        with log.open("w") as out:
            proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path)
            try:
                base = f"http://127.0.0.1:{port}"
                for _ in range(300):
                    try:
                        health = httpx.get(base + "/api/health", timeout=2)
                        break
                    except httpx.TransportError:
                        assert proc.poll() is None, log.read_text()
                        time.sleep(0.05)
                assert health.status_code == 200 and health.json()["ok"] is True
                assert httpx.get(base + "/api/nope").status_code == 404
            finally:
                proc.terminate()
                proc.wait(10)
        text = log.read_text()
        assert "127.0.0.1:" not in text.replace(f"http://127.0.0.1:{port}", ""), text
