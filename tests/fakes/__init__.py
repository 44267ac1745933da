"""Fakes of external systems that tests run against over loopback (no patching of HTTP libraries)."""
