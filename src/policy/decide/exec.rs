//! The decision for a shell command, per simple command (see the order in `decide`). This
//! file owns how redirect targets count as edits and which commands are read-only enough for
//! plan mode; it does not parse shell (that is `split`) or judge danger (that is the gate).

use std::path::{Path, PathBuf};

use super::super::command_safety::{self, Verdict};
use super::super::mode::Mode;
use super::super::rules::RuleKind;
use super::super::shell_words;
use super::super::split::{self, SimpleCommand};
use super::super::workspace::PROTECTED_HOME;
use super::plan::read_only;
use super::suggest::suggestions;
use super::{Decision, PolicyInput, ask, floor, note, plan_deny};

/// One simple command with its redirect targets resolved.
pub(super) struct Sub {
    /// The words joined, for messages.
    pub(super) text: String,
    pub(super) words: Vec<String>,
    /// Targets resolved to real paths.
    pub(super) known: Vec<PathBuf>,
    /// Targets only known when the command runs (`> $OUT`, `> $(mktemp)`): no rule and no
    /// workspace check can vouch for them, so they never run without a person or bypass.
    pub(super) unknown: Vec<String>,
}

/// Redirect targets that are not files anyone keeps.
const SINKS: &[&str] = &["/dev/null", "/dev/stdout", "/dev/stderr"];

pub(super) fn decide(tool: &str, command: &str, cwd: &Path, input: &PolicyInput) -> Decision {
    if let Verdict::Blocked(reason) = command_safety::check(command) {
        let reason = format!("blocked by the safety gate: {reason}");
        return Decision::Deny { reason };
    }
    let split = match split::split(command) {
        Ok(split) => split,
        Err(reason) => return Decision::Deny { reason },
    };
    // The gate reads words as written; `find / {-delete,-true}` is `find / -delete -true` to
    // bash. After brace expansion each command is shown to the gate once more.
    if command.contains('{') {
        for c in &split.commands {
            let quoted: Vec<String> = c.words.iter().map(|w| shell_words::quote(w)).collect();
            if let Verdict::Blocked(reason) = command_safety::check(&quoted.join(" ")) {
                let reason = format!("blocked by the safety gate: {reason}");
                return Decision::Deny { reason };
            }
        }
    }
    // `cd /etc && echo x > hosts` writes /etc/hosts: follow `cd` so relative targets
    // resolve where the shell will be; after a `cd` we cannot follow, they are unknown. So
    // they are from the start when a function (whose `cd` runs where it is called) exists.
    let mut dir = Some(cwd.to_path_buf()).filter(|_| !split.defines_functions);
    // Set when the directory or the files were changed by a trick we do not follow (a
    // function's `cd`, `CDPATH`, `popd`, a link made by the script): then no later write is
    // known, and in bypass such a write still asks.
    let mut tricked = split.defines_functions;
    let mut subs = Vec::new();
    for command in &split.commands {
        let mut s = sub(command, dir.as_deref(), input);
        if tricked {
            s.unknown
                .extend(s.known.drain(..).map(|p| p.display().to_string()));
        }
        subs.push(s);
        let first = command
            .words
            .first()
            .map(String::as_str)
            .unwrap_or_default();
        let args = &command.words[1.min(command.words.len())..];
        let steering = ["CDPATH=", "HOME=", "PWD=", "OLDPWD="];
        let (next, trick) = match first {
            // Without an argument `pushd` swaps the top two directories of its stack.
            "pushd" if args.is_empty() => (None, true),
            "cd" | "pushd" => (dir.and_then(|d| change_dir(&d, args, input)), false),
            "popd" => (None, true),
            w if steering.iter().any(|p| w.starts_with(p)) => (None, true),
            // A link made here may point anywhere; later writes through it are not known.
            "ln" | "link" | "mount" => (dir, true),
            _ => (dir, false),
        };
        dir = next;
        tricked |= trick;
    }
    if let Some(decision) = rules_first(tool, &subs, input) {
        // Plan mode changes nothing, not even with a yes: what would ask is refused.
        return match (&decision, input.mode) {
            (Decision::Ask { reason, .. }, Mode::Plan) => plan_deny(reason),
            _ => decision,
        };
    }
    if input.mode == Mode::Plan {
        return match subs.iter().find(|s| !read_only(s)) {
            None => Decision::Allow,
            Some(s) => plan_deny(&format!("`{}` may change things", s.text)),
        };
    }
    // Allow rules: every command covered, every write inside or covered by an edit rule.
    let open: Vec<&Sub> = subs
        .iter()
        .filter(|s| !command_allowed(tool, s, input))
        .collect();
    let outside = outside(&subs, input);
    // The floor holds in bypass for writes we cannot resolve but that may well be protected.
    let hidden = subs
        .iter()
        .flat_map(|s| &s.unknown)
        .find(|t| tricked || may_be_protected(t));
    if let (Some(target), Mode::BypassPermissions) = (hidden, input.mode) {
        let reason = format!(
            "writes to `{target}`, which is only known when the command runs and may be a \
             protected path (a start-up file, credentials, .git)"
        );
        return ask(reason, Vec::new());
    }
    if (open.is_empty() && outside.shown.is_empty()) || input.mode == Mode::BypassPermissions {
        return Decision::Allow;
    }
    let reason = ask_reason(&subs, &open, &outside, input.mode);
    ask(reason, suggestions(&open, &outside, input))
}

/// The forms of a command deny and ask rules are matched against: as written, without the
/// assignments in front (`FOO=1 rm x` is still `rm`), and for git without its global options
/// (`git -C . --no-pager push` is still `git push`). Allow rules see only the first form.
fn stop_forms(words: &[String]) -> Vec<Vec<String>> {
    let env = words.iter().take_while(|w| w.contains('=')).count();
    let bare = &words[env..];
    let mut forms = vec![words.to_vec(), bare.to_vec()];
    if let Some((git, args)) = bare.split_first().filter(|(g, _)| g.ends_with("git")) {
        let mut canonical = vec![git.clone()];
        canonical.extend(super::super::writes::git_subcommand(args));
        forms.push(canonical);
    }
    forms
}

/// An unresolvable redirect target that could name a protected file: a glob, a path through
/// /proc or /dev/fd, anything built from the home directory, or naming `.git` or a dot-file.
fn may_be_protected(target: &str) -> bool {
    let indirect = ["/proc/", "/dev/fd/"].iter().any(|p| target.starts_with(p));
    indirect
        || target.contains(['*', '?', '[', '~'])
        || ["HOME", ".git"].iter().any(|p| target.contains(p))
        || PROTECTED_HOME.iter().any(|p| target.contains(p))
}

/// Where `cd ARGS` leads from `dir`, when the argument is plain text.
fn change_dir(dir: &Path, args: &[String], input: &PolicyInput) -> Option<PathBuf> {
    let ws = input.workspace;
    match args {
        [] => ws.home.clone(),
        // `pushd +1` rotates the stack; `cd -P`/`-L` flags: not followed.
        [to] if !to.contains(['$', '`'])
            && !to.starts_with(['-', '+'])
            && (!to.starts_with('~') || to == "~" || to.starts_with("~/")) =>
        {
            Some(ws.resolve(dir, to))
        }
        _ => None,
    }
}

fn sub(command: &SimpleCommand, cwd: Option<&Path>, input: &PolicyInput) -> Sub {
    let ws = input.workspace;
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for target in command
        .writes
        .iter()
        .filter(|w| !SINKS.contains(&w.as_str()))
    {
        // `$HOME` is the one variable we know; anything else is a guess, so unknown.
        let target = match (target.strip_prefix("$HOME"), &ws.home) {
            (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => {
                format!("{}{rest}", home.display())
            }
            _ => target.clone(),
        };
        // `~user/x` we cannot resolve; a relative path after an unfollowable `cd` neither; a
        // glob is matched by bash against files we do not list (`.gi?/config`); /proc and
        // /dev/fd name other files through the process (`/proc/self/cwd/x`, `/dev/fd/3`).
        let tilde_user = target.starts_with('~') && target != "~" && !target.starts_with("~/");
        let lost = cwd.is_none() && !target.starts_with(['/', '~']);
        let indirect = ["/proc/", "/dev/fd/"].iter().any(|p| target.starts_with(p));
        if lost || tilde_user || indirect || target.contains(['$', '`', '…', '*', '?', '[']) {
            unknown.push(target);
        } else {
            known.push(ws.resolve(cwd.unwrap_or(Path::new("/")), &target));
        }
    }
    let text = match command.words.is_empty() {
        true => "(redirect)".to_string(),
        false => command.words.join(" "),
    };
    Sub {
        text,
        words: command.words.clone(),
        known,
        unknown,
    }
}

/// Deny rules, the hard floor and ask rules, over every simple command and every write.
/// Each pass runs over all commands before the next, so a deny anywhere beats an ask
/// earlier in the script.
fn rules_first(tool: &str, subs: &[Sub], input: &PolicyInput) -> Option<Decision> {
    let (rules, ws) = (input.rules, input.workspace);
    // Deny and ask rules also see the program behind kept assignments: `deny bash(rm:*)`
    // stops `FOO=1 rm -rf x`.
    let on_command = |kind, s: &Sub| {
        let forms = stop_forms(&s.words);
        rules.find(kind, |r| {
            r.covers_tool(tool) && forms.iter().any(|w| r.matches_command(w))
        })
    };
    // A redirect is an edit: edit rules judge it (only explicit ones open the floor).
    let on_path = |kind, p: &Path, explicit: bool| {
        rules.find(kind, |r| {
            r.covers_edits()
                && if explicit {
                    r.opens_floor(p, ws)
                } else {
                    r.matches_path(p, ws)
                }
        })
    };
    for s in subs {
        if let Some(entry) = on_command(RuleKind::Deny, s) {
            let reason = format!("`{}` is denied by {}", s.text, note(entry));
            return Some(Decision::Deny { reason });
        }
        for p in &s.known {
            if let Some(entry) = on_path(RuleKind::Deny, p, false) {
                let (path, rule) = (ws.show(p), note(entry));
                let reason = format!("`{}` writes {path}, denied by {rule}", s.text);
                return Some(Decision::Deny { reason });
            }
        }
    }
    for s in subs {
        for p in &s.known {
            if ws.is_protected(p) && on_path(RuleKind::Allow, p, true).is_none() {
                return Some(floor(&format!("`{}` writes", s.text), p, ws));
            }
        }
    }
    for s in subs {
        let by_path = s
            .known
            .iter()
            .find_map(|p| on_path(RuleKind::Ask, p, false));
        if let Some(entry) = on_command(RuleKind::Ask, s).or(by_path) {
            let reason = format!("{} asks before `{}`", note(entry), s.text);
            return Some(ask(reason, Vec::new()));
        }
    }
    None
}

/// A command runs without asking only when an allow rule covers it. A bare `> file` is an
/// edit with no command: an edit allow rule for each target (or `bash`/`bash(*)`) covers it.
fn command_allowed(tool: &str, s: &Sub, input: &PolicyInput) -> bool {
    let rules = input.rules;
    let edit_rule = |p: &PathBuf| {
        rules
            .find(RuleKind::Allow, |r| {
                r.covers_edits() && r.matches_path(p, input.workspace)
            })
            .is_some()
    };
    let bare = s.words.is_empty() && s.unknown.is_empty() && s.known.iter().all(edit_rule);
    bare || rules
        .find(RuleKind::Allow, |r| {
            r.covers_tool(tool) && r.matches_command(&s.words)
        })
        .is_some()
}

/// A redirect may write inside the workspace, or where an edit allow rule says.
fn write_allowed(path: &Path, input: &PolicyInput) -> bool {
    let ws = input.workspace;
    ws.contains(path)
        || input
            .rules
            .find(RuleKind::Allow, |r| {
                r.covers_edits() && r.matches_path(path, ws)
            })
            .is_some()
}

/// Which writes stop a command: unknown ones, and known ones no rule or workspace covers.
/// Shown as text (`/etc/x`, `$OUT`) for the reason.
pub(super) struct Outside {
    pub(super) shown: Vec<String>,
    pub(super) paths: Vec<PathBuf>,
    pub(super) any_unknown: bool,
}

fn outside(subs: &[Sub], input: &PolicyInput) -> Outside {
    let ws = input.workspace;
    let paths: Vec<PathBuf> = subs
        .iter()
        .flat_map(|s| &s.known)
        .filter(|p| !write_allowed(p, input))
        .cloned()
        .collect();
    let unknown = subs.iter().flat_map(|s| s.unknown.iter().cloned());
    let shown = paths
        .iter()
        .map(|p| ws.show(p))
        .chain(unknown)
        .collect::<Vec<_>>();
    Outside {
        any_unknown: shown.len() > paths.len(),
        shown,
        paths,
    }
}

/// Says what asks: the mode, the commands no rule covers (when some were covered), and
/// writes outside the workspace.
fn ask_reason(subs: &[Sub], open: &[&Sub], outside: &Outside, mode: Mode) -> String {
    let writes = format!("writes outside the workspace: {}", outside.shown.join(", "));
    if open.is_empty() {
        return format!("the command {writes}");
    }
    let mut reason = match mode {
        Mode::AcceptEdits => "bash commands ask in acceptEdits mode (it accepts file edits only)",
        _ => "bash commands ask in default mode",
    }
    .to_string();
    if open.len() < subs.len() {
        let names: Vec<String> = open.iter().map(|s| format!("`{}`", s.text)).collect();
        reason.push_str(&format!("; no rule allows {}", names.join(", ")));
    }
    if !outside.shown.is_empty() {
        reason.push_str(&format!("; it {writes}"));
    }
    reason
}
