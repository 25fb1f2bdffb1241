"""Which client address is believed, and the in-process token bucket."""

from __future__ import annotations

import time

from edge.ratelimit import RateLimiter, Trust, Visitors, client_key, day_key
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


def _same_client(trust: Trust, a: dict[str, object], b: dict[str, object]) -> bool:
    return client_key(a, trust) == client_key(b, trust)


def test_trust_comes_from_the_environment() -> None:
    env = {"NETLIFY_PROXY_SIGNATURE": f"  {SECRET}  ", "VERCEL": "1"}
    assert Trust.from_env(env, "NETLIFY_PROXY_SIGNATURE") == Trust(netlify_secret=SECRET, vercel=True)
    assert (
        Trust.from_env({"NETLIFY_PROXY_SIGNATURE": "  ", "VERCEL": "true"}, "NETLIFY_PROXY_SIGNATURE")
        == Trust()
    )
    assert Trust.from_env({"NETLIFY_PROXY_SIGNATURE": SECRET}, "") == Trust()
    assert Trust.from_env({}, "NETLIFY_PROXY_SIGNATURE") == Trust()  # named but not set


def test_an_oversized_netlify_signature_is_not_believed() -> None:
    netlify = Trust(netlify_secret=SECRET)
    # Netlify's signatures are a few hundred bytes; 4096 is the most believed.
    signs = (netlify_sign(pad="x" * n) for n in range(2800, 3000))
    fits = next(sign for sign in signs if len(sign) == 4096)
    over = next(sign for sign in signs if len(sign) > 4096)
    direct = scope("10.0.0.9")
    assert not _same_client(netlify, scope("10.0.0.9", x_nf_sign=fits, x_forwarded_for="203.0.113.7"), direct)
    assert _same_client(netlify, scope("10.0.0.9", x_nf_sign=over, x_forwarded_for="203.0.113.7"), direct)


def test_netlify_signature_without_expiry_is_not_believed() -> None:
    import jwt

    netlify = Trust(netlify_secret=SECRET)
    no_exp = jwt.encode({"iss": "netlify"}, SECRET, algorithm="HS256")
    assert _same_client(
        netlify, scope("10.0.0.9", x_nf_sign=no_exp, x_forwarded_for="203.0.113.7"), scope("10.0.0.9")
    )


def test_netlify_connection_ip_is_preferred_and_an_empty_chain_falls_back_to_the_socket() -> None:
    netlify = Trust(netlify_secret=SECRET)
    sign = netlify_sign()
    visitor = scope("10.0.0.1", x_nf_sign=sign, x_forwarded_for="203.0.113.7")
    both = scope(
        "10.0.0.2", x_nf_sign=sign, x_nf_client_connection_ip="203.0.113.7", x_forwarded_for="6.6.6.6"
    )
    assert _same_client(netlify, both, visitor)
    empty_chain = scope("10.0.0.3", x_nf_sign=sign, x_forwarded_for=" , ")
    assert _same_client(netlify, empty_chain, scope("10.0.0.3"))
    no_chain = scope("10.0.0.3", x_nf_sign=sign)
    assert _same_client(netlify, no_chain, scope("10.0.0.3"))
    assert not _same_client(netlify, empty_chain, scope("10.0.0.4", x_nf_sign=sign, x_forwarded_for=" , "))


def test_vercel_takes_the_first_forwarded_address_then_the_real_ip_then_the_socket() -> None:
    vercel = Trust(vercel=True)
    first = scope("10.0.0.1", x_vercel_forwarded_for="203.0.113.7, 10.1.1.1")
    assert _same_client(vercel, first, scope("10.0.0.2", x_vercel_forwarded_for="203.0.113.7"))
    assert _same_client(vercel, scope("10.0.0.3", x_real_ip="203.0.113.7"), first)
    assert not _same_client(vercel, scope("10.0.0.4"), scope("10.0.0.5"))


def test_a_request_without_a_client_address_still_gets_a_key() -> None:
    anonymous = {"type": "http", "headers": []}
    assert client_key(anonymous) == client_key({"type": "http", "client": None, "headers": []})
    assert client_key(anonymous) == Visitors(Trust(), None).key(anonymous)
    assert Trust().address(anonymous) == "unknown"


def test_the_client_key_secret_comes_from_the_environment() -> None:
    one = Visitors.from_env({"SITEGEN_CLIENT_KEY_SECRET": " shared "}, "").key(scope("198.51.100.7"))
    two = Visitors(Trust(), "shared").key(scope("198.51.100.7"))
    assert one == two
    for env in ({"SITEGEN_CLIENT_KEY_SECRET": "  "}, {}):
        assert Visitors.from_env(env, "").secret is None  # the per-process secret


def test_the_hashing_key_changes_at_midnight_utc_and_not_before() -> None:
    midnight = 86400.0 * 20000
    assert day_key(b"s", midnight - 1) != day_key(b"s", midnight)
    assert day_key(b"s", midnight) == day_key(b"s", midnight + 86399)
    assert day_key(b"s", midnight) != day_key(b"t", midnight)
    assert day_key(None, midnight) == day_key(None, midnight)  # the per-process secret


def test_burst_defaults_to_the_per_minute_limit_and_can_be_set() -> None:
    now = [0.0]
    five = RateLimiter(per_minute=5, clock=lambda: now[0])
    assert [five.hit("a") is None for _ in range(6)] == [True] * 5 + [False]
    burst = RateLimiter(per_minute=5, burst=2, clock=lambda: now[0])
    assert [burst.hit("a") is None for _ in range(3)] == [True, True, False]
    slow = RateLimiter(per_minute=0.5, clock=lambda: now[0])
    assert slow.hit("a") is None and slow.hit("a") == 120.0


def test_a_zero_rate_limiter_asks_for_a_minute() -> None:
    limiter = RateLimiter(per_minute=0, burst=1, clock=lambda: 0.0)
    assert limiter.hit("a") is None and limiter.hit("a") == 60.0


def test_a_full_table_forgets_only_clients_whose_bucket_has_refilled() -> None:
    now = [0.0]
    # Two requests a second, one at a time: an emptied bucket is full again after half a second.
    limiter = RateLimiter(per_minute=120, burst=1, clock=lambda: now[0], max_clients=3)
    assert limiter.hit("a") is None
    now[0] = 0.25
    assert limiter.hit("b") is None and limiter.hit("c") is None
    now[0] = 0.5  # a has just refilled, b and c have not
    assert limiter.hit("d") is None
    assert limiter.hit("b") is not None  # b was kept and is still limited
    assert limiter.hit("c") is not None


def test_a_table_full_of_active_clients_is_cleared() -> None:
    now = [0.0]
    limiter = RateLimiter(per_minute=60, burst=1, clock=lambda: now[0], max_clients=2)
    assert limiter.hit("a") is None and limiter.hit("b") is None
    assert limiter.hit("c") is None  # nobody had refilled: the table starts again
    assert limiter.hit("a") is None


def test_the_default_table_holds_fifty_thousand_clients() -> None:
    limiter = RateLimiter(per_minute=1, clock=lambda: 0.0)
    for n in range(50_000):
        limiter.hit(str(n))
    assert limiter.hit("0") is not None  # all 50,000 kept
    assert limiter.hit("new") is None  # the 50,001st: the table is cleared
    assert limiter.hit("0") is None


def test_the_wait_counts_the_part_of_a_request_already_refilled() -> None:
    now = [0.0]
    limiter = RateLimiter(per_minute=2, burst=1, clock=lambda: now[0])
    assert limiter.hit("a") is None
    now[0] = 15.0  # half a request refilled: 15 more seconds
    assert limiter.hit("a") == 15.0
