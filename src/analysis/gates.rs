//! `--fail-on` conditions for nightly jobs: `irate` (any call with an irate
//! moment), `frustrated` (frustrated or worse), or a share of calls, as
//! `irate>5%` or `frustrated>0.1`. A met condition becomes a non-zero exit.

use super::batch::Overview;
use super::moments::Severity;

#[derive(Debug, Clone, PartialEq)]
pub struct Gate {
    pub severity: Severity,
    /// Fail when more than this share of calls (0..1) reach the severity;
    /// `None`: when any call does.
    pub share_over: Option<f64>,
    pub text: String,
}

impl Gate {
    pub fn parse(text: &str) -> Result<Gate, String> {
        let t = text.trim();
        let (sev, share) = match t.split_once('>') {
            Some((s, v)) => (s.trim(), Some(v.trim())),
            None => (t, None),
        };
        let severity = match Severity::parse(sev) {
            Some(s) if s > Severity::Calm => s,
            _ => {
                return Err(format!(
                    "--fail-on {text:?}: expected annoyed, frustrated or irate, optionally with >SHARE (e.g. irate>5%)"
                ))
            }
        };
        let share_over = share
            .map(|v| {
                let (num, scale) = match v.strip_suffix('%') {
                    Some(n) => (n, 100.0),
                    None => (v, 1.0),
                };
                num.trim()
                    .parse::<f64>()
                    .ok()
                    .map(|x| x / scale)
                    .filter(|x| (0.0..=1.0).contains(x))
                    .ok_or_else(|| {
                        format!("--fail-on {text:?}: {v:?} is not a share (0..1 or 0%..100%)")
                    })
            })
            .transpose()?;
        Ok(Gate {
            severity,
            share_over,
            text: t.to_string(),
        })
    }

    /// Why the batch fails this gate, if it does.
    pub fn check(&self, o: &Overview) -> Option<String> {
        let n: usize = o.calls_by_worst[self.severity as usize..].iter().sum();
        let share = if o.calls == 0 {
            0.0
        } else {
            n as f64 / o.calls as f64
        };
        let failed = match self.share_over {
            None => n > 0,
            Some(limit) => share > limit,
        };
        failed.then(|| {
            format!(
                "{}: {n} of {} calls ({:.1}%) have a moment of {} or worse",
                self.text,
                o.calls,
                100.0 * share,
                self.severity.as_str()
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overview(by_worst: [usize; 4]) -> Overview {
        Overview {
            calls: by_worst.iter().sum(),
            turns: 0,
            audio_ms: 0,
            calls_by_worst: by_worst,
            without_customer: 0,
            mean_customer_shift: None,
        }
    }

    #[test]
    fn parses_and_checks() {
        let o = overview([90, 5, 3, 2]);
        assert!(Gate::parse("irate").unwrap().check(&o).is_some());
        assert!(Gate::parse("irate>1%").unwrap().check(&o).is_some());
        assert!(Gate::parse("irate>2%").unwrap().check(&o).is_none());
        assert!(Gate::parse("frustrated>0.04").unwrap().check(&o).is_some());
        assert!(Gate::parse("frustrated > 5%").unwrap().check(&o).is_none());
        let calm = overview([10, 0, 0, 0]);
        assert!(Gate::parse("annoyed").unwrap().check(&calm).is_none());
        for bad in ["calm", "livid", "irate>", "irate>150%", "irate>x"] {
            assert!(Gate::parse(bad).is_err(), "{bad}");
        }
        let msg = Gate::parse("irate").unwrap().check(&o).unwrap();
        assert_eq!(
            msg,
            "irate: 2 of 100 calls (2.0%) have a moment of irate or worse"
        );
    }
}
