"""Quick answers from this site: the chat's answerer without an AI provider.

Used when no provider is configured or all of them failed. It works out what a
question is about (a service, prices, contact, hours, retention, rights, the
privacy policy, regions) and answers with one direct sentence built from the
build's data in ``site.json`` (prices, contact details, hours and retention
periods are never copied from free text), a next step, and at most three
links. Anything else is answered from the best-ranked chunk of the site, and a
question the site cannot answer says so and points to the contact page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from edge.retrieval import Hit, Retriever, tokens
from edge.settings import Settings

MAX_LINKS = 3
SNIPPET_CHARS = 320

# What a question is about, by the (stemmed) words it uses after the vocabulary has added the
# site's words for the visitor's (site.yaml chat.vocabulary turns "kitne paise" into "price").
PRICE = frozenset(tokens("price cost costs charge fee rate budget pricing expensive cheap afford much"))
CONTACT = frozenset(
    tokens("contact phone email mail call whatsapp address reach office visit number located quote")
)
HOURS = frozenset(
    tokens("hours open opening timing timings available availability saturday sunday weekend time")
)
RETENTION = frozenset(tokens("long keep kept automatically old"))
# ...about kept data, not about how long a project takes or whether we keep a site updated.
KEPT_DATA = frozenset(
    tokens("data inquiry inquiries message messages information file files record records portal form")
)
RIGHTS = frozenset(tokens("rights right copy correct correction withdraw consent erase object access delete"))
POLICY = frozenset(
    tokens(
        "privacy policy cookie cookies data personal share sell processor processes collect stored track information gdpr"
    )
)
REGIONS = frozenset(
    tokens(
        "international abroad outside overseas foreign country countries worldwide currency dollar dollars rupee rupees usd pkr"
    )
)
POLICY_NAMES = frozenset(tokens("privacy policy cookie cookies"))
SERVICES = frozenset(tokens("service services offer provide"))
# A section must share at least this share of a question's words to be offered as its answer.
MIN_COVERAGE = 0.75
# A service counts as asked about when the question's words in its name weigh at least this (idf).
MIN_SERVICE_WEIGHT = 0.9


@dataclass(frozen=True)
class Link:
    title: str
    url: str

    def as_dict(self) -> dict[str, str]:
        return {"title": self.title, "url": self.url}


@dataclass
class Answer:
    text: str
    links: list[Link] = field(default_factory=list)
    kind: str = "answer"  # "out_of_scope" when the site has nothing to say about the question
    asked: tuple[str, dict[str, Any]] | None = (
        None  # (region offering it, service) when a service was asked about
    )

    def add(self, title: str, url: str) -> None:
        if url and len(self.links) < MAX_LINKS and url not in {link.url for link in self.links}:
            self.links.append(Link(title, url))


class OfflineAnswerer:
    def __init__(self, settings: Settings, retriever: Retriever | None = None) -> None:
        self.settings = settings
        self.retriever = retriever or Retriever(settings)

    # ------------------------------------------------------------------ what is asked

    def _service_words(self, service: dict[str, Any]) -> set[str]:
        return set(tokens(f"{service.get('name', '')} {str(service.get('id', '')).replace('-', ' ')}"))

    def asked_service(self, region: str, words: set[str]) -> tuple[str, dict[str, Any]] | None:
        """(region offering it, service) of the service the question names, preferring the visitor's region."""
        candidates = []
        for rid, info in self.settings.regions.items():
            for service in info.get("services", []):
                weight = round(
                    sum(self.retriever.service_idf(w) for w in self._service_words(service) & words), 6
                )
                if weight >= MIN_SERVICE_WEIGHT:
                    candidates.append((weight, rid, service))
        if not candidates:
            return None
        top = max(weight for weight, _, _ in candidates)
        tied = {str(s.get("id", "")) for weight, _, s in candidates if weight == top}
        ranked: dict[str, float] = {}
        if len(tied) > 1:
            # Each name shares equally telling words with the question: the service whose text
            # matches the rest of it best wins ("site hacked, needs updates" is Maintenance).
            hits = self.retriever.index(region).search(sorted(words), 10, {"service"})
            ranked = {h.chunk.service: h.score for h in hits}
        *_, rid, service = max(
            (w, ranked.get(str(s.get("id", "")), 0.0), int(r == region), -i, r, s)
            for i, (w, r, s) in enumerate(candidates)
            if w == top
        )
        return rid, service

    # ------------------------------------------------------------------ answers

    def answer(self, region: str, question: str) -> Answer:
        info = self.settings.regions.get(region, {})
        words = set(self.retriever.query(question))
        if (
            (words & RETENTION and words & KEPT_DATA)
            or words & {"retention", "retain"}
            or ("when" in question.lower().split() and "delete" in words)
        ):
            return self._retention(region, question)
        if words & RIGHTS:
            return self._rights(region, question)
        if words & POLICY_NAMES:
            return self._policy(region, question) or self._out_of_scope(region)
        asked = self.asked_service(region, words)
        if asked:
            answer = self._service(region, *asked)
            answer.asked = asked
            return answer
        if words & HOURS and info.get("params", {}).get("hours"):
            return self._hours(region)
        if words & CONTACT:
            return self._contact(region, words)
        if words & REGIONS:
            return self._regions(region)
        if words & (PRICE | SERVICES):
            return self._catalog(region)
        if words & POLICY:
            policy = self._policy(region, question)
            if policy:
                return policy
        hits = self.retriever.search(region, question, MAX_LINKS)
        content = set(tokens(question)) or words
        if hits and len(hits[0].matched & content) >= MIN_COVERAGE * len(content):
            service = self._service_of(region, hits[0])
            return self._service(region, region, service) if service else self._from_site(region, hits)
        return self._out_of_scope(region)

    def _urls(self, region: str) -> dict[str, str]:
        urls: dict[str, str] = self.settings.regions.get(region, {}).get("urls", {})
        return urls

    def _next_step(self, answer: Answer, region: str, service: str = "") -> None:
        contact = self._urls(region).get("contact", "")
        if contact:
            answer.add("Contact us", contact + (f"?service={service}" if service else ""))

    def _service(self, region: str, offered_in: str, service: dict[str, Any]) -> Answer:
        name = service.get("name", "")
        if offered_in == region:
            price = _price(service)
            text = (
                f"{name}: {price}. {service.get('summary', '')} "
                "Next step: tell us about your project and we will send you a fixed quote."
            )
            answer = Answer(" ".join(text.split()))
            answer.add(name, service.get("url", ""))
            self._next_step(answer, region, str(service.get("id", "")))
            return answer
        here = self.settings.regions.get(region, {}).get("label", region)
        there = self.settings.regions.get(offered_in, {}).get("label", offered_in)
        answer = Answer(
            f"{name} is not offered on our {here} site; it is offered in {there}. "
            f"Here we offer: {self._price_list(region)}. Ask us if one of these fits your project."
        )
        answer.add(f"{name} ({there})", service.get("url", ""))
        answer.add("Our services", self._urls(region).get("services", ""))
        self._next_step(answer, region)
        return answer

    def _price_list(self, region: str) -> str:
        services = self.settings.regions.get(region, {}).get("services", [])
        return "; ".join(f"{s.get('name', '')} {_price(s)}" for s in services)

    def _catalog(self, region: str) -> Answer:
        info = self.settings.regions.get(region, {})
        answer = Answer(
            f"Our services and starting prices ({info.get('currency', '')}): {self._price_list(region)}. "
            "Every project gets a fixed quote after a short call."
        )
        answer.add("Our services", self._urls(region).get("services", ""))
        self._next_step(answer, region)
        return answer

    def _regions(self, region: str) -> Answer:
        regions = self.settings.regions
        info = regions.get(region, {})
        labels = " and ".join(str(r.get("label", rid)) for rid, r in regions.items())
        answer = Answer(
            f"Yes: we work with clients in {labels}. This is our {info.get('label', region)} site, "
            f"with prices in {info.get('currency', '')}."
        )
        for rid, other in regions.items():
            if rid != region and other.get("urls", {}).get("home"):
                answer.add(f"Our {other.get('label', rid)} site", other["urls"]["home"])
        answer.add("Our services", self._urls(region).get("services", ""))
        self._next_step(answer, region)
        return answer

    def _contact(self, region: str, words: set[str]) -> Answer:
        contact = self.settings.site.get("contact", {})
        params = self.settings.regions.get(region, {}).get("params", {})
        phone = params.get("phone") or contact.get("phone", "")
        parts = {
            "email": f"email {contact.get('email')}" if contact.get("email") else "",
            "phone": f"phone {phone}" if phone else "",
            "whatsapp": f"WhatsApp +{params['whatsapp']}" if params.get("whatsapp") else "",
            "address": f"our office is at {contact.get('address')}" if contact.get("address") else "",
        }
        first = "address" if words & set(tokens("address office visit located")) else ""
        first = first or ("whatsapp" if "whatsapp" in words and parts["whatsapp"] else "")
        first = first or ("phone" if words & set(tokens("phone call number whatsapp")) else "email")
        ordered = [parts[first]] + [v for k, v in parts.items() if k != first]
        said = "; ".join(p for p in ordered if p)
        answer = Answer(
            f"You can reach us: {said}. Or send us a message with the contact form and we reply within one working day."
        )
        answer.add("Contact form", self._urls(region).get("contact", ""))
        return answer

    def _hours(self, region: str) -> Answer:
        params = self.settings.regions.get(region, {}).get("params", {})
        extra = f" {params['timezones']}" if params.get("timezones") else ""
        answer = Answer(
            f"Our working hours: {params.get('hours')}.{extra} Send us a message any time and we reply within one working day."
        )
        self._next_step(answer, region)
        return answer

    def _privacy_hit(self, region: str, question: str) -> Hit | None:
        privacy = self._urls(region).get("privacy", "")
        hits = self.retriever.search(region, question, 20) if privacy else []
        return next((h for h in hits if h.chunk.url.startswith(privacy)), None)

    def _retention(self, region: str, question: str) -> Answer:
        retention = self.settings.site.get("retention", {})
        parts = []
        if retention.get("inquiries_months"):
            parts.append(
                f"contact form inquiries for up to {retention['inquiries_months']} months, then they are deleted automatically"
            )
        if retention.get("portal_months_after_close"):
            parts.append(
                f"client portal data for as long as the project runs plus {retention['portal_months_after_close']} months after it closes"
            )
        answer = Answer(
            f"We keep {'; '.join(parts)}." if parts else "See our privacy policy for how long we keep data."
        )
        hit = self._privacy_hit(region, "how long we keep your data " + question)
        answer.add(
            "Privacy policy: how long we keep your data" if hit else "Privacy policy",
            hit.chunk.url if hit else self._urls(region).get("privacy", ""),
        )
        return answer

    def _rights(self, region: str, question: str) -> Answer:
        hit = self._privacy_hit(region, "your rights " + question)
        if hit is None:
            return self._out_of_scope(region)
        email = self.settings.site.get("contact", {}).get("email", "")
        answer = Answer(
            f"{hit.chunk.heading}: {_snippet(hit.chunk.text)} Write to {email} to use them."
            if email
            else f"{hit.chunk.heading}: {_snippet(hit.chunk.text)}"
        )
        answer.add(hit.chunk.label, hit.chunk.url)
        self._next_step(answer, region)
        return answer

    def _policy(self, region: str, question: str) -> Answer | None:
        legal = [u for k, u in self._urls(region).items() if k in {"privacy", "cookies"}]
        hits = [
            h for h in self.retriever.search(region, question, 12) if h.chunk.url.startswith(tuple(legal))
        ]
        return self._from_site(region, hits) if legal and hits else None

    def _service_of(self, region: str, hit: Hit) -> dict[str, Any] | None:
        """The region's service a chunk belongs to (its own chunk or a section of its page)."""
        for service in self.settings.regions.get(region, {}).get("services", []):
            url = service.get("url", "")
            if url and (hit.chunk.service == service.get("id") or hit.chunk.url.split("#")[0] == url):
                return dict(service)
        return None

    def _from_site(self, region: str, hits: list[Hit]) -> Answer:
        top = hits[0].chunk
        answer = Answer(f"From “{top.label}”: {_snippet(top.text)}")
        for hit in hits:
            answer.add(hit.chunk.label, hit.chunk.url)
        self._next_step(answer, region)
        return answer

    def _out_of_scope(self, region: str) -> Answer:
        title = self.settings.site.get("title", "us")
        answer = Answer(
            f"I can only answer questions about {title}: our services, prices, how we work and how to "
            "reach us. For anything about your project, send us a message.",
            kind="out_of_scope",
        )
        self._next_step(answer, region)
        answer.add("Our services", self._urls(region).get("services", ""))
        return answer


def _price(service: dict[str, Any]) -> str:
    return str(service.get("price_text") or (service.get("price") or {}).get("text") or "priced on request")


def _snippet(text: str) -> str:
    if len(text) <= SNIPPET_CHARS:
        return text
    cut = text[:SNIPPET_CHARS].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"
