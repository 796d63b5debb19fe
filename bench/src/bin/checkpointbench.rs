//! `checkpointbench`: the undo checkpoints' costs (issue 11) on a generated tree of 10,000
//! files / 150 MB in 1,000 directories (under /tmp, deleted after), and on a real repository
//! (read only; its ignored `target/` is what the walk must skip).
//!
//! Usage: `checkpointbench [REPO]` (REPO defaults to the current directory), or
//! `checkpointbench --profile-quiet [TREE]` (300 quiet snapshots, wall and CPU time each, for
//! `perf`). Prints medians:
//! the first snapshot (fresh store), a round that changed nothing, a round that changed 3
//! files (and what it added to the store against the bytes of those files), and the preview
//! and restore of a turn that changed 100 files.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use corecoder::checkpoint::{Limits, SessionHistory, Store, TurnStart};

const DIRS: (usize, usize, usize) = (10, 10, 10);
const FILES_PER_DIR: usize = 10;
const MIN_SIZE: usize = 5_000;
const MAX_SIZE: usize = 25_000;
const FIRST_RUNS: usize = 3;
const ROUND_RUNS: usize = 15;
const RESTORE_RUNS: usize = 5;

/// xorshift64*: reproducible content without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            out.extend_from_slice(&self.next().to_le_bytes());
        }
        out.truncate(len);
        out
    }
}

fn file_path(root: &Path, n: usize) -> PathBuf {
    let (d, f) = (n / FILES_PER_DIR, n % FILES_PER_DIR);
    root.join(format!("d{}/d{}/d{}/f{f}.dat", d / 100, d / 10 % 10, d % 10))
}

fn generate(root: &Path, rng: &mut Rng) -> u64 {
    let files = DIRS.0 * DIRS.1 * DIRS.2 * FILES_PER_DIR;
    let mut total = 0;
    for n in 0..files {
        let path = file_path(root, n);
        if n % FILES_PER_DIR == 0 {
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        }
        let len = MIN_SIZE + (rng.next() as usize) % (MAX_SIZE - MIN_SIZE);
        std::fs::write(&path, rng.bytes(len)).expect("write");
        total += len as u64;
    }
    total
}

/// Rewrites `count` files spread over the tree; returns their new total size.
fn change(root: &Path, rng: &mut Rng, count: usize) -> u64 {
    let files = DIRS.0 * DIRS.1 * DIRS.2 * FILES_PER_DIR;
    let mut total = 0;
    for _ in 0..count {
        let n = (rng.next() as usize) % files;
        let len = MIN_SIZE + (rng.next() as usize) % (MAX_SIZE - MIN_SIZE);
        std::fs::write(file_path(root, n), rng.bytes(len)).expect("rewrite");
        total += len as u64;
    }
    total
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn begin(hist: &mut SessionHistory) {
    hist.begin_turn(TurnStart {
        prompt: "bench",
        history_len: 0,
    })
    .expect("begin_turn");
}

fn apparent_store(root: &Path) -> u64 {
    fn walk(p: &Path) -> u64 {
        std::fs::read_dir(p)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| match e.metadata() {
                Ok(m) if m.is_dir() => walk(&e.path()),
                Ok(m) => m.len(),
                Err(_) => 0,
            })
            .sum()
    }
    walk(root)
}

fn generated(base: &Path) {
    let tree = base.join("tree");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let t = Instant::now();
    let bytes = generate(&tree, &mut rng);
    println!(
        "generated tree: 10000 files, {:.1} MB, 1000 dirs in {}",
        bytes as f64 / 1e6,
        ms(t.elapsed())
    );
    std::thread::sleep(Duration::from_millis(200));

    let mut firsts = Vec::new();
    let mut first_store = 0;
    for i in 0..FIRST_RUNS {
        let dir = base.join(format!("store-first-{i}"));
        let store = Store::open(&dir, Limits::default()).expect("store");
        let mut hist = store.session("first", &tree).expect("session");
        let t = Instant::now();
        hist.snapshot().expect("snapshot");
        firsts.push(t.elapsed());
        first_store = store.size().expect("size").bytes;
    }
    // Deleted only now: ext4 is slow to create files right after deleting as many (it scans
    // for recently freed inodes), which would charge one run for the previous one's cleanup.
    for i in 0..FIRST_RUNS {
        std::fs::remove_dir_all(base.join(format!("store-first-{i}"))).expect("rm store");
    }
    println!(
        "first snapshot: median {} (runs: {:?}); store {:.1} MB on disk",
        ms(median(firsts.clone())),
        firsts.iter().map(|d| ms(*d)).collect::<Vec<_>>(),
        first_store as f64 / 1e6
    );

    let store_dir = base.join("store");
    let store = Store::open(&store_dir, Limits::default()).expect("store");
    let mut hist = store.session("bench", &tree).expect("session");
    hist.snapshot().expect("snapshot");
    std::thread::sleep(Duration::from_millis(100));
    hist.snapshot().expect("settle");

    let mut quiet = Vec::new();
    for _ in 0..ROUND_RUNS {
        begin(&mut hist);
        let t = Instant::now();
        let r = hist.after_round().expect("round");
        quiet.push(t.elapsed());
        assert_eq!(r.read, 0, "a quiet round read files");
    }
    println!("round that changed nothing (after_round): median {}", ms(median(quiet)));

    let (mut three, mut begins) = (Vec::new(), Vec::new());
    let (mut ratios, mut disk_ratios) = (Vec::new(), Vec::new());
    for _ in 0..ROUND_RUNS {
        let t = Instant::now();
        begin(&mut hist);
        begins.push(t.elapsed());
        let (before_apparent, before_disk) =
            (apparent_store(&store_dir), store.size().expect("size").bytes);
        let changed = change(&tree, &mut rng, 3);
        let t = Instant::now();
        hist.after_round().expect("round");
        three.push(t.elapsed());
        let grew = apparent_store(&store_dir) - before_apparent;
        let grew_disk = store.size().expect("size").bytes - before_disk;
        ratios.push(grew as f64 / changed as f64);
        disk_ratios.push(grew_disk as f64 / changed as f64);
    }
    ratios.sort_by(f64::total_cmp);
    disk_ratios.sort_by(f64::total_cmp);
    println!("begin_turn with nothing changed since: median {}", ms(median(begins)));
    println!(
        "round that changed 3 files: median {}; store growth / changed bytes: median {:.3} \
         (bytes), {:.3} (disk blocks)",
        ms(median(three)),
        ratios[ratios.len() / 2],
        disk_ratios[disk_ratios.len() / 2]
    );

    let (mut previews, mut restores) = (Vec::new(), Vec::new());
    for _ in 0..RESTORE_RUNS {
        begin(&mut hist);
        change(&tree, &mut rng, 100);
        hist.after_round().expect("round");
        let t = Instant::now();
        let preview = hist.preview_undo(1).expect("preview");
        previews.push(t.elapsed());
        let t = Instant::now();
        let report = hist.undo(&preview, false).expect("undo");
        restores.push(t.elapsed());
        assert!(report.failed.is_empty() && report.conflicts.is_empty());
    }
    println!(
        "undo of a turn that changed 100 files: preview median {}, restore median {}",
        ms(median(previews)),
        ms(median(restores))
    );
    let gc = store.gc().expect("gc");
    println!(
        "gc: {:.1} MB -> {:.1} MB, {} contents removed",
        gc.before as f64 / 1e6,
        gc.after as f64 / 1e6,
        gc.removed_objects
    );
}

fn repository(repo: &Path, base: &Path) {
    let store = Store::open(&base.join("store-repo"), Limits::default()).expect("store");
    let mut hist = store.session("repo", repo).expect("session");
    let t = Instant::now();
    let first = hist.snapshot().expect("snapshot");
    let first_time = t.elapsed();
    std::thread::sleep(Duration::from_millis(100));
    hist.snapshot().expect("settle");
    let mut quiet = Vec::new();
    for _ in 0..ROUND_RUNS {
        let t = Instant::now();
        hist.snapshot().expect("snapshot");
        quiet.push(t.elapsed());
    }
    println!(
        "repository {}: {} paths ({:.1} MB stored), first snapshot {}, round that changed \
         nothing: median {}",
        repo.display(),
        first.entries,
        first.stored_bytes as f64 / 1e6,
        ms(first_time),
        ms(median(quiet))
    );
}

/// CPU time of this process so far: (user, system).
fn cpu() -> (Duration, Duration) {
    // SAFETY: getrusage fills the struct we pass.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    (tv(usage.ru_utime), tv(usage.ru_stime))
}

/// `--profile-quiet`: generates the tree and runs quiet snapshots for a profiler, printing
/// wall and CPU time per snapshot.
fn profile_quiet(base: &Path, tree: Option<PathBuf>) {
    let tree = tree.unwrap_or_else(|| {
        let tree = base.join("tree");
        generate(&tree, &mut Rng(1));
        tree
    });
    let store = Store::open(&base.join("store"), Limits::default()).expect("store");
    let mut hist = store.session("bench", &tree).expect("session");
    hist.snapshot().expect("snapshot");
    std::thread::sleep(Duration::from_millis(100));
    hist.snapshot().expect("settle");
    let runs = 300;
    // CHECKPOINTBENCH_CHANGE=N: each snapshot follows a rewrite of N files.
    let change_n: usize = std::env::var("CHECKPOINTBENCH_CHANGE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut rng = Rng(7);
    begin(&mut hist);
    let (u0, s0) = cpu();
    let t = Instant::now();
    for _ in 0..runs {
        change(&tree, &mut rng, change_n);
        hist.after_round().expect("snapshot");
    }
    let (u1, s1) = cpu();
    println!(
        "quiet snapshot: wall {} user {} sys {} (mean of {runs})",
        ms(t.elapsed() / runs),
        ms((u1 - u0) / runs),
        ms((s1 - s0) / runs)
    );
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("--profile-quiet") {
        let base = tempfile::tempdir_in("/tmp").expect("tempdir");
        profile_quiet(base.path(), std::env::args().nth(2).map(PathBuf::from));
        return;
    }
    let repo = std::env::args()
        .nth(1)
        .map_or_else(|| std::env::current_dir().expect("cwd"), PathBuf::from);
    // CHECKPOINTBENCH_TMP puts the tree and the stores elsewhere (e.g. /dev/shm, to take the
    // disk's file-creation cost out).
    let tmp = std::env::var_os("CHECKPOINTBENCH_TMP").map_or_else(|| "/tmp".into(), PathBuf::from);
    let base = tempfile::Builder::new()
        .prefix("checkpointbench-")
        .tempdir_in(tmp)
        .expect("tempdir");
    generated(base.path());
    repository(&repo, base.path());
}
