"""`sitegen serve` shows drafts by default, marked for the dev client's "draft" badge; --no-drafts hides them."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from click.testing import CliRunner

from sitegen.build import BuildOptions, build
from sitegen.cli import main
from tests.support.devserver import Running

Start = Callable[..., AbstractContextManager[Running]]
DRAFT = "---\ntitle: Soon\ndraft: true\n---\nComing soon. [About](about.md)\n"


def test_drafts_are_shown_and_marked(start: Start, site: Path) -> None:
    (site / "content/soon.md").write_text(DRAFT)
    (site / "content/about.md").write_text("---\ntitle: About\n---\nSee [soon](soon.md).\n")
    with start() as run:
        draft = run.client.get("/pk/soon/")
        assert draft.status_code == 200 and "Coming soon." in draft.text
        assert 'data-draft="true"' in draft.text
        about = run.client.get("/intl/about/")
        assert about.status_code == 200 and 'href="/intl/soon/"' in about.text
        assert "data-draft" not in about.text
        # Un-prefixed, the router sends visitors to the draft as to any page.
        assert run.client.get("/soon/?country=PK").headers["location"] == "/pk/soon/"


def test_no_drafts_hides_them_and_names_links_to_them(start: Start, site: Path) -> None:
    (site / "content/soon.md").write_text(DRAFT)
    with start(drafts=False) as run:
        assert run.client.get("/pk/soon/").status_code == 404
        events = run.events()
        events.wait_for("hello")
        (site / "content/about.md").write_text("---\ntitle: About\n---\nSee [soon](soon.md).\n")
        events.wait_for("build-error")
        assert any("links to a draft: 'soon.md' is content/soon.md" in str(e) for e in run.dev.errors)


def test_a_build_never_carries_the_badge(site: Path, tmp_path: Path) -> None:
    (site / "content/soon.md").write_text(DRAFT)
    result = build(BuildOptions(root=site, out=tmp_path / "dist", drafts=True))
    page = result.files["pk/soon/index.html"].decode()
    assert "Coming soon." in page
    assert "data-draft" not in page and "sitegen-draft" not in page and "__sitegen" not in page


def test_serve_has_a_no_drafts_option() -> None:
    help_text = CliRunner().invoke(main, ["serve", "--help"]).output
    assert "--drafts / --no-drafts" in help_text
