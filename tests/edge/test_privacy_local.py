"""The privacy policy carried out in local mode (the development default), like in Supabase mode:
the same retention boundaries, retention on every start of the edge app, the rights commands,
and the portal's file list with the agency's files."""

from __future__ import annotations

import json
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from edge import app as edge_app
from edge import retention, rights
from edge.inquiries import Inquiry, LocalInquiryStore, months_before
from edge.portal import create_app
from edge.portal_store import LocalPortalStore
from edge.settings import load_settings
from tests.support.edgesite import EDGE_SITE_YAML, write_edge

SITE_YAML = (
    EDGE_SITE_YAML
    + """\
portal:
  bucket: portal-files
  upload_max_bytes: 1000
  upload_types: [text/plain]
  signed_url_seconds: 60
privacy:
  retention: {inquiries_months: 12, portal_months_after_close: 24}
"""
)
CLOSED_ON = "2024-11-29"
# Closed at the end of its closing day (UTC); kept 24 months after that.
EXPIRY = months_before(datetime(2024, 11, 30, tzinfo=UTC), -24)


def _settings(tmp: Path) -> Any:
    data = write_edge(tmp / "_edge", SITE_YAML, production=False)
    return load_settings(environ={}, data_dir=data, local_dir=tmp / "local")


def _inquiry(email: str, created: datetime) -> Inquiry:
    return Inquiry(
        region="pk",
        service=None,
        name="Ann",
        email=email,
        phone=None,
        company=None,
        message="an inquiry of some length",
        consent_at=created,
        created_at=created,
    )


@pytest.fixture()
def world(tmp_path: Path) -> dict[str, Any]:
    settings = _settings(tmp_path)
    app = TestClient(create_app(settings))
    token = app.post("/dev-login", json={"email": "client@example.com"}).json()["access_token"]
    h = {"authorization": f"Bearer {token}"}
    project = app.get("/projects", headers=h).json()["projects"][0]["id"]
    store = LocalPortalStore(settings.local_dir / "portal")
    # The agency shares a file in the client's project (staff work on the store directly in local mode).
    agency = str(uuid.uuid4())
    with sqlite3.connect(store.path) as db:
        db.execute(
            "insert into project_members (project_id, user_id, role) values (?, ?, 'owner')",
            (project, agency),
        )
    shared = store.add_file(
        agency,
        project,
        {
            "bucket": "portal-files",
            "path": f"{project}/design.txt",
            "size": 6,
            "content_type": "text/plain",
            "name": "design.txt",
        },
    )
    store.files_dir.mkdir(parents=True, exist_ok=True)
    (store.files_dir / shared["id"]).write_bytes(b"design")
    up = app.post(
        f"/projects/{project}/files/upload-url",
        json={"name": "brief.txt", "size": 5, "content_type": "text/plain"},
        headers=h,
    ).json()
    assert app.put(up["upload_url"], content=b"brief").status_code == 200
    app.post(f"/projects/{project}/messages", json={"body": "hello"}, headers=h)
    return {"settings": settings, "app": app, "h": h, "project": project, "store": store, "agency": agency}


def _count(store: LocalPortalStore, table: str) -> int:
    return int(store.rows(f"select count(*) n from {table}")[0]["n"])


@pytest.mark.parametrize(("offset", "kept"), [(-1, True), (1, False)])
def test_project_and_file_boundary(world: dict[str, Any], offset: int, kept: bool) -> None:
    store = world["store"]
    with sqlite3.connect(store.path) as db:
        db.execute(
            "update projects set status='closed', closed_on=? where id=?", (CLOSED_ON, world["project"])
        )
    deleted = store.purge_expired(24, now=EXPIRY + timedelta(seconds=offset))
    assert deleted == (0 if kept else 1)
    tables = ("projects", "files", "messages", "project_members", "clients")
    assert [_count(store, t) for t in tables] == ([1, 2, 1, 2, 1] if kept else [0] * 5)
    assert len(list(store.files_dir.iterdir())) == (2 if kept else 0)


@pytest.mark.parametrize(("offset", "kept"), [(-1, True), (1, False)])
def test_inquiry_boundary(tmp_path: Path, offset: int, kept: bool) -> None:
    at = datetime(2026, 11, 30, 12, tzinfo=UTC)
    store = LocalInquiryStore.in_dir(tmp_path)
    store.add_sync(_inquiry("ann@example.com", months_before(at, 12) - timedelta(seconds=offset)))
    store.purge_older_than(12, now=at)
    assert len(store.all()) == (1 if kept else 0)


def test_edge_app_start_applies_retention(world: dict[str, Any]) -> None:
    settings, store = world["settings"], world["store"]
    with sqlite3.connect(store.path) as db:
        db.execute(
            "update projects set status='closed', closed_on='2020-01-01' where id=?", (world["project"],)
        )
    LocalInquiryStore.in_dir(settings.local_dir).add_sync(
        _inquiry("old@example.com", datetime.now(UTC) - timedelta(days=400))
    )
    edge_app.create_app(settings)  # what `sitegen serve` and `uvicorn edge.app:app` do on start
    assert _count(store, "projects") == 0 and _count(store, "clients") == 0
    assert LocalInquiryStore.in_dir(settings.local_dir).all() == []
    assert list(store.files_dir.iterdir()) == []


def test_portal_lists_the_agencys_files_and_export_has_links(world: dict[str, Any]) -> None:
    app, h, project = world["app"], world["h"], world["project"]
    files = app.get(f"/projects/{project}/files", headers=h).json()["files"]
    assert sorted(f["name"] for f in files) == ["brief.txt", "design.txt"]
    LocalInquiryStore.in_dir(world["settings"].local_dir).add_sync(
        _inquiry("client@example.com", datetime.now(UTC))
    )
    export = app.get("/me/export", headers=h).json()
    assert {f["name"]: app.get(f["download_url"]).content for f in export["files"]} == {
        "brief.txt": b"brief",
        "design.txt": b"design",
    }
    assert [i["email"] for i in export["inquiries"]] == ["client@example.com"]
    r = app.post("/me/requests", json={"kind": "withdrawal", "note": "no more"}, headers=h)
    assert r.status_code == 201
    assert app.post("/me/requests", json={"kind": "delete-everyone"}, headers=h).status_code == 422


def test_rights_erase_by_email_locally(world: dict[str, Any]) -> None:
    settings, store = world["settings"], world["store"]
    inquiries = LocalInquiryStore.in_dir(settings.local_dir)
    inquiries.add_sync(_inquiry("Client@example.com", datetime.now(UTC)))
    inquiries.add_sync(_inquiry("other@example.com", datetime.now(UTC)))
    world["app"].post("/me/requests", json={"kind": "objection", "note": ""}, headers=world["h"])
    staff = rights.backend(settings)
    assert isinstance(staff, rights.LocalRights)
    [line, total] = rights.list_lines(staff)
    request_id = line.split()[0]
    assert "objection" in line and "client@example.com" in line and total == "1 open request(s)"
    dry = rights.erase_lines(staff, None, request_id, None, dry_run=True)
    assert "  contact inquiries: 1" in dry and "  files: 2" in dry and _count(store, "files") == 2
    rights.erase_lines(staff, None, request_id, None, dry_run=False)
    for table in ("projects", "files", "messages", "clients", "data_rights_requests"):
        assert _count(store, table) == 0, table
    # The agency member's row went with the project; nobody else's data was touched.
    assert [i["email"] for i in inquiries.all()] == ["other@example.com"]
    assert list(store.files_dir.iterdir()) == []
    log = store.rows("select kind, outcome, erased from data_rights_log")
    assert [(r["kind"], r["outcome"]) for r in log] == [("objection", "erased")]
    assert "client@example.com" not in json.dumps(log)


def test_retention_run_reports_local_results(world: dict[str, Any]) -> None:
    results = retention.run(world["settings"])
    assert [r.target for r in results] == ["local inquiries", "local portal"]


def test_sitegen_rights_commands(
    world: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sitegen.cli import main

    site = tmp_path / "site"
    runner = CliRunner()
    assert runner.invoke(main, ["new", str(site)]).exit_code == 0
    monkeypatch.setenv("SITEGEN_LOCAL_DIR", str(world["settings"].local_dir))
    world["app"].post("/me/requests", json={"kind": "access", "note": ""}, headers=world["h"])
    listed = runner.invoke(main, ["rights", "list", "--root", str(site)])
    assert listed.exit_code == 0 and "access" in listed.output
    request_id = listed.output.split()[0]
    refused = runner.invoke(main, ["rights", "erase", "--request", request_id, "--root", str(site)])
    assert refused.exit_code == 1 and "does not erase" in refused.output and "Traceback" not in refused.output
    shown = runner.invoke(main, ["rights", "show", "client@example.com", "--root", str(site)])
    assert "  files: 2" in shown.output
    answered = runner.invoke(main, ["rights", "answer", request_id, "done", "--root", str(site)])
    assert answered.exit_code == 0, answered.output
    erased = runner.invoke(
        main, ["rights", "erase", "client@example.com", "--kind", "deletion", "--root", str(site)]
    )
    assert erased.exit_code == 0 and "erased:" in erased.output
    assert _count(world["store"], "clients") == 0
