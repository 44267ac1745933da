"""What the bot says: reply shapes and the Chinese templates.

No policy number is written here: deductibles, shares, caps, credit ratios and who may share are filled in from
the policy version in force (``handlers``), amounts from the services. Templates hold only wording, procedures
(cited to the article they paraphrase) and placeholders.

A reply is a dict the chat API returns as is: ``{"type": "text", "text"}``, ``{"type": "choices", "text",
"choices": [{"label", "value"}]}`` or ``{"type": "card", "card", "title", "text", ...}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

Reply = dict


def text(body: str) -> Reply:
    return {"type": "text", "text": body}


def choices(prompt: str, options: Iterable[tuple[str, str]]) -> Reply:
    """``options`` are (value, label) pairs; the client shows the labels and may send either back."""
    listed = [{"label": label, "value": value} for value, label in options]
    return {"type": "choices", "text": prompt, "choices": listed}


def card(kind: str, title: str, body: str, **extra: object) -> Reply:
    return {"type": "card", "card": kind, "title": title, "text": body, **extra}


def as_transcript_text(reply: Reply) -> str:
    """One line of the stored transcript: what the person saw, choices numbered (agents read this)."""
    body = reply.get("text", "")
    if reply["type"] == "choices":
        body += "".join(f"\n{number}. {option['label']}" for number, option in enumerate(reply["choices"], 1))
    if reply["type"] == "card":
        body = f"[{reply.get('title', '')}] {body}"
    return body


# --- labels ----------------------------------------------------------------------------------------------------

INTENT_LABELS = {
    "greeting": "打个招呼",
    "goodbye": "结束咨询",
    "handoff_human": "转人工客服",
    "sharing_grant": "开通家庭共济授权",
    "sharing_revoke": "解除家庭共济授权",
    "sharing_list": "查看家庭共济授权",
    "account_balance": "查询个人账户余额",
    "account_history": "查看个人账户收支明细",
    "account_policy": "个人账户能支付哪些费用、能给谁用",
    "account_payout": "个人账户余额一次性支取（去世、出国定居）",
    "account_transfer": "跨省转移个人账户",
    "caps_remaining": "查询今年剩余报销额度",
    "benefit_policy": "起付线、报销比例和年度限额",
    "benefit_estimate": "估算一笔门诊费用能报多少",
    "reimbursement_apply": "申请零星报销",
    "reimbursement_materials": "零星报销需要的材料",
    "reimbursement_status": "查询报销申请进度",
    "settlement_details": "查看结算明细",
    "chronic_certification": "门诊慢特病认定",
    "chronic_cap_adjust": "门诊慢特病支付限额调整",
    "offsite_care": "异地就医",
    "account_contribution": "用个人账户给家人缴纳医保费",
    "policy_question": "其他医保政策问题",
    "out_of_scope": "其他问题",
}
LEVEL_LABELS = {"tertiary": "三级医院", "secondary": "二级医院", "primary": "一级医院及社区卫生服务机构"}
LEVEL_CHOICES = (("tertiary", "三级医院（含三甲）"), ("secondary", "二级医院"), ("primary", "一级医院、社区、卫生院"))
PERSON_TYPE_LABELS = {"employed": "在职职工", "retired": "退休人员", "flexible": "灵活就业人员"}
REGION_LABELS = {"nx": "宁夏", "nm": "内蒙古（自治区本级）"}
REGION_CHOICES = (("nx", "宁夏"), ("nm", "内蒙古"))
BUCKET_LABELS = {"general": "普通门诊统筹", "chronic": "门诊慢特病"}
YES_NO_CHOICES = (("yes", "确认"), ("no", "取消"))
AGREE_CHOICES = (("yes", "同意并确认授权"), ("no", "不同意，取消"))
NOT_LISTED = "none"

# --- conversation ------------------------------------------------------------------------------------------------

GREETING = ("您好，我是医保智能助手。我可以帮您查询个人账户余额和今年的剩余报销额度，办理或解除家庭共济授权，"
            "估算门诊费用能报多少，查询报销进度和结算明细，也能解答起付线、报销比例等政策问题。请问有什么可以帮您？")
GOODBYE = "不客气，祝您身体健康！还有问题随时找我。"
OUT_OF_SCOPE = ("抱歉，这个问题不在我能解答的范围内：我只能解答职工医保门诊共济、个人账户和报销相关的问题。"
                "如需人工帮助，请回复「转人工」。")
CLARIFY = "我不太确定您的意思，您是想办理以下哪一项？"
REPHRASE = "抱歉，我还是没能理解。请换个说法再说一次，例如「我的个人账户还有多少钱」；或者回复「转人工」。"
HANDOVER = "正在为您转接人工客服，请稍候。客服接入前，您可以继续留言，客服会看到您和我的全部对话。"
HANDOVER_AFTER_FAILURES = "抱歉，我没能帮您办好。" + HANDOVER
HUMAN_TIMED_OUT = "人工客服暂时没有回复，我先继续为您服务；需要人工时可再次回复「转人工」。"
HUMAN_CLOSED = "人工客服已结束本次服务。还有问题可以继续问我。"
SIGN_IN_TITLE = "请先登录"
SIGN_IN_BODY = "「{what}」需要核实您的身份。请先登录并绑定参保信息，登录后再问我一次即可。"
ASK_REGION = "政策因参保地而不同，请问您在哪里参加职工医保？"
REGION_REMEMBERED = "好的，以下按{region}的现行政策为您解答。"
OTHERS_DATA_REFUSED = ("抱歉，为保护个人信息，我只能查询您本人的{what}，不能告诉您{relation}的。"
                       "请{relation}本人登录后查询；需要时，也可以让{relation}授权您办理或到经办窗口咨询。")
TOO_LONG = ("您的消息有 {length} 个字，我一次只能读 {limit} 个字以内。请把问题简短地分几次发给我，"
            "例如「我的个人账户还有多少钱」；需要详细说明情况的，可以回复「转人工」。")
WAITING_FOR_AGENT = "已收到您的消息，正在为您接入人工客服：您前面还有 {ahead} 位，预计等待约 {minutes} 分钟。客服接入后会看到您的全部消息。"
WAITING_FIRST_IN_LINE = "已收到您的消息，您是下一位，人工客服马上接入，请稍候。客服接入后会看到您的全部消息。"
AGENT_WILL_READ = "已收到，客服正在处理您的会话，会尽快回复您。"
SERVICE_REFUSED = "没能办成：{message}"
SERVICE_FAILED = "查询暂时没有成功：{message}。您可以稍后再试，或回复「转人工」。"

# --- forms ---------------------------------------------------------------------------------------------------

CANCELLED = "好的，已取消{form}，没有做任何变更。还有其他需要吗？"
RESUME = "我们继续办理{form}："
SWITCHED = "已停止办理{form}。"
DID_NOT_UNDERSTAND = "抱歉，没有看明白。"
FORM_LABELS = {
    "sharing_grant": "家庭共济授权",
    "sharing_revoke": "解除家庭共济授权",
    "benefit_estimate": "报销估算",
}

GRANT_ASK_RELATION = "好的，为您办理家庭共济授权（授权后，家人可以使用您的个人账户）。请问被授权人是您的什么人？"
GRANT_RELATION_NOT_ALLOWED = "按{region}现行政策，个人账户只能授权给：{relations}。请重新选择被授权人与您的关系。"
GRANT_ASK_NAME = "请告诉我被授权人（您的{relation}）的姓名。"
GRANT_NAME_INVALID = "姓名请只输入汉字（少数民族姓名可含「·」），例如：李娜。"
GRANT_ID_NAME_MISMATCH = "这个身份证号码与「{name}」的参保登记信息不一致，请核对后重新输入；如果名字写错了，请回复「名字错了」。"
GRANT_ASK_ID = "请输入{name}的18位居民身份证号码。"
ID_PROBLEMS = {
    "checksum": "这个身份证号码的最后一位校验码不对，可能有一位输错了，请核对后重新输入。",
    "birth_date": "这个身份证号码中的出生日期不正确，请核对后重新输入。",
    "format": "身份证号码应为18位（最后一位可能是X），请核对后重新输入。",
}
GRANT_CONFIRM = ("请阅读以下《承诺书》：\n{promise}\n\n授权信息：{relation} {name}（身份证 {id_masked}），"
                 "授权后立即生效，可随时解除。同意请回复「同意」，不同意请回复「取消」。")
GRANT_CONFIRM_AGAIN = "请回复「同意」确认授权，或回复「取消」放弃办理。"
GRANT_DONE = ("已为您开通家庭共济授权：您的{relation}{name}（身份证 {id_masked}）从现在起可以使用您的个人账户，"
              "即时生效。您可以随时对我说「解除授权」。")

REVOKE_NONE = "您目前没有有效的家庭共济授权，无需解除。"
REVOKE_ASK_WHICH = "您目前有以下有效授权，请选择要解除的一项："
REVOKE_CONFIRM = "确认解除对您的{relation}{name}（身份证 {id_masked}）的家庭共济授权吗？解除后立即生效。"
REVOKE_CONFIRM_AGAIN = "请回复「确认」解除授权，或回复「取消」保留授权。"
REVOKE_PICK_AGAIN = "请从列表中选择要解除的授权（可以回复序号，例如「1」）。"
REVOKE_DONE = "已解除对您的{relation}{name}的家庭共济授权，即时生效。需要时可以重新授权。"

ESTIMATE_ASK_AMOUNT = "好的，帮您估算。这次门诊的医保范围内费用大约是多少钱？（例如：3000元）"
ESTIMATE_AMOUNT_INVALID = "请告诉我一个大于零的金额，例如「3000元」或「两千五」。"
ESTIMATE_ASK_LEVEL = "在哪一级医院就诊？"
ESTIMATE_LEVEL_AGAIN = "请选择医院等级：三级、二级，或一级/社区/卫生院。"
ESTIMATE_RESULT = ("按您今年的累计情况估算（{policy_label}）：在{level}花费 {amount} 元，统筹基金支付 {fund} 元，"
                   "个人账户支付 {account} 元，现金支付 {cash} 元。")
ESTIMATE_NOTE = "以上为估算，实际以就诊时的结算为准。"

# --- answers from the person's data ------------------------------------------------------------------------------

BALANCE = "您的个人账户当前余额为 {balance} 元。"
YEAR_FLOWS = "{year}年以来划入 {credits} 元，支出 {spending} 元。"
HISTORY_CARD_TITLE = "个人账户明细"
HISTORY_CARD_BODY = "点击查看每一笔划入和支出。"
CAPS_INTRO = "您{year}年的额度情况（{person_type}）："
CAPS_DEDUCTIBLE = "起付标准 {allowed} 元，已累计 {used} 元，还差 {remaining} 元达到起付标准；"
CAPS_DEDUCTIBLE_MET = "起付标准 {allowed} 元，已累计 {used} 元，今年已达到起付标准；"
CAPS_LINE = "{label}年度支付限额 {allowed} 元，已支付 {used} 元，剩余 {remaining} 元；"
CAPS_COMBINED = "基本医疗保险统筹基金年度最高支付限额 {allowed} 元，已支付 {used} 元，剩余 {remaining} 元。"
APPLICATIONS_NONE = "您目前没有报销或其他待遇申请记录。需要申请零星报销时，可以对我说「怎么申请报销」。"
APPLICATIONS_INTRO = "您最近的申请："
APPLICATION_LINE = "{kind}（编号 {application_id}，{submitted}提交）：{status}"
APPLICATION_STEP = "，当前环节：{step}"
APPLICATION_MISSING = "，还需上传：{materials}"
SETTLEMENTS_NONE = "没有查到您{when}的医保结算记录。"
SETTLEMENTS_INTRO = "您{when}的医保结算（共 {total} 笔，显示最近 {shown} 笔）："
SETTLEMENT_LINE = ("{visit_date} {institution}：总费用 {total} 元，统筹基金支付 {fund} 元，个人账户支付 {account} 元，"
                   "家庭共济账户支付 {shared} 元，现金 {cash} 元{refunded}")
SETTLEMENT_REFUNDED = "（已退费）"
SETTLEMENTS_CARD_TITLE = "结算明细"
SETTLEMENTS_CARD_BODY = "点击查看每笔结算的明细，可打印结算清单。"
GRANTS_NONE = "您目前没有授权别人使用您的个人账户，也没有人授权给您。"
GRANTS_GIVEN = "您授权的家庭成员：{items}。"
GRANTS_RECEIVED = "授权给您的家庭成员：{items}。"
GRANT_ITEM = "{relation}{name}（身份证 {id_masked}，{since}起）"

ARREARS_NOTE = "提醒：您目前处于欠费状态，{region_rule}补缴欠费后可恢复享受相关待遇。"
ARREARS_RULES = {
    "nm": "按规定（内蒙古细则第十三条），单位或个人欠缴医保费期间，普通门诊统筹待遇自动暂停；",
    "nx": "欠费期间相关待遇会受到影响；",
}
RECEIVED_NOTE = "另外，{owners}已授权您使用其个人账户（家庭共济），在您本人账户余额不足时可以使用。"
CHRONIC_QUALIFIED = "您已认定门诊慢特病：{diseases}。"
OPEN_APPLICATIONS = "您还有办理中的申请：{items}。"

# --- answers generated from the policy version in force -----------------------------------------------------------

POLICY_INTRO = "{policy_label}（{valid_from}起执行）："
POLICY_SAMPLE = "注意：这一政策版本的参数为样例值，以医保部门公布的为准。"
DEDUCTIBLE = "年度起付标准：{amounts}。"
DEDUCTIBLE_SHARED = "{buckets}的起付标准合并累计。"
SHARES = "{bucket}的报销比例（统筹基金支付）：{levels}。"
CAP = "{bucket}年度支付限额：{amounts}。"
COMBINED_CAP = "统筹基金年度最高支付限额（{scope}）：{amounts}。"
COMBINED_SCOPE_WITH_GENERAL = "含普通门诊统筹"
COMBINED_SCOPE_WITHOUT_GENERAL = "普通门诊统筹不计入"
CHRONIC_EXCLUDES_GENERAL = "享受门诊慢特病待遇的，不同时享受普通门诊统筹待遇。"
ACCOUNT_USES = "个人账户可以支付：{uses}。"
ACCOUNT_EXCLUDED = "不能支付：{uses}。"
SHARING_RELATIONS = "家庭共济：可以授权给{relations}使用您的个人账户{in_region}。"
SHARING_IN_REGION = "（须在本地区参保，在本地区内使用）"
CREDIT_EMPLOYED = "在职职工每月按本人缴费基数的{ratio}划入个人账户（当月单位和个人缴费足额到账后划入）。"
CREDIT_FLEXIBLE_MONTHLY = "灵活就业人员每月按缴费基数的{ratio}划入。"
CREDIT_FLEXIBLE_LUMP_SUM = "灵活就业人员按缴费基数的{ratio}计算，足额缴费后一次性划入。"
CREDIT_RETIRED = "退休人员每月定额划入 {amount} 元（{base_label}的{ratio}）。"

# NM §4, NX §6 (uses) and §31 (the accounting of such payments): contributions paid from the account.
CONTRIBUTION_USES = (
    "可以。按{region}的规定，个人账户可以用于缴纳配偶、父母、子女等近亲属参加城乡居民基本医疗保险的个人缴费，"
    "以及长期护理保险、职工大额医疗费用补助等个人缴费。在小程序「个人账户—代缴」中填写家人的姓名、身份证号和关系即可，"
    "缴费从您的个人账户余额中扣除，记入家人的缴费记录。"
)
CONTRIBUTION_CARD_TITLE = "用个人账户代缴"
CONTRIBUTION_CARD_BODY = "为家人缴纳居民医保、长护险等个人缴费。"
NO_CASH_OUT = ("个人账户的钱不能取现、套现：只能用于就医购药、家人共济和规定的缴费。定点医疗机构和药店也不得通过虚假退费"
               "等方式帮助套取现金，违者将被追究责任。只有参保人去世或出国定居时，余额才可以一次性支取。")
POLICY_ARTICLE = "{citation}：{text}"
POLICY_UNKNOWN = ("这个问题我暂时没有找到准确的政策依据，不想给您错误的答复。您可以换个说法再问一次，"
                  "或回复「转人工」由工作人员为您解答。")

# --- procedures (wording from the articles cited; no numbers) ---------------------------------------------------------

# NX §23: materials for manual (sporadic) reimbursement; §22: what is not reimbursed manually.
REIMBURSEMENT_MATERIALS = (
    "申请零星（手工）报销需要准备：\n"
    "1. 具有金融功能的社会保障卡（或身份证加本人银行卡）；\n"
    "2. 医疗费用发票原件（电子发票也可以）；\n"
    "3. 门诊费用明细清单。\n"
    "在小程序提交时，纸质发票和费用清单请拍照上传。报销完成后可以在线查看、打印结算清单。"
)
REIMBURSEMENT_APPLY = (
    "零星报销可以在小程序「零星报销」中在线申请：填写就诊日期、医院和费用明细，上传发票和费用清单，选择收款账户后提交；"
    "经办机构按初审、复审、审签办理，进度可以随时问我。\n"
    "注意：在本地区定点医疗机构自愿选择自费结算的费用，不能再申请手工报销；跨省异地就医未直接结算的，"
    "按参保地政策和目录、就医地价格报销。"
)
REIMBURSEMENT_CARD_TITLE = "申请零星报销"
REIMBURSEMENT_CARD_BODY = "在线填写并上传材料。"
# NX §9: one-time payout of the balance on death or emigration.
ACCOUNT_PAYOUT = (
    "参保人去世或出国（境）定居的，个人账户余额可以一次性支取：由本人或其法定继承人在线或到经办窗口申请，需提供申请人身份证件、"
    "死亡证明或出国定居证明、签字的承诺书、本人银行卡（或社保卡金融账户）；在职人员去世的，还需参保单位的人员减少申报表。"
    "经办机构按初审、复审、领导审签办理后，将余额支付到申请人账户（也可以选择账户继续使用）。"
)
PAYOUT_CARD_TITLE = "个人账户一次性支取"
PAYOUT_CARD_BODY = "在线提交申请和材料。"
# NX §8: the balance moves with the insurance relationship.
ACCOUNT_TRANSFER = (
    "跨省转移医保关系时，个人账户余额随医保关系一并转移：在新参保地办理转入（接续）后，本地个人账户余额转出并关闭账户，"
    "留有转出记录。转移期间如需就医，请保留好票据。"
)
# NX §15–§16: certification by the designated 认定医院, recognised region-wide.
CHRONIC_CERTIFICATION = (
    "门诊慢特病待遇资格由定点的「认定医院」按统一的病种和诊断认定标准认定，认定医院全区互认：携带身份证件、病历和检查资料，"
    "就近到区内任一认定医院申请即可；办理了跨省异地长期居住备案的，也可以向参保地医保经办机构申请。"
    "认定后，相关门诊费用按门诊慢特病待遇结算，同一笔费用不会重复报销。"
)
# NX §17: cap adjustments at 二级甲等 or higher, or the agency for people registered out of the region.
CHRONIC_CAP_ADJUST = (
    "确因治疗需要调整门诊慢特病最高支付限额的，可以向区内二级甲等及以上定点医疗机构提出申请；办理了异地就医备案的，"
    "也可以向参保地医保经办机构申请。参保地经办机构审核通过后，调整的支付限额即时生效。"
)
# NX §21–§22, NM §18: out-of-region care.
OFFSITE_CARE = (
    "异地就医：办理异地就医备案后，在就医地的联网定点医疗机构就医，可以凭医保电子凭证、社保卡或身份证直接结算"
    "（内蒙古区本级的普通门诊统筹费用须在二级及以上定点医疗机构结算）。无法直接结算的，先由个人垫付，"
    "再持票据和费用明细回参保地经办机构申请零星报销，执行参保地的支付政策和医保目录、就医地的医疗服务价格。"
)


def join(items: Iterable[str]) -> str:
    return "、".join(items)


def per_type_text(values: Mapping[str, str], only: str | None = None) -> str:
    """"在职职工 1000.00 元，退休人员 1000.00 元" — or just one person type's value."""
    if only is not None:
        return f"{values[only]}"
    return "，".join(f"{PERSON_TYPE_LABELS[kind]} {value}" for kind, value in values.items())
