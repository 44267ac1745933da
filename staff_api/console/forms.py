"""Flask-WTF forms of the console. Each carries its CSRF token; validation messages are in Chinese."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField, DateField, HiddenField, PasswordField, SelectField, SelectMultipleField, StringField, TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from backend.domain.review import REASON_CODES
from backend.services.staff import MIN_PASSWORD_LENGTH, ROLE_LABELS, STAFF_ROLES


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms options."""
    return [SelectChoice(value, label) for value, label in pairs]


ROLE_CHOICES = choices((role, ROLE_LABELS[role]) for role in STAFF_ROLES)
DECISION_LABELS = {"approve": "通过", "return": "退回补充材料", "reject": "不予通过"}
REQUIRED = "此项必填"


class CheckboxList(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SignInForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired(REQUIRED), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired(REQUIRED), Length(max=256)])
    next = HiddenField()


class ActionForm(FlaskForm):
    """A button that changes something (claim, release, close, deactivate): only its CSRF token."""


class StaffCreateForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired(REQUIRED), Length(min=2, max=64)])
    display_name = StringField("姓名", validators=[DataRequired(REQUIRED), Length(max=64)])
    roles = CheckboxList("岗位", choices=ROLE_CHOICES, validators=[DataRequired("请至少选择一个岗位")])
    password = PasswordField("初始密码", validators=[DataRequired(REQUIRED), Length(min=MIN_PASSWORD_LENGTH, max=256,
                                                                           message=f"密码至少{MIN_PASSWORD_LENGTH}位")])


class StaffRolesForm(FlaskForm):
    display_name = StringField("姓名", validators=[DataRequired(REQUIRED), Length(max=64)])
    roles = CheckboxList("岗位", choices=ROLE_CHOICES, validators=[DataRequired("请至少选择一个岗位")])


class PasswordResetForm(FlaskForm):
    password = PasswordField("新密码", validators=[DataRequired(REQUIRED), Length(min=MIN_PASSWORD_LENGTH, max=256,
                                                                          message=f"密码至少{MIN_PASSWORD_LENGTH}位")])


class PersonSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    name = StringField("姓名", validators=[Optional(), Length(max=64)])
    id_number = StringField("身份证号码", validators=[Optional(), Length(max=18)])


class RevealForm(FlaskForm):
    purpose = StringField("查看原因", validators=[DataRequired("请说明查看原因"), Length(max=200)])


class DecisionForm(FlaskForm):
    decision = SelectField("审核决定", choices=choices(DECISION_LABELS.items()))
    reason_code = SelectField("理由", choices=choices([("", "（通过时无需理由）"), *REASON_CODES.items()]),
                              validators=[Optional()])
    comment = TextAreaField("审核意见", validators=[Optional(), Length(max=1000)])


class ReplyForm(FlaskForm):
    text = TextAreaField("回复", validators=[DataRequired("请输入回复内容"), Length(max=2000)])


PROMISE_FILES = FileAllowed(["jpg", "jpeg", "png", "pdf"], "仅支持 JPG、PNG 图片和 PDF 文件")


class CounterGrantForm(FlaskForm):
    relative_name = StringField("被授权人姓名", validators=[DataRequired(REQUIRED), Length(max=64)])
    relative_id_number = StringField("被授权人身份证号码", validators=[DataRequired(REQUIRED), Length(max=18)])
    relation = SelectField("关系", validators=[DataRequired(REQUIRED)])
    promise = FileField("签字的承诺书扫描件", validators=[FileRequired("请上传签字的承诺书扫描件"), PROMISE_FILES])
    identity_checked = BooleanField("已核验本人身份证件原件", validators=[DataRequired("请先核验本人身份证件")])


class CounterRevokeForm(FlaskForm):
    promise = FileField("签字的承诺书扫描件", validators=[FileRequired("请上传签字的承诺书扫描件"), PROMISE_FILES])


class TransferOutForm(FlaskForm):
    destination = StringField("转入地（省份及经办机构）", validators=[DataRequired(REQUIRED), Length(max=100)])
    confirm = BooleanField("确认转出全部余额并关闭个人账户", validators=[DataRequired("请确认")])


class FlagReviewForm(FlaskForm):
    outcome = SelectField("结论", choices=choices([("confirmed", "确认异常"), ("dismissed", "排除（无异常）")]))
    comment = TextAreaField("审核说明", validators=[DataRequired("请填写审核说明"), Length(max=1000)])


class PolicyAddForm(FlaskForm):
    document = TextAreaField("政策文件（JSON）", validators=[DataRequired(REQUIRED), Length(max=200_000)])


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    actor = StringField("操作人", validators=[Optional(), Length(max=64)])
    group = SelectField("操作类别", validators=[Optional()])
    action = StringField("操作代码", validators=[Optional(), Length(max=64)])
    object_type = StringField("对象类型", validators=[Optional(), Length(max=32)])
    object_id = StringField("对象编号", validators=[Optional(), Length(max=64)])
    since = DateField("起始日期", validators=[Optional()])
    until = DateField("截止日期", validators=[Optional()])
