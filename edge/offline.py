"""Offline answerer: used when no provider is configured or all of them failed.

Price/service/contact questions get a templated answer from the region's data in
site.json; anything else gets the best-matching pages from search/<region>.json
(BM25 ranking).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from typing import Any

from edge.settings import Settings

_WORD = re.compile(r"[a-z0-9]+")
_PRICE = {"price", "prices", "cost", "costs", "charge", "rate", "rates", "fee", "fees", "much", "budget", "quote", "pricing"}
_CONTACT = {"contact", "phone", "email", "call", "whatsapp", "address", "reach", "where", "located", "based", "office"}
_SERVICES = {"services", "service", "offer", "offers", "do"}


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


class OfflineAnswerer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._docs: dict[str, list[dict[str, Any]]] = {}

    def _pages(self, region: str) -> list[dict[str, Any]]:
        if region not in self._docs:
            try:
                pages = json.loads(self.settings.read_text(f"search/{region}.json"))
            except (OSError, ValueError):
                pages = []
            self._docs[region] = [p for p in pages if isinstance(p, dict)]
        return self._docs[region]

    def search(self, region: str, query: str, limit: int = 3) -> list[dict[str, Any]]:
        pages = self._pages(region)
        terms = {_stem(w) for w in _words(query) if len(w) > 2}
        if not pages or not terms:
            return []
        docs = [Counter(_stem(w) for w in _words(f"{p.get('title', '')} {p.get('title', '')} {p.get('text', '')}")) for p in pages]
        avg = sum(sum(d.values()) for d in docs) / len(docs) or 1.0
        k1, b = 1.2, 0.75
        scored = []
        for page, doc in zip(pages, docs, strict=True):
            length = sum(doc.values())
            score = 0.0
            for term in terms:
                tf = doc.get(term, 0)
                if not tf:
                    continue
                df = sum(1 for d in docs if term in d)
                idf = math.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
                score += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / avg))
            if score > 0:
                scored.append((score, page))
        scored.sort(key=lambda item: -item[0])
        return [page for _, page in scored[:limit]]

    def answer(self, region: str, question: str) -> str:
        info = self.settings.regions.get(region, {})
        services: list[dict[str, Any]] = info.get("services", [])
        words = set(_words(question))
        stems = {_stem(w) for w in words}
        urls = info.get("urls", {})
        intro = "I can't reach the assistant right now, so here is what I found on this site. "
        asked = [s for s in services if stems & {_stem(w) for w in _words(f"{s.get('id', '')} {s.get('name', '')}")}]
        if words & _PRICE or asked:
            if asked:
                lines = [f"{s.get('name', '')}: {(s.get('price') or {}).get('text', 'priced on request')} ({s.get('url', '')})" for s in asked]
                return intro + " ".join(lines)
            # A named topic this region does not offer (e.g. branding outside Pakistan).
            others = [s.get("name", "") for s in services]
            elsewhere = [
                str(s.get("name", ""))
                for r, other in self.settings.regions.items() if r != region
                for s in other.get("services", [])
                if stems & {_stem(w) for w in _words(f"{s.get('id', '')} {s.get('name', '')}")}
            ]
            label = info.get("label", region)
            prefix = f"{elsewhere[0]} is not offered in {label}. " if elsewhere else ""
            priced = "; ".join(f"{s.get('name', '')} {(s.get('price') or {}).get('text', '')}".strip() for s in services)
            return intro + prefix + f"Our services here: {priced or ', '.join(others)}."
        if words & _CONTACT:
            contact = self.settings.site.get("contact", {})
            phone = info.get("params", {}).get("phone") or contact.get("phone", "")
            where = f" Our address: {contact['address']}." if contact.get("address") else ""
            return intro + f"Email {contact.get('email', '')}, phone {phone}, or use the form at {urls.get('contact', '')}.{where}"
        if words & _SERVICES and services:
            return intro + "We offer: " + ", ".join(f"{s.get('name', '')} ({s.get('url', '')})" for s in services) + "."
        hits = self.search(region, question)
        if hits:
            return intro + "These pages may help: " + "; ".join(f"{h.get('title', '')} ({h.get('url', '')})" for h in hits)
        return intro + f"Please get in touch at {urls.get('contact', '')} and we'll answer you directly."
