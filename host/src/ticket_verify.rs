//! `cineflow ticket verify CODE --key FILE`: the offline check a scanner makes, with only the
//! chain's public key(s) (docs/tickets.md). Prints the ticket's fields as JSON on success.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::domain::tickets::code::{self, KeyId};

/// `cineflow ticket ...`. Exit codes: 0 valid, 1 not valid (malformed, bad signature, no
/// matching key), 64 a usage error (an unreadable or malformed key file).
#[derive(Debug, Subcommand)]
pub enum TicketCommand {
    /// Verify a ticket code offline with the chain's public key(s), and print its fields as
    /// JSON. No network: the same check a scanner app makes (docs/tickets.md).
    Verify(VerifyArgs),
}

/// Arguments of `cineflow ticket verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The code, as scanned (`CF1.` ...).
    pub code: String,
    /// A file with the chain's public key(s): the JSON of `GET /chains/{id}/checkin-keys`,
    /// one base64url (or base64, or hex) key per line, a PEM `PUBLIC KEY` or the 32 raw bytes.
    #[arg(long)]
    pub key: PathBuf,
}

/// Runs the command: 0 valid, 1 not valid, 64 a key file that cannot be read or parsed.
pub fn run(args: &VerifyArgs) -> ExitCode {
    let bytes = match std::fs::read(&args.key) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("error: reading {}: {e}", args.key.display());
            return ExitCode::from(64);
        }
    };
    let keys = match code::parse_key_file(&bytes) {
        Ok(keys) => keys,
        Err(e) => {
            eprintln!("error: {}: {e}", args.key.display());
            return ExitCode::from(64);
        }
    };
    match code::verify(args.code.trim(), &keys) {
        Ok(claims) => {
            let key_id = code::parse(args.code.trim())
                .map(|p| p.key_id)
                .unwrap_or(KeyId([0; 8]));
            let out = serde_json::json!({
                "valid": true,
                "key_id": key_id.to_string(),
                "ticket_id": claims.ticket_id,
                "booking_id": claims.booking_id,
                "show_id": claims.show_id,
                "seat_id": claims.seat_id,
            });
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("invalid: {e}");
            ExitCode::from(1)
        }
    }
}
