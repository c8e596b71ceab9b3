// Offline validation of deploy/k8s (test deploy_k8s, run by k8s_test.sh):
//  1. every document of every file the kustomization lists is checked against the
//     Kubernetes API schemas of the npm package kubernetes-models (the OpenAPI schemas of
//     the Kubernetes release it was generated from), and, as `kubectl apply
//     --validate=strict` does, a field the schema does not know is an error;
//  2. the objects fit together: selectors, Services, ConfigMaps, Secrets, the service
//     account and its RBAC (exactly the verbs discovery needs), probes, ports, resources;
//  3. the Grafana provisioning ConfigMaps hold deploy/grafana's files word for word;
//  4. the prometheus.yml of the vigil-config ConfigMap is written to --extract-config for
//     `vigil check config`.
//
//   node validate_k8s.mjs --node-modules DIR --k8s DIR --grafana DIR --extract-config FILE
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, "")] = process.argv[i + 1];
const require = createRequire(path.join(path.resolve(args["node-modules"]), "noop.js"));
const YAML = require("yaml");

const failures = [];
const fail = (message) => failures.push(message);
const ok = (message) => console.log(`ok: ${message}`);
const check = (what, got, want) => {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  if (g === w) ok(`${what} = ${w}`);
  else fail(`${what}: got ${g}, want ${w}`);
};

// --- 1. schemas -------------------------------------------------------------------------

// Wraps `value` so that every property the schema validator reads is recorded in `seen`
// (path -> {object, keys, all}); a property it never reads is one the schema does not have.
// Objects the schema treats as maps (labels, ConfigMap data) are iterated, which marks
// all their keys as known.
function tracked(value, where, seen) {
  if (value === null || typeof value !== "object") return value;
  if (!seen.has(where)) seen.set(where, { object: value, keys: new Set(), all: false });
  const record = seen.get(where);
  return new Proxy(value, {
    get(target, key, receiver) {
      const result = Reflect.get(target, key, receiver);
      if (typeof key !== "string" || !Object.prototype.hasOwnProperty.call(target, key)) return result;
      record.keys.add(key);
      return tracked(result, `${where}/${key}`, seen);
    },
    ownKeys(target) {
      record.all = true;
      return Reflect.ownKeys(target);
    },
  });
}

function modelFor(apiVersion, kind) {
  const group = apiVersion.includes("/") ? apiVersion : `v1`;
  let module;
  try {
    module = require(`kubernetes-models/${group}`);
  } catch {
    return null;
  }
  return module[kind] ?? null;
}

function validateSchema(doc, where) {
  const Model = modelFor(doc.apiVersion ?? "", doc.kind ?? "");
  if (!Model) return fail(`${where}: no Kubernetes schema for ${doc.apiVersion} ${doc.kind}`);
  const seen = new Map();
  try {
    Model.prototype.validate.call(tracked(doc, "", seen));
  } catch (error) {
    return fail(`${where}: ${error.message}`);
  }
  let unknown = 0;
  for (const [at, { object, keys, all }] of seen) {
    if (all || Array.isArray(object)) continue;
    for (const key of Object.keys(object)) {
      if (!keys.has(key)) {
        fail(`${where}: unknown field ${at}/${key} (not in the ${doc.apiVersion} ${doc.kind} schema)`);
        unknown++;
      }
    }
  }
  if (unknown === 0) ok(`${where}: valid ${doc.apiVersion} ${doc.kind}`);
}

const k8sDir = args.k8s;
const kustomization = YAML.parse(fs.readFileSync(path.join(k8sDir, "kustomization.yaml"), "utf8"));
check("kustomization kind", [kustomization.apiVersion, kustomization.kind],
  ["kustomize.config.k8s.io/v1beta1", "Kustomization"]);
const files = fs.readdirSync(k8sDir).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml").sort();
check("kustomization resources (every manifest in deploy/k8s)", [...kustomization.resources].sort(), files);

const objects = [];
for (const file of kustomization.resources) {
  const text = fs.readFileSync(path.join(k8sDir, file), "utf8");
  const docs = YAML.parseAllDocuments(text, { strict: true, uniqueKeys: true });
  docs.forEach((parsed, i) => {
    const where = `${file}#${i + 1}`;
    for (const e of [...parsed.errors, ...parsed.warnings]) fail(`${where}: YAML: ${e.message}`);
    const doc = parsed.toJS();
    if (doc === null) return fail(`${where}: empty document`);
    validateSchema(doc, `${where} (${doc.kind} ${doc.metadata?.name})`);
    objects.push({ file, doc });
  });
}

// Sections 2-4 read the objects as the manifests should have them; one that is missing
// or shaped otherwise ends them with a failure rather than a crash.
function checkStack() {
  // --- 2. the objects fit together ----------------------------------------------------------
  const clusterScoped = new Set(["Namespace", "ClusterRole", "ClusterRoleBinding"]);
  const find = (kind, name, namespace) =>
    objects.map((o) => o.doc).find((d) => d.kind === kind && d.metadata.name === name &&
      (clusterScoped.has(kind) || d.metadata.namespace === namespace));
  const namespaces = new Set(objects.filter((o) => o.doc.kind === "Namespace").map((o) => o.doc.metadata.name));
  const names = new Set();
  for (const { doc } of objects) {
    const id = `${doc.kind} ${doc.metadata.namespace ?? ""}/${doc.metadata.name}`;
    if (names.has(id)) fail(`${id} is defined twice`);
    names.add(id);
    if (clusterScoped.has(doc.kind)) {
      if (doc.metadata.namespace) fail(`${id}: a cluster-scoped object has a namespace`);
    } else if (!namespaces.has(doc.metadata.namespace)) {
      fail(`${id}: namespace ${doc.metadata.namespace} is not created by the manifests`);
    }
  }

  const workloads = objects.map((o) => o.doc).filter((d) => ["Deployment", "StatefulSet", "DaemonSet"].includes(d.kind));
  const subset = (small, big) => Object.entries(small ?? {}).every(([k, v]) => big?.[k] === v);
  for (const w of workloads) {
    const id = `${w.kind} ${w.metadata.name}`;
    const pod = w.spec.template.spec;
    if (!subset(w.spec.selector.matchLabels, w.spec.template.metadata.labels)) fail(`${id}: selector does not match its pods`);
    const volumes = new Set([...(pod.volumes ?? []).map((v) => v.name), ...(w.spec.volumeClaimTemplates ?? []).map((v) => v.metadata.name)]);
    for (const v of pod.volumes ?? []) {
      if (v.configMap && !find("ConfigMap", v.configMap.name, w.metadata.namespace)) fail(`${id}: ConfigMap ${v.configMap.name} is missing`);
    }
    if (pod.serviceAccountName && !find("ServiceAccount", pod.serviceAccountName, w.metadata.namespace)) fail(`${id}: ServiceAccount ${pod.serviceAccountName} is missing`);
    for (const c of pod.containers) {
      const ports = new Set((c.ports ?? []).map((p) => p.name));
      for (const m of c.volumeMounts ?? []) if (!volumes.has(m.name)) fail(`${id}/${c.name}: mount of unknown volume ${m.name}`);
      for (const probe of ["startupProbe", "livenessProbe", "readinessProbe"]) {
        const port = c[probe]?.httpGet?.port;
        if (typeof port === "string" && !ports.has(port)) fail(`${id}/${c.name}: ${probe} names unknown port ${port}`);
      }
      if (!c.livenessProbe || !c.readinessProbe) fail(`${id}/${c.name}: no liveness or readiness probe`);
      if (!c.resources?.requests || !c.resources?.limits) fail(`${id}/${c.name}: no resource requests and limits`);
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef;
        if (ref && !(ref.key in (find("Secret", ref.name, w.metadata.namespace)?.stringData ?? {}))) fail(`${id}/${c.name}: Secret ${ref.name} has no ${ref.key}`);
      }
    }
  }
  ok("workloads: selectors, volumes, ConfigMaps, Secrets, service accounts and probe ports resolve");

  for (const s of objects.map((o) => o.doc).filter((d) => d.kind === "Service")) {
    const backends = workloads.filter((w) => w.metadata.namespace === s.metadata.namespace && subset(s.spec.selector, w.spec.template.metadata.labels));
    if (backends.length !== 1) { fail(`Service ${s.metadata.name}: selects ${backends.length} workloads, want 1`); continue; }
    const ports = new Set(backends[0].spec.template.spec.containers.flatMap((c) => (c.ports ?? []).map((p) => p.name)));
    for (const p of s.spec.ports) if (typeof p.targetPort === "string" && !ports.has(p.targetPort)) fail(`Service ${s.metadata.name}: targetPort ${p.targetPort} is no port of ${backends[0].metadata.name}`);
  }
  ok("Services select one workload each, on ports it has");

  // RBAC: exactly get/list/watch on the objects Kubernetes discovery reads.
  const role = find("ClusterRole", "vigil-discovery");
  const grants = (role?.rules ?? []).flatMap((r) => r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g || "core"}/${res}:${v}`)))).sort();
  const wanted = ["core/pods", "core/services", "core/endpoints", "core/nodes", "discovery.k8s.io/endpointslices", "networking.k8s.io/ingresses"]
    .flatMap((r) => ["get", "list", "watch"].map((v) => `${r}:${v}`)).sort();
  check("ClusterRole vigil-discovery grants", grants, wanted);
  const binding = find("ClusterRoleBinding", "vigil-discovery");
  check("ClusterRoleBinding", [binding?.roleRef, binding?.subjects],
    [{ apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "vigil-discovery" }, [{ kind: "ServiceAccount", name: "vigil", namespace: "monitoring" }]]);

  // Vigil's StatefulSet.
  const vigil = find("StatefulSet", "vigil", "monitoring");
  const vc = vigil.spec.template.spec.containers[0];
  check("vigil service account", vigil.spec.template.spec.serviceAccountName, "vigil");
  check("vigil governing Service is headless", find("Service", vigil.spec.serviceName, "monitoring")?.spec.clusterIP, "None");
  check("vigil args", vc.args.slice(0, 2), ["--config.file=/etc/vigil/prometheus.yml", "--storage.tsdb.path=/vigil"]);
  if (vc.args.some((a) => a.includes("enable-lifecycle"))) fail("vigil: --web.enable-lifecycle must stay off");
  const mounts = Object.fromEntries(vc.volumeMounts.map((m) => [m.mountPath, m.name]));
  check("vigil data on the volume claim", [mounts["/vigil"], vigil.spec.volumeClaimTemplates.map((t) => t.metadata.name)], ["data", ["data"]]);
  check("vigil config from vigil-config", vigil.spec.template.spec.volumes.find((v) => v.name === mounts["/etc/vigil"])?.configMap?.name, "vigil-config");
  check("vigil probes", [vc.livenessProbe.httpGet.path, vc.readinessProbe.httpGet.path, vc.startupProbe?.httpGet?.path], ["/-/healthy", "/-/ready", "/-/ready"]);
  const startupBudget = vc.startupProbe.periodSeconds * vc.startupProbe.failureThreshold;
  if (startupBudget < 60 || startupBudget > 600) fail(`vigil startup probe allows ${startupBudget} s; want 60..600 s (restart takes ~1-3 s, BENCHMARKS.md)`);
  else ok(`vigil startup probe allows ${startupBudget} s`);
  check("vigil resource requests", vc.resources.requests, { cpu: "200m", memory: "512Mi" });
  check("vigil runs as", [vigil.spec.template.spec.securityContext.runAsUser, vigil.spec.template.spec.securityContext.fsGroup], [65534, 65534]);
  const nodePort = (name) => { const s = find("Service", name, "monitoring"); return [s?.spec.type, s?.spec.ports.map((p) => [p.port, p.nodePort])]; };
  check("Service vigil", nodePort("vigil"), ["NodePort", [[9090, 30090]]]);
  check("Service grafana", nodePort("grafana"), ["NodePort", [[3000, 30300]]]);

  // node-exporter, Grafana, the app.
  const nodeExporter = find("DaemonSet", "node-exporter", "monitoring");
  check("node-exporter image", nodeExporter?.spec.template.spec.containers[0].image, "prom/node-exporter:v1.7.0");
  const neService = find("Service", "node-exporter", "monitoring");
  check("node-exporter Service annotations", neService?.metadata.annotations, { "prometheus.io/scrape": "true", "prometheus.io/port": "9100" });
  const grafana = find("Deployment", "grafana", "monitoring");
  check("grafana image", grafana?.spec.template.spec.containers[0].image, "grafana/grafana:10.2.2");
  check("grafana admin", find("Secret", "grafana-admin", "monitoring")?.stringData, { "admin-user": "admin", "admin-password": "admin123" });
  const app = find("Deployment", "inventory", "inventory");
  check("inventory pod annotations", app?.spec.template.metadata.annotations,
    { "prometheus.io/scrape": "true", "prometheus.io/port": "3000", "prometheus.io/path": "/metrics" });
  check("inventory container port", app?.spec.template.spec.containers[0].ports.map((p) => p.containerPort), [3000]);
  if (find("Service", "inventory", "inventory")?.metadata.annotations?.["prometheus.io/scrape"]) {
    fail("Service inventory is annotated too: its pods would be scraped twice and the dashboard's sums doubled");
  }

  // --- 3. Grafana provisioning, word for word --------------------------------------------
  const grafanaFiles = {
    "grafana-datasources": ["vigil.yml", "provisioning/datasources/vigil.yml"],
    "grafana-dashboard-provider": ["vigil.yml", "provisioning/dashboards/vigil.yml"],
    "grafana-dashboards": ["inventory-manager.json", "dashboards/inventory-manager.json"],
  };
  for (const [name, [key, file]] of Object.entries(grafanaFiles)) {
    const data = find("ConfigMap", name, "monitoring")?.data?.[key];
    if (data !== fs.readFileSync(path.join(args.grafana, file), "utf8")) {
      fail(`ConfigMap ${name} differs from deploy/grafana/${file}: run deploy/k8s/generate-grafana-provisioning.sh`);
    } else {
      ok(`ConfigMap ${name} holds deploy/grafana/${file}`);
    }
  }
  const dashboard = JSON.parse(find("ConfigMap", "grafana-dashboards", "monitoring").data["inventory-manager.json"]);
  check("dashboard panels", dashboard.panels.length, 8);

  // --- 4. prometheus.yml ---------------------------------------------------------------------
  const configText = find("ConfigMap", "vigil-config", "monitoring")?.data?.["prometheus.yml"];
  if (!configText) {
    fail("ConfigMap vigil-config has no prometheus.yml");
  } else {
    const config = YAML.parse(configText);
    const roles = Object.fromEntries(config.scrape_configs.map((j) => [j.job_name, j.kubernetes_sd_configs?.map((s) => s.role) ?? "static"]));
    check("scrape jobs and their discovery", roles,
      { vigil: "static", grafana: "static", "kubernetes-pods": ["pod"], "kubernetes-service-endpoints": ["endpoints"] });
    fs.writeFileSync(args["extract-config"], configText);
  }
}
try {
  checkStack();
} catch (error) {
  fail(`the manifests are not shaped as expected: ${error.stack}`);
}

if (failures.length) {
  for (const f of failures) console.error(`FAIL: ${f}`);
  process.exit(1);
}
console.log(`validate_k8s: ${objects.length} objects in ${kustomization.resources.length} files valid`);
