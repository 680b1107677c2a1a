"""Decode Stripe-style form bodies (``a[b][c]=``, ``items[0][price]=``, ``expand[]=``).

``Params`` gives typed access with Stripe's error codes for a wrong or missing value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from stripe_sandbox.errors import StripeError, enum_invalid, parameter_invalid, parameter_missing

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")


def _malformed(key: str) -> StripeError:
    return StripeError(f"Invalid parameter name: {key}", code="parameter_unknown", param=key)


def decode_pairs(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for key, value in pairs:
        match = _KEY.match(key)
        if match is None:
            raise _malformed(key)
        parts = [match.group(1), *_PART.findall(match.group(2))]
        node: dict[str, Any] = root
        for i, part in enumerate(parts[:-1]):
            following = parts[i + 1]
            child = node.get(part)
            if child is None:
                child = [] if following == "" else {}
                node[part] = child
            if isinstance(child, list):
                if following != "" or i + 1 != len(parts) - 1:
                    raise _malformed(key)
                child.append(value)
                break
            if not isinstance(child, dict):
                raise _malformed(key)
            node = child
        else:
            last = parts[-1]
            if last == "" or isinstance(node.get(last), dict | list):
                raise _malformed(key)
            node[last] = value
    decoded: dict[str, Any] = _listify(root)
    return decoded


def _listify(value: Any) -> Any:
    if isinstance(value, dict):
        converted = {k: _listify(v) for k, v in value.items()}
        if converted and all(k.isdigit() for k in converted):
            return [converted[k] for k in sorted(converted, key=int)]
        return converted
    if isinstance(value, list):
        return [_listify(v) for v in value]
    return value


def decode_form(body: bytes) -> dict[str, Any]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StripeError("Request body is not valid UTF-8.") from exc
    return decode_pairs(parse_qsl(text, keep_blank_values=True))


def decode_query(query: str) -> dict[str, Any]:
    return decode_pairs(parse_qsl(query, keep_blank_values=True))


class Params:
    """Typed view of decoded params; ``prefix`` builds Stripe's ``a[b]`` param names."""

    def __init__(self, data: dict[str, Any], prefix: str = "") -> None:
        self.data = data
        self.prefix = prefix

    def name(self, key: str) -> str:
        return f"{self.prefix}[{key}]" if self.prefix else key

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str) -> Any:
        return self.data.get(key)

    def text(self, key: str, *, required: bool = False) -> str | None:
        value = self.data.get(key)
        if value is None or value == "":
            if required:
                raise parameter_missing(self.name(key))
            return None
        if not isinstance(value, str):
            raise parameter_invalid(self.name(key), f"Invalid string: {value!r}")
        return value

    def req(self, key: str) -> str:
        value = self.text(key, required=True)
        assert value is not None
        return value

    def integer(
        self, key: str, *, required: bool = False, minimum: int | None = None
    ) -> int | None:
        value = self.text(key, required=required)
        if value is None:
            return None
        try:
            number = int(value)
        except ValueError:
            raise parameter_invalid(
                self.name(key), f"Invalid integer: {value}", code="parameter_invalid_integer"
            ) from None
        if minimum is not None and number < minimum:
            raise parameter_invalid(
                self.name(key),
                f"This value must be greater than or equal to {minimum}.",
                code="parameter_invalid_integer",
            )
        return number

    def timestamp_or_now(self, key: str, now: int) -> int | None:
        if self.data.get(key) == "now":
            return now
        return self.integer(key)

    def flag(self, key: str) -> bool | None:
        value = self.text(key)
        if value is None:
            return None
        if value in ("true", "false"):
            return value == "true"
        raise parameter_invalid(self.name(key), f"Invalid boolean: {value}")

    def choice(self, key: str, allowed: tuple[str, ...], default: str | None = None) -> str | None:
        value = self.text(key)
        if value is None:
            return default
        if value not in allowed:
            raise enum_invalid(self.name(key), allowed)
        return value

    def sub(self, key: str) -> Params | None:
        value = self.data.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, dict):
            raise parameter_invalid(self.name(key), f"Invalid hash: {key}")
        return Params(value, self.name(key))

    def items(self, key: str) -> list[Params]:
        value = self.data.get(key)
        if value is None or value == "":
            return []
        if isinstance(value, dict):  # a[0] with sparse or non-numeric keys
            raise parameter_invalid(self.name(key), "Invalid array")
        if not isinstance(value, list):
            raise parameter_invalid(self.name(key), "Invalid array")
        out = []
        for i, entry in enumerate(value):
            if not isinstance(entry, dict):
                raise parameter_invalid(f"{self.name(key)}[{i}]", "Invalid hash")
            out.append(Params(entry, f"{self.name(key)}[{i}]"))
        return out

    def strings(self, key: str) -> list[str]:
        value = self.data.get(key)
        if value is None or value == "":
            return []
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise parameter_invalid(self.name(key), "Invalid array")
        return list(value)

    def metadata(self, key: str = "metadata") -> dict[str, str] | None:
        """None when absent; Stripe's empty string ``metadata=`` clears all keys."""
        value = self.data.get(key)
        if value is None:
            return None
        if value == "":
            return {}
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise parameter_invalid(self.name(key), "Invalid hash")
        return dict(value)


def merge_metadata(current: dict[str, str], update: dict[str, str] | None) -> dict[str, str]:
    if update is None:
        return current
    if not update:
        return {}
    merged = dict(current)
    for key, value in update.items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged
