"""Every route declares the role it needs."""
from __future__ import annotations

import pytest
from flask import Flask

from service.access import PUBLIC, required_role, requires, undeclared_routes


def test_every_registered_route_declares_a_role(app: Flask) -> None:
    assert undeclared_routes(app) == []


def test_a_route_without_a_declaration_is_found(app: Flask) -> None:
    app.add_url_rule("/undeclared", "undeclared", lambda: "x")
    assert undeclared_routes(app) == ["/undeclared (undeclared)"]


def test_declarations_are_checked() -> None:
    @requires("analyst")
    def view() -> str:
        return ""

    assert required_role(view) == "analyst"
    assert required_role(requires(PUBLIC)(lambda: "")) == PUBLIC
    with pytest.raises(ValueError, match="unknown role"):
        requires("superuser")
