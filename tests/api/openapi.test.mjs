// GET /openapi.json against the real binary and the private backends: the document validates as OpenAPI 3.1
// (npm @seriousme/openapi-schema-validator), lists every route of GET /api, its documented examples match
// their own schemas, and the live answer of every request the document says to try matches the schema it
// documents for that answer (and its example, where it shows one).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { seed, startServer } from "../e2e/support.mjs";

let server;
let doc;
before(async () => {
  seed();
  server = await startServer();
  doc = await (await fetch(`${server.url}/openapi.json`)).json();
});
after(async () => {
  assert.equal(await server.stop(), 0);
});

// Each operation's answers, with the schema of their JSON content.
function* answers() {
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      for (const [status, r] of Object.entries(op.responses)) {
        const media = r.content?.["application/json"];
        if (media) yield { path, method, op, status, media };
      }
    }
  }
}

function compile() {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ $id: "cachelab", components: doc.components });
  // Schemas refer to "#/components/…", which inside a compiled schema means the document they sit in.
  return (schema) => ajv.compile(JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"cachelab#/components/')));
}

test("the document is valid OpenAPI 3.1", async () => {
  const result = await new Validator().validate(doc);
  assert.equal(result.valid, true, JSON.stringify(result.errors));
  assert.equal(doc.openapi, "3.1.0");
});

test("it documents every route the server lists, and no other", async () => {
  const index = await (await fetch(`${server.url}/api`)).json();
  const listed = new Set(index.endpoints.map((e) => `${e.method.toLowerCase()} ${e.path}`));
  const documented = new Set(Object.entries(doc.paths).flatMap(([p, item]) => Object.keys(item).map((m) => `${m} ${p}`)));
  assert.deepEqual([...documented].sort(), [...listed].sort());
});

test("documented examples match their schemas", () => {
  const schemaOf = compile();
  let examples = 0;
  for (const { path, method, status, media } of answers()) {
    if (media.example === undefined) continue;
    const validate = schemaOf(media.schema);
    assert.ok(validate(media.example), `${method} ${path} ${status} example: ${JSON.stringify(validate.errors)}`);
    examples++;
  }
  assert.ok(examples >= 2);
});

test("every request the document offers to try answers as documented", async () => {
  const schemaOf = compile();
  let tried = 0;
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!op["x-try"]) continue;
      assert.equal(method, "get", `${path}: only reads are tried`);
      const res = await fetch(`${server.url}${op["x-try"]}`);
      const documented = op.responses[String(res.status)];
      assert.ok(documented, `${op["x-try"]} answered ${res.status}, which ${path} does not document`);
      const media = documented.content?.["application/json"];
      if (!media) {
        assert.ok(documented.content, `${path} ${res.status} documents no content`);
        continue;
      }
      assert.match(res.headers.get("content-type"), /^application\/json/);
      const validate = schemaOf(media.schema);
      const body = await res.json();
      assert.ok(validate(body), `${op["x-try"]}: ${JSON.stringify(validate.errors)}\n${JSON.stringify(body).slice(0, 400)}`);
      // Where the document shows an example of this answer, the live answer is that example.
      if (media.example !== undefined) assert.deepEqual(body, media.example, `${op["x-try"]}: the documented example`);
      tried++;
    }
  }
  assert.ok(tried >= 15, `only ${tried} requests tried`);
});

test("an error answer matches the documented error shape", async () => {
  const schemaOf = compile();
  const res = await fetch(`${server.url}/products/abc`);
  assert.equal(res.status, 400);
  const validate = schemaOf(doc.paths["/products/{id}"].get.responses["400"].content["application/json"].schema);
  assert.ok(validate(await res.json()), JSON.stringify(validate.errors));
});
