//! What a component call costs: a fresh instance per call (what the host does) against one
//! instance reused across calls, for a 4-seat and a 200-seat quote with the default pricing
//! component. Run with `bench/run.sh`, which also records the machine's load.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use cineflow::domain::hook_io::{Customer, QuoteRequest, Seat, SeatClass, ShowInfo};
use cineflow::plugins::{Hook, Limits, PluginRuntime, RuntimeConfig, Tenant};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

fn components_dir() -> PathBuf {
    std::env::var("CINEFLOW_COMPONENTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/components"))
}

fn request(seats: u32) -> QuoteRequest {
    QuoteRequest {
        show: ShowInfo {
            show_id: "0190f3b2-0000-7000-8000-000000000001".into(),
            chain_id: "0190f3b2-0000-7000-8000-000000000002".into(),
            theatre_id: "0190f3b2-0000-7000-8000-000000000003".into(),
            theatre_name: "Regal Central".into(),
            movie_id: "0190f3b2-0000-7000-8000-000000000004".into(),
            movie_title: "The Long Night".into(),
            screen_name: "Screen 1".into(),
            format: "2D".into(),
            starts_at_ms: 1_893_456_000_000,
            timezone: "Asia/Kolkata".into(),
            currency: "INR".into(),
            prices: vec![(SeatClass::Standard, 25_000), (SeatClass::Premium, 40_000)],
            capacity: 400,
            seats_sold: 0,
        },
        seats: (0..seats)
            .map(|i| Seat {
                id: format!("R{}-{}", i / 20, i % 20 + 1),
                row: format!("R{}", i / 20),
                number: i % 20 + 1,
                class: if i % 2 == 0 {
                    SeatClass::Standard
                } else {
                    SeatClass::Premium
                },
            })
            .collect(),
        customer: Customer {
            user_id: "0190f3b2-0000-7000-8000-000000000005".into(),
            email: "asha@example.com".into(),
            confirmed_bookings: 0,
        },
        promo_code: None,
        voucher: None,
        now_ms: 1_893_000_000_000,
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let bytes = std::fs::read(components_dir().join("pricing.wasm"))
        .expect("pricing.wasm: run scripts/build-components.sh first");
    let runtime =
        PluginRuntime::new(RuntimeConfig::uniform(Limits::default(), None)).expect("runtime");
    let component = rt
        .block_on(runtime.load(Hook::Pricing, &bytes))
        .expect("pricing loads");

    // Per-call latency percentiles (criterion reports per-sample means); run.sh reads these lines.
    for seats in [4u32, 200] {
        let req = request(seats);
        let fresh = rt.block_on(async {
            let mut times = Vec::with_capacity(20_000);
            for _ in 0..20_000 {
                let start = Instant::now();
                let called = runtime
                    .quote(Tenant::Platform, &component, &req)
                    .await
                    .expect("call");
                times.push(start.elapsed());
                assert!(called.output.is_ok());
            }
            times
        });
        print_percentiles("fresh_instance", seats, fresh);
        let mut reused = rt
            .block_on(runtime.reused_pricing(&component))
            .expect("instance");
        let kept = rt.block_on(async {
            let mut times = Vec::with_capacity(20_000);
            for _ in 0..20_000 {
                let start = Instant::now();
                let out = reused.quote(&req).await.expect("call");
                times.push(start.elapsed());
                assert!(out.is_ok());
            }
            times
        });
        print_percentiles("reused_instance", seats, kept);
    }

    let mut group = c.benchmark_group("pricing_quote");
    group.measurement_time(Duration::from_secs(5));
    for seats in [4u32, 200] {
        let req = request(seats);
        group.bench_with_input(BenchmarkId::new("fresh_instance", seats), &req, |b, req| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        let called = runtime
                            .quote(Tenant::Platform, &component, req)
                            .await
                            .expect("call");
                        assert!(called.output.is_ok());
                    }
                    start.elapsed()
                })
            });
        });
        let mut reused = rt
            .block_on(runtime.reused_pricing(&component))
            .expect("instance");
        group.bench_with_input(
            BenchmarkId::new("reused_instance", seats),
            &req,
            |b, req| {
                b.iter_custom(|iters| {
                    rt.block_on(async {
                        let start = Instant::now();
                        for _ in 0..iters {
                            let out = reused.quote(req).await.expect("call");
                            assert!(out.is_ok());
                        }
                        start.elapsed()
                    })
                });
            },
        );
    }
    group.finish();
}

fn print_percentiles(mode: &str, seats: u32, mut times: Vec<Duration>) {
    times.sort_unstable();
    let at = |q: f64| {
        let index = ((times.len() as f64 - 1.0) * q).round() as usize;
        times[index.min(times.len() - 1)].as_secs_f64() * 1e6
    };
    println!(
        "LATENCY {mode}/{seats} p50_us={:.1} p90_us={:.1} p99_us={:.1} calls={}",
        at(0.50),
        at(0.90),
        at(0.99),
        times.len()
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
