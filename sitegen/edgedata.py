"""``dist/_edge/``: everything the edge handlers read (they never import sitegen).

site.json carries regions, contact details, catalogs with formatted prices,
retention periods and handler settings; ``chat/<region>.prompt.txt`` is the
chatbot's system prompt for the region; ``search/<region>.json`` holds the
plain text of every page, by section; ``chat/<region>.chunks.json`` the chunks
the chat ranks (sitegen/chunks.py). See docs/architecture.md.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from pathlib import Path
from typing import Any

from sitegen import __version__
from sitegen.chunks import chunks_json, service_chunks
from sitegen.config import SiteConfig
from sitegen.output import Output

# Files per region in _edge/search/: an edit rewrites one (1/16 of the region's text).
SEARCH_SHARDS = 16


def plain(value: Any) -> Any:
    """A dataclass tree as JSON-ready data (internal fields left out)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if not f.metadata.get("internal")
        }
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def site_json(
    config: SiteConfig,
    production: bool,
    services: dict[str, list[dict[str, Any]]],
    urls: dict[str, dict[str, str]],
) -> dict[str, Any]:
    regions = {}
    for rid, region in config.regions.items():
        regions[rid] = {
            "label": region.label,
            "hreflang": region.hreflang,
            "locale": region.locale,
            "currency": region.currency,
            "countries": list(region.countries),
            "default": region.default,
            "params": plain(region.params),
            "urls": urls.get(rid, {}),
            "services": [_edge_service(s) for s in services.get(rid, [])],
        }
    return {
        "version": 1,
        "generator": f"sitegen {__version__}",
        "production": production,
        "title": config.title,
        "base_url": config.base_url,
        "contact": plain(config.contact),
        "default_region": config.default_region.id,
        "regions": regions,
        "retention": plain(config.privacy.retention),
        "edge": plain(config.edge),
        "contact_form": plain(config.contact_form),
        "chat": plain(config.chat),
        "portal": plain(config.portal),
    }


def system_prompt(
    config: SiteConfig,
    rid: str,
    services: list[dict[str, Any]],
    urls: dict[str, dict[str, str]] | None = None,
) -> str:
    """The region's prompt: who the bot is, the region's catalog with URLs, contact, hours, retention.

    ``urls`` (the known pages of every region) adds where to send the visitor; the chat then
    appends the site's sections ranked for each question (edge/grounding.py).
    """
    region = config.regions[rid]
    contact = config.contact
    urls = urls or {}
    here = urls.get(rid, {})
    lines = [
        f"You are {config.chat.bot_name}, the assistant on the website of {config.title}"
        f"{' (' + config.tagline + ')' if config.tagline else ''}.",
        f"The visitor is browsing the {region.label} site; quote prices in {region.currency} exactly as listed below.",
        "Answer briefly and only about the agency, its services, prices and how to get in touch.",
        "Never invent services or prices that are not listed. If unsure, suggest the contact form.",
        "Do not ask for sensitive personal information.",
        "",
        "Services offered in this region:",
    ]
    for s in services:
        lines.append(f"- {s['name']}, {s['price_text']} ({s['url']}): {s['summary']}")
    others = [
        f"{r.label} ({urls[o]['home']})"
        for o, r in config.regions.items()
        if o != rid and urls.get(o, {}).get("home")
    ]
    if others:
        lines.append(f"Other regional sites, with their own services and prices: {', '.join(others)}.")
    lines += ["", "Contact:"]
    if here.get("contact"):
        lines.append(f"- Contact form ({here['contact']})")
    if contact.email:
        lines.append(f"- Email: {contact.email}")
    phone = region.params.get("phone") or contact.phone
    if phone:
        lines.append(f"- Phone: {phone}")
    if region.params.get("whatsapp"):
        lines.append(f"- WhatsApp: https://wa.me/{region.params['whatsapp']}")
    if region.params.get("hours"):
        lines.append(f"- Hours: {region.params['hours']}")
    if contact.address:
        lines.append(f"- Address: {contact.address}")
    retention = config.privacy.retention
    privacy = f" ({here['privacy']})" if here.get("privacy") else ""
    lines += [
        "",
        f"Privacy policy{privacy}: contact form inquiries are kept for up to {retention.inquiries_months} months; "
        f"client portal data for the project plus {retention.portal_months_after_close} months after it closes.",
    ]
    return "\n".join(lines) + "\n"


def write_edge_data(
    output: Output,
    config: SiteConfig,
    production: bool,
    services: dict[str, list[dict[str, Any]]],
    urls: dict[str, dict[str, str]],
    search: dict[str, list[tuple[str, bytes, bytes]]],
    kept: dict[str, str] | None = None,
) -> None:
    """``search`` holds, per region, each page's URL, entry and chat chunks, the last two already
    serialised (made where the page rendered), so nothing here parses or serialises the pages' text.

    ``kept``: search shard files (``_edge/search/...`` -> digest) the last build wrote that this one
    would write unchanged: they are left as they are (``output.kept``), and their pages' entries
    may be empty here (not loaded).
    """
    data = site_json(config, production, services, urls)
    output.add("_edge/site.json", json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n")
    for rid in config.region_ids:
        output.add(f"_edge/chat/{rid}.prompt.txt", system_prompt(config, rid, services.get(rid, []), urls))
        # Joined as json.dumps joins list items, so the file reads as one JSON array.
        entries = search.get(rid, [])
        write_search(output, rid, entries, kept or {})
        chunks = chunks_json([part for _, _, part in entries], service_chunks(services.get(rid, [])))
        output.add(f"_edge/chat/{rid}.chunks.json", chunks)


@functools.cache
def search_shard_number(url: str) -> int:
    """The number of the search shard holding the page at ``url`` (a hash of the URL; remembered,
    as a build asks for every page's twice)."""
    return int.from_bytes(hashlib.blake2b(url.encode("utf-8"), digest_size=2).digest(), "big") % SEARCH_SHARDS


def search_shard(rid: str, url: str) -> str:
    """The file of ``_edge/search/`` holding the entry of the page at ``url``: chosen by a hash of the
    URL, so an edited page rewrites one shard and a new or removed page only its own."""
    return f"{rid}/{search_shard_number(url):02d}.json"


def write_search(
    output: Output, rid: str, entries: list[tuple[str, bytes, bytes]], kept: dict[str, str] | None = None
) -> None:
    """``_edge/search/<region>/NN.json``: each a JSON array of entries (in page order), every shard
    written even when empty; ``_edge/search/<region>.json`` lists them. Shards in ``kept``
    (file -> digest) are left as the last build wrote them."""
    kept = kept or {}
    names = [f"{rid}/{n:02d}.json" for n in range(SEARCH_SHARDS)]
    shards: dict[str, list[bytes]] = {name: [] for name in names}
    for url, entry, _ in entries:
        shards[search_shard(rid, url)].append(entry)
    for name, items in shards.items():
        rel = f"_edge/search/{name}"
        if rel in kept:
            output.kept[rel] = kept[rel]
            continue
        # Joined as json.dumps joins list items, so each file reads as one JSON array.
        output.add(rel, b"[" + b", ".join(items) + b"]\n")
    output.add(f"_edge/search/{rid}.json", json.dumps({"version": 1, "shards": names}) + "\n")


def read_search(edge: Path, rid: str) -> list[dict[str, Any]]:
    """Every search entry of a region, shard by shard (what a client of ``_edge/search/`` does)."""
    index = json.loads((edge / "search" / f"{rid}.json").read_text(encoding="utf-8"))
    entries: list[dict[str, Any]] = []
    for name in index["shards"]:
        entries.extend(json.loads((edge / "search" / name).read_text(encoding="utf-8")))
    return entries


def _edge_service(view: dict[str, Any]) -> dict[str, Any]:
    """A service as site.json carries it: price.text is the full phrase ("from Rs 80,000")."""
    out = {k: view[k] for k in ("id", "name", "summary", "url", "price", "price_text", "features")}
    if out["price"] is not None:
        out["price"] = {**out["price"], "text": view["price_text"]}
    return out
