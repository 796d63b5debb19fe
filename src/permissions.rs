//! The session's permission state: the mode, the rules in force and where each came from, the
//! workspace, and the file where "always" answers are kept.
//!
//! Built once from flags and config files ([`Permissions::load`]); the decision itself is the
//! pure `policy::decide`. A project's own `.corecoder.toml` may add `deny` and `ask` rules, but
//! its `allow` rules and `permission_mode` count only when the user's file trusts the project:
//! a cloned repository must not grant itself permissions. "Always" answers are saved under the
//! user's config directory, one file per project, never in the repository.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use crate::config::{ConfigError, ConfigFiles};
use crate::policy::{self, Action, Decision, Mode, PolicyInput, Rule, RuleEntry, RuleKind, Rules};
use crate::policy::{Source, Workspace};

/// What the command line says about permissions.
#[derive(Debug, Clone, Default)]
pub struct PermissionFlags {
    /// `--permission-mode`, or `bypassPermissions` for `--yes`.
    pub mode: Option<String>,
    pub allow: Vec<String>,
    pub deny: Vec<String>,
}

pub struct Permissions {
    mode: Mutex<Mode>,
    rules: Mutex<Rules>,
    workspace: Workspace,
    /// Where "always" answers go (`None` without a home directory: kept for the session).
    saved: Option<PathBuf>,
}

/// The file of "always" answers: the project's path (for a person reading it) and the rules.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedRules {
    #[serde(default)]
    project: String,
    #[serde(default)]
    allow: Vec<String>,
}

impl Permissions {
    /// The state for a session in `cwd`; also returns one-line notices for the person (a
    /// project file's allow rules that were ignored).
    pub fn load(
        flags: &PermissionFlags,
        files: &ConfigFiles,
        cwd: &Path,
        home: Option<&Path>,
    ) -> Result<(Permissions, Vec<String>), ConfigError> {
        let workspace = Workspace::new(&project_root(cwd), home);
        let trusted = files.trusts(&workspace.root);
        let mut rules = Rules::default();
        let mut notices = Vec::new();
        let mut mode = None;
        // The command line first, so `/permissions` lists it first; order does not change a
        // decision (deny, then ask, then allow, whatever the source).
        add_all(
            &mut rules,
            RuleKind::Deny,
            &flags.deny,
            Source::CommandLine,
            "--deny",
        )?;
        add_all(
            &mut rules,
            RuleKind::Allow,
            &flags.allow,
            Source::CommandLine,
            "--allow",
        )?;
        for layer in files.layers() {
            let path = PathBuf::from(&layer.origin);
            let limited = layer.project_file && !trusted;
            let source = if layer.project_file {
                Source::ProjectConfig(path.clone())
            } else {
                Source::UserConfig(path.clone())
            };
            if let Some(lists) = &layer.permissions {
                let name = |list| format!("permissions.{list} in {}", path.display());
                add_all(
                    &mut rules,
                    RuleKind::Deny,
                    &lists.deny,
                    source.clone(),
                    &name("deny"),
                )?;
                add_all(
                    &mut rules,
                    RuleKind::Ask,
                    &lists.ask,
                    source.clone(),
                    &name("ask"),
                )?;
                if limited && !lists.allow.is_empty() {
                    notices.push(untrusted(&path, "allow rules", &workspace.root));
                } else {
                    let list = name("allow");
                    add_all(&mut rules, RuleKind::Allow, &lists.allow, source, &list)?;
                }
            }
            if let Some(m) = &layer.permission_mode {
                if limited {
                    notices.push(untrusted(&path, "permission_mode", &workspace.root));
                } else if mode.is_none() {
                    mode = Some(parse_mode(
                        m,
                        &format!("permission_mode in {}", path.display()),
                    )?);
                }
            }
        }
        let mut saved = home.map(|h| saved_file(h, &workspace.root));
        if let Some(path) = saved.clone() {
            // A damaged file of answers costs the answers, not the session; it is left alone
            // (not overwritten) so the person can mend it.
            match saved_rules(&path) {
                Ok(list) => {
                    for rule in list {
                        rules.add(RuleKind::Allow, rule, Source::Saved(path.clone()));
                    }
                }
                Err(e) => {
                    notices.push(format!(
                        "{e}; \"always\" answers are kept for this session only"
                    ));
                    saved = None;
                }
            }
        }
        let mode = match &flags.mode {
            Some(m) => parse_mode(m, "--permission-mode")?,
            None => mode.unwrap_or_default(),
        };
        let state = Permissions {
            mode: Mutex::new(mode),
            rules: Mutex::new(rules),
            workspace,
            saved,
        };
        Ok((state, notices))
    }

    /// A state from parts, for tests and embedders: no config files, nothing saved.
    pub fn new(mode: Mode, rules: Rules, workspace: Workspace) -> Permissions {
        Permissions {
            mode: Mutex::new(mode),
            rules: Mutex::new(rules),
            workspace,
            saved: None,
        }
    }

    pub fn mode(&self) -> Mode {
        *self.mode.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap_or_else(PoisonError::into_inner) = mode;
    }

    pub fn workspace(&self) -> &Workspace {
        &self.workspace
    }

    /// The policy's decision for one call, with the rules and mode in force now.
    pub fn decide(&self, tool: &str, action: &Action) -> Decision {
        self.decide_in(self.mode(), tool, action)
    }

    /// The decision as if `mode` were in force (a hook's `allow` decides as `--yes` would).
    pub fn decide_in(&self, mode: Mode, tool: &str, action: &Action) -> Decision {
        let rules = self.rules.lock().unwrap_or_else(PoisonError::into_inner);
        let input = PolicyInput {
            mode,
            rules: &rules,
            workspace: &self.workspace,
        };
        policy::decide(tool, action, &input)
    }

    /// Every rule in force, in the order `/permissions` shows them.
    pub fn entries(&self) -> Vec<RuleEntry> {
        let rules = self.rules.lock().unwrap_or_else(PoisonError::into_inner);
        rules.entries().to_vec()
    }

    /// Adds "always" rules: in force at once, and saved for the project when there is a file
    /// to save to. `Err` says why saving failed (the rules still hold for this session).
    pub fn remember(&self, new: &[Rule]) -> Result<(), String> {
        let source = self.saved.clone().map_or(Source::Session, Source::Saved);
        {
            let mut rules = self.rules.lock().unwrap_or_else(PoisonError::into_inner);
            for rule in new {
                rules.add(RuleKind::Allow, rule.clone(), source.clone());
            }
        }
        match &self.saved {
            Some(path) => self.rewrite_saved(path, new, None),
            None => Ok(()),
        }
    }

    /// Removes the rule at `index` of [`Permissions::entries`]. A saved answer is removed from
    /// its file too; a rule from a config file or the command line only for this session (the
    /// returned text says so).
    pub fn remove(&self, index: usize) -> Result<String, String> {
        let removed = {
            let mut rules = self.rules.lock().unwrap_or_else(PoisonError::into_inner);
            rules.remove(index)
        };
        let Some(entry) = removed else {
            return Err(format!("there is no rule number {}", index + 1));
        };
        let shown = format!("{} {}", entry.kind, entry.rule);
        match &entry.source {
            Source::Saved(path) => {
                self.rewrite_saved(path, &[], Some(&entry.rule))?;
                Ok(format!("Removed {shown} (and from {})", path.display()))
            }
            Source::Session => Ok(format!("Removed {shown}")),
            other => Ok(format!(
                "Removed {shown} for this session; it comes from {other}, edit that to remove it for good"
            )),
        }
    }

    /// Adds `add` to the project's file of answers and takes `drop` out of it, atomically.
    /// The file is read again first: another session of the same project may have added
    /// answers since this one started, and they must not be lost.
    fn rewrite_saved(&self, path: &Path, add: &[Rule], drop: Option<&Rule>) -> Result<(), String> {
        let mut allow: Vec<String> = saved_rules(path)
            .map_err(|e| format!("{e}; not saved"))?
            .iter()
            .chain(add)
            .filter(|r| Some(*r) != drop)
            .map(Rule::to_string)
            .collect();
        let mut seen = std::collections::HashSet::new();
        allow.retain(|r| seen.insert(r.clone()));
        let file = SavedRules {
            project: self.workspace.root.display().to_string(),
            allow,
        };
        let text = toml::to_string(&file).map_err(|e| e.to_string())?;
        let text = format!("# corecoder: \"always\" answers for this project\n{text}");
        let write = || -> std::io::Result<()> {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            crate::durable::replace(path, text.as_bytes())
        };
        write().map_err(|e| format!("could not save to {}: {e}", path.display()))
    }
}

/// The git root above `cwd` (a `.git` directory or file), else `cwd` itself.
pub fn project_root(cwd: &Path) -> PathBuf {
    cwd.ancestors()
        .find(|dir| dir.join(".git").exists())
        .unwrap_or(cwd)
        .to_path_buf()
}

/// `~/.config/corecoder/approvals/<dir name>-<hash of the path>.toml`: one file per project,
/// readable by name, never colliding for two projects with the same directory name.
fn saved_file(home: &Path, root: &Path) -> PathBuf {
    let name = root
        .file_name()
        .map(|n| {
            n.to_string_lossy()
                .replace(|c: char| !c.is_alphanumeric(), "_")
        })
        .unwrap_or_else(|| "root".into());
    // FNV-1a: stable across runs and Rust versions (std's hasher is not).
    let hash = root
        .as_os_str()
        .as_encoded_bytes()
        .iter()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
        });
    home.join(".config/corecoder/approvals")
        .join(format!("{name}-{hash:016x}.toml"))
}

/// The rules in the file of answers (none when there is no file yet).
fn saved_rules(path: &Path) -> Result<Vec<Rule>, ConfigError> {
    let file = read_saved(path)?;
    let parse = |text: &String| Rule::parse(text).map_err(|e| bad_rule(path, text, &e));
    file.allow.iter().map(parse).collect()
}

fn read_saved(path: &Path) -> Result<SavedRules, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(SavedRules::default()),
        Err(e) => return Err(file_error(path, e.to_string())),
    };
    toml::from_str(&text).map_err(|e| file_error(path, e.to_string()))
}

fn add_all(
    rules: &mut Rules,
    kind: RuleKind,
    texts: &[String],
    source: Source,
    origin: &str,
) -> Result<(), ConfigError> {
    for text in texts {
        let rule = Rule::parse(text).map_err(|e| ConfigError::Rule {
            origin: origin.to_string(),
            rule: text.clone(),
            message: e,
        })?;
        rules.add(kind, rule, source.clone());
    }
    Ok(())
}

fn parse_mode(text: &str, origin: &str) -> Result<Mode, ConfigError> {
    Mode::parse(text).ok_or_else(|| ConfigError::BadNumber {
        name: origin.to_string(),
        expected: "one of default, acceptEdits, plan, bypassPermissions",
        value: text.to_string(),
    })
}

fn untrusted(path: &Path, what: &str, root: &Path) -> String {
    format!(
        "ignored the {what} of {} (a project cannot grant itself permissions); to trust it, add \
         [projects.\"{}\"] trust_level = \"trusted\" to ~/.config/corecoder/config.toml",
        path.display(),
        root.display()
    )
}

fn bad_rule(path: &Path, rule: &str, message: &str) -> ConfigError {
    ConfigError::Rule {
        origin: path.display().to_string(),
        rule: rule.to_string(),
        message: message.to_string(),
    }
}

fn file_error(path: &Path, message: String) -> ConfigError {
    ConfigError::File {
        path: path.to_path_buf(),
        message,
    }
}

#[cfg(test)]
mod tests;
