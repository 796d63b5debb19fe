//! `hookbench`: what hooks add to one tool call, measured in-process through the dispatcher.
//!
//! Times a `read_file` call of a small file (a cheap tool, so the hook's cost stands out)
//! with no hooks, with a `PreToolUse` hook whose matcher does not match, with one matching
//! `PreToolUse` hook (`exit 0`), and with matching `PreToolUse` + `PostToolUse` hooks; prints
//! the median wall time per call in milliseconds and the difference to no hooks. The runs are
//! interleaved so machine noise spreads over all cases alike.
//!
//! Usage: `hookbench [RUNS]` (default 200).

use std::sync::Arc;
use std::time::{Duration, Instant};

use corecoder::dispatch::Dispatcher;
use corecoder::hooks::{HookDef, HookEvent, Hooks, Matcher};
use corecoder::message::{FunctionCall, ToolCall};
use corecoder::permissions::Permissions;
use corecoder::policy::{Mode, Workspace};
use corecoder::tools::{ToolContext, Toolbox};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn hook(event: HookEvent, matcher: &str) -> HookDef {
    HookDef {
        event,
        matcher: Matcher::parse(matcher).expect("matcher"),
        command: "exit 0".into(),
        timeout: Duration::from_secs(10),
        origin: "hookbench".into(),
    }
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("small.txt");
    std::fs::write(&file, "one line\n").expect("file");
    let dispatcher = |defs: Vec<HookDef>| {
        let ws = Workspace::new(dir.path(), None);
        let permissions = Permissions::new(Mode::Default, Default::default(), ws);
        let hooks = Hooks::new(defs, Vec::new(), dir.path().to_path_buf());
        Dispatcher::new(Arc::new(permissions), None, Vec::new()).with_hooks(Arc::new(hooks))
    };
    let cases = [
        ("no hooks", dispatcher(Vec::new())),
        (
            "PreToolUse, not matching",
            dispatcher(vec![hook(HookEvent::PreToolUse, "bash")]),
        ),
        (
            "PreToolUse `exit 0`",
            dispatcher(vec![hook(HookEvent::PreToolUse, "read_file")]),
        ),
        (
            "PreToolUse + PostToolUse",
            dispatcher(vec![
                hook(HookEvent::PreToolUse, "*"),
                hook(HookEvent::PostToolUse, "*"),
            ]),
        ),
    ];
    let tools = Toolbox::basic();
    let call = ToolCall {
        id: "c1".into(),
        kind: "function".into(),
        function: FunctionCall {
            name: "read_file".into(),
            arguments: serde_json::json!({ "file_path": file }).to_string(),
        },
        extra: Default::default(),
    };
    let ctx = ToolContext::new(dir.path().to_path_buf(), Arc::new(|_| {}));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut samples = vec![Vec::with_capacity(runs); cases.len()];
    runtime.block_on(async {
        for round in 0..runs + 10 {
            for (i, (_, d)) in cases.iter().enumerate() {
                let t = Instant::now();
                let out = d
                    .run(tools.get("read_file"), &tools.names(), &call, &ctx)
                    .await
                    .expect("not stopped");
                assert!(!out.is_error, "{}", out.text);
                // The first rounds warm caches and the runtime.
                if round >= 10 {
                    samples[i].push(t.elapsed().as_secs_f64() * 1e3);
                }
            }
        }
    });
    let medians: Vec<f64> = samples.into_iter().map(median).collect();
    println!("read_file through the dispatcher, median of {runs} calls (ms):");
    for ((name, _), m) in cases.iter().zip(&medians) {
        println!("  {name:<28} {m:>8.3}  (+{:.3})", m - medians[0]);
    }
}
