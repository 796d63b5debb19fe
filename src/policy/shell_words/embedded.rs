//! Substitutions inside text the parser otherwise keeps whole: arithmetic, `${…}` operands,
//! array values, heredoc bodies. Bash runs them, so the gate and the rules must see them.

use super::{MAX_DEPTH, Parser, Part, SubKind, TooDeep, parse};

impl Parser {
    /// Command substitutions inside text the parser otherwise keeps whole (arithmetic, `${…}`
    /// operands, array values, heredoc bodies): bash runs them, so they are parsed as scripts.
    /// Over-approximates on purpose (quotes inside the text are not honoured): a substitution
    /// too many makes a command ask, one too few would let it through unseen. `process` also
    /// takes `<( )` and `>( )`, which run only where words are (array values).
    pub(super) fn embedded(&self, raw: &[char], process: bool) -> Result<Vec<Part>, TooDeep> {
        if self.depth + 1 > MAX_DEPTH {
            return Err(TooDeep);
        }
        let mut parts = Vec::new();
        let mut k = 0;
        while k < raw.len() {
            let opens = match (raw[k], raw.get(k + 1)) {
                ('\\', _) => {
                    k += 2;
                    continue;
                }
                ('$', Some('(')) if raw.get(k + 2) == Some(&'(') => {
                    // Arithmetic: its own substitutions are found as the scan goes on.
                    k += 3;
                    continue;
                }
                ('$', Some('(')) => true,
                ('<' | '>', Some('(')) => process,
                ('`', _) => {
                    let end = raw[k + 1..]
                        .iter()
                        .position(|c| *c == '`')
                        .map_or(raw.len(), |e| k + 1 + e);
                    let inner: String = raw[k + 1..end].iter().collect();
                    parts.push(Part::Sub(SubKind::Command, parse(&inner, self.depth + 1)?));
                    k = end + 1;
                    continue;
                }
                _ => false,
            };
            if !opens {
                k += 1;
                continue;
            }
            let mut sub = Parser {
                s: raw[k + 2..].to_vec(),
                i: 0,
                depth: self.depth + 1,
                heredoc: None,
            };
            let script = sub.script(Some(')'))?;
            parts.push(Part::Sub(SubKind::Command, script));
            k += 2 + sub.i + 1;
        }
        Ok(parts)
    }
}
