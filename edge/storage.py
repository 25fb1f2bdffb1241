"""Supabase Storage API calls (plain httpx).

Visitor calls carry the user's token so storage.objects RLS decides; only
retention passes the service key.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx


class StorageError(RuntimeError):
    """The Storage API refused or failed; the message names the call and status."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        # Storage's own code when its answer has one: it sends HTTP 400 with
        # {"statusCode": "404", "error": "not_found", ...} for an object that does not exist.
        self.status = status

    @property
    def not_found(self) -> bool:
        return self.status == 404


def _status(response: httpx.Response) -> int:
    try:
        code = response.json().get("statusCode")
        return int(code) if code is not None else response.status_code
    except (ValueError, AttributeError, TypeError):
        return response.status_code


class Storage:
    def __init__(self, supabase_url: str, api_key: str, *, client: httpx.Client | None = None) -> None:
        self.base = supabase_url.rstrip("/") + "/storage/v1"
        self.api_key = api_key
        self.client = client or httpx.Client(timeout=10)

    def _call(self, method: str, path: str, token: str, body: Any) -> Any:
        headers = {"apikey": self.api_key, "authorization": f"Bearer {token}"}
        try:
            r = self.client.request(method, self.base + path, headers=headers, json=body)
        except httpx.HTTPError as exc:
            raise StorageError(f"{method} {path}: {exc}") from exc
        if r.status_code >= 300:
            raise StorageError(f"{method} {path}: HTTP {r.status_code} {r.text[:200]}", _status(r))
        return r.json() if r.content else None

    @staticmethod
    def _obj(bucket: str, path: str) -> str:
        return f"{quote(bucket, safe='')}/{quote(path, safe='/')}"

    def signed_upload_url(self, bucket: str, path: str, token: str) -> str:
        data = self._call("POST", f"/object/upload/sign/{self._obj(bucket, path)}", token, {})
        return self.base + str(data["url"])

    def signed_download_url(self, bucket: str, path: str, token: str, seconds: int) -> str:
        data = self._call("POST", f"/object/sign/{self._obj(bucket, path)}", token, {"expiresIn": seconds})
        return self.base + str(data.get("signedURL") or data["signedUrl"])

    def delete(self, bucket: str, paths: list[str], service_key: str) -> list[str]:
        if not paths:
            return []
        data = self._call("DELETE", f"/object/{quote(bucket, safe='')}", service_key, {"prefixes": paths})
        return [str(o.get("name")) for o in data or []]
