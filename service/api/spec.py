"""Each API operation describes itself once: its query parameters (a pydantic model), its responses and its
role. The same description validates a request (unknown or malformed parameters are a 400 that names them)
and generates the OpenAPI document, so the document cannot drift from the code.

Why pydantic rather than marshmallow/apispec: one model gives both run-time validation with readable errors
and JSON Schema 2020-12, which is exactly what OpenAPI 3.1 embeds; no second schema language to keep.
"""
from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler, ValidationError
from pydantic_core import core_schema
from werkzeug.datastructures import MultiDict

from .problems import BadRequest

__all__ = ["Query", "Response", "OperationDoc", "documented", "parse_query", "operation_doc", "OneOf", "JSON",
           "GEOJSON", "PROBLEM"]

JSON = "application/json"
GEOJSON = "application/geo+json"
PROBLEM = "application/problem+json"

F = TypeVar("F", bound=Callable[..., Any])
Q = TypeVar("Q", bound="Query")


class Query(BaseModel):
    """Base of every operation's query parameters: anything not declared is refused, not ignored."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=True)


@dataclass(frozen=True)
class Response:
    """One documented answer: a description, a schema (a pydantic model or a JSON Schema dict), media types."""

    description: str
    schema: type[BaseModel] | dict[str, Any] | None = None
    media_types: tuple[str, ...] = (JSON,)
    headers: tuple[str, ...] = ()


@dataclass(frozen=True)
class OperationDoc:
    summary: str
    description: str = ""
    tags: tuple[str, ...] = ()
    params: type[Query] | None = None
    body: type[BaseModel] | dict[str, Any] | None = None
    body_media_types: tuple[str, ...] = (JSON,)
    responses: Mapping[int, Response] = field(default_factory=dict)
    errors: tuple[int, ...] = ()


@dataclass(frozen=True)
class OneOf:
    """``Annotated[str, OneOf(words)]``: a word of the vocabulary, so the document lists them and a typo is a 400."""

    values: tuple[str, ...]

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.literal_schema(list(self.values))


def documented(summary: str, **kwargs: Any) -> Callable[[F], F]:
    """Attach an :class:`OperationDoc` to a view (read by :mod:`service.api.openapi`)."""
    doc = OperationDoc(summary=summary, **kwargs)

    def attach(view: F) -> F:
        view.openapi = doc  # type: ignore[attr-defined]  # read back by operation_doc()
        return view

    return attach


def operation_doc(view: Callable[..., Any]) -> OperationDoc | None:
    return getattr(view, "openapi", None)


def _is_list(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_is_list(a) for a in typing.get_args(annotation) if a is not type(None))
    return origin in (list, tuple)


def parse_query(model: type[Q], args: MultiDict[str, str]) -> Q:
    """Validate query parameters against ``model``: list parameters may repeat or be comma-separated."""
    names = {f.alias or n: n for n, f in model.model_fields.items()}
    unknown = sorted(set(args) - set(names))
    if unknown:
        raise BadRequest(f"unknown query parameter(s): {', '.join(unknown)}; allowed: {', '.join(sorted(names))}",
                         invalid_params=[{"name": u, "reason": "unknown parameter"} for u in unknown])
    data: dict[str, Any] = {}
    for alias, name in names.items():
        values = args.getlist(alias)
        if not values:
            continue
        if _is_list(model.model_fields[name].annotation):
            data[alias] = [part.strip() for v in values for part in v.split(",") if part.strip()]
        elif len(values) > 1:
            raise BadRequest(f"query parameter {alias!r} given {len(values)} times; give it once",
                             invalid_params=[{"name": alias, "reason": "given more than once"}])
        else:
            data[alias] = values[0]
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems: list[dict[str, str]] = []
        for e in exc.errors(include_url=False):
            loc = e["loc"] or ("query",)  # a parameter, its list index; not the union member pydantic tried
            name = ".".join([str(loc[0]), *(str(p) for p in loc[1:] if isinstance(p, int))])
            problem = {"name": name, "reason": e["msg"].removeprefix("Value error, ")}
            if problem not in problems:
                problems.append(problem)
        detail = "; ".join(f"{p['name']}: {p['reason']}" for p in problems)
        raise BadRequest(f"invalid query parameter(s): {detail}", invalid_params=problems) from None
