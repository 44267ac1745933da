"""What operators watch: request ids (request_id), structured logs (backend.logging_setup), Prometheus metrics
(metrics), wired into the app by hooks.register_observability (DESIGN §4.11)."""
