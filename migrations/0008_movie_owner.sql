-- Movies are edited only by their chain (issue 13): `chain_id` is the chain that created the
-- movie and alone may change it (with admins). Null is a platform movie, which only admins
-- edit; every movie that existed before this migration becomes one. Every chain may still
-- show any movie.
alter table movies add column chain_id uuid;
alter table movies add constraint movies_chain_fkey foreign key (chain_id) references chains (id);
create index movies_chain_idx on movies (chain_id) where chain_id is not null;
