//! A run that started and could not go on.

/// A run that had started and could not go on (a full disk, a closed
/// pipe other than standard output's): what it had finished is kept (a
/// score's `FILE.partial`, for `--resume`), and the command exits as for
/// failed inputs, not as a usage error. Its source keeps the cause, so a
/// closed standard output is still recognised as one.
#[derive(Debug, thiserror::Error)]
#[error("{what}")]
pub struct Stopped {
    pub what: String,
    #[source]
    pub source: std::io::Error,
}

impl Stopped {
    pub fn new(what: impl Into<String>, source: std::io::Error) -> Self {
        Self {
            what: what.into(),
            source,
        }
    }

    /// Names `output` on a write error: `writing OUT.partial: No space left on device`.
    pub fn writing(output: &str) -> impl Fn(std::io::Error) -> Stopped + '_ {
        move |e| Stopped::new(format!("writing {output}"), e)
    }
}
