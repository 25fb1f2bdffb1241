"""The command-line conventions shared with Hugo, Zola and MkDocs: -q/-v everywhere, colour only on a
terminal (never with NO_COLOR), `sitegen new` for sites, pages and services, and ./dev's plain logs."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from sitegen.cli import main
from tests.support.sitefactory import write_site

REPO = Path(__file__).resolve().parents[2]
HOME = "---\ntitle: Home\n---\nHello {{ region.label }}.\n"
BROKEN = "---\ntitle: About\n---\nSee [x](/nowhere/).\n"


def commands(group: click.Group = main, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from commands(command, (*prefix, name))
        else:
            yield (*prefix, name)


def test_every_command_takes_quiet_and_verbose() -> None:
    runner = CliRunner()
    found = list(commands())
    assert ("build",) in found and ("rights", "erase") in found and ("diff",) in found
    for path in found:
        result = runner.invoke(main, [*path, "-q", "-v", "--quiet", "--verbose", "--help"])
        assert result.exit_code == 0, f"sitegen {' '.join(path)}: {result.output}"
        assert "-q, --quiet" in result.output and "-v, --verbose" in result.output


def test_quiet_and_verbose_change_what_build_check_and_new_print(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", {"content/index.md": HOME})
    runner = CliRunner()
    normal = runner.invoke(main, ["build", "--root", str(site)])
    quiet = runner.invoke(main, ["build", "--root", str(site), "-q"])
    verbose = runner.invoke(main, ["build", "--root", str(site), "-v"])
    assert normal.stdout.startswith("built ") and len(normal.stdout.splitlines()) == 1
    assert quiet.exit_code == 0 and quiet.stdout == ""
    assert verbose.stdout.startswith("built ") and len(verbose.stdout.splitlines()) > 1
    assert f"output: {site.resolve() / 'dist'}" in verbose.stdout.splitlines()

    check = runner.invoke(main, ["check", "--root", str(site), "-v"])
    assert check.stdout.splitlines() == [
        "ok: 2 pages in 2 regions, no problems",
        "  pk: 1 pages",
        "  intl: 1 pages",
    ]
    assert runner.invoke(main, ["check", "--root", str(site), "-q"]).stdout == ""

    # -q keeps the problems: they are what it exists to show.
    (site / "content/about.md").write_text(BROKEN)
    failed = runner.invoke(main, ["check", "--root", str(site), "-q"])
    assert failed.exit_code == 1 and "error: content/about.md:4: link to '/nowhere/'" in failed.stderr

    made = runner.invoke(main, ["new", str(tmp_path / "a"), "-v"])
    assert "  content/index.md" in made.stdout.splitlines() and made.stdout.splitlines()[-1].startswith(
        "created"
    )
    assert runner.invoke(main, ["new", str(tmp_path / "b"), "-q"]).stdout == ""


def run_on_terminal(args: list[str], env: dict[str, str]) -> bytes:
    """Run a command with stdout and stderr on a pseudo-terminal; everything it printed."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(args, stdout=slave, stderr=slave, stdin=subprocess.DEVNULL, cwd=REPO, env=env)
    os.close(slave)
    out = b""
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    proc.wait(30)
    os.close(master)
    return out


def test_colour_on_a_terminal_only_and_never_with_no_color(tmp_path: Path) -> None:
    site = write_site(tmp_path, {"content/index.md": HOME, "content/about.md": BROKEN})
    args = [sys.executable, "-m", "sitegen.cli", "check", "--root", str(site)]
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "CI")}
    coloured = run_on_terminal(args, env)
    assert b"\x1b[" in coloured and b"content/about.md:4" in coloured
    plain = run_on_terminal(args, {**env, "NO_COLOR": "1"})
    assert b"error: content/about.md:4" in plain and b"\x1b" not in plain
    piped = subprocess.run(args, capture_output=True, cwd=REPO, env=env)
    assert piped.returncode == 1 and b"error: content/about.md:4" in piped.stderr
    assert b"\x1b" not in piped.stderr + piped.stdout


def shown_lines(printed: bytes) -> list[str]:
    """The lines a terminal shows: a carriage return moves back to the start, what follows overwrites."""
    lines = []
    for raw in printed.decode().replace("\r\n", "\n").split("\n"):
        cells: list[str] = []
        at = 0
        for ch in raw:
            if ch == "\r":
                at = 0
                continue
            cells[at : at + 1] = [ch]
            at += 1
        lines.append("".join(cells).rstrip())
    return lines


def test_an_error_on_a_terminal_starts_its_own_line_after_the_progress(tmp_path: Path) -> None:
    typo = "---\ntitle: About\n---\n\n::: regoin local\nx\n:::\n"
    site = write_site(tmp_path, {"content/index.md": HOME, "content/about.md": typo})
    env = {k: v for k, v in os.environ.items() if k not in ("CI",)}
    printed = run_on_terminal(
        [sys.executable, "-m", "sitegen.cli", "build", "--root", str(site)], {**env, "NO_COLOR": "1"}
    )
    assert b"reading: " in printed  # the progress line was drawn
    errors = [line for line in shown_lines(printed) if "error:" in line]
    assert errors and all(line.startswith("error: content/about.md:5: ") for line in errors), errors


@pytest.mark.parametrize("command", [["diff"], ["build", "-v"]])
def test_a_reader_that_stops_early_ends_the_command_quietly_with_141(
    tmp_path: Path, command: list[str]
) -> None:
    """`sitegen diff | head -1`: the pipe's reading end is closed before anything is written."""
    site = write_site(tmp_path, {"content/index.md": HOME})
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "sitegen.cli", *command, "--root", str(site)],
            stdout=write_end,
            stderr=subprocess.PIPE,
            cwd=REPO,
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (141, b"")


def test_dev_script_logs_without_escape_codes_unless_on_a_terminal() -> None:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    piped = subprocess.run([str(REPO / "dev"), "no-such-command"], capture_output=True, env=env)
    assert piped.returncode == 2
    assert b"==> unknown command 'no-such-command'" in piped.stderr
    assert b"\x1b" not in piped.stderr + piped.stdout
    on_terminal = run_on_terminal([str(REPO / "dev"), "no-such-command"], env)
    assert b"\x1b[1m==> unknown command" in on_terminal


def test_new_site_has_a_gitignore_for_what_sitegen_writes(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["new", str(tmp_path / "site")])
    assert result.exit_code == 0, result.output
    ignored = (tmp_path / "site/.gitignore").read_text().split()
    for folder in ("dist/", ".sitegen-cache/", ".sitegen-local/", ".vercel-project/"):
        assert folder in ignored
    built = CliRunner().invoke(main, ["build", "-q", "--root", str(tmp_path / "site")])
    assert built.exit_code == 0
    made = {p.name for p in (tmp_path / "site").iterdir()} - {"content", "site.yaml", ".gitignore"}
    assert {f"{name}/" for name in made} <= set(ignored), "sitegen wrote a folder the .gitignore misses"


def test_new_page_and_service_from_templates_build_cleanly(tmp_path: Path) -> None:
    runner = CliRunner()
    site = tmp_path / "site"
    assert runner.invoke(main, ["new", str(site)]).exit_code == 0
    page = runner.invoke(main, ["new", "page", "about/our-team", "--root", str(site)])
    assert page.exit_code == 0, page.output
    assert page.stdout.startswith("created content/about/our-team.md")
    text = (site / "content/about/our-team.md").read_text()
    assert text.startswith("---\ntitle: Our team\ndescription: ") and "\ndraft: true\n---\n" in text
    service = runner.invoke(main, ["new", "service", "brand-kit", "--root", str(site)])
    assert service.exit_code == 0, service.output
    yaml_text = (site / "content/services/brand-kit.yaml").read_text()
    assert "\nid: brand-kit\nname: Brand kit\n" in yaml_text
    # The price lines name each region of this site with its own currency (regions are data).
    assert (
        "#   local: {amount: 1000, currency: USD" in yaml_text
        and "#   global: {amount: 1000, currency: EUR" in yaml_text
    )

    built = runner.invoke(main, ["build", "--strict", "--drafts", "--root", str(site)])
    assert built.exit_code == 0, built.output
    for rid in ("local", "global"):
        html = (site / f"dist/{rid}/about/our-team/index.html").read_text()
        assert "<h1>Our team</h1>" in html or "Our team" in html
        assert (site / f"dist/{rid}/services/brand-kit/index.html").is_file()
    local = (site / "dist/local/about/our-team/index.html").read_text()
    assert "shown only in the Local region" in local
    assert (
        "shown only in the Local region" not in (site / "dist/global/about/our-team/index.html").read_text()
    )
    # Without --drafts the new page stays out, and the build is still clean.
    assert runner.invoke(main, ["build", "--strict", "--root", str(site)]).exit_code == 0
    assert not (site / "dist/local/about/our-team").exists()

    again = runner.invoke(main, ["new", "page", "content/about/our-team.md", "--root", str(site)])
    assert again.exit_code == 1
    assert "error: content/about/our-team.md: already exists; nothing was changed" in again.stderr
    assert (site / "content/about/our-team.md").read_text() == text
    twice = runner.invoke(main, ["new", "service", "brand-kit", "--root", str(site)])
    assert twice.exit_code == 1 and (site / "content/services/brand-kit.yaml").read_text() == yaml_text

    bad = runner.invoke(main, ["new", "page", "About Us", "--root", str(site)])
    assert bad.exit_code == 1 and "e.g. 'about-us'" in bad.stderr
    bare = runner.invoke(main, ["new", "page"])
    assert bare.exit_code == 2 and "sitegen new ./page" in bare.stderr
    nowhere = runner.invoke(main, ["new", "service", "x", "--root", str(tmp_path / "none")])
    assert nowhere.exit_code == 1 and "no site.yaml here" in nowhere.stderr


def test_new_page_refuses_a_url_another_source_has(tmp_path: Path) -> None:
    """Each of these would stop the next build with "two sources for the URL": refused up front."""
    runner = CliRunner()
    site = tmp_path / "site"
    assert runner.invoke(main, ["new", str(site)]).exit_code == 0
    (site / "content/work/acme").mkdir()
    (site / "content/work/acme/index.md").write_text("---\ntitle: Acme\ndraft: true\n---\nA.\n")
    (site / "content/Our Team.md").write_text("---\ntitle: Team\n---\nT.\n")
    before = sorted(p for p in site.rglob("*") if p.is_file())
    taken = {
        "work/acme": "content/work/acme/index.md",  # a draft counts: serve and --drafts build it
        "/contact/": "content/contact/index.md",
        "services/web-development": "content/services/web-development.yaml",
        "our-team": "content/Our Team.md",
    }
    for path, owner in taken.items():
        made = runner.invoke(main, ["new", "page", path, "--root", str(site)])
        assert made.exit_code == 1, made.output
        url = "/" + path.strip("/") + "/"
        assert f"is already the page of {owner}; nothing was changed" in made.stderr
        assert f": its URL {url} " in made.stderr
    assert sorted(p for p in site.rglob("*") if p.is_file()) == before


def test_new_suggests_the_slug_of_the_documented_rule(tmp_path: Path) -> None:
    runner = CliRunner()
    site = tmp_path / "site"
    assert runner.invoke(main, ["new", str(site)]).exit_code == 0
    page = runner.invoke(main, ["new", "page", "blog/Café Déjà", "--root", str(site)])
    assert page.exit_code == 1 and "e.g. 'cafe-deja'" in page.stderr
    service = runner.invoke(main, ["new", "service", "Café Déjà", "--root", str(site)])
    assert service.exit_code == 1 and "e.g. 'cafe-deja'" in service.stderr
