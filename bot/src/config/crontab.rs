//! Cron expressions with crontab's meaning. The `cron` crate counts the
//! day of week from 1 = Sunday and ANDs day-of-month with day-of-week;
//! crontab (and every release engineer) counts 0 or 7 = Sunday, 1 = Monday,
//! and fires when *either* day field matches if both are restricted. So
//! `0 9 * * 1-5` means weekdays here, as it does in crontab(5), and
//! `0 9 1 * Mon` the 1st of the month and every Monday.

use std::str::FromStr;

use chrono::{DateTime, Utc};

/// A parsed schedule: one `cron` schedule, or two whose union is meant.
#[derive(Debug, Clone)]
pub struct Cron {
    parts: Vec<cron::Schedule>,
}

const DAYS: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];

impl Cron {
    /// The first slot strictly after `t`.
    pub fn next_after(&self, t: &DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.parts.iter().filter_map(|s| s.after(t).next()).min()
    }
}

/// Parses 5 fields (`min hour dom mon dow`, UTC) or 6–7 with seconds first
/// (and a year last).
pub fn parse_cron(expr: &str) -> Result<Cron, String> {
    let bad = |why: String| format!("bad cron expression `{expr}`: {why}");
    let mut fields: Vec<String> = expr.split_whitespace().map(str::to_string).collect();
    if fields.len() == 5 {
        fields.insert(0, "0".into());
    }
    if !(6..=7).contains(&fields.len()) {
        return Err(bad(format!(
            "{} fields; give 5 (min hour dom mon dow) or 6–7 with seconds first",
            expr.split_whitespace().count()
        )));
    }
    let (dom, dow) = (fields[3].clone(), fields[5].clone());
    let restricted = |f: &str| !(f.starts_with('*') || f == "?");
    let dow_list = crate_days(&dow).map_err(bad)?;
    let build = |dom: &str, dow: &str| {
        let mut f = fields.clone();
        f[3] = dom.to_string();
        f[5] = dow.to_string();
        cron::Schedule::from_str(&f.join(" ")).map_err(|e| bad(e.to_string()))
    };
    let parts = if restricted(&dom) && restricted(&dow) {
        vec![build(&dom, "*")?, build("*", &dow_list)?]
    } else {
        vec![build(&dom, &dow_list)?]
    };
    Ok(Cron { parts })
}

/// A crontab day-of-week field in the `cron` crate's numbering.
fn crate_days(field: &str) -> Result<String, String> {
    if field == "*" || field == "?" {
        return Ok("*".into());
    }
    let mut days = [false; 7];
    for item in field.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => (
                r,
                s.parse::<usize>()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or_else(|| format!("bad step `{s}` in day of week"))?,
            ),
            None => (item, 1),
        };
        let (from, to) = match range {
            "*" => (0, 6),
            r => match r.split_once('-') {
                Some((a, b)) => (day(a)?, day(b)?),
                None if step > 1 => (day(r)?, 6),
                None => (day(r)?, day(r)?),
            },
        };
        // 7 is Sunday too: `5-7` is Friday to Sunday.
        let to = if to == 0 && from > 0 { 7 } else { to };
        if from > to {
            return Err(format!("day-of-week range `{range}` runs backwards"));
        }
        for d in (from..=to).step_by(step) {
            days[d % 7] = true;
        }
    }
    let list: Vec<String> = (0..7)
        .filter(|d| days[*d])
        .map(|d| (d + 1).to_string())
        .collect();
    Ok(list.join(","))
}

/// A day of week: 0–7 (0 and 7 are Sunday), or its name (`mon`, `Monday`).
fn day(s: &str) -> Result<usize, String> {
    if let Ok(n) = s.parse::<usize>() {
        return if n <= 7 {
            Ok(n)
        } else {
            Err(format!("day of week {n} is not 0–7"))
        };
    }
    let lower = s.to_ascii_lowercase();
    DAYS.iter()
        .position(|d| lower == d[..3] || lower == *d)
        .ok_or_else(|| format!("`{s}` is not a day of week"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, TimeZone, Weekday};

    /// The weekdays the expression fires on in the week from Sunday 2026-11-29.
    fn fires_on(expr: &str) -> Vec<Weekday> {
        let c = parse_cron(expr).unwrap_or_else(|e| panic!("{e}"));
        let start = Utc.with_ymd_and_hms(2026, 11, 28, 23, 59, 0).unwrap();
        let end = Utc.with_ymd_and_hms(2026, 12, 5, 23, 59, 59).unwrap();
        let mut out = Vec::new();
        let mut t = start;
        while let Some(n) = c.next_after(&t) {
            if n > end {
                break;
            }
            if out.last() != Some(&n.weekday()) {
                out.push(n.weekday());
            }
            t = n;
        }
        out
    }

    use Weekday::*;

    #[test]
    fn day_of_week_numbers_are_crontabs() {
        assert_eq!(fires_on("0 9 * * 1-5"), [Mon, Tue, Wed, Thu, Fri]);
        assert_eq!(fires_on("0 9 * * 0"), [Sun]);
        assert_eq!(fires_on("0 9 * * 7"), [Sun]);
        assert_eq!(fires_on("0 9 * * 1"), [Mon]);
        assert_eq!(fires_on("0 9 * * 6"), [Sat]);
        assert_eq!(fires_on("0 9 * * 5-7"), [Sun, Fri, Sat]);
        assert_eq!(fires_on("0 9 * * 1,3,5"), [Mon, Wed, Fri]);
        assert_eq!(fires_on("0 9 * * 0,7"), [Sun]);
        assert_eq!(fires_on("0 9 * * */2"), [Sun, Tue, Thu, Sat]);
        assert_eq!(fires_on("0 9 * * 1-5/2"), [Mon, Wed, Fri]);
        assert_eq!(fires_on("0 9 * * *").len(), 7);
    }

    #[test]
    fn day_of_week_names_and_mixed_lists() {
        assert_eq!(fires_on("0 9 * * Mon-Fri"), [Mon, Tue, Wed, Thu, Fri]);
        assert_eq!(fires_on("0 9 * * sun"), [Sun]);
        assert_eq!(fires_on("0 9 * * SAT,sun"), [Sun, Sat]);
        assert_eq!(fires_on("0 9 * * Fri-Sun"), [Sun, Fri, Sat]);
        assert_eq!(fires_on("0 9 * * mon,3"), [Mon, Wed]);
        assert_eq!(fires_on("0 9 * * Tuesday"), [Tue]);
        // Seconds first: the same day numbering.
        assert_eq!(fires_on("30 0 9 * * 1-5"), [Mon, Tue, Wed, Thu, Fri]);
    }

    #[test]
    fn both_day_fields_restricted_means_either() {
        // The 1st of December 2026 is a Tuesday: it fires then, and on Monday.
        assert_eq!(fires_on("0 9 1 * Mon"), [Mon, Tue]);
        // With one field `*`, only the other restricts.
        assert_eq!(fires_on("0 9 * * Mon"), [Mon]);
        assert_eq!(fires_on("0 9 1 * *"), [Tue]);
    }

    #[test]
    fn bad_days_are_errors() {
        for bad in [
            "0 9 * * 8",
            "0 9 * * Funday",
            "0 9 * * 5-1",
            "0 9 * * */0",
            "0 9 * *",
        ] {
            let e = parse_cron(bad).unwrap_err();
            assert!(
                e.starts_with(&format!("bad cron expression `{bad}`")),
                "{e}"
            );
        }
    }
}
