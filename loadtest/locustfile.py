"""`make load`: insured people and hospitals at once, on the demo data — sign-in, caps, account, settlement with
family payment and refunds, sharing grant/revoke, contributions, chat and reimbursements.

A request fails here only when the server answers 5xx or not at all: refusals (409 races, 422, 429 limits) are
what a correct server says under this mix. Statuses are counted and written to LOAD_STATUS_FILE at the end.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import itertools
import json
import os
import random
import time
from collections import Counter

from locust import HttpUser, between, events, task

STATUSES: Counter = Counter()
ORDER_NUMBERS = itertools.count(1)
RUN = os.environ.get("LOAD_RUN_ID", str(int(time.time())))
# Demo people (backend/demo): the 张 family shares accounts; everyone's money is contended on purpose.
ZHANG_WEI, FATHER, DAUGHTER = "640104198506120314", "640104195803150014", "640104200804010025"
NX_PEOPLE = [ZHANG_WEI, "640106198709150428", FATHER, "640106196008220025", DAUGHTER]
NM_PEOPLE = ["150102198203050313", "150105198407110428", "150102195506180023", "150105198809230713"]
HOSPITALS = {"nx": ["NX-T-001", "NX-S-001", "NX-P-001"], "nm": ["NM-T-001", "NM-S-001", "NM-C-001"]}


def checked(response) -> None:
    STATUSES[response.status_code] += 1
    if response.status_code >= 500 or response.status_code == 0:
        response.failure(f"{response.status_code}: {response.text[:200]}")
    else:
        response.success()


class Person(HttpUser):
    wait_time = between(0.05, 0.3)

    def on_start(self) -> None:
        self.id_number = random.choice(NX_PEOPLE + NM_PEOPLE)
        self.sign_in()

    def call(self, method: str, path: str, name: str | None = None, **kwargs):
        with self.client.request(method, path, name=name or path, catch_response=True, **kwargs) as response:
            checked(response)
            return response

    def sign_in(self) -> None:
        response = self.call("POST", "/api/v1/auth/dev-login", json={"id_number": self.id_number})
        tokens = response.json() if response.status_code == 200 else {}
        self.refresh = tokens.get("refresh_token")
        self.auth = {"Authorization": f"Bearer {tokens.get('access_token', '-')}"}

    @task(2)
    def refresh_sign_in(self) -> None:
        response = self.call("POST", "/api/v1/auth/refresh", json={"refresh_token": self.refresh or "-"})
        if response.status_code == 200:
            self.refresh = response.json()["refresh_token"]
            self.auth = {"Authorization": f"Bearer {response.json()['access_token']}"}
        else:
            self.sign_in()

    @task(4)
    def caps_and_account(self) -> None:
        self.call("GET", "/api/v1/benefits/caps", headers=self.auth)
        self.call("GET", "/api/v1/account", headers=self.auth)
        self.call("GET", "/api/v1/account/entries?page=1", headers=self.auth, name="/api/v1/account/entries")

    @task(2)
    def contribution(self) -> None:
        self.call("POST", "/api/v1/account/contributions", headers=self.auth,
                  json={"kind": "long_term_care", "amount": "1.00", "year": random.randint(2000, 2100)})

    @task(2)
    def sharing(self) -> None:
        if self.id_number != ZHANG_WEI:
            self.call("GET", "/api/v1/sharing/grants?direction=received", headers=self.auth,
                      name="/api/v1/sharing/grants")
            return
        granted = self.call("POST", "/api/v1/sharing/grants", headers=self.auth, json={
            "relative_name": "张建国", "relative_id_number": FATHER, "relation": "father", "promise_accepted": True})
        if granted.status_code == 201:
            self.call("POST", f"/api/v1/sharing/grants/{granted.json()['id']}/revoke", headers=self.auth,
                      name="/api/v1/sharing/grants/[id]/revoke")

    @task(2)
    def chat(self) -> None:
        self.call("POST", "/api/v1/chat/messages", headers=self.auth, json={"text": random.choice(
            ["我的余额是多少", "今年还能报销多少", "门诊共济怎么授权", "转人工"])})

    @task(1)
    def reimbursement(self) -> None:
        self.call("GET", "/api/v1/reimbursements", headers=self.auth)
        self.call("POST", "/api/v1/reimbursements", headers=self.auth, json={
            "visit_date": (dt.date.today() - dt.timedelta(days=3)).isoformat(), "institution_name": "外地医院",
            "hospital_level": "secondary", "cross_province": True})


class Hospital(HttpUser):
    wait_time = between(0.05, 0.3)

    def signed(self, path: str, body: dict, name: str):
        code = body.pop("_code")
        raw = json.dumps(body, ensure_ascii=False).encode()
        stamp = str(int(time.time()))
        signature = hmac.new(f"demo-secret-{code}".encode(), b"\n".join(
            [b"POST", path.encode(), stamp.encode(), raw]), hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json", "X-Institution-Code": code, "X-Timestamp": stamp,
                   "X-Signature-Version": "2", "X-Signature": signature}
        with self.client.post(path, data=raw, headers=headers, name=name, catch_response=True) as response:
            checked(response)
            return response

    @task
    def settle_and_sometimes_refund(self) -> None:
        region = random.choice(["nx", "nm"])
        id_number = random.choice([FATHER, DAUGHTER, ZHANG_WEI] if region == "nx" else NM_PEOPLE)
        code = random.choice(HOSPITALS[region])
        body = {"id_number": id_number, "visit_date": dt.date.today().isoformat(), "med_type": "general",
                "use_account": True, "order_no": f"L{RUN}-{next(ORDER_NUMBERS)}",
                "items": [{"code": "YP001", "name": "阿莫西林胶囊", "amount": f"{random.randint(20, 400)}.50",
                           "in_scope": True},
                          {"code": "YP002", "name": "布洛芬", "amount": "35.00", "in_scope": True}]}
        settled = self.signed("/api/v1/institution/settlements", {**body, "_code": code},
                              "/api/v1/institution/settlements")
        if settled.status_code == 201 and random.random() < 0.3:
            setl_id = settled.json()["setl_id"]
            self.signed(f"/api/v1/institution/settlements/{setl_id}/refund",
                        {"refund_no": f"R-{setl_id}", "line_nos": [1], "_code": code},
                        "/api/v1/institution/settlements/[id]/refund")


@events.quitting.add_listener
def write_statuses(environment, **_kwargs) -> None:
    path = os.environ.get("LOAD_STATUS_FILE")
    if path:
        with open(path, "w") as out:
            json.dump({str(k): v for k, v in sorted(STATUSES.items())}, out)
