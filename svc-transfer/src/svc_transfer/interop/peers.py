"""The peer offices this deployment exchanges with: their address, their keys and the procedure (SLA
profile) that applies between us. Read from a JSON file, re-read when it changes, so an operator adds
a peer or rotates a key without a restart:

    {"peers": [{"office_code": "130200", "name": "唐山市医疗保障经办机构",
                "url": "https://ybjb.tangshan.example/", "profile": "seeds_5_10_5",
                "keys": [{"kty": "EC", "crv": "P-256", "x": "…", "y": "…", "kid": "…"}]}]}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import jwt
from pydantic import BaseModel, Field, field_validator

from shared.errors import Problem
from svc_transfer.domain.profiles import DEFAULT_PROFILE, PROFILES, SlaProfile
from svc_transfer.interop.protocol import ALGORITHM


class PeerEntry(BaseModel):
    office_code: str = Field(pattern=r"^\d{6}$")
    name: str
    url: str | None = None  # None: no exchange with this office (a province-internal move)
    profile: str = DEFAULT_PROFILE
    keys: list[dict] = []

    @field_validator("profile")
    @classmethod
    def _known_profile(cls, value: str) -> str:
        if value not in PROFILES:
            raise ValueError(f"unknown SLA profile {value!r}; known: {', '.join(PROFILES)}")
        return value


@dataclass(frozen=True)
class Peer:
    office_code: str
    name: str
    url: str | None
    profile: SlaProfile
    keys: dict[str, jwt.PyJWK]

    def key(self, kid: str | None) -> jwt.PyJWK | None:
        if kid is None and len(self.keys) == 1:
            return next(iter(self.keys.values()))
        return self.keys.get(kid or "")


class PeerDirectory:
    """The peers file, re-read when it changes. A file that cannot be read or breaks a rule is not
    applied: the last good configuration stays in use and `error` says what is wrong (the service
    reports itself not ready with it) until the file is corrected."""

    def __init__(self, path: Path | None):
        self.path = path
        self._stamp: float | None = None
        self._peers: dict[str, Peer] = {}
        self.error: str | None = None

    def all(self) -> dict[str, Peer]:
        self._reload_if_changed()
        return self._peers

    def get(self, office_code: str) -> Peer | None:
        return self.all().get(office_code)

    def require(self, office_code: str) -> Peer:
        peer = self.get(office_code)
        if peer is None:
            raise Problem(
                422,
                "unknown_peer_office",
                "转出地经办机构不在对接名单中",
                f"本机构尚未与 {office_code} 建立转移接续对接，请联系运维人员配置",
                errors=[{"field": "certificate.issuing_office", "message": "未对接的经办机构"}],
            )
        return peer

    def _reload_if_changed(self) -> None:
        if self.path is None or not self.path.exists():
            self._peers, self._stamp, self.error = {}, None, None
            return
        stamp = self.path.stat().st_mtime_ns
        if stamp == self._stamp:
            return
        self._stamp = stamp
        try:
            entries = [
                PeerEntry.model_validate(p)
                for p in json.loads(self.path.read_text(encoding="utf-8"))["peers"]
            ]
            peers = {e.office_code: _peer(e) for e in entries}
        except (OSError, ValueError, KeyError, TypeError, jwt.PyJWTError) as exc:
            self.error = f"对接配置文件 {self.path.name} 无效，仍使用上次有效的配置：{type(exc).__name__}: {str(exc)[:300]}"
            return
        self._peers, self.error = peers, None


def _peer(entry: PeerEntry) -> Peer:
    keys = {k.get("kid", ""): jwt.PyJWK(k, algorithm=ALGORITHM) for k in entry.keys}
    return Peer(
        entry.office_code,
        entry.name,
        entry.url.rstrip("/") if entry.url else None,
        PROFILES[entry.profile],
        keys,
    )


def write_peers(path: Path, peers: list[dict]) -> None:
    """Write a peers file (deployment tooling and tests)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"peers": peers}, ensure_ascii=False, indent=2), encoding="utf-8")
