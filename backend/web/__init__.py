"""HTTP plumbing shared by the three API packages: authentication, idempotency, signed requests."""
