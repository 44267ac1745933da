"""首页: what is waiting for me."""

from flask import g, render_template

from backend.services import workload
from staff_api.console import blp
from staff_api.console.access import page


@blp.route("/")
@page()
def dashboard():
    return render_template("console/dashboard.html", view=workload.dashboard(g.staff))
