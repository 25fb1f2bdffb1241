-- Rate limits and the chat's daily provider budget, shared by every edge
-- worker and instance (issue 15).
--
-- Counters are keyed by a keyed hash of the client address (32 hex
-- characters, computed by the edge with a daily-rotating key; see
-- edge/ratelimit.py), never by the address itself, or by 'site' for budgets
-- that count the whole site. Each row covers one fixed window and expires with
-- it: every call deletes expired rows, so the table holds at most one window of
-- data and nothing about a visitor outlives the window.
--
-- The edge reaches the counters only through public.edge_hit, a SECURITY
-- DEFINER function granted to anon (the publishable key the edge uses): no
-- role can read, list or write the table directly.

create table if not exists public.edge_counters (
  bucket        text not null,
  key           text not null,
  window_start  timestamptz not null,
  hits          bigint not null default 0,
  expires_at    timestamptz not null,
  primary key (bucket, key, window_start),
  constraint edge_counters_bucket_format check (bucket ~ '^[a-z][a-z0-9_-]{0,31}$'),
  constraint edge_counters_key_format check (key ~ '^([0-9a-f]{32}|site)$')
);

create index if not exists edge_counters_expiry on public.edge_counters (expires_at);

alter table public.edge_counters enable row level security;
-- No policy: with RLS on and no policy, anon and authenticated see and change nothing.
revoke all on table public.edge_counters from public, anon, authenticated;
grant select, insert, update, delete on table public.edge_counters to service_role;

-- Count p_cost against (p_bucket, p_key) in the current window of p_window_seconds.
-- Returns 0 when the window's total stays within p_limit, else the seconds
-- until the window ends. p_cost 0 only asks whether the limit is already spent.
create or replace function public.edge_hit(
  p_bucket text, p_key text, p_limit bigint, p_window_seconds integer, p_cost bigint default 1
)
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_start timestamptz;
  v_end timestamptz;
  v_hits bigint;
begin
  if p_bucket is null or p_bucket !~ '^[a-z][a-z0-9_-]{0,31}$'
     or p_key is null or p_key !~ '^([0-9a-f]{32}|site)$'
     or p_limit is null or p_limit < 1
     or p_window_seconds is null or p_window_seconds not between 1 and 86400
     or p_cost is null or p_cost not between 0 and 1000000 then
    raise exception 'edge_hit: invalid arguments' using errcode = '22023';
  end if;
  v_start := to_timestamp(floor(extract(epoch from now()) / p_window_seconds) * p_window_seconds);
  v_end := v_start + make_interval(secs => p_window_seconds);

  delete from public.edge_counters where expires_at <= now();

  insert into public.edge_counters as c (bucket, key, window_start, hits, expires_at)
  values (p_bucket, p_key, v_start, p_cost, v_end)
  on conflict (bucket, key, window_start) do update set hits = c.hits + excluded.hits
  returning c.hits into v_hits;

  -- p_cost 0 asks whether the window is already spent; a positive cost is refused past the limit.
  if (p_cost = 0 and v_hits >= p_limit) or (p_cost > 0 and v_hits > p_limit) then
    return greatest(1, ceil(extract(epoch from (v_end - now()))))::integer;
  end if;
  return 0;
end
$$;

revoke all on function public.edge_hit(text, text, bigint, integer, bigint) from public, anon, authenticated;
grant execute on function public.edge_hit(text, text, bigint, integer, bigint) to anon, authenticated, service_role;
