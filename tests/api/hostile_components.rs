//! The sandbox holds against hostile components, and the engine survives each of them.

use std::time::Duration;

use cineflow::plugins::{
    FailureKind, Hook, Limits, LoadError, PluginRuntime, RuntimeConfig, Tenant,
};

use crate::support::{component, hostile, inputs};

fn runtime(limits: Limits) -> PluginRuntime {
    PluginRuntime::new(RuntimeConfig::uniform(limits, None)).expect("runtime builds")
}

/// Calls the hostile guest `name` as a pricing component, asserts the failure kind, then
/// shows that a good call on the same engine still works.
async fn fails_then_recovers(runtime: &PluginRuntime, name: &str, kind: FailureKind) -> String {
    let bad = runtime
        .load(Hook::Pricing, &hostile(name))
        .await
        .expect("loads");
    let err = runtime
        .quote(Tenant::Platform, &bad, &inputs::quote_request(4))
        .await
        .expect_err("the hostile call must fail");
    assert_eq!(err.kind, kind, "{name}: {}", err.message);
    assert_eq!(err.hook, Hook::Pricing);
    assert_eq!(err.component, bad.id);

    let good = runtime
        .load(Hook::Pricing, &hostile("well-behaved"))
        .await
        .expect("loads");
    let called = runtime
        .quote(Tenant::Platform, &good, &inputs::quote_request(4))
        .await
        .expect("a good call after a hostile one succeeds");
    let quote = called.output.expect("priced");
    assert_eq!(quote.items.len(), 4);
    err.message
}

#[tokio::test]
async fn an_infinite_loop_runs_out_of_fuel() {
    let rt = runtime(Limits {
        deadline: Duration::from_secs(10),
        ..Limits::default()
    });
    fails_then_recovers(&rt, "loop", FailureKind::OutOfFuel).await;
}

#[tokio::test]
async fn an_infinite_loop_with_ample_fuel_hits_the_deadline() {
    let rt = runtime(Limits {
        fuel: u64::MAX / 2,
        deadline: Duration::from_millis(50),
        ..Limits::default()
    });
    fails_then_recovers(&rt, "loop", FailureKind::Timeout).await;
}

#[tokio::test]
async fn a_memory_bomb_is_trapped_at_the_cap() {
    let limits = Limits::default();
    let cap = limits.max_memory_bytes;
    let rt = runtime(limits);
    let message = fails_then_recovers(&rt, "memory-bomb", FailureKind::MemoryLimit).await;
    assert!(message.contains("memory limit exceeded"), "{message}");
    assert!(message.contains(&cap.to_string()), "{message}");
}

#[tokio::test]
async fn an_oversized_output_is_rejected() {
    let rt = runtime(Limits::default());
    let message = fails_then_recovers(&rt, "huge-output", FailureKind::OutputTooLarge).await;
    assert!(message.contains("exceeds 65536"), "{message}");
}

#[tokio::test]
async fn a_panic_is_a_trap_and_its_message_is_in_the_log() {
    let rt = runtime(Limits::default());
    let bad = rt
        .load(Hook::Pricing, &hostile("panic"))
        .await
        .expect("loads");
    let err = rt
        .quote(Tenant::Platform, &bad, &inputs::quote_request(1))
        .await
        .expect_err("a panic fails the call");
    assert_eq!(err.kind, FailureKind::Trap);
    assert!(err.log.contains("about to panic"), "log: {}", err.log);
    assert!(err.log.contains("panicked on purpose"), "log: {}", err.log);
    fails_then_recovers(&rt, "panic", FailureKind::Trap).await;
}

#[tokio::test]
async fn a_quote_whose_items_do_not_add_up_is_invalid_output() {
    let rt = runtime(Limits::default());
    let message = fails_then_recovers(&rt, "bad-quote", FailureKind::InvalidOutput).await;
    assert!(message.contains("add up to"), "{message}");
}

#[tokio::test]
async fn a_chatty_component_keeps_working_with_its_log_capped() {
    let limits = Limits::default();
    let cap = usize::try_from(limits.max_log_bytes).expect("fits");
    let rt = runtime(limits);
    let noisy = rt
        .load(Hook::Pricing, &hostile("noisy"))
        .await
        .expect("loads");
    let called = rt
        .quote(Tenant::Platform, &noisy, &inputs::quote_request(2))
        .await
        .expect("writing to stderr is not a failure");
    assert!(called.output.is_ok());
    assert_eq!(called.log.len(), cap, "the log is kept up to the cap");
}

#[tokio::test]
async fn an_oversized_input_is_refused_before_the_call() {
    let rt = runtime(Limits {
        max_input_bytes: 512,
        ..Limits::default()
    });
    let good = rt
        .load(Hook::Pricing, &hostile("well-behaved"))
        .await
        .expect("loads");
    let err = rt
        .quote(Tenant::Platform, &good, &inputs::quote_request(50))
        .await
        .expect_err("too large");
    assert_eq!(err.kind, FailureKind::InputTooLarge);
    assert_eq!(err.stats.fuel_used, 0, "the component never ran");
}

#[tokio::test]
async fn a_component_of_another_world_is_rejected_at_load() {
    let rt = runtime(Limits::default());
    let err = rt
        .load(Hook::Pricing, &component("booking-rules.wasm"))
        .await
        .expect_err("booking-rules is not a pricing component");
    assert!(
        matches!(
            err,
            LoadError::WrongWorld {
                hook: Hook::Pricing,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("cineflow:plugins/pricing@0.3.0"),
        "{err}"
    );
    // The same bytes load fine for the hook they implement.
    rt.load(Hook::BookingRules, &component("booking-rules.wasm"))
        .await
        .expect("loads as booking-rules");
}

#[tokio::test]
async fn a_core_module_is_rejected_at_load() {
    let rt = runtime(Limits::default());
    // The smallest valid core module: magic number and version 1, no sections.
    let core = b"\0asm\x01\0\0\0";
    let err = rt
        .load(Hook::Pricing, core)
        .await
        .expect_err("not a component");
    assert!(matches!(err, LoadError::CoreModule), "{err}");
    assert!(err.to_string().contains("core WebAssembly module"));
}

#[tokio::test]
async fn garbage_and_oversized_uploads_are_rejected_at_load() {
    let rt = runtime(Limits {
        max_component_bytes: 1024,
        ..Limits::default()
    });
    let err = rt
        .load(Hook::Pricing, b"not wasm at all")
        .await
        .expect_err("garbage");
    assert!(matches!(err, LoadError::NotWasm), "{err}");
    let err = rt
        .load(Hook::Pricing, &hostile("well-behaved"))
        .await
        .expect_err("over the 1 KiB cap");
    assert!(
        matches!(err, LoadError::TooLarge { limit: 1024, .. }),
        "{err}"
    );
    // A truncated component has the right header but does not validate.
    let mut truncated = hostile("well-behaved");
    truncated.truncate(600);
    let err = rt
        .load(Hook::Pricing, &truncated)
        .await
        .expect_err("truncated");
    assert!(matches!(err, LoadError::Invalid(_)), "{err}");
}

#[tokio::test]
async fn loading_the_same_bytes_twice_reuses_the_linked_component() {
    let rt = runtime(Limits::default());
    let a = rt
        .load(Hook::Pricing, &hostile("well-behaved"))
        .await
        .expect("loads");
    let b = rt
        .load(Hook::Pricing, &hostile("well-behaved"))
        .await
        .expect("loads");
    assert!(std::sync::Arc::ptr_eq(&a, &b));
    assert_eq!(
        a.id,
        cineflow::plugins::sha256_hex(&hostile("well-behaved"))
    );
}

#[tokio::test]
async fn compiled_components_are_cached_on_disk_and_reused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = hostile("well-behaved");
    let cold = PluginRuntime::new(RuntimeConfig::uniform(
        Limits::default(),
        Some(dir.path().into()),
    ))
    .expect("runtime");
    cold.load(Hook::Pricing, &bytes).await.expect("compiles");
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .expect("cache dir exists")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name != "mac.key")
        .collect();
    let sha = cineflow::plugins::sha256_hex(&bytes);
    assert!(
        dir.path().join("mac.key").exists(),
        "the artifacts' MAC key"
    );
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(
        files[0].starts_with(&sha) && files[0].ends_with(".cwasm"),
        "{files:?}"
    );

    // A second runtime (a restart) loads the artifact and it works.
    let warm = PluginRuntime::new(RuntimeConfig::uniform(
        Limits::default(),
        Some(dir.path().into()),
    ))
    .expect("runtime");
    let loaded = warm
        .load(Hook::Pricing, &bytes)
        .await
        .expect("loads from cache");
    let called = warm
        .quote(Tenant::Platform, &loaded, &inputs::quote_request(3))
        .await
        .expect("runs");
    assert!(called.output.is_ok());

    // A corrupt artifact is discarded and the component recompiled. (The runtime above maps
    // the file, so it must be gone before the file is rewritten in place.)
    drop((loaded, warm));
    std::fs::write(dir.path().join(&files[0]), b"garbage").expect("overwrite");
    let again = PluginRuntime::new(RuntimeConfig::uniform(
        Limits::default(),
        Some(dir.path().into()),
    ))
    .expect("runtime");
    let loaded = again.load(Hook::Pricing, &bytes).await.expect("recompiles");
    assert!(
        again
            .quote(Tenant::Platform, &loaded, &inputs::quote_request(1))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_full_instance_pool_is_unavailable_not_a_crash() {
    let mut config = RuntimeConfig::uniform(
        Limits {
            fuel: u64::MAX / 2,
            // Longer than the wait for a slot (below), so the second call finds it taken.
            deadline: Duration::from_millis(1500),
            ..Limits::default()
        },
        None,
    );
    config.max_concurrent_calls = 1;
    config.share = Some(cineflow::plugins::ShareSettings {
        queue_wait: Duration::from_millis(200),
        ..cineflow::plugins::ShareSettings::defaults(
            1,
            u64::MAX / 2,
            Duration::from_millis(1500),
            2,
        )
    });
    let rt = std::sync::Arc::new(PluginRuntime::new(config).expect("runtime"));
    let looping = rt
        .load(Hook::Pricing, &hostile("loop"))
        .await
        .expect("loads");
    let good = rt
        .load(Hook::Pricing, &hostile("well-behaved"))
        .await
        .expect("loads");
    let spinner = {
        let rt = rt.clone();
        tokio::spawn(async move {
            rt.quote(Tenant::Platform, &looping, &inputs::quote_request(1))
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let err = rt
        .quote(Tenant::Platform, &good, &inputs::quote_request(1))
        .await
        .expect_err("the only slot is taken");
    assert_eq!(err.kind, FailureKind::Unavailable, "{}", err.message);
    let spun = spinner.await.expect("task").expect_err("times out");
    assert_eq!(spun.kind, FailureKind::Timeout);
    // The slot is free again.
    assert!(
        rt.quote(Tenant::Platform, &good, &inputs::quote_request(1))
            .await
            .is_ok()
    );
}

/// The sandbox's walls, probed from inside: a guest that tries to read the host's environment,
/// a host file and the current directory, and to open a socket, gets nothing; and a static it
/// counts calls in starts from zero on every call (a fresh instance each time).
#[tokio::test]
async fn a_guest_sees_no_environment_files_or_sockets_and_keeps_no_state_between_calls() {
    assert!(
        std::env::var_os("DATABASE_URL").is_some(),
        "the host process has an environment (DATABASE_URL) that must not pass through"
    );
    let rt = runtime(Limits::default());
    let escape = rt
        .load(Hook::Pricing, &hostile("escape"))
        .await
        .expect("a component importing WASI sockets and files loads");
    for _ in 0..3 {
        let called = rt
            .quote(Tenant::Platform, &escape, &inputs::quote_request(2))
            .await
            .expect("the call succeeds");
        assert_eq!(called.output.expect("priced").items.len(), 2);
        assert_eq!(
            called.log.trim_end(),
            "escape: env 0 vars; probe unset; file error; dir error; socket error; call 1",
            "what the guest reached"
        );
    }
}

/// How long a hostile call may take at most in these tests: far below the 30 s its guest asks
/// to sleep, far above anything a busy machine adds.
const PROMPTLY: Duration = Duration::from_secs(10);

/// Runs `fails_then_recovers` and checks the hostile call was answered promptly.
async fn fails_promptly(runtime: &PluginRuntime, name: &str, kind: FailureKind) -> String {
    let started = std::time::Instant::now();
    let message = fails_then_recovers(runtime, name, kind).await;
    assert!(
        started.elapsed() < PROMPTLY,
        "{name} took {:?}",
        started.elapsed()
    );
    message
}

#[tokio::test]
async fn a_guest_that_sleeps_is_stopped_at_once_as_a_timeout() {
    let rt = runtime(Limits::default());
    let message = fails_promptly(&rt, "sleep", FailureKind::Timeout).await;
    assert!(message.contains("cannot wait"), "{message}");
    assert!(message.contains("subscribe-duration"), "{message}");
}

#[tokio::test]
async fn a_guest_that_polls_a_pollable_that_is_never_ready_is_stopped_at_once() {
    let rt = runtime(Limits::default());
    let message = fails_promptly(&rt, "wait-forever", FailureKind::Timeout).await;
    assert!(message.contains("cannot wait"), "{message}");
}

#[tokio::test]
async fn a_guest_that_reads_stdin_finds_it_closed_and_is_not_parked() {
    let rt = runtime(Limits::default());
    let reader = rt
        .load(Hook::Pricing, &hostile("stdin"))
        .await
        .expect("loads");
    let started = std::time::Instant::now();
    let called = rt
        .quote(Tenant::Platform, &reader, &inputs::quote_request(2))
        .await
        .expect("the call answers");
    assert!(started.elapsed() < PROMPTLY);
    assert_eq!(called.output.expect("priced").items.len(), 2);
    assert!(called.log.contains("Closed"), "{}", called.log);
}

#[tokio::test]
async fn a_guest_that_keeps_every_wasi_handle_fills_its_table_and_fails() {
    let rt = runtime(Limits {
        fuel: u64::MAX / 2,
        deadline: Duration::from_secs(5),
        ..Limits::default()
    });
    let message = fails_promptly(&rt, "resource-flood", FailureKind::MemoryLimit).await;
    assert!(message.to_lowercase().contains("table"), "{message}");
}

#[tokio::test]
async fn a_guest_that_asks_for_a_gigabyte_of_random_bytes_is_refused_before_the_host_allocates() {
    let rt = runtime(Limits::default());
    let message = fails_promptly(&rt, "random-flood", FailureKind::Trap).await;
    assert!(message.contains("exceeds limit"), "{message}");
}

#[tokio::test]
async fn a_guest_that_yields_forever_is_stopped_by_its_deadline() {
    let rt = runtime(Limits {
        fuel: u64::MAX / 2,
        ..Limits::default()
    });
    fails_promptly(&rt, "yield-forever", FailureKind::Timeout).await;
}

#[tokio::test]
async fn a_guest_that_floods_its_log_from_host_calls_is_stopped_by_its_deadline() {
    let rt = runtime(Limits {
        fuel: u64::MAX / 2,
        ..Limits::default()
    });
    fails_promptly(&rt, "write-flood", FailureKind::Timeout).await;
}

/// The measurement from the issue, reversed: with four slots, many sleeping calls at once
/// hold no slot, and a good call made meanwhile is answered.
#[tokio::test]
async fn sleeping_calls_hold_no_slot() {
    let mut config = RuntimeConfig::uniform(Limits::default(), None);
    config.max_concurrent_calls = 4;
    let rt = std::sync::Arc::new(PluginRuntime::new(config).expect("runtime"));
    let sleeper = std::sync::Arc::new(
        rt.load(Hook::Pricing, &hostile("sleep"))
            .await
            .expect("loads"),
    );
    let good = rt
        .load(Hook::Pricing, &hostile("well-behaved"))
        .await
        .expect("loads");
    let started = std::time::Instant::now();
    let sleepers: Vec<_> = (0..16)
        .map(|_| {
            let (rt, sleeper) = (rt.clone(), sleeper.clone());
            tokio::spawn(async move {
                rt.quote(Tenant::Platform, &sleeper, &inputs::quote_request(1))
                    .await
            })
        })
        .collect();
    let answered = rt
        .quote(Tenant::Platform, &good, &inputs::quote_request(1))
        .await
        .expect("a good call meanwhile");
    assert!(answered.output.is_ok());
    for s in sleepers {
        let err = s.await.expect("task").expect_err("each sleep fails");
        assert_eq!(err.kind, FailureKind::Timeout, "{}", err.message);
    }
    assert!(started.elapsed() < PROMPTLY, "{:?}", started.elapsed());
}

/// Fair share at the runtime: a chain holding its one slot with long calls is refused
/// (`busy`, with a retry time) while another chain's call goes through.
#[tokio::test]
async fn a_chain_over_its_share_is_busy_and_another_chain_is_served() {
    use cineflow::plugins::ShareSettings;
    let mut config = RuntimeConfig::uniform(
        Limits {
            fuel: u64::MAX / 2,
            deadline: Duration::from_millis(1500),
            ..Limits::default()
        },
        None,
    );
    config.max_concurrent_calls = 8;
    config.share = Some(ShareSettings {
        max_concurrent_calls: 1,
        fuel_per_second: u64::MAX / 4,
        queue_wait: Duration::from_millis(100),
    });
    let rt = std::sync::Arc::new(PluginRuntime::new(config).expect("runtime"));
    let looping = std::sync::Arc::new(
        rt.load(Hook::Pricing, &hostile("loop"))
            .await
            .expect("loads"),
    );
    let good = rt
        .load(Hook::Pricing, &hostile("well-behaved"))
        .await
        .expect("loads");
    let (hog, other) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    let spinner = {
        let (rt, looping) = (rt.clone(), looping.clone());
        tokio::spawn(async move {
            rt.quote(Tenant::Chain(hog), &looping, &inputs::quote_request(1))
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let busy = rt
        .quote(Tenant::Chain(hog), &good, &inputs::quote_request(1))
        .await
        .expect_err("the hog's own second call waits, then is refused");
    assert_eq!(busy.kind, FailureKind::Busy, "{}", busy.message);
    assert!(busy.retry_after.is_some());
    let served = rt
        .quote(Tenant::Chain(other), &good, &inputs::quote_request(1))
        .await
        .expect("another chain is served");
    assert!(served.output.is_ok());
    let usage = rt.share().usage(hog);
    assert_eq!(usage.calls_in_flight, 1);
    assert!(usage.refused_total >= 1);
    let spun = spinner.await.expect("task").expect_err("times out");
    assert_eq!(spun.kind, FailureKind::Timeout);
}

/// Fair share of CPU: a chain that burns its fuel per second is refused at once with the time
/// until its bucket refills, and other chains keep their own buckets.
#[tokio::test]
async fn a_chain_that_burns_its_fuel_is_refused_until_its_bucket_refills() {
    use cineflow::plugins::ShareSettings;
    let mut config = RuntimeConfig::uniform(
        Limits {
            fuel: 5_000_000,
            deadline: Duration::from_secs(5),
            ..Limits::default()
        },
        None,
    );
    config.share = Some(ShareSettings {
        max_concurrent_calls: 4,
        fuel_per_second: 5_000_000,
        queue_wait: Duration::from_millis(100),
    });
    let rt = runtime_with(config);
    let looping = rt
        .load(Hook::Pricing, &hostile("loop"))
        .await
        .expect("loads");
    let good = rt
        .load(Hook::Pricing, &hostile("well-behaved"))
        .await
        .expect("loads");
    let (hog, other) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    // Two calls that each burn the whole per-call budget leave the bucket a second in debt.
    for _ in 0..2 {
        let err = rt
            .quote(Tenant::Chain(hog), &looping, &inputs::quote_request(1))
            .await
            .expect_err("out of fuel");
        if err.kind == FailureKind::Busy {
            break;
        }
        assert_eq!(err.kind, FailureKind::OutOfFuel, "{}", err.message);
    }
    let refused = rt
        .quote(Tenant::Chain(hog), &good, &inputs::quote_request(1))
        .await
        .expect_err("the hog has no fuel left");
    assert_eq!(refused.kind, FailureKind::Busy, "{}", refused.message);
    assert!(refused.message.contains("fuel"), "{}", refused.message);
    let wait = refused.retry_after.expect("retry after");
    assert!(
        wait > Duration::ZERO && wait <= Duration::from_secs(2),
        "{wait:?}"
    );
    assert!(
        rt.quote(Tenant::Chain(other), &good, &inputs::quote_request(1))
            .await
            .expect("another chain has its own bucket")
            .output
            .is_ok()
    );
    assert!(rt.share().usage(hog).fuel_available <= 0);
}

fn runtime_with(config: RuntimeConfig) -> PluginRuntime {
    PluginRuntime::new(config).expect("runtime builds")
}
