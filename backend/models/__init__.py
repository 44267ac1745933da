"""SQLAlchemy 2 typed models, one module per domain. Importing this package registers every table."""

from backend.models.accounts import AccountContribution, IndividualAccount, LedgerAccount, LedgerEntry, LedgerPosting
from backend.models.applications import Application, Attachment, ReviewStepRecord
from backend.models.auth import RefreshToken
from backend.models.base import Base, new_public_id, utcnow
from backend.models.chat import ChatEscalation, ChatMessage
from backend.models.institutions import Institution
from backend.models.monitoring import MonitoringFlag
from backend.models.people import (
    ChronicQualification,
    HospitalStay,
    Person,
    PersonStatusChange,
    PlatformBinding,
    Region,
)
from backend.models.platform import AuditLog, IdempotencyRecord, Notification, OutboxMessage
from backend.models.policy import PolicyVersion
from backend.models.settlements import (
    Accumulator,
    AccumulatorEntry,
    ClearingReport,
    InvoiceRecord,
    Settlement,
    SettlementLine,
    SettlementRefund,
)
from backend.models.sharing import SharingGrant
from backend.models.staff import StaffSession, StaffUser

__all__ = [
    "AccountContribution", "Accumulator", "AccumulatorEntry", "Application", "Attachment", "AuditLog", "Base", "ChatEscalation",
    "ChatMessage", "ChronicQualification", "ClearingReport", "HospitalStay", "IdempotencyRecord",
    "IndividualAccount", "Institution", "InvoiceRecord", "LedgerAccount", "LedgerEntry", "LedgerPosting",
    "MonitoringFlag", "Notification", "OutboxMessage", "Person", "PersonStatusChange", "PlatformBinding",
    "PolicyVersion", "RefreshToken", "Region", "ReviewStepRecord", "Settlement", "SettlementLine", "SettlementRefund",
    "SharingGrant", "StaffSession", "StaffUser", "new_public_id", "utcnow",
]
