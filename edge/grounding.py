"""Grounding a provider's answer in the site: context in, prices checked on the way out.

``grounded_context`` turns what the site says about the visitor's question into
lines added to the region's system prompt, each with its URL so the model can cite it.
``PriceGuard`` sits between the provider's stream and the visitor: it holds back
the last few characters until a price mention is complete, and raises
``InventedPrice`` for any amount in a currency that is not in the region's
catalog, before that text reaches the visitor.
"""

from __future__ import annotations

import re
from typing import Any

from edge.offline import Answer, OfflineAnswerer
from edge.retrieval import Chunk

CONTEXT_CHUNKS = 4
CONTEXT_HEADER = "From this site, for the visitor's question"
CONTEXT_CHARS = 600

# An amount with a currency next to it: "Rs 80,000", "PKR 1.5 lakh", "$900", "900 USD", "80k rupees".
_AMOUNT = r"\d[\d,]*(?:\.\d+)?"
_SCALE = r"(?:\s?(?:k|K|thousand|lakh|lac|million|m)\b)?"
_BEFORE = r"(?P<cur>Rs\.?|PKR|₨|US\$|USD|\$)\s?(?P<num>" + _AMOUNT + r")(?P<scale>" + _SCALE + r")"
_AFTER = (
    r"(?P<num2>"
    + _AMOUNT
    + r")(?P<scale2>"
    + _SCALE
    + r")\s?(?P<cur2>PKR|USD|rupees|rupee|dollars|dollar|Rs)\b"
)
PRICE = re.compile(f"{_BEFORE}|{_AFTER}", re.I)
_CURRENCY = {
    "rs": "PKR",
    "rs.": "PKR",
    "pkr": "PKR",
    "₨": "PKR",
    "rupee": "PKR",
    "rupees": "PKR",
    "$": "USD",
    "us$": "USD",
    "usd": "USD",
    "dollar": "USD",
    "dollars": "USD",
}
_SCALES = {
    "": 1,
    "k": 1_000,
    "thousand": 1_000,
    "lakh": 100_000,
    "lac": 100_000,
    "million": 1_000_000,
    "m": 1_000_000,
}
# Where a price may be starting: a digit, a currency sign or code, or the first letters of one.
_PRICEISH = re.compile(r"[\d$₨]|\b(?:Rs|PKR|USD|US|rupee|dollar)|\b(?:R|P|PK|U|US|ru\w*|do\w*)$", re.I)
# Characters held back from the visitor until a price that may be forming there is complete.
HOLD = 24


class InventedPrice(Exception):
    """The model named an amount that is not a price of the region's catalog."""


def grounded_context(offline: OfflineAnswerer, region: str, question: str, answer: Answer) -> str:
    """Lines appended to the region's system prompt for this question, each chunk with its URL.

    First the chunks of the pages the site's own answer links to (the service asked about, the
    contact page, the privacy section), then the best-ranked others; and when the service asked
    about is offered in another region only, a line saying so (without that region's price).
    """
    retriever = offline.retriever
    index = retriever.index(region)
    chosen: list[Chunk] = []
    if answer.kind != "out_of_scope":
        for link in answer.links:
            url = link.url.split("?")[0]
            same = [c for c in index.chunks if c.url == url]
            best = next((c for c in same if c.kind == "service"), same[0] if same else None)
            if best is not None and best not in chosen:
                chosen.append(best)
    for hit in retriever.search(region, question, CONTEXT_CHUNKS):
        if hit.chunk not in chosen:
            chosen.append(hit.chunk)
    note = ""
    asked = answer.asked
    if asked and asked[0] != region:
        regions = offline.settings.regions
        here, there = regions[region].get("label", region), regions[asked[0]].get("label", asked[0])
        name, url = asked[1].get("name", ""), asked[1].get("url", "")
        note = f"{name} is not offered on the {here} site; it is offered in {there} ({url})."
    if not chosen and not note:
        return ""
    lines = ["", f"{CONTEXT_HEADER} (cite the URL of what you use; prices only as listed above):"]
    if note:
        lines.append(f"- {note}")
    for chunk in chosen[:CONTEXT_CHUNKS]:
        text = (
            chunk.text
            if len(chunk.text) <= CONTEXT_CHARS
            else chunk.text[:CONTEXT_CHARS].rsplit(" ", 1)[0] + "…"
        )
        lines.append(f"- {chunk.label} ({chunk.url}): {text}")
    return "\n".join(lines) + "\n"


def allowed_prices(region: dict[str, Any]) -> set[tuple[str, float]]:
    """(currency, amount) of every price in the region's catalog."""
    allowed = set()
    for service in region.get("services", []):
        price = service.get("price") or {}
        if isinstance(price.get("amount"), (int, float)):
            allowed.add(
                (str(price.get("currency") or region.get("currency", "")).upper(), float(price["amount"]))
            )
    return allowed


def _value(match: re.Match[str]) -> tuple[str, float]:
    cur = (match.group("cur") or match.group("cur2") or "").lower()
    num = match.group("num") or match.group("num2") or "0"
    scale = (match.group("scale") or match.group("scale2") or "").strip().lower()
    return _CURRENCY.get(cur, cur.upper()), float(num.replace(",", "")) * _SCALES.get(scale, 1)


class PriceGuard:
    """Feed it the model's text piece by piece; it returns what may be shown so far."""

    def __init__(self, allowed: set[tuple[str, float]]) -> None:
        self.allowed = allowed
        self.pending = ""

    def feed(self, piece: str) -> str:
        self.pending += piece
        return self._release(final=False)

    def finish(self) -> str:
        return self._release(final=True)

    def _release(self, final: bool) -> str:
        text = self.pending
        cut = len(text)
        if not final:
            # Hold back from the first character near the end where a price could be starting...
            start = _PRICEISH.search(text, max(0, len(text) - HOLD))
            cut = start.start() if start else cut
            # ...and from the start of any price that is still running across that point.
            for match in PRICE.finditer(text):
                if match.start() < cut < match.end():
                    cut = match.start()
        out = text[:cut]
        for match in PRICE.finditer(out):
            if _value(match) not in self.allowed:
                raise InventedPrice(match.group(0))
        self.pending = text[cut:]
        return out
