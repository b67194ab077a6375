//! How a long stage tells its caller how far it got, without knowing how
//! (or whether) that is shown: `cli/` draws a bar on a terminal.

/// Progress of a run over input files.
pub trait Progress: Sync {
    /// The inputs are known: `files` of them.
    fn start(&self, files: usize);
    /// A line for the user (a failed input, a renamed call), shown so that
    /// any bar stays intact.
    fn note(&self, line: &str);
    /// `files` more inputs done; `turns` turns in all so far.
    fn advance(&self, files: usize, turns: usize);
    /// Every input is done; clear whatever was drawn.
    fn finish(&self);
}

/// Progress that only passes the notes on to standard error.
pub struct NotesOnly;

impl Progress for NotesOnly {
    fn start(&self, _files: usize) {}
    fn note(&self, line: &str) {
        crate::say!("{line}");
    }
    fn advance(&self, _files: usize, _turns: usize) {}
    fn finish(&self) {}
}
