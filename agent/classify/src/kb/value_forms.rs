//! The small languages inside some programs' arguments, as data: a `find`-style expression
//! (which primaries act on each file, where a command it runs ends) and the forms in which an
//! option value names a file to read instead of being the data (curl's `@FILE`).

use serde::Deserialize;

/// How the value of an option whose role is `read` names a file to read rather than being the
/// data itself (curl's `-d @FILE`, `-F name=@FILE`, `-F name=<FILE`, `--url-query name@FILE`).
/// Tried in order: a prefix, then a separator after any text, then a separator after a plain
/// name (letters, digits, `_`, `-`, `+`). The file name ends at any of `ends`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileValueSpec {
    #[serde(default)]
    pub prefixes: Vec<String>,
    #[serde(default)]
    pub separators: Vec<String>,
    #[serde(default)]
    pub after_plain_name: Vec<String>,
    #[serde(default)]
    pub ends: Vec<String>,
    /// Quotes a file name may be in (`-F 'f=@"a;b.txt"'`): not part of it, and an end inside
    /// them does not end it.
    #[serde(default)]
    pub quotes: Vec<String>,
}

impl FileValueSpec {
    /// The file `value` names, if it names one this way.
    pub fn file_in<'v>(&self, value: &'v str) -> Option<&'v str> {
        let (_, file) = self.split_lead(value)?;
        if let Some(quote) = self.quotes.iter().find(|q| file.starts_with(q.as_str())) {
            let inner = &file[quote.len()..];
            return Some(inner.find(quote.as_str()).map_or(inner, |at| &inner[..at]));
        }
        Some(
            self.ends
                .iter()
                .filter_map(|end| file.find(end.as_str()))
                .min()
                .map_or(file, |at| &file[..at]),
        )
    }

    /// What comes before the file in `text` (a prefix, a name and a separator) and the text
    /// from the file on: `@"$HOME/.netrc"` and `f=@$HOME/.ssh/id_rsa` have a computed rest.
    pub fn split_lead<'v>(&self, text: &'v str) -> Option<(&'v str, &'v str)> {
        let at = |lead_len: usize| Some((&text[..lead_len], &text[lead_len..]));
        if let Some(p) = self.prefixes.iter().find(|p| text.starts_with(p.as_str())) {
            return at(p.len());
        }
        for sep in &self.separators {
            if let Some(i) = text.find(sep.as_str()) {
                return at(i + sep.len());
            }
        }
        for sep in &self.after_plain_name {
            if let Some(i) = text.find(sep.as_str()) {
                let name = &text[..i];
                let plain = !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_-+".contains(c));
                if plain && text.len() > i + sep.len() {
                    return at(i + sep.len());
                }
            }
        }
        None
    }
}

/// A `find`-style expression language: which primaries act on each file found (run a command,
/// delete it, write a file), which narrow by name, and which operators make a name stop
/// narrowing (then an action reaches every file of the trees).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpressionSpec {
    /// Words besides options that begin the expression (`(`, `!`).
    #[serde(default)]
    pub begins: Vec<String>,
    /// Primaries that run a command on each file, up to one of `run_ends` (`-exec CMD {} ;`).
    pub runs: Vec<String>,
    pub run_ends: Vec<String>,
    /// Primaries whose command may also end with `batch_end` right after the placeholder,
    /// running it once with many files (`-exec CMD {} +`); anywhere else `batch_end` is an
    /// ordinary argument of the command.
    #[serde(default)]
    pub batch_runs: Vec<String>,
    #[serde(default)]
    pub batch_end: String,
    /// What stands for the file in a command run on it (`{}`).
    pub placeholder: String,
    /// Primaries that delete each file.
    #[serde(default)]
    pub deletes: Vec<String>,
    /// Primaries whose value is a file written (`-fprint FILE`).
    #[serde(default)]
    pub writes: Vec<String>,
    /// Primaries whose value is a name pattern each file must match (`-name '*.o'`), and their
    /// case-insensitive forms.
    #[serde(default)]
    pub names: Vec<String>,
    #[serde(default)]
    pub names_icase: Vec<String>,
    /// Operators: with any of them, a name pattern no longer narrows what actions reach.
    #[serde(default)]
    pub operators: Vec<String>,
    /// Primaries that make the walk follow links (`-follow`).
    #[serde(default)]
    pub follows_links: Vec<String>,
    /// Primaries whose command runs in the directory of each file found, not the working
    /// directory (`-execdir`): what it names relatively is not known now.
    #[serde(default)]
    pub runs_in_file_dir: Vec<String>,
    /// Primaries that print something other than the paths found (`-printf`, `-ls`): what
    /// `| xargs` gets is not those paths.
    #[serde(default)]
    pub formats: Vec<String>,
    /// Tests and options that take one value (`-type f`, `-printf FORMAT`): the value is never
    /// a primary itself (`-printf -name` prints the text `-name`). Globs allowed (`-newer??`).
    #[serde(default)]
    pub with_value: Vec<String>,
    /// Those that take two (`-fprintf FILE FORMAT`; the first is also in `writes`).
    #[serde(default)]
    pub with_two_values: Vec<String>,
    /// Tests, actions and options that take none (`-print`, `-prune`, `-xdev`). Any other word
    /// where a primary stands is not understood.
    #[serde(default)]
    pub without_value: Vec<String>,
}

/// What a word where a primary stands is, in an [`ExpressionSpec`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Primary {
    /// Runs a command up to its terminator.
    Runs,
    /// Takes this many values after it.
    Takes(usize),
    /// Not a primary, operator or option this knowledge base knows.
    Unknown,
}

impl ExpressionSpec {
    /// Where the command `primary` runs ends in `words` (the words after the primary): the
    /// index of its terminator, or `None` when it has none (find refuses to run then).
    pub fn run_end(&self, primary: &str, words: &[Option<String>]) -> Option<usize> {
        let batch = self.batch_runs.iter().any(|p| p == primary);
        (0..words.len()).find(|&i| match &words[i] {
            Some(word) if self.run_ends.contains(word) => true,
            Some(word) if batch && !self.batch_end.is_empty() && *word == self.batch_end => {
                i > 0 && words[i - 1].as_deref() == Some(self.placeholder.as_str())
            }
            _ => false,
        })
    }

    /// A primary that acts on each file (runs a command or deletes it).
    pub fn acts(&self, word: &str) -> bool {
        self.runs.iter().chain(&self.deletes).any(|p| p == word)
    }

    /// What `word` is where a primary stands.
    pub fn primary(&self, word: &str) -> Primary {
        let is = |list: &[String]| list.iter().any(|p| super::wildcard_match(p, word));
        if self.runs.iter().any(|p| p == word) {
            Primary::Runs
        } else if is(&self.with_two_values) {
            Primary::Takes(2)
        } else if is(&self.writes)
            || is(&self.names)
            || is(&self.names_icase)
            || is(&self.with_value)
        {
            Primary::Takes(1)
        } else if is(&self.deletes)
            || is(&self.operators)
            || is(&self.begins)
            || is(&self.follows_links)
            || is(&self.without_value)
        {
            Primary::Takes(0)
        } else {
            Primary::Unknown
        }
    }

    /// The primaries of `expr` and where each stands: values are skipped, a command a primary
    /// runs is skipped to its terminator (or the end).
    pub fn walk<'w>(&self, expr: &'w [Option<String>]) -> Vec<(usize, &'w str, Primary)> {
        let mut out = Vec::new();
        let mut k = 0;
        while k < expr.len() {
            let Some(word) = expr[k].as_deref() else {
                out.push((k, "", Primary::Unknown));
                k += 1;
                continue;
            };
            let primary = self.primary(word);
            out.push((k, word, primary));
            k += match primary {
                Primary::Runs => match self.run_end(word, &expr[k + 1..]) {
                    Some(end) => end + 2,
                    None => expr.len(),
                },
                Primary::Takes(n) => 1 + n,
                Primary::Unknown => 1,
            };
        }
        out
    }
}
