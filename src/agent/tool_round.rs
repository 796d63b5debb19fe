//! The tool half of a round: calls the model wrote as text recovered, and the calls run
//! through the dispatcher, in parallel where they touch different things.

use std::sync::Arc;

use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use super::{Agent, MAX_PARALLEL};
use crate::dispatch::Stopped;
use crate::dispatch::order::{self, Footprint};
use crate::event::AgentEvent;
use crate::llm::textual_calls;
use crate::message::ToolCall;
use crate::tools::ToolOutput;

impl Agent {
    /// Small local models often write their call into the text; when the server parsed none,
    /// calls naming our tools are recovered from it, and leaked markup is trimmed when it did.
    pub(super) fn recover_calls(&self, reply: &mut crate::llm::Reply) {
        if !reply.tool_calls.is_empty() {
            let kept = textual_calls::strip_partial_markup(&reply.text).len();
            reply.text.truncate(kept);
            return;
        }
        if !self.recover_text_calls {
            return;
        }
        let Some(found) = textual_calls::recover(&reply.text, &self.current_tools().names()) else {
            return;
        };
        reply.text = found.text;
        reply.tool_calls = found
            .calls
            .into_iter()
            .map(|(name, arguments)| ToolCall {
                id: String::new(),
                kind: "function".to_string(),
                function: crate::message::FunctionCall { name, arguments },
                extra: Default::default(),
            })
            .collect();
    }

    /// Runs the calls concurrently, at most [`MAX_PARALLEL`] at once; calls that touch the same
    /// path take effect in call order (see `dispatch::order`). Results come back in call order.
    /// Dropping this future drops the `JoinSet`, which aborts every call (and kills their child
    /// processes); a stop at an approval prompt does the same to the calls still running.
    pub(super) async fn run_tools(&self, calls: &[ToolCall]) -> Result<Vec<String>, Stopped> {
        let toolbox = self.current_tools();
        let prints: Vec<Footprint> = calls
            .iter()
            .map(|c| {
                let tool = toolbox.get(&c.function.name);
                self.dispatcher.footprint(tool.as_ref(), c, &self.ctx)
            })
            .collect();
        let waits = order::waits_for(&prints);
        let (done, watchers): (Vec<_>, Vec<_>) =
            calls.iter().map(|_| watch::channel(false)).unzip();
        let limit = Arc::new(Semaphore::new(MAX_PARALLEL));
        let mut set = JoinSet::new();
        for ((i, call), done) in calls.iter().enumerate().zip(done) {
            self.emit(AgentEvent::ToolStarted {
                id: call.id.clone(),
                name: call.function.name.clone(),
                arguments: call.function.arguments.clone(),
            });
            let tool = toolbox.get(&call.function.name);
            let names = toolbox.clone();
            let call = call.clone();
            let ctx = self.ctx.clone();
            let dispatcher = self.dispatcher.clone();
            let before: Vec<_> = waits[i].iter().map(|&j| watchers[j].clone()).collect();
            let limit = limit.clone();
            set.spawn(async move {
                // An earlier call that ended in any way (even aborted) lets this one go.
                for mut earlier in before {
                    let _ = earlier.wait_for(|finished| *finished).await;
                }
                let _slot = limit.acquire_owned().await;
                let out = dispatcher.run(tool, &names.names(), &call, &ctx).await;
                let _ = done.send(true);
                (i, out)
            });
        }
        let mut results = vec![None; calls.len()];
        while let Some(joined) = set.join_next().await {
            if let Ok((i, result)) = joined {
                results[i] = Some(result?);
            }
        }
        Ok(results
            .into_iter()
            .zip(calls)
            .map(|(r, call)| {
                let out = r.unwrap_or_else(|| ToolOutput::error("the tool stopped unexpectedly"));
                self.emit(AgentEvent::ToolFinished {
                    id: call.id.clone(),
                    name: call.function.name.clone(),
                    output: out.text.clone(),
                    is_error: out.is_error,
                });
                out.text
            })
            .collect())
    }
}
