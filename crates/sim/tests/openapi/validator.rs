//! Validates JSON bodies against the response schemas of an OpenAPI 3.0 document.
//!
//! OpenAPI 3.0 schemas are not JSON Schema: `nullable` instead of `"null"` in `type`, `$ref`
//! siblings that must be ignored, `oneOf` alternatives that Atlassian lets overlap. Each schema
//! is translated once into JSON Schema 2020-12 and handed to the `jsonschema` crate, with every
//! component schema under `$defs`:
//! - `#/components/schemas/X` becomes `#/$defs/X`; other `$ref`s (responses, parameters,
//!   request bodies) are resolved in the document;
//! - `nullable: true` adds `"null"` to `type` (and to `enum`), or wraps a typeless schema in
//!   `anyOf [schema, {type: null}]`;
//! - a `$ref`'s siblings are dropped (3.0 semantics), except `nullable`;
//! - `oneOf` becomes `anyOf`: several of Atlassian's alternatives match the same value;
//! - formats are checked leniently: `date-time`, `date`, `uuid`, ... as JSON Schema defines them;
//!   formats JSON Schema does not know (`int32`, `int64`, `binary`) are ignored.
//!
//! A second, advisory pass lists the properties a body carries that no schema declares
//! ([`Spec::undeclared`]): legal (OpenAPI allows extra properties) but usually a typo.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};

use jsonschema::{Draft, Validator};
use serde_json::{Map, Value, json};

/// One operation of the document.
#[derive(Clone, Debug)]
pub struct Operation {
    /// Upper case: `GET`, `POST`, ...
    pub method: String,
    /// The full path template, prefix included (`/wiki/api/v2/pages/{id}`).
    pub template: String,
    pub operation_id: String,
    /// Path and query parameters (resolved).
    pub parameters: Vec<Parameter>,
    /// Status code (`200`, `2XX`, `default`) → JSON response schema, if the response has one.
    pub responses: BTreeMap<String, Option<Value>>,
}

#[derive(Clone, Debug)]
pub struct Parameter {
    pub name: String,
    /// `path`, `query`, `header` or `cookie`.
    pub location: String,
    pub required: bool,
}

/// One place where a body breaks its schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// JSON pointer into the body (`/results/0/version/number`); empty for the root.
    pub path: String,
    /// What the schema wants, as the validator says it.
    pub message: String,
    /// The schema keyword that failed (JSON pointer into the translated schema).
    pub keyword: String,
    /// The offending value, cut short.
    pub got: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = if self.path.is_empty() {
            "(root)"
        } else {
            &self.path
        };
        write!(
            f,
            "{path}: {} [schema {}; got {}]",
            self.message, self.keyword, self.got
        )
    }
}

/// Why a body could not be checked at all.
#[derive(Debug, PartialEq, Eq)]
pub enum CheckError {
    /// The operation declares no response for this status (nor `2XX`/`default`).
    UndeclaredStatus(Vec<String>),
    /// The declared response has no JSON schema (e.g. 204, a download).
    NoSchema,
    /// The schema does not compile (a translation bug).
    Schema(String),
}

/// A loaded OpenAPI 3.0 document.
pub struct Spec {
    doc: Value,
    /// Prefix put before every path of the document (`/wiki/api/v2` for v2).
    prefix: String,
    defs: Value,
    strict: bool,
    cache: Mutex<HashMap<String, Arc<Validator>>>,
}

impl Spec {
    /// Reads and prepares a document; `prefix` is prepended to its paths.
    pub fn load(path: &Path, prefix: &str) -> Result<Spec, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let doc: Value = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
        Spec::from_value(doc, prefix)
    }

    pub fn from_value(doc: Value, prefix: &str) -> Result<Spec, String> {
        let version = doc.get("openapi").and_then(Value::as_str).unwrap_or("");
        if !version.starts_with("3.0") {
            return Err(format!(
                "expected an OpenAPI 3.0 document, found openapi={version:?}"
            ));
        }
        let mut defs = Map::new();
        if let Some(schemas) = doc
            .pointer("/components/schemas")
            .and_then(Value::as_object)
        {
            for (name, schema) in schemas {
                defs.insert(name.clone(), translate(schema));
            }
        }
        Ok(Spec {
            doc,
            prefix: prefix.to_string(),
            defs: Value::Object(defs),
            strict: true,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// Resolves a local `$ref` (`#/components/...`) in the document.
    fn resolve<'a>(&'a self, value: &'a Value) -> &'a Value {
        let mut v = value;
        for _ in 0..8 {
            match v.get("$ref").and_then(Value::as_str) {
                Some(r) => match r.strip_prefix('#').and_then(|p| self.doc.pointer(p)) {
                    Some(target) => v = target,
                    None => return v,
                },
                None => return v,
            }
        }
        v
    }

    /// Every operation of the document.
    pub fn operations(&self) -> Vec<Operation> {
        let mut out = Vec::new();
        let Some(paths) = self.doc.get("paths").and_then(Value::as_object) else {
            return out;
        };
        for (path, item) in paths {
            let Some(item) = item.as_object() else {
                continue;
            };
            let common: Vec<&Value> = item
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .collect();
            for (method, op) in item {
                if !matches!(method.as_str(), "get" | "put" | "post" | "delete" | "patch") {
                    continue;
                }
                let own: Vec<&Value> = op
                    .get("parameters")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .collect();
                let mut parameters: Vec<Parameter> = Vec::new();
                // Operation-level parameters override path-level ones of the same name.
                for p in own.into_iter().chain(common.iter().copied()) {
                    let p = self.resolve(p);
                    let name = p
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string();
                    let location = p
                        .get("in")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string();
                    if parameters
                        .iter()
                        .any(|q| q.name == name && q.location == location)
                    {
                        continue;
                    }
                    parameters.push(Parameter {
                        name,
                        location: location.clone(),
                        required: location == "path"
                            || p.get("required").and_then(Value::as_bool).unwrap_or(false),
                    });
                }
                let mut responses = BTreeMap::new();
                if let Some(rs) = op.get("responses").and_then(Value::as_object) {
                    for (code, r) in rs {
                        let r = self.resolve(r);
                        let schema = r
                            .get("content")
                            .and_then(Value::as_object)
                            .and_then(|c| {
                                c.iter()
                                    .find(|(ct, _)| ct.contains("json"))
                                    .or_else(|| c.iter().find(|(ct, _)| ct.as_str() == "*/*"))
                            })
                            .and_then(|(_, media)| media.get("schema"))
                            .cloned();
                        responses.insert(code.clone(), schema);
                    }
                }
                out.push(Operation {
                    method: method.to_uppercase(),
                    template: format!("{}{path}", self.prefix),
                    operation_id: op
                        .get("operationId")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    parameters,
                    responses,
                });
            }
        }
        out
    }

    /// The operation for a method and full path template.
    pub fn operation(&self, method: &str, template: &str) -> Option<Operation> {
        self.operations()
            .into_iter()
            .find(|o| o.method == method && o.template == template)
    }

    /// The JSON schema for `status` of `op`: the exact code, else `2XX`, else `default`.
    fn response_schema<'o>(&self, op: &'o Operation, status: u16) -> Result<&'o Value, CheckError> {
        let code = status.to_string();
        let class = format!("{}XX", status / 100);
        let found = op
            .responses
            .get(&code)
            .or_else(|| op.responses.get(&class))
            .or_else(|| op.responses.get("default"));
        match found {
            None => Err(CheckError::UndeclaredStatus(
                op.responses.keys().cloned().collect(),
            )),
            Some(None) => Err(CheckError::NoSchema),
            Some(Some(schema)) => Ok(schema),
        }
    }

    fn validator(&self, key: &str, schema: &Value) -> Result<Arc<Validator>, CheckError> {
        if let Ok(cache) = self.cache.lock()
            && let Some(v) = cache.get(key)
        {
            return Ok(v.clone());
        }
        let mut root = match translate(schema) {
            Value::Object(m) => m,
            other => {
                let mut m = Map::new();
                m.insert("allOf".into(), json!([other]));
                m
            }
        };
        root.insert("$defs".into(), self.defs.clone());
        let validator = jsonschema::options()
            .with_draft(Draft::Draft202012)
            .should_validate_formats(true)
            .should_ignore_unknown_formats(true)
            .build(&Value::Object(root))
            .map_err(|e| CheckError::Schema(e.to_string()))?;
        let validator = Arc::new(validator);
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(key.to_string(), validator.clone());
        }
        Ok(validator)
    }

    /// Checks `body`, the answer `status` of `op`; `Ok` holds every violation (none: valid).
    pub fn check(
        &self,
        op: &Operation,
        status: u16,
        body: &Value,
    ) -> Result<Vec<Violation>, CheckError> {
        let schema = self.response_schema(op, status)?;
        let key = format!("{} {} {status}", op.method, op.template);
        let validator = self.validator(&key, schema)?;
        Ok(validator
            .iter_errors(body)
            .map(|e| Violation {
                path: e.instance_path().to_string(),
                message: e.to_string(),
                keyword: e.schema_path().to_string(),
                got: short(e.instance()),
            })
            .collect())
    }

    /// Properties present in `body` that the schema of `op`/`status` never declares, as JSON
    /// pointers. Advisory: OpenAPI allows them, but a misspelt field shows up here.
    pub fn undeclared(&self, op: &Operation, status: u16, body: &Value) -> Vec<String> {
        let mut out = Vec::new();
        if self.strict
            && let Ok(schema) = self.response_schema(op, status)
        {
            self.walk_undeclared(body, schema, "", &mut out, 0);
        }
        out
    }

    /// Every subschema that applies to a value directly: the schema, its `$ref` target and its
    /// `allOf`/`anyOf`/`oneOf` members, recursively.
    fn flatten<'a>(&'a self, schema: &'a Value, out: &mut Vec<&'a Value>, depth: usize) {
        if depth > 16 {
            return;
        }
        let schema = self.resolve(schema);
        out.push(schema);
        for key in ["allOf", "anyOf", "oneOf"] {
            for member in schema
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                self.flatten(member, out, depth + 1);
            }
        }
    }

    fn walk_undeclared(
        &self,
        value: &Value,
        schema: &Value,
        at: &str,
        out: &mut Vec<String>,
        depth: usize,
    ) {
        if depth > 40 {
            return;
        }
        let mut parts = Vec::new();
        self.flatten(schema, &mut parts, 0);
        match value {
            Value::Object(map) => {
                let open = parts.iter().any(|s| {
                    s.get("additionalProperties")
                        .is_some_and(|a| a != &Value::Bool(false))
                });
                let declares_anything = parts.iter().any(|s| s.get("properties").is_some());
                for (key, v) in map {
                    // Every schema that declares the key applies (allOf members add up).
                    let subs: Vec<Value> = parts
                        .iter()
                        .filter_map(|s| s.get("properties").and_then(|p| p.get(key)))
                        .cloned()
                        .collect();
                    let here = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
                    match subs.len() {
                        1 => self.walk_undeclared(v, &subs[0], &here, out, depth + 1),
                        n if n > 1 => {
                            let all = json!({ "allOf": subs });
                            self.walk_undeclared(v, &all, &here, out, depth + 1);
                        }
                        _ if open => {
                            if let Some(extra) = parts.iter().find_map(|s| {
                                s.get("additionalProperties").filter(|a| a.is_object())
                            }) {
                                self.walk_undeclared(v, extra, &here, out, depth + 1);
                            }
                        }
                        _ if declares_anything => out.push(here),
                        _ => {}
                    }
                }
            }
            Value::Array(items) => {
                if let Some(item_schema) = parts.iter().find_map(|s| s.get("items")) {
                    for (i, v) in items.iter().enumerate() {
                        self.walk_undeclared(v, item_schema, &format!("{at}/{i}"), out, depth + 1);
                    }
                }
            }
            _ => {}
        }
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s
    }
}

/// Rewrites one OpenAPI 3.0 schema as JSON Schema 2020-12 (see the module docs).
pub fn translate(schema: &Value) -> Value {
    let Some(obj) = schema.as_object() else {
        return schema.clone();
    };
    let nullable = obj
        .get("nullable")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
        let target = json!({ "$ref": rewrite_ref(r) });
        return if nullable {
            json!({ "anyOf": [target, { "type": "null" }] })
        } else {
            target
        };
    }
    let mut out = Map::new();
    for (key, value) in obj {
        match key.as_str() {
            "properties" | "patternProperties" => {
                let props = value
                    .as_object()
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| (k.clone(), translate(v)))
                            .collect::<Map<_, _>>()
                    })
                    .unwrap_or_default();
                out.insert(key.clone(), Value::Object(props));
            }
            "items" | "additionalProperties" | "not" => {
                out.insert(key.clone(), translate(value));
            }
            "allOf" | "anyOf" | "oneOf" => {
                let members: Vec<Value> = value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(translate)
                    .collect();
                let name = if key == "oneOf" {
                    "anyOf"
                } else {
                    key.as_str()
                };
                // A schema with both oneOf and anyOf: both must hold.
                if let Some(existing) = out.remove(name) {
                    let all = out.entry("allOf").or_insert_with(|| json!([]));
                    if let Some(all) = all.as_array_mut() {
                        all.push(json!({ "anyOf": existing }));
                        all.push(json!({ "anyOf": members }));
                    }
                } else {
                    out.insert(name.into(), Value::Array(members));
                }
            }
            "nullable" | "discriminator" | "xml" | "example" | "externalDocs" => {}
            k if k.starts_with("x-") => {}
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    if nullable {
        let has_type = out.contains_key("type");
        if let Some(t) = out.get_mut("type") {
            *t = match t.take() {
                Value::String(s) => json!([s, "null"]),
                Value::Array(mut a) => {
                    if !a.contains(&json!("null")) {
                        a.push(json!("null"));
                    }
                    Value::Array(a)
                }
                other => other,
            };
        }
        if let Some(Value::Array(values)) = out.get_mut("enum")
            && !values.contains(&Value::Null)
        {
            values.push(Value::Null);
        }
        if !has_type {
            return json!({ "anyOf": [Value::Object(out), { "type": "null" }] });
        }
    }
    Value::Object(out)
}

fn rewrite_ref(r: &str) -> String {
    match r.strip_prefix("#/components/schemas/") {
        Some(name) => format!("#/$defs/{name}"),
        None => r.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> Spec {
        Spec::from_value(
            json!({
                "openapi": "3.0.1",
                "paths": {
                    "/things": {
                        "get": {
                            "responses": {
                                "200": { "content": { "application/json": { "schema": { "allOf": [
                                    { "$ref": "#/components/schemas/Thing" },
                                    { "type": "object", "properties": { "_links": { "type": "object", "properties": { "base": { "type": "string" } } } } }
                                ] } } } }
                            }
                        }
                    },
                    "/things/{id}": {
                        "parameters": [{ "$ref": "#/components/parameters/id" }],
                        "get": {
                            "operationId": "getThing",
                            "parameters": [{ "name": "expand", "in": "query", "schema": { "type": "string" } }],
                            "responses": {
                                "200": { "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Thing" } } } },
                                "204": { "description": "nothing" },
                                "404": { "$ref": "#/components/responses/NotFound" }
                            }
                        }
                    }
                },
                "components": {
                    "parameters": { "id": { "name": "id", "in": "path", "required": true, "schema": { "type": "string" } } },
                    "responses": { "NotFound": { "content": { "application/json": { "schema": { "type": "object", "required": ["message"] } } } } },
                    "schemas": {
                        "Thing": {
                            "type": "object",
                            "required": ["id", "kind"],
                            "properties": {
                                "id": { "type": "string" },
                                "kind": { "$ref": "#/components/schemas/Kind" },
                                "owner": { "type": "string", "nullable": true },
                                "parent": { "$ref": "#/components/schemas/Thing", "nullable": true },
                                "size": { "type": "integer", "format": "int64" },
                                "when": { "type": "string", "format": "date-time" },
                                "properties": { "type": "array", "items": { "type": "string" } },
                                "value": { "oneOf": [{ "type": "object" }, { "type": "object", "properties": { "a": { "type": "string" } } }] },
                                "colour": { "type": "string", "enum": ["red", "blue"], "nullable": true },
                                "meta": { "allOf": [{ "$ref": "#/components/schemas/Meta" }], "nullable": true },
                                "_links": { "type": "object", "properties": { "self": { "type": "string" } } }
                            }
                        },
                        "Kind": { "type": "string", "enum": ["page", "folder"] },
                        "Meta": { "type": "object", "properties": { "n": { "type": "integer" } } }
                    }
                }
            }),
            "/api",
        )
        .unwrap()
    }

    #[test]
    fn operations_resolve_parameters_and_responses() {
        let s = spec();
        let op = s.operation("GET", "/api/things/{id}").unwrap();
        assert_eq!(op.operation_id, "getThing");
        let names: Vec<(&str, &str, bool)> = op
            .parameters
            .iter()
            .map(|p| (p.name.as_str(), p.location.as_str(), p.required))
            .collect();
        assert_eq!(names, [("expand", "query", false), ("id", "path", true)]);
        assert!(op.responses["200"].is_some());
        assert!(op.responses["204"].is_none());
        assert!(op.responses["404"].is_some());
    }

    #[test]
    fn valid_bodies_pass() {
        let s = spec();
        let op = s.operation("GET", "/api/things/{id}").unwrap();
        let body = json!({
            "id": "1", "kind": "page", "owner": null, "parent": null, "size": 3,
            "when": "2025-01-02T03:04:05.000Z", "properties": ["x"], "value": { "a": "b" },
            "colour": null, "meta": null, "extra": true
        });
        assert_eq!(s.check(&op, 200, &body).unwrap(), []);
        let nested = json!({ "id": "1", "kind": "folder", "parent": { "id": "0", "kind": "page" }, "meta": { "n": 1 } });
        assert_eq!(s.check(&op, 200, &nested).unwrap(), []);
    }

    #[test]
    fn every_violation_is_reported_with_its_path() {
        let s = spec();
        let op = s.operation("GET", "/api/things/{id}").unwrap();
        let body = json!({
            "id": 1, "kind": "blogpost", "owner": 5, "when": "yesterday",
            "parent": { "id": "0" }, "properties": [1], "colour": "green", "meta": { "n": "x" }
        });
        let found = s.check(&op, 200, &body).unwrap();
        let paths: Vec<&str> = found.iter().map(|v| v.path.as_str()).collect();
        for want in [
            "/id",
            "/kind",
            "/owner",
            "/when",
            "/parent",
            "/properties/0",
            "/colour",
            "/meta",
        ] {
            assert!(paths.contains(&want), "no violation at {want}: {found:#?}");
        }
        let id = found.iter().find(|v| v.path == "/id").unwrap();
        assert!(id.message.contains("string"), "{id}");
        assert_eq!(id.got, "1");
    }

    #[test]
    fn statuses_without_schema_or_declaration_are_told_apart() {
        let s = spec();
        let op = s.operation("GET", "/api/things/{id}").unwrap();
        assert_eq!(s.check(&op, 204, &Value::Null), Err(CheckError::NoSchema));
        assert!(matches!(
            s.check(&op, 201, &Value::Null),
            Err(CheckError::UndeclaredStatus(_))
        ));
        assert_eq!(s.check(&op, 404, &json!({})).unwrap().len(), 1);
    }

    #[test]
    fn undeclared_properties_are_listed() {
        let s = spec();
        let op = s.operation("GET", "/api/things/{id}").unwrap();
        let body = json!({ "id": "1", "kind": "page", "titel": "x", "parent": { "id": "2", "kind": "page", "bogus": 1 } });
        assert_eq!(s.undeclared(&op, 200, &body), ["/parent/bogus", "/titel"]);
        // allOf members add up: `_links.base` comes from the second member.
        let list = s.operation("GET", "/api/things").unwrap();
        let body = json!({ "id": "1", "kind": "page", "_links": { "self": "/x", "base": "http://b", "next": "/y" } });
        assert_eq!(s.undeclared(&list, 200, &body), ["/_links/next"]);
        assert_eq!(s.check(&list, 200, &body).unwrap(), []);
    }

    #[test]
    fn translation_handles_nullable_and_refs() {
        assert_eq!(
            translate(&json!({ "type": "string", "nullable": true })),
            json!({ "type": ["string", "null"] })
        );
        assert_eq!(
            translate(&json!({ "$ref": "#/components/schemas/A", "type": "object" })),
            json!({ "$ref": "#/$defs/A" })
        );
        assert_eq!(
            translate(&json!({ "properties": { "nullable": { "type": "boolean" } } })),
            json!({ "properties": { "nullable": { "type": "boolean" } } })
        );
        assert_eq!(
            translate(&json!({ "oneOf": [{ "type": "string" }] })),
            json!({ "anyOf": [{ "type": "string" }] })
        );
    }

    #[test]
    fn other_documents_are_refused() {
        assert!(Spec::from_value(json!({ "swagger": "2.0" }), "").is_err());
    }
}
