"""Mistakes that used to end in a Python traceback: each is one clear line, exit status 1, dist/ untouched."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from sitegen.cli import main
from tests.support.sitefactory import write_site

HOME = "---\ntitle: Home\n---\nHello.\n"


def _template(name: str, text: str | bytes) -> Callable[[Path], None]:
    def make(root: Path) -> None:
        (root / "templates").mkdir(exist_ok=True)
        path = root / "templates" / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode())

    return make


def _service(data: bytes) -> Callable[[Path], None]:
    def make(root: Path) -> None:
        (root / "content/services").mkdir(exist_ok=True)
        (root / "content/services/web.yaml").write_bytes(data)

    return make


def _included_bad_filter(root: Path) -> None:
    _template("home.html", "{% include 'part.html' %}")(root)
    _template("part.html", "\n\n{{ content | nosuch }}")(root)


def _dangling_service(root: Path) -> None:
    (root / "content/services").mkdir()
    os.symlink("nope.yaml", root / "content/services/x.yaml")


UNDEFINED_HINT = "; check the spelling, or test it first: {% if name is defined %}"
CASES: dict[str, tuple[Callable[[Path], None], list[str]]] = {
    "site.yaml not UTF-8": (
        lambda root: (root / "site.yaml").write_bytes((root / "site.yaml").read_bytes() + b"# caf\xe9\n"),
        ["error: site.yaml:23: not UTF-8 text: save the file as UTF-8"],
    ),
    "service not UTF-8": (
        _service(b"id: web\nname: caf\xe9\n"),
        ["error: content/services/web.yaml:2: not UTF-8 text: save the file as UTF-8"],
    ),
    "page not UTF-8": (
        lambda root: (root / "content/a.md").write_bytes(b"---\ntitle: A\n---\ncaf\xe9\n"),
        ["error: content/a.md:4: not UTF-8 text: save the file as UTF-8"],
    ),
    "template not UTF-8": (
        _template("home.html", b"<p>\ncaf\xe9 {{ content }}"),
        ["error: templates/home.html:2: not UTF-8 text: save the file as UTF-8"],
    ),
    "unknown filter in a template": (
        _template("home.html", "<p>\n{{ content | nosuch }}"),
        ["error: templates/home.html:2: template syntax error: No filter named 'nosuch'; fix the template"],
    ),
    "unknown filter in an included template": (
        _included_bad_filter,
        ["error: templates/part.html:3: template syntax error: No filter named 'nosuch'; fix the template"],
    ),
    "unknown test in a template": (
        _template("home.html", "{% if content is nosuch %}x{% endif %}"),
        ["error: templates/home.html:1: while rendering content/index.md: No test named 'nosuch' found."],
    ),
    "template syntax error": (
        _template("home.html", "line1\n{% if %}\n"),
        [
            "error: templates/home.html:2: template syntax error: Expected an expression, "
            "got 'end of statement block'; fix the template"
        ],
    ),
    "undefined name in a template": (
        _template("home.html", "line1\n{{ nosuch }}\n"),
        [
            "error: templates/home.html:2: while rendering content/index.md: 'nosuch' is undefined"
            + UNDEFINED_HINT
        ],
    ),
    "loop over an undefined value in a template": (
        _template("home.html", "line1\n{% for x in page.nosuch %}{{ x }}{% endfor %}\n"),
        [
            "error: templates/home.html:2: while rendering content/index.md: 'dict object' has no attribute "
            "'nosuch'" + UNDEFINED_HINT
        ],
    ),
    "dangling link": (
        lambda root: os.symlink("missing.md", root / "content/gone.md"),
        [
            "error: content/gone.md: cannot read the file (No such file or directory); "
            "if it is a link, point it at an existing file"
        ],
    ),
    "link to itself": (
        lambda root: os.symlink("self.md", root / "content/self.md"),
        [
            "error: content/self.md: cannot read the file (Too many levels of symbolic links); "
            "if it is a link, point it at an existing file"
        ],
    ),
    "dangling service link": (
        _dangling_service,
        [
            "error: content/services/x.yaml: cannot read the file (No such file or directory); "
            "if it is a link, point it at an existing file"
        ],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_one_line_per_mistake_and_dist_untouched(tmp_path: Path, name: str) -> None:
    make, expected = CASES[name]
    write_site(tmp_path, {"content/index.md": HOME})
    assert CliRunner().invoke(main, ["build", "--root", str(tmp_path)]).exit_code == 0
    before = {p: p.read_bytes() for p in (tmp_path / "dist").rglob("*") if p.is_file()}
    make(tmp_path)
    result = CliRunner().invoke(main, ["build", "--root", str(tmp_path)])
    assert result.exit_code == 1, result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    assert [line for line in result.stderr.splitlines() if line.startswith("error:")] == expected
    assert {p: p.read_bytes() for p in (tmp_path / "dist").rglob("*") if p.is_file()} == before


def test_a_folder_link_loop_is_not_followed(tmp_path: Path) -> None:
    write_site(tmp_path, {"content/index.md": HOME, "content/sub/a.md": "---\ntitle: A\n---\nx\n"})
    os.symlink("..", tmp_path / "content/sub/loop")
    result = CliRunner().invoke(main, ["build", "--root", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "dist/pk/sub/a/index.html").is_file()


def test_bad_country_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["serve", "--country", "PAK"])
    assert result.exit_code == 2
    assert (
        "Invalid value for '--country': 'PAK' is not a two-letter country code such as PK or US"
        in result.output
    )


@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["build"], ["check"]])
def test_outside_a_site_folder_exits_1_with_the_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: site.yaml: no site.yaml here: run sitegen in a site folder, or create one with `sitegen new DIR`"
    ]
