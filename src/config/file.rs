//! The optional TOML config files: `~/.config/corecoder/config.toml` (the user's) and
//! `.corecoder.toml` (the project's, in the working directory). The project file wins over the
//! user file; both sit below the environment. Unknown keys are an error, so a typo does not
//! silently do nothing. The API key is deliberately not a key here.

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
    /// Where the values came from, for error messages.
    #[serde(skip)]
    pub origin: String,
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
        let mut layers = vec![FileSettings::read(&cwd.join(".corecoder.toml"))?];
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
}

fn file_error(path: &Path, message: String) -> ConfigError {
    ConfigError::File {
        path: PathBuf::from(path),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
