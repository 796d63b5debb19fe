//! The interactive REPL in a real pseudo-terminal (tmux): submit, rendering, slash commands,
//! Ctrl-C during a slow turn, an unknown command, Ctrl-D. Skipped with a note when tmux is
//! missing (`.ci/run` installs it).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::json;

use crate::support::{MockServer, Script, sse_text, sse_tools};

pub struct Tmux {
    pub socket: String,
}

impl Tmux {
    /// Starts corecoder in a 120×40 terminal; when it exits the shell prints its exit code.
    pub fn start(dir: &Path, env: &[(&str, &str)], args: &str) -> Option<Tmux> {
        if Command::new("tmux").arg("-V").output().is_err() {
            eprintln!("tmux not installed: REPL pty test skipped");
            return None;
        }
        let socket = format!(
            "cc-test-{}-{}",
            std::process::id(),
            dir.file_name()?.to_string_lossy()
        );
        let mut exports = format!(
            "export HOME='{}' TERM=xterm-256color CORECODER_LOCAL_SERVERS=off; ",
            dir.display()
        );
        for (k, v) in env {
            exports.push_str(&format!("export {k}='{v}'; "));
        }
        let script = format!(
            "{exports}unset OPENAI_API_KEY CORECODER_MODEL NO_COLOR; {} {args}; echo EXITED=$?; sleep 60",
            env!("CARGO_BIN_EXE_corecoder")
        );
        let ok = Command::new("tmux")
            .args([
                "-L",
                &socket,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-x",
                "120",
                "-y",
                "40",
                "-c",
            ])
            .arg(dir)
            .args(["bash", "--norc", "-c", &script])
            .status()
            .ok()?
            .success();
        ok.then_some(Tmux { socket })
    }

    pub fn keys(&self, keys: &[&str]) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys"])
            .args(keys)
            .status();
    }

    /// Types `text` and Enter at the `n`th prompt, once it is on screen: keys typed while a
    /// turn runs would be discarded when the editor takes the terminal back.
    pub async fn line_at(&self, n: usize, text: &str) {
        self.wait_for_n("You > ", n).await;
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", "-l", text])
            .status();
        self.keys(&["Enter"]);
    }

    pub fn screen(&self) -> String {
        Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p", "-J", "-S", "-200"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    }

    /// Waits until `text` appears `count` times on screen; panics with the screen otherwise.
    pub async fn wait_for_n(&self, text: &str, count: usize) -> String {
        for _ in 0..150 {
            let screen = self.screen();
            if screen.matches(text).count() >= count {
                return screen;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "{text:?} (x{count}) never appeared; screen:\n{}",
            self.screen()
        );
    }

    pub async fn wait_for(&self, text: &str) -> String {
        self.wait_for_n(text, 1).await
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

#[tokio::test]
async fn repl_submits_renders_and_answers_slash_commands() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("greet.txt"), "hello\n").expect("write");
    let edit = json!({"file_path": "greet.txt", "old_string": "hello", "new_string": "goodbye"});
    let server = MockServer::start(vec![
        Script::Sse(sse_text("Hi! Here is **bold** and `code`.")),
        Script::Sse(sse_tools(&[("e1", "edit_file", edit)])),
        Script::Sse(sse_text("Edited greet.txt.")),
    ])
    .await;
    let Some(t) = Tmux::start(dir.path(), &[("OPENAI_BASE_URL", &server.url)], "--yes") else {
        return;
    };
    t.wait_for("/help for commands").await;
    t.line_at(1, "say hi").await;
    let screen = t.wait_for("Hi! Here is bold and code.").await;
    assert!(
        !screen.contains("**bold**"),
        "Markdown markers left on screen:\n{screen}"
    );
    t.wait_for("tokens this turn").await;

    t.line_at(2, "/nope").await;
    t.wait_for("unknown command /nope (try /help)").await;
    assert_eq!(
        server.requests().len(),
        1,
        "an unknown command never reaches the model"
    );

    t.line_at(3, "change the greeting").await;
    t.wait_for("Edited greet.txt.").await;
    t.line_at(4, "/diff").await;
    // Once in the edit's own result, once in /diff.
    let screen = t.wait_for_n("+goodbye", 2).await;
    assert!(
        screen.contains("-hello") && screen.contains("+++ b/greet.txt"),
        "{screen}"
    );

    t.line_at(5, "/tokens").await;
    t.wait_for("tokens: 250 prompt + 25 completion = 275").await;

    t.wait_for_n("You > ", 6).await;
    t.keys(&["C-d"]);
    t.wait_for("EXITED=0").await;
}

#[tokio::test]
async fn ctrl_c_cancels_a_slow_turn_and_the_next_prompt_works() {
    let dir = tempfile::tempdir().expect("tempdir");
    let slow = Script::Sse(sse_tools(&[("s1", "bash", json!({"command": "sleep 30"}))]));
    let server = MockServer::start(vec![slow, Script::Sse(sse_text("Back again."))]).await;
    let Some(t) = Tmux::start(dir.path(), &[("OPENAI_BASE_URL", &server.url)], "--yes") else {
        return;
    };
    t.line_at(1, "wait a long time").await;
    t.wait_for("bash(sleep 30)").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    t.keys(&["C-c"]);
    t.wait_for("Interrupted").await;
    t.line_at(2, "are you there?").await;
    t.wait_for("Back again.").await;
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    // The cancelled round left nothing half-done: the history goes straight from the first
    // prompt to the second.
    let texts: Vec<String> = requests[1]
        .messages()
        .iter()
        .skip(2)
        .map(|m| m.text().to_string())
        .collect();
    assert_eq!(texts, ["wait a long time", "are you there?"]);
    // Ctrl-C twice at an empty prompt leaves.
    t.wait_for_n("You > ", 3).await;
    t.keys(&["C-c"]);
    t.wait_for_n("You > ", 4).await;
    t.keys(&["C-c"]);
    t.wait_for("EXITED=0").await;
}

#[tokio::test]
async fn newlines_can_be_typed_or_pasted_and_sessions_can_be_named_and_listed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = MockServer::start(vec![
        Script::Sse(sse_text("Two lines seen.")),
        Script::Sse(sse_text("Pasted.")),
    ])
    .await;
    let Some(t) = Tmux::start(dir.path(), &[("OPENAI_BASE_URL", &server.url)], "") else {
        return;
    };
    t.wait_for("You > ").await;
    // Ctrl-J inserts a newline instead of sending.
    let tmux = |args: &[&str]| {
        let _ = Command::new("tmux")
            .args(["-L", &t.socket])
            .args(args)
            .status();
    };
    tmux(&["send-keys", "-l", "first line"]);
    t.keys(&["C-j"]);
    t.line_at(1, "second line").await;
    t.wait_for("Two lines seen.").await;
    // A bracketed paste of several lines arrives whole and is not sent line by line.
    t.wait_for_n("You > ", 2).await;
    tmux(&["set-buffer", "pasted one\npasted two"]);
    tmux(&["paste-buffer", "-p"]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        server.requests().len(),
        1,
        "the paste must not submit by itself"
    );
    t.keys(&["Enter"]);
    t.wait_for("Pasted.").await;
    let requests = server.requests();
    assert_eq!(requests[0].messages()[2].text(), "first line\nsecond line");
    assert_eq!(
        requests[1].messages().last().expect("msg").text(),
        "pasted one\npasted two"
    );

    t.line_at(3, "/save my work").await;
    t.wait_for("Resume with: corecoder -r my-work").await;
    assert!(
        dir.path()
            .join(".corecoder/sessions/my-work.json")
            .is_file()
    );
    t.line_at(4, "/sessions").await;
    t.wait_for("first line second line").await;
    t.line_at(5, "/quit").await;
    t.wait_for("EXITED=0").await;
}
