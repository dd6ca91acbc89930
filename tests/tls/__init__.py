"""Transport security on real servers (issue 5, item 6): server TLS, mutual TLS, health
over TLS on every server command, and bearer tokens that never reach a log line."""
