"""The intent catalogue (DESIGN §4.7), with the two intents issue 10 added and why.

- ``account_contribution``: paying relatives' 城乡居民医保 (and 长护险 / 大额) contributions from the account
  (NM §4, NX §6, accounted per NX §31) — a use people ask about often and that ``account_policy``'s answer (what
  the account may pay for) did not explain (how, for whom, where to do it).
- ``policy_question``: a policy question no other intent's answer covers (cashing out, care while in hospital,
  what happens to the balance at retirement, caps carried over…), answered from the articles of the region's
  policy document with their citation, or honestly not answered.
"""

OUT_OF_SCOPE = "out_of_scope"
INTENTS = (
    "greeting", "goodbye", "handoff_human",
    "sharing_grant", "sharing_revoke", "sharing_list",
    "account_balance", "account_history", "account_policy", "account_payout", "account_transfer",
    "account_contribution",
    "caps_remaining", "benefit_policy", "benefit_estimate",
    "reimbursement_apply", "reimbursement_materials", "reimbursement_status",
    "settlement_details", "chronic_certification", "chronic_cap_adjust", "offsite_care",
    "policy_question",
    OUT_OF_SCOPE,
)  # fmt: skip
