//! A deliberately misbehaving pricing component, for testing the host's sandbox.
//!
//! The misbehaviour is picked at build time by one cargo feature; without any feature the
//! component is a well-behaved pricer (one line item per seat at its class price). If several
//! features are enabled, the first of `loop`, `memory-bomb`, `huge-output`, `panic`,
//! `bad-quote`, `noisy`, `double`, `trap-on-promo`, `escape`, then the WASI ones (`sleep`,
//! `sleep-on-promo`, `wait-forever`, `stdin`, `resource-flood`, `random-flood`,
//! `yield-forever`, `write-flood`) wins. The WASI ones each try one way of making a call wait
//! or hog the host from inside a host call, where fuel does not run: `sleep` calls
//! `std::thread::sleep` for 30 s, `sleep-on-promo` does so only on the promo code `SLEEP` (so
//! it passes the upload fixtures and can be bound), `wait-forever` polls a pollable that
//! would never be ready, `stdin` does a blocking read of 1 MiB from stdin and then prices,
//! `resource-flood` keeps every stdout handle it asks for, `random-flood` asks for 1 GiB of
//! random bytes, `yield-forever` polls a zero-length wait in a loop and `write-flood` writes
//! its whole memory to stderr again and again. `escape` tries, on every
//! call, to read the host's environment, open a host file, connect a socket and count its
//! calls in a static; it logs what it got to stderr and then prices like the well-behaved one. The last two pass the upload fixtures
//! (the API tests bind them): `double` charges twice the class price, `trap-on-promo` does too
//! but panics on the promo code `TRAP`, which no fixture uses. Every behaviour is compiled on
//! every build (the choice is a constant), so clippy checks them all.

use std::hint::black_box;
use std::io::{BufWriter, Write as _};

wit_bindgen::generate!({ path: "../../../wit", world: "pricing" });

use exports::cineflow::plugins::pricer::{Guest, LineItem, PriceQuote, QuoteRequest};

/// What `quote` does.
#[derive(Clone, Copy)]
enum Behaviour {
    WellBehaved,
    /// Spins forever.
    Loop,
    /// Allocates 1 MiB chunks forever.
    MemoryBomb,
    /// Returns a line item whose label is 1 MiB of `x`.
    HugeOutput,
    /// Writes a line to stderr, then panics.
    Panic,
    /// Returns items that do not add up to the total.
    BadQuote,
    /// Writes 10 000 lines of 100 characters to stderr, then returns a valid quote.
    Noisy,
    /// Twice the class price per seat.
    Double,
    /// Like `Double`, but panics when the promo code is `TRAP`.
    TrapOnPromo,
    /// Probes the sandbox's walls, logs what it found, then behaves.
    Escape,
    /// Sleeps 30 s, then behaves.
    Sleep,
    /// Sleeps 30 s on the promo code `SLEEP`, else behaves.
    SleepOnPromo,
    /// Blocks on a pollable that is never ready (a wait of u64::MAX ns).
    WaitForever,
    /// Blocking-reads 1 MiB from stdin, then behaves.
    Stdin,
    /// Asks for stdout handles forever and keeps them all.
    ResourceFlood,
    /// Asks for 1 GiB of random bytes.
    RandomFlood,
    /// Polls a zero-length wait forever.
    YieldForever,
    /// Writes 8 MiB blocks to stderr forever.
    WriteFlood,
    /// Each call one of the ways above that waits or hogs, picked by the first seat's id, so
    /// a flood of holds on different seats tries them all (the benchmark's hostile chain).
    EveryWay,
}

const BEHAVIOUR: Behaviour = if cfg!(feature = "loop") {
    Behaviour::Loop
} else if cfg!(feature = "memory-bomb") {
    Behaviour::MemoryBomb
} else if cfg!(feature = "huge-output") {
    Behaviour::HugeOutput
} else if cfg!(feature = "panic") {
    Behaviour::Panic
} else if cfg!(feature = "bad-quote") {
    Behaviour::BadQuote
} else if cfg!(feature = "noisy") {
    Behaviour::Noisy
} else if cfg!(feature = "double") {
    Behaviour::Double
} else if cfg!(feature = "trap-on-promo") {
    Behaviour::TrapOnPromo
} else if cfg!(feature = "escape") {
    Behaviour::Escape
} else if cfg!(feature = "sleep") {
    Behaviour::Sleep
} else if cfg!(feature = "sleep-on-promo") {
    Behaviour::SleepOnPromo
} else if cfg!(feature = "wait-forever") {
    Behaviour::WaitForever
} else if cfg!(feature = "stdin") {
    Behaviour::Stdin
} else if cfg!(feature = "resource-flood") {
    Behaviour::ResourceFlood
} else if cfg!(feature = "random-flood") {
    Behaviour::RandomFlood
} else if cfg!(feature = "yield-forever") {
    Behaviour::YieldForever
} else if cfg!(feature = "write-flood") {
    Behaviour::WriteFlood
} else if cfg!(feature = "every-way") {
    Behaviour::EveryWay
} else {
    Behaviour::WellBehaved
};

const MIB: usize = 1 << 20;

struct Component;

impl Guest for Component {
    fn quote(req: QuoteRequest) -> Result<PriceQuote, String> {
        match BEHAVIOUR {
            Behaviour::WellBehaved => well_behaved(&req),
            Behaviour::Loop => spin_forever(),
            Behaviour::MemoryBomb => allocate_forever(),
            Behaviour::HugeOutput => Ok(PriceQuote {
                items: vec![LineItem {
                    label: "x".repeat(MIB),
                    seat_id: None,
                    amount_minor: 0,
                }],
                total_minor: 0,
                discount_minor: 0,
            }),
            Behaviour::Panic => {
                eprintln!("hostile guest: about to panic");
                panic!("hostile guest panicked on purpose");
            }
            Behaviour::BadQuote => Ok(PriceQuote {
                items: vec![LineItem {
                    label: "Seat A-1 (standard)".to_owned(),
                    seat_id: Some("A-1".to_owned()),
                    amount_minor: 100,
                }],
                total_minor: 1,
                discount_minor: 0,
            }),
            Behaviour::Noisy => {
                // Buffered, so that 1 MB of log costs a few hundred WASI writes rather than
                // 10 000+ and the guest stays within a normal fuel budget. Write errors (e.g. a
                // host log cap that refuses bytes) are ignored: this guest is noisy, not
                // fragile (`eprintln!` would panic on a failed write).
                let mut stderr = BufWriter::with_capacity(64 << 10, std::io::stderr().lock());
                for i in 0..10_000 {
                    let _ = writeln!(stderr, "{}", noise_line(i));
                }
                let _ = stderr.flush();
                well_behaved(&req)
            }
            Behaviour::Double => doubled(&req),
            Behaviour::TrapOnPromo => {
                if req.promo_code.as_deref() == Some(TRAP_CODE) {
                    panic!("hostile guest: promo code {TRAP_CODE} traps on purpose");
                }
                doubled(&req)
            }
            Behaviour::Escape => {
                eprintln!("{}", try_to_escape());
                well_behaved(&req)
            }
            Behaviour::Sleep => {
                std::thread::sleep(std::time::Duration::from_secs(30));
                well_behaved(&req)
            }
            Behaviour::SleepOnPromo => {
                if req.promo_code.as_deref() == Some(SLEEP_CODE) {
                    std::thread::sleep(std::time::Duration::from_secs(30));
                }
                well_behaved(&req)
            }
            Behaviour::WaitForever => {
                wasi_ways::wait_forever();
                well_behaved(&req)
            }
            Behaviour::Stdin => {
                let got = wasi_ways::read_stdin();
                eprintln!("stdin: {got}");
                well_behaved(&req)
            }
            Behaviour::ResourceFlood => wasi_ways::resource_flood(),
            Behaviour::RandomFlood => {
                let bytes = wasi_ways::random_flood();
                eprintln!("random: {bytes} bytes");
                well_behaved(&req)
            }
            Behaviour::YieldForever => wasi_ways::yield_forever(),
            Behaviour::WriteFlood => wasi_ways::write_flood(),
            Behaviour::EveryWay => {
                let seed = req.seats.first().map_or(0, |s| {
                    s.id.bytes()
                        .fold(0_u32, |h, b| h.wrapping_mul(31) ^ u32::from(b))
                });
                match seed % 8 {
                    0 => spin_forever(),
                    1 => allocate_forever(),
                    2 => {
                        std::thread::sleep(std::time::Duration::from_secs(30));
                        well_behaved(&req)
                    }
                    3 => {
                        wasi_ways::wait_forever();
                        well_behaved(&req)
                    }
                    4 => wasi_ways::resource_flood(),
                    5 => {
                        black_box(wasi_ways::random_flood());
                        well_behaved(&req)
                    }
                    6 => wasi_ways::yield_forever(),
                    _ => wasi_ways::write_flood(),
                }
            }
        }
    }
}

/// Calls of `quote` this instance has seen: state that would leak between calls if the host
/// reused instances.
static CALLS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// One line: `escape: env <n> vars; probe <unset|=...>; file <error|read n bytes>; dir <...>;
/// socket <...>; call <n>`.
fn try_to_escape() -> String {
    let vars = std::env::vars_os().count();
    let probe = match std::env::var("CINEFLOW_PROBE") {
        Ok(v) => format!("= {v:?}"),
        Err(_) => "unset".to_owned(),
    };
    let file = match std::fs::read("/etc/hosts") {
        Ok(bytes) => format!("read {} bytes", bytes.len()),
        Err(_) => "error".to_owned(),
    };
    let dir = match std::fs::read_dir(".") {
        Ok(entries) => format!("listed {} entries", entries.count()),
        Err(_) => "error".to_owned(),
    };
    let socket = match std::net::TcpStream::connect("127.0.0.1:5432") {
        Ok(_) => "connected".to_owned(),
        Err(_) => "error".to_owned(),
    };
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
    format!(
        "escape: env {vars} vars; probe {probe}; file {file}; dir {dir}; socket {socket}; call {call}"
    )
}

// `export!` expands to the canonical-ABI shims: `#[unsafe(export_name)]` functions with unsafe
// blocks, generated by wit-bindgen. The workspace denies `unsafe_code`, so it is allowed on this
// one module only. The shims exist on wasm only: their names break the native cdylib's linker
// script, and native builds are for clippy.
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod exported {
    use super::Component;
    crate::export!(Component with_types_in crate);
}

/// One line item per seat at its class price; refuses seats without a price and overflow.
fn well_behaved(req: &QuoteRequest) -> Result<PriceQuote, String> {
    let mut items = Vec::with_capacity(req.seats.len());
    let mut total: i64 = 0;
    for seat in &req.seats {
        let amount = req
            .show
            .prices
            .iter()
            .find(|(class, _)| *class == seat.class)
            .map(|(_, price)| *price)
            .ok_or_else(|| format!("seat {} is not on sale", seat.id))?;
        total = total
            .checked_add(amount)
            .ok_or_else(|| "the total is too large".to_owned())?;
        items.push(LineItem {
            label: format!("Seat {}", seat.id),
            seat_id: Some(seat.id.clone()),
            amount_minor: amount,
        });
    }
    Ok(PriceQuote {
        items,
        total_minor: total,
        discount_minor: 0,
    })
}

/// The promo code that makes `trap-on-promo` panic.
const TRAP_CODE: &str = "TRAP";

/// The promo code that makes `sleep-on-promo` sleep.
const SLEEP_CODE: &str = "SLEEP";

/// The ways that call WASI directly. Native builds (clippy, unit tests) have no WASI to call;
/// there these never run, because only wasm builds are ever instantiated.
#[cfg(target_arch = "wasm32")]
mod wasi_ways {
    use std::hint::black_box;

    pub fn wait_forever() {
        let never = wasip2::clocks::monotonic_clock::subscribe_duration(u64::MAX);
        black_box(wasip2::io::poll::poll(&[&never]));
    }

    pub fn read_stdin() -> String {
        match wasip2::cli::stdin::get_stdin().blocking_read(1 << 20) {
            Ok(bytes) => format!("read {} bytes", bytes.len()),
            Err(e) => format!("{e:?}"),
        }
    }

    pub fn resource_flood() -> ! {
        loop {
            std::mem::forget(black_box(wasip2::cli::stdout::get_stdout()));
        }
    }

    pub fn random_flood() -> usize {
        wasip2::random::random::get_random_bytes(1 << 30).len()
    }

    pub fn yield_forever() -> ! {
        loop {
            let now = wasip2::clocks::monotonic_clock::subscribe_duration(0);
            now.block();
        }
    }

    pub fn write_flood() -> ! {
        let block = vec![0x41_u8; 8 << 20];
        let stderr = wasip2::cli::stderr::get_stderr();
        loop {
            // Errors (a write larger than the stream allows) are the point: keep trying.
            black_box(stderr.write(black_box(&block)).is_ok());
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod wasi_ways {
    pub fn wait_forever() {}
    pub fn read_stdin() -> String {
        String::new()
    }
    pub fn resource_flood() -> ! {
        unreachable!("only wasm builds call WASI")
    }
    pub fn random_flood() -> usize {
        0
    }
    pub fn yield_forever() -> ! {
        unreachable!("only wasm builds call WASI")
    }
    pub fn write_flood() -> ! {
        unreachable!("only wasm builds call WASI")
    }
}

/// [`well_behaved`] at twice the class prices, labelled so a booking shows which pricer it had.
fn doubled(req: &QuoteRequest) -> Result<PriceQuote, String> {
    let single = well_behaved(req)?;
    let mut items = Vec::with_capacity(single.items.len());
    for item in single.items {
        items.push(LineItem {
            label: format!("{} x2", item.label),
            seat_id: item.seat_id,
            amount_minor: item
                .amount_minor
                .checked_mul(2)
                .ok_or_else(|| "the total is too large".to_owned())?,
        });
    }
    let total_minor = single
        .total_minor
        .checked_mul(2)
        .ok_or_else(|| "the total is too large".to_owned())?;
    Ok(PriceQuote {
        items,
        total_minor,
        discount_minor: 0,
    })
}

/// Line `i` of the noise: 100 characters (plus the newline).
fn noise_line(i: u32) -> String {
    const DOTS: &str = "....................................................................................................";
    let mut line = format!("hostile guest noise line {i:05} ");
    let pad = 100_usize.saturating_sub(line.len());
    line.push_str(DOTS.get(..pad).unwrap_or(DOTS));
    line
}

fn spin_forever() -> ! {
    let mut n: u64 = 0;
    loop {
        n = black_box(n.wrapping_add(1));
    }
}

fn allocate_forever() -> ! {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        hoard.push(black_box(vec![0xA5; MIB]));
        black_box(&hoard);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cineflow::plugins::types::{Customer, Seat, SeatClass, ShowInfo};

    #[test]
    fn noise_lines_are_100_chars() {
        assert_eq!(noise_line(0).len(), 100);
        assert_eq!(noise_line(9_999).len(), 100);
    }

    #[test]
    fn well_behaved_prices_each_seat() {
        let seat = |id: &str, class| Seat {
            id: id.to_owned(),
            row: "A".to_owned(),
            number: 1,
            class,
        };
        let req = QuoteRequest {
            show: ShowInfo {
                show_id: String::new(),
                chain_id: String::new(),
                theatre_id: String::new(),
                theatre_name: String::new(),
                movie_id: String::new(),
                movie_title: String::new(),
                screen_name: String::new(),
                format: "2D".to_owned(),
                starts_at_ms: 0,
                timezone: "UTC".to_owned(),
                currency: "INR".to_owned(),
                prices: vec![(SeatClass::Standard, 200), (SeatClass::Vip, 500)],
                capacity: 10,
                seats_sold: 0,
            },
            seats: vec![
                seat("A-1", SeatClass::Standard),
                seat("A-2", SeatClass::Vip),
            ],
            customer: Customer {
                user_id: String::new(),
                email: String::new(),
                confirmed_bookings: 0,
            },
            promo_code: None,
            voucher: None,
            now_ms: 0,
        };
        let quote = well_behaved(&req).expect("quote");
        assert_eq!(quote.total_minor, 700);
        let amounts: Vec<i64> = quote.items.iter().map(|i| i.amount_minor).collect();
        assert_eq!(amounts, [200, 500]);
    }
}
