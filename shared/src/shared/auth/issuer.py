"""The development token issuer (local runs and tests only; production uses an OIDC provider).

Its key pair lives in a folder: the private key signs, `jwks.json` is what every service
verifies with. The first start creates both.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from shared.auth.principal import Principal
from shared.auth.verify import ACCESS

PRIVATE_KEY_FILE = "dev-issuer.pem"
JWKS_FILE = "jwks.json"


class DevIssuer:
    algorithm = "ES256"

    def __init__(self, private_key: ec.EllipticCurvePrivateKey, issuer: str, audience: str, kid: str):
        self._key, self.issuer, self.audience, self.kid = private_key, issuer, audience, kid

    @classmethod
    def load_or_create(cls, folder: Path, issuer: str, audience: str) -> DevIssuer:
        folder.mkdir(parents=True, exist_ok=True)
        key_path = folder / PRIVATE_KEY_FILE
        if key_path.exists():
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            assert isinstance(key, ec.EllipticCurvePrivateKey)
        else:
            key = ec.generate_private_key(ec.SECP256R1())
            pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            key_path.write_bytes(pem)
            key_path.chmod(0o600)
        issuer_obj = cls(key, issuer, audience, kid=_thumbprint(key))
        (folder / JWKS_FILE).write_text(json.dumps(issuer_obj.jwks(), indent=2))
        return issuer_obj

    def jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self._key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "alg": self.algorithm, "use": "sig"}]}

    def issue(
        self, principal: Principal, ttl_s: int = 3600, now: float | None = None, use: str = ACCESS
    ) -> str:
        """A signed token; `use` REFRESH makes a refresh token, which no API accepts as access."""
        issued = int(now if now is not None else time.time())
        claims = {
            **principal.to_claims(),
            "iss": self.issuer,
            "aud": self.audience,
            "iat": issued,
            "exp": issued + ttl_s,
            "jti": uuid.uuid4().hex,
        }
        if use != ACCESS:
            claims["token_use"] = use
        return jwt.encode(claims, self._key, algorithm=self.algorithm, headers={"kid": self.kid})


def _thumbprint(key: ec.EllipticCurvePrivateKey) -> str:
    numbers = key.public_key().public_numbers()
    return f"dev-{numbers.x:x}"[:24]
