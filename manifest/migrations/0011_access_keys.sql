-- SigV4 access keys of the EBS direct facade (docs/ebs.md).
-- The secret is kept as issued, not hashed: a SigV4 verifier recomputes the client's
-- HMAC chain, whose first key is "AWS4" + secret, so it needs the secret itself.
-- It is as sensitive as the database file; no API or log line ever returns it.
CREATE TABLE access_keys (
  access_key_id  TEXT PRIMARY KEY,
  account_id     TEXT NOT NULL REFERENCES accounts(account_id),
  secret         TEXT NOT NULL,
  created_at     INTEGER NOT NULL
);
CREATE INDEX access_keys_by_account ON access_keys(account_id);
