"""The documented run command (``python -m edge``) logs nothing personal or secret.

A hostile run against the real process: forged forwarding headers, bearer
tokens, local file tickets in URLs, query strings with an e-mail address, and
a webhook that fails (its URL carries its secret token). The captured log must
show none of it, and still show that requests happened.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.edgesite import write_one_region_edge
from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
SECRETS = ["203.0.113.77", "127.0.0.1", "SECRETTOKEN", "ayesha@example.com"]


def test_hostile_run_leaves_no_personal_data_in_the_log(tmp_path: Path) -> None:
    data = write_one_region_edge(
        tmp_path / "_edge", "portal:\n  upload_types: [text/plain]\n", production=False
    )
    hook = f"http://127.0.0.1:{free_port()}/hooks/SECRETTOKEN"  # nobody listens: delivery fails
    env = {
        **os.environ,
        "SITEGEN_EDGE_DATA": str(data),
        "SITEGEN_LOCAL_DIR": str(tmp_path / "local"),
        "CONTACT_WEBHOOK_URL": hook,
    }
    for name in ("SUPABASE_URL", "SUPABASE_PUBLISHABLE_KEY", "SUPABASE_ANON_KEY"):
        env.pop(name, None)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "edge", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    seen: list[str] = []
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/api/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        forged = {
            "x-forwarded-for": "203.0.113.77",
            "x-real-ip": "203.0.113.77",
            "accept": "application/json",
        }
        contact = {
            "name": "Ayesha Khan",
            "email": "ayesha@example.com",
            "message": "We need a new website for our textile shop in Karachi.",
            "consent": "on",
            "region": "pk",
        }
        assert (
            httpx.post(
                base + "/api/contact?email=ayesha@example.com", json=contact, headers=forged
            ).status_code
            == 200
        )
        token = httpx.post(base + "/api/portal/dev-login", json={"email": "ayesha@example.com"}).json()[
            "access_token"
        ]
        seen.append(token)
        auth = {"authorization": f"Bearer {token}", **forged}
        pid = httpx.get(base + "/api/portal/projects", headers=auth).json()["projects"][0]["id"]
        up = httpx.post(
            base + f"/api/portal/projects/{pid}/files/upload-url",
            json={"name": "a.txt", "size": 5, "content_type": "text/plain"},
            headers=auth,
        ).json()
        ticket = up["upload_url"].rsplit("/", 1)[1]
        seen.append(ticket)
        assert httpx.put(base + up["upload_url"], content=b"hello").status_code == 200
        httpx.get(base + f"/api/portal/local-files/{ticket}x", headers=forged)
        httpx.get(
            base + "/api/portal/projects",
            headers={"authorization": "Bearer eyJhbGciOiJub25lIn0.e30.", **forged},
        )
        httpx.post(
            base + "/api/chat", content=b"[" * 40000, headers={"content-type": "application/json", **forged}
        )
        time.sleep(0.5)  # let the webhook delivery fail and log
    finally:
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=30)
    log = output.decode("utf-8", "replace")
    assert "access POST /api/contact 200" in log, log
    assert "inquiry notification failed" in log, log
    for secret in SECRETS + seen:
        assert secret not in log, f"{secret[:20]}… leaked into the log:\n{log}"
