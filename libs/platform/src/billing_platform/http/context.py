"""A service's context: the ports its routes hand to the use cases, built once in lifespan.

Every service has one frozen dataclass ``<Service>Context`` in ``<service>/context.py``;
``bootstrap.lifespan_for`` builds it from the infrastructure and stores it with
``install_context``; a route reads it with ``context_of(request, <Service>Context)``.
Nothing else lives on ``app.state`` for the routes.
"""

from __future__ import annotations

from typing import TypeVar

from fastapi import FastAPI, Request

Context = TypeVar("Context")


def install_context(app: FastAPI, context: object) -> None:
    app.state.context = context


def context_of(request: Request, kind: type[Context]) -> Context:
    """The context the lifespan installed; an error if it is not a ``kind`` (or not built)."""
    context = getattr(request.app.state, "context", None)
    if not isinstance(context, kind):
        raise RuntimeError(f"no {kind.__name__} on the app: is lifespan_for running?")
    return context
