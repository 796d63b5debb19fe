//! `policybench`: the cost of the permission decision per tool call, measured in-process.
//!
//! For a shell script of N simple commands (200 by default) it times, many times over, the
//! dangerous-command gate alone (what every `bash` call already paid before the permission
//! policy existed) and the whole decision (`Permissions::decide`: the gate, splitting into
//! simple commands, rules per sub-command, redirect targets), and prints the medians and the
//! added cost in microseconds. Also a one-command call and an `edit_file` call.
//!
//! Usage: `policybench [N] [RUNS]`.

use std::time::Instant;

use corecoder::permissions::Permissions;
use corecoder::policy::command_safety;
use corecoder::policy::{Action, Mode, Rule, RuleKind, Rules, Source, Workspace};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Median microseconds of `f` over `runs` runs.
fn time(runs: usize, mut f: impl FnMut()) -> f64 {
    for _ in 0..runs.min(20) {
        f();
    }
    let samples = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    median(samples)
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n = args.first().copied().unwrap_or(200);
    let runs = args.get(1).copied().unwrap_or(500);
    let dir = std::env::temp_dir().join(format!("policybench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let mut rules = Rules::default();
    for r in [
        "bash(cargo test:*)",
        "bash(git status)",
        "bash(echo:*)",
        "bash(ls:*)",
        "bash(wc:*)",
        "edit_file(src/**)",
    ] {
        let rule = Rule::parse(r).expect("rule");
        rules.add(RuleKind::Allow, rule, Source::CommandLine);
    }
    rules.add(
        RuleKind::Deny,
        Rule::parse("bash(git push:*)").expect("rule"),
        Source::CommandLine,
    );
    let permissions = Permissions::new(Mode::Default, rules, Workspace::new(&dir, None));
    let parts = [
        "cargo test --release",
        "git status",
        "echo built > out.txt",
        "ls -la | wc -l",
    ];
    let script: Vec<&str> = (0..n).map(|i| parts[i % parts.len()]).collect();
    let script = script.join(" && ");
    let exec = |command: &str| Action::Exec {
        command: command.to_string(),
        cwd: dir.clone(),
    };
    let long = exec(&script);
    let short = exec("cargo test --release");
    let edit = Action::Edit {
        paths: vec![dir.join("src/main.rs")],
    };
    let gate_long = time(runs, || {
        std::hint::black_box(command_safety::check(&script));
    });
    let decide_long = time(runs, || {
        std::hint::black_box(permissions.decide("bash", &long));
    });
    let gate_short = time(runs * 10, || {
        std::hint::black_box(command_safety::check("cargo test --release"));
    });
    let decide_short = time(runs * 10, || {
        std::hint::black_box(permissions.decide("bash", &short));
    });
    let decide_edit = time(runs * 10, || {
        std::hint::black_box(permissions.decide("edit_file", &edit));
    });
    println!(
        "script of {n} simple commands ({} bytes), medians of {runs} runs:",
        script.len()
    );
    println!("  gate alone          {gate_long:9.1} µs");
    println!("  whole decision      {decide_long:9.1} µs");
    println!("  added by the policy {:9.1} µs", decide_long - gate_long);
    println!(
        "one command (`cargo test --release`), medians of {} runs:",
        runs * 10
    );
    println!("  gate alone          {gate_short:9.2} µs");
    println!("  whole decision      {decide_short:9.2} µs");
    println!("  added by the policy {:9.2} µs", decide_short - gate_short);
    println!("edit_file of src/main.rs: whole decision {decide_edit:.2} µs");
    println!(
        "decision for the long script: {:?}",
        permissions.decide("bash", &long)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
