//! Local model servers: finding one when nothing else is configured, and learning how much of
//! a prompt it really reads.
//!
//! With no API key and no base URL, corecoder looks on 127.0.0.1 for the usual servers
//! (Ollama 11434, llama.cpp 8080, LM Studio 1234, vLLM 8000, and this project's own
//! `scripts/local-model.sh` on 8091), all at once and within 150 ms, and uses the first one in
//! that order that answers, with the model it has loaded. No key is sent to it. For any server
//! on the loopback (found or configured), the context window it really has is asked for
//! (`window`) and used for compaction unless `CORECODER_MAX_CONTEXT` says otherwise: Ollama's
//! default window is 4,096 tokens, and it silently drops the start of a longer prompt.
//!
//! What it does not do: choose between several loaded models (it lists them and asks for
//! `-m`), or probe anything but 127.0.0.1.

pub mod probe;
pub mod start;
pub mod window;

use std::time::Duration;

use crate::config::{Config, ConfigError};

/// The whole probe of every port, in parallel, ends within this.
pub const PROBE_BUDGET: Duration = Duration::from_millis(150);
/// Each request asking a server for its window ends within this (loading a model into Ollama
/// has its own bound, `window::OLLAMA_LOAD_BUDGET`).
pub const WINDOW_BUDGET: Duration = Duration::from_secs(2);

/// The ports probed when `CORECODER_LOCAL_SERVERS` is unset, in order of preference.
pub const DEFAULT_SERVERS: &str =
    "ollama=11434,llamacpp=8080,lmstudio=1234,vllm=8000,llamacpp=8091";

/// The local servers corecoder knows how to ask for models and windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ollama,
    LlamaCpp,
    LmStudio,
    Vllm,
}

impl Kind {
    pub fn parse(name: &str) -> Option<Kind> {
        match name.trim().to_ascii_lowercase().as_str() {
            "ollama" => Some(Kind::Ollama),
            "llamacpp" | "llama.cpp" | "llama-server" => Some(Kind::LlamaCpp),
            "lmstudio" | "lm-studio" => Some(Kind::LmStudio),
            "vllm" => Some(Kind::Vllm),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Ollama => "Ollama",
            Kind::LlamaCpp => "llama.cpp server",
            Kind::LmStudio => "LM Studio",
            Kind::Vllm => "vLLM",
        }
    }

    /// How a person gives this server a larger window.
    pub fn window_fix(self) -> &'static str {
        match self {
            Kind::Ollama => "restart Ollama with OLLAMA_CONTEXT_LENGTH=32768 ollama serve",
            Kind::LlamaCpp => "restart llama-server with -c 32768 (per slot: -c 32768 × -np)",
            Kind::LmStudio => "load the model with a larger context length in LM Studio",
            Kind::Vllm => "restart vLLM with --max-model-len 32768",
        }
    }
}

/// One port to probe and what is expected there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    pub kind: Kind,
    pub port: u16,
}

/// `CORECODER_LOCAL_SERVERS`: `kind=port` pairs separated by commas, or `off`.
pub fn candidates(setting: Option<&str>) -> Result<Vec<Candidate>, ConfigError> {
    let text = setting
        .filter(|s| !s.trim().is_empty())
        .unwrap_or(DEFAULT_SERVERS);
    if text.trim().eq_ignore_ascii_case("off") {
        return Ok(Vec::new());
    }
    let bad = |item: &str| ConfigError::Invalid {
        key: "CORECODER_LOCAL_SERVERS".into(),
        message: format!(
            "{item:?} is not kind=port (kinds: ollama, llamacpp, lmstudio, vllm), e.g. {DEFAULT_SERVERS}; or off"
        ),
    };
    text.split(',')
        .map(|item| {
            let (kind, port) = item.split_once('=').ok_or_else(|| bad(item))?;
            let kind = Kind::parse(kind).ok_or_else(|| bad(item))?;
            let port = port.trim().parse::<u16>().map_err(|_| bad(item))?;
            Ok(Candidate { kind, port })
        })
        .collect()
}

/// A server that answered, and the models it offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub kind: Kind,
    /// `http://127.0.0.1:PORT`, without `/v1`.
    pub root: String,
    /// The models it has loaded (or, for Ollama with none loaded, installed).
    pub models: Vec<String>,
}

/// The base URL is on this machine (so the window is worth asking for).
pub fn is_loopback(base_url: &str) -> bool {
    let rest = base_url
        .split_once("://")
        .map_or(base_url, |(_, rest)| rest);
    let host = rest.split(['/', '?']).next().unwrap_or("");
    let host = match host.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    };
    matches!(host, "127.0.0.1" | "localhost" | "[::1]") || host.starts_with("127.")
}

/// Fills in what a local server decides: with no provider configured, the server found on
/// 127.0.0.1 and its model; for any loopback server, its context window (unless
/// `CORECODER_MAX_CONTEXT` was given). Returns what to tell the person.
pub async fn configure(
    config: &mut Config,
    servers: Option<&str>,
) -> Result<Vec<String>, ConfigError> {
    let mut notices = Vec::new();
    let mut kind = None;
    if config.needs_provider() {
        let list = candidates(servers)?;
        let found = probe::first(&list, PROBE_BUDGET).await;
        let Some(found) = found else {
            let probed: Vec<String> = list
                .iter()
                .map(|c| format!("{} {}", c.kind.name(), c.port))
                .collect();
            return Err(ConfigError::MissingKey {
                probed: if probed.is_empty() {
                    "probing is off".into()
                } else {
                    probed.join(", ")
                },
            });
        };
        if !config.chosen.model {
            config.model = probe::only_model(&found).await?;
        }
        config.base_url = format!("{}/v1", found.root);
        kind = Some(found.kind);
        notices.push(format!(
            "No API key or base URL set: using the {} at {} with model {} (no key sent).",
            found.kind.name(),
            config.base_url,
            config.model
        ));
    }
    if !config.chosen.max_context && is_loopback(&config.base_url) {
        let root = config.base_url.trim_end_matches("/v1").to_string();
        if let Some(w) = window::learn(&root, kind, &config.model, WINDOW_BUDGET).await {
            config.max_context = w.tokens;
            config.window = Some(w.clone());
            notices.push(w.describe(&config.model));
        }
    }
    Ok(notices)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_default_to_the_usual_ports_and_can_be_replaced_or_turned_off() {
        let all = candidates(None).unwrap();
        let ports: Vec<u16> = all.iter().map(|c| c.port).collect();
        assert_eq!(ports, [11434, 8080, 1234, 8000, 8091]);
        assert_eq!(all[0].kind, Kind::Ollama);
        assert_eq!(
            candidates(Some("vllm=9000")).unwrap(),
            [Candidate {
                kind: Kind::Vllm,
                port: 9000
            }]
        );
        assert!(candidates(Some("off")).unwrap().is_empty());
        let err = candidates(Some("ollama:1")).unwrap_err().to_string();
        assert!(
            err.contains("CORECODER_LOCAL_SERVERS") && err.contains("kind=port"),
            "{err}"
        );
        assert!(candidates(Some("mystery=1")).is_err());
    }

    #[test]
    fn loopback_urls_are_recognised() {
        for url in [
            "http://127.0.0.1:8080/v1",
            "http://localhost:11434/v1",
            "http://[::1]:8000/v1",
            "http://127.0.1.1/v1",
        ] {
            assert!(is_loopback(url), "{url}");
        }
        for url in [
            "https://api.openai.com/v1",
            "http://10.0.0.2:8080/v1",
            "http://localhost.example.com/v1",
        ] {
            assert!(!is_loopback(url), "{url}");
        }
    }
}
