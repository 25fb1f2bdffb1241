"""The chat's test site: site.json built by the real build, the edge data beside it, and a
reader of the chat's event stream.

The site has the four providers of 7Experts (groq, cerebras, openrouter and gemini, each
pointed at the loopback fakes by a test's environment) and a catalog with prices in both
regions; tests choose limits and providers through the site.yaml a build reads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from sitegen.chunks import chunks_file, service_chunks
from tests.support.edgesite import EDGE_SITE_FILES, built_edge
from tests.support.fakeproviders import FakeProviders
from tests.support.sitefactory import REGIONS_YAML

IDS = ["groq", "cerebras", "openrouter", "gemini"]
SYSTEM = "You are ExpertBot for 7Experts Pakistan."


def provider_env(fake: FakeProviders) -> dict[str, str]:
    """The four providers' keys and fake URLs, with the fakes reset to answer normally again."""
    fake.modes.clear()
    fake.answers.clear()
    fake.requests.clear()
    env = {f"{p.upper()}_API_KEY": f"key-{p}" for p in IDS}
    return env | {f"SITEGEN_CHAT_{p.upper()}_BASE_URL": fake.url(p) for p in IDS}


_SITE_YAML = (
    """\
title: 7Experts
base_url: https://7expertspk.com
contact:
  company: 7Experts
  email: hello@example.com
  phone: "+92 300 0000000"
"""
    + REGIONS_YAML
)

_FILES = {
    **{k: v for k, v in EDGE_SITE_FILES.items() if not k.startswith("content/services/")},
    "content/services/web-development.yaml": (
        "name: Web Development\norder: 1\nregions: [pk, intl]\n"
        "price:\n  pk: {amount: 80000, currency: PKR, unit: project, from: true}\n"
        "  intl: {amount: 900, currency: USD, unit: project, from: true}\n"
    ),
    "content/services/branding.yaml": (
        "name: Branding\norder: 2\nregions: [pk]\n"
        "price:\n  pk: {amount: 45000, currency: PKR, unit: project, from: true}\n"
    ),
    "content/services/ecommerce.yaml": (
        "name: Ecommerce\norder: 3\nregions: [intl]\n"
        "price:\n  intl: {amount: 1500, currency: USD, unit: project, from: true}\n"
    ),
}


def chat_site_yaml(providers: list[str] | None = None, timeout: float = 0.5, **limits: int) -> str:
    """site.yaml with the chat on: ``providers`` (default all four, in failover order), each
    waiting ``timeout`` seconds for a first token; ``limits`` beside small test defaults."""
    limits = {
        "max_messages": 4,
        "max_message_chars": 200,
        "max_total_chars": 500,
        "rate_per_minute": 1000,
        "max_concurrent": 16,
        **limits,
    }
    chosen = IDS if providers is None else providers
    lines = [
        "chat:",
        "  enabled: true",
        "  bot_name: ExpertBot",
        "  vocabulary: {web: [website], price: [kitne paise]}",
        "  providers:" + ("" if chosen else " []"),
    ]
    for pid in chosen:
        api = "gemini" if pid == "gemini" else "openai"
        lines += [
            f"    - {{id: {pid}, name: {pid}, api: {api}, base_url: 'https://invalid.example',",
            f"       model: model-{pid}, api_key_env: {pid.upper()}_API_KEY, timeout: {timeout}, max_tokens: 64}}",
        ]
    lines += ["  limits:", *(f"    {k}: {v}" for k, v in limits.items())]
    return _SITE_YAML + "\n".join(lines) + "\n"


def chat_site(providers: list[str] | None = None, timeout: float = 0.5, **limits: int) -> dict[str, Any]:
    """site.json as the build writes it for :func:`chat_site_yaml`."""
    return built_edge(chat_site_yaml(providers, timeout, **limits), _FILES)


def chat_data(tmp: Path, site: dict[str, Any] | None = None) -> Path:
    """``tmp`` made the chat's edge data: ``site`` (default :func:`chat_site`), the system
    prompts, two pages of search text and the chunks the build makes of them."""
    site = site or chat_site()
    (tmp / "chat").mkdir()
    (tmp / "search").mkdir()
    (tmp / "site.json").write_text(json.dumps(site))
    (tmp / "chat" / "pk.prompt.txt").write_text(SYSTEM)
    (tmp / "chat" / "intl.prompt.txt").write_text("You are ExpertBot (international).")
    pages = {
        "pk": [
            {
                "url": "/pk/about/",
                "title": "About us",
                "text": "A Karachi agency building websites since 2015.",
            },
            {"url": "/pk/services/web-development/", "title": "Web Development", "text": "Fast websites."},
        ],
        "intl": [],
    }
    for region, info in site["regions"].items():
        (tmp / "search" / f"{region}.json").write_text(json.dumps(pages[region]))
        # The chat's chunks, made by the build's own functions from the pages and services above.
        (tmp / "chat" / f"{region}.chunks.json").write_text(
            chunks_file(pages[region], service_chunks(info["services"]))
        )
    return tmp


def ask(url: str, text: str = "Hi", region: str = "pk") -> tuple[list[tuple[str, Any]], int]:
    """Events of one streamed reply and the number of body chunks they arrived in."""
    events: list[tuple[str, Any]] = []
    chunks = 0
    body = {"region": region, "messages": [{"role": "user", "content": text}]}
    with httpx.stream(
        "POST", url, json=body, timeout=10, headers={"user-agent": "Visitor/1.0", "cookie": "sid=secret"}
    ) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        buf = ""
        for piece in r.iter_text():
            chunks += 1
            buf += piece
        for block in buf.strip().split("\n\n"):
            lines = dict(line.split(": ", 1) for line in block.splitlines())
            events.append((lines["event"], json.loads(lines["data"])))
    return events, chunks


def text_of(events: list[tuple[str, Any]]) -> str:
    return "".join(d["t"] for e, d in events if e == "token")


def provider_of(events: list[tuple[str, Any]]) -> str:
    return next(str(d["provider"]) for e, d in events if e == "meta")
