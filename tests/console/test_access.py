"""Every console page refuses anonymous visitors and every role it is not meant for (route-level)."""

from __future__ import annotations

import pytest

from backend.models.staff import STAFF_ROLES

EXAMPLE_ARGS = {"int": 1, "default": "X1"}


def console_routes(app):
    """(rule, methods, allowed roles) for every console page that declares its roles."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("console."):
            continue
        view = app.view_functions[rule.endpoint]
        roles = getattr(view, "console_roles", None)
        if roles is None:
            continue
        args = {name: EXAMPLE_ARGS["int" if type(conv).__name__.endswith("IntegerConverter") else "default"]
                for name, conv in rule._converters.items()}
        with app.test_request_context():
            from flask import url_for

            path = url_for(rule.endpoint, **args)
        found.append((path, sorted(rule.methods - {"HEAD", "OPTIONS"}), roles))
    return found


def test_every_console_view_except_sign_in_declares_its_roles(app):
    undeclared = [rule.endpoint for rule in app.url_map.iter_rules()
                  if rule.endpoint.startswith("console.")
                  and rule.endpoint not in {"console.static", "console.sign_in", "console.sign_out"}
                  and getattr(app.view_functions[rule.endpoint], "console_roles", None) is None]
    assert undeclared == []
    assert len(console_routes(app)) >= 25


def test_anonymous_visitors_are_sent_to_sign_in_or_refused(app, console):
    visitor = console()
    for path, methods, _ in console_routes(app):
        for method in methods:
            if method == "GET":
                response = visitor.get(path)
                assert response.status_code == 302, path
                assert response.headers["Location"].startswith("/staff/sign-in"), path
            else:
                assert visitor.post(path).status_code == 401, path


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_each_page_refuses_every_role_it_is_not_for(app, console, role):
    visitor = console(f"only-{role}", [role])
    checked = 0
    for path, methods, allowed in console_routes(app):
        if role in allowed:
            continue
        for method in methods:
            response = visitor.get(path) if method == "GET" else visitor.post(path)
            assert response.status_code == 403, (role, method, path)
            assert "无权访问" in response.get_data(as_text=True)
            checked += 1
    assert checked > 0 or role == "admin"


def test_a_reviewer_cannot_open_administration_but_an_administrator_can(console):
    reviewer, admin = console("reviewer1"), console("admin1")
    for path in ("/staff/admin/users", "/staff/audit", "/staff/admin/policies", "/staff/admin/clearing"):
        assert reviewer.get(path).status_code == 403
        assert admin.get(path).status_code == 200
    assert "账号管理" not in reviewer.get("/staff/").get_data(as_text=True)
