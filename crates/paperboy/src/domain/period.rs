//! Feed periods: one day, one ISO week or one month, as written in URLs and API parameters.

use std::fmt;

use chrono::{Datelike, Duration, IsoWeek, Months, NaiveDate, Weekday};

use super::quoted;

/// A span of daily dates that a feed view shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    /// `YYYY-MM-DD`
    Day(NaiveDate),
    /// `YYYY-Www`, an ISO 8601 week (Monday to Sunday).
    Week(IsoWeek),
    /// `YYYY-MM`
    Month { year: i32, month: u32 },
}

/// Why a period string was rejected; the message names the expected form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PeriodError(String);

impl Period {
    /// Parses `YYYY-MM-DD` as a real calendar date.
    pub fn parse_day(s: &str) -> Result<Period, PeriodError> {
        let well_formed = s.len() == 10
            && s.bytes().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            });
        if !well_formed {
            return Err(PeriodError(format!(
                "invalid date {}: expected YYYY-MM-DD",
                quoted(s)
            )));
        }
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Period::Day)
            .map_err(|_| {
                PeriodError(format!(
                    "invalid date {}: no such day in the calendar",
                    quoted(s)
                ))
            })
    }

    /// Parses `YYYY-Www` (ISO week, 1 to 52 or 53).
    pub fn parse_week(s: &str) -> Result<Period, PeriodError> {
        let bad = || {
            PeriodError(format!(
                "invalid week {}: expected YYYY-Www, e.g. 2025-W09",
                quoted(s)
            ))
        };
        let (year, week) = s.split_once("-W").ok_or_else(bad)?;
        if year.len() != 4 || week.len() != 2 {
            return Err(bad());
        }
        let year: i32 = year.parse().map_err(|_| bad())?;
        let week: u32 = week.parse().map_err(|_| bad())?;
        NaiveDate::from_isoywd_opt(year, week, Weekday::Mon)
            .map(|d| Period::Week(d.iso_week()))
            .ok_or_else(|| {
                PeriodError(format!(
                    "invalid week {}: {year} has no week {week}",
                    quoted(s)
                ))
            })
    }

    /// Parses `YYYY-MM`.
    pub fn parse_month(s: &str) -> Result<Period, PeriodError> {
        let bad = || PeriodError(format!("invalid month {}: expected YYYY-MM", quoted(s)));
        let (year, month) = s.split_once('-').ok_or_else(bad)?;
        if year.len() != 4 || month.len() != 2 {
            return Err(bad());
        }
        let year: i32 = year.parse().map_err(|_| bad())?;
        let month: u32 = month.parse().map_err(|_| bad())?;
        if !(1..=12).contains(&month) {
            return Err(PeriodError(format!(
                "invalid month {}: there is no month {month}, months run 01 to 12",
                quoted(s)
            )));
        }
        Ok(Period::Month { year, month })
    }

    /// The first day of the period.
    pub fn first_day(self) -> NaiveDate {
        match self {
            Period::Day(d) => d,
            Period::Week(w) => NaiveDate::from_isoywd_opt(w.year(), w.week(), Weekday::Mon)
                .expect("an IsoWeek always has a Monday"),
            Period::Month { year, month } => {
                NaiveDate::from_ymd_opt(year, month, 1).expect("months are validated on parse")
            }
        }
    }

    /// The day after the period: the range is `first_day()..end_day()`.
    pub fn end_day(self) -> NaiveDate {
        let first = self.first_day();
        match self {
            Period::Day(_) => first + Duration::days(1),
            Period::Week(_) => first + Duration::days(7),
            Period::Month { .. } => first + Months::new(1),
        }
    }

    pub fn contains(self, day: NaiveDate) -> bool {
        self.first_day() <= day && day < self.end_day()
    }

    pub fn previous(self) -> Period {
        self.of_kind(self.first_day() - Duration::days(1))
    }

    pub fn next(self) -> Period {
        self.of_kind(self.end_day())
    }

    /// The period of the same kind (day, week, month) that contains `day`.
    pub fn of_kind(self, day: NaiveDate) -> Period {
        match self {
            Period::Day(_) => Period::Day(day),
            Period::Week(_) => Period::Week(day.iso_week()),
            Period::Month { .. } => Period::Month {
                year: day.year(),
                month: day.month(),
            },
        }
    }

    /// `day`, `week` or `month`.
    pub fn kind(self) -> &'static str {
        match self {
            Period::Day(_) => "day",
            Period::Week(_) => "week",
            Period::Month { .. } => "month",
        }
    }

    /// The page path of this period, e.g. `/papers/week/2026-W34`.
    pub fn path(self) -> String {
        let segment = match self {
            Period::Day(_) => "date",
            Period::Week(_) => "week",
            Period::Month { .. } => "month",
        };
        format!("/papers/{segment}/{self}")
    }

    /// A human label: `Aug 21, 2026`, `Week 34, 2026` or `August 2026`.
    pub fn label(self) -> String {
        match self {
            Period::Day(d) => d.format("%b %-d, %Y").to_string(),
            Period::Week(w) => format!("Week {}, {}", w.week(), w.year()),
            Period::Month { .. } => self.first_day().format("%B %Y").to_string(),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Day(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            Period::Week(w) => write!(f, "{:04}-W{:02}", w.year(), w.week()),
            Period::Month { year, month } => write!(f, "{year:04}-{month:02}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn parses_and_prints_each_kind() {
        for s in ["2026-08-21", "2024-02-29"] {
            assert_eq!(Period::parse_day(s).unwrap().to_string(), s);
        }
        assert_eq!(
            Period::parse_week("2026-W34").unwrap().to_string(),
            "2026-W34"
        );
        assert_eq!(
            Period::parse_month("2026-08").unwrap().to_string(),
            "2026-08"
        );
    }

    #[test]
    fn rejects_impossible_and_malformed_values() {
        for s in [
            "2025-13-40",
            "2025-02-29",
            "2025-1-01",
            "20250101",
            "",
            "2025-01-01x",
        ] {
            assert!(Period::parse_day(s).is_err(), "{s}");
        }
        for s in ["2025-W54", "2025-W00", "2027-W53", "2025W01", "2025-w01"] {
            assert!(Period::parse_week(s).is_err(), "{s}");
        }
        for s in ["2025-13", "2025-00", "2025-1", "x"] {
            assert!(Period::parse_month(s).is_err(), "{s}");
        }
        assert!(Period::parse_week("2020-W53").is_ok());
        let err = Period::parse_month("2025-13").unwrap_err().to_string();
        assert!(err.contains("there is no month 13"), "{err}");
    }

    #[test]
    fn week_spans_monday_to_sunday() {
        let w = Period::parse_week("2026-W34").unwrap();
        assert_eq!(w.first_day(), day("2026-08-17"));
        assert_eq!(w.end_day(), day("2026-08-24"));
        assert!(w.contains(day("2026-08-21")));
        assert!(!w.contains(day("2026-08-24")));
    }

    #[test]
    fn navigation_crosses_years_and_month_lengths() {
        let m = Period::parse_month("2026-01").unwrap();
        assert_eq!(m.previous().to_string(), "2025-12");
        assert_eq!(m.next().to_string(), "2026-02");
        assert_eq!(
            Period::parse_month("2026-02").unwrap().end_day(),
            day("2026-03-01")
        );
        let w = Period::parse_week("2026-W01").unwrap();
        assert_eq!(w.previous().to_string(), "2025-W52");
        let d = Period::parse_day("2024-03-01").unwrap();
        assert_eq!(d.previous().to_string(), "2024-02-29");
    }

    #[test]
    fn labels_read_like_a_calendar() {
        assert_eq!(
            Period::parse_day("2026-08-01").unwrap().label(),
            "Aug 1, 2026"
        );
        assert_eq!(
            Period::parse_month("2026-08").unwrap().label(),
            "August 2026"
        );
        assert_eq!(
            Period::parse_week("2026-W34").unwrap().label(),
            "Week 34, 2026"
        );
    }
}
