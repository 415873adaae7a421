"""Address checks for the preflight, with the standard library (no netaddr on the controller).

- ``["0.0.0.0/0", "198.51.100.0/24"] | cidr_too_wide(16, 48)`` -> ``["0.0.0.0/0"]``

Returns the entries that are not a CIDR (address/prefix, host bits allowed) or that cover more
than a /v4_prefix (IPv4) or /v6_prefix (IPv6) network: the firewall would open a port to them.
"""

from __future__ import annotations

import ipaddress


def cidr_too_wide(sources: object, v4_prefix: int = 16, v6_prefix: int = 48) -> list[str]:
    if isinstance(sources, str) or not isinstance(sources, (list, tuple)):
        return [str(sources)]
    refused = []
    for source in sources:
        text = str(source).strip()
        if "/" not in text:
            refused.append(f"{text} (no /prefix)")
            continue
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            refused.append(f"{text} (not a CIDR)")
            continue
        limit = int(v4_prefix) if network.version == 4 else int(v6_prefix)
        if network.prefixlen < limit:
            refused.append(f"{text} (wider than /{limit})")
    return refused


class FilterModule:
    def filters(self) -> dict:
        return {"cidr_too_wide": cidr_too_wide}
