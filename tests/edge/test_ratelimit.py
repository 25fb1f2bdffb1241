"""Which client address is believed, and the in-process token bucket."""

from __future__ import annotations

import time

from edge.ratelimit import RateLimiter, Trust, Visitors, client_key
from tests.support.edgesite import PROXY_SECRET as SECRET
from tests.support.edgesite import netlify_signature as netlify_sign


def scope(client: str, **headers: str) -> dict[str, object]:
    pairs = [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    return {"type": "http", "client": (client, 1234), "headers": pairs}


def test_forged_forwarding_headers_change_nothing_on_a_direct_request() -> None:
    # Once: with SITEGEN_TRUSTED_PROXY_HOPS=1 any X-Forwarded-For was believed (8 forged addresses, 8 x 200).
    netlify = Trust(netlify_secret=SECRET)
    plain = client_key(scope("198.51.100.7"), netlify)
    for headers in (
        {"x_forwarded_for": "1.1.1.1"},
        {"x_forwarded_for": "6.6.6.6, 203.0.113.7"},
        {"x_nf_client_connection_ip": "2.2.2.2"},
        {"x_real_ip": "3.3.3.3", "x_vercel_forwarded_for": "4.4.4.4"},
        {"x_nf_sign": "forged.token.here", "x_forwarded_for": "5.5.5.5"},
        {
            "x_nf_sign": netlify_sign("another-secret-of-enough-length-0123456789"),
            "x_forwarded_for": "5.5.5.5",
        },
        {"x_nf_sign": netlify_sign(exp=int(time.time()) - 10), "x_forwarded_for": "5.5.5.5"},
        {"x_nf_sign": netlify_sign(iss="someone"), "x_forwarded_for": "5.5.5.5"},
    ):
        assert client_key(scope("198.51.100.7", **headers), netlify) == plain, headers


def test_signed_netlify_proxy_gives_the_visitor_address() -> None:
    netlify = Trust(netlify_secret=SECRET)
    sign = netlify_sign()
    # Netlify appends the visitor's address; what the visitor wrote before it does not count.
    a = client_key(scope("10.0.0.9", x_nf_sign=sign, x_forwarded_for="6.6.6.6, 203.0.113.7"), netlify)
    b = client_key(scope("10.0.0.10", x_nf_sign=sign, x_forwarded_for="7.7.7.7, 203.0.113.7"), netlify)
    c = client_key(scope("10.0.0.9", x_nf_sign=sign, x_forwarded_for="198.51.100.2"), netlify)
    assert a == b != c
    assert "203.0.113.7" not in a


def test_vercel_runtime_header_only_on_vercel() -> None:
    on_vercel, elsewhere = Trust(vercel=True), Trust()
    one = scope("10.0.0.1", x_vercel_forwarded_for="203.0.113.7")
    two = scope("10.0.0.2", x_vercel_forwarded_for="203.0.113.7")
    assert client_key(one, on_vercel) == client_key(two, on_vercel)
    assert client_key(one, elsewhere) != client_key(two, elsewhere)


def test_keys_agree_across_processes_with_a_secret_and_rotate_daily() -> None:
    a = Visitors(Trust(), "shared-secret").key(scope("198.51.100.7"))
    b = Visitors(Trust(), "shared-secret").key(scope("198.51.100.7"))
    assert a == b and len(a) == 32
    assert Visitors(Trust(), "other-secret").key(scope("198.51.100.7")) != a


def test_token_bucket_refills_over_time() -> None:
    now = [0.0]
    limiter = RateLimiter(per_minute=2, clock=lambda: now[0])
    assert limiter.hit("a") is None and limiter.hit("a") is None
    wait = limiter.hit("a")
    assert wait is not None and 29 < wait <= 30
    assert limiter.hit("b") is None
    now[0] = 30.0
    assert limiter.hit("a") is None
