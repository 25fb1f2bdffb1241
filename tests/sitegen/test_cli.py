"""The command line, through click's CliRunner and (for build.py) a real process."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from sitegen import __version__
from sitegen.cli import main
from sitegen.config import schema_markdown
from tests.support.sitefactory import run_build_py, write_site

REPO = Path(__file__).resolve().parents[2]
HOME = "---\ntitle: Home\n---\nHello {{ region.label }}.\n"


def test_version_and_help() -> None:
    runner = CliRunner()
    version = runner.invoke(main, ["--version"])
    assert version.exit_code == 0 and version.output.strip() == f"sitegen, version {__version__}"
    helped = runner.invoke(main, ["--help"])
    assert helped.exit_code == 0
    for command in ("build", "check", "new", "serve", "config-docs"):
        assert command in helped.output
    build_help = runner.invoke(main, ["build", "-h"])
    for option in ("--region", "--out", "--drafts", "--strict", "--dev"):
        assert option in build_help.output


def test_new_site_builds_with_no_edits(tmp_path: Path) -> None:
    runner = CliRunner()
    target = tmp_path / "mysite"
    created = runner.invoke(main, ["new", str(target)])
    assert created.exit_code == 0, created.output
    built = runner.invoke(main, ["build", "--strict", "--root", str(target)])
    assert built.exit_code == 0, built.output
    assert built.output.startswith("built ")
    site = json.loads((target / "dist/_edge/site.json").read_text(encoding="utf-8"))
    assert len(site["regions"]) == 2
    for rid, region in site["regions"].items():
        assert (target / "dist" / rid / "index.html").is_file()
        assert region["services"], f"the scaffold offers a service in {rid}"
    # A second `new` into the same folder refuses instead of overwriting an editor's work.
    again = runner.invoke(main, ["new", str(target)])
    assert again.exit_code == 1
    assert f"error: {target}: folder is not empty: pick a new folder name" in again.stderr


def test_check_writes_nothing_and_reports_problems(tmp_path: Path) -> None:
    write_site(tmp_path, {"content/index.md": HOME})
    runner = CliRunner()
    ok = runner.invoke(main, ["check", "--root", str(tmp_path)])
    assert ok.exit_code == 0, ok.output
    assert ok.output.strip() == "ok: 2 pages in 2 regions, no problems"
    assert not (tmp_path / "dist").exists()
    (tmp_path / "content/about.md").write_text("---\ntitle: About\n---\nSee [x](/nowhere/).\n")
    bad = runner.invoke(main, ["check", "--root", str(tmp_path)])
    assert bad.exit_code == 1
    errors = [line for line in bad.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: content/about.md:4: link to '/nowhere/': no page has the URL /nowhere/; check the path"
    ]
    assert "Traceback" not in bad.output and not (tmp_path / "dist").exists()


def test_build_dev_out_and_region(tmp_path: Path) -> None:
    write_site(tmp_path, {"content/index.md": HOME})
    out = tmp_path / "public"
    result = CliRunner().invoke(
        main, ["build", "--root", str(tmp_path), "--out", str(out), "--dev", "--region", "pk"]
    )
    assert result.exit_code == 0, result.output
    assert "Hello Pakistan." in (out / "pk/index.html").read_text(encoding="utf-8")
    assert not (out / "intl").exists()
    assert json.loads((out / "_edge/site.json").read_text(encoding="utf-8"))["production"] is False
    # A development build must not be indexed.
    assert "Disallow: /" in (out / "robots.txt").read_text(encoding="utf-8").splitlines()


def test_unknown_region_is_a_usage_error(tmp_path: Path) -> None:
    write_site(tmp_path, {"content/index.md": HOME})
    result = CliRunner().invoke(main, ["build", "--root", str(tmp_path), "--region", "mars"])
    assert result.exit_code == 1
    assert (
        result.stderr.splitlines()[0]
        == "error: site.yaml: --region mars: no such region in site.yaml (known: pk, intl)"
    )
    assert "Traceback" not in result.output
    assert not (tmp_path / "dist").exists()


def test_config_docs_prints_the_schema_reference() -> None:
    result = CliRunner().invoke(main, ["config-docs"])
    assert result.exit_code == 0
    assert result.output == schema_markdown()


def test_build_py_runs_from_a_plain_checkout(tmp_path: Path) -> None:
    """build.py works without installing sitegen: copied next to a site and the package."""
    checkout, proc = run_build_py(tmp_path, {"content/index.md": HOME}, ["-q"])
    assert proc.returncode == 0, proc.stderr
    assert (checkout / "dist/pk/index.html").is_file() and (checkout / "dist/intl/index.html").is_file()
