"""Runs scim2-tester (an independent RFC 7643/7644 compliance checker) against a SCIM endpoint
and prints one JSON line per check: title, resource type, status, reason.

Usage: python scim2_tester_check.py <endpoint ending in /scim/v2/> <bearer token>
The Rust test `scim::scim2_tester_*` starts the sandbox, runs this and judges the results.
"""

import json
import sys

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_models import ScimPolicy
from scim2_models import ScimProvider
from scim2_tester import check_server

endpoint, token = sys.argv[1], sys.argv[2]
client = Client(base_url=endpoint.rstrip("/"), headers={"Authorization": f"Bearer {token}"})
# Identity Center's error bodies carry members RFC 7644 does not define (`schema`,
# `exceptionRequestId`, `timeStamp`); the strict policy would refuse every error answer for them
# alone, hiding what each check is about. Unknown members are ignored instead.
tolerant = ScimPolicy(unknown=ScimPolicy.Unknown.ignore)
scim = SyncSCIMClient(client, provider=ScimProvider(policy=tolerant))
with tolerant:
    results = check_server(scim)
for result in results:
    print(
        json.dumps(
            {
                "title": result.title,
                "resource_type": getattr(result, "resource_type", None),
                "status": result.status.name,
                "reason": str(result.reason or "")[:400],
            }
        )
    )
