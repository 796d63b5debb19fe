//! `[checkpoints]`: whether undo records checkpoints, and its limits.
//!
//! ```toml
//! [checkpoints]
//! enabled = true          # CORECODER_CHECKPOINTS=off also switches them off
//! max_file_size_mb = 10   # larger files are not snapshotted ("not restorable")
//! budget_mb = 1024        # the whole store, across sessions; oldest turns dropped first
//! ```
//! The store is shared by every project, so a project's file may not set its limits or switch
//! undo off unless the user trusts the project (as for `[sandbox]`).

use serde::Deserialize;

use super::{ConfigError, ConfigFiles};
use crate::checkpoint::Limits;

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointSection {
    pub enabled: Option<bool>,
    pub max_file_size_mb: Option<u64>,
    pub budget_mb: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointSettings {
    pub enabled: bool,
    pub limits: Limits,
    /// Said on stderr at start-up (an untrusted project's section ignored).
    pub notices: Vec<String>,
}

/// The settings in force: `CORECODER_CHECKPOINTS` (process environment only), then the files.
pub fn resolve(
    files: &ConfigFiles,
    env: Option<String>,
    trusted: bool,
) -> Result<CheckpointSettings, ConfigError> {
    let mut notices = Vec::new();
    let mut sections = Vec::new();
    for layer in files.layers() {
        let Some(section) = &layer.checkpoints else {
            continue;
        };
        if layer.project_file && !trusted {
            notices.push(format!(
                "ignored [checkpoints] in {}: a project's file may not change undo until you \
                 trust the project in ~/.config/corecoder/config.toml",
                layer.origin
            ));
            continue;
        }
        sections.push(section);
    }
    let enabled = match env.as_deref().map(str::trim) {
        None | Some("") => sections.iter().find_map(|s| s.enabled).unwrap_or(true),
        Some(v) => match v.to_ascii_lowercase().as_str() {
            "1" | "on" | "true" | "yes" => true,
            "0" | "off" | "false" | "no" => false,
            _ => {
                return Err(ConfigError::Invalid {
                    key: "CORECODER_CHECKPOINTS".into(),
                    message: format!("{v:?}: use on or off"),
                });
            }
        },
    };
    let mb = |pick: fn(&CheckpointSection) -> Option<u64>, key: &str, default: u64| match sections
        .iter()
        .find_map(|s| pick(s))
    {
        None => Ok(default),
        Some(0) => Err(ConfigError::Invalid {
            key: format!("[checkpoints] {key}"),
            message: "must be at least 1".into(),
        }),
        Some(n) => Ok(n.saturating_mul(1 << 20)),
    };
    let defaults = Limits::default();
    let limits = Limits {
        max_file_size: mb(
            |s| s.max_file_size_mb,
            "max_file_size_mb",
            defaults.max_file_size,
        )?,
        budget: mb(|s| s.budget_mb, "budget_mb", defaults.budget)?,
    };
    Ok(CheckpointSettings {
        enabled,
        limits,
        notices,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FileSettings;

    fn files(project: &str, user: &str) -> ConfigFiles {
        let parse = |text: &str, project_file: bool| FileSettings {
            project_file,
            origin: if project_file { "project" } else { "user" }.into(),
            ..toml::from_str(text).unwrap()
        };
        ConfigFiles::new(vec![parse(project, true), parse(user, false)])
    }

    #[test]
    fn defaults_user_file_environment_and_untrusted_projects() {
        let none = resolve(&files("", ""), None, false).unwrap();
        assert!(none.enabled);
        assert_eq!(none.limits, Limits::default());
        let user = "[checkpoints]\nbudget_mb = 5\nmax_file_size_mb = 2\n";
        let set = resolve(&files("", user), None, false).unwrap();
        assert_eq!(
            (set.limits.budget, set.limits.max_file_size),
            (5 << 20, 2 << 20)
        );
        // A repository cannot switch undo off for a user who did not trust it.
        let project = "[checkpoints]\nenabled = false\n";
        let untrusted = resolve(&files(project, ""), None, false).unwrap();
        assert!(untrusted.enabled);
        assert!(untrusted.notices[0].contains("ignored [checkpoints]"));
        assert!(!resolve(&files(project, ""), None, true).unwrap().enabled);
        assert!(
            !resolve(&files("", ""), Some("off".into()), false)
                .unwrap()
                .enabled
        );
        assert!(resolve(&files("", ""), Some("maybe".into()), false).is_err());
        assert!(resolve(&files("", "[checkpoints]\nbudget_mb = 0\n"), None, false).is_err());
    }
}
