-- SigV4 access keys of the EBS direct facade (twin of ../0011_access_keys.sql).
-- The secret is kept as issued, not hashed: a SigV4 verifier needs the secret itself.
CREATE TABLE access_keys (
  access_key_id  TEXT PRIMARY KEY,
  account_id     TEXT NOT NULL REFERENCES accounts(account_id),
  secret         TEXT NOT NULL,
  created_at     BIGINT NOT NULL
);
CREATE INDEX access_keys_by_account ON access_keys(account_id);
