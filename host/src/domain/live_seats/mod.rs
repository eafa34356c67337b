//! Live seat maps (docs/seat-maps.md): each replica keeps the seat states of the shows people
//! look at in memory and serves `GET /shows/{id}/seats` and its event stream from there,
//! without a query per read.
//!
//! How the memory stays true:
//! - a show's map is read from PostgreSQL on first use ([`LiveSeats::snapshot`]);
//! - every statement that takes, keeps or frees seats announces its rows on NOTIFY
//!   `cineflow_seats` (migration 0020), delivered to every replica at commit, in commit order;
//!   [`follow`] applies them without reading anything back;
//! - a write made here marks its show stale ([`LiveSeats::touch`]) so this replica's next read
//!   re-reads it: a customer sees their own hold at once, before the announcement arrives;
//! - the clock frees a hold's seats when it runs out, at read time and on a 100 ms tick for
//!   shows someone streams;
//! - a safety net: every map is re-read after the listening connection is (re)made and
//!   every `reconcile_every`, and a re-read replays the announcements that arrived meanwhile.
//!
//! Each change gets a version (a replica-wide counter started from the clock, so versions
//! are never reused across restarts); the pre-serialised bytes of the current version are
//! made once and shared by every reader.

mod follow;
pub mod state;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use sqlx::PgPool;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub use follow::{CHANNEL, follow};
pub use state::SeatState;
use state::{Layout, SeatRowChange, ShowSeats};

use crate::db::shows::Prices;
use crate::db::{booking_seats, shows};
use crate::domain::DomainError;
use crate::seat_maps::SeatMaps;

/// Limits of the live seat maps.
#[derive(Debug, Clone)]
pub struct LiveSeatSettings {
    /// Shows kept in memory; past this the least recently read ones nobody streams go.
    pub max_shows: usize,
    /// Open event streams per replica; more are refused with 503.
    pub max_streams: usize,
    /// How often every map is re-read, in case an announcement was lost.
    pub reconcile_every: Duration,
}

impl Default for LiveSeatSettings {
    fn default() -> Self {
        Self {
            max_shows: 1000,
            max_streams: 10_000,
            reconcile_every: Duration::from_secs(30),
        }
    }
}

/// Changes kept per show for `Last-Event-ID` resumes, and the most a stream may fall behind
/// before it is dropped (a client that reads slower than the map changes reconnects and
/// resumes, it is never buffered for without bound).
const HISTORY: usize = 256;

/// The seat map of a show at one version. Immutable; the bytes of its rendering are made once.
#[derive(Debug)]
pub struct SeatMapSnapshot {
    /// Show.
    pub show_id: Uuid,
    /// Version.
    pub version: u64,
    /// The screen's seats in display order.
    pub seats: Arc<Vec<crate::db::screens::SeatRow>>,
    /// Each seat's state, parallel to `seats`.
    pub states: Vec<SeatState>,
    /// Prices per class.
    pub prices: Prices,
    encoded: OnceLock<Encoded>,
}

impl SeatMapSnapshot {
    /// The rendering of this version, made by `render` the first time it is asked for.
    pub fn encoded(&self, render: impl FnOnce(&Self) -> Encoded) -> &Encoded {
        self.encoded.get_or_init(|| render(self))
    }
}

/// A seat map's bytes as served: identity and gzip, and their entity tag.
#[derive(Debug)]
pub struct Encoded {
    /// The JSON document.
    pub identity: Bytes,
    /// The same, gzipped.
    pub gzip: Bytes,
    /// A hash of `identity`, the same on every replica for the same map.
    pub tag: String,
}

/// Seats whose state changed, from version `prev` to `version`.
#[derive(Debug)]
pub struct SeatChange {
    /// The new version.
    pub version: u64,
    /// The version it follows.
    pub prev: u64,
    /// Seat ids and their new state, in display order.
    pub seats: Vec<(String, SeatState)>,
    encoded: OnceLock<Bytes>,
}

impl SeatChange {
    /// Seats `seats` changed from version `prev` to `version`.
    pub fn new(version: u64, prev: u64, seats: Vec<(String, SeatState)>) -> Self {
        Self {
            version,
            prev,
            seats,
            encoded: OnceLock::new(),
        }
    }

    /// The rendering of this change, made once.
    pub fn encoded(&self, render: impl FnOnce(&Self) -> Bytes) -> &Bytes {
        self.encoded.get_or_init(|| render(self))
    }
}

/// What a stream is sent.
#[derive(Debug, Clone)]
pub enum SeatEvent {
    /// Some seats changed.
    Change(Arc<SeatChange>),
    /// The whole map (first, or when a show's prices changed).
    Snapshot(Arc<SeatMapSnapshot>),
    /// The show is gone.
    Gone,
}

/// The live seat maps of this replica.
pub struct LiveSeats {
    pool: PgPool,
    screens: Arc<SeatMaps>,
    settings: LiveSeatSettings,
    entries: Mutex<HashMap<Uuid, Arc<Entry>>>,
    layouts: Mutex<HashMap<Uuid, Arc<Layout>>>,
    versions: AtomicU64,
    streams: Arc<AtomicUsize>,
    closing: CancellationToken,
}

struct Entry {
    show: Uuid,
    state: Mutex<EntryState>,
    /// One re-read of the show at a time.
    refresh: tokio::sync::Mutex<()>,
    events: broadcast::Sender<SeatEvent>,
    last_used_ms: AtomicI64,
    /// A background re-read is queued (one at a time per show).
    refresh_queued: std::sync::atomic::AtomicBool,
}

#[derive(Default)]
struct EntryState {
    loaded: Option<Loaded>,
    /// Announcements received while a re-read is under way, replayed on its result.
    capture: Option<Vec<SeatRowChange>>,
    /// Bumped by [`LiveSeats::touch`]; the map is current as of `clean`.
    dirty: u64,
    clean: u64,
    /// When a re-read last failed: for a second after, readers are served the map in memory
    /// instead of each waiting out its own failing re-read.
    failed_at: Option<std::time::Instant>,
}

struct Loaded {
    prices: Prices,
    seats: ShowSeats,
    version: u64,
    snapshot: Option<Arc<SeatMapSnapshot>>,
    history: VecDeque<Arc<SeatChange>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// An open stream, counted against `max_streams` until dropped.
pub struct StreamSlot(Arc<AtomicUsize>);

impl StreamSlot {
    /// A slot counted nowhere, for streams made up in tests.
    #[cfg(test)]
    pub fn detached() -> Self {
        Self(Arc::default())
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A stream's start: what to send first, then what arrives on `events`.
pub struct Subscription {
    /// A snapshot, or the changes since the client's `Last-Event-ID`, or nothing when it is
    /// up to date.
    pub first: Vec<SeatEvent>,
    /// Every later event of the show.
    pub events: broadcast::Receiver<SeatEvent>,
    /// The version `first` brings the client to; later events at or below it are skipped.
    pub version: u64,
    /// Held for the stream's life.
    pub slot: StreamSlot,
}

impl LiveSeats {
    /// Empty maps over `pool`, with screens' layouts from `screens`.
    pub fn new(pool: PgPool, screens: Arc<SeatMaps>, settings: LiveSeatSettings) -> Self {
        let start = u64::try_from(chrono::Utc::now().timestamp_micros()).unwrap_or(1);
        Self {
            pool,
            screens,
            settings,
            entries: Mutex::default(),
            layouts: Mutex::default(),
            versions: AtomicU64::new(start),
            streams: Arc::default(),
            closing: CancellationToken::new(),
        }
    }

    /// Cancelled when the server starts shutting down: open streams end, so that the
    /// graceful shutdown is not held up by clients that would listen forever.
    pub fn closing(&self) -> CancellationToken {
        self.closing.clone()
    }

    /// The settings.
    pub fn settings(&self) -> &LiveSeatSettings {
        &self.settings
    }

    /// Open event streams on this replica.
    pub fn open_streams(&self) -> usize {
        self.streams.load(Ordering::Relaxed)
    }

    fn next_version(&self) -> u64 {
        self.versions.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// The current map of `show`, from memory (read from the database on first use, or after
    /// a write on this replica).
    pub async fn snapshot(&self, show: Uuid) -> Result<Arc<SeatMapSnapshot>, DomainError> {
        let entry = self.entry(show);
        self.ensure_fresh(&entry).await?;
        let mut s = lock(&entry.state);
        let loaded = s
            .loaded
            .as_mut()
            .ok_or_else(|| DomainError::NotFound("no such show".into()))?;
        self.tick_loaded(&entry, loaded, now_ms());
        Ok(self.snapshot_of(show, loaded))
    }

    /// Opens a stream of `show`'s changes, resuming after version `last_event_id` when this
    /// replica still has every change since.
    pub async fn subscribe(
        &self,
        show: Uuid,
        last_event_id: Option<u64>,
    ) -> Result<Subscription, DomainError> {
        let open = self.streams.fetch_add(1, Ordering::Relaxed);
        let slot = StreamSlot(self.streams.clone());
        if open >= self.settings.max_streams {
            return Err(DomainError::Overloaded(
                "too many seat-map streams are open on this server; try again shortly".into(),
            ));
        }
        let entry = self.entry(show);
        self.ensure_fresh(&entry).await?;
        let mut s = lock(&entry.state);
        let loaded = s
            .loaded
            .as_mut()
            .ok_or_else(|| DomainError::NotFound("no such show".into()))?;
        self.tick_loaded(&entry, loaded, now_ms());
        // Subscribed under the lock every publication takes: nothing falls between the
        // first events and the receiver.
        let events = entry.events.subscribe();
        let first = match last_event_id {
            Some(v) if v == loaded.version => Vec::new(),
            Some(v) => match loaded.history.iter().position(|c| c.prev == v) {
                Some(at) => loaded
                    .history
                    .iter()
                    .skip(at)
                    .map(|c| SeatEvent::Change(c.clone()))
                    .collect(),
                None => vec![SeatEvent::Snapshot(self.snapshot_of(show, loaded))],
            },
            None => vec![SeatEvent::Snapshot(self.snapshot_of(show, loaded))],
        };
        Ok(Subscription {
            first,
            events,
            version: loaded.version,
            slot,
        })
    }

    /// A write on this replica changed `show`'s seats or prices: its next read here re-reads
    /// it (the announcement of the change may still be on its way).
    pub fn touch(&self, show: Uuid) {
        let entry = lock(&self.entries).get(&show).cloned();
        if let Some(entry) = entry {
            lock(&entry.state).dirty += 1;
        }
    }

    fn entry(&self, show: Uuid) -> Arc<Entry> {
        let mut entries = lock(&self.entries);
        if let Some(e) = entries.get(&show) {
            e.last_used_ms.store(now_ms(), Ordering::Relaxed);
            return e.clone();
        }
        if entries.len() >= self.settings.max_shows {
            evict(&mut entries, self.settings.max_shows / 10 + 1);
        }
        let (events, _) = broadcast::channel(HISTORY);
        let entry = Arc::new(Entry {
            show,
            state: Mutex::default(),
            refresh: tokio::sync::Mutex::new(()),
            events,
            last_used_ms: AtomicI64::new(now_ms()),
            refresh_queued: std::sync::atomic::AtomicBool::new(false),
        });
        entries.insert(show, entry.clone());
        entry
    }

    fn entries(&self) -> Vec<Arc<Entry>> {
        lock(&self.entries).values().cloned().collect()
    }

    async fn ensure_fresh(&self, entry: &Arc<Entry>) -> Result<(), DomainError> {
        let wanted = {
            let s = lock(&entry.state);
            if s.loaded.is_some() && s.dirty == s.clean {
                return Ok(());
            }
            if s.loaded.is_some()
                && s.failed_at
                    .is_some_and(|at| at.elapsed() < Duration::from_secs(1))
            {
                return Ok(());
            }
            s.dirty
        };
        match self.refresh(entry, Refresh::UpTo(wanted)).await {
            Ok(()) => Ok(()),
            // A map that was current before its database went away is still served: nothing
            // can change seats while the database is away, and the clock keeps running.
            Err(DomainError::Db(e)) if lock(&entry.state).loaded.is_some() => {
                tracing::warn!(show = %entry.show, error = %e, "re-reading a seat map failed; serving the one in memory");
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Re-reads `entry`'s show and replays what was announced meanwhile.
    async fn refresh(&self, entry: &Arc<Entry>, how: Refresh) -> Result<(), DomainError> {
        let _one = entry.refresh.lock().await;
        let force = matches!(how, Refresh::Always);
        let generation = {
            let mut s = lock(&entry.state);
            // A re-read that started after this one was asked for (while it waited for the
            // lock) already did the work: readers of a hot show share one.
            let done = match how {
                Refresh::Always => false,
                Refresh::UpTo(wanted) => s.clean >= wanted,
                Refresh::IfStale => s.dirty == s.clean,
            };
            if s.loaded.is_some() && done {
                return Ok(());
            }
            s.capture = Some(Vec::new());
            s.dirty
        };
        let read = self.read(entry.show).await;
        let mut s = lock(&entry.state);
        let captured = s.capture.take().unwrap_or_default();
        if read.is_err() {
            s.failed_at = Some(std::time::Instant::now());
        } else {
            s.failed_at = None;
        }
        let (prices, layout, rows) = match read {
            Ok(Some(found)) => found,
            Ok(None) => {
                s.loaded = None;
                drop(s);
                let _ = entry.events.send(SeatEvent::Gone);
                let mut entries = lock(&self.entries);
                if entries
                    .get(&entry.show)
                    .is_some_and(|e| Arc::ptr_eq(e, entry))
                {
                    entries.remove(&entry.show);
                }
                return Err(DomainError::NotFound("no such show".into()));
            }
            Err(e) => return Err(e),
        };
        let now = now_ms();
        let mut seats = ShowSeats::new(layout, &rows, now);
        seats.apply(&captured, now);
        s.clean = generation;
        match s.loaded.as_mut() {
            None => {
                s.loaded = Some(Loaded {
                    prices,
                    seats,
                    version: self.next_version(),
                    snapshot: None,
                    history: VecDeque::new(),
                });
            }
            Some(old)
                if old.prices != prices || !Arc::ptr_eq(old.seats.layout(), seats.layout()) =>
            {
                // Not a change of seats: streams get the whole map again and resumes
                // from before it start over.
                seats.inherit_releases(&old.seats);
                *old = Loaded {
                    prices,
                    seats,
                    version: self.next_version(),
                    snapshot: None,
                    history: VecDeque::new(),
                };
                let snapshot = self.snapshot_of(entry.show, old);
                let _ = entry.events.send(SeatEvent::Snapshot(snapshot));
            }
            Some(old) => {
                seats.inherit_releases(&old.seats);
                let changed = seats.differs_from(&old.seats);
                if !changed.is_empty() {
                    tracing::debug!(show = %entry.show, seats = changed.len(), force, "a re-read changed a seat map");
                    if force {
                        metrics::counter!("cineflow_seat_map_reconcile_fixes_total").increment(1);
                    }
                }
                old.seats = seats;
                self.publish(entry, old, &changed);
            }
        }
        Ok(())
    }

    /// The show's prices, its screen's layout and its live seat rows.
    async fn read(
        &self,
        show: Uuid,
    ) -> Result<Option<(Prices, Arc<Layout>, Vec<SeatRowChange>)>, DomainError> {
        let mut conn = self.pool.acquire().await?;
        let Some(meta) = shows::seat_map_meta(&mut conn, show).await? else {
            return Ok(None);
        };
        let layout = self
            .layout(&mut conn, meta.chain_id, meta.screen_id)
            .await?;
        let rows = booking_seats::live_rows(&mut conn, show)
            .await?
            .into_iter()
            .map(|r| SeatRowChange(r.seat_id, r.booking_id, r.from_ms, r.until_ms))
            .collect();
        Ok(Some((meta.prices.0, layout, rows)))
    }

    async fn layout(
        &self,
        conn: &mut sqlx::PgConnection,
        chain: Uuid,
        screen: Uuid,
    ) -> Result<Arc<Layout>, DomainError> {
        if let Some(hit) = lock(&self.layouts).get(&screen) {
            return Ok(hit.clone());
        }
        let seats = self.screens.get(conn, chain, screen).await?;
        let layout = Arc::new(Layout::new(seats));
        let mut layouts = lock(&self.layouts);
        if layouts.len() >= 4096 {
            layouts.clear();
        }
        layouts.insert(screen, layout.clone());
        Ok(layout)
    }

    fn snapshot_of(&self, show: Uuid, loaded: &mut Loaded) -> Arc<SeatMapSnapshot> {
        if let Some(s) = &loaded.snapshot {
            return s.clone();
        }
        let snapshot = Arc::new(SeatMapSnapshot {
            show_id: show,
            version: loaded.version,
            seats: loaded.seats.layout().seats.clone(),
            states: loaded.seats.states().to_vec(),
            prices: loaded.prices.clone(),
            encoded: OnceLock::new(),
        });
        loaded.snapshot = Some(snapshot.clone());
        snapshot
    }

    /// A new version with the seats at `changed` (positions in the layout), sent to streams.
    fn publish(&self, entry: &Entry, loaded: &mut Loaded, changed: &[usize]) {
        if changed.is_empty() {
            return;
        }
        let layout = loaded.seats.layout().clone();
        let states = loaded.seats.states();
        let change = Arc::new(SeatChange {
            version: self.next_version(),
            prev: loaded.version,
            seats: changed
                .iter()
                .filter_map(|&i| Some((layout.seats.get(i)?.id.clone(), *states.get(i)?)))
                .collect(),
            encoded: OnceLock::new(),
        });
        loaded.version = change.version;
        loaded.snapshot = None;
        if loaded.history.len() >= HISTORY {
            loaded.history.pop_front();
        }
        loaded.history.push_back(change.clone());
        // No receiver is not an error: nobody streams this show.
        let _ = entry.events.send(SeatEvent::Change(change));
    }

    fn tick_loaded(&self, entry: &Entry, loaded: &mut Loaded, now: i64) {
        let changed = loaded.seats.tick(now);
        self.publish(entry, loaded, &changed);
    }

    /// Applies an announcement from `cineflow_seats` (see migration 0020).
    fn announce(self: &Arc<Self>, payload: &str) {
        #[derive(serde::Deserialize)]
        struct Announcement {
            show: Uuid,
            seats: Option<Vec<SeatRowChange>>,
        }
        let Ok(a) = serde_json::from_str::<Announcement>(payload) else {
            tracing::warn!(
                payload,
                "an unreadable seat announcement; re-reading every map"
            );
            self.stale_all();
            return;
        };
        let Some(entry) = lock(&self.entries).get(&a.show).cloned() else {
            // Nobody here has looked at this show.
            return;
        };
        match a.seats {
            Some(rows) => {
                let mut s = lock(&entry.state);
                if let Some(capture) = s.capture.as_mut() {
                    capture.extend(rows.iter().cloned());
                }
                if let Some(loaded) = s.loaded.as_mut() {
                    let changed = loaded.seats.apply(&rows, now_ms());
                    self.publish(&entry, loaded, &changed);
                }
            }
            None => {
                lock(&entry.state).dirty += 1;
                self.refresh_streamed(&entry);
            }
        }
    }

    /// Marks every map stale and re-reads those someone streams (after a lost connection).
    fn stale_all(self: &Arc<Self>) {
        for entry in self.entries() {
            lock(&entry.state).dirty += 1;
            self.refresh_streamed(&entry);
        }
    }

    fn refresh_streamed(self: &Arc<Self>, entry: &Arc<Entry>) {
        if entry.events.receiver_count() == 0 || entry.refresh_queued.swap(true, Ordering::AcqRel) {
            return;
        }
        let (me, entry) = (self.clone(), entry.clone());
        tokio::spawn(async move {
            entry.refresh_queued.store(false, Ordering::Release);
            if let Err(e) = me.refresh(&entry, Refresh::IfStale).await {
                tracing::warn!(show = %entry.show, error = %e, "re-reading a streamed seat map failed");
            }
        });
    }

    /// The safety net: re-reads every map, one at a time.
    async fn reconcile(&self) {
        for entry in self.entries() {
            if let Err(e) = self.refresh(&entry, Refresh::Always).await {
                tracing::debug!(show = %entry.show, error = %e, "reconciling a seat map failed");
            }
        }
    }

    /// Lets the clock free run-out holds in the maps someone streams.
    fn tick_streamed(&self) {
        let now = now_ms();
        for entry in self.entries() {
            if entry.events.receiver_count() == 0 {
                continue;
            }
            let mut s = lock(&entry.state);
            if let Some(loaded) = s.loaded.as_mut()
                && loaded.seats.expires_by(now)
            {
                self.tick_loaded(&entry, loaded, now);
            }
        }
    }
}

/// Which re-read [`LiveSeats::refresh`] is asked for.
#[derive(Clone, Copy)]
enum Refresh {
    /// The safety net: whatever the map's state.
    Always,
    /// Unless the map is current as of invalidation `n` (a reader's).
    UpTo(u64),
    /// Unless the map is current.
    IfStale,
}

/// Drops up to `n` of the least recently read entries that nobody streams.
fn evict(entries: &mut HashMap<Uuid, Arc<Entry>>, n: usize) {
    let mut idle: Vec<(i64, Uuid)> = entries
        .values()
        // Not one a request holds (it may be about to subscribe to it: a stream on an entry
        // no longer in the map would never hear of a change).
        .filter(|e| e.events.receiver_count() == 0 && Arc::strong_count(e) == 1)
        .map(|e| (e.last_used_ms.load(Ordering::Relaxed), e.show))
        .collect();
    idle.sort_unstable();
    for (_, show) in idle.into_iter().take(n) {
        entries.remove(&show);
    }
}
