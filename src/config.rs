//! Configuration: flags > environment > `.env` > defaults, with CoreCoder's variable names.
//!
//! The environment is an input (a lookup function), never mutated: a `.env` file fills only
//! the names the process environment leaves unset, which is what "never overrides a variable
//! that is already set" means, without `set_var`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
pub const DEFAULT_MODEL: &str = "gpt-5.5";

/// Every variable we read, with its default, for `--help` and the README.
pub const ENV_VARS: &[(&str, &str)] = &[
    (
        "CORECODER_API_KEY | OPENAI_API_KEY | DEEPSEEK_API_KEY",
        "(none; first set wins)",
    ),
    ("OPENAI_BASE_URL | CORECODER_BASE_URL", DEFAULT_BASE_URL),
    ("CORECODER_MODEL", DEFAULT_MODEL),
    ("CORECODER_MAX_TOKENS", "4096"),
    ("CORECODER_TEMPERATURE", "0"),
    ("CORECODER_MAX_CONTEXT", "128000"),
    (
        "CORECODER_STREAM_TIMEOUT",
        "120 (seconds without a byte; 0 = no limit)",
    ),
];

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    #[error(
        "no API key found. Set OPENAI_API_KEY (or CORECODER_API_KEY / DEEPSEEK_API_KEY), or pass --api-key.\n\n\
         Examples:\n  # OpenAI\n  export OPENAI_API_KEY=sk-...\n\n  \
         # DeepSeek\n  export OPENAI_API_KEY=sk-... OPENAI_BASE_URL=https://api.deepseek.com\n\n  \
         # Ollama (local; no key needed with a custom base URL)\n  \
         export OPENAI_BASE_URL=http://localhost:11434/v1 CORECODER_MODEL=qwen2.5-coder"
    )]
    MissingKey,
    #[error("{name} must be {expected}, got {value:?}")]
    BadNumber {
        name: &'static str,
        expected: &'static str,
        value: String,
    },
    #[error("cannot read {path}: {message}")]
    DotEnv { path: PathBuf, message: String },
}

/// What the command line may override.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub model: Option<String>,
    pub base_url: Option<String>,
    pub api_key: Option<String>,
}

#[derive(Clone)]
pub struct Config {
    pub api_key: Option<String>,
    pub base_url: String,
    pub model: String,
    pub max_tokens: u32,
    pub temperature: f64,
    pub max_context: usize,
    /// `None` (set as 0) waits forever.
    pub stream_timeout: Option<Duration>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key is never printed, not even in debug output.
        f.debug_struct("Config")
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("max_tokens", &self.max_tokens)
            .field("temperature", &self.temperature)
            .field("max_context", &self.max_context)
            .field("stream_timeout", &self.stream_timeout)
            .finish()
    }
}

impl Config {
    /// Builds the configuration from flags and an environment lookup (`.env` already layered
    /// in by the caller, see [`layered_env`]). Empty values count as unset.
    pub fn load(
        flags: &Overrides,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let first = |names: &[&str]| names.iter().find_map(|n| get(n));
        let flag = |v: &Option<String>| v.clone().filter(|v| !v.trim().is_empty());

        let base_url = flag(&flags.base_url)
            .or_else(|| first(&["OPENAI_BASE_URL", "CORECODER_BASE_URL"]))
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_string());
        let base_url = base_url.trim().trim_end_matches('/').to_string();
        let api_key = flag(&flags.api_key)
            .or_else(|| first(&["CORECODER_API_KEY", "OPENAI_API_KEY", "DEEPSEEK_API_KEY"]));
        if api_key.is_none() && base_url == DEFAULT_BASE_URL {
            return Err(ConfigError::MissingKey);
        }
        Ok(Config {
            api_key,
            model: flag(&flags.model)
                .or_else(|| get("CORECODER_MODEL"))
                .unwrap_or_else(|| DEFAULT_MODEL.to_string()),
            max_tokens: number(&get, "CORECODER_MAX_TOKENS", 4096)?,
            temperature: number(&get, "CORECODER_TEMPERATURE", 0.0)?,
            max_context: number(&get, "CORECODER_MAX_CONTEXT", 128_000)?,
            stream_timeout: stream_timeout(&get)?,
            base_url,
        })
    }
}

/// Seconds without a byte before a request counts as timed out; 0 disables the limit.
fn stream_timeout(get: &dyn Fn(&str) -> Option<String>) -> Result<Option<Duration>, ConfigError> {
    const NAME: &str = "CORECODER_STREAM_TIMEOUT";
    match get(NAME).map(|raw| (raw.trim().parse::<u64>(), raw)) {
        None => Ok(Some(Duration::from_secs(120))),
        Some((Ok(0), _)) => Ok(None),
        Some((Ok(s), _)) => Ok(Some(Duration::from_secs(s))),
        Some((Err(_), value)) => Err(ConfigError::BadNumber {
            name: NAME,
            expected: "a whole number of seconds (0 for no limit)",
            value,
        }),
    }
}

trait Number: std::str::FromStr {
    const EXPECTED: &'static str;
    fn valid(&self) -> bool;
}

impl Number for u32 {
    const EXPECTED: &'static str = "a positive whole number";
    fn valid(&self) -> bool {
        *self > 0
    }
}

impl Number for usize {
    const EXPECTED: &'static str = "a positive whole number";
    fn valid(&self) -> bool {
        *self > 0
    }
}

impl Number for f64 {
    const EXPECTED: &'static str = "a number between 0 and 2";
    fn valid(&self) -> bool {
        (0.0..=2.0).contains(self)
    }
}

fn number<T: Number>(
    get: &dyn Fn(&str) -> Option<String>,
    name: &'static str,
    default: T,
) -> Result<T, ConfigError> {
    let Some(raw) = get(name) else {
        return Ok(default);
    };
    match raw.trim().parse::<T>() {
        Ok(v) if v.valid() => Ok(v),
        _ => Err(ConfigError::BadNumber {
            name,
            expected: T::EXPECTED,
            value: raw,
        }),
    }
}

/// The nearest `.env` from `cwd` upwards, stopping at `home` (inclusive) or the root.
pub fn find_dotenv(cwd: &Path, home: Option<&Path>) -> Option<PathBuf> {
    for dir in cwd.ancestors() {
        let candidate = dir.join(".env");
        if candidate.is_file() {
            return Some(candidate);
        }
        if Some(dir) == home {
            break;
        }
    }
    None
}

/// Parses `.env` text: `KEY=value`, optional `export `, `#` comments, single or double quotes
/// (double quotes understand `\n`, `\"` and `\\`), inline ` #` comments after unquoted values.
pub fn parse_dotenv(text: &str) -> HashMap<String, String> {
    let mut vars = HashMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        if key.is_empty() || key.contains(char::is_whitespace) {
            continue;
        }
        vars.insert(key.to_string(), unquote(value.trim()));
    }
    vars
}

fn unquote(value: &str) -> String {
    if let Some(inner) = value.strip_prefix('\'') {
        return inner.split('\'').next().unwrap_or("").to_string();
    }
    if let Some(inner) = value.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => match chars.next() {
                    Some('n') => out.push('\n'),
                    Some(other) => out.push(other),
                    None => break,
                },
                c => out.push(c),
            }
        }
        return out;
    }
    match value.find(" #") {
        Some(at) => value[..at].trim_end().to_string(),
        None => value.to_string(),
    }
}

/// The process environment with the nearest `.env` filling only unset names.
pub fn layered_env<F: Fn(&str) -> Option<String>>(
    process: F,
    cwd: &Path,
    home: Option<&Path>,
) -> Result<impl Fn(&str) -> Option<String> + use<F>, ConfigError> {
    let dotenv = match find_dotenv(cwd, home) {
        Some(path) => {
            let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::DotEnv {
                path: path.clone(),
                message: e.to_string(),
            })?;
            parse_dotenv(&text)
        }
        None => HashMap::new(),
    };
    Ok(move |name: &str| {
        process(name)
            .filter(|v| !v.is_empty())
            .or_else(|| dotenv.get(name).cloned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn flags_beat_environment_and_defaults_fill_the_rest() {
        let flags = Overrides {
            model: Some("flag-model".into()),
            ..Overrides::default()
        };
        let c = Config::load(
            &flags,
            &env(&[("OPENAI_API_KEY", "k"), ("CORECODER_MODEL", "env-model")]),
        )
        .unwrap();
        assert_eq!(c.model, "flag-model");
        assert_eq!(c.base_url, DEFAULT_BASE_URL);
        assert_eq!(
            (c.max_tokens, c.temperature, c.max_context),
            (4096, 0.0, 128_000)
        );
    }

    #[test]
    fn first_set_key_wins_in_corecoder_order() {
        let e = env(&[
            ("DEEPSEEK_API_KEY", "d"),
            ("OPENAI_API_KEY", "o"),
            ("CORECODER_API_KEY", ""),
        ]);
        let c = Config::load(&Overrides::default(), &e).unwrap();
        assert_eq!(c.api_key.as_deref(), Some("o"));
    }

    #[test]
    fn missing_key_is_an_error_only_for_the_default_url() {
        let err = Config::load(&Overrides::default(), &env(&[])).unwrap_err();
        assert_eq!(err, ConfigError::MissingKey);
        let text = err.to_string();
        assert!(
            text.contains("OPENAI_API_KEY") && text.contains("deepseek") && text.contains("11434")
        );
        let local = Config::load(
            &Overrides::default(),
            &env(&[("OPENAI_BASE_URL", "http://localhost:11434/v1/")]),
        )
        .unwrap();
        assert_eq!(
            (local.api_key, local.base_url.as_str()),
            (None, "http://localhost:11434/v1")
        );
    }

    #[test]
    fn malformed_numbers_name_the_variable() {
        let err = Config::load(
            &Overrides::default(),
            &env(&[("OPENAI_API_KEY", "k"), ("CORECODER_MAX_TOKENS", "lots")]),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "CORECODER_MAX_TOKENS must be a positive whole number, got \"lots\""
        );
        let err = Config::load(
            &Overrides::default(),
            &env(&[("OPENAI_API_KEY", "k"), ("CORECODER_TEMPERATURE", "hot")]),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("CORECODER_TEMPERATURE must be a number")
        );
    }

    #[test]
    fn dotenv_parsing_handles_quotes_exports_and_comments() {
        let vars = parse_dotenv(
            "# c\nexport A=1\nB=\"x \\\"y\\\"\"\nC='raw # kept'\nD=v # comment\nbad line\n",
        );
        assert_eq!(vars["A"], "1");
        assert_eq!(vars["B"], "x \"y\"");
        assert_eq!(vars["C"], "raw # kept");
        assert_eq!(vars["D"], "v");
        assert_eq!(vars.len(), 4);
    }

    #[test]
    fn dotenv_never_overrides_a_set_variable_and_is_found_upwards() {
        let home = tempfile::tempdir().unwrap();
        let project = home.path().join("a/b");
        std::fs::create_dir_all(&project).unwrap();
        std::fs::write(
            home.path().join("a/.env"),
            "CORECODER_MODEL=from-file\nOPENAI_API_KEY=file-key\n",
        )
        .unwrap();
        let lookup = layered_env(
            env(&[("CORECODER_MODEL", "from-env")]),
            &project,
            Some(home.path()),
        )
        .unwrap();
        assert_eq!(lookup("CORECODER_MODEL").as_deref(), Some("from-env"));
        assert_eq!(lookup("OPENAI_API_KEY").as_deref(), Some("file-key"));
        // The search stops at $HOME: a .env above it is not read.
        assert_eq!(find_dotenv(&project, Some(&project)), None);
    }
}
