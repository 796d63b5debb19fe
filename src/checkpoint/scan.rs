//! The stat walk: every path under the workspace that the ignore rules keep, with its `lstat`.
//!
//! The rules are the `ignore` crate's own matchers (`ignore::gitignore`), applied as its
//! walker applies them with `hidden(false)`, `require_git(false)` and the standard filters:
//! per directory `.ignore` beats `.gitignore`, which beats `.git/info/exclude`, which beats the
//! global excludes; within each, the deepest directory that matches decides (with
//! `require_git(false)` a nested repository does not stop its parents' `.gitignore`, as in the
//! crate); `.ignore` and `.gitignore` of the workspace's parents count too. The traversal is ours: the directory listing already says which directories
//! have an ignore file, `DirEntry::metadata` stats relative to the open directory (the crate's
//! walker stats by full path), and matching is skipped where no rule is in force. A test
//! checks that both keep the same paths.

use std::ffi::OsStr;
use std::fs::FileType;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use ignore::Match;

use super::snapshot::Entry;
use super::walk::stat_entry;
use ignore::gitignore::{Gitignore, GitignoreBuilder};

/// One directory's rules.
#[derive(Default)]
struct Level {
    ignore: Option<Gitignore>,
    gitignore: Option<Gitignore>,
    exclude: Option<Gitignore>,
}

/// The rules in force in a directory: its own level and its parents', deepest last.
#[derive(Clone)]
struct Rules {
    levels: Vec<Arc<Level>>,
    global: Arc<Gitignore>,
}

impl Rules {
    fn ignored(&self, path: &Path, is_dir: bool) -> bool {
        let (mut m_ignore, mut m_git, mut m_exclude) = (Match::None, Match::None, Match::None);
        for level in self.levels.iter().rev() {
            if m_ignore.is_none()
                && let Some(g) = &level.ignore
            {
                m_ignore = g.matched(path, is_dir);
            }
            if m_git.is_none()
                && let Some(g) = &level.gitignore
            {
                m_git = g.matched(path, is_dir);
            }
            if m_exclude.is_none()
                && let Some(g) = &level.exclude
            {
                m_exclude = g.matched(path, is_dir);
            }
        }
        m_ignore
            .or(m_git)
            .or(m_exclude)
            .or(self.global.matched(path, is_dir))
            .is_ignore()
    }

    /// Whether any rule could match (else the walk skips matching altogether).
    fn any(&self) -> bool {
        !self.global.is_empty()
            || self
                .levels
                .iter()
                .any(|l| l.ignore.is_some() || l.gitignore.is_some() || l.exclude.is_some())
    }

    fn with(&self, level: Level) -> Rules {
        let mut levels = self.levels.clone();
        levels.push(Arc::new(level));
        Rules {
            levels,
            global: Arc::clone(&self.global),
        }
    }
}

fn matcher(dir: &Path, file: &Path) -> Option<Gitignore> {
    let mut builder = GitignoreBuilder::new(dir);
    // A bad line is skipped, as the walker skips it; the other lines still count.
    let _ = builder.add(file);
    builder.build().ok().filter(|g| !g.is_empty())
}

/// `.git/info/exclude` of the repository whose `.git` (a directory, or a worktree's file
/// naming its git directory) is in `dir`.
fn exclude_of(dir: &Path) -> Option<Gitignore> {
    let dot_git = dir.join(".git");
    let git_dir = if dot_git.is_dir() {
        dot_git
    } else {
        let text = std::fs::read_to_string(&dot_git).ok()?;
        let gitdir = dir.join(text.strip_prefix("gitdir:")?.trim());
        match std::fs::read_to_string(gitdir.join("commondir")) {
            Ok(common) => gitdir.join(common.trim()),
            Err(_) => gitdir,
        }
    };
    matcher(dir, &git_dir.join("info/exclude"))
}

/// A directory's level from the names in it (no probing for files that are not there).
fn level_of(dir: &Path, has: impl Fn(&str) -> bool) -> Level {
    Level {
        ignore: has(".ignore")
            .then(|| matcher(dir, &dir.join(".ignore")))
            .flatten(),
        gitignore: has(".gitignore")
            .then(|| matcher(dir, &dir.join(".gitignore")))
            .flatten(),
        exclude: if has(".git") { exclude_of(dir) } else { None },
    }
}

/// The rules of the workspace's parents, outermost first.
fn parent_rules(root: &Path) -> Rules {
    let mut rules = Rules {
        levels: Vec::new(),
        global: Arc::new(Gitignore::global().0),
    };
    let parents: Vec<&Path> = root.ancestors().skip(1).collect();
    for dir in parents.into_iter().rev() {
        let level = level_of(dir, |name| {
            std::fs::symlink_metadata(dir.join(name)).is_ok()
        });
        rules = rules.with(level);
    }
    rules
}

/// A kept path with its type and its stat data (as an [`Entry`] whose kind is still to fill
/// in): small, so ten thousand of them move cheaply.
pub(crate) type Stated = (PathBuf, FileType, Entry);

pub(crate) type Found = (Vec<Stated>, Vec<(PathBuf, String)>);

/// A directory still to list.
struct Job {
    dir: PathBuf,
    rel: PathBuf,
    rules: Rules,
}

/// The directories still to list, and how many workers are listing one now.
struct Queue {
    jobs: Vec<Job>,
    busy: usize,
    /// Workers asleep on the condition variable: only then is a wake-up worth a system call.
    waiting: usize,
}

/// The walk of one workspace, set up once per session: the parents' rules and the global
/// excludes (git's config is read once, not per walk), the paths to skip, the thread count.
pub(crate) struct Scanner {
    root: PathBuf,
    skip_rel: Vec<PathBuf>,
    parents: Rules,
    pub(crate) workers: usize,
    /// Paths the last walk found (`usize::MAX` before the first): small trees walk inline.
    last_len: AtomicUsize,
}

/// Below this many paths a walk runs on the calling thread.
const SMALL_TREE: usize = 2_000;

impl Scanner {
    /// `skip` are absolute paths never to record (the store, when inside the workspace).
    pub(crate) fn new(root: &Path, skip: &[PathBuf]) -> Scanner {
        let canon_root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        let skip_rel = skip
            .iter()
            .filter_map(|p| {
                let canon = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
                canon.strip_prefix(&canon_root).ok().map(Path::to_path_buf)
            })
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        Scanner {
            root: root.to_path_buf(),
            skip_rel,
            parents: parent_rules(root),
            workers: std::thread::available_parallelism()
                .map_or(1, usize::from)
                .clamp(1, 4),
            last_len: AtomicUsize::new(usize::MAX),
        }
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// Every path the ignore rules keep under the root (not the root itself) with its
    /// `lstat`, and the paths that could not be listed or stated. Never `.git`, nor a skipped
    /// path. Directories are listed on every core (up to 4): the walk is mostly system calls.
    pub(crate) fn walk(&self) -> Found {
        let queue = Mutex::new(Queue {
            jobs: vec![Job {
                dir: self.root.clone(),
                rel: PathBuf::new(),
                rules: self.parents.clone(),
            }],
            busy: 0,
            waiting: 0,
        });
        let wake = Condvar::new();
        let found = Mutex::new((Vec::new(), Vec::new()));
        // A small tree is walked on the calling thread: starting and waking threads costs
        // more than its few hundred `statx` calls (and, on a loaded machine, a wait for a
        // core per thread).
        if self.last_len.load(Ordering::Relaxed) < SMALL_TREE {
            worker(&queue, &wake, &found, &self.skip_rel);
        } else {
            std::thread::scope(|scope| {
                for _ in 0..self.workers {
                    scope.spawn(|| worker(&queue, &wake, &found, &self.skip_rel));
                }
            });
        }
        let found: Found = found.into_inner().unwrap_or_default();
        self.last_len.store(found.0.len(), Ordering::Relaxed);
        found
    }
}

fn worker(queue: &Mutex<Queue>, wake: &Condvar, found: &Mutex<Found>, skip_rel: &[PathBuf]) {
    let mut local: Found = (Vec::new(), Vec::new());
    let mut subdirs = Vec::new();
    loop {
        let job = {
            let Ok(mut q) = queue.lock() else { break };
            loop {
                if let Some(job) = q.jobs.pop() {
                    q.busy += 1;
                    break Some(job);
                }
                if q.busy == 0 {
                    break None;
                }
                q.waiting += 1;
                q = match wake.wait(q) {
                    Ok(q) => q,
                    Err(_) => return,
                };
                q.waiting -= 1;
            }
        };
        let Some(job) = job else {
            wake.notify_all();
            break;
        };
        visit(&job, skip_rel, &mut local, &mut subdirs);
        let Ok(mut q) = queue.lock() else { break };
        q.busy -= 1;
        let more = !subdirs.is_empty();
        q.jobs.append(&mut subdirs);
        // Sleepers wait for work, or for the end (nothing queued, nobody busy).
        if q.waiting > 0 && (more || (q.busy == 0 && q.jobs.is_empty())) {
            wake.notify_all();
        }
    }
    if let Ok(mut all) = found.lock() {
        all.0.append(&mut local.0);
        all.1.append(&mut local.1);
    }
}

/// Lists one directory: its kept entries go to `found`, its kept subdirectories to `subdirs`.
fn visit(job: &Job, skip_rel: &[PathBuf], found: &mut Found, subdirs: &mut Vec<Job>) {
    let entries: Vec<std::fs::DirEntry> = match std::fs::read_dir(&job.dir) {
        Ok(rd) => rd.filter_map(Result::ok).collect(),
        Err(e) => {
            found.1.push((job.rel.clone(), format!("cannot list: {e}")));
            return;
        }
    };
    let has = |name: &str| entries.iter().any(|e| e.file_name() == OsStr::new(name));
    let rules = job.rules.with(level_of(&job.dir, has));
    let any_rules = rules.any();
    for entry in entries {
        let name = entry.file_name();
        if name == ".git" {
            continue;
        }
        let mut rel = PathBuf::with_capacity(job.rel.as_os_str().len() + name.len() + 1);
        rel.push(&job.rel);
        rel.push(&name);
        if skip_rel.contains(&rel) {
            continue;
        }
        let meta = match entry.metadata() {
            Ok(m) => m,
            Err(e) => {
                found.1.push((rel, format!("cannot stat: {e}")));
                continue;
            }
        };
        let is_dir = meta.is_dir();
        if any_rules && rules.ignored(&job.dir.join(&name), is_dir) {
            continue;
        }
        if is_dir {
            subdirs.push(Job {
                dir: job.dir.join(&name),
                rel: rel.clone(),
                rules: rules.clone(),
            });
        }
        found.0.push((rel, meta.file_type(), stat_entry(&meta)));
    }
}

#[cfg(test)]
mod tests;
