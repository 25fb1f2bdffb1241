"""What the portal API answers, exactly: the reasons a client reads on a refusal, the limits at
their edges, the shape of what it returns, its links and their lifetime, and the answers of a
portal in Supabase mode that need no database (config, the development login, local files)."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import anyio
import jwt
import pytest
from starlette.testclient import TestClient

from edge import app as edge_app
from edge import portal as portal_module
from edge.portal import NOT_UPLOADED, create_app
from edge.portal_store import LocalPortalStore
from edge.settings import load_settings
from tests.support.edgesite import EDGE_SITE_YAML, write_edge

SITE_YAML = EDGE_SITE_YAML + (
    "portal:\n  upload_types: [text/plain, application/pdf]\n  upload_max_bytes: 1000\n  signed_url_seconds: 600\n"
)
SUPABASE_ENV = {"SUPABASE_URL": "http://127.0.0.1:9", "SUPABASE_PUBLISHABLE_KEY": "sb_publishable_x"}


def _settings(tmp: Path, environ: dict[str, str] | None = None) -> Any:
    data = write_edge(tmp / "_edge", SITE_YAML, production=False)
    return load_settings(environ=environ or {}, data_dir=data, local_dir=tmp / "local")


@pytest.fixture()
def client(tmp_path: Path) -> dict[str, Any]:
    settings = _settings(tmp_path)
    c = TestClient(create_app(settings))
    a = _login(c, "a@example.com")
    pid = c.get("/projects", headers=a).json()["projects"][0]["id"]
    return {"c": c, "a": a, "pid": pid, "settings": settings}


def _login(c: TestClient, email: str) -> dict[str, str]:
    r = c.post("/dev-login", json={"email": email})
    assert r.status_code == 200, r.text
    return {"authorization": f"Bearer {r.json()['access_token']}"}


def _error(r: Any, status: int) -> str:
    assert r.status_code == status, r.text
    reason: str = r.json()["error"]
    return reason


def _upload(c: TestClient, a: dict[str, str], pid: str, name: str = "brief.pdf", size: int = 5) -> Any:
    r = c.post(
        f"/projects/{pid}/files/upload-url",
        json={"name": name, "size": size, "content_type": "application/pdf"},
        headers=a,
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_config_tells_the_page_it_runs_in_local_mode_with_the_development_login(
    client: dict[str, Any],
) -> None:
    assert client["c"].get("/config").json() == {
        "mode": "local",
        "supabase_url": None,
        "supabase_key": None,
        "dev_login": True,
    }


def test_supabase_mode_config_gives_the_page_its_project_and_no_development_login(tmp_path: Path) -> None:
    c = TestClient(create_app(_settings(tmp_path, SUPABASE_ENV)))
    assert c.get("/config").json() == {
        "mode": "supabase",
        "supabase_url": SUPABASE_ENV["SUPABASE_URL"],
        "supabase_key": SUPABASE_ENV["SUPABASE_PUBLISHABLE_KEY"],
        "dev_login": False,
    }
    # Outside production too: with Supabase there is no local store to log in to.
    reason = _error(c.post("/dev-login", json={"email": "a@example.com"}), 403)
    assert reason == "the development login exists only in local mode; sign in with Supabase"
    reason = _error(c.get("/local-files/anything"), 404)
    assert reason == "local files exist only in local mode"


def test_portal_closes_cleanly_in_local_mode(tmp_path: Path) -> None:
    app = create_app(_settings(tmp_path))
    anyio.run(app.state.portal.aclose)


def test_missing_things_are_named_in_the_404(client: dict[str, Any]) -> None:
    c, a = client["c"], client["a"]
    assert _error(c.get("/projects/nope", headers=a), 404) == "no such project"
    assert _error(c.get("/files/nope/download-url", headers=a), 404) == "no such file"


def test_message_length_limits_and_answer(client: dict[str, Any]) -> None:
    c, a, pid = client["c"], client["a"], client["pid"]
    url = f"/projects/{pid}/messages"
    for body in ({}, {"body": ""}, {"body": "x" * 10001}):
        assert _error(c.post(url, json=body, headers=a), 422) == "body: write 1 to 10000 characters"
    r = c.post(url, json={"body": " " + "x" * 10000 + " "}, headers=a)
    assert r.status_code == 201
    assert r.json()["message"]["body"] == "x" * 10000 and r.json()["message"]["project_id"] == pid
    second = c.post(url, json={"body": "again"}, headers=a).json()["message"]
    listed = c.get(url, headers=a).json()["messages"]
    assert [m["id"] for m in listed] == [r.json()["message"]["id"], second["id"]]
    assert listed[1] == second and set(second) == {"id", "project_id", "author_id", "body", "created_at"}


def test_profile_correction_reasons_and_limits(client: dict[str, Any]) -> None:
    c, a = client["c"], client["a"]
    fields = "name, company, phone, email"
    assert _error(c.patch("/me", json={}, headers=a), 422) == f"only {fields} can be corrected"
    unknown = c.patch("/me", json={"role": "staff", "id": "x", "name": "A"}, headers=a)
    assert _error(unknown, 422) == f"only {fields} can be corrected (not id, role)"
    for value in (5, None, ["A"], "x" * 201):
        r = c.patch("/me", json={"name": value}, headers=a)
        assert _error(r, 422) == "each field must be text of at most 200 characters", value
    assert c.patch("/me", json={"name": "x" * 200}, headers=a).json()["profile"]["name"] == "x" * 200


def test_rights_requests_reasons_limits_and_answer(client: dict[str, Any]) -> None:
    c, a = client["c"], client["a"]
    kinds = "access, correction, deletion, objection, withdrawal"
    assert _error(c.post("/me/requests", json={"kind": "all"}, headers=a), 422) == f"kind: one of {kinds}"
    for note in ("x" * 5001, 5, None):
        r = c.post("/me/requests", json={"kind": "access", "note": note}, headers=a)
        assert _error(r, 422) == "note: text of at most 5000 characters", note
    full = c.post("/me/requests", json={"kind": "correction", "note": "x" * 5000}, headers=a)
    assert full.status_code == 201 and full.json()["request"]["note"] == "x" * 5000
    bare = c.post("/me/requests", json={"kind": "access"}, headers=a)
    assert bare.status_code == 201
    assert {k: bare.json()["request"][k] for k in ("kind", "note", "status")} == {
        "kind": "access",
        "note": "",
        "status": "open",
    }
    deletion = c.post("/me/deletion-request", headers=a)
    assert deletion.status_code == 201
    assert {k: deletion.json()["request"][k] for k in ("kind", "note", "status")} == {
        "kind": "deletion",
        "note": "",
        "status": "open",
    }
    assert set(deletion.json()["request"]) == {"id", "user_id", "kind", "note", "status", "created_at"}
    exported = c.get("/me/export", headers=a).json()["data_rights_requests"]
    assert any(r.items() >= deletion.json()["request"].items() for r in exported)
    assert sorted((r["kind"], r["note"]) for r in exported) == [
        ("access", ""),
        ("correction", "x" * 5000),
        ("deletion", ""),
    ]


def test_export_downloads_as_a_file(client: dict[str, Any]) -> None:
    r = client["c"].get("/me/export", headers=client["a"])
    assert r.headers["content-disposition"] == 'attachment; filename="my-data.json"'


def test_correcting_an_erased_profile_says_so(client: dict[str, Any]) -> None:
    # The token outlives the erasure (it is only checked for its signature); the answer is a 404
    # naming what is missing, not a 500.
    c, a = client["c"], client["a"]
    LocalPortalStore(client["settings"].local_dir / "portal").erase("a@example.com")
    assert _error(c.patch("/me", json={"name": "A"}, headers=a), 404) == "no client profile for this account"
    export = c.get("/me/export", headers=a)
    assert export.status_code == 200 and export.json()["profile"] is None and export.json()["projects"] == []


def test_a_local_token_the_portal_did_not_issue_is_a_401_asking_for_a_bearer(client: dict[str, Any]) -> None:
    """Signed with the portal's own secret but not a token its development login issues: another
    issuer, no expiry or no subject. Each is refused before any data is read (no subject used to
    be a KeyError waiting to happen)."""
    c = client["c"]
    secret = c.app.state.portal.local_secret
    user = _login(c, "a@example.com")["authorization"].split()[1]
    issued = jwt.decode(user, secret, algorithms=["HS256"], audience="authenticated")
    forged = [
        issued | {"iss": "somebody-else"},
        {k: v for k, v in issued.items() if k != "exp"},
        {k: v for k, v in issued.items() if k != "sub"},
        {k: v for k, v in issued.items() if k != "iss"},
    ]
    tokens = [jwt.encode(claims, secret, algorithm="HS256") for claims in forged] + ["not-a-token"]
    for token in tokens:
        answer = c.get("/projects", headers={"authorization": f"Bearer {token}"})
        assert _error(answer, 401) == "not signed in: invalid token"
        assert answer.headers["www-authenticate"] == "Bearer"
    assert c.get("/projects", headers={"authorization": f"Bearer {user}"}).status_code == 200


def test_hidden_file_names_lose_their_leading_dots(client: dict[str, Any]) -> None:
    c, a, pid = client["c"], client["a"], client["pid"]
    assert _upload(c, a, pid, name=".htaccess")["file"]["name"] == "htaccess"
    assert _upload(c, a, pid, name="..env")["file"]["name"] == "env"
    assert _upload(c, a, pid, name="report.pdf.")["file"]["name"] == "report.pdf."
    assert _upload(c, a, pid, name=".XX.pdf")["file"]["name"] == "XX.pdf"  # only dots go


def test_a_local_upload_may_trickle_in_for_five_minutes(
    client: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large file on a slow line: its upload gets 300 s, not the 10 s any other request body gets
    (waiting that long here would only test anyio's clock; the 408 itself is tested in test_abuse)."""
    c, a, pid = client["c"], client["a"], client["pid"]
    calls: list[tuple[int, dict[str, Any]]] = []
    real = portal_module.read_body

    async def spy(request: Any, limit: int, **options: Any) -> bytes:
        calls.append((limit, options))
        return await real(request, limit, **options)

    monkeypatch.setattr(portal_module, "read_body", spy)
    up = _upload(c, a, pid, size=5)
    assert c.put(up["upload_url"], content=b"12345").status_code == 200
    assert calls == [(5, {"seconds": 300.0})]


def test_local_file_links_answers(client: dict[str, Any]) -> None:
    c, a, pid = client["c"], client["a"], client["pid"]
    up = _upload(c, a, pid)
    assert up["upload_url"].startswith("/local-files/")  # relative to where the portal is mounted
    assert up["file"] == {
        "id": up["file"]["id"],
        "project_id": pid,
        "uploaded_by": up["file"]["uploaded_by"],
        "bucket": "portal-files",
        "path": up["file"]["path"],
        "size": 5,
        "content_type": "application/pdf",
        "name": "brief.pdf",
        "created_at": up["file"]["created_at"],
    }
    assert c.get(f"/projects/{pid}/files", headers=a).json()["files"] == [up["file"]]
    link = c.get(f"/files/{up['file']['id']}/download-url", headers=a).json()["download_url"]
    assert _error(c.get(link), 404) == NOT_UPLOADED
    assert _error(c.put(up["upload_url"], content=b"12"), 422) == "expected 5 bytes, got 2"
    assert c.put(up["upload_url"], content=b"%PDF-").json() == {"ok": True}
    got = c.get(link)
    assert got.content == b"%PDF-" and got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"] == 'attachment; filename="brief.pdf"'
    assert _error(c.put(link, content=b"%PDF-"), 404) == "this link is for downloading"
    assert _error(c.get("/local-files/not-a-ticket"), 403) == "link expired or invalid"
    assert _error(c.get(up["upload_url"][:-2] + "xx"), 403) == "link expired or invalid"
    # A link to a file erased since: the link is still signed, the file is gone.
    LocalPortalStore(client["settings"].local_dir / "portal").erase("a@example.com")
    assert _error(c.get(link), 404) == "no such file"


def test_local_file_links_expire_after_signed_url_seconds(
    client: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    c, a, pid = client["c"], client["a"], client["pid"]  # the site says signed_url_seconds: 600
    for age, status in ((590, 200), (610, 403)):
        # A link made `age` seconds ago: the portal's clock is set back while it signs it.
        monkeypatch.setattr(portal_module, "time", SimpleNamespace(time=lambda age=age: time.time() - age))
        up = _upload(c, a, pid)
        monkeypatch.undo()
        assert c.put(up["upload_url"], content=b"%PDF-").status_code == status, age


def test_links_through_the_edge_app_carry_the_portal_mount(tmp_path: Path) -> None:
    c = TestClient(edge_app.create_app(_settings(tmp_path)))
    r = c.post("/api/portal/dev-login", json={"email": "a@example.com"})
    a = {"authorization": f"Bearer {r.json()['access_token']}"}
    pid = c.get("/api/portal/projects", headers=a).json()["projects"][0]["id"]
    r = c.post(
        f"/api/portal/projects/{pid}/files/upload-url",
        json={"name": "f.pdf", "size": 1, "content_type": "application/pdf"},
        headers=a,
    )
    url = r.json()["upload_url"]
    assert url.startswith("/api/portal/local-files/")
    assert c.put(url, content=b"x").json() == {"ok": True}


def test_upload_announcement_reasons_limits_and_file_names(client: dict[str, Any]) -> None:
    c, a, pid = client["c"], client["a"], client["pid"]
    url = f"/projects/{pid}/files/upload-url"

    def announce(**fields: Any) -> Any:
        return c.post(
            url, json={"name": "f.pdf", "size": 5, "content_type": "application/pdf", **fields}, headers=a
        )

    assert _error(c.post(url, json={"size": 5, "content_type": "application/pdf"}, headers=a), 422) == (
        "name: give the file name"
    )
    assert _error(announce(name="..."), 422) == "name: give the file name"
    for size in (0, -1, 1001, True, "5", None):
        assert _error(announce(size=size), 422) == "size: files must be 1 to 1000 bytes", size
    assert announce(size=1000).status_code == announce(size=1).status_code == 201
    accepted = "(application/pdf, text/plain)"
    assert _error(c.post(url, json={"name": "f", "size": 5}, headers=a), 422) == (
        f"content_type: empty is not accepted {accepted}"
    )
    long_type = "x" * 150
    assert (
        _error(announce(content_type=long_type), 422)
        == f"content_type: {'x' * 100} is not accepted {accepted}"
    )
    names = {
        "Brief 2026 (final).PDF": "Brief_2026__final_.PDF",
        "../../etc/passwd": "_.._etc_passwd",
        "résumé.pdf": "r_sum_.pdf",
        "a" * 130 + ".pdf": "a" * 120,
    }
    for given, kept in names.items():
        assert announce(name=given).json()["file"]["name"] == kept, given


def test_development_login_answers_with_a_one_hour_token_for_the_address_as_written_lower_cased(
    tmp_path: Path,
) -> None:
    c = TestClient(create_app(_settings(tmp_path)))
    before = int(time.time())
    r = c.post("/dev-login", json={"email": "  Ayesha@Example.COM "})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"ok", "access_token", "development"}
    assert body["ok"] is True and body["development"] is True
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["email"] == "ayesha@example.com"
    assert claims["aud"] == "authenticated"  # what Supabase's tokens carry, so one code path reads both
    assert claims["iss"] == "sitegen-local-dev"
    assert before <= claims["iat"] <= int(time.time())
    assert claims["exp"] - claims["iat"] == 3600
    # The same person gets the same identity again; another address another one.
    again = jwt.decode(
        c.post("/dev-login", json={"email": "ayesha@example.com"}).json()["access_token"],
        options={"verify_signature": False},
    )
    other = jwt.decode(
        c.post("/dev-login", json={"email": "bilal@example.com"}).json()["access_token"],
        options={"verify_signature": False},
    )
    assert claims["sub"] and claims["sub"] == again["sub"] != other["sub"]
    # The token is the one the portal itself accepts.
    auth = {"authorization": f"Bearer {body['access_token']}"}
    assert c.get("/projects", headers=auth).status_code == 200


@pytest.mark.parametrize("payload", [{}, {"email": ""}, {"email": "not-an-address"}, {"email": "a@b"}])
def test_development_login_without_a_valid_address_says_what_to_enter(
    tmp_path: Path, payload: dict[str, str]
) -> None:
    c = TestClient(create_app(_settings(tmp_path)))
    assert _error(c.post("/dev-login", json=payload), 422) == "email: enter a valid address"


@pytest.mark.parametrize("path", ["/projects/nope/messages", "/projects/nope/files"])
def test_another_clients_or_unknown_project_is_not_found_everywhere_below_it(
    client: dict[str, Any], path: str
) -> None:
    c, a = client["c"], client["a"]
    assert _error(c.get(path, headers=a), 404) == "no such project"
    # Another client's real project answers the same, so its id is not confirmed.
    b = _login(c, "b@example.com")
    assert _error(c.get(path.replace("nope", client["pid"]), headers=b), 404) == "no such project"
