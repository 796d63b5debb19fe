//! Configuration precedence, validation, and when a provider must be found.

use super::*;

fn load(flags: &Overrides, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
    Config::load(flags, env, &ConfigFiles::default())
}

pub(super) fn env(
    pairs: &'static [(&'static str, &'static str)],
) -> impl Fn(&str) -> Option<String> {
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
    let c = load(
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
    let c = load(&Overrides::default(), &e).unwrap();
    assert_eq!(c.api_key.as_deref(), Some("o"));
}

#[test]
fn without_a_key_or_a_url_a_provider_is_needed_and_no_key_is_demanded_for_a_url() {
    let none = load(&Overrides::default(), &env(&[])).unwrap();
    assert!(none.needs_provider());
    assert_eq!(none.chosen, Chosen::default());
    let text = ConfigError::MissingKey {
        probed: "ollama 11434".into(),
    }
    .to_string();
    assert!(text.contains("OPENAI_API_KEY") && text.contains("deepseek") && text.contains("11434"));
    let local = load(
        &Overrides::default(),
        &env(&[("OPENAI_BASE_URL", "http://localhost:11434/v1/")]),
    )
    .unwrap();
    assert!(!local.needs_provider());
    assert_eq!(
        (local.api_key, local.base_url.as_str()),
        (None, "http://localhost:11434/v1")
    );
}

#[test]
fn malformed_numbers_name_the_variable() {
    let err = load(
        &Overrides::default(),
        &env(&[("OPENAI_API_KEY", "k"), ("CORECODER_MAX_TOKENS", "lots")]),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "CORECODER_MAX_TOKENS must be a positive whole number, got \"lots\""
    );
    let err = load(
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
fn config_files_sit_below_the_environment_and_are_validated() {
    let file = FileSettings {
        model: Some("file-model".into()),
        max_tokens: Some(1000),
        max_rounds: Some(7),
        temperature: Some(9.0),
        ..FileSettings::default()
    }
    .named("/p/.corecoder.toml");
    let files = ConfigFiles::new(vec![file.clone()]);
    let e = env(&[("OPENAI_API_KEY", "k"), ("CORECODER_MAX_TOKENS", "2000")]);
    let err = Config::load(&Overrides::default(), &e, &files).unwrap_err();
    assert_eq!(
        err.to_string(),
        "temperature in /p/.corecoder.toml must be a number between 0 and 2, got \"9\""
    );
    let files = ConfigFiles::new(vec![FileSettings {
        temperature: None,
        ..file
    }]);
    let c = Config::load(&Overrides::default(), &e, &files).unwrap();
    assert_eq!(
        (c.model.as_str(), c.max_tokens, c.max_rounds),
        ("file-model", 2000, 7)
    );
    let flags = Overrides {
        max_rounds: Some(3),
        ..Overrides::default()
    };
    assert_eq!(Config::load(&flags, &e, &files).unwrap().max_rounds, 3);
}
