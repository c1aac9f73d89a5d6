"""Identity: token verification, roles, FastAPI dependencies, and a development issuer."""

from shared.auth.principal import Principal, Role
from shared.auth.verify import TokenVerifier

__all__ = ["Principal", "Role", "TokenVerifier"]
