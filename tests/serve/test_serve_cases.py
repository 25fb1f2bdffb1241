"""`sitegen serve` answers the shared routing case table the way the host's rules do.

The same cases run through the emulator (tests/routing/test_emulator.py), Netlify's CLI and the
Vercel Build Output (tests/routing/), so the dev server cannot drift from production routing.
The visitor's country is given with ``?country=`` here (the dev server's stand-in for the host's
geolocation); pages carry the dev server's reload script, so a page is recognised by its title
and region rather than byte for byte.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from sitegen.serve import DevServer
from tests.support.devserver import Running, serving
from tests.support.routing_cases import CASES, Case, copy_sources, hosted_site_yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", params=["netlify", "vercel"])
def running(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    site = tmp_path_factory.mktemp(f"serve-{request.param}")
    copy_sources(ROOT, site)
    (site / "site.yaml").write_text(hosted_site_yaml(ROOT, request.param), encoding="utf-8")
    logs: list[str] = []
    dev = DevServer(site, out=site / "out", log=logs.append)
    dev.rebuild("start")
    assert dev.snapshot is not None and dev.snapshot.host == request.param
    with serving(dev, logs) as run:
        yield run


def _title(html: str) -> str:
    found = re.search(r"<title>(.*?)</title>", html, re.S)
    assert found, html[:200]
    return found.group(1)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_serve_answers_the_case_table(running: Running, case: Case) -> None:
    params = {"country": case.country} if case.country else {}
    headers = {"cookie": f"nf_country={case.cookie}"} if case.cookie else {}
    response = running.client.get(case.path, params=params, headers=headers)
    if case.edge:
        assert response.status_code == 200 and response.json()["ok"] is True
        return
    assert (response.status_code, response.headers.get("location")) == (case.status, case.location)
    if case.file:
        files = running.dev.snapshot.files  # type: ignore[union-attr]
        expected = files[case.file]
        if case.file.endswith(".html"):
            assert _title(response.text) == _title(expected.decode())
            region = re.search(rb'<html[^>]*data-region="(\w+)"', expected)
            assert region and f'data-region="{region.group(1).decode()}"' in response.text
        else:
            assert response.content == expected
