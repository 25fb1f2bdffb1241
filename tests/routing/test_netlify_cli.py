"""The generated ``_redirects``/``_headers`` through Netlify's own CLI (``netlify dev --offline``).

This repository's site built with ``hosting: netlify`` and ``edge.origin`` pointing at the real
edge app on another loopback port; ``netlify dev`` serves ``dist/`` with the rules applied. Every
case of the shared routing table is asked over HTTP: the country from the ``X-Country`` request
header (the CLI's stand-in for GeoIP; sent only without the cookie, which the header would beat
in the CLI but not in production), the ``nf_country`` cookie, ``/api`` proxied to the edge
app, the region 404 pages, and the security headers on every page.

Not checked here: ``Cache-Control``, which the CLI's static server overwrites with its own (see
docs/deploy.md); the emulator tests check the value the generated ``_headers`` gives.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sitegen import emulator
from tests.support.hosts import host_env, npm_tool
from tests.support.routing_cases import CASES, Case, copy_sources, hosted_site_yaml
from tests.support.servers import free_port, serve

ROOT = Path(__file__).resolve().parents[2]


class _EdgeOnFirstRequest:
    """The real edge app, created on the first request (the build it reads comes after the port)."""

    def __init__(self) -> None:
        self.data_dir: Path | None = None
        self.app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.app is None:
            from edge.app import create_app
            from edge.settings import load_settings

            assert self.data_dir is not None
            self.app = create_app(
                load_settings(environ={}, data_dir=self.data_dir, local_dir=self.data_dir.parent / "local")
            )
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def netlify(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, dict[str, object]]]:
    cli = npm_tool("netlify")
    site = tmp_path_factory.mktemp("netlify-site")
    copy_sources(ROOT, site)
    edge = _EdgeOnFirstRequest()
    with serve(edge) as edge_url:
        (site / "site.yaml").write_text(
            hosted_site_yaml(ROOT, "netlify", edge_origin=edge_url), encoding="utf-8"
        )
        from sitegen.build import BuildOptions, build

        result = build(BuildOptions(root=site, out=site / "dist"))
        edge.data_dir = result.out / "_edge"
        port = free_port()
        command = [
            str(cli), "dev", "--offline", "--no-open", "-d", "dist", "--internal-disable-edge-functions",
            "--port", str(port), "--target-port", str(free_port()), "--functions-port", str(free_port()),
        ]  # fmt: skip
        log = (site / "netlify-dev.log").open("w")
        proc = subprocess.Popen(command, cwd=site, env=host_env(), stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            started = time.monotonic()
            while True:
                try:
                    httpx.get(base + "/robots.txt", timeout=2)
                    break
                except httpx.TransportError:
                    if proc.poll() is not None or time.monotonic() - started > 120:
                        raise AssertionError((site / "netlify-dev.log").read_text()) from None
                    time.sleep(0.2)
            yield base, result.out, emulator.read_build(result.out)
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_netlify_cli_routes_every_case_like_the_emulator(
    netlify: tuple[str, Path, dict[str, object]], case: Case
) -> None:
    base, dist, files = netlify
    # The CLI lets an X-Country request header beat the nf_country cookie; in production the
    # country comes from GeoIP and the cookie beats it, so the header stands in for GeoIP only
    # when there is no cookie (with one, the country does not matter on Netlify).
    headers = {"X-Country": case.country} if case.country and not case.cookie else {}
    cookies = {"nf_country": case.cookie} if case.cookie else {}
    response = httpx.get(
        base + case.path, headers=headers, cookies=cookies, follow_redirects=False, timeout=10
    )
    expected = emulator.resolve_files(files, "netlify", case.path, case.country, cookies)
    if case.edge:
        assert response.status_code == 200 and response.json()["ok"] is True, response.text
        assert expected.proxy and expected.proxy.endswith(case.path)
        return
    assert (response.status_code, response.headers.get("location")) == (case.status, case.location)
    assert (expected.status, expected.location, expected.file) == (case.status, case.location, case.file)
    if case.file:
        assert response.content == (dist / case.file).read_bytes()
        for name, value in expected.headers.items():
            if name != "Cache-Control":  # the CLI's static server sets its own (docs/deploy.md)
                assert response.headers.get(name) == value, name
