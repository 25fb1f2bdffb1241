"""Fixtures of the chat tests: the loopback fake providers and the chat app on uvicorn."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.chat import create_app
from edge.settings import Settings
from tests.support.chatsite import IDS, chat_data, chat_site
from tests.support.fakeproviders import FakeProviders, fake_providers
from tests.support.servers import serve


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeProviders]:
    with fake_providers() as f:
        yield f


@pytest.fixture()
def chat(tmp_path: Path, fake: FakeProviders) -> Iterator[str]:
    fake.modes.clear()
    fake.requests.clear()
    fake.answers.clear()
    env = {f"{p.upper()}_API_KEY": f"key-{p}" for p in IDS}
    env |= {f"SITEGEN_CHAT_{p.upper()}_BASE_URL": fake.url(p) for p in IDS}
    settings = Settings(data_dir=chat_data(tmp_path), local_dir=tmp_path, site=chat_site(), env=env)
    with serve(create_app(settings)) as base:
        yield f"{base}/"
