//! Where an undo cuts the conversation: just before the undone turn's prompt.

use crate::checkpoint::Checkpoint;
use crate::message::Message;

/// The length the history is cut to when `turn` is undone: the number of messages before its
/// prompt. The checkpoint remembers that length; it is trusted only when the prompt is still
/// there (compaction rewrites the history), otherwise the newest message carrying the prompt
/// is looked for. `None`: the prompt is no longer in the history (compacted away), so the
/// conversation cannot be cut there.
pub fn cut_point(messages: &[Message], turn: &Checkpoint) -> Option<usize> {
    let carries = |m: &Message| match m {
        Message::User { content } => content.starts_with(turn.prompt.as_str()),
        _ => false,
    };
    let remembered = usize::try_from(turn.history_len).unwrap_or(usize::MAX);
    if messages.get(remembered).is_some_and(carries) {
        return Some(remembered);
    }
    // Compaction only ever shortens the history: the prompt can only have moved earlier.
    let upto = remembered.saturating_add(1).min(messages.len());
    messages[..upto].iter().rposition(carries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(prompt: &str, history_len: u64) -> Checkpoint {
        Checkpoint {
            turn: 1,
            prompt: prompt.into(),
            time_ns: 0,
            history_len,
            before: 1,
            after: None,
            touched: Vec::new(),
            touched_count: 0,
        }
    }

    #[test]
    fn cuts_before_the_prompt_it_remembered_or_finds_it_again() {
        let history = vec![
            Message::user("fix it"),
            Message::assistant("done"),
            Message::user("fix it"),
            Message::assistant("done again"),
        ];
        assert_eq!(cut_point(&history, &turn("fix it", 0)), Some(0));
        assert_eq!(cut_point(&history, &turn("fix it", 2)), Some(2));
        // Compaction moved it: the newest message carrying the prompt, never a later one.
        assert_eq!(cut_point(&history, &turn("fix it", 7)), Some(2));
        assert_eq!(cut_point(&history, &turn("fix it", 1)), Some(0));
        let compacted = vec![Message::user("[summary]"), Message::assistant("ok")];
        assert_eq!(cut_point(&compacted, &turn("fix it", 0)), None);
    }
}
