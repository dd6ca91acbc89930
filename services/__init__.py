"""Process entry points and wiring: serve, control-plane, data-plane, auth, health, admin.

Owns everything that makes a process of the domain packages: the gRPC edge's
cross-cutting interceptors and their observers, the one error table (services/errors.py),
storage wrappers and the one place they are stacked (services/server.py). Rules: the
planes, manifest and chunkstore never import from here; a concern that wraps every call
or every store operation is added in services/server.py, not inside a plane.
"""
