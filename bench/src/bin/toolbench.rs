//! `toolbench`: runs corecoder's own `grep` or `glob` tool once, through the `Tool` trait, with
//! the reply caps lifted, and prints the tool's reply. The benchmark times this process against
//! ripgrep on the same tree and compares the `path:line` pairs (or paths) they report.
//!
//! Usage: `toolbench grep PATTERN DIR [INCLUDE]` or `toolbench glob PATTERN DIR`. DIR is the
//! session directory, so reported paths are relative to it, as ripgrep's are when run there.

use std::io::Write;
use std::sync::Arc;

use corecoder::tools::glob::Glob;
use corecoder::tools::grep::Grep;
use corecoder::tools::{Tool, ToolContext};
use serde_json::json;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (tool, call): (Box<dyn Tool>, _) = match args.as_slice() {
        [kind, pattern, dir, rest @ ..] if kind == "grep" && rest.len() <= 1 => {
            let mut call = json!({"pattern": pattern});
            if let Some(include) = rest.first() {
                call["include"] = json!(include);
            }
            let tool = Grep {
                max_shown: usize::MAX,
            };
            (Box::new(tool), (call, dir.clone()))
        }
        [kind, pattern, dir] if kind == "glob" => {
            let tool = Glob {
                max_shown: usize::MAX,
            };
            (Box::new(tool), (json!({"pattern": pattern}), dir.clone()))
        }
        _ => {
            eprintln!("usage: toolbench grep PATTERN DIR [INCLUDE] | toolbench glob PATTERN DIR");
            std::process::exit(2);
        }
    };
    let (call, dir) = call;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let ctx = ToolContext::new(dir.into(), Arc::new(|_| {}));
    match runtime.block_on(tool.run(call, &ctx)) {
        Ok(out) => {
            // The tool's reply is this harness binary's output (bench.py compares it with
            // ripgrep's); the render-only rule on the handle is corecoder's, not the harness's.
            #[allow(clippy::disallowed_methods)]
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(out.as_bytes());
            let _ = stdout.write_all(b"\n");
        }
        Err(e) => {
            eprintln!("Error: {e}");
            std::process::exit(1);
        }
    }
}
