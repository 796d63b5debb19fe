//! Tool-call assembly: each delta is correlated to a call by id, else index, else the latest.
//!
//! Every lookup goes through a map, so a reply of n call deltas assembles in O(n). (A scan of
//! all calls per delta made 100,000 calls take about a minute.) The rules are the ones
//! `shared/provider-quirks.md` §4 describes:
//! - a known id continues its call;
//! - a new id adopts the last call opened at its index without an id, else starts a call (a
//!   *different* id on a reused index is a new call: gateways that send every call with index 0);
//! - an index without an id continues the last call at that index;
//! - neither (Gemini, Mistral) continues the latest call, except that several such deltas in
//!   one chunk are separate calls.

use std::collections::HashMap;

use serde_json::{Map, Value};

/// What one call has gathered so far.
#[derive(Debug, Default)]
pub(super) struct CallAcc {
    pub id: Option<String>,
    pub index: Option<i64>,
    pub name: String,
    pub arguments: String,
    pub extra: Map<String, Value>,
}

/// Each call counts this much towards the reply's size besides its text: its bookkeeping is
/// real memory, and a stream of calls that never carry a byte must not grow without bound.
pub(super) const CALL_OVERHEAD: usize = 64;

/// The calls of one reply, in the order they were opened, with the maps that find them.
#[derive(Debug, Default)]
pub(super) struct Calls {
    list: Vec<CallAcc>,
    /// The call holding each id. An id is given only to a call when no call holds it yet, so
    /// each id belongs to exactly one call.
    by_id: HashMap<String, usize>,
    /// The last call, by position, holding each index.
    last_at_index: HashMap<i64, usize>,
    /// Per index, the positions of calls opened with it and no id, ascending. Only the last
    /// call without an id can adopt one, and calls enter only at the end (a call without an
    /// id gets its index when it is opened), so this is a stack; calls that got an id since
    /// are dropped when they come to the top.
    open_at_index: HashMap<i64, Vec<usize>>,
    /// The call legacy `function_call` deltas build.
    legacy: Option<usize>,
    /// Bytes of ids, names, arguments and extra fields, plus [`CALL_OVERHEAD`] per call.
    bytes: usize,
}

impl Calls {
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn list(&self) -> &[CallAcc] {
        &self.list
    }

    pub fn into_list(self) -> Vec<CallAcc> {
        self.list
    }

    /// Applies one entry of `delta.tool_calls`; `pos` of `count` entries in its chunk.
    pub fn apply(&mut self, td: &Value, pos: usize, count: usize) {
        let id = td
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        let index = td.get("index").and_then(Value::as_i64);
        let slot = match (id, index) {
            (Some(id), _) => self
                .by_id
                .get(id)
                .copied()
                .or_else(|| index.and_then(|i| self.open_at(i))),
            (None, Some(i)) => self.last_at_index.get(&i).copied(),
            (None, None) if count > 1 && pos > 0 => None,
            (None, None) => self.list.len().checked_sub(1),
        };
        let slot = slot.unwrap_or_else(|| self.open(index));
        if let Some(id) = id
            && self.list[slot].id.is_none()
        {
            self.list[slot].id = Some(id.to_string());
            self.by_id.entry(id.to_string()).or_insert(slot);
            self.bytes += id.len();
        }
        if let Some(i) = index
            && self.list[slot].index.is_none()
        {
            // Only a call found by its id gets its index late, and it has an id already, so it
            // never belongs on the `open_at_index` stack.
            self.list[slot].index = Some(i);
            self.note_index(slot, i);
        }
        let call = &mut self.list[slot];
        let before = call.name.len() + call.arguments.len();
        if let Some(f) = td.get("function") {
            merge_name(&mut call.name, f.get("name"));
            append_arguments(&mut call.arguments, f.get("arguments"));
        }
        let after = call.name.len() + call.arguments.len();
        self.bytes = self.bytes + after - before;
        if let Some(obj) = td.as_object() {
            for (k, v) in obj {
                if !matches!(k.as_str(), "id" | "index" | "type" | "function") && !v.is_null() {
                    self.bytes += k.len() + json_len(v);
                    if let Some(old) = self.list[slot].extra.insert(k.clone(), v.clone()) {
                        self.bytes -= k.len() + json_len(&old);
                    }
                }
            }
        }
    }

    /// Applies a legacy `delta.function_call`: one call, without id or index.
    pub fn apply_legacy(&mut self, fc: &Value) {
        let slot = match self.legacy {
            Some(slot) => slot,
            None => {
                let slot = self.open(None);
                self.legacy = Some(slot);
                slot
            }
        };
        let call = &mut self.list[slot];
        let before = call.name.len() + call.arguments.len();
        merge_name(&mut call.name, fc.get("name"));
        append_arguments(&mut call.arguments, fc.get("arguments"));
        let after = call.name.len() + call.arguments.len();
        self.bytes = self.bytes + after - before;
    }

    /// Opens a new call at the end, with `index` and no id yet.
    fn open(&mut self, index: Option<i64>) -> usize {
        let slot = self.list.len();
        self.list.push(CallAcc {
            index,
            ..CallAcc::default()
        });
        self.bytes += CALL_OVERHEAD;
        if let Some(i) = index {
            self.note_index(slot, i);
        }
        slot
    }

    fn note_index(&mut self, slot: usize, i: i64) {
        let last = self.last_at_index.entry(i).or_insert(slot);
        *last = (*last).max(slot);
        if self.list[slot].id.is_none() {
            self.open_at_index.entry(i).or_default().push(slot);
        }
    }

    /// The last call at index `i` that has no id yet.
    fn open_at(&mut self, i: i64) -> Option<usize> {
        let stack = self.open_at_index.get_mut(&i)?;
        while let Some(&top) = stack.last() {
            if self.list[top].id.is_none() {
                return Some(top);
            }
            stack.pop();
        }
        None
    }
}

/// Name rule: ignore `""` and identical repeats; a longer name that extends the held one
/// replaces it; anything else is a fragment and is appended.
pub(super) fn merge_name(held: &mut String, incoming: Option<&Value>) {
    let Some(name) = incoming.and_then(Value::as_str).filter(|s| !s.is_empty()) else {
        return;
    };
    if held == name {
        return;
    }
    if name.starts_with(held.as_str()) {
        *held = name.to_string();
    } else {
        held.push_str(name);
    }
}

/// Argument strings are concatenated; an object (llama.cpp, TGI) is serialised to JSON text.
fn append_arguments(held: &mut String, incoming: Option<&Value>) {
    match incoming {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => held.push_str(s),
        Some(other) => held.push_str(&other.to_string()),
    }
}

/// The length of `v` as compact JSON, counted without building the text.
fn json_len(v: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    match serde_json::to_writer(&mut count, v) {
        Ok(()) => count.0,
        Err(_) => 0,
    }
}

#[cfg(test)]
mod tests;
