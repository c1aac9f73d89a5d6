"""The inter-office protocol: signed messages between this office and the offices of other regions.

A message is a compact JWS (ES256) whose header names the key (``kid``) and whose claims are:
``mid`` message id (UUID), ``typ`` message type, ``iss`` sender office code, ``aud`` receiver office
code, ``iat`` seconds since the epoch when this attempt was signed, ``ref`` the transfer it concerns
(the incoming office's case id) and ``body``. It is POSTed to the receiver's
``/interop/v1/messages`` with ``Content-Type: application/jose``; the answer to an accepted message
is the receiver's signed ``ack`` (same format, ``body.ack`` = the acknowledged ``mid``). See
docs/interop.md for the message types and their bodies.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from shared.errors import Problem
from shared.identity import IdType, InvalidIdentifier, normalize_id
from shared.money import NonNegativeMoney
from svc_transfer.domain.certificate import months_between

ALGORITHM = "ES256"
MEDIA_TYPE = "application/jose"


class MessageType(StrEnum):
    letter = "letter"  # 联系函 (also the electronic request under the online procedure)
    information_table = "information_table"  # 信息表
    fund_transfer = "fund_transfer"  # 资金划转通知
    rejection = "rejection"  # 拒绝（附原因）
    status_query = "status_query"  # 状态查询
    ack = "ack"  # 确认（应答）


@dataclass(frozen=True)
class Message:
    id: uuid.UUID
    type: MessageType
    sender: str
    receiver: str
    transfer_ref: uuid.UUID
    body: dict[str, Any]
    issued_at: int = 0

    def claims(self, now: float) -> dict[str, Any]:
        return {
            "mid": str(self.id),
            "typ": self.type.value,
            "iss": self.sender,
            "aud": self.receiver,
            "iat": int(now),
            "ref": str(self.transfer_ref),
            "body": self.body,
        }


# --------------------------------------------------------------------------- keys


class Signer:
    """This office's private key: every message and acknowledgement it sends is signed with it.

    Rotation: a next key can be configured with the moment it takes over. Until then messages are
    signed with the current key and both public keys are published (``/interop/v1/keys``), so peers
    add the next one to their configuration during the overlap; from then on the next key signs."""

    def __init__(
        self,
        office_code: str,
        key: ec.EllipticCurvePrivateKey,
        next_key: ec.EllipticCurvePrivateKey | None = None,
        switch_at: float | None = None,
    ):
        self.office_code, self._current, self._next, self._switch_at = office_code, key, next_key, switch_at

    @classmethod
    def load_or_create(
        cls, office_code: str, path: Path, next_path: Path | None = None, switch_at: float | None = None
    ) -> Signer:
        next_key = _load_or_create_key(next_path) if next_path is not None else None
        return cls(office_code, _load_or_create_key(path), next_key, switch_at)

    def _active(self, now: float) -> ec.EllipticCurvePrivateKey:
        if self._next is not None and self._switch_at is not None and now >= self._switch_at:
            return self._next
        return self._current

    @property
    def _key(self) -> ec.EllipticCurvePrivateKey:
        return self._active(time.time())

    @property
    def kid(self) -> str:
        return self._kid(self._key)

    def _kid(self, key: ec.EllipticCurvePrivateKey) -> str:
        return f"{self.office_code}-{key.public_key().public_numbers().x:x}"[:24]

    def public_jwk(self, key: ec.EllipticCurvePrivateKey | None = None) -> dict[str, Any]:
        """What peers put in their configuration to verify this office's messages (the active key)."""
        key = key or self._key
        public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
        return {**public, "kid": self._kid(key), "alg": ALGORITHM, "use": "sig"}

    def public_jwks(self) -> list[dict[str, Any]]:
        """Every key a peer may meet: the current one and, during a rotation, the next one."""
        return [self.public_jwk(k) for k in (self._current, self._next) if k is not None]

    def sign(self, message: Message, now: float | None = None) -> str:
        now = time.time() if now is None else now
        key = self._active(now)
        return jwt.encode(
            message.claims(now),
            key,
            algorithm=ALGORITHM,
            headers={"kid": self._kid(key), "typ": "yb-interop+jwt"},
        )


def _load_or_create_key(path: Path) -> ec.EllipticCurvePrivateKey:
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    path.chmod(0o600)
    return key


# --------------------------------------------------------------------------- verification


def refused(status: int, code: str, title: str, detail: str) -> Problem:
    return Problem(status, code, title, detail)


def read_unverified(token: str) -> tuple[str, dict[str, Any]]:
    """The claimed sender and the header, to find the key (nothing here is trusted yet)."""
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise refused(400, "malformed_message", "报文格式错误", f"不是有效的签名报文：{exc}") from exc
    sender = claims.get("iss")
    if not isinstance(sender, str):
        raise refused(400, "malformed_message", "报文格式错误", "报文缺少发送方机构代码（iss）")
    if header.get("alg") != ALGORITHM:  # never verified with another algorithm (no "none", no HMAC)
        raise refused(
            401, "invalid_signature", "报文签名无效", f"签名算法须为 {ALGORITHM}，收到 {header.get('alg')!r}"
        )
    return sender, header


def claimed_origin(token: bytes) -> tuple[str | None, str | None, str | None]:
    """Sender, message id and type as claimed (for the audit of a refused message; not trusted)."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None, None, None
    return tuple(str(claims[k])[:40] if k in claims else None for k in ("iss", "mid", "typ"))  # type: ignore[return-value]


def verify(token: str, key: jwt.PyJWK, receiver: str, max_age_s: float, now: float | None = None) -> Message:
    """Check the signature, the receiver and the freshness; returns the message."""
    now = time.time() if now is None else now
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=receiver,
            options={"require": ["mid", "typ", "iss", "aud", "iat", "ref", "body"], "verify_iat": False},
        )
    except jwt.InvalidAudienceError as exc:
        raise refused(403, "wrong_receiver", "报文接收方不是本机构", f"本机构代码为 {receiver}") from exc
    except jwt.InvalidSignatureError as exc:
        raise refused(
            401, "invalid_signature", "报文签名无效", "签名与发送方登记的公钥不符，报文可能被篡改或伪造"
        ) from exc
    except jwt.PyJWTError as exc:
        raise refused(400, "malformed_message", "报文格式错误", str(exc)) from exc
    issued = claims["iat"]
    if not isinstance(issued, int) or isinstance(issued, bool):
        raise refused(400, "malformed_message", "报文格式错误", "iat 须为整数秒（Unix 时间）")
    if issued < now - max_age_s or issued > now + 60:
        raise refused(
            401,
            "stale_message",
            "报文已过期或时间异常",
            f"报文签发时间须在 {int(max_age_s)} 秒以内（防重放）",
        )
    if claims["typ"] not in MessageType.__members__.values():
        raise refused(
            422, "unsupported_message", "不支持的报文类型", f"未知的报文类型 {str(claims['typ'])[:40]!r}"
        )
    try:
        return Message(
            uuid.UUID(claims["mid"]),
            MessageType(claims["typ"]),
            claims["iss"],
            claims["aud"],
            uuid.UUID(claims["ref"]),
            dict(claims["body"]),
            issued,
        )
    except (ValueError, TypeError) as exc:
        raise refused(400, "malformed_message", "报文格式错误", f"报文字段无效：{exc}") from exc


# --------------------------------------------------------------------------- bodies of the message types


class PersonBody(BaseModel):
    id_type: IdType
    id_number: str = Field(max_length=40)
    name: str = Field(min_length=1, max_length=50)

    @field_validator("id_number")
    @classmethod
    def _valid(cls, value: str, info) -> str:  # type: ignore[no-untyped-def]
        try:
            return normalize_id(info.data.get("id_type", IdType.resident_id), value)
        except InvalidIdentifier as exc:
            raise ValueError(str(exc)) from exc


class LetterBody(BaseModel):
    person: PersonBody
    certificate_number: str = Field(min_length=1, max_length=40)
    receiving_office: str = Field(pattern=r"^\d{6}$")
    receiving_office_name: str | None = Field(None, max_length=100)
    letter_date: date


class PeriodBody(BaseModel):
    start: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    end: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    months: int = Field(ge=1, le=1200)
    unit_name: str | None = Field(None, max_length=200)


class TableBody(BaseModel):
    certificate_number: str = Field(min_length=1, max_length=40)
    person: PersonBody
    contribution_months: int = Field(ge=0, le=1200)
    history: list[PeriodBody] = Field(max_length=500)
    account_balance: NonNegativeMoney
    coverage_ended_on: date

    @model_validator(mode="after")
    def _months_bounded_by_the_periods(self) -> TableBody:
        """Months are what the periods hold: a period holds at most its calendar months, periods do not
        overlap nor run past the end of coverage, and the total is their sum."""
        ended = f"{self.coverage_ended_on:%Y-%m}"
        ordered = sorted(self.history, key=lambda p: p.start)
        for period in ordered:
            span = months_between(period.start, period.end)
            if span == 0:
                raise ValueError(f"缴费期间 {period.start}—{period.end}：终止年月早于起始年月")
            if period.months > span:
                raise ValueError(
                    f"缴费期间 {period.start}—{period.end} 只有 {span} 个月，不能记 {period.months} 个月"
                )
            if period.end > ended:
                raise ValueError(
                    f"缴费期间 {period.start}—{period.end} 晚于中止参保日期 {self.coverage_ended_on}"
                )
        for before, after in itertools.pairwise(ordered):
            if after.start <= before.end:
                raise ValueError(f"缴费期间重叠：{before.start}—{before.end} 与 {after.start}—{after.end}")
        total = sum(p.months for p in ordered)
        if self.contribution_months != total:
            raise ValueError(f"缴费月数 {self.contribution_months} 与缴费历史合计 {total} 不符")
        return self


class FundsBody(BaseModel):
    amount: NonNegativeMoney
    reference: str = Field(min_length=1, max_length=60)
    transferred_on: date


class RejectionBody(BaseModel):
    reason_code: str = Field(min_length=1, max_length=40)
    reason: str = Field(min_length=1, max_length=500)


class StatusQueryBody(BaseModel):
    pass


BODIES: dict[MessageType, type[BaseModel]] = {
    MessageType.letter: LetterBody,
    MessageType.information_table: TableBody,
    MessageType.fund_transfer: FundsBody,
    MessageType.rejection: RejectionBody,
    MessageType.status_query: StatusQueryBody,
}


def check_body(message: Message) -> None:
    """A signed message is still refused when its body is not what its type promises (never a 500)."""
    model = BODIES.get(message.type)
    if model is None:
        raise refused(
            422, "unsupported_message", "不支持的报文类型", f"{message.type.value} 不能作为请求报文发送"
        )
    try:
        model.model_validate(message.body)
    except ValidationError as exc:
        errors = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
        raise Problem(
            422,
            "invalid_message_body",
            "报文内容不符合约定",
            f"{message.type.value} 报文字段有误",
            errors=errors,
        ) from exc
