//! Configuration: flags > environment > `.env` > project file > user file > defaults, with
//! CoreCoder's variable names.
//!
//! The environment is an input (a lookup function), never mutated: a `.env` file fills only
//! the names the process environment leaves unset (see `dotenv`), without `set_var`. The two
//! TOML files (`.corecoder.toml` in the project, `~/.config/corecoder/config.toml` for the user)
//! sit below the environment (see `file`). The API key is never read from those files, so it
//! cannot end up committed with a project.

pub mod checkpoints;
pub mod dotenv;
pub mod file;
pub mod hooks;
pub mod mcp;
pub mod route;
pub mod sandbox;

use std::time::Duration;

pub use dotenv::{layer, layered_env, load_dotenv};
pub use file::{ConfigFiles, FileSettings};

pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
pub const DEFAULT_MODEL: &str = "gpt-5.5";
pub const DEFAULT_MAX_ROUNDS: usize = 50;
pub const DEFAULT_MAX_TOKENS: u32 = 4096;
pub const DEFAULT_MAX_CONTEXT: usize = 128_000;

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
    (
        "CORECODER_MAX_CONTEXT",
        "128000 (a local server's own window when it reports one)",
    ),
    (
        "CORECODER_LOCAL_SERVERS",
        "ollama=11434,llamacpp=8080,lmstudio=1234,vllm=8000,llamacpp=8091 (probed on 127.0.0.1 \
         without a key or base URL; off = never)",
    ),
    ("CORECODER_MAX_ROUNDS", "50"),
    (
        "CORECODER_STREAM_TIMEOUT",
        "120 (seconds without a byte; 0 = no limit)",
    ),
    (
        "CORECODER_TEXT_TOOL_CALLS",
        "1 (run tool calls a model wrote as text; 0 = off)",
    ),
    ("NO_COLOR", "(unset; any value turns colours off)"),
];

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    #[error(
        "no API key found, and no local model server answered on 127.0.0.1 ({probed}). Set \
         OPENAI_API_KEY (or CORECODER_API_KEY / DEEPSEEK_API_KEY), or pass --api-key; or start \
         a local server.\n\n\
         Examples:\n  # OpenAI\n  export OPENAI_API_KEY=sk-...\n\n  \
         # DeepSeek\n  export OPENAI_API_KEY=sk-... OPENAI_BASE_URL=https://api.deepseek.com\n\n  \
         # Local, no key: start Ollama (found on its own at localhost:11434) with a window \
         large enough for a coding agent\n  OLLAMA_CONTEXT_LENGTH=32768 ollama serve\n\n  \
         # Local, no key: the project's own llama.cpp server and model (about 9 minutes to \
         build the first time)\n  scripts/local-model.sh"
    )]
    MissingKey { probed: String },
    #[error("{name} must be {expected}, got {value:?}")]
    BadNumber {
        name: String,
        expected: &'static str,
        value: String,
    },
    #[error("bad rule {rule:?} in {origin}: {message}")]
    Rule {
        origin: String,
        rule: String,
        message: String,
    },
    #[error(
        "{file} sets the API base URL to {url}, and corecoder does not send your API key (from \
         {key_from}) to a server a project names. If you trust this project, add\n  \
         [projects.\"{root}\"]\n  trust_level = \"trusted\"\nto ~/.config/corecoder/config.toml, \
         or pass --base-url yourself"
    )]
    UntrustedBaseUrl {
        file: std::path::PathBuf,
        url: String,
        key_from: String,
        root: std::path::PathBuf,
    },
    #[error("cannot read {path}: {message}")]
    File {
        path: std::path::PathBuf,
        message: String,
    },
    #[error("{key}: {message}")]
    Invalid { key: String, message: String },
    /// A local server was found, but which of its models to use is the person's choice.
    #[error("{0}")]
    ChooseModel(String),
}

/// What the command line may override.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub model: Option<String>,
    pub base_url: Option<String>,
    pub api_key: Option<String>,
    pub max_rounds: Option<usize>,
}

#[derive(Clone)]
pub struct Config {
    pub api_key: Option<String>,
    pub base_url: String,
    pub model: String,
    pub max_tokens: u32,
    pub temperature: f64,
    pub max_context: usize,
    pub max_rounds: usize,
    /// `None` (set as 0) waits forever.
    pub stream_timeout: Option<Duration>,
    /// Recover tool calls written as text when the server parsed none.
    pub text_tool_calls: bool,
    /// Variables a shell may see although their names look secret (`[shell_env] keep`).
    pub shell_env_keep: Vec<String>,
    /// Which settings the user chose (flags, environment, files) rather than the defaults:
    /// only those a local server may not replace.
    pub chosen: Chosen,
    /// The window a local server reported (then `max_context` is its size).
    pub window: Option<crate::local::window::Window>,
}

/// Settings that were given rather than defaulted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Chosen {
    pub model: bool,
    pub max_context: bool,
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
            .field("max_rounds", &self.max_rounds)
            .field("stream_timeout", &self.stream_timeout)
            .field("text_tool_calls", &self.text_tool_calls)
            .field("shell_env_keep", &self.shell_env_keep)
            .field("chosen", &self.chosen)
            .field("window", &self.window)
            .finish()
    }
}

/// One setting's raw text and where it came from (the name errors show).
type Raw = Option<(String, String)>;

impl Config {
    /// Builds the configuration from flags, an environment lookup (`.env` already layered in,
    /// see [`layered_env`]) and the merged config files. Empty values count as unset.
    pub fn load(
        flags: &Overrides,
        env: &dyn Fn(&str) -> Option<String>,
        files: &ConfigFiles,
    ) -> Result<Config, ConfigError> {
        let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let first = |names: &[&str]| names.iter().find_map(|n| get(n));
        let flag = |v: &Option<String>| v.clone().filter(|v| !v.trim().is_empty());
        let raw = |name: &str, file: Option<(String, String)>| -> Raw {
            get(name).map(|v| (v, name.to_string())).or(file)
        };

        let base_url = flag(&flags.base_url)
            .or_else(|| first(&["OPENAI_BASE_URL", "CORECODER_BASE_URL"]))
            .or_else(|| files.base_url());
        let model = flag(&flags.model)
            .or_else(|| get("CORECODER_MODEL"))
            .or_else(|| files.model());
        let max_context = raw("CORECODER_MAX_CONTEXT", files.raw("max_context"));
        let chosen = Chosen {
            model: model.is_some(),
            max_context: max_context.is_some(),
        };
        let base_url = base_url.unwrap_or_else(|| DEFAULT_BASE_URL.to_string());
        let base_url = base_url.trim().trim_end_matches('/').to_string();
        let api_key = flag(&flags.api_key)
            .or_else(|| first(&["CORECODER_API_KEY", "OPENAI_API_KEY", "DEEPSEEK_API_KEY"]));
        let max_rounds = match flags.max_rounds {
            Some(n) => n,
            None => number(
                raw("CORECODER_MAX_ROUNDS", files.raw("max_rounds")),
                DEFAULT_MAX_ROUNDS,
            )?,
        };
        Ok(Config {
            api_key,
            model: model.unwrap_or_else(|| DEFAULT_MODEL.to_string()),
            max_tokens: number(
                raw("CORECODER_MAX_TOKENS", files.raw("max_tokens")),
                DEFAULT_MAX_TOKENS,
            )?,
            temperature: number(raw("CORECODER_TEMPERATURE", files.raw("temperature")), 0.0)?,
            max_context: number(max_context, DEFAULT_MAX_CONTEXT)?,
            max_rounds,
            stream_timeout: stream_timeout(raw("CORECODER_STREAM_TIMEOUT", None))?,
            text_tool_calls: switch(raw("CORECODER_TEXT_TOOL_CALLS", None), true)?,
            // The project's list counts only for a trusted project; the caller, which knows
            // the project root, adds it (see `permissions`).
            shell_env_keep: files.shell_env_keep(false),
            base_url,
            chosen,
            window: None,
        })
    }

    /// Neither a key nor a server was named: the default provider cannot be used, and a local
    /// server on this machine is looked for instead (see `local`).
    pub fn needs_provider(&self) -> bool {
        self.api_key.is_none() && self.base_url == DEFAULT_BASE_URL
    }
}

/// Seconds without a byte before a request counts as timed out; 0 disables the limit.
fn stream_timeout(raw: Raw) -> Result<Option<Duration>, ConfigError> {
    let Some((value, name)) = raw else {
        return Ok(Some(Duration::from_secs(120)));
    };
    match value.trim().parse::<u64>() {
        Ok(0) => Ok(None),
        Ok(s) => Ok(Some(Duration::from_secs(s))),
        Err(_) => Err(ConfigError::BadNumber {
            name,
            expected: "a whole number of seconds (0 for no limit)",
            value,
        }),
    }
}

/// An on/off setting: `1`/`true`/`on`/`yes` or `0`/`false`/`off`/`no`.
fn switch(raw: Raw, default: bool) -> Result<bool, ConfigError> {
    let Some((value, name)) = raw else {
        return Ok(default);
    };
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "on" | "yes" => Ok(true),
        "0" | "false" | "off" | "no" => Ok(false),
        _ => Err(ConfigError::BadNumber {
            name,
            expected: "1 or 0",
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

fn number<T: Number>(raw: Raw, default: T) -> Result<T, ConfigError> {
    let Some((value, name)) = raw else {
        return Ok(default);
    };
    match value.trim().parse::<T>() {
        Ok(v) if v.valid() => Ok(v),
        _ => Err(ConfigError::BadNumber {
            name,
            expected: T::EXPECTED,
            value,
        }),
    }
}

#[cfg(test)]
pub(crate) mod tests;
