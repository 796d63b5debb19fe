//! What providers accept, made from what servers send (pure): tool names of at most 64
//! characters of `[A-Za-z0-9_-]`, unique across servers, and input schemas without the
//! constructs OpenAI-compatible endpoints reject.
//!
//! Servers are written for other clients: the TypeScript SDK puts `$schema` in every schema,
//! Python servers use `anyOf` with `null` for optional fields, output schemas carry `$defs` and
//! `$ref`. Strict providers refuse the whole request over one of these, so every schema is
//! cleaned here before it is offered.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

/// Providers' limit on a function name (OpenAI, DeepSeek, Qwen).
pub const MAX_NAME: usize = 64;

/// `mcp__<server>__<tool>` cleaned to `[A-Za-z0-9_-]`; a name over 64 characters, or one already
/// `taken`, is cut and ends in `_` plus 8 hex digits of a hash of the full name, so two long
/// names that share their first 55 characters still differ.
pub fn tool_name(server: &str, tool: &str, taken: &BTreeSet<String>) -> String {
    let full = format!("mcp__{}__{}", clean(server), clean(tool));
    if full.len() <= MAX_NAME && !taken.contains(&full) {
        return full;
    }
    let raw = format!("{server}\u{0}{tool}");
    for salt in 0u32.. {
        let hash = blake3::hash(format!("{raw}\u{0}{salt}").as_bytes()).to_hex();
        let suffix = &hash.as_str()[..8];
        let keep = full.len().min(MAX_NAME - 9);
        let name = format!("{}_{suffix}", &full[..keep]);
        if !taken.contains(&name) {
            return name;
        }
    }
    full
}

/// Every character outside `[A-Za-z0-9_-]` becomes `_` (the result is ASCII, so cutting it at
/// any byte is safe).
fn clean(part: &str) -> String {
    part.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A server's `inputSchema` as providers accept it: an object schema at the top with
/// `properties`; no `$schema`, `$id`, `$defs`/`definitions` (each `$ref` into them is inlined,
/// once per path, so a recursive type ends in an open schema); `anyOf`/`oneOf` with a `null`
/// branch reduced to the other branch; `items` present for every array.
pub fn clean_schema(schema: Option<&Value>) -> Value {
    let root = schema.cloned().unwrap_or_else(|| json!({}));
    let defs = definitions(&root);
    let mut cleaned = clean_node(&root, &defs, &mut Vec::new());
    let Value::Object(map) = &mut cleaned else {
        return json!({"type": "object", "properties": {}});
    };
    map.insert("type".into(), json!("object"));
    if !map.get("properties").is_some_and(Value::is_object) {
        map.insert("properties".into(), json!({}));
    }
    if map.get("required").is_some_and(|r| !r.is_array()) {
        map.remove("required");
    }
    cleaned
}

fn definitions(root: &Value) -> Map<String, Value> {
    let mut all = Map::new();
    for key in ["$defs", "definitions"] {
        if let Some(Value::Object(defs)) = root.get(key) {
            for (name, def) in defs {
                all.insert(format!("#/{key}/{name}"), def.clone());
            }
        }
    }
    all
}

const DROPPED: &[&str] = &["$schema", "$id", "$defs", "definitions", "$comment"];

fn clean_node(node: &Value, defs: &Map<String, Value>, seen: &mut Vec<String>) -> Value {
    match node {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                if seen.contains(target) {
                    return json!({});
                }
                let Some(def) = defs.get(target) else {
                    return json!({});
                };
                seen.push(target.clone());
                let inlined = clean_node(def, defs, seen);
                seen.pop();
                return inlined;
            }
            for key in ["anyOf", "oneOf"] {
                if let Some(one) = single_non_null(map.get(key)) {
                    let mut rest = map.clone();
                    rest.remove(key);
                    let mut merged = clean_node(one, defs, seen);
                    if let Value::Object(m) = &mut merged {
                        for (k, v) in rest {
                            m.entry(k).or_insert(v);
                        }
                    }
                    return clean_node(&merged, defs, seen);
                }
            }
            let mut out = Map::new();
            for (k, v) in map {
                if DROPPED.contains(&k.as_str()) {
                    continue;
                }
                // Property names are data, not schema keywords: clean their values only.
                let cleaned = if k == "properties" {
                    match v {
                        Value::Object(props) => Value::Object(
                            props
                                .iter()
                                .map(|(name, s)| (name.clone(), clean_node(s, defs, seen)))
                                .collect(),
                        ),
                        _ => json!({}),
                    }
                } else {
                    clean_node(v, defs, seen)
                };
                out.insert(k.clone(), cleaned);
            }
            let is_array = match out.get("type") {
                Some(Value::String(t)) => t == "array",
                Some(Value::Array(ts)) => ts.iter().any(|t| t == "array"),
                _ => false,
            };
            if is_array && !out.contains_key("items") {
                out.insert("items".into(), json!({}));
            }
            // `type: ["string", "null"]` is another spelling of an optional field.
            if let Some(Value::Array(types)) = out.get("type") {
                let kept: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
                if kept.len() == 1 {
                    out.insert("type".into(), kept[0].clone());
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => {
            Value::Array(items.iter().map(|i| clean_node(i, defs, seen)).collect())
        }
        other => other.clone(),
    }
}

/// The one branch of an `anyOf`/`oneOf` that is not `{"type": "null"}`, when there is exactly one.
fn single_non_null(branches: Option<&Value>) -> Option<&Value> {
    let Value::Array(branches) = branches? else {
        return None;
    };
    let non_null: Vec<&Value> = branches
        .iter()
        .filter(|b| b.get("type").and_then(Value::as_str) != Some("null"))
        .collect();
    (non_null.len() == 1 && branches.len() > 1).then(|| non_null[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cleaned_prefixed_and_kept_when_short() {
        let none = BTreeSet::new();
        assert_eq!(
            tool_name("time", "get_current_time", &none),
            "mcp__time__get_current_time"
        );
        assert_eq!(
            tool_name("my.srv", "do it/now", &none),
            "mcp__my_srv__do_it_now"
        );
        assert_eq!(tool_name("é", "get-env", &none), "mcp_____get-env");
    }

    #[test]
    fn long_or_taken_names_are_cut_with_a_hash_and_stay_unique() {
        let long = "x".repeat(100);
        let mut taken = BTreeSet::new();
        let a = tool_name("srv", &long, &taken);
        assert!(a.len() <= MAX_NAME && a.starts_with("mcp__srv__xxx"), "{a}");
        taken.insert(a.clone());
        let b = tool_name("srv", &format!("{long}y"), &taken);
        assert_ne!(a, b);
        assert!(b.len() <= MAX_NAME);
        // Two servers whose names clean to the same text.
        let c = tool_name("a.b", "t", &taken);
        taken.insert(c.clone());
        let d = tool_name("a_b", "t", &taken);
        assert_eq!(c, "mcp__a_b__t");
        assert_ne!(c, d);
        assert!(
            d.chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-')
        );
    }

    #[test]
    fn schemas_lose_what_providers_reject() {
        let schema = json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "properties": {
                "tags": {"type": "array"},
                "when": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null, "title": "When"},
                "kind": {"type": ["integer", "null"]},
                "item": {"$ref": "#/$defs/Item"}
            },
            "$defs": {"Item": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Item"}}}}
        });
        let out = clean_schema(Some(&schema));
        assert!(out.get("$schema").is_none() && out.get("$defs").is_none());
        let props = &out["properties"];
        assert_eq!(props["tags"]["items"], json!({}));
        assert_eq!(props["when"]["type"], "string");
        assert_eq!(props["when"]["title"], "When");
        assert!(props["when"].get("anyOf").is_none());
        assert_eq!(props["kind"]["type"], "integer");
        assert_eq!(props["item"]["type"], "object");
        assert_eq!(props["item"]["properties"]["next"], json!({}));
        assert!(!out.to_string().contains("$ref"));
    }

    #[test]
    fn a_missing_or_odd_schema_becomes_an_empty_object_schema() {
        assert_eq!(
            clean_schema(None),
            json!({"type": "object", "properties": {}})
        );
        assert_eq!(
            clean_schema(Some(&json!("nonsense"))),
            json!({"type": "object", "properties": {}})
        );
        let out = clean_schema(Some(&json!({"type": "object", "required": "x"})));
        assert_eq!(out, json!({"type": "object", "properties": {}}));
    }
}
