//! The baseline of a replay's throughput (docs/BENCHMARKS.md, row 12): the same component
//! called in a tight loop on recorded inputs, in process, one call at a time (as a replay
//! calls it), with no database. `bench/all.sh` runs it on the inputs the replay replays.
//!
//!   cargo bench -p cineflow --bench replay_loop -- HOOK WASM INPUTS.jsonl SECONDS
//!
//! Prints one line: `LOOP calls=N seconds=S per_second=R failures=F`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use cineflow::plugins::{Hook, Limits, PluginRuntime, RuntimeConfig, Tenant, invoke};

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; the positional arguments are ours.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let [hook, wasm, inputs, seconds] = args.as_slice() else {
        anyhow::bail!("usage: replay_loop HOOK WASM INPUTS.jsonl SECONDS");
    };
    let hook: Hook = hook
        .parse()
        .map_err(|_| anyhow::anyhow!("unknown hook {hook}"))?;
    let seconds: f64 = seconds.parse()?;
    let inputs: Vec<serde_json::Value> = std::fs::read_to_string(PathBuf::from(inputs))?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    anyhow::ensure!(!inputs.is_empty(), "no inputs");
    let bytes = std::fs::read(wasm)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let plugins = PluginRuntime::new(RuntimeConfig::uniform(Limits::default(), None))?;
        let component = plugins.load(hook, &bytes).await?;
        let until = Duration::from_secs_f64(seconds);
        let started = Instant::now();
        let (mut calls, mut failures) = (0u64, 0u64);
        while started.elapsed() < until {
            for input in &inputs {
                let out = invoke::invoke(&plugins, Tenant::Platform, &component, input.clone())
                    .await
                    .map_err(|e| anyhow::anyhow!(e))?;
                calls += 1;
                failures += u64::from(out.outcome.is_err());
            }
        }
        let elapsed = started.elapsed().as_secs_f64();
        println!(
            "LOOP calls={calls} seconds={elapsed:.3} per_second={:.1} failures={failures}",
            calls as f64 / elapsed
        );
        anyhow::Ok(())
    })
}
