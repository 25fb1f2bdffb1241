"""The portal API on its local store: two clients, every endpoint, across tenants."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from edge.portal import create_app
from edge.settings import load_settings
from tests.support.edgesite import EDGE_SITE_YAML, schema_default, write_edge

SITE_YAML = (
    EDGE_SITE_YAML
    + """\
portal:
  bucket: portal-files
  upload_max_bytes: 1000
  upload_types: [application/pdf, text/plain]
  signed_url_seconds: 600
"""
)


def _client(tmp: Path, production: bool = False) -> TestClient:
    data = write_edge(tmp / "_edge", SITE_YAML, production=production)
    settings = load_settings(environ={}, data_dir=data, local_dir=tmp / "local")
    return TestClient(create_app(settings))


def _login(client: TestClient, email: str) -> dict[str, str]:
    r = client.post("/dev-login", json={"email": email})
    assert r.status_code == 200, r.text
    return {"authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture()
def world(tmp_path: Path) -> dict[str, Any]:
    client = _client(tmp_path)
    a, b = _login(client, "a@example.com"), _login(client, "b@example.com")
    pa = client.get("/projects", headers=a).json()["projects"]
    pb = client.get("/projects", headers=b).json()["projects"]
    return {"c": client, "a": a, "b": b, "pa": pa[0]["id"], "pb": pb[0]["id"], "na": len(pa), "nb": len(pb)}


def test_each_client_sees_only_own_project(world: dict[str, Any]) -> None:
    c, a = world["c"], world["a"]
    assert world["na"] == world["nb"] == 1 and world["pa"] != world["pb"]
    assert c.get(f"/projects/{world['pa']}", headers=a).json()["project"]["id"] == world["pa"]
    assert c.get(f"/projects/{world['pb']}", headers=a).status_code == 404


def test_cross_tenant_denied_on_every_endpoint(world: dict[str, Any]) -> None:
    c, a, b, pb = world["c"], world["a"], world["b"], world["pb"]
    c.post(f"/projects/{pb}/messages", json={"body": "secret of b"}, headers=b)
    up = c.post(
        f"/projects/{pb}/files/upload-url",
        json={"name": "b.pdf", "size": 3, "content_type": "application/pdf"},
        headers=b,
    )
    fid = up.json()["file"]["id"]
    assert c.get(f"/projects/{pb}/messages", headers=a).status_code == 404
    assert c.post(f"/projects/{pb}/messages", json={"body": "x"}, headers=a).status_code == 404
    assert (
        c.post(
            f"/projects/{pb}/files/upload-url",
            json={"name": "a.pdf", "size": 3, "content_type": "application/pdf"},
            headers=a,
        ).status_code
        == 404
    )
    assert c.get(f"/files/{fid}/download-url", headers=a).status_code == 404
    export = c.get("/me/export", headers=a).json()
    assert "secret of b" not in json.dumps(export) and fid not in json.dumps(export)


def test_unauthenticated_and_bad_tokens_get_401(world: dict[str, Any]) -> None:
    c, pa = world["c"], world["pa"]
    for method, path in [
        ("GET", "/projects"),
        ("GET", f"/projects/{pa}"),
        ("GET", f"/projects/{pa}/messages"),
        ("POST", f"/projects/{pa}/messages"),
        ("POST", f"/projects/{pa}/files/upload-url"),
        ("GET", "/files/x/download-url"),
        ("GET", "/me/export"),
        ("PATCH", "/me"),
        ("POST", "/me/deletion-request"),
    ]:
        for headers in ({}, {"authorization": "Bearer nope"}, {"authorization": "Basic x"}):
            r = c.request(method, path, headers=headers, json={})
            assert r.status_code == 401 and r.json()["error"], (method, path)


def test_messages_files_export_profile_and_deletion(world: dict[str, Any]) -> None:
    c, a, pa = world["c"], world["a"], world["pa"]
    assert c.post(f"/projects/{pa}/messages", json={"body": "  "}, headers=a).status_code == 422
    assert c.post(f"/projects/{pa}/messages", json={"body": "hello"}, headers=a).status_code == 201
    assert [m["body"] for m in c.get(f"/projects/{pa}/messages", headers=a).json()["messages"]] == ["hello"]
    bad = [
        {"name": "x.exe", "size": 3, "content_type": "application/x-msdownload"},
        {"name": "x.pdf", "size": 1001, "content_type": "application/pdf"},
        {"name": "", "size": 3, "content_type": "application/pdf"},
    ]
    for body in bad:
        assert c.post(f"/projects/{pa}/files/upload-url", json=body, headers=a).status_code == 422
    up = c.post(
        f"/projects/{pa}/files/upload-url",
        json={"name": "brief.txt", "size": 5, "content_type": "text/plain"},
        headers=a,
    ).json()
    assert up["file"]["path"].startswith(f"{pa}/")
    assert c.put(up["upload_url"], content=b"12").status_code == 422
    assert c.put(up["upload_url"], content=b"hello").status_code == 200
    link = c.get(f"/files/{up['file']['id']}/download-url", headers=a).json()["download_url"]
    assert c.get(link).content == b"hello"
    assert c.put(link, content=b"hello").status_code == 404  # a download link cannot overwrite
    assert c.patch("/me", json={"role": "staff"}, headers=a).status_code == 422
    assert c.patch("/me", json={"company": "Acme"}, headers=a).json()["profile"]["company"] == "Acme"
    assert c.post("/me/deletion-request", headers=a).status_code == 201
    export = c.get("/me/export", headers=a).json()
    assert export["profile"]["email"] == "a@example.com" and export["profile"]["company"] == "Acme"
    assert [p["id"] for p in export["projects"]] == [pa]
    assert [m["body"] for m in export["messages"]] == ["hello"]
    assert [f["name"] for f in export["files"]] == ["brief.txt"]
    assert [r["kind"] for r in export["data_rights_requests"]] == ["deletion"]


def test_dev_login_refused_in_production(tmp_path: Path) -> None:
    c = _client(tmp_path, production=True)
    r = c.post("/dev-login", json={"email": "a@example.com"})
    assert r.status_code == 403
    assert r.json()["error"] == "the development login is disabled in production"
    assert c.get("/config").json()["dev_login"] is False


def test_dev_login_validates_email(tmp_path: Path) -> None:
    c = _client(tmp_path)
    assert c.post("/dev-login", json={"email": "nope"}).status_code == 422
    assert c.post("/dev-login", content=b"[", headers={"content-type": "application/json"}).status_code == 400
    assert (
        c.post("/dev-login", content=b"[]", headers={"content-type": "application/json"}).status_code == 422
    )
    assert c.post("/dev-login", content=b"{}", headers={"content-type": "text/plain"}).status_code == 415
    # Deep nesting was a RecursionError (500) in the portal too.
    deep = c.post("/dev-login", content=b"[" * 40000, headers={"content-type": "application/json"})
    assert deep.status_code == 400


def test_site_omitting_upload_types_accepts_the_documented_defaults(tmp_path: Path) -> None:
    # Once: site.json carried the schema's [] and the handler's own ["application/pdf"]
    # fallback never applied, so such a site accepted no upload at all.
    data = write_edge(tmp_path / "_edge", production=False)  # site.yaml names no portal keys
    c = TestClient(create_app(load_settings(environ={}, data_dir=data, local_dir=tmp_path / "local")))
    a = _login(c, "a@example.com")
    pid = c.get("/projects", headers=a).json()["projects"][0]["id"]
    defaults = schema_default("portal", "upload_types")
    assert {"application/pdf", "image/png", "image/jpeg"} <= set(defaults)
    for ctype in defaults:
        r = c.post(
            f"/projects/{pid}/files/upload-url",
            json={"name": "f", "size": 3, "content_type": ctype},
            headers=a,
        )
        assert r.status_code == 201, (ctype, r.text)
    refused = c.post(
        f"/projects/{pid}/files/upload-url",
        json={"name": "f", "size": 3, "content_type": "application/x-msdownload"},
        headers=a,
    )
    assert refused.status_code == 422
