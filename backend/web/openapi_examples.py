"""Examples in the OpenAPI document for the operations vendors and mini-program developers start from.

Keyed by operationId; ``request`` is the JSON body, ``responses`` the JSON answer by status. Taken from a run on the
demo data (``seed-demo``): the demo person 张伟 (NX, employed) settles a visit at NX-T-001 with an out-of-scope line,
and that line is refunded; 刘强 (NM) grants his spouse family sharing and files a manual reimbursement.
tests/api/test_openapi_document.py checks each example against the document's own schemas.
"""

from typing import Any

SETTLEMENT_REQUEST = {
    "id_number": "640104198506120314",
    "visit_date": "2024-05-10",
    "med_type": "general",
    "items": [
        {"code": "YP001", "name": "阿莫西林胶囊", "amount": "2600.00", "in_scope": True},
        {"code": "ZL002", "name": "理疗", "amount": "400.00", "in_scope": False},
    ],
    "use_account": True,
    "order_no": "HIS-20240510-0001",
    "invoice_no": "NX-INV-0001",
}

SETTLEMENT = {
    "acct_mulaid_pay": "0.00",
    "acct_pay": "0.00",
    "act_pay_dedc": "600.00",
    "balc": "0.00",
    "benefit_year": 2024,
    "bucket": "general",
    "clearing_month": "2026-12",
    "disease_code": None,
    "explanation": [
        "本次按普通门诊统筹结算，医疗费用 3000.00 元，其中政策范围内 2600.00 元。",
        "政策范围外费用 400.00 元由个人负担。",
        "起付线 600.00 元（普通门诊统筹与门诊慢特病合并累计），本次支付起付线 600.00 元，剩余 0.00 元。",
        "三级医疗机构统筹基金支付 50%（在职职工），本次支付 1000.00 元。",
        "本年普通门诊统筹已付 1000.00 元，限额 3000.00 元。",
        "个人负担 2000.00 元，其中个人账户可支付 2000.00 元。",
        "个人账户支付 0.00 元，共济账户支付 0.00 元，现金支付 2000.00 元。",
    ],
    "fund_share": "50%",
    "hifp_pay": "1000.00",
    "in_region": True,
    "inscp_scp_amt": "2600.00",
    "institution": {"code": "NX-T-001", "level": "tertiary", "name": "宁夏医科大学总医院"},
    "invoice_no": "NX-INV-0001",
    "items": [
        {
            "account_eligible": True,
            "amount": "2600.00",
            "code": "YP001",
            "in_scope": True,
            "line_no": 1,
            "name": "阿莫西林胶囊",
        },
        {
            "account_eligible": True,
            "amount": "400.00",
            "code": "ZL002",
            "in_scope": False,
            "line_no": 2,
            "name": "理疗",
        },
    ],
    "med_type": "general",
    "medfee_sumamt": "3000.00",
    "order_no": "HIS-20240510-0001",
    "person": {"id_number_masked": "640104********0314", "name": "张*"},
    "policy_version": "nx-2024-01",
    "psn_cash_pay": "2000.00",
    "reasons": ["out_of_scope_lines", "deductible_applied"],
    "refunds": [],
    "setl_id": "ST01M8SYK0NSHH4Y9ZAJKM4C",
    "settled_at": "2026-12-01T23:21:11.052409+00:00",
    "source": "direct",
    "status": "settled",
    "visit_date": "2024-05-10",
}

REFUND_REQUEST = {"refund_no": "HIS-R-20240511-0001", "line_nos": [2]}

REFUND = {
    "acct_mulaid_pay": "0.00",
    "acct_pay": "0.00",
    "balc": "0.00",
    "clearing_month": "2026-12",
    "explanation": [
        "退费 400.00 元，按原渠道退回：统筹基金 0.00 元，个人账户 0.00 元，共济账户 0.00 元，现金 400.00 元；本次结算占用的起付线和支付限额相应恢复。"
    ],
    "hifp_pay": "0.00",
    "line_nos": [2],
    "medfee_sumamt": "400.00",
    "psn_cash_pay": "400.00",
    "refund_no": "HIS-R-20240511-0001",
    "refunded_at": "2026-12-01T23:21:11.230720+00:00",
    "setl_id": "ST01M8SYK0NSHH4Y9ZAJKM4C",
    "status": "partially_refunded",
}

ELIGIBILITY_REQUEST = {"id_number": "640104198506120314", "date": "2024-05-10"}

ELIGIBILITY = {
    "account_open": True,
    "accumulators": {
        "chronic": {"allowed": "8000.00", "remaining": "8000.00", "used": "0.00"},
        "combined": {"allowed": "200000.00", "remaining": "200000.00", "used": "0.00"},
        "deductible": {"allowed": "600.00", "remaining": "600.00", "used": "0.00"},
        "general": {"allowed": "3000.00", "remaining": "3000.00", "used": "0.00"},
        "year": 2024,
    },
    "benefits": {
        "chronic": {"eligible": False, "fund_share": "50%", "reasons": ["chronic_not_qualified"]},
        "general": {"eligible": True, "fund_share": "50%", "reasons": []},
    },
    "chronic_qualifications": [],
    "date": "2024-05-10",
    "direct_settlement": {"allowed": True, "reason": None},
    "in_hospital": False,
    "in_region": True,
    "offsite_registered": False,
    "person": {
        "id_number_masked": "640104********0314",
        "name": "张*",
        "person_type": "employed",
        "region": "nx",
        "status": "active",
    },
    "policy_version": "nx-2024-01",
}

GRANT_REQUEST = {
    "relative_name": "赵敏",
    "relative_id_number": "150105198407110428",
    "relation": "spouse",
    "promise_accepted": True,
}

GRANT = {
    "channel": "app",
    "direction": "given",
    "grant_id": "SG01M8SYNSKR55XQ0RCDEG26",
    "granted_at": "2026-12-01T23:22:42.168121+00:00",
    "granted_at_counter": False,
    "owner": {"id_number_masked": "150102********0313", "name": "刘强"},
    "policy_version": "nm-2023-01",
    "promise_accepted_at": "2026-12-01T23:22:42.168121+00:00",
    "promise_text_version": "nm-2023-01/1",
    "relation": "spouse",
    "relation_label": "配偶",
    "relative": {"id_number_masked": "150105********0428", "name": "赵敏"},
    "revoke_channel": None,
    "revoked_at": None,
    "status": "active",
}

REIMBURSEMENT_REQUEST = {
    "visit_date": "2024-05-10",
    "institution_name": "北京协和医院",
    "hospital_level": "tertiary",
    "cross_province": True,
    "self_paid_by_choice": False,
    "invoices": [{"number": "11010024000123", "amount": "1800.00", "electronic": True}],
    "items": [
        {"name": "门诊检查费", "amount": "1200.00", "in_scope": True},
        {"name": "西药费", "amount": "600.00", "in_scope": True},
    ],
    "payee": {"kind": "social_security_card", "card_number": "150102198203050313"},
}

REIMBURSEMENT = {
    "application_id": "RB01M8SYNT817Y6PV2RTN7WZ",
    "attachments": [],
    "claimed_amount": "1800.00",
    "current_step": {"label": "初审", "name": "first_review"},
    "invoices": [{"amount": "1800.00", "electronic": True, "number": "11010024000123"}],
    "items": [
        {"amount": "1200.00", "in_scope": True, "name": "门诊检查费"},
        {"amount": "600.00", "in_scope": True, "name": "西药费"},
    ],
    "kind": "reimbursement",
    "kind_label": "零星报销",
    "missing_materials": [{"kind": "fee_list", "label": "门诊费用清单", "missing": 1}],
    "paid_at": None,
    "payee": {"card_number": "****0313", "kind": "social_security_card", "kind_label": "社会保障卡金融账户"},
    "settlement": None,
    "statement_url": None,
    "status": "submitted",
    "status_label": "已提交",
    "steps": [],
    "submitted_at": "2026-12-01T23:22:42.817416+00:00",
    "updated_at": "2026-12-01T23:22:42.830804+00:00",
    "visit": {
        "cross_province": True,
        "hospital_level": "tertiary",
        "institution_name": "北京协和医院",
        "med_type": "general",
        "visit_date": "2024-05-10",
    },
}

EXAMPLES: dict[str, dict[str, Any]] = {
    "settle_visit": {"request": SETTLEMENT_REQUEST, "responses": {"201": SETTLEMENT, "200": SETTLEMENT}},
    "refund_settlement": {"request": REFUND_REQUEST, "responses": {"201": REFUND, "200": REFUND}},
    "check_eligibility": {"request": ELIGIBILITY_REQUEST, "responses": {"200": ELIGIBILITY}},
    "sharing_post_grants": {"request": GRANT_REQUEST, "responses": {"201": GRANT}},
    "reimbursements_post_reimbursements": {"request": REIMBURSEMENT_REQUEST, "responses": {"201": REIMBURSEMENT}},
}

# Reason codes (`errors.reason`) particular to an operation, by status, beside the general ones each error
# response lists. Kept with the examples: both are what a vendor reads first.
SETTLEMENT_INPUT_REASONS = [
    "id_number_invalid", "invalid_date", "date_in_future", "unknown_med_type", "invalid_disease_code",
    "invalid_use_account", "no_lines", "too_many_lines", "invalid_line", "invalid_amount", "negative_amount",
    "amount_too_large", "invalid_order_no", "invalid_invoice_no",
]
OPERATION_REASONS: dict[str, dict[str, list[str]]] = {
    "settle_visit": {
        "404": ["person_not_found"],
        "409": ["order_no_reused", "invoice_already_used"],
        "422": [*SETTLEMENT_INPUT_REASONS, "offsite_registration_required", "offsite_level_not_allowed"],
    },
    "refund_settlement": {
        "403": ["not_the_settling_institution"],
        "404": ["settlement_not_found"],
        "409": ["refund_no_reused", "already_refunded", "line_already_refunded", "refund_exceeds_original"],
        "422": ["invalid_refund_no", "invalid_line_nos", "unknown_line_no"],
    },
    "check_eligibility": {
        "404": ["person_not_found"],
        "422": ["id_number_invalid", "invalid_date", "date_in_future"],
    },
}
