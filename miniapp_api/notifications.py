"""The signed-in person's in-app notifications (grants, revokes, payments, reviews...)."""

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from backend.services import notifications
from backend.web.auth import require_person

blp = Blueprint("notifications", __name__, url_prefix="/api/v1/notifications", description="消息通知")


class ListQuerySchema(Schema):
    unread = fields.Boolean(load_default=False, metadata={"description": "只看未读"})


class NotificationSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    title = fields.String()
    body = fields.String()
    data = fields.Dict()
    created_at = fields.DateTime()
    read = fields.Boolean()
    read_at = fields.DateTime(allow_none=True)


class UnreadSchema(Schema):
    unread = fields.Integer()


class MarkedSchema(Schema):
    marked = fields.Integer()


@blp.route("")
class Notifications(MethodView):
    decorators = [require_person]

    @blp.arguments(ListQuerySchema, location="query")
    @blp.response(200, NotificationSchema(many=True))
    @blp.paginate()
    @blp.doc(security=[{"bearer": []}])
    def get(self, query, pagination_parameters):
        """My notifications, newest first (paginated; unread=true for the unread ones)"""
        items, total = notifications.list_for_person(
            g.person_id, unread_only=query["unread"], page=pagination_parameters.page,
            page_size=pagination_parameters.page_size)
        pagination_parameters.item_count = total
        return [notifications.view(item) for item in items]


@blp.route("/unread-count")
class UnreadCount(MethodView):
    decorators = [require_person]

    @blp.response(200, UnreadSchema)
    @blp.doc(security=[{"bearer": []}])
    def get(self):
        """How many of my notifications are unread (for the badge)"""
        return {"unread": notifications.unread_count(g.person_id)}


@blp.route("/<int:notification_id>/read")
class MarkRead(MethodView):
    decorators = [require_person]

    @blp.response(200, NotificationSchema)
    @blp.doc(security=[{"bearer": []}])
    def post(self, notification_id):
        """Mark one of my notifications read (anyone else's is 404)"""
        return notifications.view(notifications.mark_read(g.person_id, notification_id))


@blp.route("/read-all")
class MarkAllRead(MethodView):
    decorators = [require_person]

    @blp.response(200, MarkedSchema)
    @blp.doc(security=[{"bearer": []}])
    def post(self):
        """Mark all my notifications read"""
        return {"marked": notifications.mark_all_read(g.person_id)}
