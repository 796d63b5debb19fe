//! Command-line flags and the mode they select (one-shot or interactive), stdin included.

use std::io::{IsTerminal, Read};

use clap::{ArgAction, Parser, Subcommand, ValueEnum};

use crate::config::{ENV_VARS, Overrides};
use crate::error::Error;
use crate::permissions::PermissionFlags;

/// Piped context beyond this is cut (with a note), so a stray `cat big.bin |` stays usable.
pub const MAX_STDIN: usize = 1 << 20;

#[derive(Debug, Parser)]
#[command(
    name = "corecoder",
    version,
    about = "A terminal coding agent for any OpenAI-compatible chat-completions endpoint.",
    disable_version_flag = true,
    after_help = after_help()
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Run one task non-interactively, print the answer, and exit
    #[arg(short = 'p', long = "prompt", value_name = "TASK")]
    pub prompt: Option<String>,
    /// Model name [env: CORECODER_MODEL; default: gpt-5.5]
    #[arg(short = 'm', long)]
    pub model: Option<String>,
    /// API base URL [env: OPENAI_BASE_URL | CORECODER_BASE_URL]
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// API key [env: CORECODER_API_KEY | OPENAI_API_KEY | DEEPSEEK_API_KEY]
    #[arg(long, value_name = "KEY")]
    pub api_key: Option<String>,
    /// Output of a one-shot run: text, one JSON object at the end, or JSON lines as it happens
    #[arg(long, value_enum, default_value_t = OutputFormat::Text, value_name = "FORMAT")]
    pub output_format: OutputFormat,
    /// Most model rounds per turn [env: CORECODER_MAX_ROUNDS; default: 50]
    #[arg(long, value_name = "N", value_parser = positive)]
    pub max_rounds: Option<usize>,
    /// Permission mode: default (ask before changes and commands), acceptEdits (file changes
    /// in the workspace run), plan (nothing that changes anything runs), bypassPermissions
    /// (nothing asks) [config: permission_mode]
    #[arg(long, value_name = "MODE")]
    pub permission_mode: Option<String>,
    /// Sandbox for shell commands: read-only, workspace-write (default: write only in the
    /// project and temp directories, no network) or danger-full-access (no sandbox)
    /// [env: CORECODER_SANDBOX] [config: [sandbox] mode]
    #[arg(long, value_name = "MODE")]
    pub sandbox: Option<String>,
    /// Nothing asks: the same as --permission-mode bypassPermissions (CoreCoder's flag). The
    /// dangerous-command gate and the protected paths still hold
    #[arg(short = 'y', long, conflicts_with = "permission_mode")]
    pub yes: bool,
    /// Allow what RULE names without asking, e.g. 'bash(cargo test:*)' or 'edit_file(src/**)'
    /// (repeatable; Claude Code's --allowedTools list is accepted too)
    #[arg(long = "allow", visible_alias = "allowedTools", alias = "allowed-tools", value_name = "RULE", action = ArgAction::Append)]
    pub allow: Vec<String>,
    /// Deny what RULE names, in every mode (repeatable; also --disallowedTools)
    #[arg(long = "deny", visible_alias = "disallowedTools", alias = "disallowed-tools", value_name = "RULE", action = ArgAction::Append)]
    pub deny: Vec<String>,
    /// Resume a saved session by id (also one written by CoreCoder)
    #[arg(short = 'r', long, value_name = "ID")]
    pub resume: Option<String>,
    /// Resume the newest session of this directory
    #[arg(short = 'c', long = "continue", conflicts_with = "resume")]
    pub continue_session: bool,
    /// When no API key, base URL or local server is found, run PATH (e.g.
    /// scripts/local-model.sh) to start a local model server, then use it
    #[arg(long, value_name = "PATH")]
    pub local_model_script: Option<std::path::PathBuf>,
    /// Print the version
    #[arg(short = 'v', long, action = ArgAction::Version)]
    version: Option<bool>,
}

/// Subcommands that do something other than run the agent.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Show what the dangerous-command gate does with COMMAND: prints `allowed` (exit 0) or
    /// `blocked: <reason>` (exit 1)
    CheckCommand {
        /// The shell command to check, as one argument
        command: String,
    },
    /// Apply the shell sandbox in a child and report what this machine enforces: Landlock
    /// ABI, tier, network, writable roots, and a probe of each guarantee (exit 1 if one fails)
    SandboxCheck,
    /// Undo the last turn(s) of this directory's newest session (a `-p` run's too): shows what
    /// will change, asks, restores the files and cuts the saved conversation
    Undo(UndoArgs),
    /// MCP servers: `corecoder mcp list` starts the configured ones (a project's only when
    /// allowed) and shows their state, tools and last log lines
    Mcp {
        #[command(subcommand)]
        action: McpAction,
    },
    /// Print a shell completion script
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// `corecoder undo`'s options.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct UndoArgs {
    /// List the turns that can be undone instead
    #[arg(long)]
    pub list: bool,
    /// The session to undo in (default: this directory's newest)
    #[arg(long, value_name = "ID")]
    pub session: Option<String>,
    /// How many turns to go back
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = positive)]
    pub turns: usize,
    /// Do it without asking (needed when nobody can be asked: no terminal)
    #[arg(long)]
    pub yes: bool,
    /// Also overwrite files changed after the turn ended (conflicts)
    #[arg(long)]
    pub force: bool,
    /// Bring the checkpoint store within its budget and show its size
    #[arg(long)]
    pub gc: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum McpAction {
    /// Start the servers, list them with their state and tool count, stop them
    List,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    #[default]
    Text,
    Json,
    StreamJson,
}

fn positive(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("expected a positive whole number, got {s:?}")),
    }
}

fn after_help() -> String {
    let mut s = String::from(
        "Environment (a .env file from the working directory up to $HOME fills unset ones):\n",
    );
    for (name, default) in ENV_VARS {
        s.push_str(&format!("  {name}\n      default: {default}\n"));
    }
    s.push_str(
        "\nExit codes: 0 done, 1 error (API, config, I/O), 2 usage error, \
         3 round limit reached, 130 interrupted",
    );
    s
}

/// The rules of `--allow`/`--deny` values: each value may hold several rules separated by
/// commas or spaces outside parentheses (`"Bash(git log:*) Bash(git diff:*)"`, Claude Code's
/// `--allowedTools` form); a space inside parentheses belongs to the rule.
pub fn rule_list(values: &[String]) -> Vec<String> {
    let mut rules = Vec::new();
    for value in values {
        let mut depth = 0usize;
        let mut current = String::new();
        for c in value.chars() {
            match c {
                '(' => depth += 1,
                ')' => depth = depth.saturating_sub(1),
                ',' | ' ' | '\t' if depth == 0 => {
                    rules.extend((!current.is_empty()).then(|| std::mem::take(&mut current)));
                    continue;
                }
                _ => {}
            }
            current.push(c);
        }
        rules.extend((!current.is_empty()).then_some(current));
    }
    rules
}

/// What the process will do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Repl,
    OneShot(String),
}

impl Cli {
    pub fn overrides(&self) -> Overrides {
        Overrides {
            model: self.model.clone(),
            base_url: self.base_url.clone(),
            api_key: self.api_key.clone(),
            max_rounds: self.max_rounds,
        }
    }

    pub fn permission_flags(&self) -> PermissionFlags {
        let mode = match (self.yes, &self.permission_mode) {
            (true, _) => Some("bypassPermissions".to_string()),
            (false, m) => m.clone(),
        };
        PermissionFlags {
            mode,
            allow: rule_list(&self.allow),
            deny: rule_list(&self.deny),
        }
    }

    /// Decides the mode; standard input that is not a terminal is the prompt (without `-p`)
    /// or context appended to it (with `-p`).
    pub fn mode(&self) -> Result<Mode, Error> {
        let stdin = std::io::stdin();
        let piped = if stdin.is_terminal() {
            None
        } else {
            let mut buf = Vec::new();
            stdin
                .lock()
                .take(MAX_STDIN as u64 + 1)
                .read_to_end(&mut buf)?;
            Some(buf)
        };
        mode_from(self.prompt.clone(), piped)
    }
}

/// The pure part of [`Cli::mode`].
pub fn mode_from(prompt: Option<String>, piped: Option<Vec<u8>>) -> Result<Mode, Error> {
    let piped = piped.map(|mut bytes| {
        let cut = bytes.len() > MAX_STDIN;
        bytes.truncate(MAX_STDIN);
        let mut text = String::from_utf8_lossy(&bytes).into_owned();
        if cut {
            text.push_str("\n[input cut at 1 MiB]");
        }
        text
    });
    let piped = piped.filter(|t| !t.trim().is_empty());
    match (prompt, piped) {
        (Some(p), Some(ctx)) => Ok(Mode::OneShot(format!("{p}\n\n<stdin>\n{ctx}\n</stdin>"))),
        (Some(p), None) if p.trim().is_empty() => {
            Err(Error::Usage("the prompt given to -p is empty".into()))
        }
        (Some(p), None) => Ok(Mode::OneShot(p)),
        (None, Some(task)) => Ok(Mode::OneShot(task)),
        (None, None) => Ok(Mode::Repl),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn piped_input_is_the_prompt_or_its_context() {
        assert_eq!(
            mode_from(None, Some(b"fix it\n".to_vec())).unwrap(),
            Mode::OneShot("fix it\n".into())
        );
        let Mode::OneShot(p) = mode_from(Some("why?".into()), Some(b"E1".to_vec())).unwrap() else {
            panic!()
        };
        assert_eq!(p, "why?\n\n<stdin>\nE1\n</stdin>");
        assert_eq!(mode_from(None, Some(Vec::new())).unwrap(), Mode::Repl);
        assert!(matches!(
            mode_from(Some(" ".into()), None),
            Err(Error::Usage(_))
        ));
    }

    #[test]
    fn rule_lists_split_outside_parentheses_only() {
        let values = [
            "bash(cargo test:*)".to_string(),
            "Bash(git log:*) Bash(git diff:*),Read".to_string(),
        ];
        assert_eq!(
            rule_list(&values),
            [
                "bash(cargo test:*)",
                "Bash(git log:*)",
                "Bash(git diff:*)",
                "Read"
            ]
        );
    }

    #[test]
    fn piped_input_is_capped_at_one_mib() {
        let Mode::OneShot(p) = mode_from(None, Some(vec![b'a'; MAX_STDIN + 1])).unwrap() else {
            panic!()
        };
        assert!(p.ends_with("[input cut at 1 MiB]"));
        assert_eq!(p.len(), MAX_STDIN + "\n[input cut at 1 MiB]".len());
    }
}
