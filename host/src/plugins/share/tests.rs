//! The fair share's unit tests: slots, fuel buckets, the pool, charges by time, bursts, and
//! the defaults.

use super::*;

fn settings(slots: u32, fuel: u64) -> ShareSettings {
    ShareSettings {
        max_concurrent_calls: slots,
        fuel_per_second: fuel,
        queue_wait: Duration::from_millis(20),
    }
}

#[tokio::test]
async fn a_chain_over_its_slots_is_refused_and_another_chain_is_not() {
    let share = FairShare::new(4, settings(2, 1_000_000));
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let first = share.admit(Tenant::Chain(a), 10).await.expect("first");
    let _second = share.admit(Tenant::Chain(a), 10).await.expect("second");
    assert!(matches!(
        share.admit(Tenant::Chain(a), 10).await,
        Err(Refusal::ChainBusy { .. })
    ));
    let _other = share
        .admit(Tenant::Chain(b), 10)
        .await
        .expect("another chain");
    assert_eq!(share.usage(a).calls_in_flight, 2);
    assert_eq!(share.usage(a).refused_total, 1);
    drop(first);
    share
        .admit(Tenant::Chain(a), 10)
        .await
        .expect("a slot came back");
}

#[tokio::test]
async fn a_chain_out_of_fuel_waits_for_its_bucket() {
    let share = FairShare::new(4, settings(4, 1_000));
    let a = Uuid::now_v7();
    let admitted = share.admit(Tenant::Chain(a), 10).await.expect("admitted");
    share.charge(&admitted, 3_000);
    drop(admitted);
    match share.admit(Tenant::Chain(a), 10).await {
        Err(Refusal::ChainOutOfFuel { retry_after }) => {
            assert!(
                retry_after >= Duration::from_millis(1900),
                "{retry_after:?}"
            );
            assert!(
                retry_after <= Duration::from_millis(2000),
                "{retry_after:?}"
            );
        }
        Ok(_) => panic!("admitted while in debt"),
        Err(other) => panic!("unexpected {other:?}"),
    }
    share
        .admit(Tenant::Chain(Uuid::now_v7()), 10)
        .await
        .expect("another chain has its own bucket");
}

#[tokio::test]
async fn the_pool_bounds_everyone_together() {
    let share = FairShare::new(1, settings(1, 1_000));
    let _held = share.admit(Tenant::Platform, 10).await.expect("one slot");
    assert!(matches!(
        share.admit(Tenant::Chain(Uuid::now_v7()), 10).await,
        Err(Refusal::PoolFull)
    ));
}

#[test]
fn time_spent_running_is_charged_like_fuel() {
    let deadline = Duration::from_millis(100);
    assert_eq!(charge_for(10, Duration::ZERO, 1_000, deadline), 10);
    assert_eq!(
        charge_for(10, Duration::from_millis(50), 1_000, deadline),
        500
    );
    assert_eq!(
        charge_for(900, Duration::from_millis(50), 1_000, deadline),
        900
    );
}

/// Calls in flight count at their whole budget: with room for two budgets, a third call
/// waits until one of the two finishes, then runs.
#[tokio::test]
async fn a_burst_is_admitted_only_as_far_as_the_bucket_could_pay_for_it() {
    let share = std::sync::Arc::new(FairShare::new(8, settings(8, 1_000)));
    let a = Uuid::now_v7();
    let first = share.admit(Tenant::Chain(a), 400).await.expect("first");
    let _second = share.admit(Tenant::Chain(a), 400).await.expect("second");
    let third = {
        let share = share.clone();
        tokio::spawn(async move { share.admit(Tenant::Chain(a), 400).await.is_ok() })
    };
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert!(
        !third.is_finished(),
        "the third waits while two budgets are in flight"
    );
    share.charge(&first, 10);
    drop(first);
    assert!(
        third.await.expect("task"),
        "admitted once the first finished"
    );
}

#[test]
fn defaults_give_an_eighth_of_the_pool_and_of_the_cpu() {
    let d = Duration::from_millis(100);
    assert_eq!(
        ShareSettings::defaults(1000, 50, d, 2).max_concurrent_calls,
        125
    );
    assert_eq!(ShareSettings::defaults(4, 50, d, 2).max_concurrent_calls, 1);
    // 50 fuel per 100 ms = 500 per core-second; an eighth of 2 cores is 125.
    assert_eq!(ShareSettings::defaults(8, 50, d, 2).fuel_per_second, 125);
    assert_eq!(ShareSettings::defaults(8, 50, d, 16).fuel_per_second, 1000);
    // Never less than one call's budget.
    assert_eq!(ShareSettings::defaults(8, 50, d, 1).fuel_per_second, 62);
}
