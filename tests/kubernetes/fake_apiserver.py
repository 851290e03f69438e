#!/usr/bin/env python3
"""A fake Kubernetes API server for provisiond's tests.

It follows the wire shapes of ../shared/reference/provider-apis.md §B and
kubectl-vs-fake-apiserver.md, and the real kubectl (1.29, picked by the gcloud
dispatcher from /version) is the judge of its fidelity:
  TLS with a test CA, bearer token (401 Status otherwise), /version, legacy
  discovery, CRUD for namespaces, resourcequotas, limitranges, rolebindings,
  networkpolicies and OpenShift projectrequests, server-side apply (PATCH
  application/apply-patch+yaml, fieldManager required), merge patches, numeric
  increasing resourceVersions, Status errors, a namespace deletion that stays
  Terminating for a while, watch, SelfSubjectAccessReview.
Fault injection through POST /_fake/faults (same token): latency, canned
errors for matching requests, dropped responses after a create.
Usage: fake_apiserver.py CERT KEY TOKEN [TERMINATING_SECONDS]; prints the port.
"""
import copy, datetime, http.server, json, socketserver, ssl, sys, threading, time, urllib.parse

CERT, KEY, TOKEN = sys.argv[1], sys.argv[2], sys.argv[3]
TERMINATING = float(sys.argv[4]) if len(sys.argv) > 4 else 1.0

lock = threading.Condition()
rv = [100]
store = {}      # (resource, namespace or "", name) -> object
events = []     # (rv, resource, type, object) for watch
log = []        # (method, path) of every request, for tests
faults = {"latencyMs": 0, "rules": [], "dropAfterCreate": 0, "terminatingSeconds": TERMINATING}

# resource -> (group, version, kind, namespaced, shortNames)
RESOURCES = {
    "namespaces": ("", "v1", "Namespace", False, ["ns"]),
    "resourcequotas": ("", "v1", "ResourceQuota", True, ["quota"]),
    "limitranges": ("", "v1", "LimitRange", True, ["limits"]),
    "rolebindings": ("rbac.authorization.k8s.io", "v1", "RoleBinding", True, []),
    "networkpolicies": ("networking.k8s.io", "v1", "NetworkPolicy", True, ["netpol"]),
    "selfsubjectaccessreviews": ("authorization.k8s.io", "v1", "SelfSubjectAccessReview", False, []),
    "projectrequests": ("project.openshift.io", "v1", "ProjectRequest", False, []),
}
GROUPS = ["rbac.authorization.k8s.io", "networking.k8s.io", "authorization.k8s.io", "project.openshift.io"]


def now():
    return datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")


def next_rv():
    rv[0] += 1
    return str(rv[0])


def qualified(resource):
    g = RESOURCES[resource][0]
    return resource + ("." + g if g else "")


def status(code, reason, message, details=None):
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}
    if details is not None:
        body["details"] = details
    return code, body


def not_found(resource, name):
    d = {"name": name, "kind": resource}
    if RESOURCES[resource][0]:
        d["group"] = RESOURCES[resource][0]
    return status(404, "NotFound", '%s "%s" not found' % (qualified(resource), name), d)


def record(resource, kind, obj):
    events.append((int(obj["metadata"]["resourceVersion"]), resource, kind, copy.deepcopy(obj)))
    lock.notify_all()


def merge(base, patch):
    for k, v in patch.items():
        if v is None:
            base.pop(k, None)
        elif isinstance(v, dict) and isinstance(base.get(k), dict):
            merge(base[k], v)
        else:
            base[k] = copy.deepcopy(v)
    return base


def finish_terminations():
    t = time.time()
    for key, obj in list(store.items()):
        if key[0] == "namespaces" and obj.get("_terminate_at") and obj["_terminate_at"] <= t:
            ns = key[2]
            for k2 in list(store):
                if k2[1] == ns and k2[0] != "namespaces":
                    del store[k2]
            del store[key]
            obj = copy.deepcopy(obj)
            obj.pop("_terminate_at", None)
            obj["metadata"]["resourceVersion"] = next_rv()
            record("namespaces", "DELETED", obj)


def public(obj):
    o = copy.deepcopy(obj)
    o.pop("_terminate_at", None)
    return o


def new_object(resource, ns, body):
    g, v, kind, namespaced, _ = RESOURCES[resource]
    obj = copy.deepcopy(body)
    obj["apiVersion"] = (g + "/" if g else "") + v
    obj["kind"] = kind
    md = obj.setdefault("metadata", {})
    if namespaced:
        md["namespace"] = ns
    md["uid"] = "uid-" + next_rv()
    md["creationTimestamp"] = now()
    md["resourceVersion"] = next_rv()
    if resource == "namespaces":
        obj.setdefault("spec", {})["finalizers"] = ["kubernetes"]
        obj["status"] = {"phase": "Active"}
        md.setdefault("labels", {})["kubernetes.io/metadata.name"] = md["name"]
    if resource == "resourcequotas":
        hard = obj.get("spec", {}).get("hard", {})
        obj["status"] = {"hard": dict(hard), "used": {k: "0" for k in hard}}
    return obj


def valid_name(name):
    import re
    return bool(re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name or "")) and len(name) <= 63


def admit_create(resource, ns, name):
    """NamespaceLifecycle admission for creates in a namespace."""
    if not RESOURCES[resource][3]:
        return None
    nso = store.get(("namespaces", "", ns))
    if nso is None:
        return status(404, "NotFound", 'namespaces "%s" not found' % ns, {"name": ns, "kind": "namespaces"})
    if nso["status"].get("phase") == "Terminating":
        return status(403, "Forbidden",
                      '%s "%s" is forbidden: unable to create new content in namespace %s because it is being terminated'
                      % (resource, name, ns),
                      {"name": name, "kind": resource, "causes": [{"reason": "NamespaceTerminating",
                                                                   "message": "namespace %s is being terminated" % ns,
                                                                   "field": "metadata.namespace"}]})
    return None


def invalid_name(kind, name):
    msg = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and "
           "end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
           "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
    return status(422, "Invalid", '%s "%s" is invalid: metadata.name: Invalid value: "%s": %s' % (kind, name, name, msg),
                  {"name": name, "kind": kind, "causes": [{"reason": "FieldValueInvalid", "field": "metadata.name",
                                                           "message": 'Invalid value: "%s": %s' % (name, msg)}]})


def parse_path(path):
    """-> (resource, namespace, name) or None."""
    parts = [p for p in path.split("/") if p]
    if parts[:2] == ["api", "v1"]:
        rest = parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis" and parts[1] in GROUPS:
        rest = parts[3:]
    else:
        return None
    ns = ""
    if len(rest) >= 3 and rest[0] == "namespaces" and rest[2] in RESOURCES:
        ns, rest = rest[1], rest[2:]
    if not rest or rest[0] not in RESOURCES:
        return None
    return rest[0], ns, rest[1] if len(rest) > 1 else None


def discovery(group, version):
    res = []
    for r, (g, v, kind, namespaced, short) in RESOURCES.items():
        if g == group and v == version:
            verbs = ["create"] if r in ("selfsubjectaccessreviews", "projectrequests") else \
                ["create", "delete", "get", "list", "patch", "update", "watch"]
            res.append({"name": r, "singularName": kind.lower(), "namespaced": namespaced, "kind": kind,
                        "verbs": verbs, "shortNames": short})
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": (group + "/" if group else "") + version,
            "resources": res}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send_json(self, code, body, extra=None):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        return json.loads(raw) if raw.strip() else {}

    def handle_any(self, method):
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        try:
            payload = self.body() if method in ("POST", "PUT", "PATCH", "DELETE") else {}
        except ValueError:
            return self.send_json(*status(400, "BadRequest", "the body is not JSON"))
        if self.headers.get("Authorization") != "Bearer " + TOKEN:
            return self.send_json(*status(401, "Unauthorized", "Unauthorized"))
        if u.path == "/_fake/faults":
            with lock:
                if method == "POST":
                    faults.update(payload)
                return self.send_json(200, {"faults": faults, "log": log})
        with lock:
            log.append([method, u.path])
            delay = faults["latencyMs"] / 1000.0
            rule = None
            for r in faults["rules"]:
                if r.get("method", method) == method and u.path.startswith(r.get("pathPrefix", "/")) and r.get("times", 1) > 0:
                    r["times"] = r.get("times", 1) - 1
                    rule = r
                    break
        if delay:
            time.sleep(delay)
        if rule:
            code = rule.get("status", 500)
            return self.send_json(*status(code, rule.get("reason", "InternalError"), rule.get("message", "injected fault"),
                                          rule.get("details")))
        return self.route(method, u.path, q, payload)

    def route(self, method, path, q, payload):
        if path == "/version":
            return self.send_json(200, {"major": "1", "minor": "29", "gitVersion": "v1.29.0-fake", "platform": "linux/amd64"})
        if path == "/api":
            return self.send_json(200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]})
        if path == "/apis":
            return self.send_json(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                {"name": g, "versions": [{"groupVersion": g + "/v1", "version": "v1"}],
                 "preferredVersion": {"groupVersion": g + "/v1", "version": "v1"}} for g in GROUPS]})
        if path == "/api/v1":
            return self.send_json(200, discovery("", "v1"))
        for g in GROUPS:
            if path == "/apis/%s/v1" % g:
                return self.send_json(200, discovery(g, "v1"))
        if path == "/openapi/v3":
            # Just enough for kubectl >= 1.27 to hand field validation to the server.
            idx = {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=1"}}
            for g in GROUPS:
                idx["apis/%s/v1" % g] = {"serverRelativeURL": "/openapi/v3/apis/%s/v1?hash=1" % g}
            return self.send_json(200, {"paths": idx})
        if path.startswith("/openapi/v3/"):
            gv = path[len("/openapi/v3/"):]
            group = "" if gv == "api/v1" else gv.split("/")[1]
            paths = {}
            for r, (g, v, kind, namespaced, _) in RESOURCES.items():
                if g != group:
                    continue
                base = "/" + gv + ("/namespaces/{namespace}/" if namespaced else "/") + r + "/{name}"
                paths[base] = {"patch": {"x-kubernetes-group-version-kind": {"group": g, "version": v, "kind": kind},
                                         "parameters": [{"name": "fieldValidation", "in": "query"}],
                                         "responses": {"200": {"description": "OK"}}}}
            return self.send_json(200, {"openapi": "3.0.0", "info": {"title": "fake", "version": "v1.29.0"},
                                        "components": {"schemas": {}}, "paths": paths})
        target = parse_path(path)
        if not target:
            return self.send_json(*status(404, "NotFound", "the server could not find the requested resource"))
        resource, ns, name = target
        with lock:
            finish_terminations()
            if resource == "selfsubjectaccessreviews" and method == "POST":
                out = copy.deepcopy(payload)
                out.update({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview"})
                out["status"] = {"allowed": not faults.get("denyAccessReview", False)}
                return self.send_json(201, out)
            if resource == "projectrequests" and method == "POST":
                return self.project_request(payload)
            if method == "GET" and name is None:
                if q.get("watch") in ("true", "1"):
                    return self.watch(resource, ns, q)
                return self.send_json(200, self.list(resource, ns, q))
            if method == "GET":
                obj = store.get((resource, ns, name))
                return self.send_json(200, public(obj)) if obj else self.send_json(*not_found(resource, name))
            if method == "POST" and name is None:
                return self.create(resource, ns, payload)
            if method == "PATCH" and name:
                return self.patch(resource, ns, name, payload, q)
            if method == "DELETE" and name:
                return self.delete(resource, ns, name)
        return self.send_json(*status(405, "MethodNotAllowed", "the server does not allow this method on the requested resource"))

    def list(self, resource, ns, q):
        g, v, kind, namespaced, _ = RESOURCES[resource]
        items = [public(o) for (r, n, _), o in sorted(store.items()) if r == resource and (not ns or n == ns)]
        sel = q.get("fieldSelector", "")
        if sel.startswith("metadata.name="):
            items = [o for o in items if o["metadata"]["name"] == sel.split("=", 1)[1]]
        for term in filter(None, q.get("labelSelector", "").split(",")):
            k, _, val = term.partition("=")
            items = [o for o in items if o["metadata"].get("labels", {}).get(k) == val]
        return {"kind": kind + "List", "apiVersion": (g + "/" if g else "") + v,
                "metadata": {"resourceVersion": str(rv[0])}, "items": items}

    def create(self, resource, ns, payload, answer=True):
        kind = RESOURCES[resource][2]
        name = payload.get("metadata", {}).get("name", "")
        if not valid_name(name):
            return self.send_json(*invalid_name(kind, name))
        denied = admit_create(resource, ns, name)
        if denied:
            return self.send_json(*denied)
        if (resource, ns, name) in store:
            return self.send_json(*status(409, "AlreadyExists", '%s "%s" already exists' % (qualified(resource), name),
                                          {"name": name, "kind": resource}))
        obj = new_object(resource, ns, payload)
        store[(resource, ns, name)] = obj
        record(resource, "ADDED", obj)
        if faults["dropAfterCreate"] > 0:
            faults["dropAfterCreate"] -= 1
            self.close_connection = True
            self.connection.shutdown(2)  # created, but the client never hears of it
            return None
        return self.send_json(201, public(obj))

    def patch(self, resource, ns, name, payload, q):
        ctype = self.headers.get("Content-Type", "")
        obj = store.get((resource, ns, name))
        if ctype.startswith("application/apply-patch"):
            if not q.get("fieldManager"):
                return self.send_json(*status(422, "Invalid", "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: "
                                                               "Required value: is required for apply patch"))
            if obj is None:
                payload.setdefault("metadata", {})["name"] = name
                return self.create(resource, ns, payload)
            applied = copy.deepcopy(payload)
            applied.pop("status", None)
            merged = merge(copy.deepcopy(obj), applied)
            if resource == "resourcequotas":  # the apply owns spec.hard: replace it whole
                merged["spec"]["hard"] = dict(payload.get("spec", {}).get("hard", {}))
                merged["status"] = {"hard": dict(merged["spec"]["hard"]), "used": {k: "0" for k in merged["spec"]["hard"]}}
            if resource in ("networkpolicies", "rolebindings"):
                for k in ("spec", "subjects", "roleRef"):
                    if k in payload:
                        merged[k] = copy.deepcopy(payload[k])
        elif obj is None:
            return self.send_json(*not_found(resource, name))
        else:
            merged = merge(copy.deepcopy(obj), payload)
        if resource == "resourcequotas":
            hard = merged.get("spec", {}).get("hard", {})
            merged["status"] = {"hard": dict(hard), "used": {k: "0" for k in hard}}
        if merged == obj:
            return self.send_json(200, public(obj))
        merged["metadata"]["resourceVersion"] = next_rv()
        store[(resource, ns, name)] = merged
        record(resource, "MODIFIED", merged)
        return self.send_json(200, public(merged))

    def delete(self, resource, ns, name):
        obj = store.get((resource, ns, name))
        if obj is None:
            return self.send_json(*not_found(resource, name))
        if resource == "namespaces":
            if obj["status"].get("phase") != "Terminating":
                obj["status"]["phase"] = "Terminating"
                obj["metadata"]["deletionTimestamp"] = now()
                obj["metadata"]["resourceVersion"] = next_rv()
                obj["_terminate_at"] = time.time() + float(faults["terminatingSeconds"])
                record("namespaces", "MODIFIED", obj)
            return self.send_json(200, public(obj))
        del store[(resource, ns, name)]
        obj = copy.deepcopy(obj)
        obj["metadata"]["resourceVersion"] = next_rv()
        record(resource, "DELETED", obj)
        return self.send_json(200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                                    "details": {"name": name, "kind": resource, "uid": obj["metadata"]["uid"]}})

    def project_request(self, payload):
        name = payload.get("metadata", {}).get("name", "")
        body = {"metadata": {"name": name, "annotations": {
            "openshift.io/display-name": payload.get("displayName", ""),
            "openshift.io/description": payload.get("description", ""),
            "openshift.io/requester": "provisiond"}}}
        if not valid_name(name):
            return self.send_json(*invalid_name("ProjectRequest", name))
        if ("namespaces", "", name) in store:
            return self.send_json(*status(409, "AlreadyExists", 'project.project.openshift.io "%s" already exists' % name,
                                          {"name": name, "group": "project.openshift.io", "kind": "project"}))
        obj = new_object("namespaces", "", body)
        store[("namespaces", "", name)] = obj
        record("namespaces", "ADDED", obj)
        project = public(obj)
        project.update({"apiVersion": "project.openshift.io/v1", "kind": "Project"})
        return self.send_json(201, project)

    def watch(self, resource, ns, q):
        start = int(q.get("resourceVersion") or 0)
        sel = q.get("fieldSelector", "")
        name = sel.split("=", 1)[1] if sel.startswith("metadata.name=") else None
        deadline = time.time() + float(q.get("timeoutSeconds", 60))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        seen = start
        try:
            while time.time() < deadline:
                finish_terminations()
                for (r_v, res, kind, obj) in events:
                    if r_v <= seen or res != resource:
                        continue
                    seen = r_v
                    if name and obj["metadata"]["name"] != name:
                        continue
                    if ns and obj["metadata"].get("namespace") != ns:
                        continue
                    line = (json.dumps({"type": kind, "object": public(obj)}) + "\n").encode()
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                    self.wfile.flush()
                lock.wait(0.1)
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PATCH(self):
        self.handle_any("PATCH")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_DELETE(self):
        self.handle_any("DELETE")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


srv = Server(("127.0.0.1", 0), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(CERT, KEY)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print(srv.server_address[1], flush=True)
srv.serve_forever()
