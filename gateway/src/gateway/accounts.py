"""The accounts the gateway signs in (the development issuer's demo accounts) and what it knows of
each at run time: whether it is disabled and its token version (revoking raises it, and every token
of an older version is refused). That state is a small JSON file in the key folder, read again when
it changes, so every gateway process sharing the folder refuses a revoked token at once.
"""

from __future__ import annotations

import hmac
import json
import os
import threading
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from shared.auth import Principal, Role, TokenVerifier
from shared.auth.verify import ACCESS, unauthenticated
from shared.identity import IdType, normalize_id, person_id_for

STATE_FILE = "account-state.json"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    description: str
    principal: Principal

    def password_matches(self, candidate: str) -> bool:
        return hmac.compare_digest(self.password.encode(), candidate.encode())


@cache
def load_demo_accounts(person_key: str = "development-only-person-key-change-me") -> tuple[DemoAccount, ...]:
    raw = json.loads(resources.files("gateway").joinpath("demo_accounts.json").read_text(encoding="utf-8"))
    return tuple(_account(entry, person_key.encode()) for entry in raw["accounts"])


def _account(entry: dict, key: bytes) -> DemoAccount:
    person_id = None
    if entry.get("id_number"):
        id_type = IdType(entry["id_type"])
        person_id = person_id_for(id_type, normalize_id(id_type, entry["id_number"]), key)
    principal = Principal(
        subject=entry["username"],
        role=Role(entry["role"]),
        name=entry.get("name"),
        office_code=entry.get("office"),
        office_level=entry.get("office_level"),
        person_id=person_id,
        unit_id=entry.get("unit_id"),
        facility_id=entry.get("facility_id"),
    )
    return DemoAccount(entry["username"], entry["password"], entry["description"], principal)


def find_account(username: str, password: str, person_key: str) -> DemoAccount | None:
    for account in load_demo_accounts(person_key):
        if account.username == username and account.password_matches(password):
            return account
    return None


class TestAccounts:
    """The accounts a test platform lists besides the demo accounts (people the tests make up, other
    regions' staff, a peer office's principal), each with what it is listed as. The tests write the
    file (``shared.testing.tokens``) while the gateway runs, so it is read again when it changes."""

    def __init__(self, path: Path):
        self._path = path
        self._accounts: dict[str, dict] = {}
        self._stamp: tuple[int, int, int] | None = None

    def listed_as(self, subject: str) -> dict | None:
        # A subject not seen yet reads the file again even at an unchanged stamp: a test lists a
        # person and sends their token within the file system's timestamp granularity.
        return self._read().get(subject) or self._read(again=True).get(subject)

    def _read(self, again: bool = False) -> dict[str, dict]:
        try:
            status = self._path.stat()
        except FileNotFoundError:
            return self._accounts
        stamp = (status.st_ino, status.st_mtime_ns, status.st_size)
        if again or stamp != self._stamp:
            try:
                self._accounts = dict(json.loads(self._path.read_text(encoding="utf-8"))["accounts"])
                self._stamp = stamp
            except (OSError, ValueError, KeyError):
                pass  # a file being replaced: the last list read stands until the next request
        return self._accounts


def _as_listed(principal: Principal) -> dict:
    """What a test account is listed as: its tokens' claims but the token version."""
    return {k: v for k, v in principal.to_claims().items() if k != "ver"}


class AccountDirectory:
    """Who may hold a token: listed, not disabled, and of the account's current token version. A test
    platform lists more accounts in a file (``tests``); a token of such an account must claim what it
    was listed as."""

    def __init__(
        self, accounts: tuple[DemoAccount, ...], state_file: Path, tests: TestAccounts | None = None
    ):
        self._accounts = {a.username: a for a in accounts}
        self._state_file = state_file
        self._tests = tests
        self._lock = threading.Lock()
        self._state: dict = {"disabled": [], "versions": {}}
        self._stamp: float | None = None

    def known(self, username: str) -> bool:
        listed_for_tests = self._tests is not None and self._tests.listed_as(username) is not None
        return username in self._accounts or listed_for_tests

    def sign_in(self, username: str, password: str) -> Principal | None:
        account = self._accounts.get(username)
        # The password is compared even for an unknown name, so timing does not tell names apart.
        candidate = account or _NOBODY
        matches = candidate.password_matches(password)
        if account is None or not matches or self.disabled(username):
            return None
        return self.principal(username)

    def principal(self, username: str) -> Principal:
        return self._accounts[username].principal.model_copy(update={"token_version": self.version(username)})

    def check(self, principal: Principal) -> None:
        """Refuse the token of an unknown or disabled account, or of a revoked version."""
        if principal.subject not in self._accounts and not self._listed_for_tests(principal):
            raise unauthenticated("账号不存在")
        state = self._read()  # once per request: each read looks at the state file's time
        if principal.subject in state["disabled"]:
            raise unauthenticated("账号已停用")
        if principal.token_version != int(state["versions"].get(principal.subject, 0)):
            raise unauthenticated("令牌已被撤销，请重新登录")

    def _listed_for_tests(self, principal: Principal) -> bool:
        listed = self._tests.listed_as(principal.subject) if self._tests is not None else None
        return listed is not None and listed == _as_listed(principal)

    def disabled(self, username: str) -> bool:
        return username in self._read()["disabled"]

    def version(self, username: str) -> int:
        return int(self._read()["versions"].get(username, 0))

    def revoke(self, username: str) -> int:
        """Raise the account's token version: every token issued before is refused from now on."""
        with self._lock:
            state = self._read()
            state["versions"][username] = int(state["versions"].get(username, 0)) + 1
            self._write(state)
            return state["versions"][username]

    def set_disabled(self, username: str, disabled: bool) -> None:
        with self._lock:
            state = self._read()
            names = set(state["disabled"])
            names = names | {username} if disabled else names - {username}
            state["disabled"] = sorted(names)
            self._write(state)

    def _read(self) -> dict:
        try:
            stamp = self._state_file.stat().st_mtime_ns
        except FileNotFoundError:
            return self._state
        if stamp != self._stamp:
            try:
                loaded = json.loads(self._state_file.read_text(encoding="utf-8"))
                self._state = {
                    "disabled": list(loaded.get("disabled", [])),
                    "versions": dict(loaded.get("versions", {})),
                }
                self._stamp = stamp
            except (OSError, ValueError):
                pass  # a file being replaced: the last state read stands until the next request
        return self._state

    def _write(self, state: dict) -> None:
        self._state_file.parent.mkdir(parents=True, exist_ok=True)
        scratch = self._state_file.with_suffix(f".{os.getpid()}.tmp")
        scratch.write_text(json.dumps(state, ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(scratch, self._state_file)
        self._state, self._stamp = state, None


_NOBODY = DemoAccount("", "\x00never-a-password", "", Principal(subject="-", role=Role.ops))


class CheckedVerifier:
    """The token verifier the gateway uses everywhere: signature, lifetime and use (TokenVerifier),
    then the account (AccountDirectory.check). Without a directory (an outside identity provider
    signs the tokens) only the first part applies."""

    def __init__(self, inner: TokenVerifier, directory: AccountDirectory | None):
        self.inner, self.directory = inner, directory

    async def verify(self, token: str, use: str = ACCESS) -> Principal:
        principal = await self.inner.verify(token, use)
        if self.directory is not None:
            self.directory.check(principal)
        return principal
