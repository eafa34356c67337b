//! Chain reports for the operator console (issue 19): the shows of a period with occupancy and
//! takings, and sales per local day. Staff of the chain and admins read them (a
//! [`ChainAccess`]); the figures are defined in docs/API.md ("Reports") and read by
//! `db::reports`.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeDelta, Utc};
use chrono_tz::Tz;
use sqlx::PgPool;

use super::{ChainAccess, DomainError};
use crate::db::{self, reports};

pub use crate::db::reports::{DayFigures, ShowFigures};

/// Longest period the shows report covers.
pub const MAX_SHOW_WINDOW_DAYS: i64 = 14;
/// Most shows the shows report lists; more are cut off and the report says so.
pub const MAX_SHOW_ROWS: usize = 1000;
/// Days the sales report covers unless asked otherwise.
pub const DEFAULT_SALES_DAYS: u32 = 30;
/// Most days the sales report covers.
pub const MAX_SALES_DAYS: u32 = 90;

/// The period of a shows report: starts in `[from, to)`, at most
/// [`MAX_SHOW_WINDOW_DAYS`] long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShowWindow {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

impl ShowWindow {
    /// The window, or the problems with it by field (`from`, `to`): both are needed, `to`
    /// after `from`, at most 14 days apart.
    pub fn new(
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Result<Self, DomainError> {
        let mut problems = Vec::new();
        if from.is_none() {
            problems.push(("from".to_owned(), "is required (RFC 3339)".to_owned()));
        }
        if to.is_none() {
            problems.push(("to".to_owned(), "is required (RFC 3339)".to_owned()));
        }
        let (Some(from), Some(to)) = (from, to) else {
            return Err(DomainError::Invalid(problems));
        };
        if to <= from {
            return Err(DomainError::invalid("to", "must be after from"));
        }
        if to - from > TimeDelta::days(MAX_SHOW_WINDOW_DAYS) {
            return Err(DomainError::invalid(
                "to",
                format!("must be at most {MAX_SHOW_WINDOW_DAYS} days after from"),
            ));
        }
        Ok(Self { from, to })
    }

    /// First start included.
    pub fn from(&self) -> DateTime<Utc> {
        self.from
    }

    /// First start excluded.
    pub fn to(&self) -> DateTime<Utc> {
        self.to
    }
}

/// The shows of a period.
#[derive(Debug, Clone)]
pub struct ShowsReport {
    /// At most [`MAX_SHOW_ROWS`], by theatre name, screen name and start.
    pub items: Vec<ShowFigures>,
    /// More shows matched than [`MAX_SHOW_ROWS`]: the last ones are missing.
    pub truncated: bool,
}

/// The days of a sales report: the last `days` local days of `tz`, today included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SalesPeriod {
    days: u32,
    tz: Tz,
}

impl SalesPeriod {
    /// The period, or the problems with it by field: `days` 1 to [`MAX_SALES_DAYS`] (default
    /// [`DEFAULT_SALES_DAYS`]), `tz` an IANA zone name (default UTC).
    pub fn parse(days: Option<i64>, tz: Option<&str>) -> Result<Self, DomainError> {
        let mut problems = Vec::new();
        let days = match days {
            None => Some(DEFAULT_SALES_DAYS),
            Some(d) => u32::try_from(d)
                .ok()
                .filter(|d| (1..=MAX_SALES_DAYS).contains(d)),
        };
        if days.is_none() {
            problems.push((
                "days".to_owned(),
                format!("must be between 1 and {MAX_SALES_DAYS}"),
            ));
        }
        let tz = match tz {
            None => Some(Tz::UTC),
            Some(name) => name.parse::<Tz>().ok(),
        };
        if tz.is_none() {
            problems.push((
                "tz".to_owned(),
                "must be an IANA time zone such as Asia/Kolkata".to_owned(),
            ));
        }
        match (days, tz) {
            (Some(days), Some(tz)) => Ok(Self { days, tz }),
            _ => Err(DomainError::Invalid(problems)),
        }
    }

    /// The zone.
    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// The local dates, oldest first, ending with `now`'s, and where each begins plus where
    /// the day after the last begins (`dates.len() + 1` instants, ascending).
    pub fn days_at(
        &self,
        now: DateTime<Utc>,
    ) -> Result<(Vec<NaiveDate>, Vec<DateTime<Utc>>), DomainError> {
        let today = now.with_timezone(&self.tz).date_naive();
        let mut dates = Vec::with_capacity(self.days as usize);
        for back in (0..self.days).rev() {
            let date = today
                .checked_sub_days(Days::new(u64::from(back)))
                .ok_or_else(|| DomainError::Internal("sales report date out of range".into()))?;
            dates.push(date);
        }
        let tomorrow = today
            .checked_add_days(Days::new(1))
            .ok_or_else(|| DomainError::Internal("sales report date out of range".into()))?;
        let starts = dates
            .iter()
            .chain(std::iter::once(&tomorrow))
            .map(|d| day_start(self.tz, *d))
            .collect();
        Ok((dates, starts))
    }
}

/// Where `date` begins in `tz`: its midnight, or, in a zone whose clocks jump over midnight on
/// that date (a daylight-saving change at 00:00), the first local time that exists. A repeated
/// midnight (clocks set back over it) counts from its first occurrence.
fn day_start(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    let mut local = date.and_time(NaiveTime::MIN);
    // Transitions move clocks by at most a few hours; 15-minute steps find the first valid
    // time of the day (offsets are whole quarter hours).
    for _ in 0..(24 * 4) {
        if let Some(at) = local.and_local_timezone(tz).earliest() {
            return at.with_timezone(&Utc);
        }
        local += TimeDelta::minutes(15);
    }
    date.and_time(NaiveTime::MIN).and_utc()
}

/// One local day of the sales report.
#[derive(Debug, Clone, Copy)]
pub struct SalesDay {
    /// The local date.
    pub date: NaiveDate,
    /// What happened that day.
    pub figures: DayFigures,
}

/// Sales per day.
#[derive(Debug, Clone)]
pub struct SalesReport {
    /// The chain's currency.
    pub currency: String,
    /// The zone whose days these are.
    pub tz: Tz,
    /// Every day of the period, oldest first, days without sales included.
    pub days: Vec<SalesDay>,
}

/// The reports service.
#[derive(Clone)]
pub struct Reports {
    pool: PgPool,
}

impl Reports {
    /// The service over its pool (the primary: staff read their own latest sales).
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// The chain's shows starting in the window, with their figures.
    pub async fn shows(
        &self,
        access: &ChainAccess,
        window: ShowWindow,
    ) -> Result<ShowsReport, DomainError> {
        let mut conn = self.pool.acquire().await?;
        let fetch = i64::try_from(MAX_SHOW_ROWS + 1).unwrap_or(i64::MAX);
        let mut items =
            reports::shows(&mut conn, access.chain(), (window.from, window.to), fetch).await?;
        let truncated = items.len() > MAX_SHOW_ROWS;
        items.truncate(MAX_SHOW_ROWS);
        Ok(ShowsReport { items, truncated })
    }

    /// The chain's sales per local day of the period ending today (`now`'s day in its zone).
    pub async fn sales(
        &self,
        access: &ChainAccess,
        period: SalesPeriod,
        now: DateTime<Utc>,
    ) -> Result<SalesReport, DomainError> {
        let (dates, starts) = period.days_at(now)?;
        let mut conn = self.pool.acquire().await?;
        let chain = db::chains::find(&mut conn, access.chain())
            .await?
            .ok_or_else(|| DomainError::NotFound("no such chain".into()))?;
        let figures = reports::sales(&mut conn, chain.id, &starts).await?;
        if figures.len() != dates.len() {
            return Err(DomainError::Internal(format!(
                "sales report: {} days asked, {} answered",
                dates.len(),
                figures.len()
            )));
        }
        Ok(SalesReport {
            currency: chain.currency,
            tz: period.tz,
            days: dates
                .into_iter()
                .zip(figures)
                .map(|(date, figures)| SalesDay { date, figures })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn fields(e: DomainError) -> Vec<String> {
        match e {
            DomainError::Invalid(p) => p.into_iter().map(|(f, _)| f).collect(),
            other => panic!("not a validation error: {other:?}"),
        }
    }

    #[test]
    fn a_show_window_is_both_ends_in_order_and_at_most_14_days() {
        let from = at("2026-03-01T00:00:00Z");
        let ok = ShowWindow::new(Some(from), Some(from + TimeDelta::days(14)));
        assert!(ok.is_ok());
        let too_long = ShowWindow::new(
            Some(from),
            Some(from + TimeDelta::days(14) + TimeDelta::seconds(1)),
        );
        assert_eq!(too_long.map_err(fields), Err(vec!["to".to_owned()]));
        assert_eq!(
            ShowWindow::new(Some(from), Some(from)).map_err(fields),
            Err(vec!["to".to_owned()])
        );
        assert_eq!(
            ShowWindow::new(None, None).map_err(fields),
            Err(vec!["from".to_owned(), "to".to_owned()])
        );
    }

    #[test]
    fn a_sales_period_is_1_to_90_days_of_a_known_zone() {
        let p = SalesPeriod::parse(None, None).expect("defaults");
        assert_eq!((p.days, p.tz), (30, Tz::UTC));
        assert!(SalesPeriod::parse(Some(90), Some("Asia/Kolkata")).is_ok());
        assert_eq!(
            SalesPeriod::parse(Some(0), Some("Mars/Olympus")).map_err(fields),
            Err(vec!["days".to_owned(), "tz".to_owned()])
        );
        assert_eq!(
            SalesPeriod::parse(Some(91), None).map_err(fields),
            Err(vec!["days".to_owned()])
        );
        assert_eq!(
            SalesPeriod::parse(Some(-1), None).map_err(fields),
            Err(vec!["days".to_owned()])
        );
    }

    #[test]
    fn days_are_local_and_end_today() {
        let p = SalesPeriod::parse(Some(2), Some("Asia/Kolkata")).expect("period");
        // 20:00 UTC is 01:30 the next day in Kolkata.
        let (dates, starts) = p.days_at(at("2026-03-10T20:00:00Z")).expect("days");
        assert_eq!(
            dates,
            [
                NaiveDate::from_ymd_opt(2026, 3, 10).expect("date"),
                NaiveDate::from_ymd_opt(2026, 3, 11).expect("date")
            ]
        );
        assert_eq!(
            starts,
            [
                at("2026-03-09T18:30:00Z"),
                at("2026-03-10T18:30:00Z"),
                at("2026-03-11T18:30:00Z")
            ]
        );
    }

    #[test]
    fn a_day_without_a_midnight_starts_when_its_clocks_do() {
        // Chile's clocks jumped from 00:00 to 01:00 on 2022-09-11 (America/Santiago).
        let tz: Tz = "America/Santiago".parse().expect("zone");
        let date = NaiveDate::from_ymd_opt(2022, 9, 11).expect("date");
        let start = day_start(tz, date);
        assert_eq!(
            start,
            tz.with_ymd_and_hms(2022, 9, 11, 1, 0, 0)
                .single()
                .expect("01:00")
                .with_timezone(&Utc)
        );
        // A day that lost an hour elsewhere is 23 hours long, and the next starts at midnight.
        let next = day_start(tz, date.succ_opt().expect("next"));
        assert_eq!(next - start, TimeDelta::hours(23));
    }
}
