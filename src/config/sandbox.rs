//! `[sandbox]` (Codex CLI's names): which sandbox shell commands run in, from the flag, the
//! environment and the config files. A project's own `.corecoder.toml` cannot loosen it
//! unless the user's file trusts the project: a cloned repository must not switch the sandbox
//! off, open the network or add writable roots.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{ConfigError, ConfigFiles};
use crate::sandbox::{Preset, SandboxMode, SandboxPolicy};

/// `[sandbox]` as written in a config file.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SandboxSection {
    /// `read-only`, `workspace-write` (the default) or `danger-full-access`.
    pub mode: Option<String>,
    /// Whether commands may use the network (default false).
    pub network: Option<bool>,
    /// More directories commands may write under (`~/` expands to the home directory).
    pub writable_roots: Option<Vec<String>>,
    /// Package-manager caches to make writable: `cargo`, `npm`, `pip`, `go`.
    pub presets: Option<Vec<String>>,
    /// Whether the model may ask to run a command outside the sandbox (default true; it is
    /// always asked).
    pub allow_escalation: Option<bool>,
}

/// The sandbox settings in force, and what was ignored (told once at start).
#[derive(Debug, Clone, PartialEq)]
pub struct SandboxSettings {
    pub mode: SandboxMode,
    pub network: bool,
    pub writable_roots: Vec<PathBuf>,
    pub presets: Vec<Preset>,
    pub allow_escalation: bool,
    pub notices: Vec<String>,
}

impl SandboxSettings {
    /// The policy for a workspace, the environment read through `env`.
    pub fn policy(
        &self,
        workspace: &Path,
        home: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> SandboxPolicy {
        SandboxPolicy::new(
            self.mode,
            workspace,
            home,
            env,
            &self.writable_roots,
            &self.presets,
        )
        .with_network(self.network)
    }
}

/// `flag` (`--sandbox`) wins, then `CORECODER_SANDBOX` (`env_mode`), then the files (the
/// project's only when `trusted`), then the defaults.
pub fn resolve(
    files: &ConfigFiles,
    flag: Option<&str>,
    env_mode: Option<String>,
    trusted: bool,
) -> Result<SandboxSettings, ConfigError> {
    let mut notices = Vec::new();
    let layers: Vec<(&SandboxSection, &str)> = files
        .layers()
        .iter()
        .filter(|l| {
            let ignored = l.project_file && !trusted && l.sandbox.is_some();
            if ignored {
                notices.push(format!(
                    "ignored [sandbox] in {}: a project's file may not change the sandbox until \
                     you trust the project in ~/.config/corecoder/config.toml",
                    l.origin
                ));
            }
            !ignored
        })
        .filter_map(|l| l.sandbox.as_ref().map(|s| (s, l.origin.as_str())))
        .collect();
    let mode_text = match (flag, env_mode) {
        (Some(f), _) => Some((f.to_string(), "--sandbox".to_string())),
        (None, Some(e)) => Some((e, "CORECODER_SANDBOX".to_string())),
        (None, None) => layers.iter().find_map(|(s, origin)| {
            s.mode
                .clone()
                .map(|m| (m, format!("[sandbox] mode in {origin}")))
        }),
    };
    let mode = match mode_text {
        Some((text, origin)) => text
            .parse::<SandboxMode>()
            .map_err(|e| ConfigError::Invalid {
                key: origin,
                message: e,
            })?,
        None => SandboxMode::default(),
    };
    let network = layers.iter().find_map(|(s, _)| s.network).unwrap_or(false);
    let allow_escalation = layers
        .iter()
        .find_map(|(s, _)| s.allow_escalation)
        .unwrap_or(true);
    // Roots and presets add up across the files in force.
    let writable_roots = layers
        .iter()
        .flat_map(|(s, _)| s.writable_roots.iter().flatten())
        .map(PathBuf::from)
        .collect();
    let mut presets = Vec::new();
    for (section, origin) in &layers {
        for name in section.presets.iter().flatten() {
            let preset = name.parse::<Preset>().map_err(|e| ConfigError::Invalid {
                key: format!("[sandbox] presets in {origin}"),
                message: e,
            })?;
            if !presets.contains(&preset) {
                presets.push(preset);
            }
        }
    }
    Ok(SandboxSettings {
        mode,
        network,
        writable_roots,
        presets,
        allow_escalation,
        notices,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::file::tests::layer;

    #[test]
    fn the_default_is_workspace_write_without_network() {
        let s = resolve(&ConfigFiles::default(), None, None, false).unwrap();
        assert_eq!(
            (s.mode, s.network, s.allow_escalation),
            (SandboxMode::WorkspaceWrite, false, true)
        );
    }

    #[test]
    fn an_untrusted_project_cannot_loosen_the_sandbox_but_a_trusted_one_can() {
        let files = ConfigFiles::new(vec![
            layer(
                "[sandbox]\nmode = \"danger-full-access\"\nnetwork = true\n",
                true,
            ),
            layer(
                "[sandbox]\nwritable_roots = [\"~/.m2\"]\npresets = [\"cargo\"]\n",
                false,
            ),
        ]);
        let s = resolve(&files, None, None, false).unwrap();
        assert_eq!((s.mode, s.network), (SandboxMode::WorkspaceWrite, false));
        assert_eq!(s.writable_roots, [PathBuf::from("~/.m2")]);
        assert_eq!(s.presets, [Preset::Cargo]);
        assert!(
            s.notices[0].contains("ignored [sandbox] in .corecoder.toml"),
            "{:?}",
            s.notices
        );
        let s = resolve(&files, None, None, true).unwrap();
        assert_eq!((s.mode, s.network), (SandboxMode::DangerFullAccess, true));
    }

    #[test]
    fn the_flag_beats_the_environment_which_beats_the_files_and_bad_names_are_errors() {
        let files = ConfigFiles::new(vec![layer("[sandbox]\nmode = \"read-only\"\n", false)]);
        let env = Some("workspace-write".to_string());
        let s = resolve(&files, Some("danger-full-access"), env.clone(), false).unwrap();
        assert_eq!(s.mode, SandboxMode::DangerFullAccess);
        assert_eq!(
            resolve(&files, None, env, false).unwrap().mode,
            SandboxMode::WorkspaceWrite
        );
        assert_eq!(
            resolve(&files, None, None, false).unwrap().mode,
            SandboxMode::ReadOnly
        );
        let err = resolve(&files, Some("off"), None, false)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--sandbox") && err.contains("danger-full-access"),
            "{err}"
        );
        let bad = ConfigFiles::new(vec![layer("[sandbox]\npresets = [\"maven\"]\n", false)]);
        assert!(resolve(&bad, None, None, false).is_err());
    }
}
