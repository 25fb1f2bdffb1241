"""bench/lighthouse.py works: its options and table, and one real Lighthouse run on one page and category.

The real run proves the wiring (build served with its _headers, Lighthouse driving Debian's Chromium,
report parsed); it checks the shape of the output, never the score.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.support.chromium import CHROMIUM

pytestmark = pytest.mark.browser

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "lighthouse.py"


@pytest.fixture(scope="module")
def lighthouse() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_lighthouse", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_defaults_are_the_six_pages_and_four_categories(lighthouse: ModuleType) -> None:
    args = lighthouse.parse_args([])
    assert args.pages == [
        "/pk/",
        "/pk/services/",
        "/pk/legal/privacy/",
        "/intl/",
        "/intl/services/",
        "/intl/legal/privacy/",
    ]
    assert args.categories == ["performance", "accessibility", "best-practices", "seo"]
    assert args.runs == 3 and args.json is None and args.dist is None
    assert args.presets == ["desktop", "mobile"]
    args = lighthouse.parse_args(
        ["--page", "/pk/", "--category", "seo", "--runs", "5", "--json", "out.json", "--preset", "mobile"]
    )
    assert (args.pages, args.categories, args.runs, args.json, args.presets) == (
        ["/pk/"],
        ["seo"],
        5,
        Path("out.json"),
        ["mobile"],
    )
    with pytest.raises(SystemExit):
        lighthouse.parse_args(["--preset", "tablet"])
    with pytest.raises(SystemExit):
        lighthouse.parse_args(["--category", "pwa"])  # gone from Lighthouse 12
    with pytest.raises(SystemExit):
        lighthouse.parse_args(["--runs", "0"])


def test_median_and_table(lighthouse: ModuleType) -> None:
    assert lighthouse.median([100, 97, 99]) == 99
    assert lighthouse.median([None, 90]) == 90
    assert lighthouse.median([None]) is None
    results = [
        {
            "page": "/pk/",
            "preset": "mobile",
            "scores": {"performance": 99, "seo": 100},
            "shortfalls": {"performance": ["lcp (0.9)"]},
        },
        {"page": "/intl/legal/privacy/", "scores": {"performance": None, "seo": 100}, "shortfalls": {}},
    ]
    assert lighthouse.format_table(results, ["performance", "seo"]).splitlines() == [
        "page                   perf    seo",
        "----------------------------------",
        "/pk/ mobile              99    100",
        "/intl/legal/privacy/      —    100",
        "",
        "below 100 because of:",
        "  /pk/ mobile performance: lcp (0.9)",
    ]


def test_one_real_run(
    lighthouse: ModuleType, built_site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A skip here fails under CI=true (tests/conftest.py).
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    if not lighthouse.LIGHTHOUSE.exists():
        pytest.skip("lighthouse is not installed (npm tools come with ./dev test)")
    out = tmp_path / "scores.json"
    # The development build is enough for accessibility (it differs in robots.txt and analytics only).
    argv = ["--dist", str(built_site), "--page", "/pk/", "--category", "accessibility", "--runs", "1"]
    argv += ["--preset", "mobile"]
    assert lighthouse.main([*argv, "--json", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert (
        report["runs"] == 1 and report["presets"] == ["mobile"] and report["categories"] == ["accessibility"]
    )
    assert report["lighthouse"] == "12.8.2"
    [page] = report["pages"]
    assert page["page"] == "/pk/" and page["preset"] == "mobile"
    assert set(page["scores"]) == {"accessibility"}
    assert isinstance(page["scores"]["accessibility"], int) and 0 <= page["scores"]["accessibility"] <= 100
    assert len(page["runs"]) == 1 and isinstance(page["shortfalls"], dict)
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["page", "a11y"] and table[2].split()[:2] == ["/pk/", "mobile"]
