"""Which pages' links a build may leave unchecked: only those the last build checked, when nothing they
point at can have changed."""

from __future__ import annotations

from sitegen.linkcheck import known_good
from sitegen.render_jobs import Rendered


def rendered(ids: set[str], hrefs: tuple[str, ...] = ()) -> Rendered:
    return Rendered(("key",), "digest", hrefs, frozenset(ids), "{}", {}, "")


PAGES = {
    "pk/index.html": rendered({"top"}, ("/pk/about/#team",)),
    "pk/about/index.html": rendered({"team"}),
    "pk/blog/index.html": rendered(set(), ("mailto:hello@example.com",)),
}
LAST = {**{rel: "digest" for rel in PAGES}, "pk/404.html": "d404", "sitemap.xml": "dmap"}
NAMES = set(LAST)


def test_same_shape_and_same_ids_leaves_the_reused_pages_unchecked() -> None:
    fresh = {"pk/about/index.html"}
    known = known_good(
        PAGES, fresh, {"pk/about/index.html": frozenset({"team"})}, NAMES, LAST, {"pk/404.html": "d404"}
    )
    assert set(known) == {"pk/index.html", "pk/blog/index.html"}


def test_a_rerendered_page_that_lost_an_id_means_every_link_is_checked() -> None:
    fresh = {"pk/about/index.html"}
    previous = {"pk/about/index.html": frozenset({"team", "history"})}
    assert not known_good(PAGES, fresh, previous, NAMES, LAST, {"pk/404.html": "d404"})


def test_a_page_new_to_the_output_means_every_link_is_checked() -> None:
    pages = {**PAGES, "pk/new/index.html": rendered(set())}
    fresh = {"pk/new/index.html"}
    names = NAMES | {"pk/new/index.html"}
    assert not known_good(pages, fresh, {}, names, LAST, {"pk/404.html": "d404"})


def test_a_file_gone_from_the_output_means_every_link_is_checked() -> None:
    assert not known_good(PAGES, set(), {}, NAMES - {"sitemap.xml"}, LAST, {"pk/404.html": "d404"})


def test_a_changed_404_page_or_no_last_build_means_every_link_is_checked() -> None:
    assert not known_good(PAGES, set(), {}, NAMES, LAST, {"pk/404.html": "changed"})
    assert not known_good(PAGES, set(), {}, NAMES, None, {"pk/404.html": "d404"})
