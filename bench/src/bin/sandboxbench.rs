//! `sandboxbench`: the per-command cost of the kernel sandbox.
//!
//! Spawns `SHELL -c true` (default `/bin/sh`) RUNS times (default 300) per configuration,
//! interleaved round-robin so machine noise hits every configuration alike, and prints the
//! median and 90th percentile wall time of spawn-to-reap in milliseconds, the median CPU time
//! (user + system) of the child itself (steadier on a busy machine: the spawn hook runs in the
//! child), and the median added cost against the unsandboxed spawn. Configurations: unsandboxed; Landlock + seccomp
//! only; plus the read-only mount namespace (network on); plus a private network namespace
//! (network off, the default). The one-off `Prepared::new` time is printed too.
//!
//! Usage: `sandboxbench [RUNS] [SHELL]`; `sandboxbench check` prints the self-test of the
//! default policy instead (useful under `setpriv --reuid=65534 …` to see the non-root tier).

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use corecoder::sandbox::{Prepared, SandboxMode, SandboxPolicy};

fn percentile(v: &[f64], p: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runs: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(300);
    let shell = args.get(2).cloned().unwrap_or_else(|| "/bin/sh".into());
    let ws = tempfile::tempdir_in("/var/tmp").expect("a workspace under /var/tmp");
    let env = |k: &str| std::env::var(k).ok();
    let home = std::env::var_os("HOME");
    let base = SandboxPolicy::new(
        SandboxMode::WorkspaceWrite,
        ws.path(),
        home.as_deref().map(Path::new),
        &env,
        &[],
        &[],
    );
    if args.get(1).map(String::as_str) == Some("check") {
        let sb = Prepared::new(&base).expect("the sandbox prepares");
        let report = corecoder::sandbox::check(&sb, None).expect("the self-test runs");
        print!("{report}");
        return;
    }
    let configs: Vec<(&str, Option<SandboxPolicy>)> = vec![
        ("unsandboxed", None),
        (
            "landlock+seccomp",
            Some(base.clone().with_namespaces(false)),
        ),
        (
            "+ mount ns (network on)",
            Some(base.clone().with_network(true)),
        ),
        ("+ mount ns + net ns (default)", Some(base)),
    ];
    let mut prepared: Vec<(&str, Option<Arc<Prepared>>)> = Vec::new();
    for (name, policy) in configs {
        let sb = policy.map(|p| {
            let t = Instant::now();
            let sb = Prepared::new(&p).expect("the sandbox prepares");
            println!(
                "{name}: Prepared::new {:.2} ms, tier {}, net ns {}",
                t.elapsed().as_secs_f64() * 1e3,
                sb.tier,
                sb.net_ns
            );
            Arc::new(sb)
        });
        prepared.push((name, sb));
    }
    let mut samples: Vec<Vec<f64>> = vec![Vec::with_capacity(runs); prepared.len()];
    let mut cpu: Vec<Vec<f64>> = vec![Vec::with_capacity(runs); prepared.len()];
    for round in 0..runs + 20 {
        for (i, (_, sb)) in prepared.iter().enumerate() {
            let mut cmd = Command::new(&shell);
            cmd.arg("-c").arg("true").current_dir(ws.path());
            cmd.stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            if let Some(sb) = sb {
                sb.install_std(&mut cmd);
            }
            let cpu_before = children_cpu_ms();
            let t = Instant::now();
            let status = cmd.status().expect("spawn");
            let ms = t.elapsed().as_secs_f64() * 1e3;
            assert!(status.success());
            // The first rounds warm the page cache and are not counted.
            if round >= 20 {
                samples[i].push(ms);
                cpu[i].push(children_cpu_ms() - cpu_before);
            }
        }
    }
    let base_median = percentile(&samples[0], 0.5);
    let base_cpu = percentile(&cpu[0], 0.5);
    println!("{runs} × `{shell} -c true`, ms (wall: spawn to reap; cpu: the child's user+sys):");
    println!(
        "{:<32} {:>8} {:>8} {:>10} {:>8} {:>10}",
        "configuration", "wall", "p90", "added", "cpu", "added"
    );
    for (((name, _), s), c) in prepared.iter().zip(&samples).zip(&cpu) {
        let med = percentile(s, 0.5);
        let cmed = percentile(c, 0.5);
        println!(
            "{name:<32} {med:>8.3} {:>8.3} {:>+10.3} {cmed:>8.3} {:>+10.3}",
            percentile(s, 0.9),
            med - base_median,
            cmed - base_cpu
        );
    }
}

/// User + system CPU time of all reaped children so far, in milliseconds.
fn children_cpu_ms() -> f64 {
    // SAFETY: getrusage fills the zeroed struct.
    let usage = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut u);
        u
    };
    let ms = |t: libc::timeval| t.tv_sec as f64 * 1e3 + t.tv_usec as f64 / 1e3;
    ms(usage.ru_utime) + ms(usage.ru_stime)
}
