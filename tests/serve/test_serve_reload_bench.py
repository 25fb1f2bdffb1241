"""bench/serve_reload.py works: a real `sitegen serve` on a small generated site, real Chromium, a few edits.

Checks that every edit was seen in the browser and that the report is complete and consistent,
never how fast anything was.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bench import serve_reload
from tests.support.chromium import CHROMIUM
from tests.support.hosts import require

pytestmark = pytest.mark.browser


def test_the_benchmark_times_page_template_and_other_page_edits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    require(Path(CHROMIUM).exists(), f"{CHROMIUM} is not installed")
    out = tmp_path / "report.json"
    report = serve_reload.main(["--n", "12", "--runs", "2", "--dir", str(tmp_path / "b"), "--json", str(out)])

    assert [e.kind for e in report.edits] == ["page", "page"]
    for edit in [*report.edits, report.template]:
        assert edit is not None and all(math.isfinite(v) for v in vars(edit).values() if isinstance(v, float))
        # The pieces of the breakdown follow each other on one clock.
        assert edit.event_ms <= edit.total_ms and edit.rebuild_ms <= edit.event_ms
        assert edit.navigate_ms >= 0 and edit.response_ms >= 0
    assert all(e.build.startswith("re-rendered 2 pages") for e in report.edits)  # the one-page path
    assert report.template is not None and report.template.build.startswith("built ")
    # A one-page rebuild reloads only the pages it changed.
    assert report.other_page_reloaded_open_page is False
    assert "content/pages/page-00002.md" in report.other_page_build
    assert report.start_build.startswith("built ")

    printed = capsys.readouterr().out
    assert "load average (1, 5, 15 min) before:" in printed and "write -> painted (FCP)" in printed
    saved = json.loads(out.read_text(encoding="utf-8"))
    assert len(saved["edits"]) == 2 and saved["template"]["kind"] == "template"
    assert not (tmp_path / "b" / "site-12").exists()  # the generated site is removed
