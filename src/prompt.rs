//! What the model is told before the conversation: the system prompt (who the agent is, its
//! tools, its rules) and the context message (the environment and the project's own
//! instructions, `AGENTS.md`).
//!
//! The split is for prompt caches (llama.cpp's slot cache, vLLM's prefix cache, the providers'
//! cached-input pricing): they reuse the longest prefix a request shares with an earlier one.
//! The system prompt and the tool schemas therefore hold nothing that varies with the working
//! directory, the day, the session or the permission mode, so they are byte-identical for
//! every session with the same tool set; everything that varies goes into the context message,
//! which the agent sends right after them every round (outside the history, so compaction
//! never drops it). Plan mode is a fixed note sent after the history (see [`PLAN_MODE`]).

use std::path::Path;

use crate::tools::Toolbox;

/// Project instructions beyond this are cut, so one huge file cannot eat the window.
pub const MAX_INSTRUCTIONS: usize = 32 * 1024;

const RULES: &str = "\
1. Read before you edit: look at a file's current content before changing it.
2. Use edit_file for targeted changes; write_file only for new files or complete rewrites.
3. Verify your work: after a change, run the relevant tests or commands.
4. Be concise: show code rather than prose, and explain only what is needed.
5. Work one step at a time on multi-step tasks.
6. Give edit_file enough surrounding context in old_string to match exactly once.
7. Follow the project's existing style and conventions.
8. If the request is ambiguous, ask a clarifying question instead of guessing.
9. A shell command the sandbox stopped says `[sandbox] blocked`; if it truly needs more, call \
bash again with unsandboxed: true and a justification (the user is asked).";

/// Sent after the history, as the last message of every request, while the permission mode is
/// `plan`. Not in the system prompt: switching modes would change the cached prefix and make
/// a local server evaluate the whole conversation again; at the end it costs only its own
/// tokens, and the model reads it as the latest word.
pub const PLAN_MODE: &str = "# Plan mode\n\
You are in plan mode: nothing that changes files or runs commands with side effects will run. \
Investigate with the reading tools (read_file, glob, grep, and read-only shell commands such as \
ls, git status, git log), then write a concrete plan: the steps, and the files each one changes. \
When the plan is ready, call exit_plan_mode with the whole plan so the user can approve it; do \
not try to make the changes yourself until then.";

/// The system prompt for an agent with `tools`: the same bytes wherever and whenever it runs.
pub fn system_prompt(tools: &Toolbox) -> String {
    let tool_list: String = tools
        .iter()
        .map(|t| format!("- {}: {}\n", t.name(), t.description()))
        .collect();
    format!(
        "You are corecoder, a coding agent running in the user's terminal. You help with \
         software engineering: writing code, fixing bugs, refactoring, explaining code and \
         running commands, by calling the tools below. The first message describes the \
         environment (working directory, OS, date, git branch, shell sandbox) and carries the \
         project's instructions, if any.\n\n\
         # Tools\n{tool_list}\n# Rules\n{RULES}\n"
    )
}

/// What varies between sessions: the inputs of the context message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    pub cwd: std::path::PathBuf,
    /// `YYYY-MM-DD`, local time.
    pub date: String,
    pub git_branch: Option<String>,
    /// One line on the shell sandbox (`SessionSandbox::describe`).
    pub sandbox: String,
    /// The project's `AGENTS.md` text (see [`load_instructions`]).
    pub instructions: Option<String>,
}

impl Environment {
    /// The environment of a session starting now in `cwd`.
    pub fn detect(cwd: &Path, sandbox: String) -> Environment {
        Environment {
            cwd: cwd.to_path_buf(),
            date: crate::clock::LocalTime::now().date(),
            git_branch: git_branch(cwd),
            sandbox,
            instructions: load_instructions(cwd),
        }
    }

    /// The context message: sent after the system prompt and the tools, before the history.
    pub fn context_message(&self) -> String {
        let mut text = format!(
            "# Environment\n- Working directory: {}\n- OS: {} ({})\n- Date: {}\n",
            self.cwd.display(),
            std::env::consts::OS,
            std::env::consts::ARCH,
            self.date,
        );
        if let Some(branch) = &self.git_branch {
            text.push_str(&format!("- Git branch: {branch}\n"));
        }
        text.push_str(&format!("- Shell sandbox: {}\n", self.sandbox));
        if let Some(instructions) = &self.instructions {
            text.push_str("\n# Project instructions (AGENTS.md)\n");
            text.push_str(instructions);
            text.push('\n');
        }
        text
    }
}

/// The branch checked out in the repository around `cwd` (`detached at <commit>` when none),
/// read from `.git/HEAD` without running git; `None` outside a repository.
pub fn git_branch(cwd: &Path) -> Option<String> {
    let dot_git = cwd
        .ancestors()
        .map(|d| d.join(".git"))
        .find(|p| p.exists())?;
    // A worktree or submodule has a `.git` file naming the real directory.
    let git_dir = if dot_git.is_file() {
        let text = std::fs::read_to_string(&dot_git).ok()?;
        let target = text.trim().strip_prefix("gitdir:")?.trim();
        dot_git.parent()?.join(target)
    } else {
        dot_git
    };
    let head = std::fs::read_to_string(git_dir.join("HEAD")).ok()?;
    let head = head.trim();
    match head.strip_prefix("ref: refs/heads/") {
        Some(branch) => Some(branch.to_string()),
        None => {
            let short: String = head.chars().take(12).collect();
            Some(format!("detached at {short}"))
        }
    }
}

/// `AGENTS.md` files from the repository root down to `cwd` (nearest last), capped at 32 KiB.
/// Outside a repository only `cwd`'s own file counts.
pub fn load_instructions(cwd: &Path) -> Option<String> {
    let mut dirs = Vec::new();
    for dir in cwd.ancestors() {
        dirs.push(dir);
        if dir.join(".git").exists() {
            break;
        }
    }
    if !cwd.ancestors().any(|d| d.join(".git").exists()) {
        dirs.truncate(1);
    }
    let mut text = String::new();
    for dir in dirs.iter().rev() {
        if let Ok(body) = std::fs::read_to_string(dir.join("AGENTS.md")) {
            if !text.is_empty() {
                text.push_str("\n\n");
            }
            text.push_str(body.trim());
        }
    }
    if text.is_empty() {
        return None;
    }
    if text.len() > MAX_INSTRUCTIONS {
        let mut cut = MAX_INSTRUCTIONS;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("\n[AGENTS.md cut at 32 KiB]");
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agents_md_is_collected_from_repo_root_to_cwd_nearest_last() {
        let root = tempfile::tempdir().unwrap();
        let sub = root.path().join("crates/x");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::create_dir(root.path().join(".git")).unwrap();
        std::fs::write(root.path().join("AGENTS.md"), "root rules").unwrap();
        std::fs::write(sub.join("AGENTS.md"), "crate rules").unwrap();
        assert_eq!(
            load_instructions(&sub).unwrap(),
            "root rules\n\ncrate rules"
        );
    }

    #[test]
    fn agents_md_is_capped() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("AGENTS.md"), "é".repeat(40_000)).unwrap();
        let text = load_instructions(dir.path()).unwrap();
        assert!(text.len() <= MAX_INSTRUCTIONS + 40 && text.ends_with("[AGENTS.md cut at 32 KiB]"));
    }

    fn env(cwd: &str, date: &str) -> Environment {
        Environment {
            cwd: cwd.into(),
            date: date.into(),
            git_branch: Some("main".into()),
            sandbox: "workspace-write".into(),
            instructions: Some("use tabs".into()),
        }
    }

    #[test]
    fn system_prompt_names_tools_and_rules_but_nothing_that_varies() {
        let p = system_prompt(&Toolbox::basic());
        assert!(p.contains("- edit_file: "));
        assert!(p.contains("8. If the request is ambiguous"));
        assert!(p.contains("unsandboxed: true"));
        // Nothing about this machine, directory or day.
        assert!(!p.contains(std::env::consts::OS) && !p.contains("Working directory:"));
        assert!(!p.contains("2026") && !p.contains("Plan mode"));
        assert_eq!(p, system_prompt(&Toolbox::basic()));
    }

    #[test]
    fn context_message_names_environment_and_instructions() {
        let text = env("/w", "2026-12-01").context_message();
        assert!(text.contains("- Working directory: /w\n"), "{text}");
        assert!(text.contains("- Date: 2026-12-01\n"), "{text}");
        assert!(text.contains("- Git branch: main\n"), "{text}");
        assert!(
            text.contains("- Shell sandbox: workspace-write\n"),
            "{text}"
        );
        assert!(
            text.ends_with("# Project instructions (AGENTS.md)\nuse tabs\n"),
            "{text}"
        );
        let bare = Environment {
            git_branch: None,
            instructions: None,
            ..env("/w", "2026-12-01")
        };
        assert!(!bare.context_message().contains("Git branch"));
        assert!(!bare.context_message().contains("AGENTS.md"));
    }

    #[test]
    fn git_branch_reads_head_of_a_repository_and_of_a_worktree() {
        let root = tempfile::tempdir().unwrap();
        let repo = root.path().join("repo");
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::fs::create_dir_all(repo.join("src/deep")).unwrap();
        std::fs::write(repo.join(".git/HEAD"), "ref: refs/heads/feature/x\n").unwrap();
        assert_eq!(
            git_branch(&repo.join("src/deep")).as_deref(),
            Some("feature/x")
        );
        // A linked worktree: `.git` is a file naming its git directory.
        let wt = root.path().join("wt");
        let wt_git = repo.join(".git/worktrees/wt");
        std::fs::create_dir_all(&wt_git).unwrap();
        std::fs::create_dir_all(&wt).unwrap();
        std::fs::write(wt.join(".git"), format!("gitdir: {}\n", wt_git.display())).unwrap();
        std::fs::write(wt_git.join("HEAD"), "0123456789abcdef0123\n").unwrap();
        assert_eq!(git_branch(&wt).as_deref(), Some("detached at 0123456789ab"));
        let outside = tempfile::tempdir().unwrap();
        assert_eq!(git_branch(outside.path()), None);
    }
}
