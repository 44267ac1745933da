"""What an insured person does through the mini-program API during the browser tests (the same app, in-process)."""

from __future__ import annotations

import datetime as dt
import io

from backend.services.credits import local_today

VISIT = local_today() - dt.timedelta(days=3)


def sample_png(text: str = "INVOICE") -> bytes:
    """A real (small) PNG, so the console shows a picture rather than a broken image."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (360, 220), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((8, 8, 351, 211), outline="#b42318", width=3)
    draw.text((24, 24), text, fill="#1f2933")
    for row in range(4):
        draw.line((24, 80 + row * 30, 330, 80 + row * 30), fill="#9aa5b1", width=1)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def sample_pdf(text: str = "Fee list") -> bytes:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", size=16)
    pdf.cell(0, 10, text)
    return bytes(pdf.output())


def sign_in(client, id_number: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/dev-login", json={"id_number": id_number})
    assert response.status_code == 200, response.json
    return {"Authorization": f"Bearer {response.json['access_token']}"}


def file_reimbursement(client, headers, number: str = "NX-E2E-0001", amount: str = "1000.00") -> str:
    response = client.post("/api/v1/reimbursements", headers=headers, json={
        "visit_date": VISIT.isoformat(), "institution_name": "宁夏医科大学总医院", "hospital_level": "tertiary",
        "cross_province": False, "self_paid_by_choice": False,
        "invoices": [{"number": number, "amount": amount, "electronic": False}],
        "items": [{"name": "门诊诊疗及药品", "amount": amount, "in_scope": True}],
        "payee": {"kind": "social_security_card"},
    })
    assert response.status_code == 201, response.json
    application_id = response.json["application_id"]
    upload(client, headers, application_id, "invoice", "发票.png", sample_png(f"INVOICE {number}"))
    upload(client, headers, application_id, "fee_list", "费用清单.pdf", sample_pdf())
    return application_id


def upload(client, headers, application_id: str, kind: str, name: str, data: bytes) -> None:
    response = client.post(f"/api/v1/reimbursements/{application_id}/attachments", headers=headers,
                           data={"kind": kind, "file": (io.BytesIO(data), name)}, content_type="multipart/form-data")
    assert response.status_code == 201, response.json
