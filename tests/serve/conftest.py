"""Fixtures of the dev-server tests: the site and servers come from tests.support.devserver."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sitegen.serve import DevServer
from tests.support.devserver import Running, make_site, serving


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return make_site(tmp_path / "site")


@pytest.fixture
def start(site: Path, tmp_path: Path) -> Callable[..., contextlib.AbstractContextManager[Running]]:
    """start(**DevServer options) -> context manager of a running server over `site`."""

    def starter(**options: Any) -> contextlib.AbstractContextManager[Running]:
        logs: list[str] = []
        dev = DevServer(site, out=tmp_path / "out", log=logs.append, **options)
        dev.rebuild("start")
        return serving(dev, logs)

    return starter
