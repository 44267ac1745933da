"""The console's navigation: each entry shown only to the roles whose pages it opens."""

from __future__ import annotations

from flask import g

from staff_api.console import blp
from staff_api.console.access import COUNTER, REVIEWERS, has_role

NAVIGATION = (
    ("console.dashboard", "首页", ()),
    ("console.review_queue", "审核工作台", (*REVIEWERS, "admin")),
    ("console.chat_queue", "人工客服", ("agent",)),
    ("console.counter_search", "窗口服务", COUNTER),
    ("console.monitoring_flags", "智能监控", ("leader", "admin")),
    ("console.admin_users", "账号管理", ("admin",)),
    ("console.admin_policies", "政策版本", ("admin",)),
    ("console.admin_clearing", "月度清算", ("admin",)),
    ("console.audit_log", "审计日志", ("admin",)),
)


@blp.context_processor
def inject_navigation() -> dict:
    staff = g.get("staff")
    entries = [(endpoint, label) for endpoint, label, roles in NAVIGATION
               if staff is not None and (not roles or has_role(*roles))]
    return {"navigation": entries, "has_role": has_role}
