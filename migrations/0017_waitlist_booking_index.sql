-- The expiry job asks, for each hold it records as expired, whether the hold was a
-- waiting-list offer (`db::waitlist::is_offer`: the offer gets the waiting list's email, not a
-- second one). `waitlist_entries_offered_idx` covers only open offers, and by then the entry
-- may already read `expired`, so without this index every expired hold scanned the table.
create index waitlist_entries_booking_idx on waitlist_entries (booking_id)
    where booking_id is not null;
