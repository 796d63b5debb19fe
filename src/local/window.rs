//! The context window a local server really gives a request, asked from the server itself.
//!
//! Each server says it differently: Ollama in the running model's `context_length`
//! (`/api/ps`) or a `num_ctx` parameter (`/api/show`), llama-server in `/props` (`n_ctx` per
//! slot), LM Studio in its model list (`loaded_context_length`), vLLM in `max_model_len`
//! (`/v1/models`). A model's trained maximum is not the window and is never used. When the
//! kind of server is not known (a base URL the person gave), every way is tried at once.

use std::time::Duration;

use serde_json::{Value, json};

use super::Kind;
use super::probe::{client, get_json, post_json};

/// What Ollama gives a model by default, below 24 GiB of GPU memory.
pub const OLLAMA_DEFAULT_WINDOW: usize = 4096;
/// Loading a model into Ollama to learn its window may take this long (the first request
/// would wait for the same load).
pub const OLLAMA_LOAD_BUDGET: Duration = Duration::from_secs(60);

/// A server's window for one model, and where the figure came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub tokens: usize,
    pub kind: Kind,
    /// Where the figure came from, for messages (`"/props"`).
    pub source: &'static str,
}

impl Window {
    /// The line said at start-up.
    pub fn describe(&self, model: &str) -> String {
        format!(
            "Context window of {model} on the {}: {} tokens ({}); corecoder compacts the \
             conversation to fit it (CORECODER_MAX_CONTEXT overrides).",
            self.kind.name(),
            self.tokens,
            self.source
        )
    }

    /// How to give the server a larger window.
    pub fn fix(&self) -> &'static str {
        self.kind.window_fix()
    }
}

/// The window of `model` on the server at `root` (`http://host:port`), asking as `kind` says,
/// or every way when it is not known; `None` when no way answered (each request is bounded
/// by `budget`).
pub async fn learn(
    root: &str,
    kind: Option<Kind>,
    model: &str,
    budget: Duration,
) -> Option<Window> {
    let client = client(budget)?;
    let kinds = match kind {
        Some(k) => vec![k],
        None => vec![Kind::LlamaCpp, Kind::Ollama, Kind::LmStudio, Kind::Vllm],
    };
    let mut set = tokio::task::JoinSet::new();
    for (i, kind) in kinds.into_iter().enumerate() {
        let (client, root, model) = (client.clone(), root.to_string(), model.to_string());
        set.spawn(async move { (i, ask(&client, &root, kind, &model).await) });
    }
    let mut answers = Vec::new();
    // Each request is bounded by `budget`; only loading a model into Ollama takes longer.
    let _ = tokio::time::timeout(budget * 3 + OLLAMA_LOAD_BUDGET, async {
        while let Some(joined) = set.join_next().await {
            if let Ok((i, Some(w))) = joined {
                answers.push((i, w));
            }
        }
    })
    .await;
    answers.sort_by_key(|(i, _)| *i);
    answers.into_iter().next().map(|(_, w)| w)
}

async fn ask(client: &reqwest::Client, root: &str, kind: Kind, model: &str) -> Option<Window> {
    let window = |tokens: u64, source| {
        Some(Window {
            tokens: usize::try_from(tokens).ok().filter(|t| *t > 0)?,
            kind,
            source,
        })
    };
    match kind {
        Kind::LlamaCpp => {
            let props = get_json(client, &format!("{root}/props")).await?;
            let n_ctx = props
                .pointer("/default_generation_settings/n_ctx")
                .or_else(|| props.get("n_ctx"))?
                .as_u64()?;
            window(n_ctx, "/props n_ctx per slot")
        }
        Kind::Ollama => {
            let (n, source) = ollama(client, root, model).await?;
            window(n, source)
        }
        Kind::LmStudio => {
            let list = get_json(client, &format!("{root}/api/v0/models")).await?;
            let this = entry(&list, model)?;
            let n = this
                .get("loaded_context_length")
                .or_else(|| this.get("max_context_length"))?
                .as_u64()?;
            window(n, "/api/v0/models")
        }
        Kind::Vllm => {
            let list = get_json(client, &format!("{root}/v1/models")).await?;
            let n = entry(&list, model)?.get("max_model_len")?.as_u64()?;
            window(n, "max_model_len, /v1/models")
        }
    }
}

/// Ollama's window for `model`: the running model's `context_length`, else the model's own
/// `num_ctx`; else the model is loaded (as the first request would) and asked again, since a
/// server started with `OLLAMA_CONTEXT_LENGTH` says its window only for a loaded model; else
/// Ollama's default is assumed. `None` when this is not Ollama.
async fn ollama(client: &reqwest::Client, root: &str, model: &str) -> Option<(u64, &'static str)> {
    if let Some(n) = ollama_running(client, root, model).await? {
        return Some((n, "/api/ps, the running model"));
    }
    let (url, body) = (format!("{root}/api/show"), json!({"model": model}));
    let show = post_json(client, &url, &body, None).await;
    if let Some(n) = show.as_ref().and_then(num_ctx) {
        return Some((n, "the model's num_ctx, /api/show"));
    }
    let load = json!({"model": model, "stream": false});
    let url = format!("{root}/api/generate");
    if post_json(client, &url, &load, Some(OLLAMA_LOAD_BUDGET))
        .await
        .is_some()
        && let Some(Some(n)) = ollama_running(client, root, model).await
    {
        return Some((n, "/api/ps, after loading the model"));
    }
    Some((
        OLLAMA_DEFAULT_WINDOW as u64,
        "assumed: Ollama's default; it did not report the model's window",
    ))
}

/// `Some(context_length)` of `model` among Ollama's running models (`Some(None)`: not running
/// or not said); `None` when `/api/ps` does not answer (not Ollama).
async fn ollama_running(client: &reqwest::Client, root: &str, model: &str) -> Option<Option<u64>> {
    let ps = get_json(client, &format!("{root}/api/ps")).await?;
    let running = ps.get("models").and_then(Value::as_array);
    let this = running.into_iter().flatten().find(|m| {
        ["name", "model"].iter().any(|k| {
            m.get(*k)
                .and_then(Value::as_str)
                .is_some_and(|n| same_model(n, model))
        })
    });
    Some(this.and_then(|m| m.get("context_length")?.as_u64()))
}

/// Ollama names `qwen2.5-coder` and `qwen2.5-coder:latest` the same model.
fn same_model(a: &str, b: &str) -> bool {
    let strip = |s: &str| s.strip_suffix(":latest").unwrap_or(s).to_string();
    strip(a) == strip(b)
}

/// The model list's entry for `model`.
fn entry<'a>(list: &'a Value, model: &str) -> Option<&'a Value> {
    list.get("data")?
        .as_array()?
        .iter()
        .find(|m| m.get("id").and_then(Value::as_str) == Some(model))
}

/// `num_ctx` from `/api/show`'s `parameters` text (`num_ctx 32768` on a line of its own).
fn num_ctx(show: &Value) -> Option<u64> {
    let params = show.get("parameters")?.as_str()?;
    params.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        (words.next()? == "num_ctx").then_some(())?;
        words.next()?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ollama_num_ctx_is_read_from_the_parameters_text() {
        let show =
            json!({"parameters": "stop \"<|im_end|>\"\nnum_ctx                        32768\n"});
        assert_eq!(num_ctx(&show), Some(32768));
        assert_eq!(num_ctx(&json!({"parameters": "temperature 0.2"})), None);
        assert!(same_model("qwen2.5-coder:latest", "qwen2.5-coder"));
        assert!(!same_model("qwen2.5-coder:7b", "qwen2.5-coder"));
    }
}
