use std::time::Duration;

use serde_json::json;

use super::*;

/// The rules as they were written before the maps: a scan of every call per delta. Kept as the
/// reference the maps must agree with.
#[derive(Default)]
struct Reference {
    calls: Vec<CallAcc>,
    legacy: Option<usize>,
}

impl Reference {
    fn apply(&mut self, td: &Value, pos: usize, count: usize) {
        let id = td
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        let index = td.get("index").and_then(Value::as_i64);
        let slot = match (id, index) {
            (Some(id), _) => self
                .calls
                .iter()
                .position(|c| c.id.as_deref() == Some(id))
                .or_else(|| {
                    index.and_then(|i| {
                        self.calls
                            .iter()
                            .rposition(|c| c.index == Some(i) && c.id.is_none())
                    })
                }),
            (None, Some(i)) => self.calls.iter().rposition(|c| c.index == Some(i)),
            (None, None) if count > 1 && pos > 0 => None,
            (None, None) => self.calls.len().checked_sub(1),
        };
        let slot = slot.unwrap_or_else(|| {
            self.calls.push(CallAcc {
                index,
                ..CallAcc::default()
            });
            self.calls.len() - 1
        });
        let call = &mut self.calls[slot];
        if call.id.is_none() {
            call.id = id.map(str::to_string);
        }
        if call.index.is_none() {
            call.index = index;
        }
        if let Some(f) = td.get("function") {
            merge_name(&mut call.name, f.get("name"));
            append_arguments(&mut call.arguments, f.get("arguments"));
        }
    }

    fn apply_legacy(&mut self, fc: &Value) {
        let slot = *self.legacy.get_or_insert_with(|| {
            self.calls.push(CallAcc::default());
            self.calls.len() - 1
        });
        let call = &mut self.calls[slot];
        merge_name(&mut call.name, fc.get("name"));
        append_arguments(&mut call.arguments, fc.get("arguments"));
    }
}

fn summary(calls: &[CallAcc]) -> Vec<(Option<String>, Option<i64>, String, String)> {
    calls
        .iter()
        .map(|c| (c.id.clone(), c.index, c.name.clone(), c.arguments.clone()))
        .collect()
}

/// A small deterministic generator (xorshift), so a failure is reproducible from its seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// A random tool-call delta drawn from few ids and indices, so they collide often.
fn random_delta(rng: &mut Rng, step: usize) -> Value {
    let mut td = json!({});
    match rng.below(5) {
        0 => {}
        1 => td["id"] = json!(""),
        n => td["id"] = json!(format!("id{}", rng.below(n + 1))),
    }
    if rng.below(3) > 0 {
        td["index"] = json!(rng.below(3));
    }
    let name = ["", "f", "fo", "g"][rng.below(4) as usize];
    if rng.below(2) == 0 {
        td["function"] = json!({"name": name, "arguments": format!("a{step}")});
    }
    td
}

#[test]
fn maps_correlate_exactly_as_the_scanning_rules_on_random_streams() {
    for seed in 1..3000u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let (mut calls, mut reference) = (Calls::default(), Reference::default());
        for step in 0..rng.below(16) as usize {
            if rng.below(12) == 0 {
                let fc = json!({"name": "legacy", "arguments": format!("l{step}")});
                calls.apply_legacy(&fc);
                reference.apply_legacy(&fc);
                continue;
            }
            let count = 1 + rng.below(3) as usize;
            let deltas: Vec<Value> = (0..count).map(|_| random_delta(&mut rng, step)).collect();
            for (pos, td) in deltas.iter().enumerate() {
                calls.apply(td, pos, count);
                reference.apply(td, pos, count);
            }
        }
        assert_eq!(
            summary(calls.list()),
            summary(&reference.calls),
            "seed {seed}"
        );
    }
}

#[test]
fn size_counts_ids_names_arguments_extras_and_each_call() {
    let mut calls = Calls::default();
    calls.apply(
        &json!({"index":0,"id":"c1","function":{"name":"read","arguments":"{\"a\""}}),
        0,
        1,
    );
    assert_eq!(calls.bytes(), CALL_OVERHEAD + 2 + 4 + 4);
    // A name that extends the held one replaces it; the extra field is counted once even when
    // it is sent again.
    let more = json!({"index":0,"function":{"name":"read_file","arguments":":1}"},"sig":"xy"});
    calls.apply(&more, 0, 1);
    calls.apply(&json!({"index":0,"sig":"xy"}), 0, 1);
    assert_eq!(calls.bytes(), CALL_OVERHEAD + 2 + 9 + 7 + 3 + 4);
    // Calls that never carry a byte still count.
    for i in 1..=10 {
        calls.apply(&json!({"index": i}), 0, 1);
    }
    assert_eq!(calls.bytes(), 11 * CALL_OVERHEAD + 2 + 9 + 7 + 3 + 4);
}

/// 100,000 calls, each opened by its id and continued by its index, as one big parallel reply
/// would stream them. The scanning rules took about a minute for this in a release build; the
/// maps take a fraction of a second even in a debug build, so ten seconds is far from both.
#[test]
fn a_hundred_thousand_calls_assemble_in_linear_time() {
    const N: usize = 100_000;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut calls = Calls::default();
        for i in 0..N {
            let open = json!({"index": i, "id": format!("call_{i}"),
                              "function": {"name": "bash", "arguments": "{\"command\":"}});
            calls.apply(&open, 0, 1);
            calls.apply(
                &json!({"index": i, "function": {"arguments": "\"true\"}"}}),
                0,
                1,
            );
        }
        let _ = tx.send(calls);
    });
    let calls = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("100,000 calls assembled within 10 s");
    let list = calls.list();
    assert_eq!(list.len(), N);
    assert_eq!(list[N - 1].id.as_deref(), Some("call_99999"));
    assert!(
        list.iter()
            .enumerate()
            .all(|(i, c)| c.index == Some(i as i64) && c.arguments == r#"{"command":"true"}"#)
    );
}
