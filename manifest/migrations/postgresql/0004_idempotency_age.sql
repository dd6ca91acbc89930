-- Expired idempotency records are purged oldest first (control_plane/idempotency.py).
CREATE INDEX idempotency_by_age ON idempotency_keys(created_at);
