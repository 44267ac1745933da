"""The smart-monitoring scan (NX §33), run daily; safe to run again (a finding is flagged once)."""

from backend.jobs import job
from backend.services import monitoring


@job("monitoring_scan", queue="low")
def monitoring_scan() -> int:
    return monitoring.scan()
