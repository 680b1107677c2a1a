"""Refuse a request as Stripe does when it does not fit the endpoint's definition.

The definition is the pinned SDK's params TypedDict for the endpoint
(``param_spec``). Checked before anything runs (so a refused request is never
stored under its ``Idempotency-Key``), in Stripe's order: unknown parameters
anywhere first, then the first value that is missing or wrong.

Stripe's wording: ``Received unknown parameter: phases[1][iterations]``
(``parameter_unknown``), ``Missing required param: phases[0][items].``
(``parameter_missing``), ``Invalid payment_behavior: must be one of a, b, or c``
(an enum: no code), ``Invalid integer: ten`` (``parameter_invalid_integer``), an
empty string for a field that cannot be unset (``parameter_invalid_empty``).

The SDK widens every enum with ``|str`` so that new values do not break old code;
here the ``Literal`` is the definition and the ``str`` is ignored.
"""

from __future__ import annotations

import decimal
import typing
from collections.abc import Iterator, Mapping
from typing import Any

import typing_extensions

from stripe_sandbox import param_spec
from stripe_sandbox.errors import (
    enum_invalid,
    parameter_invalid,
    parameter_missing,
    parameter_unknown,
)

_EMPTY = ""


def validate(method: str, path: str, data: Mapping[str, Any]) -> None:
    """Raise Stripe's 400 for the first problem of a decoded request, if any."""
    endpoint = param_spec.endpoint_for(method, path)
    if endpoint is None:
        return  # not a Stripe endpoint: the router answers 404 as Stripe does
    unknown = list(_unknown(endpoint.params, data, ""))
    if unknown:
        raise parameter_unknown(unknown)
    _check_object(endpoint.params, data, "")


def _name(prefix: str, key: str | int) -> str:
    return f"{prefix}[{key}]" if prefix else str(key)


# -- unknown keys ---------------------------------------------------------------
def _unknown(tp: Any, value: Any, path: str) -> Iterator[str]:
    """Paths of keys no alternative of ``tp`` defines (within the values it could be)."""
    shapes = list(param_spec.alternatives(tp))
    if isinstance(value, Mapping):
        typed = [t for t in shapes if typing_extensions.is_typeddict(t)]
        if typed:
            fields = param_spec.hints(typed[0])
            for key, child in value.items():
                if key in fields:
                    yield from _unknown(fields[key], child, _name(path, key))
                else:
                    yield _name(path, key)
            return
        for shape in shapes:
            if _mapping_of(shape) is not None:
                for key, child in value.items():
                    yield from _unknown(_mapping_of(shape), child, _name(path, key))
                return
    elif isinstance(value, list):
        for shape in shapes:
            if typing.get_origin(shape) is list:
                (item,) = typing.get_args(shape)
                for index, child in enumerate(value):
                    yield from _unknown(item, child, _name(path, index))
                return


def _mapping_of(tp: Any) -> Any:
    """The value type of a free-form hash (``Dict[str, X]``, the SDK's untyped object)."""
    origin = typing.get_origin(tp) or tp
    if origin is dict or (isinstance(origin, type) and issubclass(origin, Mapping)):
        args = typing.get_args(tp)
        return args[-1] if args else Any
    return None


# -- values ---------------------------------------------------------------------
def _check_object(typed_dict: Any, value: Mapping[str, Any], path: str) -> None:
    fields = param_spec.hints(typed_dict)
    for key in sorted(param_spec.required_keys(typed_dict)):
        if key not in value:
            raise parameter_missing(_name(path, key))
    for key, child in value.items():
        _check(fields[key], child, _name(path, key))


def _check(tp: Any, value: Any, path: str) -> None:
    shapes = list(param_spec.alternatives(tp))
    if Any in shapes:
        return
    literals = [v for s in shapes if typing.get_origin(s) is typing.Literal for v in s.__args__]
    enum = [v for v in literals if v != _EMPTY]
    scalars = [s for s in shapes if s in (str, int, float, bool, decimal.Decimal)]
    if enum and str in scalars:
        scalars.remove(str)  # the SDK's open-enum widening
    if isinstance(value, str):
        _check_text(value, path, literals=literals, enum=enum, scalars=scalars, shapes=shapes)
    elif isinstance(value, Mapping):
        _check_hash(shapes, value, path)
    else:
        _check_list(shapes, value, path)


def _check_text(
    value: str,
    path: str,
    *,
    literals: list[Any],
    enum: list[Any],
    scalars: list[Any],
    shapes: list[Any],
) -> None:
    if value in literals:
        return
    if value == _EMPTY:
        raise parameter_invalid(
            path,
            f"You passed an empty string for '{path}'. We assume empty values are an attempt "
            f"to unset a parameter; however '{path}' cannot be unset. You should remove "
            f"'{path}' from your request or supply a non-empty value.",
            code="parameter_invalid_empty",
        )
    if str in scalars or any(_parses(kind, value) for kind in scalars):
        return
    if int in scalars:
        raise parameter_invalid(path, f"Invalid integer: {value}", code="parameter_invalid_integer")
    if enum:
        raise enum_invalid(path, [str(v) for v in enum])
    if bool in scalars:
        raise parameter_invalid(path, f"Invalid boolean: {value}")
    if scalars:
        raise parameter_invalid(path, f"Invalid decimal: {value}")
    kind = "array" if any(typing.get_origin(s) is list for s in shapes) else "object"
    raise parameter_invalid(path, f"Invalid {kind}")


def _parses(kind: Any, value: str) -> bool:
    if kind is bool:
        return value in ("true", "false")
    try:
        kind(value)
    except (ValueError, ArithmeticError):
        return False
    return True


def _check_hash(shapes: list[Any], value: Mapping[str, Any], path: str) -> None:
    for shape in shapes:
        if typing_extensions.is_typeddict(shape):
            _check_object(shape, value, path)
            return
        item = _mapping_of(shape)
        if item is not None:
            for key, child in value.items():
                _check(item, child, _name(path, key))
            return
    if any(typing.get_origin(s) is list for s in shapes):
        raise parameter_invalid(path, "Invalid array")
    raise parameter_invalid(path, f"Invalid string: {dict(value)}")


def _check_list(shapes: list[Any], value: list[Any], path: str) -> None:
    for shape in shapes:
        if typing.get_origin(shape) is list:
            (item,) = typing.get_args(shape)
            for index, child in enumerate(value):
                _check(item, child, _name(path, index))
            return
        item = _mapping_of(shape)
        if item is not None:  # a hash whose keys were all digits
            for index, child in enumerate(value):
                _check(item, child, _name(path, index))
            return
    if any(typing_extensions.is_typeddict(s) for s in shapes):
        raise parameter_invalid(path, "Invalid object")
    raise parameter_invalid(path, f"Invalid string: {value}")
