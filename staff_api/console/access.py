"""Who may open which page: every console view declares its roles with ``@page(...)``.

Anonymous visitors are sent to the sign-in page (GET) or refused (POST, 401); a signed-in member of staff without
one of the roles gets a 403 page saying which posts may open it. The roles are kept on the view so the route-level
tests can check every page against every role.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, g, redirect, render_template, request, url_for

from backend.services.staff import STAFF_ROLES
from backend.services.staff import ROLE_LABELS

ANY_STAFF = STAFF_ROLES
REVIEWERS = ("first_reviewer", "second_reviewer", "leader")
COUNTER = ("agent", "first_reviewer", "admin")


def page(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    allowed = tuple(roles) or ANY_STAFF

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if g.get("staff") is None:
                if request.method == "GET":
                    return redirect(url_for("console.sign_in", next=request.full_path.rstrip("?")))
                abort(401)
            if not set(allowed) & set(g.staff.roles):
                labels = "、".join(ROLE_LABELS[r] for r in allowed)
                return render_template("console/error.html", title="无权访问",
                                       message=f"此页面仅限以下岗位使用：{labels}。"), 403
            return view(*args, **kwargs)

        wrapper.console_roles = allowed
        return wrapper

    return decorator


def has_role(*roles: str) -> bool:
    return g.get("staff") is not None and bool(set(roles) & set(g.staff.roles))
