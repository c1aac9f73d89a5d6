"""FastAPI dependencies: the verified caller, and role checks."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.auth.principal import Principal, Role
from shared.auth.verify import TokenVerifier, unauthenticated
from shared.errors import Problem

_bearer = HTTPBearer(auto_error=False, description="平台签发的访问令牌 (JWT)")


async def current_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthenticated("缺少访问令牌")
    verifier: TokenVerifier = request.app.state.verifier
    principal = await verifier.verify(credentials.credentials)
    request.state.principal = principal  # for the access audit (shared.http.audit)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: Role) -> Any:  # a Depends(...) marker: FastAPI types it as Any
    allowed = frozenset(roles)

    async def check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in allowed:
            raise Problem(403, "forbidden", "无权执行此操作", f"需要角色：{', '.join(sorted(allowed))}")
        return principal

    return Depends(check)
