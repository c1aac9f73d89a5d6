"""A service's OpenAPI that tells the truth about errors, with short operation ids.

FastAPI documents a `{detail: [...]}` body in application/json for 422 and nothing else, while every
error here is RFC 9457 problem+json (shared.http.problems). This rewrites each operation's errors to
the one Problem schema: the 4xx answers an operation can give, and `default` for the rest (5xx).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from shared.http.operation_docs import ENGLISH
from shared.http.problems import PROBLEM_JSON

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "错误（RFC 9457 problem+json）：稳定的机器代码 code、中文标题 title，字段错误在 errors 中逐项列出。",
    "type": "object",
    "required": ["type", "status", "code", "title"],
    "properties": {
        "type": {"type": "string", "description": "问题类型的 URI"},
        "status": {"type": "integer", "description": "HTTP 状态码"},
        "code": {"type": "string", "description": "稳定的机器代码，例如 version_conflict"},
        "title": {"type": "string", "description": "中文标题"},
        "detail": {"type": "string", "description": "中文说明"},
        "errors": {"type": "array", "items": {"$ref": "#/components/schemas/FieldError"}},
    },
    "additionalProperties": True,
}

FIELD_ERROR_SCHEMA: dict[str, Any] = {
    "title": "FieldError",
    "type": "object",
    "properties": {
        "field": {"type": "string", "description": "字段路径，例如 body.person.id_number"},
        "message": {"type": "string", "description": "中文说明"},
        "type": {"type": "string", "description": "规则代码"},
    },
    "additionalProperties": True,
}

# Every operation may answer these; signed-in operations also 401 and 403 (the gateway adds 429).
ANY_OPERATION = {
    "400": "请求体不是合法的JSON",
    "404": "对象不存在，或不在调用者可见的范围内",
    "409": "与对象当前的状态冲突（版本已变、重复办理、步骤顺序不对）",
    "413": "请求体过大",
    "415": "不支持的请求格式",
    "422": "请求参数不合法（errors 逐项列出）",
    "429": "请求过于频繁，请按 Retry-After 稍后再试",
}
SIGNED_IN = {"401": "未登录或登录已失效", "403": "无权执行此操作"}
DEFAULT = "服务器或上游服务错误"


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}}}


def _resource(path: str, service: str) -> str:
    """The first segment after /api/v1/<service>/ that is not a path parameter: `reimbursements`."""
    rest = path.removeprefix(f"/api/v1/{service}").strip("/")
    segment = next((part for part in rest.split("/") if part and not part.startswith("{")), "")
    return re.sub(r"[^0-9a-zA-Z]+", "_", segment).strip("_")


def _function_name(operation_id: str, path: str, method: str) -> str:
    """The route function's name inside FastAPI's default id, `<name><path with _ for non-word>_<method>`."""
    return operation_id.removesuffix(f"_{method}").removesuffix(re.sub(r"\W", "_", path))


def _operation_ids(document: dict[str, Any], service: str) -> dict[tuple[str, str], str]:
    """`<service>_<resource>_<function>`, with the method added where that is not unique."""
    names: dict[tuple[str, str], str] = {}
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            name = _function_name(operation.get("operationId", ""), path, method)
            resource = _resource(path, service)
            stem = name if not resource or name.startswith(resource) else f"{resource}_{name}"
            names[(path, method)] = f"{service}_{stem}"
    taken = list(names.values())
    return {key: (name if taken.count(name) == 1 else f"{name}_{key[1]}") for key, name in names.items()}


def describe_operations(document: dict[str, Any]) -> dict[str, Any]:
    """Give each operation a description in Chinese (its docstring, else its summary) and English."""
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            english = ENGLISH.get(f"{method.upper()} {path}")
            chinese = operation.get("description") or operation.get("summary", "")
            if english and english not in chinese:
                operation["description"] = f"{chinese}\n\n{english}" if chinese else english
    return document


def _rewrite(document: dict[str, Any], service: str) -> dict[str, Any]:
    operation_ids = _operation_ids(document, service)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["Problem"], schemas["FieldError"] = PROBLEM_SCHEMA, FIELD_ERROR_SCHEMA
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            errors = {**ANY_OPERATION, **(SIGNED_IN if operation.get("security") else {})}
            for status, description in errors.items():
                responses[status] = _problem(description)
            responses["default"] = _problem(DEFAULT)
            operation["operationId"] = operation_ids.get((path, method), operation.get("operationId"))
    return describe_operations(document)


def document_problems(app: FastAPI, service: str) -> None:
    """Have `app.openapi()` document problem+json errors and short operation ids (built once, then cached)."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _rewrite(build(), service)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
