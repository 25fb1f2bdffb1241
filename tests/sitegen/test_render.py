"""render: theme and site templates, and the sandbox for values inside content."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sitegen.errors import BuildFailed
from tests.support.sitefactory import build_site, html, write_site

SERVICE = "id: web\nname: Web\nsummary: Sites.\nprice:\n  pk: {amount: 80000}\n  intl: {amount: 900}\n"


def test_site_templates_override_theme_templates_by_name(tmp_path: Path) -> None:
    write_site(
        tmp_path,
        {
            "content/index.md": "---\ntitle: Home\n---\nx\n",
            "content/about.md": "---\ntitle: About\n---\nBody.\n",
            # Overrides the theme's page.html, still extends the theme's base.html.
            "templates/page.html": '{% extends "base.html" %}{% block content %}<div class="mine">{{ content | safe }}</div>{% endblock %}',
            "static/img/x.svg": "<svg/>",
        },
    )
    build_site(tmp_path)
    about = html(tmp_path, "pk/about/index.html")
    assert '<div class="mine"><p>Body.</p>\n</div>' in about
    assert '<nav class="region-switcher" aria-label="Region">' in about  # from the theme's base
    assert re.search(r'href="/assets/css/site\.[0-9a-f]{8}\.css"', about)


def test_content_values_services_and_prices(tmp_path: Path) -> None:
    write_site(
        tmp_path,
        {
            "content/index.md": """
                ---
                title: Home
                params: {greeting: Salam}
                ---
                {{ page.params.greeting }} from {{ site.contact.company }} ({{ region.id }}, {{ region.currency }}).
                {{ service("web").name }} costs {{ price("web") }}; we offer {{ services | length }} service.
                A <b>{{ "<i>escaped</i>" }}</b>.
            """,
            "content/services/web.yaml": SERVICE,
        },
    )
    build_site(tmp_path)
    assert "Salam from Tiny Co (pk, PKR).\nWeb costs Rs 80,000; we offer 1 service." in html(
        tmp_path, "pk/index.html"
    )
    intl = html(tmp_path, "intl/index.html")
    assert "Salam from Tiny Co (intl, USD).\nWeb costs $900; we offer 1 service." in intl
    assert "A <b>&lt;i&gt;escaped&lt;/i&gt;</b>." in intl


@pytest.mark.parametrize(
    ("expression", "what"),
    [
        ("{{ ''.__class__.__mro__ }}", "attribute '__class__' of 'str' object"),
        ("{{ site.__init__.__globals__ }}", "attribute '__init__' of 'SiteConfig' object"),
        ("{{ price.__globals__ }}", "attribute '__globals__' of 'function' object"),
    ],
)
def test_content_cannot_reach_python_internals(tmp_path: Path, expression: str, what: str) -> None:
    write_site(tmp_path, {"content/index.md": f"---\ntitle: Home\n---\n{expression}\n"})
    with pytest.raises(BuildFailed) as failed:
        build_site(tmp_path)
    assert [str(e) for e in failed.value.errors] == [
        f"content/index.md:4: not allowed in content in {expression}: access to {what} is unsafe; "
        "use only site, region, page and the catalog"
    ]


def test_loops_in_content_run_per_region(tmp_path: Path) -> None:
    write_site(
        tmp_path,
        {
            "content/index.md": """
                ---
                title: Home
                ---
                | Service | Price |
                | --- | --- |
                {% for s in services %}
                | {{ s.name }} | {{ s.price_text }} |
                {% endfor %}
            """,
            "content/services/web.yaml": SERVICE,
        },
    )
    build_site(tmp_path)
    assert "<td>Web</td>\n<td>Rs 80,000</td>" in html(tmp_path, "pk/index.html")
    assert "<td>Web</td>\n<td>$900</td>" in html(tmp_path, "intl/index.html")


def test_hidden_notes_and_an_unclosed_note(tmp_path: Path) -> None:
    write_site(
        tmp_path, {"content/index.md": "---\ntitle: Home\n---\nVisible {# a note for editors #}text.\n"}
    )
    build_site(tmp_path)
    assert "<p>Visible text.</p>" in html(tmp_path, "pk/index.html")
    (tmp_path / "content/index.md").write_text("---\ntitle: Home\n---\nIntro.\n\n## Team {#team}\n")
    build_site(tmp_path)
    assert '<h2 id="team">Team</h2>' in html(tmp_path, "pk/index.html")
    (tmp_path / "content/index.md").write_text("---\ntitle: Home\n---\nIntro.\n\nTeam {#team} here\n")
    with pytest.raises(BuildFailed) as failed:
        build_site(tmp_path)
    assert [str(e) for e in failed.value.errors] == [
        "content/index.md:6: template error: Missing end of comment tag"
        " ('{#' starts a hidden note that must end with '#}'; an id goes at the end of a '#' heading line)"
    ]


def test_layouts_read_dict_keys_but_a_dicts_methods_win(tmp_path: Path) -> None:
    # The theme environment looks keys of plain dicts up directly (render.ThemeEnvironment);
    # Jinja2's rule stays: an attribute of the dict (here the method `items`) wins over a key
    # of the same name, and a missing key is an undefined value the template may test.
    write_site(
        tmp_path,
        {
            "content/index.md": "---\ntitle: Home\n---\nx\n",
            "content/about.md": "---\ntitle: About\nitems: shadowed\nparams:\n  colour: teal\n---\nBody.\n",
            "templates/page.html": (
                '{% extends "base.html" %}{% block content %}'
                "<p id=t>{{ page.title }}|{{ page.params.colour }}|{{ page.items is callable }}"
                "|{{ page.params.missing | default('none') }}|{{ page.nothing is defined }}</p>"
                "{% endblock %}"
            ),
        },
    )
    build_site(tmp_path)
    assert "<p id=t>About|teal|True|none|False</p>" in html(tmp_path, "pk/about/index.html")
