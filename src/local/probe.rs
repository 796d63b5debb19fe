//! Which local server answers, and which model it serves.
//!
//! Every candidate port gets one `GET /v1/models` at the same time (all four servers speak the
//! OpenAI model list); a closed port on the loopback refuses at once, so the probe usually
//! takes a few milliseconds and never more than its budget. Among the servers that answered,
//! the first in the candidates' order wins, so the choice does not depend on timing.

use std::time::Duration;

use serde_json::Value;
use tokio::task::JoinSet;

use super::{Candidate, Found, Kind};
use crate::config::ConfigError;

/// A client for loopback servers: no proxy (a proxy cannot reach our 127.0.0.1), no TLS roots
/// (plain HTTP; loading the system's certificates took longer than the whole probe), and
/// every request bounded by `timeout`.
pub fn client(timeout: Duration) -> Option<reqwest::Client> {
    reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only([])
        .timeout(timeout)
        .connect_timeout(timeout)
        .build()
        .ok()
}

/// `GET url` as JSON; `None` for anything but a 2xx JSON answer.
pub async fn get_json(client: &reqwest::Client, url: &str) -> Option<Value> {
    let response = client.get(url).send().await.ok()?;
    if !response.status().is_success() {
        return None;
    }
    serde_json::from_slice(&response.bytes().await.ok()?).ok()
}

/// `POST url` with a JSON body, answered as JSON; `timeout` replaces the client's own.
pub async fn post_json(
    client: &reqwest::Client,
    url: &str,
    body: &Value,
    timeout: Option<Duration>,
) -> Option<Value> {
    let mut request = client.post(url);
    if let Some(t) = timeout {
        request = request.timeout(t);
    }
    let response = request
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .ok()?;
    if !response.status().is_success() {
        return None;
    }
    serde_json::from_slice(&response.bytes().await.ok()?).ok()
}

/// The ids of an OpenAI model list (`{"data": [{"id": …}]}`); `None` when it is not one.
fn model_ids(list: &Value) -> Option<Vec<String>> {
    let data = list.get("data")?.as_array()?;
    Some(
        data.iter()
            .filter_map(|m| m.get("id")?.as_str().map(str::to_string))
            .collect(),
    )
}

/// The first candidate, in order, whose port answered with a model list within `budget`.
pub async fn first(candidates: &[Candidate], budget: Duration) -> Option<Found> {
    if candidates.is_empty() {
        return None;
    }
    let client = client(budget)?;
    let mut set = JoinSet::new();
    for (i, c) in candidates.iter().enumerate() {
        let (client, root) = (client.clone(), format!("http://127.0.0.1:{}", c.port));
        set.spawn(async move {
            let models = model_ids(&get_json(&client, &format!("{root}/v1/models")).await?)?;
            Some((i, root, models))
        });
    }
    let mut answered = Vec::new();
    // The budget bounds the whole probe, whatever a half-open port does.
    let _ = tokio::time::timeout(budget, async {
        while let Some(joined) = set.join_next().await {
            if let Ok(Some(found)) = joined {
                answered.push(found);
            }
        }
    })
    .await;
    answered.sort_by_key(|(i, _, _)| *i);
    let (i, root, models) = answered.into_iter().next()?;
    Some(Found {
        kind: candidates[i].kind,
        root,
        models,
    })
}

/// The model to use when the person named none: the only one the server offers, or the only
/// one it has loaded; otherwise the person is asked to choose with `-m`.
pub async fn only_model(found: &Found) -> Result<String, ConfigError> {
    if let [one] = found.models.as_slice() {
        return Ok(one.clone());
    }
    if let Some(loaded) = loaded_models(found).await
        && let [one] = loaded.as_slice()
    {
        return Ok(one.clone());
    }
    let what = format!("the {} at {}", found.kind.name(), found.root);
    Err(ConfigError::ChooseModel(if found.models.is_empty() {
        format!("{what} has no model; load one there, or pass -m NAME")
    } else {
        format!(
            "{what} offers several models: {}; choose one with -m NAME",
            found.models.join(", ")
        )
    }))
}

/// The models the server has in memory, where it can say (Ollama, LM Studio).
async fn loaded_models(found: &Found) -> Option<Vec<String>> {
    let client = client(super::WINDOW_BUDGET)?;
    match found.kind {
        Kind::Ollama => {
            let ps = get_json(&client, &format!("{}/api/ps", found.root)).await?;
            let models = ps.get("models")?.as_array()?;
            Some(
                models
                    .iter()
                    .filter_map(|m| m.get("name")?.as_str().map(str::to_string))
                    .collect(),
            )
        }
        Kind::LmStudio => {
            let list = get_json(&client, &format!("{}/api/v0/models", found.root)).await?;
            let data = list.get("data")?.as_array()?;
            Some(
                data.iter()
                    .filter(|m| m.get("state").and_then(Value::as_str) == Some("loaded"))
                    .filter_map(|m| m.get("id")?.as_str().map(str::to_string))
                    .collect(),
            )
        }
        Kind::LlamaCpp | Kind::Vllm => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn model_lists_are_read_loosely() {
        let list = json!({"object": "list", "data": [{"id": "a"}, {"name": "no id"}, {"id": "b"}]});
        assert_eq!(model_ids(&list).unwrap(), ["a", "b"]);
        assert_eq!(model_ids(&json!({"error": "no"})), None);
    }
}
