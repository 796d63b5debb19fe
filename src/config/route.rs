//! Where the API key may be sent. A project's own files (its `.corecoder.toml`, or a `.env`
//! inside it) may name a base URL, but the user's key (from the environment, a flag, or a file
//! outside the project) goes there only when the user trusts the project; otherwise corecoder
//! stops before sending anything and says which file set what. A cloned repository must not
//! be able to collect its reader's key.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::{ConfigError, ConfigFiles};

const BASE_URL_VARS: &[&str] = &["OPENAI_BASE_URL", "CORECODER_BASE_URL"];
const KEY_VARS: &[&str] = &["CORECODER_API_KEY", "OPENAI_API_KEY", "DEEPSEEK_API_KEY"];

/// What decided the base URL and the key, as far as the check needs to know.
pub struct Route<'a> {
    pub base_url_flag: bool,
    pub api_key_flag: bool,
    /// The process environment alone (without `.env`).
    pub process: &'a dyn Fn(&str) -> Option<String>,
    /// The `.env` file in force and its variables.
    pub dotenv: Option<(&'a Path, &'a HashMap<String, String>)>,
    pub files: &'a ConfigFiles,
    /// The project root; files inside it are the project's.
    pub root: &'a Path,
    pub trusted: bool,
}

/// `Err` when a project file names the base URL and the key comes from outside the project
/// while the project is not trusted.
pub fn check(route: &Route, base_url: &str, has_key: bool) -> Result<(), ConfigError> {
    if !has_key || route.trusted || route.base_url_flag {
        return Ok(());
    }
    let set = |v: Option<String>| v.is_some_and(|v| !v.trim().is_empty());
    if BASE_URL_VARS.iter().any(|n| set((route.process)(n))) {
        return Ok(());
    }
    let inside = |p: &Path| {
        let real = p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
        real.starts_with(route.root)
    };
    let from_dotenv = route
        .dotenv
        .filter(|(_, vars)| BASE_URL_VARS.iter().any(|n| set(vars.get(*n).cloned())))
        .map(|(path, _)| path.to_path_buf());
    let project_file = route
        .files
        .layers()
        .iter()
        .find(|l| l.base_url.is_some())
        .filter(|l| l.project_file)
        .map(|l| PathBuf::from(&l.origin));
    let named_by = match from_dotenv {
        Some(path) if inside(&path) => path,
        Some(_) => return Ok(()),
        None => match project_file {
            Some(path) => path,
            None => return Ok(()),
        },
    };
    let key_from = if route.api_key_flag {
        "--api-key".to_string()
    } else if let Some(name) = KEY_VARS.iter().find(|n| set((route.process)(n))) {
        format!("the environment ({name})")
    } else {
        match route.dotenv {
            Some((path, _)) if inside(path) => return Ok(()),
            Some((path, _)) => path.display().to_string(),
            None => return Ok(()),
        }
    };
    Err(ConfigError::UntrustedBaseUrl {
        file: named_by,
        url: crate::redact::redact_urls(base_url),
        key_from,
        root: route.root.to_path_buf(),
    })
}
