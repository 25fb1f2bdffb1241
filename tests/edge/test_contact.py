"""The contact handler, in process (httpx.ASGITransport), with the real local SQLite store.

Its test site and helpers are in tests/support/contactsite.py.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from edge.contact import create_app
from edge.inquiries import Inquiry, LocalInquiryStore, StoreUnavailable
from edge.notify import Notifier, webhook_sender
from edge.ratelimit import RateLimiter
from edge.settings import Settings, load_settings
from tests.support.contactsite import BASE, JSON_HEADERS, contact_site_yaml, make_settings, valid
from tests.support.edgesite import EDGE_SITE_FILES, PROXY_SECRET, netlify_signature, write_edge
from tests.support.servers import free_port_url, serve

pytestmark = pytest.mark.anyio


class FailingStore:
    """A store whose backend is down, like Supabase during an outage."""

    def __init__(self) -> None:
        self.attempts = 0

    async def add(self, inquiry: Inquiry) -> None:
        self.attempts += 1
        raise StoreUnavailable("database is down")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def store(settings: Settings) -> LocalInquiryStore:
    return LocalInquiryStore.in_dir(settings.local_dir)


@pytest.fixture
async def client(settings: Settings, store: LocalInquiryStore) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, store=store)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
        yield c


# --------------------------------------------------------------------------- success paths


async def test_json_submission_is_stored_normalised(
    client: httpx.AsyncClient, store: LocalInquiryStore
) -> None:
    message = "Line one\r\nLine two\rLine three   \r\n"
    response = await client.post(
        "/",
        json=valid(name="  Cafe\u0301  Owner ", email="Ayesha@EXAMPLE.com", message=message),
        headers=JSON_HEADERS,
    )
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    rows = store.all()
    assert len(rows) == 1
    row = rows[0]
    assert row["name"] == "Caf\u00e9 Owner"  # NFC, trimmed, inner whitespace collapsed
    assert row["email"] == "Ayesha@example.com"  # domain lower-cased by email-validator
    assert row["phone"] == "+923366532777"  # national number completed with the region's country
    assert row["message"] == "Line one\nLine two\nLine three"
    assert row["service"] == "web-development"
    assert row["region"] == "pk"
    assert row["company"] == "Khan Textiles"
    assert row["consent_at"] and row["created_at"]
    # Nothing that identifies the connection is kept.
    assert set(row) == {
        "id",
        "created_at",
        "region",
        "service",
        "name",
        "email",
        "phone",
        "company",
        "message",
        "consent_at",
    }


async def test_form_post_without_javascript_redirects_to_thanks(
    client: httpx.AsyncClient, store: LocalInquiryStore
) -> None:
    response = await client.post("/", data=valid(region="intl", phone="", service="", company=""))
    assert response.status_code == 303
    assert response.headers["location"] == "/intl/contact/thanks/"
    [row] = store.all()
    assert row["region"] == "intl"
    assert row["phone"] is None and row["service"] is None and row["company"] is None


async def test_other_service_and_json_boolean_consent(
    client: httpx.AsyncClient, store: LocalInquiryStore
) -> None:
    response = await client.post("/", json=valid(service="other", consent=True), headers=JSON_HEADERS)
    assert response.status_code == 200
    assert store.all()[0]["service"] == "other"


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "Eve\r\nBcc: victim@example.com"}, "name"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "eve@example.com\nBcc: victim@example.com"}, "email"),
        ({"email": "a@" + "b" * 260 + ".com"}, "email"),
        ({"phone": "12"}, "phone"),
        ({"phone": "call me maybe"}, "phone"),
        ({"company": "c" * 121}, "company"),
        ({"company": "ACME\rX-Header: 1"}, "company"),
        ({"service": "ecommerce-management"}, "service"),  # offered in intl only
        ({"service": "../../etc/passwd"}, "service"),
        ({"message": "short"}, "message"),
        ({"message": "m" * 5001}, "message"),
        ({"message": "\ud800 lone surrogate text"}, "message"),
        ({"consent": ""}, "consent"),
        ({"consent": "no"}, "consent"),
        ({"region": "mars"}, "region"),
        ({"region": ""}, "region"),
        ({"name": ["a", "list"]}, "name"),
        ({"message": 12345678901}, "message"),
    ],
)
async def test_invalid_field_gets_422_with_reason(
    client: httpx.AsyncClient, store: LocalInquiryStore, overrides: dict[str, Any], field: str
) -> None:
    # ensure_ascii: lone surrogates travel as JSON escapes, as a hostile client would send them.
    content = json.dumps(valid(**overrides), ensure_ascii=True)
    response = await client.post(
        "/", content=content, headers={**JSON_HEADERS, "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["ok"] is False
    assert field in body["errors"], body
    assert body["errors"][field]
    assert store.all() == []


async def test_intl_phone_needs_country_code(client: httpx.AsyncClient, store: LocalInquiryStore) -> None:
    response = await client.post("/", json=valid(region="intl", phone="020 7946 0018"), headers=JSON_HEADERS)
    assert response.status_code == 422
    assert "country code" in response.json()["errors"]["phone"]
    response = await client.post(
        "/", json=valid(region="intl", phone="+44 20 7946 0018"), headers=JSON_HEADERS
    )
    assert response.status_code == 200
    assert store.all()[0]["phone"] == "+442079460018"


async def test_control_and_bidi_characters_are_removed(
    client: httpx.AsyncClient, store: LocalInquiryStore
) -> None:
    response = await client.post(
        "/",
        json=valid(
            name="Ali\u0000\u0007 \u202eKhan", message="Hello\u0000 there\tfriend, \u2066how\u2069 are you?"
        ),
        headers=JSON_HEADERS,
    )
    assert response.status_code == 200
    row = store.all()[0]
    assert row["name"] == "Ali Khan"
    assert row["message"] == "Hello there friend, how are you?"


async def test_fullwidth_digits_in_phone_are_normalised(
    client: httpx.AsyncClient, store: LocalInquiryStore
) -> None:
    response = await client.post("/", json=valid(phone="０３３６ ６５３２７７７"), headers=JSON_HEADERS)
    assert response.status_code == 200
    assert store.all()[0]["phone"] == "+923366532777"


async def test_no_js_error_page_reshows_typed_values_escaped(
    client: httpx.AsyncClient, store: LocalInquiryStore
) -> None:
    xss = '</textarea><script>alert("x")</script> & more text'
    response = await client.post(
        "/", data=valid(email="bad", name='"><img src=x onerror=alert(1)>', message=xss)
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "<script>" not in page and "<img" not in page
    assert "&lt;/textarea&gt;&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more text" in page
    assert 'value="&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"' in page
    assert 'value="bad"' in page
    assert "This does not look like an email address" in page
    assert 'value="web-development" selected' in page
    assert 'name="consent" value="on" required checked' in page
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert store.all() == []


# --------------------------------------------------------------------------- honeypot, size, origin, type


async def test_honeypot_looks_successful_but_stores_nothing(
    client: httpx.AsyncClient, store: LocalInquiryStore
) -> None:
    response = await client.post("/", json=valid(website="http://spam.example"), headers=JSON_HEADERS)
    assert response.status_code == 200 and response.json() == {"ok": True}
    response = await client.post("/", data=valid(website="spam"))
    assert response.status_code == 303 and response.headers["location"] == "/pk/contact/thanks/"
    assert store.all() == []


async def test_oversized_body_is_413(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, max_body=2000)
    store = LocalInquiryStore.in_dir(settings.local_dir)
    app = create_app(settings, store=store)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        big = valid(message="a" * 3000)
        response = await client.post("/", json=big, headers=JSON_HEADERS)
        assert response.status_code == 413
        assert "too long" in response.json()["error"]

        # Without a Content-Length (chunked), the limit still holds while streaming.
        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(10):
                yield b"message=" + b"a" * 500 + b"&"

        response = await client.post(
            "/", content=chunks(), headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert response.status_code == 413
        assert "Back button" in response.text
    assert store.all() == []


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Origin": "https://evil.example"}, 403),
        ({"Origin": "null"}, 403),
        ({"Origin": "http://testserver.evil.example"}, 403),
        ({"Sec-Fetch-Site": "cross-site"}, 403),
        ({"Origin": "https://7expertspk.com"}, 200),  # edge.allowed_origins
        ({"Origin": "http://testserver"}, 200),  # same host
        ({"Sec-Fetch-Site": "same-origin"}, 200),
        ({}, 200),
    ],
)
async def test_origin_check(
    client: httpx.AsyncClient, store: LocalInquiryStore, headers: dict[str, str], status: int
) -> None:
    response = await client.post("/", json=valid(), headers={**JSON_HEADERS, **headers})
    assert response.status_code == status
    if status == 403:
        assert "Cross-site" in response.json()["error"]
    assert len(store.all()) == (1 if status == 200 else 0)


@pytest.mark.parametrize(
    ("content", "ctype", "status"),
    [
        (b"[1, 2]", "application/json", 400),
        (b"[" * 16000, "application/json", 400),  # nesting deep enough to exhaust the parser's recursion
        (b'{"name": ' + b"9" * 5000 + b"}", "application/json", 400),  # over Python's int-digits limit
        (b"{not json", "application/json", 400),
        (b"\xff\xfe{}", "application/json", 400),
        (b"name=%FF%FE", "application/x-www-form-urlencoded", 400),
        (b"name=\xff", "application/x-www-form-urlencoded", 400),
        (b"hello", "text/plain", 415),
        (b"--x\r\n", "multipart/form-data; boundary=x", 415),
    ],
)
async def test_malformed_bodies_get_4xx(
    client: httpx.AsyncClient, content: bytes, ctype: str, status: int
) -> None:
    response = await client.post("/", content=content, headers={**JSON_HEADERS, "Content-Type": ctype})
    assert response.status_code == status
    assert response.json()["error"]


async def test_only_post(client: httpx.AsyncClient) -> None:
    response = await client.get("/", headers=JSON_HEADERS)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


# --------------------------------------------------------------------------- rate limit, outage


async def test_rate_limit_per_client_with_retry_after(tmp_path: Path) -> None:
    # As deployed behind Netlify's signed /api proxy, which appends the visitor's address.
    settings = make_settings(tmp_path, env={"NETLIFY_PROXY_SIGNATURE": PROXY_SECRET}, rate_per_minute=2)
    store = LocalInquiryStore.in_dir(settings.local_dir)
    now = [0.0]
    limiter = RateLimiter(2, clock=lambda: now[0])
    app = create_app(settings, store=store, limiter=limiter)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        sign = {"X-Nf-Sign": netlify_signature()}
        a = {"X-Forwarded-For": "203.0.113.7", **sign}
        for _ in range(2):
            assert (await client.post("/", json=valid(), headers={**JSON_HEADERS, **a})).status_code == 200
        blocked = await client.post("/", json=valid(), headers={**JSON_HEADERS, **a})
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) == 30  # one token refills in 60/2 s
        assert "wait 30 seconds" in blocked.json()["error"]
        # The no-JS visitor gets the form back with the text.
        page = await client.post("/", data=valid(message="Please keep this text for me"), headers=a)
        assert page.status_code == 429 and "Please keep this text for me" in page.text
        # Another client is unaffected.
        other = await client.post(
            "/", json=valid(), headers={**JSON_HEADERS, "X-Forwarded-For": "198.51.100.1", **sign}
        )
        assert other.status_code == 200
        now[0] += 30
        assert (await client.post("/", json=valid(), headers={**JSON_HEADERS, **a})).status_code == 200
    rows = store.all()
    assert len(rows) == 4
    assert all("203.0.113.7" not in json.dumps(r) for r in rows)


async def test_storage_outage_is_503_and_keeps_the_text(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    failing = FailingStore()
    app = create_app(settings, store=failing)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        response = await client.post("/", json=valid(), headers=JSON_HEADERS)
        assert response.status_code == 503
        assert response.json()["ok"] is False
        assert "could not save your message" in response.json()["error"]
        assert response.headers["retry-after"]
        page = await client.post("/", data=valid(message="My carefully typed <b>message</b> survives"))
        assert page.status_code == 503
        assert "My carefully typed &lt;b&gt;message&lt;/b&gt; survives" in page.text
        assert "info@7expertspk.com" in page.text
    assert failing.attempts == 2


async def test_local_store_failure_is_503(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the store's folder should be")
    app = create_app(settings, store=LocalInquiryStore(blocker / "inquiries.sqlite3"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        response = await client.post("/", json=valid(), headers=JSON_HEADERS)
    assert response.status_code == 503


async def test_default_store_is_local_file(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        assert (await client.post("/", json=valid(), headers=JSON_HEADERS)).status_code == 200
    assert len(LocalInquiryStore(tmp_path / "local" / "inquiries.sqlite3").all()) == 1


async def test_mounted_at_api_contact(settings: Settings, store: LocalInquiryStore) -> None:
    outer = Starlette(routes=[Mount("/api/contact", app=create_app(settings, store=store))])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=outer), base_url=BASE) as client:
        page = await client.post("/api/contact/", data=valid(email="nope"))
        assert page.status_code == 422
        assert 'action="/api/contact/"' in page.text
        # Starlette's Mount answers the slash-less path with a 307, which browsers follow with the POST.
        moved = await client.post("/api/contact", data=valid())
        assert moved.status_code == 307 and moved.headers["location"].endswith("/api/contact/")
        ok = await client.post("/api/contact/", data=valid())
        assert ok.status_code == 303 and ok.headers["location"] == "/pk/contact/thanks/"
    assert len(store.all()) == 1


# --------------------------------------------------------------------------- turnstile


class Siteverify:
    """Stands in for Cloudflare's siteverify endpoint on loopback."""

    def __init__(self) -> None:
        self.calls: list[dict[str, str]] = []
        self.app = Starlette(routes=[Route("/siteverify", self.verify, methods=["POST"])])

    async def verify(self, request: Request) -> JSONResponse:
        form = dict(parse_qsl((await request.body()).decode()))
        self.calls.append(form)
        ok = form.get("secret") == "test-secret" and form.get("response") == "good-token"
        return JSONResponse({"success": ok, "error-codes": [] if ok else ["invalid-input-response"]})


async def test_turnstile_verification_against_loopback_endpoint(tmp_path: Path) -> None:
    siteverify = Siteverify()
    with serve(siteverify.app) as url:
        settings = make_settings(tmp_path, env={"TURNSTILE_SECRET_KEY": "test-secret"})
        store = LocalInquiryStore.in_dir(settings.local_dir)
        app = create_app(settings, store=store, turnstile_url=f"{url}/siteverify")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
            missing = await client.post("/", json=valid(), headers=JSON_HEADERS)
            assert missing.status_code == 422
            assert "cf-turnstile-response" in missing.json()["errors"]
            bad = await client.post("/", json=valid(**{"cf-turnstile-response": "bad"}), headers=JSON_HEADERS)
            assert bad.status_code == 422
            good = await client.post(
                "/", json=valid(**{"cf-turnstile-response": "good-token"}), headers=JSON_HEADERS
            )
            assert good.status_code == 200
    assert len(store.all()) == 1
    assert siteverify.calls == [
        {"secret": "test-secret", "response": "bad"},
        {"secret": "test-secret", "response": "good-token"},
    ]  # the visitor's IP (remoteip) is never sent


async def test_turnstile_endpoint_down_is_503(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, env={"TURNSTILE_SECRET_KEY": "s", "TURNSTILE_VERIFY_URL": free_port_url() + "/siteverify"}
    )
    store = LocalInquiryStore.in_dir(settings.local_dir)
    app = create_app(settings, store=store)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        response = await client.post("/", json=valid(**{"cf-turnstile-response": "t"}), headers=JSON_HEADERS)
        assert response.status_code == 503
        assert "spam check" in response.json()["error"]
        page = await client.post("/", data=valid(**{"cf-turnstile-response": "t"}, message="keep me please"))
        assert page.status_code == 503 and "keep me please" in page.text
    assert store.all() == []


# --------------------------------------------------------------------------- notification


async def test_webhook_notification_never_blocks_the_response(tmp_path: Path) -> None:
    received: list[dict[str, Any]] = []
    release = threading.Event()

    async def hook(request: Request) -> JSONResponse:
        received.append(await request.json())
        # Hold the webhook's answer until the test has seen the visitor's response.
        await asyncio.get_running_loop().run_in_executor(None, release.wait, 10)
        return JSONResponse({"ok": True})

    async def broken(request: Request) -> JSONResponse:
        return JSONResponse({"error": "down"}, status_code=500)

    hook_app = Starlette(
        routes=[Route("/hook", hook, methods=["POST"]), Route("/broken", broken, methods=["POST"])]
    )
    with serve(hook_app) as url:
        settings = make_settings(tmp_path, env={"CONTACT_WEBHOOK_URL": f"{url}/hook"})
        store = LocalInquiryStore.in_dir(settings.local_dir)
        notifier = Notifier([webhook_sender(f"{url}/hook"), webhook_sender(f"{url}/broken")])
        app = create_app(settings, store=store, notifier=notifier)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
            response = await client.post("/", json=valid(), headers=JSON_HEADERS)
            assert response.status_code == 200
            assert not release.is_set()  # answered while the webhook is still pending
            release.set()
            await notifier.drain()
    assert notifier.failures == 1  # the broken hook failed quietly
    [payload] = received
    assert payload["type"] == "inquiry"
    assert payload["inquiry"]["email"] == "ayesha@example.com"
    assert payload["inquiry"]["region"] == "pk"
    assert set(payload["inquiry"]) == {
        "region",
        "service",
        "name",
        "email",
        "phone",
        "company",
        "message",
        "consent_at",
        "created_at",
    }
    assert len(store.all()) == 1


async def test_notifier_from_settings_uses_env_variable(tmp_path: Path) -> None:
    from edge.notify import notifier_from_settings

    assert not notifier_from_settings(make_settings(tmp_path)).enabled
    enabled = notifier_from_settings(
        make_settings(tmp_path, env={"CONTACT_WEBHOOK_URL": "http://127.0.0.1:9/x"})
    )
    assert enabled.enabled


def test_created_at_is_timezone_aware_utc(tmp_path: Path) -> None:
    store = LocalInquiryStore(tmp_path / "x.sqlite3")
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    store.add_sync(Inquiry("pk", None, "A", "a@example.com", None, None, "hello world!", moment, moment))
    assert store.all()[0]["created_at"] == "2026-01-02T03:04:05.000000+00:00"


class TinySMTP:
    """Just enough SMTP (EHLO, MAIL, RCPT, DATA, QUIT) on loopback to receive one notification."""

    def __init__(self) -> None:
        import socketserver

        self.messages: list[tuple[str, list[str], bytes]] = []
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                self.wfile.write(b"220 tiny ESMTP\r\n")
                sender, recipients = "", []
                while line := self.rfile.readline():
                    command = line.decode().strip()
                    verb = command.split(" ")[0].upper()
                    if verb in {"EHLO", "HELO"}:
                        self.wfile.write(b"250 tiny\r\n")
                    elif verb == "MAIL":
                        sender = command.split(":", 1)[1].strip(" <>")
                        self.wfile.write(b"250 ok\r\n")
                    elif verb == "RCPT":
                        recipients.append(command.split(":", 1)[1].strip(" <>"))
                        self.wfile.write(b"250 ok\r\n")
                    elif verb == "DATA":
                        self.wfile.write(b"354 go\r\n")
                        data = b""
                        while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                            data += chunk
                        outer.messages.append((sender, recipients, data))
                        self.wfile.write(b"250 queued\r\n")
                    elif verb == "QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:
                        self.wfile.write(b"250 ok\r\n")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]

    def __enter__(self) -> TinySMTP:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


async def test_email_notification_after_storing(tmp_path: Path) -> None:
    from email import message_from_bytes
    from email.policy import default

    from edge.notify import notifier_from_settings

    with TinySMTP() as smtp:
        settings = make_settings(tmp_path, env={"CONTACT_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}"})
        store = LocalInquiryStore.in_dir(settings.local_dir)
        notifier = notifier_from_settings(settings)
        app = create_app(settings, store=store, notifier=notifier)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
            response = await client.post(
                "/",
                json=valid(name="Zoë Ali", message="Please call me about a shop.\nThanks!"),
                headers=JSON_HEADERS,
            )
            assert response.status_code == 200
            await notifier.drain()
    assert notifier.failures == 0
    [(sender, recipients, data)] = smtp.messages
    assert recipients == ["info@7expertspk.com"]  # the site's contact email by default
    mail = message_from_bytes(data, policy=default)
    assert mail["Reply-To"] == "ayesha@example.com"
    assert mail["Subject"] == "New inquiry (pk): Zoë Ali"
    body = mail.get_body().get_content().replace("\r\n", "\n")  # type: ignore[union-attr]
    assert "Please call me about a shop.\nThanks!" in body
    assert "Phone: +923366532777" in body


async def test_edge_app_takes_post_at_api_contact_without_redirect(tmp_path: Path) -> None:
    """The combined edge app (edge/app.py) stores into the local store by default, at the exact path."""
    try:
        from edge.app import create_app as create_edge_app
    except ImportError as exc:  # chat/portal handlers are written by other engineers
        pytest.skip(f"edge.app cannot be imported yet: {exc}")
    settings = make_settings(tmp_path)
    app = create_edge_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        response = await client.post("/api/contact", data=valid())
        assert response.status_code == 303
        assert response.headers["location"] == "/pk/contact/thanks/"
        response = await client.post("/api/contact", json=valid(), headers=JSON_HEADERS)
        assert response.status_code == 200
    assert len(LocalInquiryStore(tmp_path / "local" / "inquiries.sqlite3").all()) == 2


async def test_concurrent_submissions_each_stored_once(
    client: httpx.AsyncClient, store: LocalInquiryStore
) -> None:
    async def send(i: int) -> int:
        response = await client.post(
            "/", json=valid(message=f"Concurrent inquiry number {i}"), headers=JSON_HEADERS
        )
        return response.status_code

    statuses = await asyncio.gather(*(send(i) for i in range(40)))
    assert statuses == [200] * 40
    messages = sorted(r["message"] for r in store.all())
    assert messages == sorted(f"Concurrent inquiry number {i}" for i in range(40))


# --------------------------------------------------------------------------- the app as configured


async def test_turnstile_verify_url_from_the_environment_is_used_without_proxies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # TURNSTILE_VERIFY_URL points the check at another endpoint (a test double, a regional one);
    # proxy variables in the function's environment are not followed.
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, free_port_url())
    siteverify = Siteverify()
    with serve(siteverify.app) as url:
        env = {"TURNSTILE_SECRET_KEY": "test-secret", "TURNSTILE_VERIFY_URL": f"{url}/siteverify"}
        settings = make_settings(tmp_path, env=env)
        store = LocalInquiryStore.in_dir(settings.local_dir)
        app = create_app(settings, store=store)
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
                good = valid(**{"cf-turnstile-response": "good-token"})
                response = await client.post("/", json=good, headers=JSON_HEADERS)
                assert response.status_code == 200
        finally:
            await app.state.handler.aclose()
    assert siteverify.calls == [{"secret": "test-secret", "response": "good-token"}]
    assert len(store.all()) == 1


async def test_shutdown_closes_the_client_the_app_opened_and_only_that(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, env={"TURNSTILE_SECRET_KEY": "s"})
    own = create_app(settings, store=LocalInquiryStore.in_dir(settings.local_dir))
    opened = own.state.handler.turnstile.client
    await own.state.handler.aclose()
    assert opened.is_closed
    async with httpx.AsyncClient() as theirs:
        lent = create_app(settings, store=LocalInquiryStore.in_dir(settings.local_dir), http_client=theirs)
        await lent.state.handler.aclose()
        assert not theirs.is_closed


async def test_json_answers_are_never_cached(client: httpx.AsyncClient) -> None:
    response = await client.post("/", json=valid(), headers=JSON_HEADERS)
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    caught = await client.post("/", json=valid(website="spam"), headers=JSON_HEADERS)
    assert caught.headers["cache-control"] == "no-store"


async def test_an_unknown_region_thanks_on_the_default_regions_page(client: httpx.AsyncClient) -> None:
    # A bot's honeypot post names any region it likes; the answer is still a real page.
    response = await client.post("/", data=valid(website="spam", region="zz"))
    assert response.status_code == 303 and response.headers["location"] == "/intl/contact/thanks/"


async def test_too_long_message_page_tells_the_visitor_what_to_do(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, max_body=2000)
    app = create_app(settings, store=LocalInquiryStore.in_dir(settings.local_dir))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        response = await client.post("/", json=valid(message="a" * 3000), headers=JSON_HEADERS)
    assert response.status_code == 413
    assert response.json()["error"] == (
        "Your message is too long to send (over 2000 bytes) and was not saved. Use your browser's Back "
        "button to return to the form, where your text is still filled in, and shorten it."
    )


async def test_each_refusal_tells_the_visitor_what_happened(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    app = create_app(settings, store=FailingStore())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        wrong_method = await client.get("/", headers=JSON_HEADERS)
        assert (wrong_method.status_code, wrong_method.json()["error"]) == (
            405,
            "Send the contact form with POST.",
        )
        assert wrong_method.headers["allow"] == "POST"
        cross_site = await client.post(
            "/", json=valid(), headers={**JSON_HEADERS, "Origin": "https://evil.example"}
        )
        assert cross_site.json()["error"] == "Cross-site form posts are not accepted."
        invalid = await client.post("/", json=valid(email="nope"), headers=JSON_HEADERS)
        assert invalid.json()["error"] == "Please check the highlighted fields."
        down = await client.post("/", json=valid(), headers=JSON_HEADERS)
        assert down.status_code == 503 and down.headers["retry-after"] == "60"
        assert down.json()["error"] == (
            "We could not save your message just now because our storage is not responding. "
            "Please try again in a few minutes, or email us directly."
        )


async def test_a_browser_opening_the_endpoint_gets_a_page_not_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/", headers={"Accept": "text/html"})
    assert response.status_code == 405 and response.headers["content-type"].startswith("text/html")
    assert "Send the contact form with POST." in response.text


class _Waits:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    async def take(self, key: str) -> float | None:
        return self.seconds


async def test_a_wait_under_a_second_is_announced_as_one_second(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    app = create_app(settings, store=LocalInquiryStore.in_dir(settings.local_dir), limiter=_Waits(0.2))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        response = await client.post("/", json=valid(), headers=JSON_HEADERS)
    assert response.status_code == 429 and response.headers["retry-after"] == "1"
    assert "Please wait 1 seconds" in response.json()["error"]


class _Recording:
    def __init__(self) -> None:
        self.added: list[Inquiry] = []

    async def add(self, inquiry: Inquiry) -> None:
        self.added.append(inquiry)


async def test_inquiries_are_stamped_in_utc(settings: Settings) -> None:
    # What a store sends on (PostgREST's JSON, the local file) carries the UTC offset, whatever the
    # server's own time zone.
    store = _Recording()
    app = create_app(settings, store=store)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        assert (await client.post("/", json=valid(), headers=JSON_HEADERS)).status_code == 200
    [inquiry] = store.added
    assert inquiry.created_at.utcoffset() == timedelta(0) and inquiry.consent_at.utcoffset() == timedelta(0)


class _SharedLimits:
    """PostgREST's ``/rest/v1/rpc/edge_hit`` on loopback: records each call, allows ``allowed`` hits."""

    def __init__(self, allowed: int) -> None:
        self.calls: list[dict[str, Any]] = []
        self.allowed = allowed
        self.app = Starlette(routes=[Route("/rest/v1/rpc/edge_hit", self.hit, methods=["POST"])])

    async def hit(self, request: Request) -> JSONResponse:
        self.calls.append(await request.json())
        return JSONResponse(0 if len(self.calls) <= self.allowed else 42)


async def test_with_supabase_the_contact_limit_is_counted_in_the_shared_contact_bucket(
    tmp_path: Path,
) -> None:
    limits = _SharedLimits(allowed=1)
    with serve(limits.app) as url:
        settings = make_settings(
            tmp_path,
            env={"SUPABASE_URL": url, "SUPABASE_PUBLISHABLE_KEY": "sb_publishable_x"},
            rate_per_minute=7,
        )
        assert settings.uses_supabase
        app = create_app(settings, store=LocalInquiryStore.in_dir(settings.local_dir))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
            first = await client.post("/", json=valid(), headers=JSON_HEADERS)
            second = await client.post("/", json=valid(), headers=JSON_HEADERS)
        counters = app.state.handler.counters
        await app.state.handler.aclose()
    assert (first.status_code, second.status_code) == (200, 429) and second.headers["retry-after"] == "42"
    assert [(c["p_bucket"], c["p_limit"], c["p_window_seconds"]) for c in limits.calls] == [
        ("contact", 7, 60)
    ] * 2
    assert counters.client.is_closed


async def test_a_site_without_a_thanks_page_thanks_on_the_home_page(tmp_path: Path) -> None:
    pages = {path: text for path, text in EDGE_SITE_FILES.items() if "thanks" not in path}
    directory = write_edge(tmp_path / "edge-data", contact_site_yaml(), pages, production=False)
    settings = load_settings(environ={}, data_dir=directory, local_dir=tmp_path / "local")
    app = create_app(settings, store=LocalInquiryStore.in_dir(settings.local_dir))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        response = await client.post("/", data=valid())
    assert response.status_code == 303 and response.headers["location"] == "/"


async def test_a_spam_check_endpoint_that_never_answers_is_a_503_not_a_hang(tmp_path: Path) -> None:
    # The app's own client gives Cloudflare 10 seconds; the outer bound only keeps a hang from
    # stalling the suite.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/siteverify"
        settings = make_settings(tmp_path, env={"TURNSTILE_SECRET_KEY": "s", "TURNSTILE_VERIFY_URL": url})
        app = create_app(settings, store=LocalInquiryStore.in_dir(settings.local_dir))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
            post = client.post("/", json=valid(**{"cf-turnstile-response": "t"}), headers=JSON_HEADERS)
            response = await asyncio.wait_for(post, 60)
        await app.state.handler.aclose()
    assert response.status_code == 503


async def test_a_silent_spam_check_holds_a_visitor_for_ten_seconds_at_most(tmp_path: Path) -> None:
    """The bound a slow Cloudflare gets: the app's own client gives up after 10 s on every phase
    (waiting 10 s here would only test httpx; the never-answering endpoint test proves it is applied)."""
    settings = make_settings(tmp_path, env={"TURNSTILE_SECRET_KEY": "s"})
    app = create_app(settings, store=LocalInquiryStore.in_dir(settings.local_dir))
    try:
        assert app.state.handler.turnstile.client.timeout == httpx.Timeout(10.0)
    finally:
        await app.state.handler.aclose()
