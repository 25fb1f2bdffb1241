"""`sitegen serve` over a real uvicorn server on loopback: pages, routing, reload, errors, /api streaming."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from sitegen.edgedata import read_search
from sitegen.serve import DevServer
from tests.support.devserver import Running, serving

Start = Callable[..., AbstractContextManager[Running]]


def test_region_pages_pretty_urls_and_404s(start: Start) -> None:
    with start() as run:
        page = run.client.get("/pk/about/")
        assert page.status_code == 200
        assert "About us, version one." in page.text
        # The dev client is injected as external files, and the page keeps the production CSP.
        client = re.search(r'<script src="(/__sitegen/reload\.js\?v=[0-9a-f]+)" defer', page.text)
        assert client is not None, page.text
        assert 'data-region="pk"' in page.text and 'data-label="Pakistan"' in page.text
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        # The page is never cached (it changes on every build); the client at the version the page
        # names may be (a reload then fetches only the page); unversioned, it is the file as it is now.
        assert page.headers["cache-control"] == "no-store"
        versioned = run.client.get(client.group(1))
        assert versioned.headers["content-type"].startswith("text/javascript")
        assert versioned.headers["cache-control"] == "public, max-age=31536000, immutable"
        for url in ("/__sitegen/reload.js", "/__sitegen/reload.js?v=0ld"):
            current = run.client.get(url)
            assert current.headers["cache-control"] == "no-store" and current.content == versioned.content
        style = re.search(r'<link rel="stylesheet" href="(/__sitegen/dev\.css\?v=[0-9a-f]+)">', page.text)
        assert style is not None and "immutable" in run.client.get(style.group(1)).headers["cache-control"]

        bare = run.client.get("/pk/about")
        assert (bare.status_code, bare.headers["location"]) == (301, "/pk/about/")

        css = re.search(r'href="(/assets/css/site\.[0-9a-f]+\.css)"', page.text)
        assert css is not None
        asset = run.client.get(css.group(1))
        assert asset.status_code == 200 and "margin: 0" in asset.text
        # Named after its content, so cached as production caches it.
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"

        missing = run.client.get("/intl/no-such-page/")
        assert missing.status_code == 404 and 'data-region="intl"' in missing.text
        assert run.client.get("/_edge/site.json").status_code == 404
        assert run.client.get("/pk/local/").status_code == 200
        assert run.client.get("/intl/local/").status_code == 404
        assert any("/pk/about/ -> 200 region pk" in line for line in run.logs)
        posted = run.client.post("/pk/about/", data={"x": "1"})
        assert posted.status_code == 405 and posted.headers["allow"] == "GET, HEAD"
        assert run.client.get("/pk/../_edge/site.json").status_code in (400, 404)


@pytest.mark.parametrize("hosting", ["netlify", "vercel"])
def test_unprefixed_paths_are_routed_by_query_cookie_and_option(
    start: Start, site: Path, hosting: str
) -> None:
    (site / "site.yaml").write_text((site / "site.yaml").read_text() + f"hosting: {hosting}\n")
    with start() as run:
        assert run.dev.snapshot is not None and run.dev.snapshot.host == hosting

        def where(path: str, **kwargs: object) -> str:
            response = run.client.get(path, **kwargs)  # type: ignore[arg-type]
            assert response.status_code == 302, response.text
            return response.headers["location"]

        assert where("/") == "/intl/"
        assert where("/?country=PK") == "/pk/"
        assert where("/?country=pk") == "/pk/"
        assert where("/about/?country=US") == "/intl/about/"
        assert where("/about/?country=PK") == "/pk/about/"
        # The override cookie wins over the detected country, as in production.
        assert where("/about/?country=US", headers={"cookie": "nf_country=PK"}) == "/pk/about/"
        assert where("/", headers={"cookie": "nf_country=US"}) == "/intl/"
        # A page that exists only in Pakistan is where a US visitor is sent too.
        assert where("/local/?country=US") == "/pk/local/"
        bad = run.client.get("/?country=P1")
        assert bad.status_code == 400 and "two-letter" in bad.text
        assert any("/about/ [US, cookie nf_country=PK] -> 302 /pk/about/" in line for line in run.logs)

    with start(country="PK") as run:
        assert run.client.get("/services/").headers["location"] == "/pk/services/"
        assert run.client.get("/?country=GB").headers["location"] == "/intl/"


def test_saving_a_page_sends_reload_and_serves_the_new_content(start: Start, site: Path) -> None:
    with start() as run:
        events = run.events()
        hello = events.wait_for("hello")
        assert hello["errors"] == []
        generation = hello["generation"]
        (site / "content" / "about.md").write_text("---\ntitle: About\n---\nAbout us, version two.\n")
        reload = events.wait_for("reload")
        assert reload["generation"] == generation + 1  # type: ignore[operator]
        for region in ("pk", "intl"):
            assert "About us, version two." in run.client.get(f"/{region}/about/").text
        # The new generation is in the page, so a page loaded now does not reload again.
        assert f'data-generation="{reload["generation"]}"' in run.client.get("/pk/").text


def test_many_changes_at_once_are_one_batch(start: Start, site: Path) -> None:
    with start() as run:
        events = run.events()
        events.wait_for("hello")
        before = run.dev.builds
        # Like a `git checkout`: 200 files written back to back.
        for i in range(200):
            (site / "content" / f"note-{i:03}.md").write_text(
                f"---\ntitle: Note {i}\n---\nNote number {i}.\n"
            )
        events.wait_for("reload")
        # Wait until the last file is in the served site, then count the builds it took.
        for _ in range(20):
            if run.client.get("/pk/note-199/").status_code == 200:
                break
            events.wait_for("reload")
        assert "Note number 199." in run.client.get("/intl/note-199/").text
        assert run.client.get("/pk/note-000/").status_code == 200
        # Batched: far fewer builds than files (normally exactly one).
        assert run.dev.builds - before < 10, run.logs


def test_build_error_overlay_keeps_last_good_pages_and_clears_when_fixed(start: Start, site: Path) -> None:
    layout = site / "themes" / "mini" / "templates" / "page.html"
    good = layout.read_text()
    with start() as run:
        events = run.events()
        events.wait_for("hello")
        layout.write_text(
            "<!doctype html><html><head><title>x</title></head>\n<body>{% if %}</body></html>\n"
        )
        failed = events.wait_for("build-error")
        errors = failed["errors"]
        assert isinstance(errors, list) and errors
        assert any(str(e["where"]).endswith("page.html:2") for e in errors), errors
        # The server still answers, with the last good page.
        page = run.client.get("/pk/about/")
        assert page.status_code == 200 and "About us, version one." in page.text
        assert run.client.get("/__sitegen/status").json()["errors"] == errors
        assert any("build failed" in line for line in run.logs)
        assert any("page.html:2" in line for line in run.logs)

        # A page opened now learns about the error as soon as it connects.
        late = run.events()
        assert late.wait_for("hello")["errors"] == errors

        layout.write_text(good.replace("<main>", "<main><p>fixed</p>"))
        fixed = events.wait_for("reload")
        assert fixed["errors"] == []
        assert "<p>fixed</p>" in run.client.get("/pk/about/").text


def test_a_site_that_never_built_gets_an_error_page_not_a_crash(site: Path, tmp_path: Path) -> None:
    (site / "site.yaml").write_text("title: Broken\nregions: {}\n")
    logs: list[str] = []
    dev = DevServer(site, out=tmp_path / "out", log=logs.append)
    assert dev.rebuild("start") is False
    with serving(dev, logs) as run:
        page = run.client.get("/pk/")
        assert page.status_code == 503
        assert "site.yaml" in page.text and "/__sitegen/reload.js" in page.text
        assert run.client.get("/api/health").status_code == 503


class _TwoChunks:
    """An edge app that sends its second chunk only after the client has received the first."""

    def __init__(self) -> None:
        self.first_received = threading.Event()


async def _two_chunk_app(app: _TwoChunks, scope: Scope, receive: Receive, send: Send) -> None:
    import anyio

    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]}
    )
    await send({"type": "http.response.body", "body": b"data: one\n\n", "more_body": True})
    # If anything between the app and the client buffered, the client would never see chunk one.
    released = await anyio.to_thread.run_sync(app.first_received.wait, 20)
    await send(
        {"type": "http.response.body", "body": b"data: two\n\n" if released else b"data: buffered\n\n"}
    )


def test_api_responses_stream_through_unbuffered(start: Start) -> None:
    probe = _TwoChunks()

    def factory(data_dir: Path, local_dir: Path) -> object:
        assert (data_dir / "site.json").is_file()  # the edge data was written for the handlers

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            await _two_chunk_app(probe, scope, receive, send)

        return app

    with (
        start(edge_factory=factory) as run,
        httpx.Client(base_url=run.url, timeout=30) as client,
        client.stream("POST", "/api/stream") as response,
    ):
        assert response.headers["content-type"] == "text/event-stream"
        chunks = response.iter_raw()
        assert next(chunks) == b"data: one\n\n"
        probe.first_received.set()
        assert b"".join(chunks) == b"data: two\n\n"


def test_pages_are_served_when_the_edge_app_cannot_start(start: Start) -> None:
    def broken(data_dir: Path, local_dir: Path) -> object:
        raise RuntimeError("no handler today")

    with start(edge_factory=broken) as run:
        assert run.client.get("/pk/about/").status_code == 200
        api = run.client.post("/api/contact", data={"name": "x"})
        assert api.status_code == 503
        assert "no handler today" in api.json()["error"]


def _fresh_build(site: Path) -> dict[str, bytes]:
    from sitegen.build import BuildOptions, build

    return build(BuildOptions(root=site, production=False, write=False)).files


def test_one_page_rebuild_gives_the_same_output_as_a_full_build(site: Path, tmp_path: Path) -> None:
    (site / "content" / "links.md").write_text(
        "---\ntitle: Links\n---\n## Team\n\nSee [about](about.md) and [home](/).\n"
    )
    logs: list[str] = []
    dev = DevServer(site, out=tmp_path / "out", log=logs.append)
    assert dev.rebuild("start") and dev.full_builds == 1

    about = site / "content" / "about.md"
    about.write_text("---\ntitle: About\n---\nAbout us, **version three**, see [links](links.md#team).\n")
    # With an editor's temp file that came and went in the same batch.
    assert dev.rebuild("about.md", {about, site / "content" / "4913"})
    assert dev.full_builds == 1, logs  # the body-only edit took the one-page path
    assert "re-rendered 2 pages" in logs[-1]
    assert dev.snapshot is not None
    assert dev.snapshot.files == _fresh_build(site)
    assert any("version three" in e["text"] for e in read_search(tmp_path / "out" / "_edge", "pk"))
    # A second edit reuses the compiled templates and menus of the first.
    index = site / "content" / "index.md"
    index.write_text("---\ntitle: Home\n---\nWelcome home, *again*.\n")
    assert dev.rebuild("index.md", {index}) and dev.full_builds == 1
    assert dev.snapshot.files == _fresh_build(site)
    assert any("again" in e["text"] for e in read_search(tmp_path / "out" / "_edge", "intl"))

    # A broken link in the body is still an error, and the last good output stays.
    served = dict(dev.snapshot.files)
    about.write_text("---\ntitle: About\n---\nSee [nowhere](missing.md).\n")
    assert dev.rebuild("about.md", {about}) is False
    fast_errors = [str(e) for e in dev.errors]
    assert any("missing.md" in e for e in fast_errors), fast_errors
    # The same report a full build gives.
    from sitegen.build import BuildOptions, build
    from sitegen.errors import BuildFailed

    with pytest.raises(BuildFailed) as full:
        build(BuildOptions(root=site, production=False, write=False))
    assert fast_errors == [str(e) for e in full.value.errors]
    assert dev.snapshot.files == served

    # Front matter changes (titles feed menus and search) always rebuild everything.
    about.write_text("---\ntitle: About the team\n---\nAbout us, see [links](links.md#team).\n")
    assert dev.rebuild("about.md", {about})
    assert dev.full_builds == 2 and dev.errors == []  # the broken-link error was found without a full build
    assert dev.snapshot.files == _fresh_build(site)
    builds = dev.full_builds
    # So do changed anchors (other pages may link to them) and new files.
    links = site / "content" / "links.md"
    links.write_text("---\ntitle: Links\n---\n## People\n\nSee [about](about.md) and [home](/).\n")
    assert dev.rebuild("links.md", {links}) is False  # about.md links to #team: the full build reports it
    assert dev.full_builds == builds + 1
    assert any("team" in e.message for e in dev.errors), dev.errors


def test_an_edit_that_shows_an_image_no_page_used_publishes_it(site: Path, tmp_path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (40, 30), (200, 60, 40)).save(site / "content" / "team.png")
    dev = DevServer(site, out=tmp_path / "out", log=lambda _: None)
    assert dev.rebuild("start") and dev.snapshot is not None
    assert not [f for f in dev.snapshot.files if f.startswith("assets/img/team.")]  # used by no page
    about = site / "content" / "about.md"
    about.write_text("---\ntitle: About\n---\nOur team:\n\n![The team](team.png)\n")
    assert dev.rebuild("about.md", {about}), dev.errors
    assert dev.snapshot.files == _fresh_build(site)
    src = re.search(
        r'<img src="/(assets/img/team\.[^"]+)"', dev.snapshot.files["pk/about/index.html"].decode()
    )
    assert src and src.group(1) in dev.snapshot.files


def test_a_batch_of_only_an_editors_temp_files_rebuilds_nothing(site: Path, tmp_path: Path) -> None:
    """vim probes a folder with a file named 4913 before it saves; when the probe's batch comes
    alone it is not a change to the site (it used to cost a full build)."""
    dev = DevServer(site, out=tmp_path / "out", log=lambda _: None)
    assert dev.rebuild("start") and dev.snapshot is not None
    before = (dev.builds, dev.full_builds, dev.generation, dev.snapshot)
    assert dev.rebuild("4913", {site / "content" / "4913", site / "content" / "about.md~"})
    assert (dev.builds, dev.full_builds, dev.generation, dev.snapshot) == before
    # A temp file still there, or any file the build read, is a change.
    probe = site / "content" / "4913"
    probe.write_text("")
    assert dev.rebuild("4913", {probe}) and dev.full_builds == 2


def test_a_folder_moved_out_of_the_site_is_a_change(site: Path, tmp_path: Path) -> None:
    """Moving a folder away (or to the desktop's trash) is one event, for the folder."""
    blog = site / "content" / "blog"
    blog.mkdir()
    (blog / "first.md").write_text("---\ntitle: First post\n---\nHello.\n")
    dev = DevServer(site, out=tmp_path / "out", log=lambda _: None)
    assert dev.rebuild("start") and dev.snapshot is not None
    assert "pk/blog/first/index.html" in dev.snapshot.files
    blog.rename(tmp_path / "blog-elsewhere")
    assert dev.rebuild("blog", {blog}) and dev.full_builds == 2
    assert "pk/blog/first/index.html" not in dev.snapshot.files


def test_a_deleted_content_file_in_an_edits_batch_is_not_taken_for_a_temp_file(
    site: Path, tmp_path: Path
) -> None:
    """A page's image removed in the same batch as a body edit of the page (a branch switch):
    the full build runs and says the image is missing, instead of the one-page path re-rendering
    the page with the image it remembers."""
    from PIL import Image

    Image.new("RGB", (40, 30), (200, 60, 40)).save(site / "content" / "team.png")
    about = site / "content" / "about.md"
    about.write_text("---\ntitle: About\n---\nOur team:\n\n![The team](team.png)\n")
    dev = DevServer(site, out=tmp_path / "out", log=lambda _: None)
    assert dev.rebuild("start") and dev.full_builds == 1
    (site / "content" / "team.png").unlink()
    about.write_text("---\ntitle: About\n---\nOur whole team:\n\n![The team](team.png)\n")
    assert dev.rebuild("2 files changed", {about, site / "content" / "team.png"}) is False
    assert dev.full_builds == 2
    assert any("team.png" in str(e) for e in dev.errors), dev.errors


def test_repeated_one_page_edits_keep_the_edge_data_of_a_full_build(site: Path, tmp_path: Path) -> None:
    """The serialised search shards and chat chunks kept between edits stay byte-identical to a full build,
    also when an edit changes how many chunks a page has (a section grows past the merge threshold)."""
    links = site / "content" / "links.md"
    links.write_text("---\ntitle: Links\n---\nIntro.\n\n## Team\n\nShort.\n")
    dev = DevServer(site, out=tmp_path / "out", log=lambda _: None)
    assert dev.rebuild("start") and dev.snapshot is not None
    chunks = dev.snapshot.files["_edge/chat/pk.chunks.json"]
    bodies = [
        "Intro, a paragraph long enough to be a section of its own.\n\n## Team\n\n"
        "And a team section long enough to be a chunk of its own too.\n",
        "Intro, edited again.\n\n## Team\n\nShort.\n",
        "Intro, a paragraph long enough to be a section of its own.\n\n## Team\n\nShort.\n",
    ]
    for body in bodies:
        links.write_text(f"---\ntitle: Links\n---\n{body}")
        assert dev.rebuild("links.md", {links}) and dev.full_builds == 1, dev.errors
        assert dev.snapshot.files == _fresh_build(site)
    assert dev.snapshot.files["_edge/chat/pk.chunks.json"] != chunks
    assert b"a chunk of its own too" not in dev.snapshot.files["_edge/chat/pk.chunks.json"]


def test_open_pages_are_told_to_reload_once_the_new_page_is_served(site: Path, tmp_path: Path) -> None:
    """ready() comes when the new page is served and counted (a reloading page gets it and stays), and
    the edge data are the full build's when rebuild returns."""
    dev = DevServer(site, out=tmp_path / "out", log=lambda _: None)
    assert dev.rebuild("start") and dev.snapshot is not None
    about = site / "content" / "about.md"
    about.write_text("---\ntitle: About\n---\nAbout us, version four.\n")
    seen: list[tuple[bool, int]] = []

    def ready() -> None:
        assert dev.snapshot is not None
        seen.append((b"version four" in dev.snapshot.files["pk/about/index.html"], dev.generation))

    assert dev.rebuild("about.md", {about}, ready) and dev.full_builds == 1
    assert seen == [(True, 2)]
    assert dev.snapshot.files == _fresh_build(site)
    assert any("version four" in e["text"] for e in read_search(tmp_path / "out" / "_edge", "pk"))
    # A full build calls it too, once.
    (site / "site.yaml").write_text((site / "site.yaml").read_text())
    assert dev.rebuild("site.yaml", {site / "site.yaml"}, lambda: seen.append((True, dev.generation)))
    assert seen[1:] == [(True, 3)] and dev.full_builds == 2
