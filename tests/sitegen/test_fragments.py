"""``{% shared %}``: a layout's part rendered once per region, with what it reads checked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sitegen.errors import BuildFailed
from sitegen.fragments import SharedExtension
from tests.support.sitefactory import build_site, html, write_site

PAGES = {
    "content/index.md": "---\ntitle: Home\n---\nx\n",
    "content/about.md": "---\ntitle: About\n---\nBody.\n",
    "content/team.md": "---\ntitle: Team\n---\nPeople.\n",
}


def problem(root: Path) -> str:
    """The first problem of a build that must fail (every page shows the same one)."""
    with pytest.raises(BuildFailed) as failed:
        build_site(root)
    return str(failed.value.errors[0])


def layout(shared_part: str) -> dict[str, str]:
    return {
        **PAGES,
        "templates/page.html": (
            '{% import "partials/svg.html" as svg %}'
            "<main>{{ page.title }}</main>\n"
            "{% shared %}<footer>{{ region.label }} {{ site.title }} {{ svg.icon('menu') | length > 0 }}"
            + shared_part
            + "</footer>{% endshared %}\n"
        ),
    }


def test_each_region_renders_its_part_once_and_every_page_shows_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered: list[str] = []
    original = SharedExtension._render

    def counting(self: SharedExtension, *args: Any, caller: Any) -> Any:
        def counted() -> Any:
            if args[0] == "page.html":  # the home page and the 404 pages use the theme's base.html
                rendered.append(args[-1].get("region").id)
            return caller()

        return original(self, *args, caller=counted)

    monkeypatch.setattr(SharedExtension, "_render", counting)
    write_site(tmp_path, layout(" {{ menus | length }}"))
    build_site(tmp_path)
    assert sorted(rendered) == ["intl", "pk"]  # three pages in each region, one render each
    for rid, label in (("pk", "Pakistan"), ("intl", "International")):
        for page in ("about/", "team/"):
            text = html(tmp_path, f"{rid}/{page}index.html")
            assert f"<footer>{label} " in text
    assert "<main>Team</main>" in html(tmp_path, "pk/team/index.html")


@pytest.mark.parametrize(
    ("part", "name"),
    [
        (" {{ page.title }}", "page"),
        (" {{ url_for('/about/') }}", "url_for"),
        ("{% for p in [1] %}{{ content }}{% endfor %}", "content"),
    ],
)
def test_a_part_that_reads_what_differs_between_pages_is_refused(
    tmp_path: Path, part: str, name: str
) -> None:
    write_site(tmp_path, layout(part))
    message = problem(tmp_path)
    assert "templates/page.html" in message
    assert f"{{% shared %}} at page.html:2 reads '{name}'" in message
    assert "may differ between pages of a region" in message


def test_a_variable_set_from_the_page_outside_the_part_is_refused(tmp_path: Path) -> None:
    files = layout(" {{ heading }}")
    files["templates/page.html"] = "{% set heading = page.title %}" + files["templates/page.html"]
    write_site(tmp_path, files)
    assert "reads 'heading'" in problem(tmp_path)


def test_an_included_template_is_checked_too(tmp_path: Path) -> None:
    files = layout('{% include "partials/mine.html" %}')
    files["templates/partials/mine.html"] = '{% include "partials/deeper.html" %}'
    files["templates/partials/deeper.html"] = "{{ site.title }} {{ page.path }}"
    write_site(tmp_path, files)
    assert "includes partials/deeper.html, which reads 'page'" in problem(tmp_path)


def test_an_include_named_by_an_expression_is_a_syntax_error_at_its_line(tmp_path: Path) -> None:
    files = layout("\n\n{% include region.id ~ '.html' %}")
    write_site(tmp_path, files)
    message = problem(tmp_path)
    assert "templates/page.html:4" in message
    assert "may include only a template named by a literal string" in message


def test_a_module_imported_with_the_context_is_refused(tmp_path: Path) -> None:
    # Its macros can read the page: the part would show the first page's title on every page.
    files = {
        **PAGES,
        "templates/partials/titled.html": "{% macro title() %}{{ page.title }}{% endmacro %}",
        "templates/page.html": (
            '{% import "partials/titled.html" as titled with context %}'
            "{% shared %}<footer>{{ titled.title() }}</footer>{% endshared %}\n"
        ),
    }
    write_site(tmp_path, files)
    message = problem(tmp_path)
    assert "{% shared %} at page.html:1 reads 'titled'" in message
    assert "modules imported without the context" in message


def test_a_module_imported_without_the_context_may_be_used(tmp_path: Path) -> None:
    files = {
        **PAGES,
        "templates/partials/boxed.html": "{% macro box(text) %}[{{ text }}]{% endmacro %}",
        "templates/page.html": (
            '{% import "partials/boxed.html" as boxed %}{% from "partials/svg.html" import icon %}'
            "<main>{{ page.title }}</main>{% shared %}<footer>{{ boxed.box(region.label) }}</footer>{% endshared %}\n"
        ),
    }
    write_site(tmp_path, files)
    build_site(tmp_path)
    assert "<footer>[International]</footer>" in html(tmp_path, "intl/team/index.html")
