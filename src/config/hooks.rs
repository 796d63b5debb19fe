//! Where hooks come from: `[hooks]` in the two TOML files and CoreCoder 0.8's
//! `~/.corecoder/hooks.json` (also read in Claude Code's nested shape). This file only reads
//! and checks definitions; running them is `crate::hooks`.
//!
//! A hook runs a command the file's author chose, outside the sandbox, on every matching
//! event. So a project's own `.corecoder.toml` hooks count only when the user's file trusts
//! the project, exactly like its `[sandbox]` and `allow` rules; otherwise they are ignored with
//! a notice. A typo in a TOML event name is an error (as every unknown key is); an event name
//! in `hooks.json` this version does not know (Claude Code has more) is a notice.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use super::{ConfigError, ConfigFiles};
use crate::hooks::{HookDef, HookEvent, Matcher};

/// A hook without `timeout_sec` is killed after this long (CoreCoder's figure).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// `[hooks]`: event name → `[[hooks.EVENT]]` entries.
pub type HooksSection = BTreeMap<String, Vec<HookEntry>>;

/// One `[[hooks.PreToolUse]]` table.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HookEntry {
    /// A tool name, `*` (also empty or absent: every tool), or a regex (`edit_file|write_file`).
    pub matcher: Option<String>,
    pub command: String,
    pub timeout_sec: Option<u64>,
}

/// The hooks in force, and what was ignored (told once at start).
#[derive(Debug, Default)]
pub struct HookSettings {
    pub hooks: Vec<HookDef>,
    pub notices: Vec<String>,
}

/// The user's `[hooks]`, then `~/.corecoder/hooks.json`, then the project's `[hooks]` when
/// `trusted`. Every matching hook runs, in this order.
pub fn resolve(
    files: &ConfigFiles,
    home: Option<&Path>,
    trusted: bool,
) -> Result<HookSettings, ConfigError> {
    let mut out = HookSettings::default();
    let (project, user): (Vec<_>, Vec<_>) = files.layers().iter().partition(|l| l.project_file);
    for layer in &user {
        add_section(&mut out, layer.hooks.as_ref(), &layer.origin)?;
    }
    if let Some(home) = home {
        read_json(&mut out, &home.join(".corecoder/hooks.json"))?;
    }
    for layer in project {
        match &layer.hooks {
            Some(section) if !section.is_empty() && !trusted => out.notices.push(format!(
                "ignored [hooks] in {}: a project's file may not run commands until you trust \
                 the project in ~/.config/corecoder/config.toml",
                layer.origin
            )),
            section => add_section(&mut out, section.as_ref(), &layer.origin)?,
        }
    }
    Ok(out)
}

fn add_section(
    out: &mut HookSettings,
    section: Option<&HooksSection>,
    origin: &str,
) -> Result<(), ConfigError> {
    for (name, entries) in section.into_iter().flatten() {
        let event = HookEvent::parse(name).ok_or_else(|| ConfigError::Invalid {
            key: format!("[hooks] in {origin}"),
            message: format!(
                "unknown event {name:?}; expected one of {}",
                HookEvent::NAMES
            ),
        })?;
        for e in entries {
            let timeout = e.timeout_sec.map(Duration::from_secs);
            out.hooks.push(define(
                event,
                e.matcher.as_deref(),
                &e.command,
                timeout,
                origin,
            )?);
        }
    }
    Ok(())
}

fn define(
    event: HookEvent,
    matcher: Option<&str>,
    command: &str,
    timeout: Option<Duration>,
    origin: &str,
) -> Result<HookDef, ConfigError> {
    let invalid = |message: String| ConfigError::Invalid {
        key: format!("{event} hook in {origin}"),
        message,
    };
    if command.trim().is_empty() {
        return Err(invalid("`command` is empty".into()));
    }
    let matcher = Matcher::parse(matcher.unwrap_or("")).map_err(invalid)?;
    Ok(HookDef {
        event,
        matcher,
        command: command.to_string(),
        timeout: timeout.filter(|t| !t.is_zero()).unwrap_or(DEFAULT_TIMEOUT),
        origin: origin.to_string(),
    })
}

/// CoreCoder 0.8's `{"PreToolUse": [{"matcher", "command"}]}`, or Claude Code's
/// `{"hooks": {"PreToolUse": [{"matcher", "hooks": [{"type": "command", "command",
/// "timeout"}]}]}}`. A missing file is no hooks; one that is not JSON is an error naming it.
fn read_json(out: &mut HookSettings, path: &Path) -> Result<(), ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(file_error(path, e.to_string())),
    };
    let origin = path.display().to_string();
    let bad = |what: &str| file_error(path, what.to_string());
    let top: Value = serde_json::from_str(&text).map_err(|e| file_error(path, e.to_string()))?;
    let events = match top.get("hooks") {
        Some(inner @ Value::Object(_)) => inner,
        _ => &top,
    };
    let Value::Object(events) = events else {
        return Err(bad("expected an object of event names"));
    };
    for (name, entries) in events {
        let Some(event) = HookEvent::parse(name) else {
            out.notices.push(format!(
                "ignored {name:?} in {origin}: corecoder has no such hook event"
            ));
            continue;
        };
        let Value::Array(entries) = entries else {
            return Err(bad(&format!("{name} must be a list of hooks")));
        };
        for entry in entries {
            let matcher = entry.get("matcher").and_then(Value::as_str);
            // Claude Code's shape nests the commands under one matcher.
            let commands: Vec<&Value> = match entry.get("hooks").and_then(Value::as_array) {
                Some(inner) => inner.iter().collect(),
                None => vec![entry],
            };
            for c in commands {
                let Some(command) = c.get("command").and_then(Value::as_str) else {
                    return Err(bad(&format!("a {name} hook has no \"command\" string")));
                };
                let secs = c.get("timeout").or_else(|| c.get("timeout_sec"));
                let timeout = secs.and_then(Value::as_f64).map(Duration::from_secs_f64);
                out.hooks
                    .push(define(event, matcher, command, timeout, &origin)?);
            }
        }
    }
    Ok(())
}

fn file_error(path: &Path, message: String) -> ConfigError {
    ConfigError::File {
        path: path.to_path_buf(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::file::tests::layer;

    #[test]
    fn toml_hooks_are_read_and_a_project_needs_trust() {
        let user = layer(
            "[[hooks.PreToolUse]]\nmatcher = \"bash\"\ncommand = \"./check\"\ntimeout_sec = 3\n",
            false,
        );
        let project = layer("[[hooks.Stop]]\ncommand = \"make lint\"\n", true);
        let files = ConfigFiles::new(vec![project, user]);
        let s = resolve(&files, None, false).unwrap();
        assert_eq!(s.hooks.len(), 1);
        let h = &s.hooks[0];
        assert_eq!(
            (h.event, h.command.as_str()),
            (HookEvent::PreToolUse, "./check")
        );
        assert_eq!(h.timeout, Duration::from_secs(3));
        assert!(
            s.notices[0].contains("ignored [hooks] in .corecoder.toml"),
            "{:?}",
            s.notices
        );
        let s = resolve(&files, None, true).unwrap();
        assert_eq!(s.hooks.len(), 2);
        assert_eq!(s.hooks[1].timeout, DEFAULT_TIMEOUT);
    }

    #[test]
    fn typos_and_bad_matchers_are_errors_naming_the_file() {
        let files = ConfigFiles::new(vec![layer("[[hooks.PreTool]]\ncommand = \"x\"\n", false)]);
        let e = resolve(&files, None, false).unwrap_err().to_string();
        assert!(e.contains("config.toml") && e.contains("PreToolUse"), "{e}");
        let files = ConfigFiles::new(vec![layer(
            "[[hooks.PreToolUse]]\nmatcher = \"(\"\ncommand = \"x\"\n",
            false,
        )]);
        let e = resolve(&files, None, false).unwrap_err().to_string();
        assert!(e.contains("PreToolUse hook in config.toml"), "{e}");
    }

    #[test]
    fn corecoder_and_claude_code_hooks_json_are_both_read() {
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir(home.path().join(".corecoder")).unwrap();
        let path = home.path().join(".corecoder/hooks.json");
        std::fs::write(
            &path,
            r#"{"PreToolUse": [{"matcher": "bash", "command": "a"}],
                "PostToolUse": [{"matcher": "*", "command": "b"}]}"#,
        )
        .unwrap();
        let s = resolve(&ConfigFiles::default(), Some(home.path()), false).unwrap();
        let mut got: Vec<_> = s
            .hooks
            .iter()
            .map(|h| (h.event, h.command.as_str()))
            .collect();
        // Events come in key order (serde_json sorts keys); each event's list keeps its own.
        got.sort_by_key(|(_, c)| *c);
        assert_eq!(
            got,
            [(HookEvent::PreToolUse, "a"), (HookEvent::PostToolUse, "b")]
        );
        std::fs::write(
            &path,
            r#"{"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "c", "timeout": 2}]}],
                "Notification": []}}"#,
        )
        .unwrap();
        let s = resolve(&ConfigFiles::default(), Some(home.path()), false).unwrap();
        assert_eq!(s.hooks[0].event, HookEvent::Stop);
        assert_eq!(s.hooks[0].timeout, Duration::from_secs(2));
        assert!(s.notices[0].contains("\"Notification\""), "{:?}", s.notices);
        std::fs::write(&path, "{not json").unwrap();
        let e = resolve(&ConfigFiles::default(), Some(home.path()), false).unwrap_err();
        assert!(e.to_string().contains("hooks.json"), "{e}");
    }
}
