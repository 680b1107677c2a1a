"""Stripe's definition of every request parameter, read from the pinned SDK.

The endpoint -> params TypedDict table and the TypedDicts' fields come from the
sandbox's ``param_spec`` (read from the ``stripe`` package, pinned exactly in
libs/platform/pyproject.toml, so they describe ``STRIPE_API_VERSION``); the
sandbox refuses a request with the same definition. This module judges one
parameter path at a time, as the SDK form-encodes it, and adds deprecation:
the SDK has no machine-readable marker (no ``typing_extensions.deprecated`` on
params, no ``Deprecated`` annotation), only the field's docstring ("The `type`
parameter is deprecated ...", "This field will be deprecated ..."): a docstring
mentioning "deprecated" counts. Parameters Stripe removed are absent from the
TypedDicts of the version that removed them, so a removed one
(``phases[][iterations]``, 2025-09-30.clover) is unknown.
"""

from __future__ import annotations

import ast
import functools
import importlib
import itertools
import re
import typing
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typing_extensions
from stripe_sandbox.param_spec import Endpoint, alternatives, endpoint_for, hints

__all__ = ["Endpoint", "Verdict", "check_params", "check_path", "endpoint_for", "flatten"]

_SCALARS = (str, int, float, bool)
# Removals from Stripe's API changelog, to say why a parameter is unknown.
KNOWN_REMOVALS: Mapping[str, str] = {
    "iterations": "removed in 2025-09-30.clover: a phase's length is `duration` (or `end_date`)",
}


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
    for tp in (alt for candidate in candidates for alt in alternatives(candidate)):
        if typing_extensions.is_typeddict(tp):
            fields = hints(tp)
            if segment in fields:
                doc = _docstrings(tp).get(segment, "")
                note = doc if "deprecated" in doc.lower() else None
                return [fields[segment]], note
        origin = typing.get_origin(tp)
        if origin is list and segment.isdigit():
            return list(typing.get_args(tp)), None
        if origin is dict:
            return [typing.get_args(tp)[1]], None
    return None


def _is_scalar(tp: Any) -> bool:
    return any(
        alt in _SCALARS or typing.get_origin(alt) is typing.Literal for alt in alternatives(tp)
    )


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
