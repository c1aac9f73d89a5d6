"""RFC 9457 problem+json: a stable machine `code`, a Chinese `title`, per-field `errors`."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.errors import DomainError, Problem

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

STATUS_PROBLEMS: dict[int, tuple[str, str]] = {
    400: ("bad_request", "请求有误"),
    401: ("unauthenticated", "未登录或登录已失效"),
    403: ("forbidden", "无权执行此操作"),
    404: ("not_found", "资源不存在"),
    405: ("method_not_allowed", "不支持该请求方法"),
    406: ("not_acceptable", "不支持的响应格式"),
    409: ("conflict", "与当前状态冲突"),
    413: ("payload_too_large", "请求体过大"),
    415: ("unsupported_media_type", "不支持的请求格式"),
    422: ("validation_failed", "请求参数不合法"),
    429: ("rate_limited", "请求过于频繁，请稍后再试"),
    500: ("internal_error", "服务器内部错误"),
    502: ("bad_gateway", "上游服务不可用"),
    503: ("unavailable", "服务暂不可用"),
    504: ("gateway_timeout", "上游服务响应超时"),
}


def problem_body(
    status: int, code: str, title: str, detail: str | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"https://yibao.local/problems/{code}",
        "status": status,
        "code": code,
        "title": title,
    }
    if detail:
        body["detail"] = detail
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    return JSONResponse(
        problem_body(status, code, title, detail, **extra),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


# pydantic's messages are English; the apps show these instead. `{…}` are the error's context values.
FIELD_MESSAGES: dict[str, str] = {
    "missing": "必填",
    "extra_forbidden": "不允许的字段",
    "json_invalid": "不是合法的JSON",
    "string_type": "须为字符串",
    "string_too_short": "至少 {min_length} 个字符",
    "string_too_long": "最多 {max_length} 个字符",
    "string_pattern_mismatch": "格式不正确",
    "int_type": "须为整数",
    "int_parsing": "须为整数",
    "int_from_float": "须为整数",
    "float_type": "须为数字",
    "float_parsing": "须为数字",
    "decimal_type": "须为数字",
    "decimal_parsing": "须为数字",
    "decimal_max_digits": "最多 {max_digits} 位数字",
    "decimal_max_places": "最多 {decimal_places} 位小数",
    "decimal_whole_digits": "整数部分最多 {whole_digits} 位",
    "finite_number": "须为有限的数",
    "greater_than": "须大于 {gt}",
    "greater_than_equal": "不得小于 {ge}",
    "less_than": "须小于 {lt}",
    "less_than_equal": "不得大于 {le}",
    "multiple_of": "须为 {multiple_of} 的倍数",
    "bool_type": "须为 true 或 false",
    "bool_parsing": "须为 true 或 false",
    "date_type": "须为日期（YYYY-MM-DD）",
    "date_parsing": "须为日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "须为日期（YYYY-MM-DD）",
    "date_from_datetime_inexact": "须为日期（YYYY-MM-DD），不含时间",
    "datetime_type": "须为带时区的时间（ISO 8601）",
    "datetime_parsing": "须为带时区的时间（ISO 8601）",
    "datetime_from_date_parsing": "须为带时区的时间（ISO 8601）",
    "timezone_aware": "须带时区",
    "uuid_type": "须为UUID",
    "uuid_parsing": "须为UUID",
    "enum": "须为以下之一：{expected}",
    "literal_error": "须为以下之一：{expected}",
    "list_type": "须为数组",
    "too_short": "至少 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    "dict_type": "须为对象",
    "model_type": "须为对象",
    "model_attributes_type": "须为对象",
    "url_parsing": "须为网址",
}


def field_message(error: Mapping[str, Any]) -> str:
    """The Chinese message for one pydantic error; a rule of ours (value_error) keeps its own words."""
    kind, message = error.get("type", ""), str(error.get("msg", ""))
    if kind in ("value_error", "assertion_error"):
        return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    template = FIELD_MESSAGES.get(kind)
    if template is None:
        return message
    context = dict(error.get("ctx") or {})
    if "expected" in context:  # pydantic lists choices as "'a', 'b' or 'c'"
        context["expected"] = (
            str(context["expected"]).replace("'", "").replace(" or ", "、").replace(", ", "、")
        )
    try:
        return template.format(**context)
    except (KeyError, IndexError):
        return template.split("{")[0].rstrip("：: ") or message


def field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {
            "field": ".".join(str(p) for p in e.get("loc", ())),
            "message": field_message(e),
            "type": e.get("type", ""),
        }
        for e in exc.errors()
    ]


async def _on_problem(_: Request, exc: Problem) -> JSONResponse:
    return problem_response(
        exc.status, exc.code, exc.title, exc.detail, headers=exc.headers, errors=exc.errors, **exc.extra
    )


async def _on_domain_error(_: Request, exc: DomainError) -> JSONResponse:
    return problem_response(exc.status, exc.code, exc.title, exc.detail, errors=exc.errors, **exc.extra)


async def _on_validation(_: Request, exc: RequestValidationError) -> JSONResponse:
    errors = field_errors(exc)
    if any(e["type"] == "json_invalid" for e in errors):
        return problem_response(400, "malformed_json", "请求体不是合法的JSON", errors=errors)
    return problem_response(
        422, "validation_failed", "请求参数不合法", "请检查 errors 中列出的字段", errors=errors
    )


async def _on_http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    code, title = STATUS_PROBLEMS.get(exc.status_code, ("http_error", "请求失败"))
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail not in ("Not Found", title) else None
    return problem_response(exc.status_code, code, title, detail, headers=getattr(exc, "headers", None))


def _sqlstate(exc: DBAPIError | asyncpg.PostgresError) -> str:
    if isinstance(exc, asyncpg.PostgresError):  # a statement sent straight to asyncpg (UnitOfWork.fetch)
        return str(exc.sqlstate or "")
    orig = exc.orig
    return str(
        getattr(orig, "pgcode", None) or getattr(getattr(orig, "__cause__", None), "sqlstate", None) or ""
    )


async def _on_database_error(request: Request, exc: DBAPIError | asyncpg.PostgresError) -> JSONResponse:
    # Class 22 (data exception: bad characters, out-of-range numbers) means the input was bad.
    if _sqlstate(exc).startswith("22"):
        return problem_response(422, "invalid_data", "数据不合法", "请求中的数据无法保存，请检查字段内容")
    return await _on_unexpected(request, exc)


async def _on_unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error")
    return problem_response(500, "internal_error", "服务器内部错误")


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _on_problem)  # type: ignore[arg-type]
    app.add_exception_handler(DomainError, _on_domain_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _on_validation)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _on_http)  # type: ignore[arg-type]
    app.add_exception_handler(DBAPIError, _on_database_error)
    app.add_exception_handler(asyncpg.PostgresError, _on_database_error)
    app.add_exception_handler(Exception, _on_unexpected)
