#!/usr/bin/env python3
"""deploy_k8s_pod_discovery: the shipped Kubernetes manifests, end to end on loopback.

A loopback fake Kubernetes API server serves, as real Pod JSON, the pods that the
Deployments and the DaemonSet of deploy/k8s create (their pod templates as they are in
the manifests). Vigil runs with the prometheus.yml of the shipped vigil-config ConfigMap,
unchanged but for `api_server` (the fake one instead of in-cluster) and a 1 s scrape
interval. Its kubernetes-pods job must find exactly the inventory app's pod through its
prometheus.io/* annotations, with the labels the relabel rules promise, drop the pods
without annotations, and, with the real inventory demo listening at the pod's address,
scrape it so that inventory_items_total can be queried.

    k8s_discovery_test.py VIGIL_BINARY INVENTORY_DEMO_BINARY    exit 77: no python3-yaml
"""
import copy
import http.server
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

try:
    import yaml
except ImportError:
    print("SKIP deploy_k8s_pod_discovery: python3-yaml is not installed (apt-get install python3-yaml)")
    sys.exit(77)

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
K8S = os.path.join(REPO, "deploy", "k8s")


def load_objects():
    """Every object of every manifest the kustomization lists."""
    kustomization = yaml.safe_load(open(os.path.join(K8S, "kustomization.yaml")))
    objects = []
    for name in kustomization["resources"]:
        objects += [d for d in yaml.safe_load_all(open(os.path.join(K8S, name))) if d]
    return objects


def pod_from(workload, index, pod_ip):
    """The pod a controller makes from `workload`'s template, as the API server shows it."""
    template = copy.deepcopy(workload["spec"]["template"])
    meta = template.get("metadata", {})
    name = f"{workload['metadata']['name']}-7c9d{index}f-x{index}q"
    return {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {
            "name": name,
            "namespace": workload["metadata"]["namespace"],
            "uid": f"uid-{name}",
            "resourceVersion": "1",
            "labels": meta.get("labels", {}),
            "annotations": meta.get("annotations", {}),
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": name.rsplit("-", 1)[0],
                                 "uid": f"rs-{index}", "controller": True}],
        },
        "spec": dict(template["spec"], nodeName="node-1"),
        "status": {
            "phase": "Running",
            "hostIP": "127.0.0.1",
            "podIP": pod_ip,
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


class FakeApiServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, pods):
        self.pods = pods
        super().__init__(("127.0.0.1", 0), FakeApiHandler)

    def handle_error(self, request, client_address):
        # Vigil closing an idle watch, or stopping, is no error of the test.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class FakeApiHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        if query.get("watch") == ["true"]:
            time.sleep(1)  # nothing changes: an idle watch that the server ends
            return self.answer({}, empty=True)
        parts = url.path.strip("/").split("/")
        kind = parts[-1]
        items = []
        if kind == "pods":
            namespace = parts[3] if len(parts) == 5 and parts[2] == "namespaces" else None
            items = [p for p in self.server.pods if namespace in (None, p["metadata"]["namespace"])]
        # Every other role lists nothing.
        self.answer({"kind": "List", "apiVersion": "v1", "metadata": {"resourceVersion": "1"}, "items": items})

    def answer(self, body, empty=False):
        data = b"" if empty else json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.load(r)


def wait_for(what, predicate, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


def main():
    vigil, demo = sys.argv[1], sys.argv[2]
    objects = load_objects()
    find = lambda kind, name: next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)
    inventory = find("Deployment", "inventory")
    port = int(inventory["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"])
    # The inventory pod's IP: an address of 127/8 (all loopback on Linux) nobody else uses,
    # where the real demo listens on the annotated port.
    pod_ip = f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(2, 254)}"
    pods = [pod_from(inventory, 0, pod_ip),
            pod_from(find("DaemonSet", "node-exporter"), 1, "127.0.0.1"),
            pod_from(find("StatefulSet", "vigil"), 2, "127.0.0.1"),
            pod_from(find("Deployment", "grafana"), 3, "127.0.0.1")]

    config_map = find("ConfigMap", "vigil-config")
    config = yaml.safe_load(config_map["data"]["prometheus.yml"])
    api = FakeApiServer(pods)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    for job in config["scrape_configs"]:
        for sd in job.get("kubernetes_sd_configs", []):
            sd["api_server"] = f"http://127.0.0.1:{api.server_address[1]}"
    config["global"]["scrape_interval"] = "1s"
    config["global"]["scrape_timeout"] = "1s"

    work = tempfile.mkdtemp(prefix="vigil-k8s-discovery-")
    processes = []
    try:
        config_file = os.path.join(work, "prometheus.yml")
        with open(config_file, "w") as f:
            yaml.safe_dump(config, f)
        demo_log = open(os.path.join(work, "demo.log"), "w")
        processes.append(subprocess.Popen([demo, f"--listen-address={pod_ip}:{port}", "--simulate-traffic=false"],
                                          stdout=demo_log, stderr=subprocess.STDOUT))
        web = free_port()
        vigil_log = open(os.path.join(work, "vigil.log"), "w")
        processes.append(subprocess.Popen(
            [vigil, f"--config.file={config_file}", f"--storage.tsdb.path={work}/data",
             f"--web.listen-address=127.0.0.1:{web}"], stdout=vigil_log, stderr=subprocess.STDOUT))
        base = f"http://127.0.0.1:{web}"

        def pod_targets():
            try:
                targets = get_json(f"{base}/api/v1/targets")["data"]
            except OSError:
                return None
            active = [t for t in targets["activeTargets"] if t["scrapePool"] == "kubernetes-pods"]
            return (active, targets["droppedTargets"]) if active else None

        try:
            active, dropped = wait_for("a kubernetes-pods target", pod_targets, 30)
        except AssertionError:
            print(open(os.path.join(work, "vigil.log")).read()[-3000:], file=sys.stderr)
            raise
        assert len(active) == 1, f"want exactly the inventory pod, got {json.dumps(active, indent=1)}"
        target = active[0]
        pod = pods[0]["metadata"]
        want = {
            "instance": f"{pod_ip}:{port}",
            "job": "kubernetes-pods",
            "app_kubernetes_io_name": "inventory",
            "kubernetes_namespace": pod["namespace"],
            "kubernetes_pod_name": pod["name"],
        }
        assert target["labels"] == want, f"labels {target['labels']}, want {want}"
        print(f"ok: kubernetes-pods finds the inventory pod with labels {want}")
        assert target["scrapeUrl"] == f"http://{pod_ip}:{port}/metrics", target["scrapeUrl"]
        print(f"ok: scrape URL {target['scrapeUrl']} (prometheus.io/port and prometheus.io/path)")
        dropped_pods = sorted(t["discoveredLabels"].get("__meta_kubernetes_pod_name", "")
                              for t in dropped if t["discoveredLabels"].get("job") == "kubernetes-pods")
        want_dropped = sorted(p["metadata"]["name"] for p in pods[1:]
                              for c in p["spec"]["containers"] for _ in (c.get("ports") or [None]))
        assert dropped_pods == want_dropped, f"dropped {dropped_pods}, want {want_dropped}"
        print(f"ok: the pods without prometheus.io/scrape are dropped: {dropped_pods}")

        if processes[0].poll() is not None:
            print(f"note: the demo could not listen on {pod_ip}:{port}; scrape not checked")
        else:
            wait_for("the inventory pod to be up", lambda: (pod_targets() or ([{}], []))[0][0].get("health") == "up", 20)
            query = urllib.parse.urlencode({"query": 'inventory_items_total{job="kubernetes-pods"}'})
            result = get_json(f"{base}/api/v1/query?{query}")["data"]["result"]
            assert len(result) == 1 and result[0]["metric"]["kubernetes_pod_name"] == pod["name"], result
            print(f"ok: the pod is scraped: inventory_items_total = {result[0]['value'][1]}")
        print("deploy_k8s_pod_discovery: all checks passed")
    finally:
        for p in processes:
            p.terminate()
        for p in processes:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        api.shutdown()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
