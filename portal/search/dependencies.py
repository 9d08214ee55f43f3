"""`Search`: the configured search backend, for routes."""

from typing import Annotated

from fastapi import Depends, Request

from portal.search.backend import SearchBackend


def _backend(request: Request) -> SearchBackend:
    backend: SearchBackend = request.app.state.search
    return backend


Search = Annotated[SearchBackend, Depends(_backend)]
