"""The status API as deployed: contingencia-estado behind the shipped nginx sites at /contingencia/api/, with
its bearer token and, on the basic-auth site, no password (the token is in the Authorization header)."""

from __future__ import annotations

import shutil
from urllib.parse import urlsplit

import pytest

from tests.contract.test_status_service import BEARER, status_service
from tests.support.deploy import NGINX, htpasswd, insecure_client, nginx
from tests.support.net import free_port

pytestmark = pytest.mark.skipif(not shutil.which(NGINX), reason="nginx not installed")


@pytest.mark.parametrize("site", ["contingencia.conf", "contingencia-basic-auth.conf"])
def test_the_status_api_is_served_by_the_shipped_site_behind_its_token(sim, seeded_runtime, app_secrets, tmp_path, site):
    htpasswd(tmp_path / "htpasswd", {"ana": "clave-de-ana"})
    with status_service(app_secrets, tmp_path) as direct:
        port = urlsplit(direct).port
        assert port is not None
        with nginx(site, tmp_path, app_port=free_port(), status_port=port) as url, insecure_client() as http:
            state = http.get(f"{url}/contingencia/api/estado", headers=BEARER)
            assert state.status_code == 200 and state.json()["pos"]["total"] == len(sim.inventory.all_pos)
            metrics = http.get(f"{url}/contingencia/api/metricas", headers=BEARER)
            assert metrics.status_code == 200 and metrics.text.endswith("# EOF\n")
            assert http.get(f"{url}/contingencia/api/estado").status_code == 401  # the service's own refusal
            assert state.headers["strict-transport-security"]  # the site's headers, as on every answer
