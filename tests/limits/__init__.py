"""Limits and fairness on real servers (issue 5, item 5): per-account caps on upload
streams and pending snapshots, deadlines, and SIGTERM with a grace period."""
