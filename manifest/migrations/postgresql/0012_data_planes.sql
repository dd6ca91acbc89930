-- Data-plane processes that clients may dial (twin of ../0012_data_planes.sql): one row per
-- process, renewed by it; a row whose `expires_at` (microseconds since the epoch) is past
-- is ignored, then pruned by the next registration.
CREATE TABLE data_planes (
  process_id   TEXT PRIMARY KEY,
  address      TEXT NOT NULL,
  started_at   BIGINT NOT NULL,
  renewed_at   BIGINT NOT NULL,
  expires_at   BIGINT NOT NULL
);
CREATE INDEX data_planes_expiry ON data_planes (expires_at);
