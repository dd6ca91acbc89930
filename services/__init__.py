"""Process entry points and wiring: serve, control-plane, data-plane, auth, health, admin."""
