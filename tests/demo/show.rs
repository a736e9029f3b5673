//! How the demo writes: numbered steps, prose wrapped to 92 columns, evidence indented under
//! its step, a ✓ line per check or a ✗ line on stderr. Bold, green and red only when stdout
//! is a terminal.

use std::io::IsTerminal;
use std::sync::LazyLock;

static COLOR: LazyLock<bool> = LazyLock::new(|| std::io::stdout().is_terminal());

/// `text` in the SGR style `code`, when colors are on.
fn paint(code: &str, text: &str) -> String {
    if *COLOR {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

pub fn bold(text: &str) -> String {
    paint("1", text)
}

/// Progress of the set-up, on stderr (as `say` in `scripts/lib/common.sh`).
pub fn say(text: &str) {
    eprintln!("{}", bold(&format!("==> {text}")));
}

/// A step's title.
pub fn step(n: u8, title: &str) {
    println!("\n{}", bold(&format!("{n}. {title}")));
}

/// Prose under the step, wrapped.
pub fn tell(text: &str) {
    for line in wrap(text, 92) {
        println!("   {line}");
    }
}

/// One line of evidence under the step, as it is.
pub fn evidence(line: &str) {
    println!("   {line}");
}

/// A check that held.
pub fn converged(what: &str) {
    println!("   {}", paint("32", &format!("✓ {what}")));
}

/// A check that did not hold, or a step that could not run; where to look.
pub fn not_converged(what: &str, work: &str) {
    eprintln!("   {}", paint("31", &format!("✗ {what}")));
    eprintln!("   logs, events and reports: {work}");
}

/// Words into lines of at most `width` characters (a longer word gets a line of its own).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wraps_at_word_boundaries() {
        assert_eq!(wrap("aa bb  cc\ndd", 5), ["aa bb", "cc dd"]);
        assert_eq!(wrap("a verylongword b", 4), ["a", "verylongword", "b"]);
        assert!(wrap("", 10).is_empty());
    }
}
