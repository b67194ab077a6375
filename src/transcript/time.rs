//! Timestamps as transcripts write them, normalised to milliseconds.

/// Parses `hh:mm:ss`, `mm:ss`, with optional `.fff` or `,fff` fractions.
pub fn parse_clock(s: &str) -> Option<u64> {
    let s = s.trim();
    let (main, frac) = match s.find(['.', ',']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let parts: Vec<&str> = main.split(':').collect();
    if parts.len() < 2
        || parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || p.len() > 6 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let nums: Vec<u64> = parts
        .iter()
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let secs = nums
        .iter()
        .fold(0u64, |acc, &n| acc.saturating_mul(60).saturating_add(n));
    let ms = match frac {
        None => 0,
        Some(f) if !f.is_empty() && f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit()) => {
            let padded = format!("{f:0<3}");
            padded[..3].parse::<u64>().ok()?
        }
        Some(_) => return None,
    };
    Some(secs.saturating_mul(1000).saturating_add(ms))
}

/// Float seconds (JSON numbers) to milliseconds; negative or non-finite → None.
pub fn seconds_to_ms(s: f64) -> Option<u64> {
    if s.is_finite() && (0.0..1e12).contains(&s) {
        Some((s * 1000.0).round() as u64)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks() {
        assert_eq!(parse_clock("00:01:02"), Some(62_000));
        assert_eq!(parse_clock("01:02.5"), Some(62_500));
        assert_eq!(parse_clock("1:00:00,250"), Some(3_600_250));
        assert_eq!(parse_clock("12"), None);
        assert_eq!(parse_clock("a:b"), None);
        assert_eq!(parse_clock("99999999999:00"), None);
    }
}

/// An ISO-8601 / RFC 3339 date-time (`2022-10-27T03:31:50.735Z`, with any
/// offset) as Unix epoch milliseconds.
pub fn parse_iso_datetime_ms(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|d| d.timestamp_millis())
}

#[cfg(test)]
mod iso_tests {
    use super::*;

    #[test]
    fn iso_datetimes() {
        assert_eq!(
            parse_iso_datetime_ms("1970-01-01T00:00:01.500Z"),
            Some(1500)
        );
        assert_eq!(parse_iso_datetime_ms("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_iso_datetime_ms("yesterday"), None);
    }
}

/// An ISO-8601 duration (`PT2.28S`, `PT1M2.5S`, `PT1H`, `P1DT2H`) in ms.
pub fn parse_iso_duration_ms(s: &str) -> Option<u64> {
    let s = s.trim();
    let rest = s.strip_prefix('P')?;
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) => (d, t),
        None => (rest, ""),
    };
    let mut total = 0f64;
    let mut parse_part = |part: &str, units: &[(char, f64)]| -> Option<()> {
        let mut num = String::new();
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' {
                num.push(c);
            } else {
                let factor = units.iter().find(|(u, _)| *u == c)?.1;
                total += num.parse::<f64>().ok()? * factor;
                num.clear();
            }
        }
        num.is_empty().then_some(())
    };
    parse_part(date, &[('D', 86_400_000.0), ('W', 604_800_000.0)])?;
    parse_part(time, &[('H', 3_600_000.0), ('M', 60_000.0), ('S', 1000.0)])?;
    (total.is_finite() && total < 1e15).then(|| total.round() as u64)
}

#[cfg(test)]
mod duration_tests {
    use super::*;

    #[test]
    fn iso_durations() {
        assert_eq!(parse_iso_duration_ms("PT2.28S"), Some(2280));
        assert_eq!(parse_iso_duration_ms("PT1M2.5S"), Some(62_500));
        assert_eq!(parse_iso_duration_ms("P1DT1H"), Some(90_000_000));
        assert_eq!(parse_iso_duration_ms("PT"), Some(0));
        assert_eq!(parse_iso_duration_ms("2.5S"), None);
        assert_eq!(parse_iso_duration_ms("PT2X"), None);
    }
}
