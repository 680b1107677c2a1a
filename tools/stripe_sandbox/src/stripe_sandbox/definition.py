"""Stripe's definition of its objects for the pinned API version, read from the stripe SDK.

stripe-python is generated from Stripe's OpenAPI spec for one API version
(``stripe.api_version``); its resource classes carry that version's definition as
annotations: ``Optional[...]`` is nullable, nested ``StripeObject`` classes are
sub-objects, ``Literal`` unions are the enums (the SDK adds ``str`` only so that newer
values do not break old code: here they are checked strictly), ``ExpandableField[X]``
is an id or the expanded object, and ``_field_encodings`` marks decimal strings.

The SDK cannot tell a nullable field that is always present from an optional one
(includable or expandable-only): both are ``Optional``. Those keys count as required
when Stripe's fixture for the object (``fixtures3.json``, generated from the spec with
exactly the required keys) has them. A key the SDK does not define is reported, so a
field Stripe removed (``invoice.subscription``) fails even where the older fixture
still shows it.
"""

from __future__ import annotations

import ast
import decimal
import importlib
import inspect
import sys
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import stripe
from stripe._list_object import ListObject
from stripe._object_classes import OBJECT_CLASSES
from stripe._stripe_object import StripeObject, UntypedStripeObject

API_VERSION: str = stripe.api_version

Fixture = Mapping[str, Any] | None


@dataclass(frozen=True)
class Problem:
    path: str
    what: str

    def __str__(self) -> str:
        return f"{self.path}: {self.what}"


def class_for(object_name: str) -> type[StripeObject] | None:
    """The SDK class of a Stripe ``object`` value (``invoice``, ``checkout.session``...)."""
    found = OBJECT_CLASSES.get(object_name)
    if found is None:
        return None
    cls: type[StripeObject] = getattr(importlib.import_module(found[0]), found[1])
    return cls


@cache
def _module_namespace(module_name: str) -> dict[str, Any]:
    """The module's globals plus what it imports only under ``TYPE_CHECKING``."""
    module = sys.modules[module_name]
    namespace = dict(vars(module))
    tree = ast.parse(inspect.getsource(module))
    for node in tree.body:
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            for statement in node.body:
                if isinstance(statement, ast.ImportFrom) and statement.module:
                    imported = importlib.import_module(statement.module)
                    for alias in statement.names:
                        namespace[alias.asname or alias.name] = getattr(imported, alias.name)
    return namespace


_FIELDS: dict[type[StripeObject], dict[str, Any]] = {}


def fields(cls: type[StripeObject]) -> dict[str, Any]:
    """JSON key -> annotation, for every field the class defines (bases included)."""
    if cls not in _FIELDS:
        _FIELDS[cls] = _read_fields(cls)
    return _FIELDS[cls]


def _read_fields(cls: type[StripeObject]) -> dict[str, Any]:
    hints: dict[str, Any] = {}
    for base in reversed(cls.__mro__):
        if not issubclass(base, StripeObject) or base.__module__.startswith("stripe._stripe_"):
            continue
        own = inspect.get_annotations(base)
        namespace = _module_namespace(base.__module__)
        for name, annotation in own.items():
            if name.startswith("_") or name.isupper():
                continue  # private, or a ClassVar such as OBJECT_NAME
            hints[name] = typing._eval_type(  # type: ignore[attr-defined]
                typing.ForwardRef(annotation) if isinstance(annotation, str) else annotation,
                namespace,
                dict(vars(base)),
            )
    remap = {python: key for key, python in getattr(cls, "_field_remappings", {}).items()}
    return {remap.get(name, name): hint for name, hint in hints.items()}


def _is_optional(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType) and type(
        None
    ) in typing.get_args(hint)


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "integer", float: "number", str: "string"}.get(
        type(value), "array" if isinstance(value, list) else "object"
    )


def check(value: Any, hint: Any, fixture: Any = None, path: str = "") -> list[Problem]:
    """Problems of ``value`` against the annotation ``hint`` (``fixture``: Stripe's sample)."""
    return list(_check(value, hint, fixture, path, encoding=None))


def check_object(obj: Mapping[str, Any], fixtures: Mapping[str, Any]) -> list[Problem]:
    """Problems of a top-level Stripe object, found by its ``object`` value."""
    name = obj.get("object")
    cls = class_for(name) if isinstance(name, str) else None
    if cls is None:
        return [Problem("object", f"unknown object type {name!r}")]
    if obj.get("deleted") is True:
        return _deleted(obj)
    return check(obj, cls, fixtures.get(str(name)))


def _deleted(obj: Mapping[str, Any]) -> list[Problem]:
    keys = set(obj)
    if keys != {"id", "object", "deleted"} or not isinstance(obj["id"], str):
        return [Problem("", f"a deleted object has id, object, deleted; got {sorted(keys)}")]
    return []


def _check(
    value: Any, hint: Any, fixture: Any, path: str, encoding: str | None
) -> Iterator[Problem]:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return
    if origin in (typing.Union, types.UnionType):
        yield from _check_union(value, args, fixture, path, encoding)
        return
    if origin is typing.Literal:
        if value not in args:
            yield Problem(path, f"{value!r} is not one of {list(args)}")
        return
    if value is None:
        yield Problem(path, "null where the definition does not allow it")
        return
    if hint is decimal.Decimal or encoding == "decimal_string":
        if not isinstance(value, str):
            yield Problem(path, f"{_type_name(value)} where a decimal string is expected")
        return
    scalar = {int: (int,), float: (int, float), str: (str,), bool: (bool,)}.get(hint)
    if scalar is not None:
        if (isinstance(value, bool) and hint is not bool) or not isinstance(value, scalar):
            yield Problem(path, f"{_type_name(value)} where {hint.__name__} is expected")
        return
    if origin in (list, typing.List):  # noqa: UP006 - the SDK spells it typing.List
        if not isinstance(value, list):
            yield Problem(path, f"{_type_name(value)} where an array is expected")
            return
        sample = fixture[0] if isinstance(fixture, list) and fixture else None
        for index, element in enumerate(value):
            yield from _check(element, args[0], sample, f"{path}[{index}]", encoding)
        return
    if not isinstance(value, dict):
        yield Problem(path, f"{_type_name(value)} where an object is expected")
        return
    if origin in (dict, typing.Dict) or origin is UntypedStripeObject:  # noqa: UP006
        for key, item in value.items():
            yield from _check(item, args[-1] if args else Any, None, f"{path}.{key}", None)
        return
    if origin is ListObject or hint is ListObject:
        yield from _check_list_object(value, args[0] if args else Any, fixture, path)
        return
    if inspect.isclass(hint) and issubclass(hint, StripeObject):
        yield from _check_fields(value, hint, fixture, path)
        return
    yield Problem(path, f"the checker does not know the annotation {hint!r}")


def _check_union(
    value: Any, args: tuple[Any, ...], fixture: Any, path: str, encoding: str | None
) -> Iterator[Problem]:
    if value is None:
        if type(None) not in args:
            yield Problem(path, "null where the definition does not allow it")
        return
    options = [a for a in args if a is not type(None)]
    literals = [a for a in options if typing.get_origin(a) is typing.Literal]
    if literals and str in options and isinstance(value, str) and len(options) == 2:
        # An enum: the SDK's extra ``str`` only keeps old code working with new values.
        yield from _check(value, literals[0], fixture, path, encoding)
        return
    if isinstance(value, str) and str in options:
        return  # an id where the field is expandable
    candidates = options
    if isinstance(value, dict) and isinstance(value.get("object"), str):
        named = [
            o
            for o in options
            if getattr(o, "OBJECT_NAME", None) == value["object"]
            or (typing.get_origin(o) is ListObject and value["object"] == "list")
        ]
        candidates = named or candidates
    results = [list(_check(value, o, fixture, path, encoding)) for o in candidates]
    if not any(r == [] for r in results):
        yield from min(results, key=len)


def _check_list_object(
    value: dict[str, Any], item: Any, fixture: Any, path: str
) -> Iterator[Problem]:
    if value.get("object") != "list":
        yield Problem(f"{path}.object", f"{value.get('object')!r} where 'list' is expected")
    for key, hint in (("has_more", bool), ("url", str)):
        if key not in value:
            yield Problem(f"{path}.{key}", "missing")
        else:
            yield from _check(value[key], hint, None, f"{path}.{key}", None)
    extra = set(value) - {"object", "data", "has_more", "url", "total_count"}
    for key in sorted(extra):
        yield Problem(f"{path}.{key}", "not in the definition")
    sample = fixture.get("data") if isinstance(fixture, Mapping) else None
    yield from _check(value.get("data"), list[item], sample, f"{path}.data", None)


def _check_fields(
    value: dict[str, Any], cls: type[StripeObject], fixture: Any, path: str
) -> Iterator[Problem]:
    defined = fields(cls)
    sample = fixture if isinstance(fixture, Mapping) else {}
    encodings: dict[str, str] = getattr(cls, "_field_encodings", {})
    prefix = f"{path}." if path else ""
    for key in sorted(set(value) - set(defined)):
        yield Problem(prefix + key, "not in the definition")
    for key, hint in defined.items():
        if key not in value:
            if not _is_optional(hint) or key in sample:
                yield Problem(prefix + key, "missing")
            continue
        if key == "metadata" and isinstance(value[key], dict):
            yield from _metadata(value[key], prefix + key)
            continue
        yield from _check(value[key], hint, sample.get(key), prefix + key, encodings.get(key))


def _metadata(value: dict[str, Any], path: str) -> Iterator[Problem]:
    for key, item in value.items():
        if not isinstance(item, str):
            yield Problem(f"{path}.{key}", f"{_type_name(item)} where string is expected")


def check_emitted(obj: Mapping[str, Any], fixtures: Mapping[str, Any]) -> list[tuple[str, Problem]]:
    """(kind, problem) for an object or an event: the envelope and its ``data.object``."""
    if obj.get("object") != "event":
        return [(str(obj.get("object")), p) for p in check_object(obj, fixtures)]
    event_class = class_for("event")
    assert event_class is not None
    envelope = {**obj, "data": {**obj["data"], "object": {}}}
    found = [("event", p) for p in check(envelope, event_class, fixtures.get("event"))]
    inner = obj["data"]["object"]
    kind = f"{obj.get('type')} -> {inner.get('object')}"
    return found + [(kind, p) for p in check_object(inner, fixtures)]
