//! Hook `seat-picker` (new in 0.2.1): `pick`, at the current version and 0.2. Its bindings, linking, conversions, the typed
//! call, the output check, the fixtures and the dry-run mapping.

pub(crate) mod bindings;

use std::collections::{HashMap, HashSet};

use futures_util::future::BoxFuture;
use serde_json::Value;
use wasmtime::component::InstancePre;

use crate::domain::hook_io as io;
use crate::plugins::invoke::{Invocation, done, parse};
use crate::plugins::registry::OnFailure;
use crate::plugins::store::CallState;
use crate::plugins::{CallError, Called, Hook, LoadedComponent, PluginRuntime, Tenant};
use bindings::current::exports::cineflow::plugins::picker as wit;
use bindings::v0_2::exports::cineflow::plugins::picker as wit_v0_2;

use super::{HookSpec, newest_first};

/// The seat-picker hook.
pub(crate) struct SeatPicker;

super::linked_versions!(
    /// The current world.
    Current(bindings::current::SeatPickerPre<CallState>),
    /// 0.2.1, where the hook was born.
    V0_2(bindings::v0_2::SeatPickerPre<CallState>),
);

impl HookSpec for SeatPicker {
    const HOOK: Hook = Hook::SeatPicker;
    /// The default's seats are checked like any pick, and a customer still gets seats.
    const ON_FAILURE: OnFailure = OnFailure::Fallback;
    const FIXTURES: &'static str = include_str!("fixtures.json");
    type Input = io::PickRequest;
    type Pre = Pre;

    fn link(pre: InstancePre<CallState>) -> wasmtime::Result<Pre> {
        newest_first(
            bindings::current::SeatPickerPre::new(pre.clone()).map(Pre::Current),
            || bindings::v0_2::SeatPickerPre::new(pre).map(Pre::V0_2),
        )
    }

    fn invoke<'a>(
        runtime: &'a PluginRuntime,
        tenant: Tenant,
        component: &'a LoadedComponent,
        input: Value,
    ) -> BoxFuture<'a, Result<Invocation, String>> {
        Box::pin(async move {
            let req = parse::<io::PickRequest>(input)?;
            Ok(done(runtime.pick_seats(tenant, component, &req).await))
        })
    }
}

// 0.2 and 0.3 pick from the same records.
macro_rules! pick_request {
    ($wit:ident) => {
        impl From<&io::PickRequest> for $wit::PickRequest {
            fn from(r: &io::PickRequest) -> Self {
                Self {
                    show: (&r.show).into(),
                    seats: r
                        .seats
                        .iter()
                        .map(|s| $wit::MapSeat {
                            seat: (&s.seat).into(),
                            state: match s.state {
                                io::Availability::Free => $wit::Availability::Free,
                                io::Availability::Taken => $wit::Availability::Taken,
                                io::Availability::Blocked => $wit::Availability::Blocked,
                            },
                        })
                        .collect(),
                    count: r.count,
                    seat_class: r.seat_class.map(Into::into),
                    accessible: r.accessible,
                    now_ms: r.now_ms,
                }
            }
        }
    };
}
pick_request!(wit);
pick_request!(wit_v0_2);

impl PluginRuntime {
    /// Asks a seat-picker component which seats to hold for an "n seats" request.
    pub async fn pick_seats(
        &self,
        tenant: Tenant,
        component: &LoadedComponent,
        req: &io::PickRequest,
    ) -> Result<Called<Vec<String>>, CallError> {
        self.call(
            tenant,
            component,
            req,
            async |pre, store| {
                let linked = pre.get::<Pre>(SeatPicker::HOOK)?;
                super::at_its_version!(linked, store, [Current => wit, V0_2 => wit_v0_2], |instance, w| {
                    instance
                        .cineflow_plugins_picker()
                        .call_pick(&mut *store, &w::PickRequest::from(req))
                        .await
                })
            },
            |seats| check_pick(seats, req),
        )
        .await
    }
}

/// The host never trusts a pick: exactly `count` distinct seats of the screen, each free, and
/// of the class asked for. Anything else is the component's failure (`invalid_output`), so the
/// binding's policy decides (fall back to the default, or refuse) and the breaker counts it.
pub(crate) fn check_pick(seats: &[String], req: &io::PickRequest) -> Result<(), String> {
    let count = usize::try_from(req.count).unwrap_or(usize::MAX);
    if seats.len() != count {
        return Err(format!(
            "picked {} seats, {} were asked for",
            seats.len(),
            req.count
        ));
    }
    let map: HashMap<&str, &io::MapSeat> =
        req.seats.iter().map(|s| (s.seat.id.as_str(), s)).collect();
    let mut seen = HashSet::with_capacity(seats.len());
    for id in seats {
        if !seen.insert(id.as_str()) {
            return Err(format!("picked seat {id:.16} twice"));
        }
        let Some(seat) = map.get(id.as_str()) else {
            return Err(format!("picked seat {id:.16}, which is not on this screen"));
        };
        if seat.state != io::Availability::Free {
            return Err(format!("picked seat {id}, which is not free"));
        }
        if let Some(class) = req.seat_class
            && seat.seat.class != class
        {
            return Err(format!(
                "picked seat {id} of class {}, {} was asked for",
                seat.seat.class.as_str(),
                class.as_str()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(count: u32, class: Option<io::SeatClass>) -> io::PickRequest {
        let seat = |id: &str, number, class, state| io::MapSeat {
            seat: io::Seat {
                id: id.into(),
                row: "A".into(),
                number,
                class,
            },
            state,
        };
        io::PickRequest {
            show: io::ShowInfo {
                show_id: String::new(),
                chain_id: String::new(),
                theatre_id: String::new(),
                theatre_name: String::new(),
                movie_id: String::new(),
                movie_title: String::new(),
                screen_name: String::new(),
                format: "2D".into(),
                starts_at_ms: 0,
                timezone: "UTC".into(),
                currency: "INR".into(),
                prices: vec![],
                capacity: 3,
                seats_sold: 1,
            },
            seats: vec![
                seat("A-1", 1, io::SeatClass::Standard, io::Availability::Free),
                seat("A-2", 2, io::SeatClass::Standard, io::Availability::Taken),
                seat("A-3", 3, io::SeatClass::Premium, io::Availability::Free),
                seat("A-4", 4, io::SeatClass::Standard, io::Availability::Blocked),
            ],
            count,
            seat_class: class,
            accessible: false,
            now_ms: 0,
        }
    }

    fn ids(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_pick_must_be_the_count_of_distinct_free_seats_of_the_class() {
        assert!(check_pick(&ids(&["A-1", "A-3"]), &request(2, None)).is_ok());
        assert!(
            check_pick(&ids(&["A-1"]), &request(2, None)).is_err(),
            "count"
        );
        assert!(
            check_pick(&ids(&["A-1", "A-1"]), &request(2, None)).is_err(),
            "twice"
        );
        assert!(
            check_pick(&ids(&["A-1", "ZZ-9"]), &request(2, None)).is_err(),
            "unknown"
        );
        assert!(
            check_pick(&ids(&["A-2"]), &request(1, None)).is_err(),
            "taken"
        );
        assert!(
            check_pick(&ids(&["A-4"]), &request(1, None)).is_err(),
            "blocked"
        );
        let premium = Some(io::SeatClass::Premium);
        assert!(check_pick(&ids(&["A-3"]), &request(1, premium)).is_ok());
        assert!(
            check_pick(&ids(&["A-1"]), &request(1, premium)).is_err(),
            "class"
        );
    }
}
