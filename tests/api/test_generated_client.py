"""A hospital-system vendor's view: a Python client generated from /api/openapi.json (openapi-python-client, offline)
settles and refunds a visit against the running app, signing each request as the document's security scheme says.

The client is generated once per module into a temporary directory; the app is served on a free loopback port by a
server thread, so requests go through a real HTTP stack.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import importlib
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from werkzeug.serving import make_server

from backend import demo
from tests.conftest import build_app, isolation, new_person, reset_app_state

CONFIG = Path(__file__).with_name("openapi_client.json")
PACKAGE = "medins_client"


@pytest.fixture(scope="module")
def served_app(migrated_database):
    app = build_app(migrated_database)
    # The server's threads use connections of their own: the writes are real, and emptied afterwards.
    with isolation(app, real_commits=True):
        with app.app_context():
            demo.seed_parties()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield app, f"http://127.0.0.1:{server.server_port}"
        finally:
            server.shutdown()
            thread.join(timeout=10)
    reset_app_state(app)


@pytest.fixture(scope="module")
def client_package(served_app, tmp_path_factory):
    app, _ = served_app
    workdir = tmp_path_factory.mktemp("generated")
    spec_file = workdir / "openapi.json"
    spec_file.write_bytes(app.test_client().get("/api/openapi.json").data)
    result = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(spec_file), "--meta", "none",
         "--output-path", str(workdir / PACKAGE), "--config", str(CONFIG)],
        capture_output=True, text=True, timeout=300, cwd=workdir,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout, result.stdout  # every operation and response made it into the client
    sys.path.insert(0, str(workdir))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(workdir))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(PACKAGE + ".")]:
            del sys.modules[name]


class InstitutionSignature(httpx.Auth):
    """What a vendor writes from the `institutionSignature` scheme: HMAC-SHA256 over timestamp + "\\n" + body
    (version 1), or over METHOD, path, timestamp and body joined by "\\n" (version 2)."""

    requires_request_body = True

    def __init__(self, code: str, secret: str, version: str = "1") -> None:
        self.code, self.secret, self.version = code, secret, version
        self.timestamps = iter(range(int(time.time()), int(time.time()) - 250, -1))  # a new signature each time

    def auth_flow(self, request: httpx.Request):
        timestamp = str(next(self.timestamps))
        if self.version == "2":
            parts = [request.method.upper().encode(), request.url.raw_path, timestamp.encode(), request.content]
            request.headers["X-Signature-Version"] = "2"
        else:
            parts = [timestamp.encode(), request.content]
        request.headers["X-Institution-Code"] = self.code
        request.headers["X-Timestamp"] = timestamp
        request.headers["X-Signature"] = hmac.new(self.secret.encode(), b"\n".join(parts), hashlib.sha256).hexdigest()
        yield request


def _client(package, base_url: str, version: str):
    auth = InstitutionSignature("NX-T-001", "demo-secret-NX-T-001", version)
    return package.Client(base_url=base_url, raise_on_unexpected_status=True, httpx_args={"auth": auth})


@pytest.fixture
def institution_client(client_package, served_app):
    with _client(client_package, served_app[1], "1") as opened:
        yield opened


@pytest.fixture
def institution_client_v2(client_package, served_app):
    with _client(client_package, served_app[1], "2") as opened:
        yield opened


@pytest.fixture
def person(served_app):
    app, _ = served_app
    with app.app_context():
        return new_person(9001)


def _module(package, name: str):
    return importlib.import_module(f"{package.__name__}.{name}")


def test_a_generated_client_settles_and_refunds_a_visit(client_package, institution_client_v2, person):
    institution_client = institution_client_v2  # signing version 2, as documented
    models = _module(client_package, "models")
    settle = _module(client_package, "api.institution_settlements.settle_visit")
    refund = _module(client_package, "api.institution_settlements.refund_settlement")
    request = models.SettlementRequest(
        id_number=person.id_number, visit_date=dt.date(2024, 5, 10), med_type=models.SettlementRequestMedType.GENERAL,
        items=[models.FeeItem(code="YP001", name="阿莫西林胶囊", amount="3000.00", in_scope=True)],
        use_account=False, order_no="CLIENT-1")

    settled = settle.sync_detailed(client=institution_client, body=request)

    assert settled.status_code == 201
    settlement = settled.parsed
    assert isinstance(settlement, models.Settlement)
    assert settlement.visit_date == dt.date(2024, 5, 10)  # typed by `format: date`
    assert settlement.medfee_sumamt == "3000.00"
    assert settlement.hifp_pay == "1200.00"  # NX employed, tertiary: (3000 − 600) × 50 %
    assert settlement.psn_cash_pay == "1800.00"

    refunded = refund.sync_detailed(settlement.setl_id, client=institution_client,
                                    body=models.RefundRequest(refund_no="CLIENT-R1"))

    assert refunded.status_code == 201
    assert isinstance(refunded.parsed, models.Refund)
    assert refunded.parsed.setl_id == settlement.setl_id
    assert (refunded.parsed.hifp_pay, refunded.parsed.psn_cash_pay) == ("1200.00", "1800.00")  # back as paid


def test_the_same_order_posted_again_is_parsed_as_the_original_settlement(client_package, institution_client, person):
    models = _module(client_package, "models")
    settle = _module(client_package, "api.institution_settlements.settle_visit")
    request = models.SettlementRequest(
        id_number=person.id_number, visit_date=dt.date(2024, 5, 11), med_type=models.SettlementRequestMedType.GENERAL,
        items=[models.FeeItem(code="YP002", name="布洛芬", amount="50.00", in_scope=True)], order_no="CLIENT-2")

    first = settle.sync_detailed(client=institution_client, body=request)
    again = settle.sync_detailed(client=institution_client, body=request)

    assert (first.status_code, again.status_code) == (201, 200)
    assert isinstance(again.parsed, models.Settlement)
    assert again.parsed.setl_id == first.parsed.setl_id


def test_a_refusal_is_parsed_as_the_error_shape_with_its_reason(client_package, institution_client, person):
    models = _module(client_package, "models")
    settle = _module(client_package, "api.institution_settlements.settle_visit")
    request = models.SettlementRequest(
        id_number=person.id_number, visit_date=dt.date(2999, 1, 1), med_type=models.SettlementRequestMedType.GENERAL,
        items=[models.FeeItem(code="YP003", name="维生素C", amount="10.00", in_scope=True)])

    refused = settle.sync_detailed(client=institution_client, body=request)

    assert refused.status_code == 422
    assert isinstance(refused.parsed, models.Error)
    assert refused.parsed.errors.reason == "date_in_future"
    assert refused.parsed.message


def test_a_generated_client_checks_eligibility_with_typed_accumulators(client_package, institution_client, person):
    models = _module(client_package, "models")
    check = _module(client_package, "api.institution_eligibility.check_eligibility")

    answer = check.sync_detailed(client=institution_client, body=models.EligibilityRequest(id_number=person.id_number))

    assert answer.status_code == 200
    assert isinstance(answer.parsed, models.Eligibility)
    assert answer.parsed.person.id_number_masked.endswith(person.id_number[-4:])
    assert json.dumps(answer.parsed.to_dict(), ensure_ascii=False).count(person.id_number) == 0
