"""A smorest Blueprint whose every request must carry a valid institution signature."""

from flask_smorest import Blueprint

from backend.web.signature import verify_institution_request


def signed_blueprint(name: str, import_name: str, **kwargs) -> Blueprint:
    blueprint = Blueprint(name, import_name, **kwargs)
    blueprint.before_request(verify_institution_request)
    return blueprint
