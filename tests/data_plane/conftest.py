"""Every test of this suite that uses `server` runs once per manifest backend."""

import pytest


@pytest.fixture(scope="module")
def server(backend_server):
    return backend_server
