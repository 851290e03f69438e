#!/usr/bin/python3
"""What a Proxmox VE cluster holds, as the real client proxmoxer sees it: every
VM of /cluster/resources with its config and status/current, as one JSON
object on stdout (the provider lane's independent check of provisiond).
Usage: pve_query.py HOST:PORT CA_FILE TOKEN_USER TOKEN_NAME TOKEN_VALUE
"""
import json, sys

from proxmoxer import ProxmoxAPI

host, ca, user, name, value = sys.argv[1:6]
px = ProxmoxAPI(host, user=user, token_name=name, token_value=value, verify_ssl=ca)
out = []
for r in px.cluster.resources.get(type="vm"):
    if r.get("template") == 1:
        continue
    q = px.nodes(r["node"]).qemu(r["vmid"])
    out.append({"resource": r, "config": q.config.get(), "status": q.status.current.get()})
print(json.dumps({"vms": out}))
