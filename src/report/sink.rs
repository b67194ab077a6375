//! Where records go: JSONL (turn records then the call record, call by call),
//! one JSON document, or CSV rows (one per turn).

use std::io::{self, Write};

use super::records::{CallRecord, TurnRecord, SCHEMA};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Jsonl,
    Json,
    Csv,
}

pub struct RecordSink<W: Write> {
    out: W,
    format: OutputFormat,
    calls_written: usize,
}

const CSV_HEADER: [&str; 17] = [
    "call_id",
    "turn",
    "speaker",
    "role",
    "role_inferred",
    "start_ms",
    "end_ms",
    "text",
    "label",
    "negative",
    "neutral",
    "positive",
    "score",
    "intensity",
    "windows",
    "source",
    "wall_clock",
];

fn csv_writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new())
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(|x| x.to_string()).unwrap_or_default()
}

impl<W: Write> RecordSink<W> {
    pub fn new(out: W, format: OutputFormat) -> io::Result<Self> {
        let mut s = Self {
            out,
            format,
            calls_written: 0,
        };
        match format {
            OutputFormat::Json => write!(s.out, "{{\"schema\":\"{SCHEMA}\",\"calls\":[")?,
            OutputFormat::Csv => {
                let mut w = csv_writer();
                w.write_record(CSV_HEADER).map_err(io::Error::other)?;
                s.out.write_all(
                    &w.into_inner()
                        .map_err(|e| io::Error::other(e.to_string()))?,
                )?;
            }
            OutputFormat::Jsonl => {}
        }
        Ok(s)
    }

    pub fn write_call(&mut self, call: &CallRecord, turns: &[TurnRecord]) -> io::Result<()> {
        match self.format {
            OutputFormat::Jsonl => {
                for t in turns {
                    serde_json::to_writer(&mut self.out, t)?;
                    self.out.write_all(b"\n")?;
                }
                serde_json::to_writer(&mut self.out, call)?;
                self.out.write_all(b"\n")?;
            }
            OutputFormat::Json => {
                if self.calls_written > 0 {
                    self.out.write_all(b",")?;
                }
                let mut v = serde_json::to_value(call)?;
                v["turn_records"] = serde_json::to_value(turns)?;
                serde_json::to_writer(&mut self.out, &v)?;
            }
            OutputFormat::Csv => {
                let mut w = csv_writer();
                for t in turns {
                    let role = t.role.as_str().to_string();
                    let label = t.label.map(|l| l.as_str().to_string()).unwrap_or_default();
                    w.write_record([
                        t.call_id.clone(),
                        t.turn.to_string(),
                        t.speaker.clone(),
                        role,
                        t.role_inferred.to_string(),
                        opt(&t.start_ms),
                        opt(&t.end_ms),
                        t.text.clone(),
                        label,
                        opt(&t.negative),
                        opt(&t.neutral),
                        opt(&t.positive),
                        opt(&t.score),
                        opt(&t.intensity),
                        opt(&t.windows),
                        call.source.clone(),
                        t.wall_clock.clone().unwrap_or_default(),
                    ])
                    .map_err(io::Error::other)?;
                }
                self.out.write_all(
                    &w.into_inner()
                        .map_err(|e| io::Error::other(e.to_string()))?,
                )?;
            }
        }
        self.calls_written += 1;
        Ok(())
    }

    /// Records already in JSONL form (a call copied from an earlier run).
    pub fn write_jsonl_block(&mut self, block: &[u8]) -> io::Result<()> {
        debug_assert_eq!(self.format, OutputFormat::Jsonl);
        self.out.write_all(block)?;
        self.calls_written += 1;
        Ok(())
    }

    /// Ends a shard's JSONL output with its [`ShardRecord`](super::records::ShardRecord).
    pub fn write_shard_record(&mut self, record: &super::records::ShardRecord) -> io::Result<()> {
        debug_assert_eq!(self.format, OutputFormat::Jsonl);
        record.write_line(&mut self.out)
    }

    /// Pushes what is buffered to the writer (a checkpoint between groups).
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Closes the document and hands back the writer.
    pub fn finish(mut self) -> io::Result<W> {
        if self.format == OutputFormat::Json {
            self.out.write_all(b"]}\n")?;
        }
        self.out.flush()?;
        Ok(self.out)
    }
}
