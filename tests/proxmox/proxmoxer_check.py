#!/usr/bin/python3
"""Keeps fake_proxmox.py honest: the real client, Debian's python3-proxmoxer,
drives it through what provisiond does (list nodes, nextid, clone, config,
start, status, rrddata, stop, delete), with a ticket and with an API token,
and meets its errors the way it meets a real Proxmox VE's.
Usage: proxmoxer_check.py HOST:PORT CA_FILE USER PASSWORD TOKEN_USER TOKEN_NAME TOKEN_VALUE
Prints one line per check; exits non-zero on the first that fails.
"""
import sys, time, urllib.parse

import requests

from proxmoxer import ProxmoxAPI
from proxmoxer.core import ResourceException
from proxmoxer.backends.https import AuthenticationError

host, ca, user, password, token_user, token_name, token_value = sys.argv[1:8]


def check(what, cond, detail=""):
    if not cond:
        print("FAIL %s %s" % (what, detail), flush=True)
        sys.exit(1)
    print("ok %s" % what, flush=True)


def wait(px, upid):
    """Polls the task on the node its UPID names; a 400 right after dispatch is retried."""
    node = upid.split(":")[1]
    for _ in range(200):
        try:
            st = px.nodes(node).tasks(upid).status.get()
        except ResourceException as e:
            if e.status_code == 400:
                time.sleep(0.05)
                continue
            raise
        if st["status"] == "stopped":
            return st
        time.sleep(0.05)
    raise RuntimeError("task did not stop: " + upid)


px = ProxmoxAPI(host, user=user, password=password, verify_ssl=ca)
nodes = sorted(n["node"] for n in px.nodes.get())
check("nodes listed", nodes == ["pve1", "pve2"], nodes)
check("version", px.version.get()["version"].startswith("8."))
template = [r for r in px.cluster.resources.get(type="vm") if r["template"] == 1]
check("template in cluster resources", len(template) == 1 and template[0]["vmid"] == 9000, template)
newid = int(px.cluster.nextid.get())
check("nextid is a free id", newid >= 100 and newid != 9000, newid)

upid = px.nodes("pve1").qemu(9000).clone.post(newid=newid, name="honest-1", full=1, target="pve2")
check("clone answers a UPID", upid.startswith("UPID:pve1:"), upid)
locked = px.nodes("pve2").qemu(newid).status.current.get()
check("the clone is locked while it runs", locked.get("lock") == "clone", locked)
try:
    time.sleep(0.2)
    px.nodes("pve2").tasks(upid).status.get()
    check("a task is not known on another node", False)
except ResourceException as e:
    check("a task is answered only by the node its UPID names", e.status_code == 500, str(e))
st = wait(px, upid)
check("clone task OK", st["exitstatus"] == "OK", st)
try:
    px.nodes("pve1").qemu(9000).clone.post(newid=newid, name="honest-1", full=1, target="pve2")
    check("clone onto a used VMID fails", False)
except ResourceException as e:
    check("clone onto a used VMID: already exists", e.status_code == 500 and "already exists" in str(e), str(e))

keys = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHonest test@example"
px.nodes("pve2").qemu(newid).config.put(cores=2, memory=2048, tags="provisiond;prov-honest",
                                         ciuser="root", cipassword="pw-honest",
                                         sshkeys=urllib.parse.quote(keys, safe=""), ipconfig0="ip=dhcp")
cfg = px.nodes("pve2").qemu(newid).config.get()
check("config written", cfg["cores"] == "2" and cfg["memory"] == "2048" and cfg["ciuser"] == "root", cfg)
check("cipassword masked on read", cfg["cipassword"] == "**********", cfg)
check("sshkeys kept URL-encoded", urllib.parse.unquote(cfg["sshkeys"]) == keys, cfg.get("sshkeys"))
try:
    px.nodes("pve2").qemu(newid).config.put(sshkeys=keys)
    check("raw sshkeys refused", False)
except ResourceException as e:
    check("raw sshkeys: 400 parameter verification", e.status_code == 400 and "Parameter verification failed" in str(e), str(e))

# A ticket's write without its CSRF token is refused; proxmoxer always sends it.
ticket, csrf = px.get_tokens()
base = "https://%s/api2/json" % host
r = requests.post(base + "/nodes/pve2/qemu/%d/status/start" % newid, cookies={"PVEAuthCookie": ticket}, verify=ca)
check("a ticket write without CSRF: 401", r.status_code == 401 and "csrf" in r.reason, (r.status_code, r.reason))
r = requests.get(base + "/nodes/pve2/qemu/%d/status/current" % newid, cookies={"PVEAuthCookie": ticket}, verify=ca)
check("a ticket read needs no CSRF", r.status_code == 200 and r.json()["data"]["status"] == "stopped", r.text)
st = wait(px, px.nodes("pve2").qemu(newid).status.start.post())
check("start task OK", st["exitstatus"] == "OK", st)
cur = px.nodes("pve2").qemu(newid).status.current.get()
check("status running", cur["status"] == "running" and cur["qmpstatus"] == "running", cur)
ifaces = px.nodes("pve2").qemu(newid).agent("network-get-interfaces").get()
check("guest agent interfaces", any(a["ip-address"].startswith("10.") for i in ifaces["result"]
                                    for a in i["ip-addresses"]), ifaces)
rrd = px.nodes("pve2").qemu(newid).rrddata.get(timeframe="hour", cf="AVERAGE")
check("rrddata samples with numbers", len(rrd) > 10 and isinstance(rrd[-2]["cpu"], float) and rrd[-2]["maxmem"] > 0,
      rrd[-2:])
try:
    px.nodes("pve2").qemu(newid).delete(purge=1)
    check("deleting a running VM fails", False)
except ResourceException as e:
    check("running VM: destroy failed", e.status_code == 500 and "is running - destroy failed" in str(e), str(e))

# The same VM through an API token: no CSRF, no ticket.
tx = ProxmoxAPI(host, user=token_user, token_name=token_name, token_value=token_value, verify_ssl=ca)
st = wait(tx, tx.nodes("pve2").qemu(newid).status.stop.post())
check("stop with a token", st["exitstatus"] == "OK" and tx.nodes("pve2").qemu(newid).status.current.get()["status"] == "stopped")
st = wait(tx, tx.nodes("pve2").qemu(newid).delete(**{"purge": 1, "destroy-unreferenced-disks": 1}))
check("delete task OK", st["exitstatus"] == "OK", st)
check("VM gone", all(r["vmid"] != newid for r in tx.cluster.resources.get(type="vm")))
try:
    tx.nodes("pve2").qemu(newid).status.current.get()
    check("a deleted VM is not found", False)
except ResourceException as e:
    check("deleted VM: does not exist", e.status_code == 500 and "does not exist" in str(e), str(e))

started = time.monotonic()
try:
    ProxmoxAPI(host, user=user, password="wrong", verify_ssl=ca)
    check("wrong password refused", False)
except AuthenticationError as e:
    check("wrong password refused", "authenticate" in str(e), str(e))
check("failed auth is delayed", time.monotonic() - started >= 0.2, time.monotonic() - started)
bad = ProxmoxAPI(host, user=token_user, token_name=token_name, token_value="nope", verify_ssl=ca)
try:
    bad.nodes.get()
    check("wrong token refused", False)
except ResourceException as e:
    check("wrong token: 401", e.status_code == 401, str(e))
print("proxmoxer accepts the fake", flush=True)
