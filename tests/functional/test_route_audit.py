"""Every unsafe route checks CSRF (or is a listed machine endpoint) and declares a permission.

The audit walks the routes the app really registers, so a route added later without either
fails here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from fastapi.testclient import TestClient

from portal.identity.dependencies import PermissionCheck, PublicEndpoint, require_permission
from portal.identity.permissions import ANONYMOUS, CITIZEN, ROLE_PERMISSIONS, permitted
from portal.web.csrf import CSRF_EXEMPT, UNSAFE_METHODS, csrf_protect


def _unsafe_routes(app: FastAPI) -> list[tuple[RouteContext, str]]:
    """Every (route, method) the app answers that can change state, routers included."""
    return [
        (route, method)
        for route in iter_route_contexts(app.routes)
        if isinstance(route.original_route, APIRoute)
        for method in sorted((route.methods or set()) & UNSAFE_METHODS)
    ]


def _calls(dependant: Dependant) -> Iterator[Any]:
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from _calls(dependency)


def _example_path(route: RouteContext) -> str:
    return re.sub(r"\{[^}]+\}", "x" * 22, str(route.path))


def test_there_are_unsafe_routes_to_audit(app: FastAPI) -> None:
    paths = {route.path for route, _ in _unsafe_routes(app)}
    assert {"/maoni", "/maoni/{reference}", "/tatizo", "/wasiliana", "/toka"} <= paths


def test_every_unsafe_route_checks_csrf_unless_listed_exempt(
    app: FastAPI, client: TestClient
) -> None:
    assert {route.path for route, _ in _unsafe_routes(app)} >= CSRF_EXEMPT, "stale exemption"
    client.get("/")  # a visitor with a cookie, posting without the token
    for route, method in _unsafe_routes(app):
        if route.path in CSRF_EXEMPT:
            continue
        assert csrf_protect in set(_calls(route.dependant)), route.path
        response = client.request(method, _example_path(route), follow_redirects=False)
        assert response.status_code == 403, (method, route.path, response.status_code)


def test_every_unsafe_route_declares_a_permission_or_is_a_public_machine_endpoint(
    app: FastAPI,
) -> None:
    for route, _method in _unsafe_routes(app):
        calls = list(_calls(route.dependant))
        checks = [call for call in calls if isinstance(call, PermissionCheck | PublicEndpoint)]
        assert len(checks) == 1, f"{route.path} declares {len(checks)} permissions"
        if isinstance(checks[0], PublicEndpoint):  # only machines that prove themselves
            assert route.path in CSRF_EXEMPT, route.path


def test_a_permission_no_role_grants_cannot_be_required() -> None:
    with pytest.raises(ValueError, match="no role grants"):
        require_permission("catalogue.delete_everything")


def test_roles_grant_only_what_the_table_says() -> None:
    assert permitted(roles=frozenset({ANONYMOUS}), permission="feedback.send")
    assert not permitted(roles=frozenset(), permission="feedback.send")
    assert not permitted(roles=frozenset({"unknown"}), permission="feedback.send")
    assert not permitted(roles=frozenset({ANONYMOUS}), permission="identity.sign_out")
    assert permitted(roles=frozenset({CITIZEN}), permission="identity.sign_out")


def test_a_visitor_without_the_permission_is_refused(
    app: FastAPI, pages: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = pages.get("/?lang=en")
    monkeypatch.setitem(ROLE_PERMISSIONS, ANONYMOUS, frozenset({"nothing.else"}))
    refused = pages.post(page, {"useful": "yes"}, action="/maoni", status=403)
    assert refused.h1 == "You cannot do this"
