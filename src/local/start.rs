//! Starting a local model server with a script (`scripts/local-model.sh start`), for the run
//! that found no provider and no server: the script prepares and starts it, printing its
//! progress on stderr (passed through as it happens) and `OPENAI_BASE_URL=…` on stdout.

use std::path::Path;
use std::process::{Command, Stdio};

/// Runs `script start` and returns the port of the server it started, read from the
/// `OPENAI_BASE_URL=http://127.0.0.1:PORT/v1` line it prints.
pub fn run_script(script: &Path) -> Result<u16, String> {
    let out = Command::new(script)
        .arg("start")
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} could not start the local model ({})",
            script.display(),
            out.status
        ));
    }
    port_of(&String::from_utf8_lossy(&out.stdout)).ok_or_else(|| {
        format!(
            "{} started, but did not print OPENAI_BASE_URL=http://127.0.0.1:PORT/v1",
            script.display()
        )
    })
}

/// The port of the first `OPENAI_BASE_URL=` line.
fn port_of(stdout: &str) -> Option<u16> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("OPENAI_BASE_URL="))
        .find_map(|url| {
            let port = url.rsplit_once(':')?.1.split('/').next()?;
            port.parse().ok()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_port_is_read_from_the_scripts_base_url_line() {
        let out = "OPENAI_BASE_URL=http://127.0.0.1:8091/v1\nOPENAI_API_KEY=local\nMODEL=q\n";
        assert_eq!(port_of(out), Some(8091));
        assert_eq!(port_of("MODEL=q\n"), None);
    }
}
