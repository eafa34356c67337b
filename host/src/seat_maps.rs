//! A process-wide cache of screens' seat maps. Seats never change after a screen is created
//! (there is no endpoint to edit them, and a deleted screen's id is never reused), so every
//! hold can skip re-reading hundreds of seat rows; each replica fills its own cache.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use sqlx::PgConnection;
use uuid::Uuid;

use crate::db::screens::{self, SeatRow};

/// Screens kept; past this the cache starts over (a screen's map is a few KiB).
const MAX_SCREENS: usize = 4096;

/// Seat maps by screen id.
#[derive(Default)]
pub struct SeatMaps {
    by_screen: RwLock<HashMap<Uuid, Arc<Vec<SeatRow>>>>,
}

impl SeatMaps {
    /// The seats of `screen` if this replica has them already (no connection needed).
    pub fn cached(&self, screen: Uuid) -> Option<Arc<Vec<SeatRow>>> {
        self.by_screen
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&screen)
            .cloned()
    }

    /// The seats of `screen` (of `chain`) in display order, from memory or the database.
    pub async fn get(
        &self,
        conn: &mut PgConnection,
        chain: Uuid,
        screen: Uuid,
    ) -> Result<Arc<Vec<SeatRow>>, sqlx::Error> {
        if let Some(hit) = self
            .by_screen
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&screen)
        {
            return Ok(hit.clone());
        }
        let seats = Arc::new(screens::seats(conn, chain, screen).await?);
        if !seats.is_empty() {
            let mut map = self.by_screen.write().unwrap_or_else(|e| e.into_inner());
            if map.len() >= MAX_SCREENS {
                map.clear();
            }
            map.insert(screen, seats.clone());
        }
        Ok(seats)
    }
}
