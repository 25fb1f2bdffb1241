"""Progress display: counts per stage and region on a terminal, nothing elsewhere."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from sitegen.cli import main
from sitegen.progress import TerminalProgress
from tests.support.sitefactory import write_site


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_progress_counts_per_region_and_clears_its_line() -> None:
    stream = Tty()
    progress = TerminalProgress(stream, interval=0)
    progress.stage("rendering", 4)
    progress.advance(3, "pk")
    progress.advance(1, "intl")
    assert progress.line() == "  rendering: 4/4  pk 3  intl 1"
    progress.done()
    text = stream.getvalue()
    assert "\r  rendering: 3/4  pk 3" in text
    assert text.endswith("\r")  # the summary line is printed on a clean line


def test_only_on_a_terminal_and_never_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    assert TerminalProgress.wanted(Tty())
    assert not TerminalProgress.wanted(io.StringIO())
    monkeypatch.setenv("CI", "true")
    assert not TerminalProgress.wanted(Tty())


def test_cli_summary_has_pages_per_region_time_and_cache(tmp_path: Path) -> None:
    root = write_site(tmp_path, {"content/index.md": "---\ntitle: Home\n---\nHi.\n"})
    runner = CliRunner()
    first = runner.invoke(main, ["build", "--root", str(root)])
    assert first.exit_code == 0, first.output
    assert first.output.startswith("built 2 pages (pk 1, intl 1) in ")
    assert "cache: 0 of 2 pages unchanged" in first.output
    again = runner.invoke(main, ["build", "--root", str(root)])
    assert "0 files written" in again.output and "cache: 2 of 2 pages unchanged" in again.output
    plain = runner.invoke(main, ["build", "--root", str(root), "--no-cache", "--out", str(tmp_path / "x")])
    assert "cache:" not in plain.output
