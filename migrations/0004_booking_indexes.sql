-- A hold tells the chain's components how many confirmed bookings the customer has with the
-- chain; without this index that count scans the chain's bookings.
create index bookings_confirmed_user_chain_idx on bookings (user_id, chain_id)
    where status = 'confirmed';
