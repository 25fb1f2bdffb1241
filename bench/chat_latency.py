"""Median time-to-first-token: through the chat proxy vs straight to the fake provider.

Both servers run on loopback (uvicorn); the difference is what the proxy adds.
Usage: .venv/bin/python bench/chat_latency.py [--runs N] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edge.chat import create_app  # noqa: E402
from edge.settings import Settings  # noqa: E402
from tests.support.chatsite import IDS, chat_data, chat_site  # noqa: E402
from tests.support.fakeproviders import fake_providers  # noqa: E402
from tests.support.servers import serve  # noqa: E402

QUESTION = [{"role": "user", "content": "What do you charge for a website?"}]


def _first_token(client: httpx.Client, url: str, body: dict[str, object], marker: str) -> float:
    start = time.perf_counter()
    with client.stream("POST", url, json=body) as response:
        elapsed = None
        # Read to the end so runs do not overlap; note when the first token arrived.
        for line in response.iter_lines():
            if elapsed is None and line.startswith(marker):
                elapsed = time.perf_counter() - start
    if elapsed is None:
        raise RuntimeError(f"no token from {url}")
    return elapsed * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, fake_providers() as fake:
        env = {f"{p.upper()}_API_KEY": f"key-{p}" for p in IDS}
        env |= {f"SITEGEN_CHAT_{p.upper()}_BASE_URL": fake.url(p) for p in IDS}
        site = chat_site(rate_per_minute=1_000_000)
        settings = Settings(data_dir=chat_data(Path(tmp), site), local_dir=Path(tmp), site=site, env=env)
        with serve(create_app(settings)) as base, httpx.Client(timeout=10) as client:
            proxy_url = f"{base}/"
            direct_url = fake.url("groq") + "/chat/completions"
            direct_body: dict[str, object] = {
                "model": "m",
                "messages": QUESTION,
                "max_tokens": 64,
                "stream": True,
            }
            proxy_body: dict[str, object] = {"region": "pk", "messages": QUESTION}
            for _ in range(3):  # warm up connections and code paths
                _first_token(client, direct_url, direct_body, "data: {")
                _first_token(client, proxy_url, proxy_body, "event: token")
            direct, proxied = [], []
            for _ in range(args.runs):
                direct.append(_first_token(client, direct_url, direct_body, "data: {"))
                proxied.append(_first_token(client, proxy_url, proxy_body, "event: token"))
            fake.requests.clear()
    result = {
        "runs": args.runs,
        "direct_ttft_ms": round(statistics.median(direct), 2),
        "proxy_ttft_ms": round(statistics.median(proxied), 2),
    }
    result["added_ms"] = round(result["proxy_ttft_ms"] - result["direct_ttft_ms"], 2)
    if args.json:
        print(json.dumps(result))
        return
    print(f"{'path':<28}{'median TTFT (ms)':>18}")
    print(f"{'direct to fake provider':<28}{result['direct_ttft_ms']:>18}")
    print(f"{'through /api/chat proxy':<28}{result['proxy_ttft_ms']:>18}")
    print(f"{'added by the proxy':<28}{result['added_ms']:>18}   (runs: {args.runs})")


if __name__ == "__main__":
    main()
