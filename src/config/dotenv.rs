//! `.env` files: finding the nearest one, parsing it, and layering it under the process
//! environment so it fills only the names left unset (without ever calling `set_var`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::ConfigError;

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

/// A `.env` file: where it is and what it sets.
pub type DotEnv = (PathBuf, HashMap<String, String>);

/// The nearest `.env` (see [`find_dotenv`]): its path and variables, or `None`.
pub fn load_dotenv(cwd: &Path, home: Option<&Path>) -> Result<Option<DotEnv>, ConfigError> {
    let Some(path) = find_dotenv(cwd, home) else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::File {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let vars = parse_dotenv(&text);
    Ok(Some((path, vars)))
}

/// The process environment with the nearest `.env` filling only unset names.
pub fn layered_env<F: Fn(&str) -> Option<String>>(
    process: F,
    cwd: &Path,
    home: Option<&Path>,
) -> Result<impl Fn(&str) -> Option<String> + use<F>, ConfigError> {
    let dotenv = load_dotenv(cwd, home)?.map(|(_, vars)| vars);
    Ok(layer(process, dotenv.unwrap_or_default()))
}

/// `process` with `dotenv` filling only the names it leaves unset or empty.
pub fn layer<F: Fn(&str) -> Option<String>>(
    process: F,
    dotenv: HashMap<String, String>,
) -> impl Fn(&str) -> Option<String> {
    move |name: &str| {
        process(name)
            .filter(|v| !v.is_empty())
            .or_else(|| dotenv.get(name).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::env;

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
