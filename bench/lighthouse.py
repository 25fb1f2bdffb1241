"""Lighthouse scores of the production build: home, services and privacy pages of both regions.

Builds the production site into a temporary folder (or reuses one with ``--dist``), serves it on
127.0.0.1 the way the host does (``tests/support/static_site.py``: the generated rule files applied,
so the deployed CSP is in force; region 404 pages), and runs Lighthouse (the npm package that
``./dev test`` installs) with Debian's Chromium, with the desktop and the mobile preset (``--preset``
picks one), once or ``--runs N`` times per page and preset. Prints the median score of each category
per page and preset and, under the table, the audits that kept a category below 100; ``--json PATH``
writes everything.

Usage: .venv/bin/python bench/lighthouse.py [--runs N] [--json PATH] [--dist DIR] [--preset mobile]
                                            [--page /pk/ ...] [--category seo ...]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from starlette.middleware.gzip import GZipMiddleware

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.support.servers import serve  # noqa: E402
from tests.support.static_site import empty_script, site_app  # noqa: E402

LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
PAGES = (
    "/pk/",
    "/pk/services/",
    "/pk/legal/privacy/",
    "/intl/",
    "/intl/services/",
    "/intl/legal/privacy/",
)
# Lighthouse's own presets: "desktop" (--preset=desktop) and its default, a mid-range phone with
# simulated slow 4G and a 4x slower CPU ("mobile").
PRESETS = ("desktop", "mobile")
SHORT = {"performance": "perf", "accessibility": "a11y", "best-practices": "best", "seo": "seo"}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Lighthouse scores of the production build (median of --runs per page)."
    )
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs per page (default 3)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the results as JSON here")
    parser.add_argument(
        "--dist", type=Path, help="reuse this production build instead of building one (e.g. dist/)"
    )
    parser.add_argument(
        "--page",
        dest="pages",
        action="append",
        metavar="PATH",
        help=f"page path (repeatable; default {PAGES})",
    )
    parser.add_argument(
        "--category",
        dest="categories",
        action="append",
        choices=CATEGORIES,
        help="category (repeatable; default all four)",
    )
    parser.add_argument(
        "--preset",
        dest="presets",
        action="append",
        choices=PRESETS,
        help="Lighthouse preset (repeatable; default both)",
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    args.pages = args.pages or list(PAGES)
    args.categories = args.categories or list(CATEGORIES)
    args.presets = args.presets or list(PRESETS)
    return args


def build_production(out: Path) -> Path:
    """The host's build command (build.py: a production build) into ``out``."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "build.py"), "--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if result.returncode != 0:
        raise SystemExit(f"production build failed:\n{result.stdout}{result.stderr}")
    return out


@contextmanager
def served(dist: Path) -> Iterator[str]:
    # The production pages load Vercel's analytics scripts from /_vercel/insights/script.js and
    # /_vercel/speed-insights/script.js, which only Vercel's edge serves. Off Vercel they would 404
    # (a console error that costs best-practices points the deployed site does not lose), so an
    # empty script stands in for them here; the build itself stays exactly what is deployed.
    # Both hosts compress text responses; so does this server, so the transfer sizes match.
    app = GZipMiddleware(site_app(dist, {"/_vercel/": empty_script()}), minimum_size=500)
    with serve(app) as url:
        yield url.rstrip("/")


class LighthouseError(RuntimeError):
    pass


def run_lighthouse(
    url: str, categories: Sequence[str], preset: str = "desktop", attempts: int = 3
) -> dict[str, Any]:
    """One Lighthouse run with ``preset`` on ``url``; returns the JSON report (the LHR).

    Lighthouse now and then fails to record its trace ("Something went wrong with recording the
    trace ... Please run Lighthouse again", e.g. NO_NAVSTART on a freshly started Chromium); such a
    run is repeated, up to ``attempts`` times in all."""
    for attempt in range(1, attempts + 1):
        try:
            return _run_once(url, categories, preset)
        except LighthouseError as error:
            if attempt == attempts:
                raise
            print(f"  {url}: {str(error).splitlines()[-1]}; running it again", file=sys.stderr)
    raise AssertionError("unreachable")


def _run_once(url: str, categories: Sequence[str], preset: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="lighthouse-") as tmp:
        report = Path(tmp) / "report.json"
        command = [
            str(LIGHTHOUSE),
            url,
            f"--chrome-path={CHROMIUM}",
            "--chrome-flags=" + " ".join(["--headless=new", *CHROMIUM_ARGS]),
            *(["--preset=desktop"] if preset == "desktop" else []),  # mobile is Lighthouse's default
            f"--only-categories={','.join(categories)}",
            "--output=json",
            f"--output-path={report}",
            "--quiet",
        ]
        # Chrome's profile and Lighthouse's temporary files stay in the temporary folder.
        env = dict(os.environ, TMPDIR=tmp)
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
        if result.returncode != 0 or not report.exists():
            raise LighthouseError(
                f"lighthouse failed on {url} ({result.returncode}):\n{result.stderr[-2000:]}"
            )
        lhr: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
    if lhr.get("runtimeError"):
        raise LighthouseError(f"lighthouse could not load {url}: {lhr['runtimeError']}")
    return lhr


def scores(lhr: dict[str, Any]) -> dict[str, int | None]:
    """Category -> score 0..100 (None when Lighthouse could not score it)."""
    result: dict[str, int | None] = {}
    for name, category in lhr["categories"].items():
        score = category.get("score")
        result[name] = None if score is None else round(score * 100)
    return result


def shortfalls(lhr: dict[str, Any]) -> dict[str, list[str]]:
    """Category -> the weighted audits that did not pass ("id (score)"), i.e. what to fix."""
    audits = lhr["audits"]
    found: dict[str, list[str]] = {}
    for name, category in lhr["categories"].items():
        for ref in category["auditRefs"]:
            audit = audits[ref["id"]]
            score = audit.get("score")
            if ref.get("weight", 0) > 0 and score is not None and score < 1:
                found.setdefault(name, []).append(f"{ref['id']} ({score:g})")
    return found


def metrics(lhr: dict[str, Any]) -> dict[str, float | None]:
    """The run's paint and layout figures: FCP and LCP (ms), total blocking time (ms), CLS."""
    audits = lhr["audits"]
    names = {
        "fcp_ms": "first-contentful-paint",
        "lcp_ms": "largest-contentful-paint",
        "tbt_ms": "total-blocking-time",
        "cls": "cumulative-layout-shift",
    }
    return {key: audits.get(audit, {}).get("numericValue") for key, audit in names.items()}


def _median_figure(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def median(values: Sequence[int | None]) -> int | None:
    known = [v for v in values if v is not None]
    return round(statistics.median(known)) if known else None


def measure(
    base: str,
    pages: Sequence[str],
    categories: Sequence[str],
    runs: int,
    presets: Sequence[str] = ("desktop",),
) -> list[dict[str, Any]]:
    results = []
    for preset, path in ((preset, path) for preset in presets for path in pages):
        per_run = []
        figures: list[dict[str, float | None]] = []
        problems: dict[str, list[str]] = {}
        for _ in range(runs):
            lhr = run_lighthouse(base + path, categories, preset)
            per_run.append(scores(lhr))
            figures.append(metrics(lhr))
            for category, audits in shortfalls(lhr).items():
                for audit in audits:
                    if audit not in problems.setdefault(category, []):
                        problems[category].append(audit)
        results.append(
            {
                "page": path,
                "preset": preset,
                "metrics": {k: _median_figure([f[k] for f in figures]) for k in figures[0]},
                "scores": {c: median([run.get(c) for run in per_run]) for c in categories},
                "runs": per_run,
                "shortfalls": problems,
            }
        )
        print(f"  {path} ({preset}): {results[-1]['scores']}", file=sys.stderr)
    return results


def format_table(results: Sequence[dict[str, Any]], categories: Sequence[str]) -> str:
    """A plain-text table: one row per page (and preset), one column per category (median score)."""
    labels = [r["page"] + (f" {r['preset']}" if r.get("preset") else "") for r in results]
    width = max([len("page"), *(len(label) for label in labels)])
    header = "page".ljust(width) + "".join(f"  {SHORT.get(c, c):>5}" for c in categories)
    lines = [header, "-" * len(header)]
    for label, result in zip(labels, results, strict=True):
        cells = "".join(
            f"  {'—' if result['scores'].get(c) is None else result['scores'][c]:>5}" for c in categories
        )
        lines.append(label.ljust(width) + cells)
    notes = [
        f"{label} {category}: {', '.join(audits)}"
        for label, result in zip(labels, results, strict=True)
        for category, audits in result["shortfalls"].items()
    ]
    if notes:
        lines += ["", "below 100 because of:", *(f"  {note}" for note in notes)]
    return "\n".join(lines)


def lighthouse_version() -> str:
    result = subprocess.run([str(LIGHTHOUSE), "--version"], capture_output=True, text=True)
    return result.stdout.strip()


def chromium_version() -> str:
    result = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True)
    return result.stdout.strip()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not LIGHTHOUSE.exists():
        raise SystemExit(f"{LIGHTHOUSE} is missing: run `npm ci` (./dev test installs it)")
    with tempfile.TemporaryDirectory(prefix="sitegen-lighthouse-") as tmp:
        dist = args.dist or build_production(Path(tmp) / "dist")
        if not ((dist / "_headers").is_file() or (dist / "vercel.json").is_file()):
            raise SystemExit(f"{dist} is not a sitegen build (no _headers or vercel.json)")
        with served(dist) as base:
            print(f"Lighthouse on {base} ({args.runs} run(s) per page)", file=sys.stderr)
            results = measure(base, args.pages, args.categories, args.runs, args.presets)
    report = {
        "date": dt.date.today().isoformat(),
        "lighthouse": lighthouse_version(),
        "chromium": chromium_version(),
        "presets": args.presets,
        "runs": args.runs,
        "cores": os.cpu_count(),
        "machine": platform.machine(),
        "categories": args.categories,
        "pages": results,
    }
    print(format_table(results, args.categories))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
