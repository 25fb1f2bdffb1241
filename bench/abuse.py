"""The abuse suite's mixed run as a benchmark: figures for docs/quality.md.

Starts the real edge app on loopback (as ``python -m edge`` serves it, against
the loopback Supabase fake of tests/support/abuse.py) and sends a bounded
mixed run of hostile and ordinary requests; prints requests, 5xx that were not
a designed 503, limit bypasses and the p99 latency of /api/health.
Usage: .venv/bin/python bench/abuse.py [--requests N] [--concurrency N] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.abuse import edge_under_test, mixed_run  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, edge_under_test(Path(tmp)) as edge:
        edge.supabase.jwks_release.set()
        figures = asyncio.run(mixed_run(edge, total=args.requests, concurrency=args.concurrency))
    if args.json:
        data = dataclasses.asdict(figures)
        data["health_p99_ms"] = figures.health_p99_ms
        del data["health_ms"]
        print(json.dumps(data, indent=2))
    else:
        print(figures.line())
        print(f"statuses: {dict(sorted(figures.statuses.items()))}")
    return 1 if figures.server_errors or figures.bypasses else 0


if __name__ == "__main__":
    raise SystemExit(main())
