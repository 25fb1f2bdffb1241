"""Root test configuration.

In CI (``CI=true``) nothing may be skipped: a test that would skip because
PostgreSQL or Chromium is missing fails instead, so a green CI run means every
test really ran.
"""

from __future__ import annotations

import os

import pytest

pytest_plugins = ["tests.support.conftest_plugin"]

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"skipped in CI, where nothing may be skipped: {reason}"
