"""Template dependencies: closures over include/extends/import, catalog use, and the uncertain cases."""

from __future__ import annotations

from pathlib import Path

import jinja2

from sitegen.deps import TemplateDeps


def deps_for(tmp_path: Path, files: dict[str, str]) -> TemplateDeps:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(tmp_path)))
    return TemplateDeps.scan(env, [tmp_path])


FILES = {
    "base.html": "<body>{% include 'partials/nav.html' %}{% block main %}{% endblock %}</body>",
    "partials/nav.html": "{% for item in menus.main %}{{ item.title }}{% endfor %}",
    "page.html": "{% extends 'base.html' %}{% block main %}{{ content }}{% endblock %}",
    "services.html": "{% extends 'base.html' %}{% block main %}{% for s in services %}{{ s.name }}{% endfor %}{% endblock %}",
    "macros.html": "{% macro price_of(x) %}{{ price(x) }}{% endmacro %}",
    "pricing.html": "{% import 'macros.html' as m with context %}{{ m.price_of('web') }}",
    "lonely.html": "just text",
}


def test_closure_covers_extends_and_includes(tmp_path: Path) -> None:
    deps = deps_for(tmp_path, dict(FILES))
    page_hash, page_catalog = deps.closure("page.html")
    assert not page_catalog
    # Changing an included partial changes the hash of every template that reaches it.
    changed = deps_for(tmp_path / "b", {**FILES, "partials/nav.html": "<nav></nav>"})
    assert changed.closure("page.html")[0] != page_hash
    assert changed.closure("lonely.html")[0] == deps.closure("lonely.html")[0]


def test_catalog_use_is_found_through_blocks_and_imported_macros(tmp_path: Path) -> None:
    deps = deps_for(tmp_path, dict(FILES))
    assert deps.closure("services.html")[1]
    assert deps.closure("pricing.html")[1]
    assert not deps.closure("lonely.html")[1]


def test_a_name_known_only_at_render_time_depends_on_everything(tmp_path: Path) -> None:
    files = {**FILES, "dynamic.html": "{% include page.partial %}"}
    deps = deps_for(tmp_path, files)
    everything, catalog = deps.closure("dynamic.html")
    assert catalog  # uncertain: assume it reads the catalog too
    changed = deps_for(tmp_path / "b", {**files, "lonely.html": "other text"})
    assert changed.closure("dynamic.html")[0] != everything


def test_a_template_that_does_not_parse_is_uncertain(tmp_path: Path) -> None:
    deps = deps_for(tmp_path, {**FILES, "broken.html": "{% if %}"})
    assert deps.infos["broken.html"].refs is None
    assert deps.closure("broken.html")[1]
