//! The optional TOML config files: `~/.config/corecoder/config.toml` (the user's) and
//! `.corecoder.toml` (the project's, in the working directory). The project file wins over the
//! user file; both sit below the environment. Unknown keys are an error, so a typo does not
//! silently do nothing. The API key is deliberately not a key here.
//!
//! Permissions are read here but judged in `permissions`: a project file may add `deny` and
//! `ask` rules, while its `allow` rules and `permission_mode` count only for a project the
//! user's own file trusts (`[projects."/path"] trust_level = "trusted"`, Codex's spelling).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::ConfigError;

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    pub model: Option<String>,
    pub base_url: Option<String>,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f64>,
    pub max_context: Option<usize>,
    pub max_rounds: Option<usize>,
    /// `default`, `acceptEdits`, `plan` or `bypassPermissions` (Claude Code's names).
    pub permission_mode: Option<String>,
    pub permissions: Option<RuleLists>,
    pub shell_env: Option<ShellEnv>,
    /// `[sandbox]`: judged in `config::sandbox` (a project's counts only when trusted).
    pub sandbox: Option<super::sandbox::SandboxSection>,
    /// `[hooks]`: judged in `config::hooks` (a project's count only when trusted).
    pub hooks: Option<super::hooks::HooksSection>,
    /// `[checkpoints]`: judged in `config::checkpoints` (a project's counts only when trusted).
    pub checkpoints: Option<super::checkpoints::CheckpointSection>,
    /// `[mcp_servers.NAME]`: read by `config::mcp` (a project's need the user's consent).
    pub mcp_servers: Option<BTreeMap<String, super::mcp::TomlServer>>,
    /// Per-project settings of the user's file, keyed by the project's absolute path.
    pub projects: Option<BTreeMap<String, ProjectSettings>>,
    /// Where the values came from, for error messages.
    #[serde(skip)]
    pub origin: String,
    /// Whether this is the project's file (whose permissions are limited) or the user's.
    #[serde(skip)]
    pub project_file: bool,
}

/// `[permissions]`: rules as text (`bash(cargo test:*)`), parsed by `permissions`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleLists {
    #[serde(default)]
    pub allow: Vec<String>,
    #[serde(default)]
    pub ask: Vec<String>,
    #[serde(default)]
    pub deny: Vec<String>,
}

/// `[shell_env]`: variables a shell command may see although their names look secret.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShellEnv {
    #[serde(default)]
    pub keep: Vec<String>,
}

/// `[projects."/abs/path"]` in the user's file.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectSettings {
    /// `"trusted"` lets the project's own file allow things and set the mode.
    pub trust_level: Option<String>,
}

impl FileSettings {
    /// Reads one file; a missing file is empty settings, a malformed one an error.
    pub fn read(path: &Path) -> Result<FileSettings, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(FileSettings::default());
            }
            Err(e) => return Err(file_error(path, e.to_string())),
        };
        let parsed: FileSettings =
            toml::from_str(&text).map_err(|e| file_error(path, e.to_string()))?;
        Ok(parsed.named(&path.display().to_string()))
    }

    pub fn named(mut self, origin: &str) -> Self {
        self.origin = origin.to_string();
        self
    }

    /// A numeric setting as text plus the name errors show (`max_tokens in <file>`).
    fn raw(&self, key: &str) -> Option<(String, String)> {
        let value = match key {
            "max_tokens" => self.max_tokens.map(|v| v.to_string()),
            "temperature" => self.temperature.map(|v| v.to_string()),
            "max_context" => self.max_context.map(|v| v.to_string()),
            "max_rounds" => self.max_rounds.map(|v| v.to_string()),
            _ => None,
        }?;
        Some((value, format!("{key} in {}", self.origin)))
    }
}

/// The config files in precedence order: the project's first, then the user's.
#[derive(Debug, Clone, Default)]
pub struct ConfigFiles {
    layers: Vec<FileSettings>,
}

impl ConfigFiles {
    pub fn new(layers: Vec<FileSettings>) -> Self {
        ConfigFiles { layers }
    }

    /// Reads `.corecoder.toml` in `cwd` and `~/.config/corecoder/config.toml`.
    pub fn discover(cwd: &Path, home: Option<&Path>) -> Result<ConfigFiles, ConfigError> {
        let mut project = FileSettings::read(&cwd.join(".corecoder.toml"))?;
        project.project_file = true;
        let mut layers = vec![project];
        if let Some(h) = home {
            layers.push(FileSettings::read(
                &h.join(".config/corecoder/config.toml"),
            )?);
        }
        Ok(ConfigFiles { layers })
    }

    pub fn model(&self) -> Option<String> {
        self.layers.iter().find_map(|l| l.model.clone())
    }

    pub fn base_url(&self) -> Option<String> {
        self.layers.iter().find_map(|l| l.base_url.clone())
    }

    pub(super) fn raw(&self, key: &str) -> Option<(String, String)> {
        self.layers.iter().find_map(|l| l.raw(key))
    }

    /// Every layer, the project's first.
    pub fn layers(&self) -> &[FileSettings] {
        &self.layers
    }

    /// `[shell_env] keep` of the user's file, and of the project's only when the user trusts
    /// it (`trusted`): a cloned repository must not hand the shell the user's secrets.
    pub fn shell_env_keep(&self, trusted: bool) -> Vec<String> {
        let layers = self.layers.iter().filter(|l| trusted || !l.project_file);
        let lists = layers.filter_map(|l| l.shell_env.as_ref());
        lists.flat_map(|e| e.keep.iter().cloned()).collect()
    }

    /// Whether the user's own file trusts the project at `root` (a project file cannot trust
    /// itself).
    pub fn trusts(&self, root: &Path) -> bool {
        let user = self.layers.iter().filter(|l| !l.project_file);
        user.filter_map(|l| l.projects.as_ref()).any(|projects| {
            projects.iter().any(|(path, p)| {
                let path = std::fs::canonicalize(path).unwrap_or_else(|_| PathBuf::from(path));
                path == root && p.trust_level.as_deref() == Some("trusted")
            })
        })
    }
}

fn file_error(path: &Path, message: String) -> ConfigError {
    ConfigError::File {
        path: PathBuf::from(path),
        message,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One file's settings from TOML text, as the project's file or the user's.
    pub(crate) fn layer(text: &str, project: bool) -> FileSettings {
        let mut s: FileSettings = toml::from_str(text).unwrap();
        s.project_file = project;
        s.origin = if project {
            ".corecoder.toml"
        } else {
            "config.toml"
        }
        .to_string();
        s
    }

    #[test]
    fn project_file_wins_over_user_file() {
        let home = tempfile::tempdir().unwrap();
        let project = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(home.path().join(".config/corecoder")).unwrap();
        std::fs::write(
            home.path().join(".config/corecoder/config.toml"),
            "model = \"user\"\nmax_rounds = 9\n",
        )
        .unwrap();
        std::fs::write(
            project.path().join(".corecoder.toml"),
            "model = \"project\"\n",
        )
        .unwrap();
        let files = ConfigFiles::discover(project.path(), Some(home.path())).unwrap();
        assert_eq!(files.model().as_deref(), Some("project"));
        let (rounds, origin) = files.raw("max_rounds").unwrap();
        assert_eq!(rounds, "9");
        assert!(
            origin.ends_with(".config/corecoder/config.toml"),
            "{origin}"
        );
    }

    #[test]
    fn a_malformed_or_unknown_key_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".corecoder.toml");
        std::fs::write(&path, "modle = \"x\"\n").unwrap();
        let err = FileSettings::read(&path).unwrap_err().to_string();
        assert!(
            err.contains(".corecoder.toml") && err.contains("modle"),
            "{err}"
        );
        std::fs::write(&path, "max_tokens = \"many\"\n").unwrap();
        assert!(FileSettings::read(&path).is_err());
        assert_eq!(
            FileSettings::read(&dir.path().join("none.toml")).unwrap(),
            FileSettings::default()
        );
    }
}
