#!/usr/bin/env bash
# deploy_compose: Debian's docker-compose accepts deploy/docker-compose.yml
# (`docker-compose config -q`), and the stack it resolves to is the one the Prometheus
# stack had: the same ports and Grafana credentials, Grafana 10.2.2 with the provisioning
# of deploy/grafana, named volumes for the data, a health check on every service; the
# vigil service's prometheus.yml passes `vigil check config` and scrapes the compose
# services by name.
#
#   compose_test.sh VIGIL_BINARY     exit 77 (skipped) without docker-compose
set -euo pipefail

vigil=$1
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
compose_file=$repo/deploy/docker-compose.yml

command -v docker-compose >/dev/null ||
  { echo "SKIP deploy_compose: docker-compose is not installed (apt-get install docker-compose)"; exit 77; }

docker-compose -f "$compose_file" config -q
echo "ok: docker-compose config -q accepts deploy/docker-compose.yml"

work=$(mktemp -d /tmp/vigil-compose-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
docker-compose -f "$compose_file" config >"$work/resolved.yml"

"$vigil" check config "$repo/deploy/compose/prometheus.yml"
# The same file works with Prometheus (the reference, when installed).
if command -v promtool >/dev/null; then promtool check config "$repo/deploy/compose/prometheus.yml"; fi

python3 - "$work/resolved.yml" "$repo" <<'EOF'
import os, sys, yaml

resolved = yaml.safe_load(open(sys.argv[1]))
repo = sys.argv[2]
services = resolved["services"]
failures = []

def check(what, got, want):
    if got != want:
        failures.append(f"{what}: got {got!r}, want {want!r}")
    else:
        print(f"ok: {what} = {want!r}")

check("services", sorted(services), ["grafana", "inventory", "node-exporter", "vigil"])

def published(name):
    return sorted((int(p["published"]), int(p["target"])) for p in services[name].get("ports", []))

check("vigil ports", published("vigil"), [(9090, 9090)])
check("inventory ports", published("inventory"), [(3000, 3000)])
check("grafana ports", published("grafana"), [(3001, 3000)])
check("node-exporter ports", published("node-exporter"), [(9100, 9100)])
check("grafana image", services["grafana"]["image"], "grafana/grafana:10.2.2")
env = services["grafana"]["environment"]
check("grafana admin", (env.get("GF_SECURITY_ADMIN_USER"), env.get("GF_SECURITY_ADMIN_PASSWORD")),
      ("admin", "admin123"))

for name, service in services.items():
    test = service.get("healthcheck", {}).get("test")
    if not test or test[0] not in ("CMD", "CMD-SHELL"):
        failures.append(f"{name}: no health check")
    else:
        print(f"ok: {name} has a health check: {' '.join(test[1:])}")
check("vigil health check path", services["vigil"]["healthcheck"]["test"][-1],
      "http://127.0.0.1:9090/-/ready")
check("vigil command", services["vigil"]["command"][:2],
      ["--config.file=/etc/vigil/prometheus.yml", "--storage.tsdb.path=/vigil"])
if any("enable-lifecycle" in arg for arg in services["vigil"]["command"]):
    failures.append("vigil: --web.enable-lifecycle must stay off")

# Mounts: "source:target[:mode]". Named volumes for the data, bind mounts that exist.
named = set(resolved.get("volumes", {}))
def mounts(name):
    return {v.split(":")[1]: v.split(":")[0] for v in services[name].get("volumes", [])}
check("vigil data volume", mounts("vigil").get("/vigil"), "vigil-data")
check("grafana data volume", mounts("grafana").get("/var/lib/grafana"), "grafana-data")
check("named volumes", sorted(named), ["grafana-data", "vigil-data"])
deploy = os.path.join(repo, "deploy")
check("vigil config mount", mounts("vigil").get("/etc/vigil/prometheus.yml"),
      os.path.join(deploy, "compose", "prometheus.yml"))
check("grafana provisioning mount", mounts("grafana").get("/etc/grafana/provisioning"),
      os.path.join(deploy, "grafana", "provisioning"))
check("grafana dashboards mount", mounts("grafana").get("/var/lib/grafana/dashboards"),
      os.path.join(deploy, "grafana", "dashboards"))
for name, service in services.items():
    for source in mounts(name).values():
        if source.startswith("/") and not source.startswith(("/proc", "/sys")) and source != "/" \
                and not os.path.exists(source):
            failures.append(f"{name}: bind mount source {source} does not exist")

# The images are the ones deploy/build-image.sh tags by default.
build_script = open(os.path.join(deploy, "build-image.sh")).read()
for name, variable in (("vigil", "vigil_tag"), ("inventory", "demo_tag")):
    image = services[name]["image"]
    if f"\n{variable}={image}\n" not in build_script:
        failures.append(f"{name}: image {image} is not what deploy/build-image.sh builds ({variable})")
    else:
        print(f"ok: {name} runs {image}, built by deploy/build-image.sh")
    check(f"{name} pull_policy", services[name].get("pull_policy"), "never")

# The provisioned datasource reaches Vigil by its service name.
datasource = yaml.safe_load(open(os.path.join(deploy, "grafana/provisioning/datasources/vigil.yml")))
check("grafana datasource url", datasource["datasources"][0]["url"], "http://vigil:9090")

# Every scrape target of the compose prometheus.yml is a service of the stack at a port it
# listens on.
config = yaml.safe_load(open(os.path.join(deploy, "compose", "prometheus.yml")))
listens = {"vigil": 9090, "localhost": 9090, "inventory": 3000, "node-exporter": 9100}
for job in config["scrape_configs"]:
    for static in job["static_configs"]:
        for target in static["targets"]:
            host, port = target.rsplit(":", 1)
            if listens.get(host) != int(port):
                failures.append(f"job {job['job_name']}: target {target} is no service port of the stack")
            else:
                print(f"ok: job {job['job_name']} scrapes {target}")

if failures:
    print("\n".join("FAIL: " + f for f in failures), file=sys.stderr)
    sys.exit(1)
print("deploy_compose: all checks passed")
EOF
