"""Stripe's definition of every request parameter, read from the pinned SDK.

The source is the ``stripe`` package itself (pinned exactly in
libs/platform/pyproject.toml, so it describes ``STRIPE_API_VERSION``):

- which params TypedDict an endpoint takes: each service method of the SDK
  (``stripe/**/_*_service.py``) calls ``self._request_async("post",
  "/v1/subscription_schedules/{schedule}", params=params)`` with ``params``
  annotated ``Optional["SubscriptionScheduleUpdateParams"]``; both are read
  from the method's source (``ast``);
- which keys a TypedDict has and what each holds: ``typing.get_type_hints``;
- which are deprecated: the SDK has no machine-readable marker (no
  ``typing_extensions.deprecated`` on params, no ``Deprecated`` annotation),
  only the field's docstring ("The `type` parameter is deprecated ...",
  "This field will be deprecated ..."): a docstring mentioning "deprecated".
  Parameters Stripe removed are simply absent from the TypedDicts of the
  version that removed them, so a removed one (``phases[][iterations]``,
  2025-09-30.clover) is unknown.
"""

from __future__ import annotations

import ast
import functools
import importlib
import itertools
import re
import types
import typing
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import stripe
import typing_extensions

PACKAGE = Path(stripe.__file__).parent
_PLACEHOLDER = re.compile(r"\{[^}]+\}")
_SCALARS = (str, int, float, bool)
_REQUEST_OPTIONS = frozenset(stripe.RequestOptions.__annotations__)
# Removals from Stripe's API changelog, to say why a parameter is unknown.
KNOWN_REMOVALS: Mapping[str, str] = {
    "iterations": "removed in 2025-09-30.clover: a phase's length is `duration` (or `end_date`)",
}


@dataclass(frozen=True, kw_only=True)
class Endpoint:
    method: str
    template: str
    params: type[Any]
    pattern: re.Pattern[str]

    @property
    def name(self) -> str:
        return f"{self.method.upper()} {self.template}"


@dataclass(frozen=True, kw_only=True)
class Verdict:
    """One parameter path of one request, judged against the endpoint's TypedDict."""

    endpoint: str
    path: str
    unknown: str | None = None
    deprecated: str | None = None

    @property
    def ok(self) -> bool:
        return self.unknown is None and self.deprecated is None


def split_path(key: str) -> list[str]:
    """``phases[1][items][0][price]`` -> ``["phases", "1", "items", "0", "price"]``."""
    head, _, rest = key.partition("[")
    return [head, *re.findall(r"([^\[\]]*)\]", "[" + rest)] if rest else [head]


def flatten(params: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    """The form paths of a params dict, as the SDK encodes them (lists by index)."""
    for key, value in params.items():
        path = f"{prefix}[{key}]" if prefix else str(key)
        yield from _flatten_value(value, path)


def _flatten_value(value: Any, path: str) -> Iterator[str]:
    if isinstance(value, Mapping):
        yield from flatten(value, path)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _flatten_value(item, f"{path}[{index}]")
    else:
        yield path


def check_path(params: type[Any], path: str, endpoint: str = "") -> Verdict:
    """Whether ``path`` (form-encoded, e.g. ``phases[1][duration][interval]``) is a
    parameter of the params TypedDict ``params``, and whether it is deprecated."""
    candidates: list[Any] = [params]
    deprecated: str | None = None
    for depth, segment in enumerate(split_path(path)):
        step = _step(candidates, segment)
        if step is None:
            where = "[".join(split_path(path)[: depth + 1])
            reason = KNOWN_REMOVALS.get(segment, f"no parameter {segment!r} at {where}")
            return Verdict(endpoint=endpoint, path=path, unknown=reason)
        candidates, note = step
        deprecated = deprecated or note
    if not any(_is_scalar(tp) for tp in candidates):
        return Verdict(endpoint=endpoint, path=path, unknown="an object, sent as a value")
    return Verdict(endpoint=endpoint, path=path, deprecated=deprecated)


def check_params(params_type: type[Any], params: Mapping[str, Any]) -> list[Verdict]:
    """Every path of a params dict judged against its TypedDict."""
    return [check_path(params_type, path) for path in flatten(params)]


def _step(candidates: Iterable[Any], segment: str) -> tuple[list[Any], str | None] | None:
    for tp in _alternatives(candidates):
        if typing_extensions.is_typeddict(tp):
            hints = _hints(tp)
            if segment in hints:
                doc = _docstrings(tp).get(segment, "")
                note = doc if "deprecated" in doc.lower() else None
                return [hints[segment]], note
        origin = typing.get_origin(tp)
        if origin is list and segment.isdigit():
            return list(typing.get_args(tp)), None
        if origin is dict:
            return [typing.get_args(tp)[1]], None
    return None


def _alternatives(candidates: Iterable[Any]) -> Iterator[Any]:
    for tp in candidates:
        if typing.get_origin(tp) is typing.Union or isinstance(tp, types.UnionType):
            yield from _alternatives(typing.get_args(tp))
        else:
            yield tp


def _is_scalar(tp: Any) -> bool:
    return any(
        alt in _SCALARS or typing.get_origin(alt) is typing.Literal for alt in _alternatives([tp])
    )


@functools.cache
def _hints(typed_dict: type[Any]) -> dict[str, Any]:
    """The fields' types. Request options (``api_key``, ``idempotency_key`` ...), which
    some params types inherit, are headers, not parameters: left out. Names the SDK
    imports only for type checkers come from ``stripe`` itself."""
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


@functools.cache
def _docstrings(typed_dict: type[Any]) -> dict[str, str]:
    """The docstring under each field of a TypedDict (its module's source)."""
    module = importlib.import_module(typed_dict.__module__)
    assert module.__file__ is not None
    tree = ast.parse(Path(module.__file__).read_text())
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == typed_dict.__name__:
            return _field_docs(node.body)
    return {}


def _field_docs(body: list[ast.stmt]) -> dict[str, str]:
    docs: dict[str, str] = {}
    for field, doc in itertools.pairwise(body):
        if (
            isinstance(field, ast.AnnAssign)
            and isinstance(field.target, ast.Name)
            and isinstance(doc, ast.Expr)
            and isinstance(doc.value, ast.Constant)
            and isinstance(doc.value.value, str)
        ):
            docs[field.target.id] = " ".join(doc.value.value.split())
    return docs


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
