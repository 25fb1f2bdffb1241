"""Token helpers: the claims Supabase Auth issues, and keys verifiable through their JWKS."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

import jwt
import pytest

from tests.support.jwt import (
    TEST_JWT_SECRET,
    anon_key,
    generate_signing_key,
    hs256_with_public_key,
    jwks,
    service_role_key,
    sign_hs256,
    unsigned_token,
    user_claims,
)


def test_user_claims_look_like_a_supabase_access_token() -> None:
    user_id = uuid.uuid4()
    claims = user_claims(
        user_id,
        "sana@example.pk",
        issuer="https://x.supabase.co/auth/v1",
        expires_in=60,
        app_metadata={"provider": "email", "staff": True},
    )
    assert claims["sub"] == str(user_id)
    assert claims["role"] == "authenticated" and claims["aud"] == "authenticated"
    assert claims["iss"] == "https://x.supabase.co/auth/v1"
    assert claims["exp"] - claims["iat"] == 60
    assert claims["app_metadata"]["staff"] is True
    assert {"email", "phone", "user_metadata", "aal", "amr", "session_id", "is_anonymous"} <= set(claims)
    assert user_claims(user_id, role="anon", aud="x")["aud"] == "x"  # extra claims override


def test_hs256_keys_verify_with_the_secret_only() -> None:
    for token, role in ((anon_key(), "anon"), (service_role_key(), "service_role")):
        assert jwt.decode(token, TEST_JWT_SECRET, algorithms=["HS256"])["role"] == role
        with pytest.raises(jwt.InvalidSignatureError):
            jwt.decode(token, TEST_JWT_SECRET + "x", algorithms=["HS256"])
    expired = sign_hs256(user_claims(uuid.uuid4(), expires_in=-1))
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(expired, TEST_JWT_SECRET, algorithms=["HS256"], audience="authenticated")


@pytest.mark.parametrize("algorithm", ["ES256", "RS256"])
def test_asymmetric_keys_verify_through_their_jwks(algorithm: str) -> None:
    key, other = generate_signing_key(algorithm), generate_signing_key(algorithm)
    document = jwks(key, other)
    assert [k["kid"] for k in document["keys"]] == [key.kid, other.kid]
    assert all("d" not in k for k in document["keys"])  # public parts only
    token = key.sign(user_claims("u-1"))
    kid = jwt.get_unverified_header(token)["kid"]
    public = jwt.PyJWK(next(k for k in document["keys"] if k["kid"] == kid))
    assert jwt.decode(token, public, algorithms=[algorithm], audience="authenticated")["sub"] == "u-1"
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, jwt.PyJWK(other.public_jwk), algorithms=[algorithm], audience="authenticated")


def test_alg_none_and_hs256_with_public_key_are_forgeries_a_verifier_must_refuse() -> None:
    key = generate_signing_key("RS256")
    forged_none = unsigned_token(user_claims("u-1"))
    assert forged_none.endswith(".")  # no signature at all
    with pytest.raises(jwt.InvalidAlgorithmError):
        jwt.decode(forged_none, key.public_pem, algorithms=["RS256"])
    # PyJWT itself refuses to sign HS256 with a PEM public key, the classic confusion attack.
    with pytest.raises(jwt.InvalidKeyError):
        jwt.encode(user_claims("u-1"), key.public_pem, algorithm="HS256")
    forged = hs256_with_public_key(user_claims("u-1"), key)
    assert jwt.get_unverified_header(forged)["alg"] == "HS256"
    # It really is a valid HMAC over the public key bytes...
    signing_input, _, signature = forged.rpartition(".")
    expected = hmac.new(key.public_pem, signing_input.encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)) == expected
    # ...and a verifier with an algorithm allow-list refuses it.
    with pytest.raises(jwt.InvalidAlgorithmError):
        jwt.decode(forged, key.public_pem, algorithms=["RS256"])
