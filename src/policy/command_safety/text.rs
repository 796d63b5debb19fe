//! What `echo` and `printf` write: their words with escapes decoded and `printf`'s format
//! applied, so `$(printf 'r%s' m)` is known to be `rm`.

use super::flow::{Arg, Flow};
use super::secrets::is_secret_name;
use super::shell_words::unescape;

/// `echo [-neE] words…`: the words joined; escapes are decoded (as `echo -e` would), which
/// over-approximates plain `echo` harmlessly.
pub(super) fn echo(args: &[Arg]) -> Flow {
    let words: Vec<&Arg> = args
        .iter()
        .skip(1)
        .skip_while(|a| is_echo_flag(&a.text))
        .collect();
    let mut flow = Flow::default();
    let mut text = String::new();
    for (k, arg) in words.iter().enumerate() {
        flow.merge(&arg.flow);
        if k > 0 {
            text.push(' ');
        }
        text.push_str(&arg.text);
    }
    let decoded = decode(&text);
    flow.secret |= names_secret_variable(&decoded);
    flow.text = Some(decoded);
    flow
}

fn is_echo_flag(word: &str) -> bool {
    word.len() >= 2
        && word
            .strip_prefix('-')
            .is_some_and(|f| f.chars().all(|c| "neE".contains(c)))
}

/// `printf [-v NAME] FORMAT args…`: the variable it assigns (with `-v`) and what it writes.
pub(super) fn printf(args: &[Arg]) -> (Option<String>, Flow) {
    let mut rest = args.get(1..).unwrap_or_default();
    let mut var = None;
    if rest.first().is_some_and(|a| a.text == "-v") {
        var = rest.get(1).map(|a| a.text.clone());
        rest = rest.get(2..).unwrap_or_default();
    }
    if rest.first().is_some_and(|a| a.text == "--") {
        rest = &rest[1..];
    }
    let mut flow = Flow::default();
    for arg in rest {
        flow.merge(&arg.flow);
    }
    let Some((format, values)) = rest.split_first() else {
        flow.text = Some(String::new());
        return (var, flow);
    };
    let values: Vec<&str> = values.iter().map(|a| a.text.as_str()).collect();
    let text = apply_format(&format.text, &values);
    flow.secret |=
        names_secret_variable(&text) || rest.iter().any(|a| names_secret_variable(&a.text));
    flow.text = Some(text);
    (var, flow)
}

/// Applies a `printf` format to its values, reusing the format while values remain.
fn apply_format(format: &str, values: &[&str]) -> String {
    let chars: Vec<char> = format.chars().collect();
    let mut out = String::new();
    let mut next = 0;
    loop {
        let mut consumed = false;
        let mut i = 0;
        while let Some(c) = chars.get(i) {
            i += 1;
            match c {
                '\\' => {
                    let (ch, used) = unescape(&chars[i..]);
                    out.push(ch);
                    i += used;
                }
                '%' if chars.get(i) == Some(&'%') => {
                    out.push('%');
                    i += 1;
                }
                '%' => {
                    // Flags, width and precision, then the conversion letter.
                    while chars
                        .get(i)
                        .is_some_and(|c| "-+ #0123456789.*".contains(*c))
                    {
                        i += 1;
                    }
                    let conversion = chars.get(i).copied().unwrap_or('s');
                    i += 1;
                    let value = values.get(next).copied().unwrap_or_default();
                    next += 1;
                    consumed = true;
                    if conversion == 'b' {
                        out.push_str(&decode(value));
                    } else {
                        out.push_str(value);
                    }
                }
                c => out.push(*c),
            }
        }
        if !consumed || next >= values.len() {
            return out;
        }
    }
}

/// Backslash escapes decoded as `echo -e` and `printf` do.
fn decode(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut decoded = String::new();
    let mut i = 0;
    while let Some(c) = chars.get(i) {
        i += 1;
        if *c == '\\' {
            let (ch, used) = unescape(&chars[i..]);
            decoded.push(ch);
            i += used;
        } else {
            decoded.push(*c);
        }
    }
    decoded
}

/// Whether echoed text holds an (unexpanded) variable named like a credential, such as
/// `$AWS_SECRET_ACCESS_KEY`: piping that to the network sends the secret.
fn names_secret_variable(text: &str) -> bool {
    text.split('$').skip(1).any(|rest| {
        let name: String = rest
            .trim_start_matches('{')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        is_secret_name(&name)
    })
}
