"""Grounded provider answers: the ranked chunks reach the model, an invented price never reaches the visitor."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from edge.chat import create_app
from edge.grounding import InventedPrice, PriceGuard
from edge.settings import Settings
from tests.support.chatsite import IDS, ask, chat_data, chat_site, provider_of, text_of
from tests.support.fakeproviders import FakeProviders
from tests.support.servers import serve


def _system(request: dict[str, object]) -> str:
    body = request["body"]
    assert isinstance(body, dict)
    return str(body["messages"][0]["content"])


def test_retrieved_chunks_with_urls_reach_the_model(chat: str, fake: FakeProviders) -> None:
    fake.modes["groq"] = "echo"
    events, _ = ask(chat, "Tell me about the Karachi agency", "pk")
    system = _system(fake.requests[-1])
    # The region's prompt first, then the ranked section with its URL, so the model can cite it.
    assert system.startswith("You are ExpertBot for 7Experts Pakistan.")
    assert "(/pk/about/): A Karachi agency building websites since 2015." in system
    # The visitor's message went as it was, alone, after the system message.
    assert fake.requests[-1]["body"]["messages"][1:] == [
        {"role": "user", "content": "Tell me about the Karachi agency"}
    ]
    assert provider_of(events) == "groq"
    assert "/pk/about/" in text_of(events)  # the echo came back through the app


def test_not_offered_here_is_in_the_context(chat: str, fake: FakeProviders) -> None:
    fake.modes["groq"] = "echo"
    ask(chat, "Do you do branding?", "intl")
    system = _system(fake.requests[-1])
    assert (
        "Branding is not offered on the International site; it is offered in Pakistan (/pk/services/branding/)."
        in system
    )
    assert "Rs" not in system  # another region's prices stay out of this region's context


def test_gemini_gets_the_same_context(chat: str, fake: FakeProviders) -> None:
    fake.modes |= {"groq": "500", "cerebras": "500", "openrouter": "500", "gemini": "echo"}
    events, _ = ask(chat, "Tell me about the Karachi agency", "pk")
    assert provider_of(events) == "gemini"
    gemini = fake.requests[-1]["body"]
    assert "(/pk/about/)" in gemini["systemInstruction"]["parts"][0]["text"]


def test_invented_price_never_reaches_the_visitor(chat: str, fake: FakeProviders) -> None:
    fake.answers["groq"] = [
        "Web Development",
        " starts",
        " at just",
        " Rs 12",
        ",345 for",
        " a full site",
        " with hosting included.",
    ]
    events, _ = ask(chat, "How much does a website cost?", "pk")
    shown = [d.get("t", "") for e, d in events if e in {"token", "replace"}]
    assert not [t for t in shown if "12" in t]
    replaced = [d for e, d in events if e == "replace"]
    assert replaced and "from Rs 80,000" in replaced[0]["t"] and replaced[0]["provider"] == "offline"
    links = [d["links"] for e, d in events if e == "links"][-1]
    assert {"title": "Web Development", "url": "/pk/services/web-development/"} in links
    # The same through the JSON mode: the reply is the site's own answer.
    r = httpx.post(
        chat + "?stream=0", json={"region": "pk", "messages": [{"role": "user", "content": "Website price?"}]}
    )
    assert "12,345" not in r.text and "from Rs 80,000" in r.json()["reply"]


def test_a_catalog_price_streams_unchanged(chat: str, fake: FakeProviders) -> None:
    fake.answers["groq"] = ["Web Development", " starts", " from Rs", " 80,000.", " Ask us", " for a quote."]
    events, _ = ask(chat, "How much does a website cost?", "pk")
    assert provider_of(events) == "groq"
    assert text_of(events) == "Web Development starts from Rs 80,000. Ask us for a quote."
    assert not [e for e, _ in events if e == "replace"]
    # Links for the question follow the model's answer.
    assert [e for e, _ in events][-2:] == ["links", "done"]


def test_a_price_from_another_region_counts_as_invented(chat: str, fake: FakeProviders) -> None:
    fake.answers["groq"] = ["Web development is from $900 here."]
    events, _ = ask(chat, "How much does a website cost?", "pk")
    assert "$900" not in "".join(d.get("t", "") for e, d in events if e in {"token", "replace"})


@pytest.mark.parametrize(
    "pieces,shown",
    [
        (["from Rs ", "80", ",000 ", "per project"], "from Rs 80,000 per project"),
        (["only $", "900"], "only $900"),
        (["1.5 lakh rupees is not a price here"], None),
        (["PKR 80k, nothing more"], "PKR 80k, nothing more"),
        (["We took 12 months and 3 weeks"], "We took 12 months and 3 weeks"),
    ],
)
def test_price_guard(pieces: list[str], shown: str | None) -> None:
    guard = PriceGuard({("PKR", 80000.0), ("USD", 900.0)})
    out = ""
    try:
        for piece in pieces:
            out += guard.feed(piece)
        out += guard.finish()
    except InventedPrice:
        assert shown is None
        return
    assert out == shown


def test_offline_without_providers_claims_no_failure(tmp_path: Path) -> None:
    site = chat_site(providers=[])
    settings = Settings(data_dir=chat_data(tmp_path, site), local_dir=tmp_path, site=site, env={})
    with serve(create_app(settings)) as base:
        events, _ = ask(f"{base}/", "How much does a website cost?", "pk")
    meta = next(d for e, d in events if e == "meta")
    assert meta == {"provider": "offline", "notice": "Quick answers from this site:"}
    assert text_of(events).startswith("Web Development: from Rs 80,000.")
    assert "can't" not in text_of(events)


def test_offline_after_configured_providers_failed_says_so(chat: str, fake: FakeProviders) -> None:
    fake.modes |= {p: "500" for p in IDS}
    events, _ = ask(chat, "How much does a website cost?", "pk")
    meta = next(d for e, d in events if e == "meta")
    assert meta["provider"] == "offline" and "can't be reached" in meta["notice"]
