"""FastAPI dependencies: the verified caller, and role checks."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPBearer

from shared.auth.principal import Principal, Role
from shared.auth.verify import TokenVerifier, unauthenticated
from shared.errors import Problem


class _BearerPrincipal(HTTPBearer):
    """The verified caller, from the bearer token. Being an HTTPBearer it also puts the scheme in the
    OpenAPI description; one dependency instead of a token dependency under a principal one, because
    FastAPI's solving of each dependency costs every request tens of microseconds."""

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise unauthenticated("缺少访问令牌")
        verifier: TokenVerifier = request.app.state.verifier
        principal = await verifier.verify(token)
        request.state.principal = principal  # for the access audit (shared.http.audit)
        return principal


current_principal = _BearerPrincipal(
    auto_error=False, scheme_name="HTTPBearer", description="平台签发的访问令牌 (JWT)"
)
CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: Role) -> Any:  # a Depends(...) marker: FastAPI types it as Any
    allowed = frozenset(roles)

    async def check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in allowed:
            raise Problem(403, "forbidden", "无权执行此操作", f"需要角色：{', '.join(sorted(allowed))}")
        return principal

    return Depends(check)
