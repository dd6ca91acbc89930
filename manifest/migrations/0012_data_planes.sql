-- Data-plane processes that clients may dial (services/advertise.py registers them;
-- control_plane/data_planes.py lists them). One row per process: `process_id` is random
-- per start, `address` the HOST:PORT it advertised (several processes may share one, e.g.
-- a load balancer's). Times are microseconds since the epoch; a row whose `expires_at` is
-- past belongs to a process that stopped renewing (killed, hung, cut off) and is ignored,
-- then pruned by the next registration.
CREATE TABLE data_planes (
  process_id   TEXT PRIMARY KEY,
  address      TEXT NOT NULL,
  started_at   INTEGER NOT NULL,
  renewed_at   INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL
);
CREATE INDEX data_planes_expiry ON data_planes (expires_at);
