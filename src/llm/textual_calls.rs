//! Tool calls written as text: recovering them when a server did not parse them.
//!
//! Small local models behind llama.cpp or vLLM often write their tool call into the message
//! text instead of `tool_calls` (their chat template's format is not the one the server's
//! parser expects). When a reply has no structured calls, [`recover`] looks for the common
//! textual forms — a fenced or bare JSON object `{"name": …, "arguments": {…}}`,
//! `<tool_call>{…}</tool_call>`, and Qwen's `<function=NAME><parameter=K>V</parameter>`
//! XML — and turns each one that names a declared tool into a real call, removing the markup
//! from the text. Anything that does not name a declared tool is left alone, so prose that
//! merely shows JSON is not executed. [`strip_partial_markup`] removes the unfinished
//! `<tool_call>` fragment llama.cpp leaks into content before it recognises a call.

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::{Map, Value};

/// Calls found in a text, and the text without them.
#[derive(Debug, Clone, PartialEq)]
pub struct Recovered {
    /// (tool name, arguments as JSON text), in order of appearance.
    pub calls: Vec<(String, String)>,
    pub text: String,
}

/// The compiled forms. Built per call: recovery runs once per reply without structured calls,
/// so compiling four small patterns is noise next to the model's latency.
struct Patterns {
    fenced: Regex,
    tagged: Regex,
    function: Regex,
    parameter: Regex,
}

impl Patterns {
    fn new() -> Option<Patterns> {
        Some(Patterns {
            fenced: Regex::new(r"(?s)```[A-Za-z_]*[ \t]*\r?\n(.*?)```").ok()?,
            tagged: Regex::new(r"(?s)<tool_call>\s*(.*?)\s*</tool_call>").ok()?,
            function: Regex::new(r"(?s)<function=([\w.\-]+)>(.*?)</function>").ok()?,
            parameter: Regex::new(r"(?s)<parameter=([\w.\-]+)>\r?\n?(.*?)\r?\n?</parameter>")
                .ok()?,
        })
    }
}

/// The calls written in `text` that name one of `tools`; `None` when there are none.
pub fn recover(text: &str, tools: &[&str]) -> Option<Recovered> {
    let p = Patterns::new()?;
    let mut calls: Vec<(usize, String, String)> = Vec::new();
    let mut cut = Spans::default();
    // Tagged calls first: their inner JSON or XML must not be matched twice.
    for re in [&p.tagged, &p.fenced] {
        for m in re.captures_iter(text) {
            let (Some(whole), Some(inner)) = (m.get(0), m.get(1)) else {
                continue;
            };
            if cut.overlaps(whole.start(), whole.end()) {
                continue;
            }
            let found =
                json_calls(inner.as_str(), tools).or_else(|| xml_calls(&p, inner.as_str(), tools));
            if let Some(found) = found {
                calls.extend(found.into_iter().map(|(n, a)| (whole.start(), n, a)));
                cut.insert(whole.start(), whole.end());
            }
        }
    }
    for m in p.function.find_iter(text) {
        if cut.overlaps(m.start(), m.end()) {
            continue;
        }
        if let Some(found) = xml_calls(&p, m.as_str(), tools) {
            calls.extend(found.into_iter().map(|(n, a)| (m.start(), n, a)));
            cut.insert(m.start(), m.end());
        }
    }
    if calls.is_empty() {
        // The whole reply may be one bare JSON call.
        let found = json_calls(text.trim(), tools)?;
        return Some(Recovered {
            calls: found,
            text: String::new(),
        });
    }
    calls.sort_by_key(|(at, _, _)| *at);
    let mut rest = String::new();
    let mut from = 0;
    for (s, e) in cut.0 {
        rest.push_str(&text[from..s]);
        from = e;
    }
    rest.push_str(&text[from..]);
    Some(Recovered {
        calls: calls.into_iter().map(|(_, n, a)| (n, a)).collect(),
        text: rest.trim().to_string(),
    })
}

/// The byte ranges of the markup of recovered calls, by start. They never overlap (a match
/// that overlaps one is skipped), so their ends rise with their starts, and whether a new
/// range overlaps any of them shows in the last one that starts before it ends: one map
/// lookup instead of a scan of every range, which made n written calls cost O(n²).
#[derive(Debug, Default)]
struct Spans(BTreeMap<usize, usize>);

impl Spans {
    fn overlaps(&self, start: usize, end: usize) -> bool {
        self.0
            .range(..end)
            .next_back()
            .is_some_and(|(_, &last_end)| start < last_end)
    }

    fn insert(&mut self, start: usize, end: usize) {
        self.0.insert(start, end);
    }
}

/// JSON text holding one call object or an array of them, all naming declared tools.
fn json_calls(text: &str, tools: &[&str]) -> Option<Vec<(String, String)>> {
    let value: Value = serde_json::from_str(text.trim()).ok()?;
    let objects = match value {
        Value::Array(items) => items,
        obj @ Value::Object(_) => vec![obj],
        _ => return None,
    };
    let calls: Option<Vec<_>> = objects.iter().map(|o| json_call(o, tools)).collect();
    calls.filter(|c| !c.is_empty())
}

/// `{"name", "arguments"|"parameters"|"args"|"input"}`, or the same inside `"function"`.
fn json_call(obj: &Value, tools: &[&str]) -> Option<(String, String)> {
    let obj = obj.get("function").filter(|f| f.is_object()).unwrap_or(obj);
    let name = obj
        .get("name")
        .or_else(|| obj.get("tool"))
        .and_then(Value::as_str)?;
    if !tools.contains(&name) {
        return None;
    }
    let args = ["arguments", "parameters", "args", "input"]
        .iter()
        .find_map(|k| obj.get(*k))
        .cloned()
        .unwrap_or_else(|| Value::Object(Map::new()));
    // Some models send the arguments as JSON text inside the JSON.
    let args = match args {
        Value::String(s) => serde_json::from_str::<Value>(&s).ok()?,
        other => other,
    };
    args.is_object()
        .then(|| (name.to_string(), args.to_string()))
}

/// Qwen's `<function=NAME><parameter=KEY>VALUE</parameter>…</function>` calls.
fn xml_calls(p: &Patterns, text: &str, tools: &[&str]) -> Option<Vec<(String, String)>> {
    let mut calls = Vec::new();
    for m in p.function.captures_iter(text) {
        let name = m.get(1)?.as_str();
        if !tools.contains(&name) {
            return None;
        }
        let mut args = Map::new();
        for c in p.parameter.captures_iter(m.get(2)?.as_str()) {
            let (key, raw) = (c.get(1)?.as_str(), c.get(2)?.as_str());
            // Numbers, booleans and nested JSON keep their type; anything else is a string.
            let value = match serde_json::from_str::<Value>(raw) {
                Ok(v) if !v.is_string() => v,
                _ => Value::String(raw.to_string()),
            };
            args.insert(key.to_string(), value);
        }
        calls.push((name.to_string(), Value::Object(args).to_string()));
    }
    (!calls.is_empty()).then_some(calls)
}

/// Text before a structured call may end with the start of the markup the server went on to
/// parse (`<tool_call>`, `<function=get`, …): drop that unfinished tail.
pub fn strip_partial_markup(text: &str) -> &str {
    let cut = ["<tool_call>", "<function="]
        .iter()
        .filter_map(|m| text.rfind(m))
        .min()
        .or_else(|| {
            // A tail that is a prefix of a marker (`<tool_`, `<fun`).
            let at = text.rfind('<')?;
            let tail = &text[at..];
            ["<tool_call>", "<function="]
                .iter()
                .any(|m| m.starts_with(tail))
                .then_some(at)
        });
    match cut {
        Some(at) => text[..at].trim_end(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOOLS: &[&str] = &["bash", "read_file", "write_file"];

    #[test]
    fn a_fenced_json_call_is_recovered_and_its_markup_removed() {
        let text = "I'll list the files.\n```json\n{\"name\": \"bash\", \"arguments\": {\"command\": \"ls\"}}\n```";
        let r = recover(text, TOOLS).unwrap();
        assert_eq!(
            r.calls,
            [("bash".to_string(), r#"{"command":"ls"}"#.to_string())]
        );
        assert_eq!(r.text, "I'll list the files.");
    }

    #[test]
    fn tool_call_tags_arrays_parameters_and_string_arguments_are_understood() {
        let text = "<tool_call>\n{\"name\": \"read_file\", \"parameters\": {\"file_path\": \"a.py\"}}\n</tool_call>\n<tool_call>{\"function\": {\"name\": \"bash\", \"arguments\": \"{\\\"command\\\": \\\"pwd\\\"}\"}}</tool_call>";
        let r = recover(text, TOOLS).unwrap();
        assert_eq!(r.calls.len(), 2);
        assert_eq!(
            r.calls[0],
            ("read_file".into(), r#"{"file_path":"a.py"}"#.into())
        );
        assert_eq!(r.calls[1], ("bash".into(), r#"{"command":"pwd"}"#.into()));
        assert_eq!(r.text, "");
        let arr = "```\n[{\"name\": \"bash\", \"arguments\": {\"command\": \"a\"}}, {\"name\": \"bash\", \"arguments\": {\"command\": \"b\"}}]\n```";
        assert_eq!(recover(arr, TOOLS).unwrap().calls.len(), 2);
    }

    #[test]
    fn qwen_function_xml_is_recovered_with_typed_values() {
        let text = "<tool_call>\n<function=write_file>\n<parameter=file_path>\nout.txt\n</parameter>\n<parameter=content>\nline 1\nline 2\n</parameter>\n</function>\n</tool_call>";
        let r = recover(text, TOOLS).unwrap();
        assert_eq!(r.calls[0].0, "write_file");
        let args: Value = serde_json::from_str(&r.calls[0].1).unwrap();
        assert_eq!(args["file_path"], "out.txt");
        assert_eq!(args["content"], "line 1\nline 2");
        let bare = "<function=bash><parameter=command>sleep 1</parameter><parameter=timeout>5</parameter></function>";
        let args: Value = serde_json::from_str(&recover(bare, TOOLS).unwrap().calls[0].1).unwrap();
        assert_eq!(args["timeout"], 5);
    }

    #[test]
    fn a_bare_json_reply_is_a_call_but_json_that_names_no_tool_is_left_alone() {
        let r = recover(
            " {\"name\": \"bash\", \"arguments\": {\"command\": \"ls\"}} ",
            TOOLS,
        )
        .unwrap();
        assert_eq!(r.calls[0].0, "bash");
        assert_eq!(
            recover("```json\n{\"name\": \"Ada\", \"age\": 36}\n```", TOOLS),
            None
        );
        assert_eq!(
            recover("{\"name\": \"rm_everything\", \"arguments\": {}}", TOOLS),
            None
        );
        assert_eq!(recover("Plain answer with no calls.", TOOLS), None);
        assert_eq!(recover("```rust\nfn main() {}\n```", TOOLS), None);
    }

    #[test]
    fn arguments_that_are_not_an_object_are_not_a_call() {
        assert_eq!(
            recover("{\"name\": \"bash\", \"arguments\": [1, 2]}", TOOLS),
            None
        );
        assert_eq!(
            recover("{\"name\": \"bash\", \"arguments\": \"not json\"}", TOOLS),
            None
        );
    }

    #[test]
    fn partial_markup_before_a_structured_call_is_stripped() {
        assert_eq!(
            strip_partial_markup("Let me check.\n<tool_call>\n<function=get"),
            "Let me check."
        );
        assert_eq!(
            strip_partial_markup("Let me check. <tool_"),
            "Let me check."
        );
        assert_eq!(strip_partial_markup("a < b is true"), "a < b is true");
        assert_eq!(strip_partial_markup("No markup."), "No markup.");
    }

    #[test]
    fn spans_overlap_only_where_ranges_share_a_byte() {
        let mut spans = Spans::default();
        spans.insert(10, 20);
        spans.insert(30, 40);
        for (start, end, overlaps) in [
            (0, 10, false),
            (0, 11, true),
            (19, 30, true),
            (20, 30, false),
            (25, 35, true),
            (31, 32, true),
            (0, 50, true),
            (40, 50, false),
            (12, 18, true),
        ] {
            assert_eq!(spans.overlaps(start, end), overlaps, "{start}..{end}");
        }
    }

    /// 100,000 written calls (5 MiB, within what the reply limit lets through): each one was
    /// checked against every call before it, minutes in a debug build; now a few seconds.
    #[test]
    fn many_written_calls_are_recovered_in_linear_time() {
        const N: usize = 100_000;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let text = "<tool_call>{\"name\":\"bash\",\"arguments\":{}}</tool_call>\n".repeat(N);
            let _ = tx.send(recover(&text, TOOLS).map(|r| (r.calls.len(), r.text)));
        });
        let recovered = rx
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("recovered within 20 s");
        assert_eq!(recovered, Some((N, String::new())));
    }
}
