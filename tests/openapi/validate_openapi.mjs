// Validates docs/openapi.json with a real OpenAPI 3.1 validator
// (@apidevtools/swagger-parser: the 3.1 JSON Schema, then the spec's own
// rules such as path parameters declared once and operation ids unique),
// then checks every example in it against the schema it illustrates (Ajv,
// JSON Schema 2020-12), so an example taken from a real response and the
// schema a client generator reads cannot disagree.
//
//   node validate_openapi.mjs <path to openapi.json>
//
// Prints one line per problem and exits 1 if there is any.

import { readFileSync } from "node:fs";
import SwaggerParser from "@apidevtools/swagger-parser";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const file = process.argv[2];
if (!file) {
  console.error("usage: node validate_openapi.mjs <openapi.json>");
  process.exit(2);
}

const problems = [];
const raw = JSON.parse(readFileSync(file, "utf8"));
if (raw.openapi !== "3.1.0") problems.push(`openapi is ${JSON.stringify(raw.openapi)}, expected "3.1.0"`);

try {
  // validate() dereferences a copy: a $ref that points nowhere fails here.
  await SwaggerParser.validate(structuredClone(raw));
} catch (e) {
  problems.push(`swagger-parser: ${e.message}`);
}

// Every schema is compiled against the document itself, so its $refs
// (#/components/schemas/...) resolve as a client generator resolves them.
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
// OpenAPI keywords that are not JSON Schema.
ajv.addKeyword("example");
ajv.addVocabulary(["discriminator", "xml", "externalDocs"]);
ajv.addSchema({ ...raw, $id: "openapi" }, "openapi");

const pointer = (parts) => parts.map((p) => String(p).replaceAll("~", "~0").replaceAll("/", "~1")).join("/");

function check(where, schemaPointer, value) {
  let validate;
  try {
    validate = ajv.getSchema(`openapi#/${schemaPointer}`);
  } catch (e) {
    problems.push(`${where}: schema does not compile: ${e.message}`);
    return;
  }
  if (!validate) {
    problems.push(`${where}: no schema at ${schemaPointer}`);
    return;
  }
  if (!validate(value))
    for (const e of validate.errors) problems.push(`${where}: example ${e.instancePath || "(root)"} ${e.message}`);
}

// The value of an Example Object, resolving #/components/examples refs.
function exampleValue(e) {
  if (e && e.$ref) {
    const name = e.$ref.replace("#/components/examples/", "");
    return raw.components?.examples?.[name]?.value;
  }
  return e?.value;
}

let checked = 0;
// Schema-level `examples` (JSON Schema's keyword: an array of values).
for (const [name, schema] of Object.entries(raw.components?.schemas ?? {})) {
  for (const [i, value] of (schema.examples ?? []).entries()) {
    check(`components.schemas.${name}.examples[${i}]`, pointer(["components", "schemas", name]), value);
    checked++;
  }
}
// Media types, parameters and headers: `example` and `examples` (a map of Example Objects).
function checkMedia(where, base, media) {
  if (!media?.schema) return;
  const schemaPointer = pointer([...base, "schema"]);
  if ("example" in media) {
    check(`${where}.example`, schemaPointer, media.example);
    checked++;
  }
  for (const [k, e] of Object.entries(media.examples ?? {})) {
    const value = exampleValue(e);
    if (value === undefined) {
      problems.push(`${where}.examples.${k}: no value (${e.$ref ?? "inline"})`);
      continue;
    }
    check(`${where}.examples.${k}`, schemaPointer, value);
    checked++;
  }
}
function checkResponses(where, base, responses) {
  for (const [code, r] of Object.entries(responses ?? {})) {
    for (const [type, media] of Object.entries(r.content ?? {})) {
      // Only JSON bodies are JSON values; text examples are strings of the wire format.
      if (!type.startsWith("application/json")) continue;
      checkMedia(`${where}.responses.${code}.${type}`, [...base, "responses", code, "content", type], media);
    }
  }
}
for (const [path, item] of Object.entries(raw.paths ?? {})) {
  for (const [method, op] of Object.entries(item)) {
    if (typeof op !== "object" || !op.responses) continue;
    const base = ["paths", path, method];
    const where = `${method.toUpperCase()} ${path}`;
    for (const [type, media] of Object.entries(op.requestBody?.content ?? {}))
      checkMedia(`${where}.requestBody.${type}`, [...base, "requestBody", "content", type], media);
    for (const [i, p] of (op.parameters ?? []).entries())
      if (!p.$ref) checkMedia(`${where}.parameters[${i}]`, [...base, "parameters", i], p);
    checkResponses(where, base, op.responses);
  }
}
for (const [name, r] of Object.entries(raw.components?.responses ?? {}))
  for (const [type, media] of Object.entries(r.content ?? {}))
    checkMedia(`components.responses.${name}.${type}`, ["components", "responses", name, "content", type], media);
for (const [name, p] of Object.entries(raw.components?.parameters ?? {}))
  checkMedia(`components.parameters.${name}`, ["components", "parameters", name], p);

if (problems.length) {
  for (const p of problems) console.log(`FAIL ${p}`);
  console.log(`${problems.length} problems in ${file}`);
  process.exit(1);
}
console.log(`OK ${file}: valid OpenAPI ${raw.openapi}, ${Object.keys(raw.paths).length} paths, ${checked} examples match their schemas`);
