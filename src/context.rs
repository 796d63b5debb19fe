//! The context manager: keeps the history inside the model's window, in CoreCoder's three layers.
//!
//! 1. snip (50 % of the window): long tool results shrink to their first and last 3 lines;
//! 2. summarize (70 %, more than 10 messages): the model summarises all but the last 8 messages;
//! 3. collapse (90 %): a summary plus the last 4 messages.
//!
//! Splits never separate a tool message from the assistant message that called it. Size comes
//! from the provider's reported `prompt_tokens` for what was sent, plus an estimate of what was
//! added since; without usage, from the heuristic alone. The system prompt, the tools and the
//! context message (with the project instructions) are not history and are never compacted;
//! the caller passes their size as `fixed` tokens.
//!
//! A reported size far below the estimate (under 70 %) means the server cut the prompt (Ollama
//! drops the start of a prompt longer than its window and still answers 200): that figure is
//! not used as the anchor, and the caller is told once.

use crate::llm::{ChatRequest, Llm, Usage};
use crate::message::Message;

const SUMMARY_PROMPT: &str = "Compress this conversation into a brief summary for the \
assistant that will continue it. Preserve: file paths read or edited, key decisions made, \
errors encountered and how they were resolved, and the current state of the task. Drop: \
verbose command output, code listings, redundant back-and-forth.";

/// Tokens in `text` by CoreCoder's heuristic: CJK ≈ 1.5 chars/token, symbol-dense text ≈ 2.8,
/// other text ≈ 3.4.
pub fn approx_tokens(text: &str) -> usize {
    let (mut chars, mut cjk, mut symbols) = (0usize, 0usize, 0usize);
    for c in text.chars() {
        chars += 1;
        if is_cjk(c) {
            cjk += 1;
        } else if !c.is_alphanumeric() && c != '_' && !c.is_whitespace() {
            symbols += 1;
        }
    }
    let rest = chars - cjk;
    let dense = rest > 0 && symbols as f64 / chars as f64 > 0.25;
    let per_token = if dense { 2.8 } else { 3.4 };
    (cjk * 2).div_ceil(3) + (rest as f64 / per_token) as usize
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0xF900..=0xFAFF | 0x3000..=0x303F | 0xFF00..=0xFFEF
        | 0x3040..=0x30FF | 0xAC00..=0xD7AF)
}

/// Heuristic size of messages (text plus tool-call names and arguments).
pub fn estimate_messages(messages: &[Message]) -> usize {
    messages
        .iter()
        .map(|m| {
            let calls: usize = m
                .tool_calls()
                .iter()
                .map(|c| approx_tokens(&c.function.name) + approx_tokens(&c.function.arguments))
                .sum();
            approx_tokens(m.text()) + calls + 4
        })
        .sum()
}

/// Layer 1: tool results over 1,500 characters and 6 lines keep their first and last 3 lines.
pub fn snip_tool_outputs(messages: &mut [Message]) -> bool {
    let mut changed = false;
    for m in messages.iter_mut() {
        let Message::Tool { content, .. } = m else {
            continue;
        };
        if content.chars().count() <= 1500 {
            continue;
        }
        let lines: Vec<&str> = content.lines().collect();
        if lines.len() <= 6 {
            continue;
        }
        let n = lines.len();
        *content = format!(
            "{}\n... ({n} lines, snipped to save context) ...\n{}",
            lines[..3].join("\n"),
            lines[n - 3..].join("\n")
        );
        changed = true;
    }
    changed
}

/// Where the kept tail starts: `keep_recent` from the end, moved back so the tail never opens
/// with a tool result whose calling assistant message would be cut off.
pub fn safe_split(messages: &[Message], keep_recent: usize) -> usize {
    let mut split = messages.len().saturating_sub(keep_recent);
    while split > 0 && matches!(messages[split], Message::Tool { .. }) {
        split -= 1;
    }
    split
}

/// The text given to the summariser: each message's role and its first 400 characters.
fn flatten(messages: &[Message]) -> String {
    let mut out = String::new();
    for m in messages {
        let text = m.text();
        if !text.is_empty() {
            let head: String = text.chars().take(400).collect();
            out.push_str(&format!("[{}] {head}\n", m.role()));
        }
        for c in m.tool_calls() {
            let args: String = c.function.arguments.chars().take(200).collect();
            out.push_str(&format!("[tool call] {}({args})\n", c.function.name));
        }
    }
    out
}

/// The fallback when the summary call fails: files mentioned and error lines.
pub fn extract_key_info(messages: &[Message]) -> String {
    let path_re = regex::Regex::new(r"[\w./\-]+\.\w{1,5}").ok();
    let mut files = std::collections::BTreeSet::new();
    let mut errors = Vec::new();
    for m in messages {
        // Paths come from text and call arguments alike; error lines only from what was said
        // or printed (a command that greps for "error" is not an error).
        let args = m.tool_calls().iter().map(|c| c.function.arguments.as_str());
        for text in std::iter::once(m.text()).chain(args) {
            if let Some(re) = &path_re {
                files.extend(re.find_iter(text).map(|f| f.as_str().to_string()));
            }
        }
        for line in m.text().lines() {
            if line.to_lowercase().contains("error") && errors.len() < 5 {
                errors.push(line.trim().chars().take(150).collect::<String>());
            }
        }
    }
    let mut parts = Vec::new();
    if !files.is_empty() {
        let list: Vec<String> = files.into_iter().take(20).collect();
        parts.push(format!("Files touched: {}", list.join(", ")));
    }
    if !errors.is_empty() {
        parts.push(format!("Errors seen: {}", errors.join("; ")));
    }
    if parts.is_empty() {
        "(no extractable context)".to_string()
    } else {
        parts.join("\n")
    }
}

/// What a compaction pass did.
#[derive(Debug, Default)]
pub struct Compaction {
    /// The deepest layer applied (`snip`, `summarize`, `collapse`), if any.
    pub layer: Option<&'static str>,
    pub summary_usage: Option<Usage>,
}

/// A reported prompt size below this share of the heuristic estimate means a cut prompt.
const TRUNCATED_BELOW: f64 = 0.7;
/// Smaller requests are not judged: the heuristic is too rough for a few hundred tokens.
const TRUNCATION_MIN_ESTIMATE: usize = 1_000;

/// A request the server evidently did not read whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Truncated {
    pub estimate: usize,
    pub reported: u64,
}

impl Truncated {
    /// What a cut prompt means and how to fix it: the server's window is smaller than what
    /// corecoder sends, and the server dropped the start (system prompt and tools first).
    pub fn warning(&self, max_context: usize) -> String {
        format!(
            "The server counted {} prompt tokens for a request of about {}: it most likely cut the \
             prompt to fit a smaller context window, dropping the start (the system prompt and the \
             tool descriptions first), so the model may not know its tools. Give the server a \
             larger window (Ollama: OLLAMA_CONTEXT_LENGTH=32768 ollama serve; llama-server: \
             -c 32768), or set CORECODER_MAX_CONTEXT to its window (now {max_context}) so \
             corecoder compacts the conversation in time.",
            self.reported, self.estimate
        )
    }
}

#[derive(Debug, Clone)]
pub struct ContextManager {
    max_tokens: usize,
    // (messages sent, prompt_tokens reported) of the last request with usage.
    anchor: Option<(usize, u64)>,
    /// Whether a cut prompt was already reported (the warning comes once).
    truncation_told: bool,
    /// Whether the first request was checked against the window.
    preflown: bool,
    /// How to give the server a larger window, when it is known which server it is.
    fix: Option<&'static str>,
}

impl ContextManager {
    pub fn new(max_tokens: usize) -> Self {
        ContextManager {
            max_tokens,
            anchor: None,
            truncation_told: false,
            preflown: false,
            fix: None,
        }
    }

    /// Names the way to a larger window for the server in use (`local::Kind::window_fix`).
    pub fn with_fix(mut self, fix: &'static str) -> Self {
        self.fix = Some(fix);
        self
    }

    /// Before the first request only: when it already fills more than half the window, a
    /// warning naming the window and the fix (else the conversation soon needs compacting,
    /// and a server with a small window cuts the prompt).
    pub fn preflight(&mut self, fixed: usize, messages: &[Message]) -> Option<String> {
        if std::mem::replace(&mut self.preflown, true) {
            return None;
        }
        let size = fixed + estimate_messages(messages);
        if size <= self.max_tokens / 2 {
            return None;
        }
        let fix = self.fix.unwrap_or(
            "start Ollama with OLLAMA_CONTEXT_LENGTH=32768, or llama-server with -c 32768",
        );
        Some(format!(
            "The first request (system prompt, tools and your message) is about {size} tokens, \
             more than half of the model's context window of {} tokens: the conversation will \
             need compacting at once, and a server with a window this small may cut the prompt. \
             For a larger window, {fix}.",
            self.max_tokens
        ))
    }

    pub fn max_tokens(&self) -> usize {
        self.max_tokens
    }

    /// The provider counted `prompt_tokens` for a request carrying `fixed` tokens besides the
    /// history, and `messages`. A figure far below the heuristic means
    /// the server cut the prompt: it is not trusted, and the first time it happens the cut is
    /// returned so the person can be told.
    pub fn record_usage(
        &mut self,
        fixed: usize,
        messages: &[Message],
        prompt_tokens: u64,
    ) -> Option<Truncated> {
        let sent = messages.len();
        // Against the last trusted figure plus what was added since, when there is one: the
        // heuristic alone overestimates English prose by a third on Qwen's tokenizer.
        let estimate = self.estimate(fixed, messages);
        if estimate >= TRUNCATION_MIN_ESTIMATE
            && (prompt_tokens as f64) < estimate as f64 * TRUNCATED_BELOW
        {
            self.anchor = None;
            let first = !self.truncation_told;
            self.truncation_told = true;
            return first.then_some(Truncated {
                estimate,
                reported: prompt_tokens,
            });
        }
        if prompt_tokens > 0 {
            self.anchor = Some((sent, prompt_tokens));
        }
        None
    }

    /// The history was replaced (compaction, resume): reported usage no longer describes it.
    pub fn forget_usage(&mut self) {
        self.anchor = None;
    }

    /// Tokens the next request will carry: `fixed` (system prompt, tools, context message)
    /// plus the history.
    pub fn estimate(&self, fixed: usize, messages: &[Message]) -> usize {
        match self.anchor {
            Some((sent, tokens)) if sent <= messages.len() => {
                tokens as usize + estimate_messages(&messages[sent..])
            }
            _ => fixed + estimate_messages(messages),
        }
    }

    /// Applies the layers the current size calls for (all of them when `force`).
    pub async fn compact(
        &mut self,
        messages: &mut Vec<Message>,
        fixed: usize,
        llm: &dyn Llm,
        force: bool,
    ) -> Compaction {
        let mut done = Compaction::default();
        let max = self.max_tokens as f64;
        let at = |share: f64| (max * share) as usize;
        let mut current = self.estimate(fixed, messages);
        if (force || current > at(0.5)) && snip_tool_outputs(messages) {
            done.layer = Some("snip");
            self.forget_usage();
            current = self.estimate(fixed, messages);
        }
        if (force || current > at(0.7)) && messages.len() > 10 {
            let split = safe_split(messages, 8);
            if split > 0 {
                self.replace_head(messages, split, llm, &mut done, "summarize")
                    .await;
                current = self.estimate(fixed, messages);
            }
        }
        if current > at(0.9) && messages.len() > 4 {
            let split = safe_split(messages, 4);
            if split > 0 {
                self.replace_head(messages, split, llm, &mut done, "collapse")
                    .await;
            }
        }
        done
    }

    async fn replace_head(
        &mut self,
        messages: &mut Vec<Message>,
        split: usize,
        llm: &dyn Llm,
        done: &mut Compaction,
        layer: &'static str,
    ) {
        let (summary, usage) = summarize(&messages[..split], llm).await;
        if let Some(u) = usage {
            let prev = done.summary_usage.unwrap_or_default();
            done.summary_usage = Some(Usage {
                prompt_tokens: prev.prompt_tokens + u.prompt_tokens,
                completion_tokens: prev.completion_tokens + u.completion_tokens,
            });
        }
        let tail = messages.split_off(split);
        messages.clear();
        messages.push(Message::user(format!(
            "[Context compressed - conversation summary]\n{summary}"
        )));
        messages.push(Message::assistant(
            "Got it, I have the context from our earlier conversation.",
        ));
        messages.extend(tail);
        self.forget_usage();
        done.layer = Some(layer);
    }
}

/// Asks the model for a summary; on any failure, falls back to local extraction.
async fn summarize(messages: &[Message], llm: &dyn Llm) -> (String, Option<Usage>) {
    let flat: String = flatten(messages).chars().take(15_000).collect();
    let input = [Message::user(flat)];
    let request = ChatRequest {
        system: SUMMARY_PROMPT,
        context: None,
        messages: &input,
        tail: None,
        tools: &[],
    };
    match llm.stream(request, &mut |_| {}).await {
        Ok(reply) if !reply.text.trim().is_empty() => (reply.text, reply.usage),
        Ok(reply) => (extract_key_info(messages), reply.usage),
        Err(_) => (extract_key_info(messages), None),
    }
}

#[cfg(test)]
mod tests;
