//! Token accounting and cost: running totals and CoreCoder's price table.
//!
//! Prices are USD per million tokens (input, output) for the models CoreCoder knows; a model
//! that is not in the table shows tokens only, never a guessed cost.

use super::Usage;

const PRICES: &[(&str, f64, f64)] = &[
    ("gpt-5.5", 5.0, 30.0),
    ("gpt-5.4", 2.5, 15.0),
    ("gpt-5.4-mini", 0.75, 4.5),
    ("gpt-5.4-nano", 0.2, 1.25),
    ("o4-mini", 1.1, 4.4),
    ("gpt-4.1", 2.0, 8.0),
    ("gpt-4.1-mini", 0.4, 1.6),
    ("gpt-4.1-nano", 0.1, 0.4),
    ("gpt-4o", 2.5, 10.0),
    ("gpt-4o-mini", 0.15, 0.6),
    ("deepseek-chat", 0.27, 1.10),
    ("deepseek-reasoner", 0.55, 2.19),
    ("claude-opus-4-6", 5.0, 25.0),
    ("claude-sonnet-4-6", 3.0, 15.0),
    ("claude-haiku-4-5", 1.0, 5.0),
    ("qwen3-max", 0.78, 3.9),
    ("qwen3-plus", 0.26, 0.78),
    ("qwen-max", 0.78, 3.9),
    ("kimi-k3", 3.0, 15.0),
    ("kimi-k2.5", 0.6, 3.0),
];

/// (input, output) USD per million tokens, when the model is known.
pub fn price(model: &str) -> Option<(f64, f64)> {
    PRICES
        .iter()
        .find(|(m, _, _)| *m == model)
        .map(|&(_, i, o)| (i, o))
}

/// Token totals for a session: the agent, its sub-agents and summary calls all add here.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsageTotals {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub requests: u64,
}

impl UsageTotals {
    pub fn add(&mut self, u: &Usage) {
        self.prompt_tokens += u.prompt_tokens;
        self.completion_tokens += u.completion_tokens;
        self.requests += 1;
    }

    pub fn total(&self) -> u64 {
        self.prompt_tokens + self.completion_tokens
    }

    /// Cost in USD, `None` for a model without a known price.
    pub fn cost(&self, model: &str) -> Option<f64> {
        let (input, output) = price(model)?;
        Some(self.prompt_tokens as f64 * input / 1e6 + self.completion_tokens as f64 * output / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_uses_the_price_table_and_unknown_models_have_none() {
        let mut t = UsageTotals::default();
        t.add(&Usage {
            prompt_tokens: 1_000_000,
            completion_tokens: 100_000,
        });
        let cost = t.cost("gpt-4o").unwrap();
        assert!((cost - 3.5).abs() < 1e-9, "{cost}");
        assert_eq!(t.cost("my-local-llama"), None);
    }
}
