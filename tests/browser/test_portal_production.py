"""The client portal's production path in Chromium: Supabase mode, under the generated headers.

This repository's site is built with ``portal.supabase_url`` pointing at a Supabase project on
another loopback port (``tests/support/supabase_fake.py``: Auth and Storage wire formats, the
PostgREST test server over the real database with the real migrations and RLS), and served with
its own rule files (exact CSP) and the real edge app at ``/api`` in Supabase mode. A client signs
in with the e-mailed code, sees their project, uploads a file with a signed URL straight to
Storage and downloads it again; no Content-Security-Policy violation may occur.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

import psycopg
import yaml

from edge.app import create_app
from edge.settings import load_settings
from sitegen.build import BuildOptions, build
from tests.support.servers import serve
from tests.support.static_site import csp_for, empty_script, site_app
from tests.support.supabase_fake import FakeSupabase, running

ROOT = Path(__file__).resolve().parents[2]


def _seed(db: psycopg.Connection[Any], email: str) -> None:
    client, other = uuid.uuid4(), uuid.uuid4()
    for uid, address in ((client, email), (other, f"other-{other}@example.com")):
        db.execute("insert into auth.users (id, email) values (%s, %s)", (uid, address))
        # The sign-up trigger has made the clients row already; give it a name as staff would.
        db.execute("update public.clients set name = %s where id = %s", ("A client", uid))
    project, hidden = uuid.uuid4(), uuid.uuid4()
    for pid, uid, name in ((project, client, "Shop relaunch"), (hidden, other, "Someone else's app")):
        db.execute("insert into public.projects (id, name) values (%s, %s)", (pid, name))
        db.execute("insert into public.project_members (project_id, user_id) values (%s, %s)", (pid, uid))


def test_magic_code_sign_in_listing_upload_download_under_the_deployed_csp(
    db: psycopg.Connection[Any], postgrest: Any, browser: Any, tmp_path: Path
) -> None:
    email = f"amna-{uuid.uuid4().hex[:8]}@example.com"
    _seed(db, email)
    fake = FakeSupabase(postgrest, db)
    with running(fake):
        site = tmp_path / "site"
        shutil.copytree(ROOT / "content", site / "content")
        data = yaml.safe_load((ROOT / "site.yaml").read_text(encoding="utf-8"))
        data["portal"]["supabase_url"] = fake.url
        data["portal"]["upload_types"] = ["text/plain"]
        (site / "site.yaml").write_text(
            yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8"
        )
        dist = build(BuildOptions(root=site, out=site / "dist")).out
        csp = csp_for(dist, "/intl/portal/")
        assert f"connect-src 'self' {fake.url}" in csp

        env = {"SUPABASE_URL": fake.url, "SUPABASE_PUBLISHABLE_KEY": postgrest.publishable_key}
        edge = create_app(load_settings(environ=env, data_dir=dist / "_edge", local_dir=tmp_path / "local"))
        # Vercel's edge serves its analytics scripts at /_vercel/ (not part of the build).
        with serve(site_app(dist, {"/api/": edge, "/_vercel/": empty_script()})) as url:
            context = browser.new_context(accept_downloads=True)
            page = context.new_page()
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            response = page.goto(f"{url}/intl/portal/")
            assert response is not None and response.headers["content-security-policy"] == csp

            page.locator("#portal-login").wait_for()
            page.fill("#portal-email", email)
            page.click("#portal-login button")
            page.locator("#portal-verify").wait_for()
            page.fill("#portal-code", fake.codes[email])
            page.click("#portal-verify button")
            page.locator("#portal-projects li").first.wait_for()
            assert page.locator("#portal-projects li").all_inner_texts() == ["Shop relaunch (active)"]

            page.click("#portal-projects button")
            upload = tmp_path / "brief.txt"
            upload.write_text("the brief, in production")
            page.set_input_files("#portal-file", str(upload))
            page.click("#portal-upload-form button")
            page.locator(".portal-download").wait_for()
            assert [v[0] for v in fake.objects.values()] == [b"the brief, in production"]
            with page.expect_download() as download:
                page.click(".portal-download")
            assert download.value.suggested_filename == "brief.txt"
            assert Path(download.value.path()).read_text() == "the brief, in production"
            context.close()

    assert fake.calls == ["otp", "verify", "sign-upload", "upload", "sign-download", "download"], fake.calls
    violations = [p for p in problems if "Content Security Policy" in p or "Refused to" in p]
    assert violations == [] and problems == [], problems
