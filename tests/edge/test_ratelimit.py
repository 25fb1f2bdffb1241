from edge.ratelimit import RateLimiter, client_key


def scope(client: str, xff: str | None = None) -> dict[str, object]:
    headers = [(b"x-forwarded-for", xff.encode())] if xff else []
    return {"type": "http", "client": (client, 1234), "headers": headers}


def test_forwarded_header_ignored_unless_behind_a_trusted_proxy() -> None:
    # Without trusted hops a visitor cannot pick a fresh identity per request.
    assert client_key(scope("10.0.0.1", "1.1.1.1"), trusted_hops=0) == client_key(
        scope("10.0.0.1", "2.2.2.2"), trusted_hops=0
    )
    # Behind one proxy, the proxy's appended address counts, not what the visitor wrote before it.
    spoof_a = client_key(scope("10.0.0.9", "6.6.6.6, 203.0.113.7"), trusted_hops=1)
    spoof_b = client_key(scope("10.0.0.9", "7.7.7.7, 203.0.113.7"), trusted_hops=1)
    other = client_key(scope("10.0.0.9", "198.51.100.2"), trusted_hops=1)
    assert spoof_a == spoof_b != other
    assert "203.0.113.7" not in spoof_a


def test_token_bucket_refills_over_time() -> None:
    now = [0.0]
    limiter = RateLimiter(per_minute=2, clock=lambda: now[0])
    assert limiter.hit("a") is None and limiter.hit("a") is None
    wait = limiter.hit("a")
    assert wait is not None and 29 < wait <= 30
    assert limiter.hit("b") is None
    now[0] = 30.0
    assert limiter.hit("a") is None
