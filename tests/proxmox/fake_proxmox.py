#!/usr/bin/env python3
"""A fake Proxmox VE API (pveproxy, /api2/json) for provisiond's tests.

It follows ../shared/reference/provider-apis.md §C, and the real client
proxmoxer (Debian's python3-proxmoxer) is the judge of its fidelity:
  TLS with a test CA; API tokens (Authorization: PVEAPIToken=user@realm!name=secret,
  no CSRF) and tickets (POST /access/ticket; Cookie PVEAuthCookie, a
  CSRFPreventionToken header on every non-GET; 2 h lifetime; renewal with the
  ticket as password); failed authentication answered after a delay (3 s like
  pveproxy, --auth-delay for tests); form-encoded or JSON bodies; every answer
  {"data": ...}; errors with the message in the reason phrase and in
  {"data":null,"message","errors"?}; 400 "Parameter verification failed.";
  /cluster/nextid (a string, not a reservation), /cluster/resources; create,
  clone (full or linked, source and target locked while the task runs),
  config (PUT sync, POST async), resize, status/current, power actions, delete
  (500 "VM <id> is running - destroy failed"), rrddata, the guest agent's
  network-get-interfaces; UPID tasks on the node named in the UPID, running
  then stopped with an exitstatus, and a 400 right after dispatch.
Admin (no auth, tests only): POST /_fake/faults {"rules":[{method, pathContains,
bodyContains, status, message, errors, times}], "taskFailures":[{type, exitstatus, times}],
"dropAfterCreate": n, "authDelay": s, "taskSeconds": s, "agent": bool};
GET /_fake/state (VMs with their raw config, the request log).
Usage: fake_proxmox.py CERT KEY [--user u@realm:pw] [--token u@realm!name=secret[:ro]]
       [--nodes pve1,pve2] [--template 9000@pve1] [--auth-delay 3] [--task-seconds 0.3];
prints the port.
"""
import argparse, http.server, json, os, re, secrets, socketserver, ssl, threading, time, urllib.parse

ap = argparse.ArgumentParser()
ap.add_argument("cert")
ap.add_argument("key")
ap.add_argument("--user", action="append", default=[])
ap.add_argument("--token", action="append", default=[])
ap.add_argument("--nodes", default="pve1,pve2")
ap.add_argument("--template", action="append", default=[])
ap.add_argument("--auth-delay", type=float, default=3.0)
ap.add_argument("--task-seconds", type=float, default=0.3)
ap.add_argument("--dispatch-400-seconds", type=float, default=0.15)
ap.add_argument("--ticket-lifetime", type=float, default=7200.0)
args = ap.parse_args()

lock = threading.RLock()
USERS = dict(u.split(":", 1) for u in (args.user or ["root@pam:secret"]))
TOKENS = {}  # "user@realm!name" -> (secret, read_only)
for t in args.token:
    ident, rest = t.split("=", 1)
    secret, _, mode = rest.partition(":")
    TOKENS[ident] = (secret, mode == "ro")
NODES = args.nodes.split(",")
tickets = {}  # ticket -> (user, csrf, issued)
vms = {}      # vmid -> {"node", "config": {...}, "status", "lock", "template", "started"}
tasks = {}    # upid -> {...}
log = []      # [method, path] of every API request
faults = {"rules": [], "taskFailures": [], "dropAfterCreate": 0, "authDelay": args.auth_delay,
          "taskSeconds": args.task_seconds, "agent": True}
pid_counter = [0x1000]

for t in args.template or ["9000@pve1"]:
    vmid, _, node = t.partition("@")
    vms[int(vmid)] = {"node": node or NODES[0], "status": "stopped", "lock": None, "template": 1, "started": 0,
                      "config": {"name": "debian-12-cloud", "cores": "1", "sockets": "1", "memory": "1024",
                                 "scsihw": "virtio-scsi-pci", "scsi0": "local-lvm:base-%s-disk-0,size=2G" % vmid,
                                 "ide2": "local-lvm:vm-%s-cloudinit,media=cdrom" % vmid,
                                 "net0": "virtio=BC:24:11:00:00:01,bridge=vmbr0", "boot": "order=scsi0",
                                 "agent": "1", "template": "1", "digest": secrets.token_hex(20)}}


class ApiError(Exception):
    def __init__(self, code, message, errors=None):
        super().__init__(message)
        self.code, self.message, self.errors = code, message, errors


def param_error(errors):
    return ApiError(400, "Parameter verification failed.", errors)


DNS_NAME = re.compile(r"^(?=.{1,63}$)[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*$")
TAG = re.compile(r"^[a-zA-Z0-9_][a-zA-Z0-9_\-+.]*$")
URLENCODED = re.compile(r"^[-%a-zA-Z0-9_.!~*'()]*$")


def check_params(p):
    errs = {}
    for k in ("vmid", "newid"):
        if k in p and (not str(p[k]).isdigit() or not 100 <= int(p[k]) <= 999999999):
            errs[k] = "invalid format - value must be an integer from 100 to 999999999"
    if "name" in p and not DNS_NAME.match(p["name"]):
        errs["name"] = "value does not look like a valid DNS name"
    for k in ("cores", "memory", "sockets"):
        if k in p and (not str(p[k]).isdigit() or int(p[k]) < 1):
            errs[k] = "type check ('integer') failed - got '%s'" % p[k]
    if "memory" in p and str(p["memory"]).isdigit() and int(p["memory"]) < 16:
        errs["memory"] = "value must have a minimum value of 16"
    if "tags" in p:
        for tag in re.split(r"[;, ]+", p["tags"]):
            if tag and not TAG.match(tag):
                errs["tags"] = "invalid format - invalid tag '%s'" % tag
    if "sshkeys" in p:
        if not URLENCODED.match(p["sshkeys"]):
            errs["sshkeys"] = "invalid urlencoded string: %s" % p["sshkeys"][:40]
        else:
            for line in urllib.parse.unquote(p["sshkeys"]).splitlines():
                if line.strip() and not re.match(r"^(ssh-|ecdsa-|sk-)", line.strip()):
                    errs["sshkeys"] = "invalid SSH public key"
    for k in ("full", "start", "purge", "destroy-unreferenced-disks", "agent"):
        if k in p and str(p[k]) not in ("0", "1"):
            errs[k] = "type check ('boolean') failed - got '%s'" % p[k]
    if errs:
        raise param_error(errs)


def now():
    return time.time()


def advance():
    """Finishes the tasks whose time has come (the fake's worker processes)."""
    for upid, t in tasks.items():
        if t["status"] == "running" and now() >= t["ends"]:
            t["status"] = "stopped"
            failure = next((f for f in faults["taskFailures"] if f.get("type") == t["type"] and f.get("times", 1) > 0),
                           None)
            if failure:
                failure["times"] = failure.get("times", 1) - 1
                t["exitstatus"] = failure.get("exitstatus", "task failed")
                t["on_fail"]()
            else:
                t["exitstatus"] = "OK"
                t["on_ok"]()


def start_task(node, ttype, ident, user, on_ok, on_fail=lambda: None, seconds=None):
    pid_counter[0] += 1
    start = int(now())
    upid = "UPID:%s:%08X:%08X:%08X:%s:%s:%s:" % (node, pid_counter[0], pid_counter[0] * 7, start, ttype, ident, user)
    tasks[upid] = {"node": node, "type": ttype, "id": str(ident), "user": user, "pid": pid_counter[0],
                   "pstart": pid_counter[0] * 7, "starttime": start, "dispatched": now(), "status": "running",
                   "ends": now() + (faults["taskSeconds"] if seconds is None else seconds), "on_ok": on_ok,
                   "on_fail": on_fail, "log": ["starting %s of %s" % (ttype, ident)]}
    return upid


def conf_missing(node, vmid):
    return ApiError(500, "Configuration file 'nodes/%s/qemu-server/%s.conf' does not exist" % (node, vmid))


def vm_on(node, vmid):
    vm = vms.get(int(vmid)) if str(vmid).isdigit() else None
    if not vm or vm["node"] != node:
        raise conf_missing(node, vmid)
    return vm


def not_locked(vmid, vm):
    if vm["lock"]:
        raise ApiError(500, "VM %s is locked (%s)" % (vmid, vm["lock"]))


def disk_gib(spec):
    m = re.search(r"size=(\d+(?:\.\d+)?)([KMGT]?)", spec or "")
    if not m:
        return 0.0
    return float(m.group(1)) * {"K": 1 / 1048576, "M": 1 / 1024, "G": 1, "T": 1024, "": 1 / 1073741824}[m.group(2)]


def resource_entry(vmid, vm):
    c = vm["config"]
    running = vm["status"] == "running"
    e = {"id": "qemu/%d" % vmid, "type": "qemu", "vmid": vmid, "node": vm["node"], "name": c.get("name", "VM%d" % vmid),
         "status": vm["status"], "template": vm["template"], "maxcpu": int(c.get("cores", "1")) * int(c.get("sockets", "1")),
         "maxmem": int(c.get("memory", "512")) * 1048576, "maxdisk": int(disk_gib(c.get("scsi0")) * 1073741824),
         "cpu": 0.12 if running else 0, "mem": int(c.get("memory", "512")) * 1048576 // 3 if running else 0, "disk": 0,
         "netin": 123456 if running else 0, "netout": 65432 if running else 0, "diskread": 7654321 if running else 0,
         "diskwrite": 1234567 if running else 0, "uptime": int(now() - vm["started"]) if running else 0,
         "tags": c.get("tags", "")}
    if vm["lock"]:
        e["lock"] = vm["lock"]
    if "pool" in vm:
        e["pool"] = vm["pool"]
    return e


def free_vmid():
    n = 100
    while n in vms:
        n += 1
    return n


def masked(config):
    c = dict(config)
    if "cipassword" in c:
        c["cipassword"] = "**********"
    return c


# --- the API -----------------------------------------------------------------
def api(method, path, p, user):
    parts = [urllib.parse.unquote(x) for x in path.strip("/").split("/")]
    if parts == ["version"]:
        return {"version": "8.2.4", "release": "8.2", "repoid": "faa83925c9641325"}
    if parts == ["nodes"]:
        return [{"node": n, "status": "online", "type": "node", "id": "node/" + n, "cpu": 0.05, "maxcpu": 8,
                 "mem": 4 << 30, "maxmem": 32 << 30, "uptime": 86400, "level": ""} for n in NODES]
    if parts == ["cluster", "nextid"]:
        if "vmid" in p:
            check_params({"vmid": p["vmid"]})
            if int(p["vmid"]) in vms:
                raise param_error({"vmid": "VM %s already exists" % p["vmid"]})
            return p["vmid"]
        return str(free_vmid())  # a string, as the real one often is
    if parts == ["cluster", "resources"]:
        if p.get("type") not in (None, "vm"):
            return []
        return [resource_entry(i, v) for i, v in sorted(vms.items())]
    if len(parts) >= 2 and parts[0] == "nodes":
        node = parts[1]
        if node not in NODES:
            raise param_error({"node": "no such cluster node '%s'" % node})
        rest = parts[2:]
        if rest[:1] == ["tasks"] and len(rest) >= 3:
            return task_call(node, rest[1], rest[2])
        if rest == ["qemu"]:
            if method == "GET":
                return [{"vmid": i, "name": v["config"].get("name"), "status": v["status"], "template": v["template"]}
                        for i, v in sorted(vms.items()) if v["node"] == node]
            if method == "POST":
                return create_vm(node, p, user)
        if len(rest) >= 2 and rest[0] == "qemu":
            return vm_call(method, node, rest[1], rest[2:], p, user)
    raise ApiError(501, "Method '%s /%s' not implemented" % (method, path.strip("/")))


def task_call(node, upid, what):
    t = tasks.get(upid)
    if not t or t["node"] != node:
        raise ApiError(500, "no such task")
    if now() - t["dispatched"] < args.dispatch_400_seconds:
        # pvedaemon has not written the task's status file yet.
        raise param_error({"upid": "unable to open file - No such file or directory"})
    if what == "log":
        return [{"n": i + 1, "t": line} for i, line in enumerate(t["log"] + ([("TASK " + t["exitstatus"])] if t["status"] == "stopped" else []))]
    out = {k: t[k] for k in ("node", "type", "id", "user", "pid", "pstart", "starttime", "status")}
    out["upid"] = upid
    if t["status"] == "stopped":
        out["exitstatus"] = t["exitstatus"]
    return out


def create_vm(node, p, user):
    if "vmid" not in p:
        raise param_error({"vmid": "property is missing and it is not optional"})
    check_params(p)
    vmid = int(p["vmid"])
    if vmid in vms:
        raise ApiError(500, "unable to create VM %d - VM %d already exists on node '%s'" % (vmid, vmid, vms[vmid]["node"]))
    config = {k: v for k, v in p.items() if k not in ("vmid", "start", "pool")}
    for k in list(config):
        if re.match(r"^(scsi|virtio|sata|ide)\d+$", k):
            m = re.match(r"^([\w-]+):(\d+)$", config[k])
            if m:
                config[k] = "%s:vm-%d-disk-%s,size=%sG" % (m.group(1), vmid, k, m.group(2))
            elif config[k].endswith(":cloudinit"):
                config[k] = "%s:vm-%d-cloudinit,media=cdrom" % (config[k].split(":")[0], vmid)
    config["digest"] = secrets.token_hex(20)
    vm = {"node": node, "config": config, "status": "stopped", "lock": "create", "template": 0, "started": 0}
    if p.get("pool"):
        vm["pool"] = p["pool"]
    vms[vmid] = vm

    def ok():
        vm["lock"] = None
        if p.get("start") == "1":
            vm["status"], vm["started"] = "running", now()

    return start_task(node, "qmcreate", vmid, user, ok, lambda: vms.pop(vmid, None))


def vm_call(method, node, vmid_text, rest, p, user):
    if rest == ["clone"] and method == "POST":
        return clone_vm(node, vmid_text, p, user)
    vm = vm_on(node, vmid_text)
    vmid = int(vmid_text)
    c = vm["config"]
    if rest == [] and method == "DELETE":
        if vm["status"] == "running":
            raise ApiError(500, "VM %d is running - destroy failed" % vmid)
        not_locked(vmid, vm)
        vm["lock"] = "destroyed"
        return start_task(node, "qmdestroy", vmid, user, lambda: vms.pop(vmid, None), lambda: vm.update(lock=None))
    if rest == []:
        return [{"subdir": s} for s in ("config", "status", "rrddata", "agent", "clone", "resize")]
    if rest == ["config"]:
        if method == "GET":
            return masked(c)
        check_params(p)
        not_locked(vmid, vm)
        changes = {k: v for k, v in p.items() if k not in ("digest", "delete")}
        if method == "PUT":
            c.update(changes)
            for k in p.get("delete", "").split(","):
                c.pop(k.strip(), None)
            c["digest"] = secrets.token_hex(20)
            return None
        vm["lock"] = None
        return start_task(node, "qmconfig", vmid, user, lambda: c.update(changes))
    if rest == ["resize"] and method == "PUT":
        not_locked(vmid, vm)
        disk, size = p.get("disk"), p.get("size", "")
        if disk not in c:
            raise param_error({"disk": "no such disk '%s'" % disk})
        m = re.match(r"^(\+?)(\d+(?:\.\d+)?)([KMGT]?)$", size)
        if not m:
            raise param_error({"size": "value does not match the regex pattern"})
        cur = disk_gib(c[disk])
        want = float(m.group(2)) * {"K": 1 / 1048576, "M": 1 / 1024, "G": 1, "T": 1024, "": 1 / 1073741824}[m.group(3)]
        new = cur + want if m.group(1) else want
        if new < cur:
            raise ApiError(500, "shrinking disks is not supported")
        newspec = re.sub(r"size=[^,]*", "size=%gG" % new, c[disk])
        return start_task(node, "resize", vmid, user, lambda: c.update({disk: newspec}), seconds=0.05)
    if rest == ["status", "current"]:
        e = resource_entry(vmid, vm)
        out = {"vmid": vmid, "status": vm["status"], "qmpstatus": vm["status"], "name": e["name"], "cpus": e["maxcpu"],
               "maxmem": e["maxmem"], "mem": e["mem"], "maxdisk": e["maxdisk"], "disk": 0, "cpu": e["cpu"],
               "uptime": e["uptime"], "netin": e["netin"], "netout": e["netout"], "diskread": e["diskread"],
               "diskwrite": e["diskwrite"], "ha": {"managed": 0}, "tags": c.get("tags", "")}
        if c.get("agent") == "1":
            out["agent"] = 1
        if vm["status"] == "running":
            out["pid"] = 4000 + vmid
        if vm["lock"]:
            out["lock"] = vm["lock"]
        return out
    if len(rest) == 2 and rest[0] == "status" and method == "POST":
        return power(node, vmid, vm, rest[1], user)
    if rest == ["rrddata"]:
        if p.get("timeframe") not in ("hour", "day", "week", "month", "year"):
            raise param_error({"timeframe": "value '%s' does not have a value in the enumeration" % p.get("timeframe")})
        step = {"hour": 60, "day": 1800, "week": 10800, "month": 43200, "year": 604800}[p["timeframe"]]
        e = resource_entry(vmid, vm)
        base = int(now()) // step * step
        out = []
        for i in range(70, 0, -1):
            out.append({"time": base - i * step, "cpu": e["cpu"] + 0.001 * (i % 7), "maxcpu": e["maxcpu"],
                        "mem": e["mem"], "maxmem": e["maxmem"], "disk": 0, "maxdisk": e["maxdisk"],
                        "netin": 1500.5 if vm["status"] == "running" else 0, "netout": 800.25 if vm["status"] == "running" else 0,
                        "diskread": 4096.0 if vm["status"] == "running" else 0, "diskwrite": 2048.0 if vm["status"] == "running" else 0})
        out.append({"time": base})  # the current slot has no figures yet, as on a real node
        return out
    if rest == ["agent", "network-get-interfaces"]:
        if c.get("agent") != "1":
            raise ApiError(500, "No QEMU guest agent configured")
        if vm["status"] != "running" or not faults["agent"]:
            raise ApiError(500, "QEMU guest agent is not running")
        return {"result": [
            {"name": "lo", "hardware-address": "00:00:00:00:00:00",
             "ip-addresses": [{"ip-address-type": "ipv4", "ip-address": "127.0.0.1", "prefix": 8}]},
            {"name": "eth0", "hardware-address": "bc:24:11:00:%02x:%02x" % (vmid // 256 % 256, vmid % 256),
             "ip-addresses": [{"ip-address-type": "ipv4", "ip-address": "10.10.%d.%d" % (vmid // 256 % 256, vmid % 256),
                               "prefix": 24}]}]}
    raise ApiError(501, "Method '%s' not implemented" % method)


def clone_vm(node, src_text, p, user):
    src = vm_on(node, src_text)
    src_id = int(src_text)
    if "newid" not in p:
        raise param_error({"newid": "property is missing and it is not optional"})
    check_params(p)
    newid = int(p["newid"])
    target = p.get("target", node)
    if target not in NODES:
        raise param_error({"target": "no such cluster node '%s'" % target})
    full = p.get("full", "0" if src["template"] else "1") == "1"
    if not full and not src["template"]:
        raise param_error({"full": "linked clone feature needs a template"})
    if newid in vms:
        raise ApiError(500, "unable to create VM %d: config file already exists" % newid)
    not_locked(src_id, src)
    config = {k: v for k, v in src["config"].items() if k not in ("template", "digest")}
    config["name"] = p.get("name", "Copy-of-VM-" + config.get("name", str(src_id)))
    if "description" in p:
        config["description"] = p["description"]
    for k in list(config):
        if re.match(r"^(scsi|virtio|sata|ide)\d+$", k):
            config[k] = re.sub(r"^[\w-]+:(base|vm)-\d+-", lambda m: "%s:vm-%d-" % (p.get("storage", "local-lvm"), newid), config[k])
    config["digest"] = secrets.token_hex(20)
    vm = {"node": target, "config": config, "status": "stopped", "lock": "clone", "template": 0, "started": 0}
    vms[newid] = vm
    src["lock"] = "clone"

    def done(ok):
        src["lock"] = None
        if ok:
            vm["lock"] = None
        else:
            vms.pop(newid, None)

    # The task runs on the source's node: the UPID names it, not the target.
    return start_task(node, "qmclone", src_id, user, lambda: done(True), lambda: done(False))


def power(node, vmid, vm, action, user):
    if action not in ("start", "stop", "shutdown", "reboot", "reset", "suspend", "resume"):
        raise ApiError(501, "Method 'POST /nodes/%s/qemu/%d/status/%s' not implemented" % (node, vmid, action))
    if vm["template"]:
        raise ApiError(500, "you can't start a vm if it's a template")
    not_locked(vmid, vm)
    if action == "start" and vm["status"] == "running":
        raise ApiError(500, "VM %d already running" % vmid)
    target = {"start": "running", "resume": "running", "reboot": "running", "reset": "running",
              "stop": "stopped", "shutdown": "stopped", "suspend": vm["status"]}[action]

    def ok():
        if target == "running" and vm["status"] != "running":
            vm["started"] = now()
        vm["status"] = target

    return start_task(node, "qm" + action, vmid, user, ok)


# --- HTTP --------------------------------------------------------------------
def authenticate(h, method):
    """The user, or raises 401 after the delay pveproxy imposes."""
    auth = h.headers.get("Authorization", "")
    if auth.startswith("PVEAPIToken="):
        ident, _, secret = auth[len("PVEAPIToken="):].partition("=")
        tok = TOKENS.get(ident)
        if tok and secrets.compare_digest(tok[0], secret):
            if tok[1] and method != "GET":
                raise ApiError(403, "Permission check failed (/vms, VM.Allocate)")
            return ident
        time.sleep(faults["authDelay"])
        raise ApiError(401, "invalid token value!")
    cookie = h.headers.get("Cookie", "")
    m = re.search(r"PVEAuthCookie=([^;]+)", cookie)
    t = tickets.get(urllib.parse.unquote(m.group(1))) if m else None
    if not t or now() - t[2] > args.ticket_lifetime:
        time.sleep(faults["authDelay"])
        raise ApiError(401, "No ticket")
    if method != "GET" and h.headers.get("CSRFPreventionToken") != t[1]:
        raise ApiError(401, "Permission denied - invalid csrf token")
    return t[0]


def login(p):
    user, password = p.get("username", ""), p.get("password", "")
    if p.get("realm") and "@" not in user:
        user += "@" + p["realm"]
    renewed = tickets.get(password)
    if renewed and renewed[0] == user and now() - renewed[2] <= args.ticket_lifetime:
        pass
    elif USERS.get(user) is None or not secrets.compare_digest(USERS[user], password):
        time.sleep(faults["authDelay"])
        raise ApiError(401, "authentication failure")
    ticket = "PVE:%s:%08X::%s" % (user, int(now()), secrets.token_urlsafe(24))
    csrf = "%08X:%s" % (int(now()), secrets.token_urlsafe(16))
    tickets[ticket] = (user, csrf, now())
    return {"ticket": ticket, "CSRFPreventionToken": csrf, "username": user,
            "cap": {"vms": {"VM.Allocate": 1, "VM.PowerMgmt": 1, "VM.Audit": 1}}}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, code, body, reason=None):
        raw = json.dumps(body).encode()
        # pveproxy puts the message in the reason phrase (one line).
        self.send_response(code, (reason or http.server.BaseHTTPRequestHandler.responses.get(code, ("",))[0]).replace("\n", " ").strip())
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(raw)))
        self.send_header("Cache-Control", "max-age=0")
        self.end_headers()
        self.wfile.write(raw)

    def params(self, url):
        self.raw_json = {}
        p = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query, keep_blank_values=True).items()}
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        self.raw_body = urllib.parse.unquote_plus(raw.decode(errors="replace"))
        if raw:
            ctype = self.headers.get("Content-Type", "")
            if ctype.startswith("application/json"):
                body = json.loads(raw)
                self.raw_json = body
                p.update({k: (("1" if v else "0") if isinstance(v, bool) else str(v)) for k, v in body.items()})
            else:
                p.update({k: v[-1] for k, v in urllib.parse.parse_qs(raw.decode(), keep_blank_values=True).items()})
        return p

    def handle_any(self, method):
        url = urllib.parse.urlsplit(self.path)
        try:
            p = self.params(url)
        except Exception as e:  # a body we cannot read
            return self.reply(400, {"data": None, "message": "invalid body: %s" % e}, "invalid body")
        if url.path.startswith("/_fake/"):
            return self.admin(method, url.path, p)
        if not url.path.startswith("/api2/json/"):
            return self.reply(501, {"data": None}, "Not Implemented")
        path = url.path[len("/api2/json"):]
        with lock:
            log.append([method, path])
        try:
            if path.rstrip("/") == "/access/ticket" and method == "POST":
                return self.reply(200, {"data": login(p)})
            user = authenticate(self, method)
            with lock:
                advance()
                for rule in faults["rules"]:
                    if (rule.get("times", 1) > 0 and rule.get("method", method) == method
                            and rule.get("pathContains", "") in path and rule.get("bodyContains", "") in self.raw_body):
                        rule["times"] = rule.get("times", 1) - 1
                        raise ApiError(rule.get("status", 500), rule.get("message", "injected fault"), rule.get("errors"))
                data = api(method, path, p, user)
                creating = method == "POST" and (path.rstrip("/").endswith("/qemu") or path.endswith("/clone"))
                if creating and faults["dropAfterCreate"] > 0:
                    faults["dropAfterCreate"] -= 1
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
            self.reply(200, {"data": data})
        except ApiError as e:
            body = {"data": None, "message": e.message + "\n"}
            if e.errors:
                body["errors"] = e.errors
            self.reply(e.code, body, e.message)

    def admin(self, method, path, p):
        with lock:
            advance()
            if path == "/_fake/faults" and method == "POST":
                faults.update(self.raw_json)
                return self.reply(200, {"data": {k: v for k, v in faults.items()}})
            if path == "/_fake/state":
                return self.reply(200, {"data": {"vms": {str(i): dict(v) for i, v in vms.items()}, "log": log,
                                                 "tasks": [{"upid": u, "type": t["type"], "status": t["status"],
                                                            "exitstatus": t.get("exitstatus")} for u, t in tasks.items()]}})
        self.reply(404, {"data": None}, "no such admin path")

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_DELETE(self):
        self.handle_any("DELETE")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


srv = Server(("127.0.0.1", 0), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(args.cert, args.key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print(srv.server_address[1], flush=True)
srv.serve_forever()
