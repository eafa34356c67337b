//! Check-in at the door: a scanned code, answered once per `scan_id` (a scanner re-uploading
//! after being offline gets the stored answer), and at most one `ok` per ticket whatever the
//! number of gates scanning it at once.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use super::Tickets;
use super::code::{self, CodeError};
use super::keys::PublicKey;
use crate::db::tickets::{self as db, NewScan, Ticket};
use crate::domain::types::TicketStatus;
use crate::domain::webhooks::{self, Event};
use crate::domain::{Actor, ChainAccess, DomainError};

/// Longest `scan_id`.
pub const MAX_SCAN_ID: usize = 128;
/// Longest gate name.
pub const MAX_GATE: usize = 64;
/// How far ahead of the server's clock a scanner's `scanned_at` may be.
pub const MAX_CLOCK_SKEW: chrono::TimeDelta = chrono::TimeDelta::minutes(5);
/// The `by_gate` name of scans that named no gate (no gate can be named so).
pub const NO_GATE: &str = "";

/// A scan, parsed at the edge.
#[derive(Debug, Clone)]
pub struct CheckInCommand {
    /// What the scanner read.
    pub code: String,
    /// The scanner's id of this scan: 1 to 128 characters, unique per chain.
    pub scan_id: String,
    /// Where: 1 to 64 characters.
    pub gate: Option<String>,
    /// When the scanner scanned (offline scans arrive later); default: on arrival.
    pub scanned_at: Option<DateTime<Utc>>,
    /// The show this gate admits: a ticket of another show is `wrong_show`.
    pub show_id: Option<Uuid>,
}

/// What a scan found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckInResult {
    /// Admitted: the ticket's first successful scan.
    Ok,
    /// Admitted before (`first_scan` says when and where).
    AlreadyUsed,
    /// Its seat was cancelled.
    Void,
    /// Not for the show given, or its show has ended.
    WrongShow,
    /// Not a code of this chain: malformed, bad signature, unknown or expired key, another
    /// chain's key.
    Invalid,
}

impl CheckInResult {
    fn as_str(self) -> &'static str {
        match self {
            CheckInResult::Ok => "ok",
            CheckInResult::AlreadyUsed => "already_used",
            CheckInResult::Void => "void",
            CheckInResult::WrongShow => "wrong_show",
            CheckInResult::Invalid => "invalid",
        }
    }
}

/// The ticket a scan found.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ScannedTicket {
    /// Ticket.
    pub id: Uuid,
    /// Booking.
    pub booking_id: Uuid,
    /// Show.
    pub show_id: Uuid,
    /// Seat.
    pub seat_id: String,
    /// After this scan.
    pub status: TicketStatus,
}

/// A ticket's first successful scan.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FirstScan {
    /// When (the scanner's `scanned_at`, or when it arrived).
    pub at: DateTime<Utc>,
    /// Where, if the scanner said.
    pub gate: Option<String>,
}

/// The answer to a scan: stored with it, and given again for the same `scan_id`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CheckInAnswer {
    /// What the scan found.
    pub result: CheckInResult,
    /// The ticket, unless `invalid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<ScannedTicket>,
    /// With `already_used`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_scan: Option<FirstScan>,
}

impl CheckInAnswer {
    fn invalid() -> Self {
        Self {
            result: CheckInResult::Invalid,
            ticket: None,
            first_scan: None,
        }
    }

    fn of(result: CheckInResult, t: &Ticket) -> Self {
        Self {
            result,
            ticket: Some(ScannedTicket {
                id: t.id,
                booking_id: t.booking_id,
                show_id: t.show_id,
                seat_id: t.seat_id.clone(),
                status: t.status,
            }),
            first_scan: None,
        }
    }
}

/// A show's door: tickets sold (valid or used), checked in, and checked in per gate.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ScanSummary {
    /// Valid or used tickets.
    pub sold: i64,
    /// Used tickets.
    pub checked_in: i64,
    /// Used tickets per gate of their first scan; `""` for scans that named no gate.
    pub by_gate: BTreeMap<String, i64>,
}

impl Tickets {
    /// Answers a scan by the chain's staff (see the module). Each scan is a row inserted before
    /// anything else: a concurrent upload of the same `scan_id` waits on its unique index and
    /// then reads the stored answer.
    pub async fn check_in(
        &self,
        access: &ChainAccess,
        cmd: CheckInCommand,
    ) -> Result<CheckInAnswer, DomainError> {
        let chain = access.chain();
        let mut tx = self.pool.begin().await?;
        let scan = NewScan {
            chain,
            scan_id: &cmd.scan_id,
            gate: cmd.gate.as_deref(),
            scanned_at: cmd.scanned_at,
            user: access.actor().id(),
        };
        if !db::insert_scan(&mut tx, &scan).await? {
            drop(tx);
            let mut conn = self.pool.acquire().await?;
            let stored = db::scan_answer(&mut conn, chain, &cmd.scan_id)
                .await?
                .ok_or_else(|| DomainError::Internal("a stored scan has no answer".into()))?;
            return serde_json::from_value(stored)
                .map_err(|e| DomainError::Internal(format!("a stored scan's answer: {e}")));
        }
        let answer = decide(&mut tx, chain, &cmd).await?;
        let stored = serde_json::to_value(&answer)
            .map_err(|e| DomainError::Internal(format!("a scan's answer: {e}")))?;
        db::answer_scan(
            &mut tx,
            (chain, &cmd.scan_id),
            answer.ticket.as_ref().map(|t| t.id),
            answer.result.as_str(),
            &stored,
        )
        .await?;
        tx.commit().await?;
        Ok(answer)
    }

    /// A show's check-in counts, for its chain's staff and admins.
    pub async fn summary(&self, actor: &Actor, show: Uuid) -> Result<ScanSummary, DomainError> {
        let mut conn = self.pool.acquire().await?;
        let no_show = || DomainError::NotFound("no such show".into());
        let found = crate::db::shows::find_by_id(&mut conn, show)
            .await?
            .ok_or_else(no_show)?;
        actor
            .member_of(&mut conn, found.chain_id)
            .await
            .map_err(|_| no_show())?;
        let counts = db::summary(&mut conn, found.chain_id, show).await?;
        Ok(ScanSummary {
            sold: counts.sold,
            checked_in: counts.used,
            by_gate: counts.by_gate.into_iter().collect(),
        })
    }
}

/// The chain's key a code names, if it is the chain's and still verifies codes.
async fn usable_key(
    conn: &mut PgConnection,
    chain: Uuid,
    key_id: code::KeyId,
    at: Option<DateTime<Utc>>,
) -> Result<Option<PublicKey>, DomainError> {
    match crate::db::ticket_keys::find_key(conn, chain, &key_id.to_string(), at).await? {
        Some(row) if row.usable => Ok(Some(PublicKey::from_row(&row)?)),
        _ => Ok(None),
    }
}

/// The answer to a new scan, in its transaction.
async fn decide(
    conn: &mut PgConnection,
    chain: Uuid,
    cmd: &CheckInCommand,
) -> Result<CheckInAnswer, DomainError> {
    let Ok(parsed) = code::parse(&cmd.code) else {
        return Ok(CheckInAnswer::invalid());
    };
    let Some(key) = usable_key(conn, chain, parsed.key_id, cmd.scanned_at).await? else {
        return Ok(CheckInAnswer::invalid());
    };
    let claims = match parsed.verify(&key.key) {
        Ok(claims) => claims,
        Err(CodeError::BadSignature | CodeError::UnknownKey | CodeError::Malformed) => {
            return Ok(CheckInAnswer::invalid());
        }
    };
    let Some((ticket, ended)) = db::for_scan(conn, chain, claims.ticket_id, cmd.scanned_at).await?
    else {
        return Ok(CheckInAnswer::invalid());
    };
    // Signed by the chain, so these agree; checked anyway, so a code always means its ticket.
    if ticket.booking_id != claims.booking_id
        || ticket.show_id != claims.show_id
        || ticket.seat_id != claims.seat_id
    {
        return Ok(CheckInAnswer::invalid());
    }
    if cmd.show_id.is_some_and(|s| s != ticket.show_id) || ended {
        return Ok(CheckInAnswer::of(CheckInResult::WrongShow, &ticket));
    }
    if ticket.status == TicketStatus::Valid
        && let Some(at) =
            db::check_in(conn, chain, ticket.id, cmd.scanned_at, cmd.gate.as_deref()).await?
    {
        let used = Ticket {
            status: TicketStatus::Used,
            checked_in_at: Some(at),
            checked_in_gate: cmd.gate.clone(),
            ..ticket
        };
        checked_in(conn, &used).await?;
        return Ok(CheckInAnswer::of(CheckInResult::Ok, &used));
    }
    // Not valid when read, or another gate's scan won the row meanwhile: read it again.
    let Some((now, _)) = db::for_scan(conn, chain, ticket.id, None).await? else {
        return Ok(CheckInAnswer::invalid());
    };
    Ok(match now.status {
        TicketStatus::Void => CheckInAnswer::of(CheckInResult::Void, &now),
        TicketStatus::Used | TicketStatus::Valid => {
            let mut answer = CheckInAnswer::of(CheckInResult::AlreadyUsed, &now);
            answer.first_scan = now.checked_in_at.map(|at| FirstScan {
                at,
                gate: now.checked_in_gate.clone(),
            });
            answer
        }
    })
}

/// A ticket was checked in, inside the scan's transaction (before its commit): what must
/// happen exactly once per admission happens here, so a rolled-back scan announces nothing.
/// The chain's systems hear of it through a `checkin.accepted` webhook delivery.
async fn checked_in(conn: &mut PgConnection, ticket: &Ticket) -> Result<(), DomainError> {
    // `check_in` sets both: an admission always has its time.
    let at = ticket
        .checked_in_at
        .ok_or_else(|| DomainError::Internal("a checked-in ticket has no time".into()))?;
    let event = Event::checkin_accepted(
        ticket.id,
        ticket.booking_id,
        ticket.show_id,
        ticket.seat_id.clone(),
        ticket.checked_in_gate.clone(),
        at,
    );
    webhooks::emit(conn, ticket.chain_id, event).await?;
    Ok(())
}
