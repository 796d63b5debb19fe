//! The languages the code-block highlighter knows, as data: keywords, types, literals,
//! comment and string delimiters, and a few per-language quirks.
//!
//! Adding a language is adding a table entry and a name in [`lang_for`]; the lexer in
//! `highlight` never names a language. Deliberately absent: anything that needs a grammar.

/// What the highlighter knows about one language.
pub(super) struct Lang {
    /// Words separated by spaces: a table that reads like the language's reference.
    pub(super) keywords: &'static str,
    pub(super) types: &'static str,
    pub(super) literals: &'static str,
    pub(super) line_comments: &'static [&'static str],
    pub(super) block_comment: Option<(&'static str, &'static str)>,
    /// Longest opener first: `"""` must be tried before `"`.
    pub(super) quotes: &'static [Quote],
    /// Rust: `'a'` is a char but `'a` is a lifetime.
    pub(super) char_quotes: bool,
    pub(super) capitalised_types: bool,
    /// Shell and YAML: `#` and quotes only count at a word boundary (`$#`, `it's`).
    pub(super) word_boundary_only: bool,
    /// C and C++: `#include` and friends.
    pub(super) preprocessor: bool,
    /// Shell: `$HOME`, `${x}`.
    pub(super) dollar_vars: bool,
    /// TOML `key =` and YAML `key:` at the start of a line.
    pub(super) key_separator: Option<char>,
}

pub(super) struct Quote {
    pub(super) open: &'static str,
    pub(super) close: &'static str,
    pub(super) multiline: bool,
}

const fn quote(open: &'static str, close: &'static str, multiline: bool) -> Quote {
    Quote {
        open,
        close,
        multiline,
    }
}

const PLAIN: Lang = Lang {
    keywords: "",
    types: "",
    literals: "",
    line_comments: &[],
    block_comment: None,
    quotes: &[],
    char_quotes: false,
    capitalised_types: false,
    word_boundary_only: false,
    preprocessor: false,
    dollar_vars: false,
    key_separator: None,
};

const C_COMMENTS: Option<(&str, &str)> = Some(("/*", "*/"));
const C_QUOTES: &[Quote] = &[quote("\"", "\"", false), quote("'", "'", false)];

static RUST: Lang = Lang {
    keywords: "as async await break const continue crate dyn else enum extern fn for if impl in \
        let loop match mod move mut pub ref return self static struct super trait type unsafe use \
        where while",
    types: "i8 i16 i32 i64 i128 isize u8 u16 u32 u64 u128 usize f32 f64 bool char str",
    literals: "true false",
    line_comments: &["//"],
    block_comment: C_COMMENTS,
    quotes: &[quote("\"", "\"", true), quote("'", "'", false)],
    char_quotes: true,
    capitalised_types: true,
    ..PLAIN
};

static PYTHON: Lang = Lang {
    keywords: "and as assert async await break case class continue def del elif else except \
        finally for from global if import in is lambda match nonlocal not or pass raise return \
        try while with yield",
    literals: "True False None",
    line_comments: &["#"],
    quotes: &[
        quote("\"\"\"", "\"\"\"", true),
        quote("'''", "'''", true),
        quote("\"", "\"", false),
        quote("'", "'", false),
    ],
    ..PLAIN
};

static JAVASCRIPT: Lang = Lang {
    keywords: "abstract as async await break case catch class const continue debugger declare \
        default delete do else enum export extends finally for from function if implements import \
        in instanceof interface keyof let namespace new of private protected public readonly \
        return static super switch this throw try type typeof var void while yield",
    types: "string number boolean any unknown never object",
    literals: "true false null undefined NaN Infinity",
    line_comments: &["//"],
    block_comment: C_COMMENTS,
    quotes: &[
        quote("\"", "\"", false),
        quote("'", "'", false),
        quote("`", "`", true),
    ],
    capitalised_types: true,
    ..PLAIN
};

static GO: Lang = Lang {
    keywords: "break case chan const continue default defer else fallthrough for func go goto if \
        import interface map package range return select struct switch type var",
    types: "bool byte error float32 float64 int int8 int16 int32 int64 rune string uint uint8 \
        uint16 uint32 uint64 uintptr any",
    literals: "true false nil iota",
    line_comments: &["//"],
    block_comment: C_COMMENTS,
    quotes: &[
        quote("\"", "\"", false),
        quote("'", "'", false),
        quote("`", "`", true),
    ],
    ..PLAIN
};

static C_FAMILY: Lang = Lang {
    keywords: "auto break case catch class const constexpr continue default delete do else enum \
        explicit extern for friend goto if inline namespace new operator override private \
        protected public register return sizeof static struct switch template this throw try \
        typedef typename union using virtual volatile while",
    types: "bool char double float int long short signed unsigned void size_t int32_t int64_t \
        uint8_t uint32_t uint64_t",
    literals: "true false NULL nullptr",
    line_comments: &["//"],
    block_comment: C_COMMENTS,
    quotes: C_QUOTES,
    preprocessor: true,
    ..PLAIN
};

static JAVA: Lang = Lang {
    keywords: "abstract assert break case catch class continue default do else enum extends final \
        finally for if implements import instanceof interface native new package private \
        protected public record return static super switch synchronized this throw throws \
        transient try var volatile while",
    types: "boolean byte char double float int long short void",
    literals: "true false null",
    line_comments: &["//"],
    block_comment: C_COMMENTS,
    quotes: &[
        quote("\"\"\"", "\"\"\"", true),
        quote("\"", "\"", false),
        quote("'", "'", false),
    ],
    capitalised_types: true,
    ..PLAIN
};

static SHELL: Lang = Lang {
    keywords: "case do done elif else esac exit export fi for function if in local readonly \
        return set shift source then unset until while",
    line_comments: &["#"],
    quotes: &[quote("\"", "\"", true), quote("'", "'", true)],
    word_boundary_only: true,
    dollar_vars: true,
    ..PLAIN
};

static JSON: Lang = Lang {
    literals: "true false null",
    quotes: &[quote("\"", "\"", false)],
    ..PLAIN
};

static TOML: Lang = Lang {
    literals: "true false",
    line_comments: &["#"],
    quotes: &[
        quote("\"\"\"", "\"\"\"", true),
        quote("'''", "'''", true),
        quote("\"", "\"", false),
        quote("'", "'", false),
    ],
    key_separator: Some('='),
    ..PLAIN
};

static YAML: Lang = Lang {
    literals: "true false null yes no on off",
    line_comments: &["#"],
    quotes: &[quote("\"", "\"", false), quote("'", "'", false)],
    word_boundary_only: true,
    key_separator: Some(':'),
    ..PLAIN
};

/// The language named in a fence's info string, if we highlight it.
pub(super) fn lang_for(name: &str) -> Option<&'static Lang> {
    Some(match name.to_ascii_lowercase().as_str() {
        "rust" | "rs" => &RUST,
        "python" | "py" | "python3" => &PYTHON,
        "javascript" | "js" | "jsx" | "mjs" | "cjs" | "typescript" | "ts" | "tsx" => &JAVASCRIPT,
        "go" | "golang" => &GO,
        "c" | "h" | "cpp" | "c++" | "cc" | "cxx" | "hpp" => &C_FAMILY,
        "java" => &JAVA,
        "sh" | "bash" | "shell" | "zsh" | "console" => &SHELL,
        "json" | "jsonc" => &JSON,
        "toml" => &TOML,
        "yaml" | "yml" => &YAML,
        _ => return None,
    })
}
