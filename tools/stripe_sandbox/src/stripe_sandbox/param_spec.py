"""Which parameters each Stripe endpoint takes, read from the pinned stripe SDK.

stripe-python is generated from Stripe's OpenAPI spec for one API version
(``stripe.api_version``). Two parts of it describe requests:

- its services (``stripe/**/_*_service.py``): each method calls
  ``self._request_async("post", "/v1/subscription_schedules/{schedule}", params=params)``
  with ``params`` annotated ``Optional["SubscriptionScheduleUpdateParams"]``; both are
  read from the method's source (``ast``), which gives the method + path -> params
  TypedDict table without a hand-kept list;
- its params TypedDicts (``stripe/params/``): keys, ``Required``/``NotRequired``,
  nested TypedDicts, ``List``, ``Dict`` (free-form, e.g. ``metadata``) and ``Literal``
  enums, resolved with ``typing.get_type_hints``.

``validation`` checks a decoded request against these; the parameter audit of the
CLI (``billing stripe audit-params``) reads the same definition.
"""

from __future__ import annotations

import ast
import functools
import importlib
import re
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import stripe

PACKAGE = Path(stripe.__file__).parent
_PLACEHOLDER = re.compile(r"\{[^}]+\}")
# Request options (api_key, idempotency_key, stripe_version ...) that some params types
# inherit travel as headers, never as parameters.
_REQUEST_OPTIONS = frozenset(stripe.RequestOptions.__annotations__)


@dataclass(frozen=True, kw_only=True)
class Endpoint:
    method: str
    template: str
    params: type[Any]
    pattern: re.Pattern[str]

    @property
    def name(self) -> str:
        return f"{self.method.upper()} {self.template}"


@functools.cache
def endpoints() -> tuple[Endpoint, ...]:
    """Every v1 endpoint of the SDK with the params TypedDict it takes."""
    found: dict[tuple[str, str], Endpoint] = {}
    for source in sorted(PACKAGE.rglob("_*_service.py")):
        if "v2" in source.relative_to(PACKAGE).parts:
            continue
        for endpoint in _endpoints_in(source):
            found.setdefault((endpoint.method, endpoint.template), endpoint)
    return tuple(found.values())


def endpoint_for(method: str, path: str) -> Endpoint | None:
    """The endpoint a request goes to; a literal segment beats a placeholder
    (``/v1/customers/search`` is not ``/v1/customers/{customer}``)."""
    matches = [e for e in endpoints() if e.method == method.lower() and e.pattern.fullmatch(path)]
    return min(matches, key=lambda e: len(_PLACEHOLDER.findall(e.template)), default=None)


def hints(typed_dict: Any) -> dict[str, Any]:
    """A params TypedDict's fields and their types, request options left out."""
    return dict(_hints(typed_dict))


def required_keys(typed_dict: Any) -> frozenset[str]:
    keys: frozenset[str] = getattr(typed_dict, "__required_keys__", frozenset())
    return keys - _REQUEST_OPTIONS


def alternatives(tp: Any) -> Iterator[Any]:
    """The members of a (nested) union; any other type is its only member."""
    if typing.get_origin(tp) is typing.Union or isinstance(tp, types.UnionType):
        for arg in typing.get_args(tp):
            yield from alternatives(arg)
    else:
        yield tp


@functools.cache
def _hints(typed_dict: Any) -> dict[str, Any]:
    module = importlib.import_module(typed_dict.__module__)
    own = types.SimpleNamespace(
        __annotations__={
            key: tp for key, tp in typed_dict.__annotations__.items() if key not in _REQUEST_OPTIONS
        }
    )
    return typing.get_type_hints(own, globalns=vars(module), localns=_SdkNames())


class _SdkNames(dict[str, Any]):
    """A module's names, falling back to ``stripe``'s (it imports some lazily)."""

    def __missing__(self, name: str) -> Any:
        try:
            return getattr(stripe, name)
        except AttributeError:
            raise KeyError(name) from None  # a builtin: eval looks further


def _endpoints_in(source: Path) -> Iterator[Endpoint]:
    tree = ast.parse(source.read_text())
    imported = {
        alias.asname or alias.name: node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
        for alias in node.names
    }
    for node in ast.walk(tree):
        if not isinstance(node, ast.AsyncFunctionDef):
            continue
        params_name = _params_annotation(node)
        request = _request_call(node)
        if params_name is None or request is None or params_name not in imported:
            continue
        module = importlib.import_module(imported[params_name])
        method, template = request
        escaped = re.escape(template).replace(r"\{", "{").replace(r"\}", "}")
        yield Endpoint(
            method=method,
            template=template,
            params=getattr(module, params_name),
            pattern=re.compile(_PLACEHOLDER.sub("[^/]+", escaped)),
        )


def _params_annotation(node: ast.AsyncFunctionDef) -> str | None:
    for arg in [*node.args.args, *node.args.kwonlyargs]:
        if arg.arg != "params":
            continue
        annotation = arg.annotation  # "X" or Optional["X"]
        if isinstance(annotation, ast.Subscript):
            annotation = annotation.slice
        if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
            return annotation.value
    return None


def _request_call(node: ast.AsyncFunctionDef) -> tuple[str, str] | None:
    for call in ast.walk(node):
        if not (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "_request_async"
            and len(call.args) >= 2
        ):
            continue
        method, url = call.args[0], call.args[1]
        if isinstance(url, ast.Call) and isinstance(url.func, ast.Attribute):
            url = url.func.value  # "/v1/x/{id}".format(id=...)
        if isinstance(method, ast.Constant) and isinstance(url, ast.Constant):
            return str(method.value), str(url.value)
    return None
