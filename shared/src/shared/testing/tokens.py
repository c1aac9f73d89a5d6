"""Tokens for people the tests make up, listed with the gateway like any account.

The gateway refuses the token of a subject it does not list, in every environment. Tests that need
callers beyond the demo accounts (a person enrolled a moment ago, another region's clerk, a peer
office's principal) register each one in the test platform's account file before signing its token
with the development issuer's key; the test platform hands that file to its gateway
(``YB_GATEWAY_TEST_ACCOUNTS_FILE``, refused in production). A listed subject is held to what it was
listed as: a token claiming another role or office for it is refused.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any

from shared.auth.issuer import DevIssuer
from shared.auth.principal import Principal
from shared.testing.service_app import AUDIENCE, ISSUER

TEST_ACCOUNTS_FILE = "test-accounts.json"


def listed_principal(principal: Principal) -> dict[str, Any]:
    """What an account is listed as: the claims of its tokens but the token version."""
    return {k: v for k, v in principal.to_claims().items() if k != "ver"}


def register(accounts_file: Path, *principals: Principal) -> None:
    """List the subjects in the test account file (under a lock: test processes write it at once); the
    whole file is rewritten each time, so list many at once where they are known beforehand."""
    accounts_file.parent.mkdir(parents=True, exist_ok=True)
    with open(accounts_file.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            accounts = json.loads(accounts_file.read_text(encoding="utf-8"))["accounts"]
        except FileNotFoundError:
            accounts = {}
        accounts |= {principal.subject: listed_principal(principal) for principal in principals}
        scratch = accounts_file.with_suffix(f".{os.getpid()}.tmp")
        scratch.write_text(json.dumps({"accounts": accounts}, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(scratch, accounts_file)


class ListingIssuer:
    """The development issuer of the platform in `keys_dir`, listing each principal with its gateway
    before signing (``issue`` as ``DevIssuer.issue``). A principal without a token version gets the
    account's first (0), which the gateway expects of a new account."""

    def __init__(self, keys_dir: Path):
        self.keys_dir = keys_dir
        self._issuer = DevIssuer.load_or_create(keys_dir, ISSUER, AUDIENCE)
        self._listed: dict[str, dict[str, Any]] = {}  # by this issuer (entries are never removed)

    def list(self, principals: list[Principal]) -> None:
        """List the principals not listed yet, in one write of the file."""
        fresh = [p for p in principals if self._listed.get(p.subject) != listed_principal(p)]
        if fresh:
            register(self.keys_dir / TEST_ACCOUNTS_FILE, *fresh)
            self._listed |= {p.subject: listed_principal(p) for p in fresh}

    def issue(self, principal: Principal, ttl_s: int = 3600, now: float | None = None) -> str:
        self.list([principal])
        if principal.token_version is None:
            principal = principal.model_copy(update={"token_version": 0})
        return self._issuer.issue(principal, ttl_s=ttl_s, now=now)


def listed_token(keys_dir: Path, principal: Principal, *, ttl_s: int = 3600) -> str:
    """A token of the platform in `keys_dir` for `principal`, listed first with its gateway."""
    return ListingIssuer(keys_dir).issue(principal, ttl_s=ttl_s)
